"""Benchmark of whole commands, as a user waits for them: one process per run.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--runs 5] [--run-runs 5] [--skip-run]``

Each figure is the median (and range) of ``--runs`` separate processes of the installed
``coverage-planner`` command (interpreter start, imports, numba loading its compiled
kernels, reading and writing files all included), and the peak RSS of the command's process
(``resource.getrusage(RUSAGE_CHILDREN)`` of a small parent that runs only that command),
with its CPU time (user + system, all threads), steadier than wall time on a busy machine.
Cases (targets of issue 18 on the 2-core machine):

* ``site`` on the SRTM tile N44W072 (``../shared/data/terrain/srtm3``; skipped when absent),
  900 MHz, 30 m mast, omni: 30 km at 30 m (<= 2.5 s), 10 km at 30 m (<= 1.0 s), 10 km at
  90 m (<= 0.6 s);
* the compiled kernels' load in a fresh process (<= 0.3 s): importing the engine and its
  first call on a tiny grid, timed inside the process (after numpy), with the kernels
  compiled ahead of time (``make kernels``) and, for comparison, just in time
  (``COVERAGE_KERNELS=jit``, numba's cache warm);
* ``--help`` (<= 0.5 s) and ``validate`` on the demo data;
* ``run`` on the demo data: cold (empty prediction cache, compiled kernels ready; <= 60 s)
  and warm (the same output folder again; <= 5 s). ``--run-runs`` sets its repeat count
  (a cold run takes minutes on a busy machine), ``--skip-run`` leaves it out;
* the size of the run's cache per sub-folder (``sites``, ``network``, ``candidates``,
  ``site-samples``) and in all (<= 300 MB); ``--cache maps/.cache`` prints only those of an
  existing run (e.g. ``make demo``'s).

The one-minute load average is printed with every figure: the machine may be shared.
The package's bytecode is compiled first (``compileall``), as an installed package has it:
with ``PYTHONDONTWRITEBYTECODE`` set, every measured process would otherwise compile the
project's sources again (~0.05 s), which no user's process does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HGT = ROOT.parent / "shared" / "data" / "terrain" / "srtm3" / "N44W072.hgt"
CLI = Path(sys.executable).with_name("coverage-planner")

# The parent of one command: times it and reports the child's peak RSS (kB on Linux).
_PARENT = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": use.ru_utime + use.ru_stime, "peak_kb": use.ru_maxrss,
                  "code": proc.returncode,
                  "err": proc.stderr.decode(errors="replace")[-2000:]}))
"""


