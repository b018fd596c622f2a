"""The console summary of a run: plain lines the CLI prints (the library prints nothing)."""

from __future__ import annotations

from pathlib import Path

from coverage.assess import Assessment
from coverage.output.plan_tables import plan_summary
from coverage.plan import Plan
from coverage.readiness import Readiness
from coverage.study import Study

__all__ = ["closing_lines", "result_lines"]


def result_lines(study: Study, *, assessment: Assessment | None, calibration_text: str,
                 plan: Plan | None = None, after_assessment: Assessment | None = None,
                 readiness: Readiness | None = None) -> list[str]:
    """County figures per operator, the calibration statement, the plan, the network after
    the plan and the readiness verdicts (each part only when it was computed)."""
    lines = []
    if assessment is not None:
        for row in assessment.county.itertuples():
            lines.append(f"{row.operator:>4}: groups covered {row.groups_covered}/"
                         f"{row.groups_required}, households covered "
                         f"{row.households_covered:.0f}/{row.households}")
    lines.append(calibration_text)
    if plan is not None:
        lines += plan_summary(plan)
    if after_assessment is not None:
        after = after_assessment.county.set_index("operator").to_dict("index")["ANY"]
        lines.append(f"after the plan: groups covered {after['groups_covered']:.0f}/"
                     f"{after['groups_required']:.0f}, households covered "
                     f"{after['households_covered']:.0f}/{after['households']:.0f}")
    if readiness is not None:
        assert assessment is not None
        from coverage.output.report import headline  # jinja2 and openpyxl: load when needed

        head = headline(study, assessment, readiness)
        lines.append(f"verdicts as of {readiness.as_of.isoformat()}: "
                     + ", ".join(f"{k} {v}" for k, v in head.verdicts.items())
                     + f"; overdue items {head.overdue}")
    return lines


def closing_lines(timings_s: dict[str, float], out_dir: Path) -> list[str]:
    """Step timings (s) and where the outputs are."""
    return ["timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings_s.items()),
            f"outputs in {out_dir}/"]
