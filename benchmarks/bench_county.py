"""Benchmark: predict the whole demo county (every on-air site of every operator).

Run: ``.venv/bin/python benchmarks/bench_county.py [--data data] [--runs 3] [--threads N]``

Targets (issue 3): cold per-site cache <= 60 s, warm cache <= 5 s, at the default radius
(15 km) and resolution (30 m). JIT compilation is warmed up first (numba caches compiled
code on disk, so only the very first run in a fresh clone pays it). Prints the median
and the range of wall and CPU time for each case, and the process peak RSS. ``--threads``
sets the sites predicted side by side (default: every CPU the process may use); compare
``--threads 1`` with ``--threads 2`` under ``taskset -c 0,1`` for the speed-up on two cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.config import load_config  # noqa: E402
from coverage.predict import predict_coverage  # noqa: E402
from coverage.radio import threads  # noqa: E402
from coverage.study import load_study  # noqa: E402


def timed(fn) -> tuple[float, float, object]:
    """Wall and CPU seconds of ``fn()`` and its result."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--config", type=Path, default=ROOT / "coverage.toml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0,
                        help="sites side by side (0: every CPU this process may use)")
    args = parser.parse_args()

    config = load_config(args.config)
    study = load_study(args.data, config)
    n_sites = int((study.sites["status"] == "on_air").sum())
    print(f"demo county: {n_sites} on-air sites, grid {study.grid.shape[1]}x"
          f"{study.grid.shape[0]} at {study.grid.resolution_m:g} m, radius "
          f"{config.model.radius_km:g} km, model {config.model.name}, "
          f"{threads.resolve(args.threads)} threads")

    # JIT warm-up on a few sites (compiled code is cached by numba afterwards)
    few = study.sites.iloc[:3]
    import dataclasses
    predict_coverage(dataclasses.replace(study, sites=few))

    cold, warm = [], []
    for _ in range(args.runs):
        cache = Path(tempfile.mkdtemp(prefix="bench-county-"))
        try:
            w, c, res = timed(lambda cache=cache: predict_coverage(study, cache_dir=cache,
                                                                threads=args.threads))
            assert res.computed_sites == n_sites
            cold.append((w, c))
            w, c, res = timed(lambda cache=cache: predict_coverage(study, cache_dir=cache,
                                                                threads=args.threads))
            assert res.cached_sites == n_sites
            warm.append((w, c))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    for name, runs, target in (("cold cache", cold, 60.0), ("warm cache", warm, 5.0)):
        walls = [r[0] for r in runs]
        cpus = [r[1] for r in runs]
        ratios = [cpu / wall for wall, cpu in runs]
        print(f"{name}: median {statistics.median(walls):.1f} s wall "
              f"(min {min(walls):.1f}, max {max(walls):.1f}), "
              f"{statistics.median(cpus):.1f} s CPU (CPU/wall {statistics.median(ratios):.2f}, "
              f"the cores kept busy); target <= {target:g} s; "
              f"{n_sites / statistics.median(walls):.1f} sites/s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB; load average {os.getloadavg()[0]:.2f} on "
          f"{threads.available_cpus()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
