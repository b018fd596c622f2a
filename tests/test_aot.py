"""The kernels compiled ahead of time (``make`` builds them, coverage/radio/aot.py) give the
just-in-time kernels' results to the bit, release the GIL, and are never used stale."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from coverage.radio import jit
from tests.test_startup import SMALL_SITE_JOB

needs_aot = pytest.mark.skipif(
    jit.aot_module() is None,
    reason="ahead-of-time kernels not built (`make kernels`) or stale")

# Rugged and smooth terrain, omni and three sectors, two radii: hashes of loss and RSRP.
_ENGINE_RUN = """
import hashlib, sys
import numpy as np
from affine import Affine
from coverage.radio import engine
from coverage.radio.window import rsrp_window
rng = np.random.default_rng(7)
n = 301
yy, xx = np.mgrid[0:n, 0:n]
terrain = {
    "rugged": (200 + 150 * rng.random((n, n))).astype(np.float32),
    "smooth": (300 + 80 * np.sin(xx / 23.0) * np.cos(yy / 31.0)).astype(np.float32),
}
terrain["rugged"][40:60, 200:230] = np.nan
tf = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 3400000.0 + n * 30.0)
x, y = 500000.0 + 150.3 * 30.0, 3400000.0 + 148.7 * 30.0
h = hashlib.sha256()
for name, elev in terrain.items():
    for radius, f, az in ((4000.0, 900.0, ()), (4400.0, 2100.0, (10.0, 130.0, 250.0))):
        for threads in (1, 2):
            w = engine.site_path_loss(elev, tf, x, y, 30.0, f, radius_m=radius,
                                      threads=threads)
            rows, cols = w.slices
            cx = tf.c + (np.arange(cols.start, cols.stop, dtype=np.float64) + 0.5) * 30.0
            cy = tf.f - (np.arange(rows.start, rows.stop, dtype=np.float64) + 0.5) * 30.0
            rsrp, sector = rsrp_window(
                np.ascontiguousarray(w.loss_db, dtype=np.float64),
                np.ascontiguousarray(elev[rows, cols], dtype=np.float64), cx, cy, x, y,
                w.site_ground_m + 30.0, 1.5, 8.5e6, np.asarray(az, dtype=np.float64), 6.0,
                65.0, 6.5, 25.0, 20.0, 18.2, threads=threads)
            for a in (w.loss_db, rsrp, sector):
                h.update(a.tobytes())
print(h.hexdigest(), "numba" in sys.modules)
"""


def _engine_run(kernels: str | None, tmp_path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != jit.ENV}
    if kernels is not None:
        env[jit.ENV] = kernels
    out = subprocess.run([sys.executable, "-c", _ENGINE_RUN], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=600, check=True)
    return out.stdout.split()


@needs_aot
def test_aot_kernels_give_the_jit_results_to_the_bit(tmp_path):
    aot = _engine_run(None, tmp_path)
    jitted = _engine_run("jit", tmp_path)
    assert aot[1] == "False"  # the ahead-of-time path needs no numba
    assert jitted[1] == "True"
    assert aot[0] == jitted[0]


@needs_aot
def test_aot_kernels_release_the_gil():
    from affine import Affine

    from coverage.radio import engine

    rng = np.random.default_rng(3)
    n = 1001
    elev = (100 + 200 * rng.random((n, n))).astype(np.float32)
    tf = Affine(30.0, 0.0, 0.0, 0.0, -30.0, n * 30.0)
    done: list[float] = []

    def predict() -> None:
        t0 = time.perf_counter()
        engine.site_path_loss(elev, tf, n * 15.0, n * 15.0, 30.0, 900.0, radius_m=14000.0,
                              threads=1)
        done.append(time.perf_counter() - t0)

    worker = threading.Thread(target=predict)
    gaps = []
    worker.start()
    last = time.perf_counter()
    while worker.is_alive():  # this thread runs only while the kernel has let the GIL go
        time.sleep(0.002)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    # the job (about 0.3 s on a quiet 2-core machine) is long next to the 2 ms naps
    assert done and len(gaps) >= 10, (done, len(gaps))
    # holding the GIL, one sweep call (most of the job) would stall this loop throughout
    assert max(gaps) < 0.4 * done[0], (max(gaps), done)


def test_every_export_is_a_kernel_with_that_many_arguments():
    for qualname, (_ret, args) in jit.EXPORTS.items():
        module, name = qualname.rsplit(".", 1)
        kernel = getattr(importlib.import_module(module), name)
        assert isinstance(kernel, jit.Kernel) or hasattr(kernel, "py_func"), qualname
        assert len(inspect.signature(kernel.py_func).parameters) == len(args), qualname


def test_stale_or_switched_off_module_is_not_used(monkeypatch):
    monkeypatch.setattr(jit, "source_digest", lambda: hashlib.sha256(b"other").hexdigest())
    assert jit._load_aot() is None
    monkeypatch.undo()
    monkeypatch.setenv(jit.ENV, "jit")
    assert jit._load_aot() is None


def test_argument_types_must_match_exactly():
    match = jit._matcher(("f4[:,::1]", "f8", "i8"))
    a = np.zeros((3, 4), np.float32)
    assert match((a, 1.0, 2))
    assert match((a, np.float64(1.0), np.int64(2)))
    assert not match((a.astype(np.float64), 1.0, 2))  # other dtype
    assert not match((a[:, ::2], 1.0, 2))  # not C-contiguous
    assert not match((a[0], 1.0, 2))  # other rank
    assert not match((a, np.float32(1.0), 2))  # float32 scalar: numba would type it so
    assert not match((a, 1.0, True))
    assert not match((a, 1.0))
    ro = a.copy()
    ro.flags.writeable = False
    assert not match((ro, 1.0, 2))


def test_kernels_of_a_module_imported_after_numba_took_over_still_compile(tmp_path):
    code = (
        SMALL_SITE_JOB +
        "assert 'coverage.radio.window' not in sys.modules\n"
        "from coverage.radio.window import rsrp_window\n"
        "loss = np.full((3, 4), 100.0)\n"
        "rsrp, _ = rsrp_window(loss, np.zeros((3, 4)), np.arange(4.0), np.arange(3.0), 0.0, 0.0,\n"
        "    40.0, 1.5, 8.5e6, np.zeros(0), 0.0, 65.0, 6.5, 25.0, 20.0, 18.0, threads=1)\n"
        "print(float(rsrp[1, 1]), 'numba' in sys.modules)\n")
    env = {**os.environ, jit.ENV: "jit"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    value, numba_loaded = out.stdout.split()
    assert numba_loaded == "True" and -130.0 < float(value) < -80.0
