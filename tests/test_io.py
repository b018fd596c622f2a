"""Reading the inputs: formats, CRSs, names, extra columns, working CRS and the DEM grid."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DEM_NODATA, NODATA_BLOCK, make_tiny_data, tiny_dem, tiny_layers

from coverage.config import Config
from coverage.errors import ConfigError
from coverage.grid import WorkingGrid
from coverage.io.writers import write_csv, write_gpkg
from coverage.study import load_study, validate_data_dir

pytestmark = pytest.mark.filterwarnings(
    "ignore:Column names longer than 10:UserWarning",
    "ignore:Normalized/laundered field name:RuntimeWarning",
)

VILLAGE_LAYERS = ("villages", "groups", "points", "households")
WORK_LAYERS = ("grid", "mobile", "transformers", "hazards")
REPO = Path(__file__).resolve().parents[1]


def _sites_gdf(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]),
                            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs="EPSG:4326")


def _write_variant(root: Path, fmt: str) -> Path:
    """The tiny data with its vector layers in another format (DEM unchanged)."""
    data = make_tiny_data(root)
    layers = tiny_layers()
    if fmt == "gpkg":
        return data
    shutil.rmtree(data / "villages")
    shutil.rmtree(data / "sites")
    (data / "villages").mkdir()
    (data / "sites").mkdir()
    geo = {k: layers[k] for k in VILLAGE_LAYERS}
    geo["sites"] = _sites_gdf(layers["sites"])
    geo["candidates"] = _sites_gdf(layers["candidates"])
    folder = {k: "villages" for k in VILLAGE_LAYERS} | {"sites": "sites", "candidates": "sites"}
    for key, gdf in geo.items():
        target = data / folder[key] / key
        if fmt == "geojson":
            gdf.to_file(target.with_suffix(".geojson"), driver="GeoJSON", engine="pyogrio")
        elif fmt == "shp":
            gdf.to_file(target.with_suffix(".shp"), driver="ESRI Shapefile", engine="pyogrio",
                        encoding="UTF-8")
        elif fmt == "csv_lonlat":
            if key in ("villages", "groups"):
                frame = pd.DataFrame(gdf.drop(columns="geometry"))
                frame["wkt"] = shapely.to_wkt(gdf.geometry.array, rounding_precision=-1)
            else:
                frame = pd.DataFrame(gdf.drop(columns="geometry"))
                frame["longitude"] = gdf.geometry.x
                frame["latitude"] = gdf.geometry.y
            write_csv(target.with_suffix(".csv"), frame)
        elif fmt == "csv_wkt":
            frame = pd.DataFrame(gdf.drop(columns="geometry"))
            frame["geometry"] = shapely.to_wkt(gdf.geometry.array, rounding_precision=-1)
            write_csv(target.with_suffix(".csv"), frame)
        elif fmt == "projected":
            crs = "EPSG:3857" if key in VILLAGE_LAYERS else "EPSG:32650"
            write_gpkg(target.with_suffix(".gpkg"), {key: gdf.to_crs(crs)})
        else:
            raise ValueError(fmt)
    if fmt in ("geojson", "csv_wkt", "csv_lonlat"):
        (data / "works" / "works.gpkg").unlink()
        for key in WORK_LAYERS:
            if fmt == "geojson":
                gpd.GeoDataFrame(layers[key]).to_file(data / "works" / f"{key}.geojson",
                                                      driver="GeoJSON", engine="pyogrio")
            else:
                write_csv(data / "works" / f"{key}.csv", layers[key])
    return data


def _signature(study) -> dict:
    """Study content as plain, rounded values (for comparing formats)."""
    out = {}
    for key in ("villages", "groups", "points", "households", "sites", "candidates",
                "grid_works", "mobile_works", "transformers", "hazards"):
        frame = getattr(study, key)
        rows = []
        for _, rec in frame.iterrows():
            row = {}
            for col, val in rec.items():
                if col == "geometry":
                    row["area"] = round(val.area, 0)
                    row["cx"] = round(val.centroid.x, 1)
                    row["cy"] = round(val.centroid.y, 1)
                elif isinstance(val, float | np.floating):
                    row[col] = None if np.isnan(val) else round(float(val), 6)
                elif isinstance(val, pd.Timestamp):
                    row[col] = val.date().isoformat()
                elif val is None or val is pd.NA or val is pd.NaT:
                    row[col] = None
                elif isinstance(val, np.integer | np.bool_):
                    row[col] = val.item()
                else:
                    row[col] = val
            rows.append(row)
        first = frame.columns[0]
        out[key] = sorted(rows, key=lambda r: (str(r.get(first)), r.get("cx", 0),
                                               r.get("cy", 0)))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    data = make_tiny_data(tmp_path_factory.mktemp("ref") / "data")
    return _signature(load_study(data, Config()))


@pytest.mark.parametrize("fmt", ["geojson", "shp", "csv_lonlat", "csv_wkt", "projected"])
def test_formats_give_the_same_study(tmp_path, reference, fmt):
    data = _write_variant(tmp_path / "data", fmt)
    study = load_study(data, Config())
    assert study.grid.crs.to_epsg() == 32650
    sig = _signature(study)
    for key, rows in reference.items():
        assert len(sig[key]) == len(rows), key
        for got, want in zip(sig[key], rows, strict=True):
            for col, value in want.items():
                if col in ("cx", "cy"):
                    assert got[col] == pytest.approx(value, abs=0.2), (key, col)
                elif col == "area":
                    assert got[col] == pytest.approx(value, rel=1e-6), (key, col)
                else:
                    assert got.get(col) == value, (key, col, got.get(col), value)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv_lonlat", "csv_wkt",
                                 "projected"])
def test_chinese_names_and_extra_columns_survive(tmp_path, fmt):
    study = load_study(_write_variant(tmp_path / "data", fmt), Config())
    villages = study.villages.set_index("village_id")
    assert villages.loc["V1", "name"] == "岳西县石关村"
    assert villages.loc["V2", "town"] == "响肠镇"
    assert villages.loc["V1", "leader"] == "王建国"          # extra column kept
    groups = study.groups.set_index("group_id")
    assert groups.loc["G03", "name"] == "第3组"
    sites = study.sites.set_index("site_id")
    assert sites.loc["S1", "备注"] == "共享铁塔"              # extra column, Chinese name
    assert study.points.set_index("point_id").loc["P01", "name"] == "石关村委会"
    assert not [w for w in study.warnings if "misspelling" in w.message]


def test_sites_columns(tiny_data):
    sites = load_study(tiny_data, Config()).sites.set_index("site_id")
    assert sites.loc["S1", "azimuths"] == (0.0, 120.0, 240.0)
    assert sites.loc["S3", "azimuths"] == ()                   # omni
    assert sites.loc["S3", "tower_id"] == "S3"                 # defaults to site_id
    assert sites.loc["S1", "tower_id"] == sites.loc["S2", "tower_id"] == "T1"
    assert np.isnan(sites.loc["S2", "gain_dbi"])               # band default applies later
    assert sites.loc["S1", "power_dbm"] == 43.0
    assert sites.loc["S4", "status"] == "planned"
    assert sites.loc["S1", "on_air_date"] == pd.Timestamp("2018-06-01")
    assert (sites.loc["S1", "lon"], sites.loc["S1", "lat"]) == (116.14, 30.875)
    # ground elevation: the synthetic DEM at the site, within a few metres
    lon, lat = 116.14, 30.875
    expected = (400 + 700 * np.exp(-(((lon - 116.13) / 0.02) ** 2 + ((lat - 30.86) / 0.02) ** 2))
                + 500 * np.exp(-(((lon - 116.175) / 0.015) ** 2 + ((lat - 30.83) / 0.025) ** 2))
                - 80 * np.exp(-(((lon - 116.155) / 0.005) ** 2)) + 40 * (lat - 30.80) / 0.1)
    assert sites.loc["S1", "ground_m"] == pytest.approx(expected, abs=3.0)
    cands = load_study(tiny_data, Config()).candidates.set_index("candidate_id")
    assert cands.loc["C2", "height_m"] == Config().planning.candidate_height_m


def test_working_crs_auto_is_utm_50n(tiny_data):
    study = load_study(tiny_data, Config())
    assert study.grid.crs.to_epsg() == 32650
    for key in ("villages", "groups", "points", "households", "sites", "candidates"):
        assert getattr(study, key).crs.to_epsg() == 32650, key
    x, y = study.sites.geometry.x.iloc[0], study.sites.geometry.y.iloc[0]
    assert 400_000 < x < 430_000 and 3_400_000 < y < 3_430_000


def test_working_crs_override(tiny_data):
    cfg = Config()
    cfg.model.crs = "EPSG:4547"          # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    study = load_study(tiny_data, cfg)
    assert study.grid.crs.to_epsg() == 4547
    assert study.villages.crs.to_epsg() == 4547
    cfg.model.crs = "EPSG:4326"
    with pytest.raises(ConfigError, match="not a projected CRS"):
        load_study(tiny_data, cfg)


def test_dem_resampled_to_30m_with_nan_for_nodata(tiny_data):
    grid = load_study(tiny_data, Config()).grid
    assert isinstance(grid, WorkingGrid)
    assert grid.elevation.dtype == np.float32
    assert grid.resolution_m == 30.0
    assert grid.transform.a == 30.0 and grid.transform.e == -30.0
    assert grid.transform.c % 30 == 0 and grid.transform.f % 30 == 0
    # 0.1 deg x 0.1 deg at 30.85 N is about 9.6 km x 11.1 km (plus rotation into UTM)
    rows, cols = grid.shape
    assert 360 <= rows <= 385 and 315 <= cols <= 335
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, grid.crs, always_xy=True)
    # inside the nodata block -> NaN; the hill top -> about 400 + 700 + ... m
    x, y = tr.transform([116.195, 116.13], [30.895, 30.86])
    nodata, top = grid.sample(np.array(x), np.array(y), method="nearest")
    assert np.isnan(nodata)
    dem, _ = tiny_dem()
    assert top == pytest.approx(float(np.nanmax(np.where(dem == DEM_NODATA, np.nan, dem))),
                                abs=15.0)
    block = dem[NODATA_BLOCK]
    assert (block == DEM_NODATA).all()
    assert np.isnan(grid.elevation).any() and np.isfinite(grid.elevation).mean() > 0.9


def test_dem_resolution_from_config(tiny_data):
    cfg = Config()
    cfg.model.resolution_m = 60.0
    grid = load_study(tiny_data, cfg).grid
    assert grid.transform.a == 60.0 and grid.resolution_m == 60.0
    assert grid.transform.c % 60 == 0


def test_grid_helpers():
    from affine import Affine
    from pyproj import CRS

    elev = np.arange(12, dtype=np.float32).reshape(3, 4)
    grid = WorkingGrid(elev, Affine(30, 0, 300, 0, -30, 990), CRS.from_epsg(32650), 30.0)
    assert grid.shape == (3, 4)
    assert grid.bounds == (300, 900, 420, 990)
    row, col = grid.rowcol(315.0, 975.0)              # centre of the first cell
    assert (row, col) == (0.0, 0.0)
    x, y = grid.xy(np.array([0, 2]), np.array([0, 3]))
    assert x.tolist() == [315.0, 405.0] and y.tolist() == [975.0, 915.0]
    assert grid.contains(np.array([300, 421]), np.array([950, 950])).tolist() == [True, False]
    # bilinear between cell centres: halfway between elev[0,0]=0 and elev[0,1]=1
    assert grid.sample(330.0, 975.0)[0] == pytest.approx(0.5)
    assert grid.sample(330.0, 975.0, method="nearest")[0] in (0.0, 1.0)
    assert np.isnan(grid.sample(1000.0, 975.0)[0])


def test_csv_xy_with_prj_sidecar_and_geographic_xy(tiny_data):
    ref = load_study(tiny_data, Config()).candidates.geometry
    path = tiny_data / "sites" / "candidates.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    pts = gpd.GeoSeries(gpd.points_from_xy(frame["lon"].astype(float),
                                           frame["lat"].astype(float)), crs=4326)
    utm = pts.to_crs(32650)
    projected = frame.drop(columns=["lon", "lat"]).assign(x=utm.x, y=utm.y)
    write_csv(path, projected)
    path.with_suffix(".prj").write_text("EPSG:32650")
    study = load_study(tiny_data, Config())
    assert study.candidates.geometry.distance(ref).max() < 0.01
    path.with_suffix(".prj").unlink()
    write_csv(path, frame.rename(columns={"lon": "X", "lat": "Y"}))
    study = load_study(tiny_data, Config())
    assert study.candidates.geometry.distance(ref).max() < 0.01
    assert any("as lon/lat" in w.message for w in study.warnings)


def test_works_csv_with_wkt_geometry_is_spatial(tiny_data):
    (tiny_data / "works" / "works.gpkg").unlink()
    layers = tiny_layers()
    for key in WORK_LAYERS:
        frame = layers[key]
        if key == "transformers":
            frame = frame.assign(geometry=["POINT (116.12 30.82)", "POINT (116.13 30.83)", ""])
        write_csv(tiny_data / "works" / f"{key}.csv", frame)
    study = load_study(tiny_data, Config())
    assert isinstance(study.transformers, gpd.GeoDataFrame)
    assert study.transformers.crs.to_epsg() == 32650
    assert study.transformers.geometry.isna().sum() == 1        # optional geometry
    assert not isinstance(study.hazards, gpd.GeoDataFrame)
    assert study.hazards["fixed"].tolist() == [True, False]


def test_geojson_without_crs_member_is_wgs84(tiny_data):
    import json

    frame = pd.read_csv(tiny_data / "sites" / "candidates.csv")
    features = [{"type": "Feature", "properties": {"candidate_id": r.candidate_id,
                                                   "kind": r.kind, "cost": r.cost},
                 "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]}}
                for r in frame.itertuples()]
    (tiny_data / "sites" / "candidates.csv").unlink()
    (tiny_data / "sites" / "candidates.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    study = load_study(tiny_data, Config())
    cands = study.candidates.set_index("candidate_id")
    assert cands.loc["C1", "lon"] == pytest.approx(116.13)
    assert cands.loc["C1", "lat"] == pytest.approx(30.84)
    assert cands.crs.to_epsg() == 32650


def test_gbk_csv_is_read_with_a_warning(tiny_data):
    path = tiny_data / "sites" / "sites.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    study = load_study(tiny_data, Config())
    assert study.sites.set_index("site_id").loc["S1", "备注"] == "共享铁塔"
    assert any("GBK" in w.message for w in study.warnings)


def test_operator_names_and_case_are_normalised(tiny_data):
    path = tiny_data / "sites" / "sites.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "operator"] = "中国移动"
    frame.loc[1, "operator"] = "联通"
    frame.loc[2, "operator"] = "ct"
    frame.loc[0, "band"] = "fdd900"
    write_csv(path, frame)
    sites = load_study(tiny_data, Config()).sites
    assert sites["operator"].tolist()[:3] == ["CMCC", "CU", "CT"]
    assert sites["band"].iloc[0] == "FDD900"


def test_valid_tiny_data_has_no_problems(tiny_data):
    assert validate_data_dir(tiny_data, Config()) == []


def test_demo_county_loads_if_present():
    data = REPO / "data"
    if not (data / "villages" / "villages.gpkg").is_file():
        pytest.skip("data/ (demo county) not generated yet")
    problems = validate_data_dir(data, Config())
    assert not [p for p in problems if p.is_error], [str(p) for p in problems[:10]]
    start = time.perf_counter()
    study = load_study(data, Config())
    elapsed = time.perf_counter() - start
    assert len(study.villages) > 0 and len(study.sites) > 0
    print(f"demo county loaded in {elapsed:.2f} s, grid {study.grid.shape}")
