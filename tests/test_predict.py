"""Per-site and per-operator prediction, and the on-disk cache of site losses."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from coverage import predict
from coverage.config import Config, ModelSettings
from coverage.grid import WorkingGrid
from coverage.io import cache
from coverage.predict.network import predict_networks
from coverage.radio import engine
from coverage.radio.linkbudget import rs_epre_dbm
from coverage.signal import CoverageResult
from coverage.study import Study, load_study

N, RES = 160, 30.0


def make_grid() -> WorkingGrid:
    rr, cc = np.mgrid[0:N, 0:N]
    z = 300.0 + 250.0 * np.exp(-((rr - 80) ** 2 + (cc - 80) ** 2) / (2 * 12.0**2))
    transform = Affine(RES, 0.0, 500000.0, 0.0, -RES, 3400000.0 + N * RES)
    return WorkingGrid(z.astype(np.float32), transform, CRS.from_epsg(32650), RES)


def make_sites(grid: WorkingGrid, rows: list[dict]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    x, y = grid.xy(frame.pop("row").to_numpy(), frame.pop("col").to_numpy())
    defaults = {"tower_id": frame["site_id"], "status": "on_air", "tilt_deg": np.nan,
                "power_dbm": np.nan, "gain_dbi": np.nan, "backhaul": "fiber"}
    for column, value in defaults.items():
        frame[column] = frame[column].fillna(value) if column in frame else value
    azimuths = frame["azimuths"] if "azimuths" in frame else [None] * len(frame)
    frame["azimuths"] = [a if isinstance(a, tuple) else () for a in azimuths]
    frame["ground_m"] = grid.sample(x, y)
    return gpd.GeoDataFrame(frame, geometry=shapely.points(x, y), crs=grid.crs)


def make_study(sites: list[dict], radius_km: float = 2.0) -> Study:
    grid = make_grid()
    config = Config(model=ModelSettings(radius_km=radius_km))
    empty = gpd.GeoDataFrame(geometry=[], crs=grid.crs)
    return Study(Path("."), config, grid, empty, empty, empty, None, make_sites(grid, sites),
                 None, None, None, None, None, None)


SITES = [
    {"site_id": "A", "operator": "CMCC", "band": "FDD900", "height_m": 30.0, "row": 40,
     "col": 40},
    {"site_id": "B", "operator": "CMCC", "band": "FDD900", "height_m": 30.0, "row": 120,
     "col": 120, "azimuths": (0.0, 120.0, 240.0)},
    {"site_id": "C", "operator": "CU", "band": "FDD1800", "height_m": 40.0, "row": 40,
     "col": 120, "power_dbm": 46.0},
    {"site_id": "D", "operator": "CT", "band": "FDD800", "height_m": 40.0, "row": 120,
     "col": 40, "status": "planned"},
]


def test_best_server_picks_the_stronger_site() -> None:
    study = make_study(SITES)
    result = predict.predict_coverage(study, keep_sites=True)
    assert result.computed_sites == 3 and result.cached_sites == 0
    cmcc = result.by_operator["CMCC"]
    assert cmcc.rsrp.dtype == np.float32 and cmcc.best_site.dtype == np.int32
    stack = np.full((2, N, N), -np.inf)
    for cov in result.sites:
        if cov.operator == "CMCC":
            stack[cov.site_index][cov.slices] = np.nan_to_num(cov.rsrp_dbm, nan=-np.inf)
    expected = stack.max(axis=0)
    reached = np.isfinite(expected)
    np.testing.assert_allclose(cmcc.rsrp[reached], expected[reached], rtol=0, atol=1e-4)
    assert np.isnan(cmcc.rsrp[~reached]).all()
    np.testing.assert_array_equal(cmcc.best_site[reached], stack.argmax(axis=0)[reached])
    assert (cmcc.best_site[~reached] == -1).all()
    assert cmcc.best_site[40, 45] == 0 and cmcc.best_site[120, 115] == 1
    # the planned CT site is left out by default; with statuses=None it is predicted
    assert np.isnan(result.by_operator["CT"].rsrp).all()
    everything = predict.predict_coverage(study, statuses=None)
    assert everything.by_operator["CT"].best_site[120, 45] == 3


def test_any_operator_is_the_max() -> None:
    result = predict.predict_coverage(make_study(SITES))
    stack = np.stack([np.nan_to_num(result.by_operator[op].rsrp, nan=-np.inf)
                      for op in result.operators])
    expected = stack.max(axis=0)
    reached = np.isfinite(expected)
    np.testing.assert_array_equal(result.any_rsrp[reached], expected[reached])
    assert np.isnan(result.any_rsrp[~reached]).all()
    np.testing.assert_array_equal(result.any_operator[reached], stack.argmax(axis=0)[reached])
    assert (result.any_operator[~reached] == -1).all()
    assert result.operators[result.any_operator[40, 118]] == "CU"


def test_link_budget_at_one_cell() -> None:
    study = make_study(SITES[:1])
    result = predict.predict_coverage(study)
    band = study.config.band("CMCC", "FDD900")
    window, _ = predict.site_loss(study.grid, *study.grid.xy(40, 40), height_m=30.0,
                                  f_mhz=band.frequency_mhz, model=study.config.model,
                                  rx_height_m=1.5)
    row, col = 40, 70  # 900 m east: nearly horizontal, omni pattern close to 0 dB
    loss = float(window.loss_db[row - window.row0, col - window.col0])
    epre = rs_epre_dbm(43.0, 10.0, 3.0)
    upper = epre + band.omni_gain_dbi - band.feeder_loss_db - loss
    got = float(result.by_operator["CMCC"].rsrp[row, col])
    assert upper - 1.0 < got <= upper + 1e-4


def test_site_outside_the_dem_is_skipped_with_a_warning() -> None:
    study = make_study(SITES[:1])
    study.sites.loc[0, "geometry"] = shapely.Point(0.0, 0.0)
    result = predict.predict_coverage(study)
    assert result.computed_sites == 0
    assert any("cannot be predicted" in w.message for w in result.warnings)
    assert np.isnan(result.any_rsrp).all()


def count_engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = engine.site_path_loss

    def counting(*args: object, **kwargs: object) -> engine.LossWindow:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "site_path_loss", counting)
    return calls


def test_cache_hit_edit_and_corruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_engine_calls(monkeypatch)
    study = make_study(SITES)
    first = predict.predict_coverage(study, cache_dir=tmp_path)
    assert (len(calls), first.computed_sites, first.cached_sites) == (3, 3, 0)
    assert len(list(tmp_path.glob("*.npz"))) == 3
    again = predict.predict_coverage(study, cache_dir=tmp_path)
    assert (len(calls), again.computed_sites, again.cached_sites) == (3, 0, 3)
    np.testing.assert_array_equal(again.any_rsrp, first.any_rsrp)
    # power is not part of the loss: nothing recomputed, RSRP follows the edit
    study.sites.loc[0, "power_dbm"] = 40.0
    power = predict.predict_coverage(study, cache_dir=tmp_path)
    assert len(calls) == 3 and power.cached_sites == 3
    assert power.by_operator["CMCC"].rsrp[40, 45] == pytest.approx(
        first.by_operator["CMCC"].rsrp[40, 45] - 3.0, abs=1e-4)
    # a new antenna height recomputes that site only
    study.sites.loc[1, "height_m"] = 45.0
    edited = predict.predict_coverage(study, cache_dir=tmp_path)
    assert (len(calls), edited.computed_sites, edited.cached_sites) == (4, 1, 2)
    # a corrupted entry is detected, recomputed and rewritten
    key = predict.loss_cache_key(study.grid, *study.grid.xy(40, 120), 40.0,
                                 study.config.band("CU", "FDD1800").frequency_mhz,
                                 study.config.model, 1.5)
    path = cache.entry_path(tmp_path, key)
    assert path.is_file()
    path.write_bytes(path.read_bytes()[:200])
    assert cache.read_entry(tmp_path, key).status == "corrupt"
    repaired = predict.predict_coverage(study, cache_dir=tmp_path)
    assert (len(calls), repaired.computed_sites) == (5, 1)
    assert cache.read_entry(tmp_path, key).status == "hit"
    np.testing.assert_array_equal(repaired.any_rsrp, edited.any_rsrp)


def test_cache_entry_verification(tmp_path: Path) -> None:
    key = cache.make_key({"a": 1})
    other = cache.make_key({"a": 2})
    arrays = {"loss_db": np.arange(6, dtype=np.float32).reshape(2, 3), "row0": np.int64(7)}
    assert cache.read_entry(tmp_path, key).status == "missing"
    cache.write_entry(tmp_path, key, arrays)
    hit = cache.read_entry(tmp_path, key)
    assert hit.status == "hit" and hit.arrays is not None
    np.testing.assert_array_equal(hit.arrays["loss_db"], arrays["loss_db"])
    assert int(hit.arrays["row0"]) == 7
    # an entry holding another key (e.g. copied or renamed) is stale, never used
    cache.write_entry(tmp_path, other, arrays)
    cache.entry_path(tmp_path, other).replace(cache.entry_path(tmp_path, key))
    assert cache.read_entry(tmp_path, key).status == "stale"
    # flipped data bytes fail the checksum
    cache.write_entry(tmp_path, key, {"loss_db": np.zeros(1000, np.float32)})
    path = cache.entry_path(tmp_path, key)
    raw = bytearray(path.read_bytes())
    at = raw.find(b"\x00\x00\x00\x00" * 50)
    raw[at + 8] = 0x41
    path.write_bytes(bytes(raw))
    assert cache.read_entry(tmp_path, key).status == "corrupt"
    path.write_bytes(b"not a zip file")
    assert cache.read_entry(tmp_path, key).status == "corrupt"
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_predict_on_a_loaded_study(tiny_data: Path) -> None:
    config = Config(model=ModelSettings(radius_km=3.0))
    study = load_study(tiny_data, config)
    result = predict.predict_coverage(study)
    assert result.computed_sites >= 1
    for cov in result.by_operator.values():
        assert cov.rsrp.shape == study.grid.shape
        served = cov.best_site >= 0
        assert np.isfinite(cov.rsrp[served]).all()
        assert set(np.unique(cov.best_site[served])) <= set(range(len(study.sites)))
    finite = result.any_rsrp[np.isfinite(result.any_rsrp)]
    assert finite.size > 0 and finite.min() > -160.0 and finite.max() < -20.0


def test_cache_key_follows_the_dem_around_the_site(tmp_path: Path) -> None:
    study = make_study(SITES[:1], radius_km=1.0)
    first = predict.predict_coverage(study, cache_dir=tmp_path)
    assert first.computed_sites == 1
    study.grid.elevation[150, 150] += 50.0  # far outside the site's 1 km radius
    far = predict.predict_coverage(study, cache_dir=tmp_path)
    assert far.cached_sites == 1
    study.grid.elevation[40, 60] += 50.0  # 600 m from the site
    near = predict.predict_coverage(study, cache_dir=tmp_path)
    assert near.computed_sites == 1
    assert not np.array_equal(near.any_rsrp, first.any_rsrp, equal_nan=True)


def test_array_digest_of_an_empty_window():
    import numpy as np

    from coverage.io.cache import array_digest

    empty = np.zeros((0, 5), np.float32)
    assert array_digest(empty) == array_digest(np.zeros((0, 5), np.float32))
    assert array_digest(empty) != array_digest(np.zeros((5, 0), np.float32))


def test_merging_two_predictions_equals_predicting_all_sites(tiny_data):
    import numpy as np

    from coverage.config import Config
    from coverage.predict import predict_coverage
    from coverage.signal import merge_coverage
    from coverage.study import load_study

    study = load_study(tiny_data, Config())
    assert set(study.sites["status"]) > {"on_air"}  # the tiny county has pending sites
    together = predict_coverage(study, statuses=None)
    merged = merge_coverage(predict_coverage(study, statuses=("on_air",)),
                            predict_coverage(study, statuses=("planned", "building")))
    for op in together.operators:
        a, b = together.by_operator[op], merged.by_operator[op]
        assert np.array_equal(a.rsrp, b.rsrp, equal_nan=True)
        assert np.array_equal(a.best_site, b.best_site)
    assert np.array_equal(together.any_rsrp, merged.any_rsrp, equal_nan=True)
    assert np.array_equal(together.any_operator, merged.any_operator)



def assert_same_result(a: CoverageResult, b: CoverageResult) -> None:
    for name in ("operators", "computed_sites", "cached_sites", "warnings"):
        assert getattr(a, name) == getattr(b, name)
    for op in a.operators:
        for field in ("rsrp", "best_site"):
            x, y = getattr(a.by_operator[op], field), getattr(b.by_operator[op], field)
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
    assert np.array_equal(a.any_rsrp, b.any_rsrp, equal_nan=True)
    assert np.array_equal(a.any_operator, b.any_operator)


def test_networks_in_one_pass_equal_each_predicted_alone(tmp_path: Path) -> None:
    sites = [*SITES, {"site_id": "E", "operator": "CMCC", "band": "FDD900", "height_m": 25.0,
                      "row": 45, "col": 50, "status": "building"},
             {"site_id": "F", "operator": "CMCC", "band": "NO_SUCH", "height_m": 25.0,
              "row": 80, "col": 80, "status": "planned"}]
    study = make_study(sites)
    networks = [("on_air",), ("planned", "building"), None]
    done: list[tuple[int, int]] = []
    together = predict_networks(study, networks, cache_dir=tmp_path / "one-pass",
                                progress=lambda d, t: done.append((d, t)))
    assert done[-1] == (6, 6)  # every site once, though the last network holds them all
    for k, (statuses, result) in enumerate(zip(networks, together, strict=True)):
        alone = predict.predict_coverage(study, statuses=statuses, cache_dir=tmp_path / str(k))
        assert_same_result(result, alone)
    assert together[1].computed_sites == 2 and together[2].computed_sites == 5
    assert any(w.value == "CMCC/NO_SUCH" for w in together[1].warnings)


def test_combine_operators_strongest_first_on_ties_nan_where_none() -> None:
    from coverage.signal import combine_operators

    def by_masks(rsrp: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:  # the old rule
        any_rsrp = np.full(rsrp[0].shape, np.nan, np.float32)
        any_operator = np.full(rsrp[0].shape, -1, np.int8)
        for index, values in enumerate(rsrp):
            better = values > np.nan_to_num(any_rsrp, nan=-np.inf)
            any_rsrp[better] = values[better]
            any_operator[better] = index
        return any_rsrp, any_operator

    rng = np.random.default_rng(11)
    choices = np.array([np.nan, -np.inf, -200.0, -100.5, -100.0, -90.0], np.float32)
    for trial in range(60):
        rsrp = [rng.choice(choices, (4, 6)) for _ in range(1 + trial % 3)]
        if trial % 2:
            rsrp = [r.astype(np.float64) + 0.01 for r in rsrp]  # stored as float32
        got, want = combine_operators(rsrp), by_masks(rsrp)
        assert got[0].dtype == np.float32 and got[1].dtype == np.int8
        assert np.array_equal(got[0], want[0], equal_nan=True)
        assert np.array_equal(got[1], want[1])
    tie = np.array([[-100.0, np.nan]], np.float32)
    any_rsrp, any_operator = combine_operators([tie, tie.copy()])
    assert any_operator.tolist() == [[0, -1]] and np.isnan(any_rsrp[0, 1])


@pytest.mark.parametrize("threads", [1, 2])
def test_sites_certainly_weaker_are_left_out_and_the_network_is_the_same(threads) -> None:
    # twelve overlapping sites of one operator: the later ones are weaker than the ones
    # folded before them over much of their window, and skip their pattern there
    rng = np.random.default_rng(11)
    sites = [{"site_id": f"S{k}", "operator": "CMCC", "band": "FDD900",
              "height_m": float(rng.uniform(20, 45)), "row": int(rng.integers(30, 130)),
              "col": int(rng.integers(30, 130)),
              "azimuths": (float(rng.uniform(0, 120)), 150.0, 270.0) if k % 2 else ()}
             for k in range(12)]
    study = make_study(sites)
    lean = predict.predict_coverage(study, threads=threads)
    full = predict.predict_coverage(study, threads=threads, keep_sites=True)
    assert_same_result(lean, full)
    # the kept windows are whole: each equals the site predicted on its own
    grid, cfg = study.grid, study.config
    for kept in full.sites:
        job = predict.make_site_job(cfg, study.sites.iloc[kept.site_index],
                                     kept.site_index)
        alone = predict.predict_site(grid, cfg, job)
        assert np.array_equal(kept.rsrp_dbm, alone.rsrp_dbm, equal_nan=True)
    # and a site folded onto a floor leaves out the cells where it is weaker
    best = full.by_operator["CMCC"].rsrp.copy()
    best[np.isnan(best)] = -np.inf
    job = predict.make_site_job(cfg, study.sites.iloc[11], 11)
    floored = predict.predict_site(grid, cfg, job, floor=best)
    alone = predict.predict_site(grid, cfg, job)
    left_out = np.isnan(floored.rsrp_dbm) & np.isfinite(alone.rsrp_dbm)
    assert left_out.mean() > 0.2
    rows, cols = alone.slices
    assert np.all(alone.rsrp_dbm[left_out] < best[rows, cols][left_out])


MAST = [  # one tower with five antennas of three operators, and two towers of one band
    {"site_id": "M1", "operator": "CMCC", "band": "FDD900", "height_m": 35.0, "row": 70,
     "col": 60, "azimuths": (0.0, 120.0, 240.0)},
    {"site_id": "N1", "operator": "CMCC", "band": "FDD900", "height_m": 30.0, "row": 110,
     "col": 100},
    {"site_id": "M2", "operator": "CU", "band": "FDD1800", "height_m": 35.0, "row": 70,
     "col": 60},
    {"site_id": "M3", "operator": "CMCC", "band": "TDD2600", "height_m": 35.0, "row": 70,
     "col": 60, "azimuths": (30.0, 150.0, 270.0)},
    {"site_id": "M4", "operator": "CT", "band": "FDD800", "height_m": 35.0, "row": 70,
     "col": 60},
    {"site_id": "M5", "operator": "CMCC", "band": "FDD900", "height_m": 35.0, "row": 70,
     "col": 60, "azimuths": (60.0,), "status": "planned"},  # a second FDD900 antenna
]


def count_band_sweeps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of frequencies of each sweep of the engine."""
    sweeps: list[int] = []
    original = engine.site_path_loss_bands

    def counting(*args: object, **kwargs: object) -> list[engine.LossWindow]:
        sweeps.append(len(args[5]))  # type: ignore[arg-type]
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "site_path_loss_bands", counting)
    return sweeps


