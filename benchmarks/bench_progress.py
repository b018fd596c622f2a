"""Benchmark: what a progress run over six month-ends adds to a warm run of the demo county.

Run: ``.venv/bin/python benchmarks/bench_progress.py [--data data] [--out maps] [--runs 3]``

Needs a finished run in ``--out`` (its per-site cache ``.cache/sites``, e.g. ``make demo``).
Target (issue 16): six month-ends add at most 20 s to a warm run. The study is loaded and
the JIT warmed up once (a warm run has paid both); each timed run reconstructs the six
month-ends ending at ``--to`` (plus the period start and the previous year-end the
paragraph needs) from the prediction cache and builds every table of the report. Prints
the median and range of the wall time, and the median CPU time of this process (all its
threads; on a busy machine the figure that load disturbs least). The first run also
stores the sites' RSRP at the assessed cells (``<out>/.cache/site-samples``), as the
first progress run after a run does; the later runs read them, as a repeated progress
run does: the first run's time is printed as well.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.config import load_config  # noqa: E402
from coverage.pipeline import CACHE_DIR  # noqa: E402
from coverage.predict import predict_coverage  # noqa: E402
from coverage.progress import compute_progress, progress_tables  # noqa: E402
from coverage.study import load_study  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--config", type=Path, default=ROOT / "coverage.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "maps")
    parser.add_argument("--to", default="2020-09-30")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cache = args.out / CACHE_DIR / "sites"
    if not cache.is_dir():
        print(f"no prediction cache in {cache}: run `make demo` (or coverage-planner run) first")
        return 2
    cfg = load_config(args.config)
    study = load_study(args.data, cfg)
    predict_coverage(study, cache_dir=cache)  # JIT and file cache warm, as in a warm run
    end = dt.date.fromisoformat(args.to)
    start = end.replace(day=1) - dt.timedelta(days=1)
    walls, cpus = [], []
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        snaps, days = compute_progress(study, start, end, cache, max_months=6)
        progress_tables(snaps, days)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    print(f"progress over 6 month-ends ({len(snaps)} days reconstructed): median "
          f"{statistics.median(walls):.1f} s (range {min(walls):.1f}–{max(walls):.1f} s, "
          f"{args.runs} runs; first run {walls[0]:.1f} s); CPU median "
          f"{statistics.median(cpus):.1f} s (first run {cpus[0]:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
