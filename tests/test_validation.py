"""A corpus of broken inputs: each a small mutation of the tiny data folder.

Every case is checked through :func:`validate_data_dir` / :func:`load_study` (the specific
problem: file, row, column, value, message) and, for errors, through the CLI
(``coverage-planner run``: exit code 2, the message shown, nothing written).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
import shapely.affinity
from conftest import make_tiny_data, tiny_dem

from coverage.config import Config
from coverage.errors import InputDataError, Problem
from coverage.io.writers import write_csv, write_gpkg
from coverage.study import load_study, validate_data_dir

pytestmark = pytest.mark.filterwarnings(
    "ignore:Column names longer than 10:UserWarning",
    "ignore:Normalized/laundered field name:RuntimeWarning",
    "ignore:'crs' was not provided:UserWarning",
)

VILLAGES = "villages/villages.gpkg"
WORKS = "works/works.gpkg"
SITES = "sites/sites.csv"


# ----------------------------------------------------------------------------------------
# Mutation helpers


def edit_csv(data: Path, rel: str, fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    """Rewrite a CSV of the data folder through ``fn`` (values as text)."""
    frame = pd.read_csv(data / rel, dtype=str, keep_default_na=False)
    out = fn(frame)
    write_csv(data / rel, frame if out is None else out)


def edit_gpkg(data: Path, rel: str, layer: str,
              fn: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame | None] | None,
              drop: bool = False) -> None:
    """Rewrite one layer of a GeoPackage through ``fn`` (or drop it), keeping the others."""
    path = data / rel
    layers = {}
    for name in pyogrio.list_layers(path)[:, 0]:
        frame = pyogrio.read_dataframe(path, layer=name)
        if name == layer:
            if drop:
                continue
            out = fn(frame)
            frame = frame if out is None else out
        layers[name] = frame
    write_gpkg(path, layers)


def set_cell(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    """Set a cell by 1-based row; a text value turns the column into text."""
    if isinstance(value, str) and frame[column].dtype != object:
        frame[column] = frame[column].astype(object)
    frame.loc[row - 1, column] = value
    return frame


def set_geom(frame: gpd.GeoDataFrame, row: int, geom: shapely.Geometry | None
             ) -> gpd.GeoDataFrame:
    geoms = np.array(frame.geometry.array, dtype=object)
    geoms[row - 1] = geom
    frame[frame.geometry.name] = gpd.GeoSeries(geoms, crs=frame.crs)
    return frame


def write_dem(data: Path, dem: np.ndarray, transform, crs: str | None) -> None:
    path = data / "terrain" / "dem.tif"
    path.unlink()
    with rasterio.open(path, "w", driver="GTiff", width=dem.shape[1], height=dem.shape[0],
                       count=1, dtype="float32", crs=crs, transform=transform,
                       nodata=-9999.0) as ds:
        ds.write(dem, 1)


def sites_as_shapefile(data: Path, keep_prj: bool) -> None:
    frame = pd.read_csv(data / SITES, dtype=str, keep_default_na=False)
    gdf = gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]),
                           geometry=gpd.points_from_xy(frame["lon"].astype(float),
                                                       frame["lat"].astype(float)),
                           crs="EPSG:4326")
    gdf.to_file(data / "sites" / "sites.shp", driver="ESRI Shapefile", engine="pyogrio",
                encoding="UTF-8")
    (data / SITES).unlink()
    if not keep_prj:
        (data / "sites" / "sites.prj").unlink()


def candidates_projected(data: Path, columns: str) -> None:
    """Rewrite candidates.csv with UTM 50N coordinates (no .prj): as WKT or as x/y."""
    frame = pd.read_csv(data / "sites" / "candidates.csv", dtype=str, keep_default_na=False)
    pts = gpd.GeoSeries(gpd.points_from_xy(frame["lon"].astype(float),
                                           frame["lat"].astype(float)), crs=4326).to_crs(32650)
    frame = frame.drop(columns=["lon", "lat"])
    if columns == "wkt":
        frame["geometry"] = shapely.to_wkt(pts.array)
    else:
        frame["x"], frame["y"] = pts.x.round(2), pts.y.round(2)
    write_csv(data / "sites" / "candidates.csv", frame)


def future_date() -> str:
    return (dt.date.today() + dt.timedelta(days=400)).isoformat()


BOWTIE = shapely.Polygon([(116.15, 30.86), (116.185, 30.885), (116.185, 30.86),
                          (116.15, 30.885)])
OVERLAP = shapely.affinity.affine_transform(     # outline crosses itself over an area
    shapely.Polygon([(0, 0), (3, 0), (3, 3), (1, 3), (1, 1), (2, 1), (2, 2), (0, 2)]),
    [0.008, 0, 0, 0.008, 116.152, 30.812])


# ----------------------------------------------------------------------------------------
# The corpus


@dataclass(frozen=True)
class Case:
    """One broken input and the problem it must produce."""

    name: str
    mutate: Callable[[Path], None]
    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"


CASES: list[Case] = [
    Case("missing_column",
         lambda d: edit_gpkg(d, VILLAGES, "villages", lambda f: f.drop(columns="town")),
         f"{VILLAGES}:villages", "missing required column 'town'", column="town"),
    Case("misspelt_column_warning",
         lambda d: edit_gpkg(d, VILLAGES, "groups",
                             lambda f: f.rename(columns={"population": "populaton"})),
         f"{VILLAGES}:groups", "looks like a misspelling of the known column 'population'",
         column="populaton", severity="warning"),
    Case("misspelt_required_column",
         lambda d: edit_gpkg(d, VILLAGES, "groups",
                             lambda f: f.rename(columns={"village_id": "vilage_id"})),
         f"{VILLAGES}:groups", "missing required column 'village_id'", column="village_id"),
    Case("text_in_numeric_column",
         lambda d: edit_gpkg(d, VILLAGES, "groups", lambda f: set_cell(f, 2, "households",
                                                                       "many")),
         f"{VILLAGES}:groups", "not a whole number", row=2, column="households", value="many"),
    Case("fraction_in_integer_column",
         lambda d: edit_gpkg(d, VILLAGES, "groups", lambda f: set_cell(f, 3, "households",
                                                                       "12.5")),
         f"{VILLAGES}:groups", "not a whole number", row=3, column="households", value="12.5"),
    Case("duplicate_id",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 3, "site_id", "S1")),
         SITES, "duplicate site_id (first used on row 1)", row=3, column="site_id", value="S1"),
    Case("dangling_village_id",
         lambda d: edit_gpkg(d, VILLAGES, "groups", lambda f: set_cell(f, 5, "village_id",
                                                                       "V9")),
         f"{VILLAGES}:groups", "village_id not found in villages/villages.gpkg:villages",
         row=5, column="village_id", value="V9"),
    Case("dangling_group_of_household",
         lambda d: edit_gpkg(d, VILLAGES, "households", lambda f: set_cell(f, 1, "group_id",
                                                                           "G99")),
         f"{VILLAGES}:households", "group_id not found", row=1, column="group_id",
         value="G99"),
    Case("dangling_site_of_mobile_work",
         lambda d: edit_gpkg(d, WORKS, "mobile", lambda f: set_cell(f, 2, "site_id", "S9")),
         f"{WORKS}:mobile", "site_id not found in sites/sites.csv", row=2, column="site_id",
         value="S9"),
    Case("grid_work_names_unknown_transformer",
         lambda d: edit_gpkg(d, WORKS, "grid",
                             lambda f: f.assign(transformer_id=["TR9", None])),
         f"{WORKS}:grid", "names a transformer that is not in", row=1,
         column="transformer_id", value="TR9"),
    Case("grid_work_names_transformer_of_another_village",
         lambda d: edit_gpkg(d, WORKS, "grid",
                             lambda f: f.assign(transformer_id=["TR3", None])),
         f"{WORKS}:grid", "transformer stands in another village", row=1,
         column="transformer_id", value="TR3 (village V2)"),
    Case("dangling_village_of_hazard",
         lambda d: edit_gpkg(d, WORKS, "hazards", lambda f: set_cell(f, 1, "village_id",
                                                                     "X1")),
         f"{WORKS}:hazards", "village_id not found", row=1, column="village_id", value="X1"),
    Case("bowtie_repaired_warning",
         lambda d: edit_gpkg(d, VILLAGES, "groups", lambda f: set_geom(f, 5, BOWTIE)),
         f"{VILLAGES}:groups", "invalid polygon repaired", row=5, column="geometry",
         severity="warning"),
    Case("unrepairable_polygon",
         lambda d: edit_gpkg(d, VILLAGES, "groups", lambda f: set_geom(f, 3, OVERLAP)),
         f"{VILLAGES}:groups", "invalid polygon that cannot be repaired safely", row=3,
         column="geometry"),
    Case("empty_geometry",
         lambda d: edit_gpkg(d, VILLAGES, "points", lambda f: set_geom(f, 3, None)),
         f"{VILLAGES}:points", "empty or missing geometry", row=3, column="geometry"),
    Case("wrong_geometry_type",
         lambda d: edit_gpkg(d, VILLAGES, "points",
                             lambda f: set_geom(f, 1, shapely.box(116.12, 30.85, 116.13,
                                                                  30.86))),
         f"{VILLAGES}:points", "wrong geometry type (expected a point)", row=1,
         column="geometry", value="Polygon"),
    Case("group_outside_village",
         lambda d: edit_gpkg(d, VILLAGES, "groups",
                             lambda f: set_geom(f, 1, shapely.affinity.translate(
                                 f.geometry.iloc[0], xoff=0.02))),
         f"{VILLAGES}:groups", "group lies outside its village", row=1, column="geometry"),
    Case("point_outside_village",
         lambda d: edit_gpkg(d, VILLAGES, "points",
                             lambda f: set_geom(f, 2, shapely.Point(116.17, 30.82))),
         f"{VILLAGES}:points", "test point lies outside its village", row=2,
         column="geometry"),
    Case("site_off_dem",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 3, "lon", "116.30")),
         SITES, "site lies outside the DEM", row=3, column="geometry"),
    Case("site_over_nodata",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(set_cell(f, 5, "lon", "116.195"), 5,
                                                          "lat", "30.895")),
         SITES, "site lies over DEM nodata", row=5, column="geometry"),
    Case("unknown_operator",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 2, "operator", "CM")),
         SITES, "unknown operator", row=2, column="operator", value="CM"),
    Case("unknown_band",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 3, "band", "FDD2100")),
         SITES, "unknown band for operator CT", row=3, column="band", value="FDD2100"),
    Case("height_500m",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 1, "height_m", "500")),
         SITES, "out of range: height_m must be between 1 and 150", row=1, column="height_m",
         value="500"),
    Case("power_out_of_range",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 2, "power_dbm", "75")),
         SITES, "out of range: power_dbm must be between 0 and 60", row=2, column="power_dbm",
         value="75"),
    Case("negative_households",
         lambda d: edit_gpkg(d, VILLAGES, "groups", lambda f: set_cell(f, 1, "households", -5)),
         f"{VILLAGES}:groups", "out of range: households must be between 0 and 5000", row=1,
         column="households", value="-5"),
    Case("future_on_air_date",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 1, "on_air_date", future_date())),
         SITES, "impossible date: after today", row=1, column="on_air_date"),
    Case("due_before_1990",
         lambda d: edit_gpkg(d, WORKS, "grid", lambda f: set_cell(f, 1, "due", "1985-01-01")),
         f"{WORKS}:grid", "impossible date: before 1990-01-01", row=1, column="due",
         value="1985-01-01"),
    Case("bad_date_format",
         lambda d: edit_gpkg(d, WORKS, "grid", lambda f: set_cell(f, 2, "due", "30/06/2020")),
         f"{WORKS}:grid", "not a valid date", row=2, column="due", value="30/06/2020"),
    Case("bad_azimuth_list",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 1, "azimuths_deg", "0;abc;240")),
         SITES, "not a list of azimuths", row=1, column="azimuths_deg", value="0;abc;240"),
    Case("azimuth_over_360",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 2, "azimuths_deg", "60;400")),
         SITES, "not a list of azimuths", row=2, column="azimuths_deg", value="60;400"),
    Case("bad_boolean",
         lambda d: edit_gpkg(d, WORKS, "hazards", lambda f: set_cell(f, 2, "fixed", "maybe")),
         f"{WORKS}:hazards", "not a yes/no value", row=2, column="fixed", value="maybe"),
    Case("unknown_point_kind",
         lambda d: edit_gpkg(d, VILLAGES, "points", lambda f: set_cell(f, 4, "kind", "temple")),
         f"{VILLAGES}:points", "unknown kind", row=4, column="kind", value="temple"),
    Case("empty_required_value",
         lambda d: edit_gpkg(d, VILLAGES, "villages", lambda f: set_cell(f, 2, "name", "")),
         f"{VILLAGES}:villages", "empty value in required column", row=2, column="name"),
    Case("missing_crs_gpkg",
         lambda d: edit_gpkg(d, VILLAGES, "villages",
                             lambda f: f.set_crs(None, allow_override=True)),
         f"{VILLAGES}:villages", "the layer has no coordinate reference system"),
    Case("missing_crs_shapefile",
         lambda d: sites_as_shapefile(d, keep_prj=False),
         "sites/sites.shp", "the layer has no coordinate reference system"),
    Case("projected_coordinates_labelled_wgs84",
         lambda d: edit_gpkg(d, VILLAGES, "points",
                             lambda f: f.to_crs(32650).set_crs(4326, allow_override=True)),
         f"{VILLAGES}:points", "is in degrees but its coordinates"),
    Case("swapped_lon_lat",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(set_cell(f, 4, "lon", "30.82"), 4,
                                                          "lat", "116.12")),
         SITES, "lon and lat look swapped", row=4, column="lat", value="116.12"),
    Case("lat_out_of_range",
         lambda d: edit_csv(d, SITES, lambda f: set_cell(f, 2, "lat", "95.5")),
         SITES, "out of range: lat must be within -90..90 degrees", row=2, column="lat",
         value="95.5"),
    Case("lon_not_a_number",
         lambda d: edit_csv(d, "sites/candidates.csv", lambda f: set_cell(f, 1, "lon",
                                                                          "116.3.5")),
         "sites/candidates.csv", "not a number", row=1, column="lon", value="116.3.5"),
    Case("wkt_not_in_degrees",
         lambda d: candidates_projected(d, "wkt"),
         "sites/candidates.csv", "WKT coordinates are not longitude/latitude degrees"),
    Case("xy_projected_without_prj",
         lambda d: candidates_projected(d, "xy"),
         "sites/candidates.csv", "are not lon/lat degrees and the CSV has no .prj file"),
    Case("empty_optional_layer_warning",
         lambda d: (d / "sites" / "candidates.csv").write_text("candidate_id,lon,lat\n"),
         "sites/candidates.csv", "has a header but no data rows; it is treated as absent",
         severity="warning"),
    Case("empty_gpkg_layer",
         lambda d: edit_gpkg(d, VILLAGES, "groups", lambda f: f.iloc[:0]),
         f"{VILLAGES}:groups", "the layer has no features"),
    Case("empty_file",
         lambda d: (d / SITES).write_bytes(b""),
         SITES, "the file is empty"),
    Case("header_only_csv",
         lambda d: (d / SITES).write_text((d / SITES).read_text().splitlines()[0] + "\n"),
         SITES, "has a header but no data rows"),
    Case("binary_csv",
         lambda d: (d / SITES).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
         SITES, "not a text CSV file"),
    Case("gpkg_is_text",
         lambda d: (d / WORKS).write_text("work_id,village_id\nW1,V1\n"),
         WORKS, "not a valid GeoPackage file"),
    Case("tif_is_text",
         lambda d: (d / "terrain" / "dem.tif").write_text("this is not a raster\n"),
         "terrain/dem.tif", "not a valid GeoTIFF"),
    Case("missing_required_file",
         lambda d: (d / SITES).unlink(),
         SITES, "required file missing"),
    Case("missing_dem",
         lambda d: (d / "terrain" / "dem.tif").unlink(),
         "terrain/dem.tif", "required file missing: no DEM"),
    Case("missing_gpkg_layer",
         lambda d: edit_gpkg(d, VILLAGES, "points", None, drop=True),
         VILLAGES, "GeoPackage has no layer 'points'"),
    Case("dem_without_crs",
         lambda d: write_dem(d, *tiny_dem(), crs=None),
         "terrain/dem.tif", "the DEM has no coordinate reference system"),
    Case("dem_not_covering_villages",
         lambda d: write_dem(d, tiny_dem()[0][:, :100].copy(), tiny_dem()[1], "EPSG:4326"),
         f"{VILLAGES}:villages", "does not cover this village", row=2, column="geometry"),
]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _matches(p: Problem, case: Case) -> bool:
    return (p.file == case.file and case.message in p.message and p.severity == case.severity
            and (case.row is None or p.row == case.row)
            and (case.column is None or p.column == case.column)
            and (case.value is None or p.value == case.value))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_tiny_data(tmp_path_factory.mktemp("template") / "data")


def _broken(template: Path, tmp_path: Path, case: Case) -> Path:
    data = tmp_path / "data"
    shutil.copytree(template, data)
    case.mutate(data)
    return data


def test_corpus_is_large_and_distinct():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_is_reported(template, tmp_path, case):
    data = _broken(template, tmp_path, case)
    problems = validate_data_dir(data, Config())
    assert any(_matches(p, case) for p in problems), "\n".join(map(str, problems))
    if case.severity == "error":
        with pytest.raises(InputDataError) as info:
            load_study(data, Config())
        assert any(_matches(p, case) for p in info.value.problems)
        assert case.message in str(info.value)
    else:
        study = load_study(data, Config())
        assert any(_matches(p, case) for p in study.warnings)


def _cli_app():
    try:
        from coverage.cli import app
    except ImportError:
        return None
    import click

    return app if isinstance(app, click.Group) else None


ERROR_CASES = [c for c in CASES if c.severity == "error"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.name for c in ERROR_CASES])
def test_case_through_cli(template, tmp_path, case):
    app = _cli_app()
    if app is None:
        pytest.skip("coverage.cli has no click app yet")
    from click.testing import CliRunner

    data = _broken(template, tmp_path, case)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--data", str(data), "--out", str(out)])
    shown = _norm(result.output)
    assert result.exit_code == 2, shown
    assert case.file in shown and case.message in shown, shown
    assert "Traceback" not in shown
    assert not out.exists() or not any(out.iterdir())


def test_every_problem_at_once(template, tmp_path):
    """Several broken files: all problems come back from one call."""
    picked = [c for c in CASES if c.name in ("height_500m", "dangling_village_id",
                                             "bad_boolean", "unknown_point_kind",
                                             "due_before_1990")]
    data = tmp_path / "data"
    shutil.copytree(template, data)
    for case in picked:
        case.mutate(data)
    problems = validate_data_dir(data, Config())
    for case in picked:
        assert any(_matches(p, case) for p in problems), case.name
    with pytest.raises(InputDataError) as info:
        load_study(data, Config())
    assert len([p for p in info.value.problems if p.is_error]) >= len(picked)


def test_validate_command_exit_code(template, tmp_path):
    app = _cli_app()
    if app is None:
        pytest.skip("coverage.cli has no click app yet")
    from click.testing import CliRunner

    data = _broken(template, tmp_path, CASES[0])
    result = CliRunner().invoke(app, ["validate", str(data)])
    assert result.exit_code == 2
    assert "missing required column 'town'" in _norm(result.output)
    ok = tmp_path / "ok"
    shutil.copytree(template, ok)
    assert CliRunner().invoke(app, ["validate", str(ok)]).exit_code == 0


def test_many_bad_rows_are_summarised(template, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(template, data)
    sites = pd.read_csv(data / SITES, dtype=str, keep_default_na=False)
    many = pd.concat([sites] * 6, ignore_index=True)
    many["site_id"] = [f"S{i}" for i in range(len(many))]
    many["height_m"] = "999"
    write_csv(data / SITES, many)
    problems = [p for p in validate_data_dir(data, Config()) if p.column == "height_m"]
    assert len([p for p in problems if p.row is not None]) == 20
    assert any("10 more row(s)" in p.message for p in problems)
