"""Re-point imports of code written against the layout before the redesign (issue 13).

Usage: ``python tools/repoint_imports.py FILE...`` rewrites, in place, every
``from coverage.X import a, b`` whose names moved (see docs/architecture.md), splitting the
statement when its names now live in different modules. Docstring references such as
``coverage.calibrate.compare`` are not touched; run ``ruff check --fix --select I`` after it
to sort the imports. Renamed: ``coverage.assess._values_at`` is ``coverage.signal.values_at``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MOVED: dict[tuple[str, str], str] = {}
"""(old module, name) -> new module, for names that left a module that still exists."""


def _moved(old: str, new: str, names: str) -> None:
    for name in names.split():
        MOVED[(old, name)] = new


_moved("coverage.study", "coverage.grid", "WorkingGrid")
_moved("coverage.assess", "coverage.signal", "ANY NO_SIGNAL_DBM SignalGrids sample_cells")
_moved("coverage.predict", "coverage.signal",
       "SiteCoverage OperatorCoverage CoverageResult combine_operators merge_coverage")
_moved("coverage.plan.coverage_matrix", "coverage.predict.candidates",
       "CandidateRadio RsrpWindow RsrpFunction window_rsrp_at band_rs_eirp_dbm useful_bands "
       "candidate_sites")
_moved("coverage.plan", "coverage.output.plan_tables",
       "plan_csv plan_kml_folders plan_layers plan_summary")
_moved("coverage.calibrate", "coverage.evidence.compare",
       "OK OUTSIDE_DEM NO_PREDICTION SUPERSEDED WITHIN_DB Comparison compare error_stats "
       "measurement_cells")
_moved("coverage.calibrate", "coverage.output.figures", "scatter_png")
_moved("coverage.distributed", "coverage.scale.cluster",
       "DEFAULT_RETRIES RSRP_DIR DEM_DIR WORKER_ENV distributed_available open_client "
       "check_shared_folder worker_stats")
_moved("coverage.distributed", "coverage.scale.tasks",
       "GridSource SiteDone TileResult rsrp_key site_task tile_task any_task candidate_task")
_moved("coverage.distributed", "coverage.scale.cogs",
       "predict_to_cogs cog_writers write_tile CogWriters")
_moved("coverage.distributed", "coverage.scale.candidates", "ClusterCandidateRadio")

RENAMED_MODULES = {
    "coverage.calibrate": "coverage.evidence.calibration",
    "coverage.measure": "coverage.evidence.measured",
    "coverage.distributed": "coverage.scale.runners",
    "coverage.tiling": "coverage.scale.tiling",
    "coverage.streaming": "coverage.scale.streaming",
    "coverage.report": "coverage.output.report",
    "coverage.overview": "coverage.maps.overview",
    "coverage.demo_measurements": "coverage.demo.measurements",
    "coverage.terrain_synth": "coverage.demo.terrain_synth",
}
"""Modules that moved as a whole (their remaining names go with them)."""

_IMPORT = re.compile(
    r"^(?P<ind>[ \t]*)from (?P<mod>coverage(?:\.[a-z_]+)*) import "
    r"(?P<body>\([^)]*\)|[^\n]*?)(?P<tail>[ \t]*#[^\n]*)?$", re.M)


def _repoint(match: re.Match[str]) -> str:
    mod, ind = match["mod"], match["ind"]
    names = [n.strip() for n in match["body"].strip("()").replace("\n", " ").split(",")
             if n.strip()]
    groups: dict[str, list[str]] = {}
    for name in names:
        base = name.split(" as ")[0].strip()
        groups.setdefault(MOVED.get((mod, base), RENAMED_MODULES.get(mod, mod)), []).append(name)
    if list(groups) == [mod]:
        return match.group(0)
    lines = []
    for new, some in groups.items():
        line = f"{ind}from {new} import {', '.join(some)}"
        if len(line) > 99:
            line = (f"{ind}from {new} import (\n" + "".join(f"{ind}    {n},\n" for n in some)
                    + f"{ind})")
        lines.append(line)
    return "\n".join(lines) + (match["tail"] or "")


def main(paths: list[str]) -> None:
    """Rewrite the imports of ``paths`` in place and name the files changed."""
    for name in paths:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        new = _IMPORT.sub(_repoint, text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