def one_run(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (all threads) and peak RSS (MB) of one process of ``argv``."""
    out = subprocess.run([sys.executable, "-c", _PARENT, *argv], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    rec = json.loads(out.stdout)
    if rec["code"] != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {rec['code']}):\n{rec['err']}")
    return rec["wall"], rec["cpu"], rec["peak_kb"] / 1024.0


def measure(label: str, argv: list[str], runs: int, target: float | None,
            before: Callable[[], None] | None = None) -> None:
    """Print the median, range and peak RSS of ``runs`` processes of ``argv``."""
    walls, cpus, peaks, loads = [], [], [], []
    for _ in range(runs):
        if before is not None:
            before()
        loads.append(os.getloadavg()[0])
        wall, cpu, peak = one_run(argv)
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
    med = statistics.median(walls)
    verdict = "" if target is None else (
        f", target <= {target} s {'OK' if med <= target else 'MISSED'}")
    print(f"{label:<26} median {med:7.2f} s (range {min(walls):.2f}-{max(walls):.2f}, "
          f"{runs} runs), CPU {statistics.median(cpus):.2f} s, peak RSS {max(peaks):5.0f} MB, "
          f"load {statistics.median(loads):.2f}{verdict}", flush=True)


# Kernel load inside a fresh process: engine import + first call, after numpy/affine.
_KERNEL_LOAD = """
import time
import numpy as np
from affine import Affine
c0, w0 = time.process_time(), time.perf_counter()
from coverage.radio import engine
engine.site_path_loss(np.full((40, 40), 100.0, np.float32), Affine(30.0, 0, 0, 0, -30.0, 1200.0),
                      600.0, 600.0, 30.0, 900.0, radius_m=300.0, threads=1)
print(time.perf_counter() - w0, time.process_time() - c0)
"""


def kernel_load(label: str, runs: int, env: dict[str, str], target: float | None = 0.3
                ) -> None:
    """Print the median kernel load (wall and CPU) of ``runs`` fresh processes, judged
    against ``target`` (s; None: a figure for comparison only)."""
    walls, cpus, loads = [], [], []
    for _ in range(runs):
        loads.append(os.getloadavg()[0])
        out = subprocess.run([sys.executable, "-c", _KERNEL_LOAD], capture_output=True,
                             text=True, check=True, cwd=ROOT, env=env)
        wall, cpu = (float(v) for v in out.stdout.split())
        walls.append(wall)
        cpus.append(cpu)
    med = statistics.median(walls)
    print(f"{label:<26} median {med:7.2f} s (range {min(walls):.2f}-{max(walls):.2f}, "
          f"{runs} runs), CPU {statistics.median(cpus):.2f} s, "
          f"load {statistics.median(loads):.2f}" + (
              ", for comparison (the target is the ahead-of-time form's)" if target is None
              else f", target <= {target} s {'OK' if med <= target else 'MISSED'}"),
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per case (>= 5)")
    parser.add_argument("--run-runs", type=int, default=5, help="processes of `run` cold/warm")
    parser.add_argument("--skip-run", action="store_true", help="leave out `run` on the demo")
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--config", type=Path, default=ROOT / "coverage.toml")
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="only print the sizes of an existing run's cache (e.g. maps/.cache)")
    args = parser.parse_args()
    if args.cache is not None:
        cache_sizes(args.cache)
        return 0
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()}; command {CLI.name}",
          flush=True)
    import coverage

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(coverage.__file__).parent)],
                   check=True, stdout=subprocess.DEVNULL)
    cli = [str(CLI)]
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        scratch = Path(tmp)
        # compiled kernels ready (the first process after an install compiles them once)
        if HGT.is_file():
            one_run([*cli, "site", "--dem", str(HGT), "--lon", "-71.5", "--lat", "44.5",
                     "--frequency", "900", "--radius", "2", "--out", str(scratch / "warm")])
            for radius, res, target in ((30, 30, 2.5), (10, 30, 1.0), (10, 90, 0.6)):
                measure(f"site {radius} km at {res} m", [
                    *cli, "site", "--dem", str(HGT), "--lon", "-71.5", "--lat", "44.5",
                    "--height", "30", "--frequency", "900", "--radius", str(radius),
                    "--resolution", str(res), "--config", str(args.config),
                    "--out", str(scratch / f"site-{radius}-{res}")], args.runs, target)
        else:
            print(f"site: skipped ({HGT} not found)")
        env = {k: v for k, v in os.environ.items() if k != "COVERAGE_KERNELS"}
        from coverage.radio import jit

        kernel_load("kernels, ahead of time" if jit.aot_module() is not None
                    else "kernels (AOT not built)", args.runs, env)
        kernel_load("kernels, just in time", args.runs, {**env, "COVERAGE_KERNELS": "jit"},
                    target=None)
        measure("--help", [*cli, "--help"], args.runs, 0.5)
        measure("validate (demo data)", [*cli, "validate", str(args.data), "--config",
                                         str(args.config)], args.runs, None)
        if not args.skip_run:
            out = scratch / "maps"
            run = [*cli, "run", "--data", str(args.data), "--config", str(args.config),
                   "--out", str(out), "--quiet"]

            def empty_cache() -> None:
                shutil.rmtree(out, ignore_errors=True)

            measure("run (demo), cold cache", run, args.run_runs, 60.0, before=empty_cache)
            measure("run (demo), warm cache", run, args.run_runs, 5.0)
            cache_sizes(out / ".cache")
    return 0


def cache_sizes(cache: Path, target_mb: float = 300.0) -> None:
    """Print the size (bytes of its files, as ``du -sb`` counts them less the folders)
    and entry count of every sub-folder of a run's ``.cache``, and the total."""
    total = 0
    for folder in sorted(p for p in cache.iterdir() if p.is_dir()):
        files = [p for p in folder.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        total += size
        print(f"cache {folder.name + '/':<14} {size / 1e6:8.1f} MB in {len(files):5d} files",
              flush=True)
    print(f"cache total          {total / 1e6:8.1f} MB (target <= {target_mb:g} MB "
          f"{'OK' if total / 1e6 <= target_mb else 'MISSED'})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