@pytest.mark.parametrize("threads", [1, 2])
def test_bands_of_a_mast_predicted_together_equal_each_predicted_alone(
        threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    sweeps = count_band_sweeps(monkeypatch)
    study = make_study(MAST)
    everything = predict_networks(study, [None, ("on_air",)], keep_sites=True,
                                  threads=threads)
    # the tower's four frequencies in one sweep (its two FDD900 antennas share one), the
    # other tower alone: the terrain of the tower is sampled once, not five times
    assert sorted(sweeps) == [1, 4]
    grid, cfg = study.grid, study.config
    sweeps.clear()
    for kept in everything[0].sites:
        job = predict.make_site_job(cfg, study.sites.iloc[kept.site_index], kept.site_index)
        alone = predict.predict_site(grid, cfg, job)
        assert (kept.row0, kept.col0) == (alone.row0, alone.col0)
        assert np.array_equal(kept.rsrp_dbm, alone.rsrp_dbm, equal_nan=True)
        assert np.array_equal(kept.sector, alone.sector)
    assert len(sweeps) == 6
    # the networks folded from masts equal the networks folded site by site
    monkeypatch.setattr(predict.network, "mast_units", lambda jobs: [[job] for job in jobs])
    for together, statuses in zip(everything, [None, ("on_air",)], strict=True):
        assert_same_result(together, predict.predict_coverage(study, statuses=statuses,
                                                              keep_sites=True))
        lean = predict.predict_coverage(study, statuses=statuses, threads=threads)
        assert_same_result(lean, together)


def test_predict_sites_of_a_mast_reads_and_writes_the_per_site_cache(tmp_path: Path) -> None:
    study = make_study(MAST)
    grid, cfg = study.grid, study.config
    jobs = [predict.make_site_job(cfg, study.sites.iloc[i], i) for i in (0, 2, 3, 4)]
    assert len({predict.mast_key(job) for job in jobs}) == 1
    first = predict.predict_sites(grid, cfg, jobs, tmp_path)
    assert [cov.from_cache for cov in first] == [False] * 4
    keys = [predict.job_loss_key(grid, cfg, job) for job in jobs]
    assert all(cache.read_entry(tmp_path, key).status == "hit" for key in keys)
    # each entry is the site's own: predicted alone from the cache, the same RSRP
    for job, cov in zip(jobs, first, strict=True):
        alone = predict.predict_site(grid, cfg, job, tmp_path)
        assert alone.from_cache
        assert np.array_equal(alone.rsrp_dbm, cov.rsrp_dbm, equal_nan=True)
    # one entry lost: that band is swept again, the others come from the cache
    cache.entry_path(tmp_path, keys[2]).unlink()
    again = predict.predict_sites(grid, cfg, jobs, tmp_path)
    assert [cov.from_cache for cov in again] == [True, True, False, True]
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a.rsrp_dbm, b.rsrp_dbm, equal_nan=True)
    with pytest.raises(ValueError, match="one position and height"):
        predict.predict_sites(grid, cfg, [jobs[0], predict.make_site_job(
            cfg, study.sites.iloc[1], 1)])


def test_a_mast_off_the_dem_warns_for_each_of_its_sites() -> None:
    study = make_study(MAST[2:5])
    study.sites["geometry"] = shapely.Point(0.0, 0.0)
    result = predict.predict_coverage(study)
    assert result.computed_sites == 0
    assert sorted(w.value for w in result.warnings if "cannot be predicted" in w.message) == [
        "M2", "M3", "M4"]
