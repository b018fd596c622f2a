"""Planning's cold path: the owners of chosen cells equal the whole-window pass, and the
candidate options predicted side by side give the matrix of one thread."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from coverage.radio import engine
from tests.test_threads import rough_terrain


def _owners_everywhere(shape: tuple[int, int], tf: Affine, x: float, y: float,
                       radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole-window owners and the per-cell owners of every window cell."""
    lay = engine._layout(shape, tf, x, y, radius_m)
    srw, scw = lay.site_row - lay.row0, lay.site_col - lay.col0
    ray, k = engine._assign_owners(lay.nrows, lay.ncols, srw, scw, lay.m, lay.pr, lay.pc,
                                   lay.kmax, threads=1)
    wr, wc = np.meshgrid(np.arange(lay.nrows, dtype=np.int64),
                         np.arange(lay.ncols, dtype=np.int64), indexing="ij")
    wr, wc = np.ascontiguousarray(wr.ravel()), np.ascontiguousarray(wc.ravel())
    ray_at = np.empty(wr.shape, np.int32)
    k_at = np.empty(wr.shape, np.int32)
    engine._owners_at_cells(srw, scw, lay.m, lay.pr, lay.pc, lay.kmax, wr, wc, ray_at, k_at)
    return ray.ravel(), np.where(ray.ravel() >= 0, k.ravel(), 0), np.stack(
        [ray_at, np.where(ray_at >= 0, k_at, 0)])


def _random_site(rng: np.random.Generator, seed: int, nr: int, nc: int, tf: Affine
                 ) -> tuple[float, float, float]:
    """A site (x, y) and radius (m) on an ``nr`` x ``nc`` grid: on a cell centre for every
    third seed (exact ties between mirror rays), anywhere (near the edges too) otherwise."""
    if seed % 3 == 0:
        col, row = int(rng.integers(0, nc)) + 0.5, int(rng.integers(0, nr)) + 0.5
    else:
        col, row = rng.uniform(-0.49, nc - 0.51) + 0.5, rng.uniform(-0.49, nr - 0.51) + 0.5
    x, y = tf @ (col, row)
    return x, y, float(rng.uniform(2.0, 80.0)) * tf.a


