"""Best server of a set of sites from their RSRP at sampled cells (predict/samples.py)."""

from __future__ import annotations

import numpy as np
from affine import Affine
from pyproj import CRS

from coverage.predict.samples import SampledSites, best_server
from coverage.signal import (
    CoverageResult,
    OperatorCoverage,
    combine_operators,
    finish_best,
    new_best,
    take_stronger,
)

NEG = -np.inf


def _sampled() -> SampledSites:
    # a 3 x 4 grid; cells 1, 5 and 10 sampled; sites 0, 2 (A) and 1, 3 (B)
    values = np.array([[-90.0, NEG, -100.0],
                       [-95.0, -80.0, NEG],
                       [-90.0, -70.0, NEG],
                       [-90.0, NEG, NEG]], np.float32)
    return SampledSites(np.array([1, 5, 10]), (3, 4), Affine(100, 0, 0, 0, -100, 300),
                        CRS.from_epsg(32650), ("A", "B"),
                        np.array(["A", "B", "A", "B"], dtype=object), values)


def _folded(sampled: SampledSites, sites: list[int]) -> dict[str, tuple[np.ndarray, ...]]:
    """The whole-grid rule (take_stronger in ascending site order) at the sampled cells."""
    out = {}
    for op in sampled.operators:
        best, site = new_best((sampled.cells.size,))
        for i in sorted(sites):
            if sampled.site_operator[i] == op:
                take_stronger(best, site, sampled.values[i], i)
        out[op] = (finish_best(best), site)
    return out


def test_ties_go_to_the_lower_site_and_nothing_is_nan():
    sampled = _sampled()
    cov = best_server(sampled, [3, 2, 1, 0])
    assert isinstance(cov, CoverageResult)
    a, b = cov.by_operator["A"], cov.by_operator["B"]
    assert isinstance(a, OperatorCoverage)
    flat = sampled.cells
    # cell 1: A sites 0 and 2 tie at -90 (site 0 keeps it); B site 3 (-90) beats 1 (-95)
    assert a.rsrp.ravel()[flat].tolist() == [-90.0, -70.0, -100.0]
    assert a.best_site.ravel()[flat].tolist() == [0, 2, 0]
    assert b.rsrp.ravel()[flat][:2].tolist() == [-90.0, -80.0]
    assert b.best_site.ravel()[flat].tolist() == [3, 1, -1]
    assert np.isnan(b.rsrp.ravel()[flat][2])
    # unsampled cells hold nothing
    others = np.setdiff1d(np.arange(12), flat)
    assert np.isnan(a.rsrp.ravel()[others]).all() and (a.best_site.ravel()[others] == -1).all()
    # any operator: a tie at cell 1 (-90, -90) goes to the earlier operator
    assert cov.any_operator.ravel()[flat].tolist() == [0, 0, 0]
    assert cov.any_rsrp.dtype == np.float32 and a.best_site.dtype == np.int32


def test_every_subset_equals_the_whole_grid_rule():
    sampled = _sampled()
    for mask in range(16):
        sites = [i for i in range(4) if mask >> i & 1]
        cov = best_server(sampled, sites)
        want = _folded(sampled, sites)
        for op in sampled.operators:
            got = cov.by_operator[op]
            np.testing.assert_array_equal(got.rsrp.ravel()[sampled.cells], want[op][0])
            np.testing.assert_array_equal(got.best_site.ravel()[sampled.cells], want[op][1])
        any_v, any_op = combine_operators([want[op][0] for op in sampled.operators])
        np.testing.assert_array_equal(cov.any_rsrp.ravel()[sampled.cells], any_v)
        np.testing.assert_array_equal(cov.any_operator.ravel()[sampled.cells], any_op)


def test_stored_vectors_are_read_back_exactly_and_the_folder_stays_bounded(tmp_path):
    import shutil

    from coverage.predict.samples import KEEP_SETS, sample_sites
    from tests.test_predict import SITES, make_study

    study = make_study(SITES[:2], radius_km=1.0)
    cells_of = [np.arange(k, study.grid.shape[0] * study.grid.shape[1], 97 + k)
                for k in range(4)]
    losses, vectors = tmp_path / "sites", tmp_path / "site-samples"
    first = sample_sites(study, cells_of[0], [0, 1], cache_dir=losses, samples_dir=vectors)
    assert len(list(vectors.glob("*.npz"))) == 2
    # a second call over the same cells reads the stored vectors: no loss is decoded or
    # predicted (the loss cache, removed, is not written again) and the values are the same
    shutil.rmtree(losses)
    again = sample_sites(study, cells_of[0], [0, 1], cache_dir=losses, samples_dir=vectors)
    assert not losses.exists()
    np.testing.assert_array_equal(again.values, first.values)
    assert np.isfinite(first.values).any()
    # calls over other cells: only the most recently used KEEP_SETS x 2 vectors remain,
    # the last call's among them
    for cells in cells_of[1:]:
        sample_sites(study, cells, [0, 1], cache_dir=losses, samples_dir=vectors)
    assert len(list(vectors.glob("*.npz"))) == KEEP_SETS * 2
    shutil.rmtree(losses)
    last = sample_sites(study, cells_of[3], [0, 1], cache_dir=losses, samples_dir=vectors)
    assert not losses.exists()
    fresh = sample_sites(study, cells_of[3], [0, 1], cache_dir=None)
    np.testing.assert_array_equal(last.values, fresh.values)
