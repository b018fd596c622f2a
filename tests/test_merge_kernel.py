"""Merging two predictions of one network (the committed sites, then the plan's): the
compiled pass gives numpy's rule to the bit, and the merge equals predicting together."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from coverage.radio import jit
from coverage.radio.fold_kernels import merge_best
from coverage.signal import CoverageResult, OperatorCoverage, combine_operators, merge_coverage


def _numpy_rule(a_rsrp, a_site, b_rsrp, b_site):
    """The rule as numpy applied it before the compiled pass (the reference)."""
    va = np.nan_to_num(a_rsrp, nan=-np.inf)
    vb = np.nan_to_num(b_rsrp, nan=-np.inf)
    take_b = (vb > va) | ((vb == va) & (b_site >= 0) & ((a_site < 0) | (b_site < a_site)))
    return np.where(take_b, b_rsrp, a_rsrp), np.where(take_b, b_site, a_site)


def _rasters(seed, shape=(67, 91)):
    """RSRP on a 0.5 dB lattice (many exact ties), with NaN, +-inf and no-site cells."""
    rng = np.random.default_rng(seed)
    rsrp = (np.round(rng.uniform(-120, -60, shape) * 2) / 2).astype(np.float32)
    site = rng.integers(0, 40, shape).astype(np.int32)
    none = rng.random(shape) < 0.2
    rsrp[none], site[none] = np.nan, -1
    rsrp[rng.random(shape) < 0.01] = np.inf
    rsrp[rng.random(shape) < 0.01] = -np.inf
    odd = rng.random(shape) < 0.02       # a value without a site, a site without a value
    site[odd & ~none] = -1
    site[odd & none] = 5
    return rsrp, site


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_merge_gives_the_numpy_rule_to_the_bit(seed):
    a_rsrp, a_site = _rasters(seed)
    b_rsrp, b_site = _rasters(seed + 100)
    b_rsrp[::3] = a_rsrp[::3]                         # exact ties on every third row
    rsrp = np.empty_like(a_rsrp)
    site = np.empty_like(a_site)
    merge_best(a_rsrp, a_site, b_rsrp, b_site, rsrp, site)
    want_rsrp, want_site = _numpy_rule(a_rsrp, a_site, b_rsrp, b_site)
    assert rsrp.tobytes() == want_rsrp.tobytes()
    np.testing.assert_array_equal(site, want_site)


def _result(rsrp, site, operators=("CMCC", "CT")):
    by_op = {op: OperatorCoverage(op, rsrp + k, site) for k, op in enumerate(operators)}
    any_rsrp, any_op = combine_operators([by_op[op].rsrp for op in operators])
    return CoverageResult(Affine(30, 0, 0, 0, -30, 0), CRS.from_epsg(32650), operators, by_op,
                          any_rsrp, any_op, (), 1, 0, [])


def test_merged_network_takes_the_stronger_site_and_the_lower_index_on_a_tie():
    first = _result(np.array([[-80.0, np.nan, -90.0, -70.0]], np.float32),
                    np.array([[3, -1, 7, 2]], np.int32))
    second = _result(np.array([[-75.0, -100.0, -90.0, -70.0]], np.float32),
                     np.array([[9, 12, 5, 8]], np.int32))
    merged = merge_coverage(first, second)
    cmcc = merged.by_operator["CMCC"]
    assert cmcc.rsrp.tolist() == [[-75.0, -100.0, -90.0, -70.0]]
    assert cmcc.best_site.tolist() == [[9, 12, 5, 2]]  # a tie: site 5 beats 7, 2 beats 8
    assert cmcc.rsrp.dtype == np.float32 and cmcc.best_site.dtype == np.int32
    assert merged.any_operator.tolist() == [[1, 1, 1, 1]]  # CT is CMCC + 1 dB here


_MERGE_IN_FRESH_PROCESS = """
import sys
import numpy as np
from coverage.radio.fold_kernels import merge_best
a = np.full((3, 4), -80.0, np.float32)
s = np.zeros((3, 4), np.int32)
out, site = np.empty_like(a), np.empty_like(s)
merge_best(a, s, a, s, out, site)
print("numba" in sys.modules)
"""


@pytest.mark.skipif(jit.aot_module() is None,
                    reason="ahead-of-time kernels not built (`make kernels`) or stale")
def test_merge_runs_ahead_of_time_without_numba():
    env = {k: v for k, v in os.environ.items() if k != jit.ENV}
    out = subprocess.run([sys.executable, "-c", _MERGE_IN_FRESH_PROCESS], capture_output=True,
                         text=True, env=env, timeout=300, check=True)
    assert out.stdout.split() == ["False"]
