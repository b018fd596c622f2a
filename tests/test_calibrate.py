"""Measured against predicted, and the calibration fitted to it, on synthetic data with a
known bias; the demo measurement generator."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from content import assert_csv_equal
from shapely.geometry import Point, box
from toy import UTM50

from coverage.config import Config
from coverage.demo.measurements import TRUE_OFFSET_DB, build_measurements
from coverage.evidence.calibration import apply_calibration, calibration_statement, fit_calibration
from coverage.evidence.compare import compare, error_stats
from coverage.grid import WorkingGrid
from coverage.output.figures import scatter_png
from coverage.signal import CoverageResult, OperatorCoverage, combine_operators
from coverage.study import Study

ROOT = Path(__file__).resolve().parents[1]
RES, N = 100.0, 200  # 20 km x 20 km of 100 m cells
X0, Y0 = 500_000.0, 3_420_000.0
SITES = [  # site_id, operator, band, col, row
    ("M1", "CMCC", "FDD900", 50, 50), ("M2", "CMCC", "FDD900", 150, 60),
    ("M3", "CMCC", "TDD1900", 100, 150),
    ("T1", "CT", "FDD800", 60, 120), ("T2", "CT", "FDD800", 140, 140),
    ("U1", "CU", "FDD900", 100, 100), ("U2", "CU", "FDD1800", 30, 170),
]
REACH_KM = 12.0


def xy_of(col, row):
    return X0 + (np.asarray(col) + 0.5) * RES, Y0 - (np.asarray(row) + 0.5) * RES


def synthetic() -> tuple[Study, CoverageResult]:
    """A flat 20 km study, 7 sites, RSRP = -50 - 35 log10(d/km) (NaN beyond 12 km)."""
    rng = np.random.default_rng(1)
    elevation = (300 + 50 * np.sin(np.arange(N) / 15.0)[None, :]
                 + np.zeros((N, 1))).astype(np.float32)
    grid = WorkingGrid(elevation, Affine(RES, 0, X0, 0, -RES, Y0), UTM50, RES)
    sx, sy = xy_of([s[3] for s in SITES], [s[4] for s in SITES])
    sites = gpd.GeoDataFrame(
        {"site_id": [s[0] for s in SITES], "operator": [s[1] for s in SITES],
         "band": [s[2] for s in SITES], "height_m": 30.0, "status": "on_air",
         "on_air_date": pd.to_datetime(["2015-01-01"] * len(SITES))},
        geometry=[Point(x, y) for x, y in zip(sx, sy, strict=True)], crs=UTM50)
    cx, cy = xy_of(np.arange(N)[None, :], np.arange(N)[:, None])
    by_operator = {}
    for op in ("CMCC", "CT", "CU"):
        best = np.full((N, N), -np.inf)
        best_site = np.full((N, N), -1, np.int32)
        for i, s in enumerate(SITES):
            if s[1] != op:
                continue
            d = np.maximum(np.hypot(cx - sx[i], cy - sy[i]) / 1000.0, 0.05)
            rsrp = np.where(d <= REACH_KM, -50.0 - 35.0 * np.log10(d), -np.inf)
            better = rsrp > best
            best[better] = rsrp[better]
            best_site[better] = i
        best[~np.isfinite(best)] = np.nan
        by_operator[op] = OperatorCoverage(op, best.astype(np.float32), best_site)
    any_rsrp, any_op = combine_operators([by_operator[o].rsrp for o in by_operator])
    coverage = CoverageResult(grid.transform, UTM50, ("CMCC", "CT", "CU"), by_operator,
                              any_rsrp, any_op)
    pc, pr = rng.uniform(2, N - 2, 300), rng.uniform(2, N - 2, 300)
    px, py = xy_of(pc, pr)
    area = box(X0, Y0 - N * RES, X0 + N * RES, Y0)
    points = gpd.GeoDataFrame(
        {"point_id": [f"P{i:03d}" for i in range(300)], "village_id": "V1",
         "kind": "committee", "group_id": "G1", "name": [f"点{i}" for i in range(300)]},
        geometry=[Point(x, y) for x, y in zip(px - 0.5 * RES, py + 0.5 * RES, strict=True)],
        crs=UTM50)
    study = Study(
        data_dir=Path("synthetic"), config=Config(), grid=grid,
        villages=gpd.GeoDataFrame({"village_id": ["V1"], "name": ["村"], "town": ["镇"]},
                                  geometry=[area], crs=UTM50),
        groups=gpd.GeoDataFrame({"group_id": ["G1"], "village_id": ["V1"], "name": ["组"],
                                 "households": [100]}, geometry=[area], crs=UTM50),
        points=points, households=None, sites=sites, candidates=None, grid_works=None,
        mobile_works=None, transformers=None, hazards=None, measurements=None)
    return study, coverage


@pytest.fixture(scope="module")
def world():
    return synthetic()


def field_measurements(study: Study, coverage: CoverageResult, truth: dict, n: int = 600,
                       sigma: float = 6.0, seed: int = 7) -> gpd.GeoDataFrame:
    """Readings at random places: prediction + truth(op, band, d_km) + N(0, sigma)."""
    rng = np.random.default_rng(seed)
    rows = []
    sites = study.sites
    for op in truth:
        c, r = rng.integers(0, N, n), rng.integers(0, N, n)
        pred = coverage.by_operator[op].rsrp[r, c].astype(float)
        site = coverage.by_operator[op].best_site[r, c]
        ok = np.isfinite(pred)
        x, y = xy_of(c, r)
        d = np.hypot(x - sites.geometry.x.to_numpy()[site],
                     y - sites.geometry.y.to_numpy()[site]) / 1000.0
        bands = sites["band"].to_numpy()[site]
        shift = np.array([truth[op](b, dd) for b, dd in zip(bands, d, strict=True)])
        value = np.round(pred + shift + rng.normal(0, sigma, n), 1)
        rows.append(pd.DataFrame({"x": x[ok], "y": y[ok], "operator": op,
                                  "rsrp_dbm": value[ok]}))
    t = pd.concat(rows, ignore_index=True)
    return gpd.GeoDataFrame(
        t.drop(columns=["x", "y"]).assign(date=pd.Timestamp("2020-07-01"), sinr_db=np.nan,
                                          tester="测试", point_id=None, lon=116.0, lat=30.9),
        geometry=gpd.points_from_xy(t["x"], t["y"]), crs=UTM50)


def const(v):
    return lambda band, d: v


# ----------------------------------------------------------------------------- statistics


def test_error_stats_by_hand():
    table = pd.DataFrame({"operator": ["CT"] * 4, "band": ["FDD800"] * 4,
                          "error_db": [2.0, -2.0, 8.0, 0.0]})
    s = error_stats(table).set_index(["operator", "band"])
    row = s.loc[("CT", "FDD800")]
    assert row["n"] == 4 and row["mean_error_db"] == 2.0
    assert row["rmse_db"] == pytest.approx(np.sqrt(18), abs=0.01)
    assert row["std_db"] == pytest.approx(np.sqrt(14), abs=0.01)
    assert row["within_6db"] == 0.75
    assert s.loc[("all", "all"), "n"] == 4


def test_compare_pairs_each_measurement_with_its_operator_and_serving_band(world):
    study, coverage = world
    meas = field_measurements(study, coverage, {"CMCC": const(0.0)}, n=50, sigma=0.0)
    cmp = compare(study, coverage, meas)
    t = cmp.table
    assert (t["status"] == "ok").all() and np.allclose(t["error_db"], 0.0, atol=0.06)
    assert set(t["band"]) == {"FDD900", "TDD1900"}
    assert set(t["site_id"]) <= {"M1", "M2", "M3"} and (t["distance_km"] <= REACH_KM).all()


# ----------------------------------------------------------------------------- fit


def test_known_bias_is_recovered_with_a_holdout_check(world):
    study, coverage = world
    meas = field_measurements(study, coverage, {"CMCC": const(-4.0), "CT": const(3.0),
                                                "CU": const(0.0)})
    cmp = compare(study, coverage, meas)
    before = cmp.stats.set_index(["operator", "band"])
    assert before.loc[("CMCC", "all"), "mean_error_db"] == pytest.approx(4.0, abs=1.0)
    fit = fit_calibration(cmp)
    for op, bias in (("CMCC", -4.0), ("CT", 3.0), ("CU", 0.0)):
        term = fit.term(op)
        assert term.model == "offset"
        assert term.offset_db == pytest.approx(bias, abs=1.0)
        assert abs(term.offset_db - bias) < 3 * term.offset_se_db + 0.2
    rows = fit.table.set_index(["operator", "band"])
    cmcc = rows.loc[("CMCC", "*")]
    assert 100 < cmcc["holdout_n"] < cmcc["n"]
    # on the held-out blocks: error before ≈ the bias, after ≈ 0; RMSE falls
    assert cmcc["holdout_mean_error_before_db"] == pytest.approx(4.0, abs=1.5)
    assert abs(cmcc["holdout_mean_error_after_db"]) < 1.5
    assert cmcc["holdout_rmse_after_db"] < cmcc["holdout_rmse_before_db"] - 0.5
    assert np.isfinite(rows["holdout_rmse_after_db"]).all()


def test_band_terms_where_bands_differ(world):
    study, coverage = world
    truth = {"CMCC": lambda band, d: -6.0 if band == "FDD900" else 0.0}
    fit = fit_calibration(compare(study, coverage, field_measurements(study, coverage, truth,
                                                                       n=900)))
    assert fit.term("CMCC", "FDD900").offset_db == pytest.approx(-6.0, abs=1.0)
    assert fit.term("CMCC", "TDD1900").offset_db == pytest.approx(0.0, abs=1.5)
    applied = fit.table.set_index("band")["applied"]
    assert applied["FDD900"] == "band" and applied["*"] == "operator"


def test_distance_slope_is_fitted_where_it_helps(world):
    study, coverage = world
    truth = {"CU": lambda band, d: -2.0 - 10.0 * np.log10(max(d, 0.03) / 2.0),
             "CT": const(1.0)}
    fit = fit_calibration(compare(study, coverage, field_measurements(study, coverage, truth,
                                                                       n=900)))
    cu, ct = fit.term("CU"), fit.term("CT")
    assert cu.model == "offset+slope" and ct.model == "offset"
    assert cu.slope_db_per_decade == pytest.approx(-10.0, abs=2.5)
    for d in (0.5, 2.0, 8.0):
        assert float(cu.correction_db(d)) == pytest.approx(truth["CU"]("", d), abs=1.5)
    assert "dB/decade" in fit.describe()


def test_too_few_measurements_are_not_calibrated(world):
    study, coverage = world
    meas = field_measurements(study, coverage, {"CT": const(3.0)}, n=12)
    fit = fit_calibration(compare(study, coverage, meas))
    assert fit.terms == () and "20 needed" in fit.table["note"].iloc[0]
    text = calibration_statement(fit, applied=False)
    assert text.startswith("Predictions are not calibrated: too few field measurements")
    assert calibration_statement(None, False) == (
        "Predictions are not calibrated: there are no field measurements.")


def test_apply_calibration_adds_the_offset_where_served(world):
    study, coverage = world
    meas = field_measurements(study, coverage, {"CMCC": const(-4.0), "CT": const(3.0)})
    fit = fit_calibration(compare(study, coverage, meas))
    cal = apply_calibration(study, coverage, fit)
    raw, new = coverage.by_operator["CT"].rsrp, cal.by_operator["CT"].rsrp
    served = np.isfinite(raw)
    assert np.array_equal(np.isfinite(new), served)
    assert np.allclose(new[served] - raw[served], fit.term("CT").offset_db, atol=1e-4)
    assert cal.by_operator["CU"] is coverage.by_operator["CU"]  # no CU term: unchanged
    assert np.array_equal(cal.any_rsrp, np.fmax(np.fmax(cal.rsrp["CMCC"], new),
                                                cal.rsrp["CU"]), equal_nan=True)
    after = compare(study, cal, meas).stats.set_index(["operator", "band"])
    assert abs(after.loc[("CT", "all"), "mean_error_db"]) < 0.3
    text = calibration_statement(fit, applied=True)
    assert text.startswith("Predictions are calibrated with field measurements: CMCC: -")
    assert "Holdout RMSE (before → after): CMCC" in text
    assert "未校准" in calibration_statement(fit, applied=False, language="zh")


def test_scatter_png_is_deterministic(world):
    study, coverage = world
    cmp = compare(study, coverage, field_measurements(study, coverage, {"CT": const(3.0)},
                                                      n=80))
    fit = fit_calibration(cmp)
    one = scatter_png(cmp, fit, colors={"CT": "#2e7d32"})
    assert one[:8] == b"\x89PNG\r\n\x1a\n" and one == scatter_png(cmp, fit,
                                                                  colors={"CT": "#2e7d32"})
    layer = cmp.error_layer()
    assert layer.crs == UTM50 and len(layer) == len(cmp.table) and "error_db" in layer


# ----------------------------------------------------------------------------- demo generator


def test_demo_generator_is_deterministic_and_its_bias_is_recovered(world):
    study, coverage = world
    table = build_measurements(study, coverage, seed=3)
    assert table.equals(build_measurements(study, coverage, seed=3))
    assert list(table.columns) == ["lon", "lat", "operator", "rsrp_dbm", "date", "sinr_db",
                                   "tester", "point_id"]
    assert table["point_id"].notna().any() and table["point_id"].isna().any()
    assert table["rsrp_dbm"].between(-140, -44).all()
    assert (table["date"].str[:10] <= "2020-10-25").all()
    g = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                         crs="EPSG:4326").to_crs(UTM50)
    g["date"] = pd.to_datetime(g["date"].str[:10])
    fit = fit_calibration(compare(study, coverage, g))
    for op, bias in TRUE_OFFSET_DB.items():
        assert fit.term(op).offset_db == pytest.approx(bias, abs=1.0)


@pytest.mark.slow
def test_demo_county_measurements_recover_the_known_bias(tmp_path):
    """The committed demo set: regenerated with the same content (numbers within their
    printed precision: the file was written with its author's library versions), and the
    fit recovers the bias."""
    data = ROOT / "data"
    target = data / "measurements" / "measurements.csv"
    if not target.is_file() or not (data / "terrain" / "dem.tif").is_file():
        pytest.skip("demo data/ with measurements not present")
    from coverage.config import load_config
    from coverage.demo.measurements import write_demo_measurements
    from coverage.predict import predict_coverage
    from coverage.study import load_study

    study = load_study(data, load_config(ROOT / "coverage.toml"))
    coverage = predict_coverage(study, cache_dir=tmp_path / "cache")
    write_demo_measurements(build_measurements(study, coverage), tmp_path)
    assert_csv_equal(tmp_path / "measurements" / "measurements.csv", target)
    fit = fit_calibration(compare(study, coverage))
    for op, bias in TRUE_OFFSET_DB.items():
        assert fit.term(op).offset_db == pytest.approx(bias, abs=1.0)
    rows = fit.table[fit.table["band"] == "*"]
    assert (rows["holdout_rmse_after_db"] < rows["holdout_rmse_before_db"]).all()
