"""Start-up: the light commands never import the heavy libraries; numba's probe of
coverage.py never sees this package (same import name)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numba", "llvmlite", "dask", "distributed", "folium", "matplotlib")

_PROBE = """
import sys
sys.argv = ["coverage-planner"] + sys.argv[1:]
from coverage.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print("EXIT", code, "HEAVY", ",".join(heavy) or "-", file=sys.stderr)
"""


SMALL_SITE_JOB = (
    "import sys, numpy as np\n"
    "from affine import Affine\n"
    "from coverage.radio import engine\n"
    "w = engine.site_path_loss(np.full((40, 40), 100.0, np.float32),\n"
    "    Affine(30.0, 0, 0, 0, -30.0, 1200.0), 600.0, 600.0, 30.0, 900.0, radius_m=300.0)\n")
"""Python source of a fresh process's first engine call (a 40 x 40 flat grid; ``w`` is its
loss window), for tests of what that call loads."""


def _run(*args: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("EXIT"), proc.stderr
    return last


def test_help_imports_no_heavy_library(tmp_path):
    assert _run("--help", cwd=tmp_path) == "EXIT 0 HEAVY -"


def test_validate_imports_no_heavy_library(tiny_data, tmp_path):
    assert _run("validate", str(tiny_data), cwd=tmp_path) == "EXIT 0 HEAVY -"


def test_numba_imported_first_or_later_does_not_see_this_package(tmp_path):
    code = ("import coverage, numba.misc.coverage_support as s, coverage.radio.engine, sys; "
            "print(s.coverage_available, sys.modules['coverage'] is coverage)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300, check=True).stdout.split()
    assert out == ["False", "True"]


@pytest.mark.parametrize("command", ["version"])
def test_version_is_light(command, tmp_path):
    assert _run(command, cwd=tmp_path) == "EXIT 0 HEAVY -"


@pytest.mark.parametrize("args", [["--help"], ["version"], ["site", "--help"]])
def test_command_line_is_parsed_without_pydantic(args, tmp_path):
    """click parses the options: nothing builds a pydantic validator per option at every
    start (typer 0.2x did: about 0.1 s of each command's start)."""
    probe = _PROBE.format(heavy=("pydantic", "numpy"))
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert proc.stderr.strip().splitlines()[-1] == "EXIT 0 HEAVY -", proc.stderr


def test_numba_cache_folder_choice(tmp_path):
    from coverage.radio import jitcache

    pkg = tmp_path / "pkg"
    # an explicit NUMBA_CACHE_DIR always wins
    assert jitcache.choose_cache_dir(pkg, {"NUMBA_CACHE_DIR": "x"},
                                     is_writable=lambda p: False) is None
    # a writable __pycache__ (editable or user install) or user cache: numba's own choice
    assert jitcache.choose_cache_dir(pkg, {}, is_writable=lambda p: True) is None
    assert jitcache.choose_cache_dir(
        pkg, {}, is_writable=lambda p: p != pkg / "__pycache__") is None
    # read-only install and no writable home: a per-user folder in the temporary directory
    assert jitcache.choose_cache_dir(pkg, {}, is_writable=lambda p: False) == (
        jitcache.fallback_dir())
    assert jitcache.writable(tmp_path / "new" / "folder")


def test_site_loads_no_county_stack(tiny_data, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=(*HEAVY, "geopandas", "pandas", "pyproj",
                                           "rich")),
         "site",
         "--dem", str(tiny_data / "terrain" / "dem.tif"), "--lon", "116.15", "--lat", "30.85",
         "--frequency", "900", "--radius", "1", "--resolution", "50",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    # with the kernels compiled ahead of time (`make`) the job does not even import numba
    from coverage.radio import jit

    kernels = "-" if jit.aot_module() is not None else "llvmlite,numba"
    assert proc.stderr.strip().splitlines()[-1] == f"EXIT 0 HEAVY {kernels}", proc.stderr


def test_kernels_load_without_scipy_linalg_and_it_still_imports_after(tmp_path):
    code = (
        SMALL_SITE_JOB +
        "print('scipy.linalg' in sys.modules, int(np.isfinite(w.loss_db).sum()) > 100)\n"
        "import scipy.linalg\n"
        "print(float(scipy.linalg.solve(np.eye(2) * 2.0, np.ones(2))[0]))\n"
        "print(sorted(n for n in sys.modules if 'omppool' in n or 'tbbpool' in n))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300, check=True).stdout.split("\n")
    assert out[:3] == ["False True", "0.5", "[]"]  # no scipy.linalg, no threading layer


def test_site_and_validate_start_openblas_with_one_thread_unless_told(monkeypatch):
    from coverage import cli

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delitem(sys.modules, "numpy")  # before numpy's import: the variable counts
    cli._blas_one_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")  # the user's own setting wins
    cli._blas_one_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


def test_pipeline_imports_no_solver_or_graph_library(tmp_path):
    """A warm run (plan memoised) never needs networkx or scipy's solvers, images, sparse
    matrices or k-d trees: importing the pipeline (and the plan package) does not import
    them."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, coverage.pipeline, coverage.plan\n"
         "print(sorted(m for m in ('networkx', 'scipy.optimize', 'scipy.ndimage', "
         "'scipy.sparse', 'scipy.spatial')"
         " if m in sys.modules))"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.stdout.strip() == "[]", proc.stderr
