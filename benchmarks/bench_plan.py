"""Benchmark of the planning step on the demo county (issue 5).

Budget: candidate generation + candidate coverage + solve + claims + backhaul <= 120 s
with a cold prediction cache, the MILP solve alone <= 10 s, proven optimal (gap 0) or
within 1 %.

Usage::

    .venv/bin/python benchmarks/bench_plan.py [--data data] [--signal-cache DIR]

The existing network's signal (the input of the planning step, not part of the budget) is
predicted first with :func:`coverage.predict.predict_coverage`, whose per-site cache can be
kept between runs with ``--signal-cache``. Candidate predictions always start from an empty
cache (cold); the plan is then made again on that cache (warm: one entry read, nothing
computed). Wall times, the CPU time (user + system, all threads) and the 1-minute load
average are printed. The configuration is the project's ``coverage.toml`` (the demo's). Prints one
line per step and exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_TOTAL_S = 120.0
BUDGET_SOLVE_S = 10.0
BUDGET_GAP = 0.01


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--signal-cache", type=Path, default=None)
    args = parser.parse_args(argv)

    import coverage.radio  # noqa: F401  (imports numba safely first)
    from coverage.assess import assess
    from coverage.config import load_config
    from coverage.output.plan_tables import plan_summary
    from coverage.plan import make_plan
    from coverage.predict import predict_coverage
    from coverage.study import load_study

    data = args.data
    if not (data / "terrain" / "dem.tif").exists():
        from coverage.demo import build_demo_county, write_demo_county

        data = Path(tempfile.mkdtemp(prefix="bench-plan-")) / "data"
        write_demo_county(build_demo_county(), data)
        print(f"demo county generated into {data}")
    config = load_config(ROOT / "coverage.toml")
    t = time.perf_counter()
    study = load_study(data, config)
    signal = predict_coverage(study, cache_dir=args.signal_cache)
    assessment = assess(study, signal)
    print(f"setup (not in the budget): load + existing signal ({len(study.sites)} sites) + "
          f"assess {time.perf_counter() - t:.1f} s")
    cold = Path(tempfile.mkdtemp(prefix="bench-plan-cache-"))
    try:
        cpu0, t0 = _cpu_s(), time.perf_counter()
        plan = make_plan(study, signal, assessment, cache_dir=cold)
        total, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
        cpu0, t0 = _cpu_s(), time.perf_counter()
        warm = make_plan(study, signal, assessment, cache_dir=cold)   # reads the bundle
        warm_s, warm_cpu = time.perf_counter() - t0, _cpu_s() - cpu0
    finally:
        shutil.rmtree(cold, ignore_errors=True)
    matrix, selection = plan.matrix, plan.selection
    src = plan.candidates["source"].value_counts().to_dict()
    print(f"targets: {len(plan.targets.target_ids)} gap groups; candidates: "
          f"{len(plan.candidates)} {src}; options predicted {matrix.stats.predicted} of "
          f"{matrix.stats.options_possible} (computed {matrix.stats.computed}, "
          f"cached {matrix.stats.cached}), kept {matrix.stats.options_kept}; "
          f"{matrix.stats.cells} household cells")
    solve_s = sum(s.seconds for s in selection.solves)
    print(f"MILP: {selection.n_variables} variables, {selection.n_constraints} constraints, "
          f"status {selection.status}, gap {selection.mip_gap:.4%}, solve {solve_s:.2f} s")
    for k, v in plan.timings.items():
        print(f"  {k:<11} {v:7.2f} s")
    print(f"  {'total':<11} {total:7.2f} s (budget {BUDGET_TOTAL_S:g} s), CPU (user+sys, "
          f"all threads) {cpu:.2f} s; 1-min load {os.getloadavg()[0]:.2f}")
    print(f"warm candidate cache: {warm_s:.2f} s, CPU {warm_cpu:.2f} s (computed "
          f"{warm.matrix.stats.computed}, cached {warm.matrix.stats.cached}), same plan: "
          f"{warm.claims.claims.equals(plan.claims.claims)}")
    for line in plan_summary(plan):
        print(line)
    ok = (total <= BUDGET_TOTAL_S and solve_s <= BUDGET_SOLVE_S
          and selection.mip_gap <= BUDGET_GAP and not math.isnan(selection.mip_gap))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def _cpu_s() -> float:
    """User + system CPU time (s) of this process, all threads."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


if __name__ == "__main__":
    sys.exit(main())