@pytest.mark.parametrize("seed", range(12))
def test_owners_of_cells_equal_the_whole_window(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nr, nc = (int(v) for v in rng.integers(15, 160, 2))
    res = float(rng.choice([30.0, 25.0, 90.0, 7.3]))
    tf = Affine(res, 0.0, 1000.0, 0.0, -res, 5000.0)
    x, y, radius = _random_site(rng, seed, nr, nc, tf)
    ray, k, at = _owners_everywhere((nr, nc), tf, x, y, radius)
    np.testing.assert_array_equal(at[0], ray)
    np.testing.assert_array_equal(at[1], k)


def test_loss_at_cells_equals_the_window_with_owners_of_cells_only() -> None:
    z, tf = rough_terrain()
    x, y = tf @ (100.7, 90.2)
    win = engine.site_path_loss(z, tf, x, y, 30.0, 900.0, radius_m=3000.0, threads=1)
    rng = np.random.default_rng(5)
    rows = rng.integers(0, z.shape[0], 3000)
    cols = rng.integers(0, z.shape[1], 3000)
    rows[:2], cols[:2] = 40, 60                       # a cell asked for twice
    loss, _, layout = engine.path_loss_at_cells(z, tf, x, y, 30.0, 900.0, rows, cols,
                                                radius_m=3000.0)
    h, w = win.shape
    ref = np.full(rows.shape, np.nan, np.float32)
    ok = (rows >= win.row0) & (rows < win.row0 + h) & (cols >= win.col0) & (cols < win.col0 + w)
    ref[ok] = win.loss_db[rows[ok] - win.row0, cols[ok] - win.col0]
    assert np.isfinite(loss).sum() > 500
    assert loss.tobytes() == ref.tobytes()
    again, _, _ = engine.path_loss_at_cells(z, tf, x, y, 30.0, 2600.0, rows, cols,
                                            radius_m=3000.0, layout=layout)
    ref2 = engine.site_path_loss(z, tf, x, y, 30.0, 2600.0, radius_m=3000.0)
    np.testing.assert_array_equal(
        again[ok], ref2.loss_db[rows[ok] - win.row0, cols[ok] - win.col0])


def test_options_side_by_side_equal_one_thread(tmp_path) -> None:
    import geopandas as gpd

    from coverage.config import Config
    from coverage.plan.coverage_matrix import option_values
    from coverage.predict.candidates import CandidateRadio, candidate_sites
    from tests.test_candidates import hill_grid
    from tests.toy import UTM50, toy_study

    cfg = Config()
    cfg.model.radius_km = 1.5
    grid = hill_grid()
    study = toy_study(cfg, grid=grid)
    spots = [(20.0, 20.0), (20.0, 27.0), (70.0, 70.0), (40.2, 41.7), (5.5, 60.1)]
    xy = [grid.xy(r, c) for r, c in spots]
    cands = gpd.GeoDataFrame(
        {"tower_id": [f"T{i}" for i in range(len(spots))],
         "x": [float(x) for x, _ in xy], "y": [float(y) for _, y in xy],
         "ground_m": 150.0, "height_m": 35.0, "price_wan": 60.0,
         "existing_operators": [(), ("CT",), (), ("CMCC", "CU"), ()]},
        geometry=gpd.points_from_xy([x for x, _ in xy], [y for _, y in xy]), crs=UTM50)
    sites = candidate_sites(cands, cfg)
    rng = np.random.default_rng(9)
    rows, cols = rng.integers(0, 80, 900), rng.integers(0, 80, 900)
    order = np.arange(len(sites))
    runs = {}
    for n in (1, 2, 3):
        radio = CandidateRadio(study, tmp_path / str(n))
        runs[n] = list(option_values(radio, sites, order, rows, cols, threads=n))
        assert (radio.computed, radio.cached) == (len(sites), 0)
    assert [k for k, _ in runs[1]] == order.tolist()
    for n in (2, 3):
        assert [k for k, _ in runs[n]] == order.tolist()
        for (_, a), (_, b) in zip(runs[1], runs[n], strict=True):
            assert a is not None and b is not None and a.tobytes() == b.tobytes()
    assert sum(np.isfinite(v).sum() for _, v in runs[1]) > 1000


@pytest.mark.parametrize("seed", range(10))
def test_window_slots_equal_the_owner_pass_of_the_whole_window(seed: int) -> None:
    """The sweep's per-ray lists built band by band (no window-sized owner arrays) equal
    the whole-window owners turned into lists under the radius-and-data mask, for any band
    height and thread count, and the cells no sample owns are the old mask's."""
    rng = np.random.default_rng(100 + seed)
    nr, nc = (int(v) for v in rng.integers(15, 160, 2))
    res = float(rng.choice([30.0, 25.0, 90.0, 7.3]))
    tf = Affine(res, 0.0, 1000.0, 0.0, -res, 5000.0)
    z = (200.0 + 50.0 * rng.random((nr, nc))).astype(np.float32)
    z[rng.integers(0, nr, 40), rng.integers(0, nc, 40)] = np.nan
    x, y, radius = _random_site(rng, seed, nr, nc, tf)
    lay = engine._layout((nr, nc), tf, x, y, radius)
    ray, k = engine._assign_owners(lay.nrows, lay.ncols, lay.site_row - lay.row0,
                                   lay.site_col - lay.col0, lay.m, lay.pr, lay.pc, lay.kmax,
                                   threads=1)
    win = z[lay.row0:lay.row0 + lay.nrows, lay.col0:lay.col0 + lay.ncols]
    mask = np.ascontiguousarray(lay.inside & np.isfinite(win))
    base, slot = engine._owned_slots(ray, k, mask, lay.kmax, threads=1)
    near = np.flatnonzero(mask & (ray < 0))
    assert near.size >= 1 and (slot >= 0).sum() + near.size == mask.sum()
    bare = engine._layout((nr, nc), tf, x, y, radius, inside=False)
    for band, threads in ((1, 1), (3, 2), (32, 3), (1000, 1)):
        engine._SLOT_BAND_ROWS, old = band, engine._SLOT_BAND_ROWS
        try:
            base_n, slot_n, near_n = engine._window_slots(z, bare, radius / res, threads)
        finally:
            engine._SLOT_BAND_ROWS = old
        np.testing.assert_array_equal(base_n, base)
        np.testing.assert_array_equal(slot_n, slot)
        np.testing.assert_array_equal(near_n, near)
