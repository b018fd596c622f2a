"""Both cores: the same numbers for any number of threads, and the thread pools' rules."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from coverage import predict
from coverage.config import Config, load_config
from coverage.radio import engine, threads
from coverage.radio.window import rsrp_window
from tests.test_predict import SITES, make_study

ROOT = Path(__file__).resolve().parents[1]


def rough_terrain(n: int = 241, seed: int = 3) -> tuple[np.ndarray, Affine]:
    """Hilly terrain with a nodata hole (30 m cells)."""
    rng = np.random.default_rng(seed)
    z = np.cumsum(np.cumsum(rng.normal(size=(n, n)), axis=0), axis=1)
    z = (200.0 + 400.0 * (z - z.min()) / (np.ptp(z) + 1e-9)).astype(np.float32)
    z[150:158, 40:47] = np.nan
    return z, Affine(30.0, 0.0, 400000.0, 0.0, -30.0, 3300000.0 + n * 30.0)


@pytest.mark.parametrize("site", [(120.3, 119.6), (3.2, 230.9), (200.0, 10.5)])
def test_site_loss_is_the_same_on_any_number_of_threads(site: tuple[float, float]) -> None:
    z, tf = rough_terrain()
    x, y = tf @ (site[1] + 0.5, site[0] + 0.5)
    one = engine.site_path_loss(z, tf, x, y, 30.0, 900.0, radius_m=3000.0, threads=1)
    for n in (2, 3, 7):
        many = engine.site_path_loss(z, tf, x, y, 30.0, 900.0, radius_m=3000.0, threads=n)
        assert (one.row0, one.col0) == (many.row0, many.col0)
        assert one.loss_db.tobytes() == many.loss_db.tobytes()
    rows, cols = np.mgrid[one.row0:one.row0 + one.shape[0]:3, one.col0:one.col0 + one.shape[1]:4]
    at_one, _, _ = engine.path_loss_at_cells(z, tf, x, y, 30.0, 900.0, rows.ravel(),
                                             cols.ravel(), radius_m=3000.0, threads=1)
    at_three, _, _ = engine.path_loss_at_cells(z, tf, x, y, 30.0, 900.0, rows.ravel(),
                                               cols.ravel(), radius_m=3000.0, threads=3)
    assert np.isfinite(at_one).sum() > 100
    assert at_one.tobytes() == at_three.tobytes()


def test_owner_bands_equal_the_whole_window() -> None:
    z, tf = rough_terrain()
    lay = engine._layout(z.shape, tf, *(tf @ (100.7, 90.2)), 2500.0)
    args = (lay.nrows, lay.ncols, lay.site_row - lay.row0, lay.site_col - lay.col0, lay.m,
            lay.pr, lay.pc, lay.kmax)
    ray1, k1 = engine._assign_owners(*args, threads=1)
    for n in (2, 5, lay.nrows):
        ray_n, k_n = engine._assign_owners(*args, threads=n)
        np.testing.assert_array_equal(ray1, ray_n)
        np.testing.assert_array_equal(k1, k_n)


def test_rsrp_window_is_the_same_on_any_number_of_threads() -> None:
    rng = np.random.default_rng(5)
    loss = rng.uniform(90.0, 160.0, (57, 43))
    loss[::7, ::5] = np.nan
    ground = rng.uniform(100.0, 300.0, loss.shape)
    cx = 1000.0 + 30.0 * np.arange(43)
    cy = 9000.0 - 30.0 * np.arange(57)
    args = (loss, ground, cx, cy, 1600.0, 8100.0, 340.0, 1.5, 8_494_000.0,
            np.array([0.0, 120.0, 240.0]), 4.0, 65.0, 7.0, 25.0, 20.0, 15.0)
    rsrp1, sector1 = rsrp_window(*args, threads=1)
    for n in (2, 4):
        rsrp_n, sector_n = rsrp_window(*args, threads=n)
        assert rsrp1.tobytes() == rsrp_n.tobytes()
        assert sector1.tobytes() == sector_n.tobytes()


def test_county_is_byte_identical_on_one_and_two_threads(tmp_path: Path) -> None:
    sites = SITES + [{"site_id": "OUT", "operator": "CT", "band": "FDD800", "height_m": 30.0,
                      "row": 400, "col": 400}] + [
        {"site_id": f"S{i}", "operator": ("CMCC", "CT", "CU")[i % 3],
         "band": ("FDD900", "FDD800", "FDD1800")[i % 3], "height_m": 25.0 + i,
         "row": 20 + 13 * i, "col": 150 - 11 * i} for i in range(9)]
    study = make_study(sites)
    done: list[tuple[int, int]] = []
    one = predict.predict_coverage(study, threads=1, keep_sites=True)
    two = predict.predict_coverage(study, threads=2, keep_sites=True,
                                   cache_dir=tmp_path / "cache",
                                   progress=lambda d, t: done.append((d, t)))
    warm = predict.predict_coverage(study, threads=2, cache_dir=tmp_path / "cache")
    total = done[-1][1]
    assert total >= 12 and done == [(i, total) for i in range(1, total + 1)]  # in site order
    assert [w.message for w in one.warnings] == [w.message for w in two.warnings]
    assert any("OUT" in w.message for w in two.warnings)
    assert [s.site_id for s in one.sites] == [s.site_id for s in two.sites]
    assert warm.cached_sites == two.computed_sites == total - 1 == len(one.sites)
    for res in (two, warm):
        for op in one.operators:
            assert one.by_operator[op].rsrp.tobytes() == res.by_operator[op].rsrp.tobytes()
            assert (one.by_operator[op].best_site.tobytes()
                    == res.by_operator[op].best_site.tobytes())
        assert one.any_rsrp.tobytes() == res.any_rsrp.tobytes()


def test_thread_count_comes_from_the_config_and_changes_no_hash() -> None:
    cfg = Config.model_validate({"compute": {"threads": 3}})
    assert cfg.compute.threads == 3
    assert cfg.config_hash() == Config().config_hash()
    assert load_config(ROOT / "coverage.toml").compute.threads == 0


def test_default_threads_follow_the_setting_env_and_affinity(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(threads.ENV, raising=False)
    threads.set_default_threads(None)
    try:
        assert threads.default_threads() == threads.available_cpus()
        monkeypatch.setenv(threads.ENV, "5")
        assert threads.default_threads() == 5
        threads.set_default_threads(2)
        assert threads.default_threads() == 2
        assert threads.resolve(None) == 2 and threads.resolve(4) == 4
        with pytest.raises(ValueError):
            threads.set_default_threads(-1)
    finally:
        threads.set_default_threads(None)


def test_map_ordered_keeps_order_bounds_work_and_never_nests() -> None:
    started: list[int] = []
    inner: list[int] = []

    def work(i: int) -> int:
        started.append(i)
        inner.append(threads.resolve(None))   # kernels inside a worker run serially
        time.sleep(0.002 * (5 - i % 5))        # later items finish first
        return i * i

    results = threads.map_ordered(work, range(20), 2, ahead=2)
    assert next(results) == 0
    time.sleep(0.05)
    assert len(started) <= 2 * 2 + 1        # no more than `ahead` per thread run ahead
    assert list(results) == [i * i for i in range(1, 20)]
    assert set(inner) == {1}
    assert list(threads.map_ordered(lambda i: -i, [1, 2, 3], 1)) == [-1, -2, -3]


def test_map_ordered_raises_the_error_of_its_item() -> None:
    def work(i: int) -> int:
        if i == 3:
            raise ValueError("item 3")
        return i

    results = threads.map_ordered(work, range(10), 2)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="item 3"):
        next(results)


def test_run_ranges_covers_every_item_once_on_several_threads() -> None:
    seen = np.zeros(1001, np.int32)
    names: set[str] = set()
    lock = threading.Lock()

    def fn(a: int, b: int) -> None:
        with lock:
            seen[a:b] += 1
            names.add(threading.current_thread().name)
        time.sleep(0.01)

    threads.run_ranges(fn, 1001, 3)
    assert (seen == 1).all()
    assert len(names) >= 2
    calls: list[tuple[int, int]] = []
    threads.run_ranges(lambda a, b: calls.append((a, b)), 17, 1)
    assert calls == [(0, 17)]
    threads.run_ranges(lambda a, b: calls.append((a, b)), 0, 4)
    assert calls == [(0, 17)]
