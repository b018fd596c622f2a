"""The demo county: deterministic files, realistic figures, every row within the schema."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from content import assert_files_equal

from coverage import demo, schema
from coverage.config import Config

ROOT = Path(__file__).resolve().parents[1]


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Geometries in the generator's local plane (m): an affine map of lon/lat, so that
    straight edges stay straight and shared edges stay shared."""
    geoms = shapely.transform(frame.geometry.to_numpy(), lambda c: np.column_stack(
        demo.GRID.lonlat_to_xy(c[:, 0], c[:, 1])))
    return gpd.GeoSeries(geoms, index=frame.index)


@pytest.fixture(scope="module")
def county() -> demo.DemoCounty:
    return demo.build_demo_county()


@pytest.fixture(scope="module")
def written(county, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("demo")
    return out, demo.write_demo_county(county, out)


@pytest.fixture(scope="module")
def layers(written) -> dict[str, pd.DataFrame]:
    out, _ = written
    got = {}
    for name in ("villages", "groups", "points", "households", "towns", "county"):
        got[name] = gpd.read_file(out / "villages" / "villages.gpkg", layer=name)
    for name in ("grid", "mobile", "transformers", "hazards"):
        got[name] = gpd.read_file(out / "works" / "works.gpkg", layer=name)
    got["sites"] = pd.read_csv(out / "sites" / "sites.csv")
    got["candidates"] = pd.read_csv(out / "sites" / "candidates.csv")
    return got


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- determinism


def test_regenerating_gives_identical_files(written, tmp_path):
    out, hashes = written
    assert sorted(hashes) == ["README.md", "sites/candidates.csv", "sites/claims.csv",
                              "sites/sites.csv", "terrain/dem.tif", "villages/villages.gpkg",
                              "works/works.gpkg"]
    for rel, digest in hashes.items():
        assert _sha(out / rel) == digest
    again = demo.write_demo_county(demo.build_demo_county(demo.DEFAULT_SEED), tmp_path)
    assert again == hashes


DEM_TOLERANCE_M = 1.0
"""The committed DEM against a fresh generation: one unit of its int16 metres (a float
rounding to the other side after a library update)."""


def test_committed_data_equals_a_fresh_generation(written):
    """The committed demo county holds the content a fresh generation writes.

    Compared by content, not bytes: data/ was written on the author's machine with its
    library versions (see tests/content.py for what "equal" means per kind of file)."""
    data = ROOT / "data"
    if not (data / "terrain" / "dem.tif").is_file():
        pytest.skip("data/ has not been generated")
    out, hashes = written
    stale = []
    for rel in sorted(hashes):
        if not (data / rel).is_file():
            stale.append(f"{rel}: missing")
            continue
        try:
            assert_files_equal(out / rel, data / rel, raster_atol=DEM_TOLERANCE_M)
        except AssertionError as error:
            stale.append(f"{rel}: {error}")
    assert not stale, f"regenerate data/ (coverage-planner demo-data --out data/): {stale}"


def test_another_seed_gives_another_county():
    # Only the cheap part: the seed reaches the terrain.
    from coverage.demo.terrain_synth import synth_terrain

    a = synth_terrain(np.random.default_rng(np.random.SeedSequence(1).spawn(1)[0]))
    b = synth_terrain(np.random.default_rng(np.random.SeedSequence(2).spawn(1)[0]))
    assert not np.array_equal(a.elevation_m, b.elevation_m)


# ----------------------------------------------------------------------------- terrain


def test_dem_is_a_mountain_county(written, layers):
    out, _ = written
    path = out / "terrain" / "dem.tif"
    assert path.stat().st_size <= 12_000_000
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.dtypes[0] == "int16" and ds.nodata == -32768
        assert ds.compression.name.lower() == "deflate"
        assert ds.res == pytest.approx((1 / 3600, 1 / 3600))
        z = ds.read(1)
        bounds = ds.bounds
    lat = np.radians((bounds.bottom + bounds.top) / 2)
    width_km = (bounds.right - bounds.left) * 111.32 * np.cos(lat)
    height_km = (bounds.top - bounds.bottom) * 110.9
    assert width_km >= 45 and height_km >= 45
    assert bounds.left >= 116.0 and bounds.right <= 116.56
    assert bounds.bottom >= 30.6 and bounds.top <= 31.06
    void = z == -32768
    assert 0 < void.sum() < 0.01 * z.size
    valid = z[~void]
    assert 140 <= valid.min() <= 200 and 1650 <= valid.max() <= 1760
    # Steep: a good share of 30 m cells steeper than 25 degrees.
    zf = np.where(void, np.nan, z).astype(float)
    gy, gx = np.gradient(zf, 30.9, 26.5)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    assert np.nanpercentile(slope, 90) > 25
    # The void lies outside the county.
    rows, cols = np.nonzero(void)
    lon = bounds.left + (cols + 0.5) / 3600
    lat_ = bounds.top - (rows + 0.5) / 3600
    county = layers["county"].geometry.iloc[0]
    assert not shapely.intersects(county, shapely.points(lon, lat_)).any()
    # The county sits well inside the DEM.
    minx, miny, maxx, maxy = county.bounds
    assert minx - bounds.left > 0.01 and bounds.right - maxx > 0.01
    assert miny - bounds.bottom > 0.01 and bounds.top - maxy > 0.01


# ----------------------------------------------------------------------------- villages


def test_villages_tile_the_county(layers):
    villages = _metric(layers["villages"])
    county = _metric(layers["county"]).iloc[0]
    assert villages.is_valid.all()
    assert len(villages) >= 150 and layers["villages"]["town"].nunique() >= 8
    union = shapely.union_all(villages.to_numpy())
    assert union.area == pytest.approx(county.area, rel=0.005)
    overlap_m2 = villages.area.sum() - union.area
    assert overlap_m2 < 1e4  # 0.01 km² in total over some 2,000 km²
    assert 1500 < county.area / 1e6 < 2600


def test_groups_tile_their_village(layers):
    groups = layers["groups"]
    villages = layers["villages"].set_index("village_id")
    g_m, v_m = _metric(groups), _metric(villages)
    assert len(groups) >= 1500
    assert g_m.is_valid.all()
    assert groups["households"].between(10, 150).all()
    own = v_m.loc[groups["village_id"]].to_numpy()
    outside = shapely.area(shapely.difference(g_m.to_numpy(), own))
    assert outside.max() < 1.0  # m²
    area_sum = g_m.area.groupby(groups["village_id"].to_numpy()).sum()
    assert np.allclose(area_sum.loc[villages.index], v_m.area, rtol=1e-6)
    hh = groups.groupby("village_id")["households"].sum()
    assert (hh.loc[villages.index] == villages["households"]).all()
    per_village = groups.groupby("village_id").size()
    assert per_village.min() >= 5


def test_points_lie_in_their_village_and_group(layers):
    pts = layers["points"]
    villages = layers["villages"].set_index("village_id")
    groups = layers["groups"].set_index("group_id")
    kinds = pts.groupby("village_id")["kind"].value_counts().unstack(fill_value=0)
    n = len(villages)
    assert (kinds["committee"] == 1).all() and len(kinds) == n
    assert 0.35 * n <= (kinds["school"] > 0).sum() <= 0.65 * n
    assert (kinds["clinic"] > 0).sum() >= 0.7 * n
    big = layers["groups"][layers["groups"]["households"] >= 20]["group_id"]
    settled = set(pts.loc[pts["kind"] == "settlement", "group_id"])
    assert set(big) == settled
    geom = pts.geometry.to_numpy()
    assert shapely.contains(villages.geometry.loc[pts["village_id"]].to_numpy(), geom).all()
    assert shapely.contains(groups.geometry.loc[pts["group_id"]].to_numpy(), geom).all()
    assert (groups.loc[pts["group_id"], "village_id"].to_numpy() == pts["village_id"]).all()


def test_household_clusters_sum_to_their_group(layers):
    hh = layers["households"]
    groups = layers["groups"].set_index("group_id")
    per = hh.groupby("group_id")["households"].agg(["sum", "size"])
    assert set(per.index) == set(groups.index)
    assert (per["sum"] == groups.loc[per.index, "households"]).all()
    assert per["size"].between(1, 4).all()
    own = groups.geometry.loc[hh["group_id"]].to_numpy()
    assert shapely.contains(own, hh.geometry.to_numpy()).all()


def test_settlements_sit_low(county):
    # Households live in valleys and on lower slopes: their cells are lower than the county's
    # median cell.
    from coverage.demo import GRID

    hh = county.households
    col = np.floor((hh.geometry.x - GRID.west) * 3600).astype(int)
    row = np.floor((GRID.north - hh.geometry.y) * 3600).astype(int)
    z_hh = county.dem[row, col]
    valid = county.dem[county.dem != county.nodata]
    assert np.median(z_hh) < np.median(valid)


def test_chinese_names_survive(county, layers):
    assert list(layers["villages"]["name"]) == list(county.villages["name"])
    assert layers["villages"]["name"].str.endswith("村").all()
    assert layers["villages"]["town"].str.contains("[镇乡]$").all()
    assert layers["county"]["name"].iloc[0] == "示范县"
    assert layers["mobile"]["category"].isin(["新建基站", "共享改造", "光缆接入", "扩容"]).all()


# ----------------------------------------------------------------------------- sites


def test_sites_look_like_a_rural_network(layers):
    sites = layers["sites"]
    cfg = Config()
    assert all(b in cfg.operators[op].bands for op, b in zip(sites["operator"], sites["band"],
                                                              strict=True))
    assert 220 <= len(sites) <= 300
    towers = sites.groupby("tower_id")
    assert 120 <= towers.ngroups <= 170
    assert (towers["lon"].nunique() == 1).all() and (towers["lat"].nunique() == 1).all()
    tenants = towers["operator"].nunique()
    assert (tenants == 2).sum() >= 10 and (tenants == 3).sum() >= 8
    assert sites["height_m"].between(30, 45).all()
    assert set(sites["operator"]) == {"CMCC", "CT", "CU"}
    status = sites["status"].value_counts()
    assert status["on_air"] >= 0.9 * len(sites) and status.get("building", 0) > 0
    assert status.get("planned", 0) > 0
    assert (sites["backhaul"] == "fiber").mean() > 0.7
    assert (sites["backhaul"] == "microwave").sum() > 10
    omni = sites["azimuths_deg"].isna()
    assert 0 < omni.sum() < 0.5 * len(sites)
    # Capacity bands mostly in towns: within 3 km of a town seat's village committee.
    pts = layers["points"]
    seats = pts[(pts["kind"] == "committee")
                & pts["village_id"].isin(layers["towns"]["seat_village_id"])]
    sx, sy = demo.GRID.lonlat_to_xy(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    tx, ty = demo.GRID.lonlat_to_xy(seats.geometry.x.to_numpy(), seats.geometry.y.to_numpy())
    near_seat = np.hypot(sx[:, None] - tx[None, :], sy[:, None] - ty[None, :]).min(axis=1) < 3000
    capacity = sites["band"].isin(["TDD1900", "TDD2600", "FDD1800"]).to_numpy()
    assert near_seat[capacity].mean() > 0.7
    assert near_seat[capacity].mean() > near_seat[~capacity].mean() + 0.2
    dates = pd.to_datetime(sites["on_air_date"])
    assert dates.min().year >= 2008 and dates.max() <= pd.Timestamp("2020-10-31")
    assert dates.isna().equals(sites["status"] != "on_air")


def test_candidates_near_the_gaps(county, layers):
    cand = layers["candidates"]
    assert 60 <= len(cand) <= 120
    assert set(cand["kind"]) == {"new", "existing_tower"}
    assert (cand["kind"] == "existing_tower").sum() >= 8
    assert cand["cost"].gt(0).all()
    assert cand.loc[cand["kind"] == "new", "cost"].min() > cand.loc[
        cand["kind"] == "existing_tower", "cost"].max()
    county_poly = layers["county"].geometry.iloc[0]
    assert shapely.contains(county_poly, shapely.points(cand["lon"], cand["lat"])).all()


# ----------------------------------------------------------------------------- works


def test_works_tables(layers):
    grid, mobile = layers["grid"], layers["mobile"]
    tr, hz = layers["transformers"], layers["hazards"]
    assert len(grid) == 40 and len(mobile) == 68
    assert len(hz) == 17 and hz["fixed"].sum() == 14
    assert set(grid["status"]) == {"done", "in_progress", "planned"}
    assert set(mobile["status"]) == {"done", "in_progress", "planned"}
    assert (grid.loc[grid["status"] == "done", "done"].notna()).all()
    assert (mobile.loc[mobile["status"] != "done", "done"].isna()).all()
    sites = layers["sites"].set_index("site_id")
    linked = mobile["site_id"].dropna()
    assert len(linked) > 30 and linked.isin(sites.index).all()
    per_village = tr.groupby("village_id").size()
    assert per_village.min() >= 2 and len(per_village) == len(layers["villages"])
    weak = tr["kva"] < 2.0 * tr["households"]
    assert 5 <= weak.sum() <= 0.1 * len(tr)
    # Every village with a weak transformer has a grid work.
    assert set(tr.loc[weak, "village_id"]) <= set(grid["village_id"])
    hh = tr.groupby("village_id")["households"].sum()
    villages = layers["villages"].set_index("village_id")
    assert (hh.loc[villages.index] == villages["households"]).all()
    for name in ("grid", "mobile", "transformers", "hazards"):
        frame = layers[name]
        assert frame.crs.to_epsg() == 4326
        own = villages.geometry.loc[frame["village_id"]].to_numpy()
        assert shapely.covers(own, frame.geometry.to_numpy()).all(), name


# ----------------------------------------------------------------------------- schema


def _problems(frame: pd.DataFrame, layer: schema.Layer) -> list[str]:
    out = []
    for col in layer.columns:
        if col.name not in frame.columns:
            if col.required:
                out.append(f"{col.name}: missing")
            continue
        s = frame[col.name]
        empty = s.isna() | (s.astype(str).str.strip() == "")
        if col.required and empty.any():
            out.append(f"{col.name}: {int(empty.sum())} empty")
        vals = s[~empty]
        if col.kind in ("int", "float"):
            num = pd.to_numeric(vals, errors="coerce")
            if num.isna().any():
                out.append(f"{col.name}: not numeric")
            if col.kind == "int" and (num != np.round(num)).any():
                out.append(f"{col.name}: not whole")
            if col.min is not None and (num < col.min).any():
                out.append(f"{col.name}: below {col.min}")
            if col.max is not None and (num > col.max).any():
                out.append(f"{col.name}: above {col.max}")
        elif col.kind == "bool":
            if not vals.isin([True, False]).all():
                out.append(f"{col.name}: not bool")
        elif col.kind == "date":
            if pd.to_datetime(vals, format="%Y-%m-%d", errors="coerce").isna().any():
                out.append(f"{col.name}: not an ISO date")
        elif col.kind == "azimuths":
            for text in vals.astype(str):
                az = [float(a) for a in text.split(";")]
                if not all(0 <= a < 360 for a in az):
                    out.append(f"{col.name}: bad azimuths {text}")
        if col.choices and not vals.isin(col.choices).all():
            out.append(f"{col.name}: outside {col.choices}")
    if layer.id_column:
        ids = frame[layer.id_column]
        if ids.duplicated().any():
            out.append(f"{layer.id_column}: duplicates")
    if "geometry" in frame.columns:
        kinds = set(frame.geometry.geom_type)
        want = {"Point"} if layer.geometry == "Point" else {"Polygon", "MultiPolygon"}
        if layer.geometry and not kinds <= want:
            out.append(f"geometry: {kinds}")
    return out


@pytest.mark.parametrize("key,name", [
    ("villages", "villages"), ("groups", "groups"), ("points", "points"),
    ("households", "households"), ("sites", "sites"), ("candidates", "candidates"),
    ("grid", "grid"), ("mobile", "mobile"), ("transformers", "transformers"),
    ("hazards", "hazards"),
])
def test_every_row_satisfies_the_schema(layers, key, name):
    assert _problems(layers[name], schema.LAYERS_BY_KEY[key]) == []


def test_gpkg_layers_and_metadata(written):
    out, _ = written
    names = [n for n, _ in pyogrio.list_layers(out / "villages" / "villages.gpkg")]
    assert names[:4] == ["villages", "groups", "points", "households"]
    meta = gpd.read_file(out / "works" / "works.gpkg", layer="metadata")
    assert dict(zip(meta["key"], meta["value"], strict=True))["seed"] == str(demo.DEFAULT_SEED)


# ----------------------------------------------------------------------------- coverage


def test_tens_of_villages_lack_signal(county):
    scr = demo.screen_coverage(county)
    assert scr == county.screening  # recomputed from the layers
    print(f"\nscreening (knife-edge): groups {scr.groups_uncovered}, villages "
          f"{scr.villages_uncovered}; LOS rule: {scr.simple_groups_uncovered} groups, "
          f"{scr.simple_villages_uncovered} villages")
    assert 50 <= scr.villages_uncovered["any"] <= 90
    assert 200 <= scr.groups_uncovered["any"] <= 400
    for op in ("CMCC", "CT", "CU"):
        assert scr.groups_uncovered[op] > scr.groups_uncovered["any"]
        assert scr.villages_uncovered[op] >= scr.villages_uncovered["any"]
    assert scr.simple_villages_uncovered >= scr.villages_uncovered["any"]


def test_figures_and_readme(county, written):
    out, _ = written
    fig = demo.county_figures(county)
    assert fig["villages"] >= 150 and fig["groups"] >= 1500 and fig["towns"] >= 8
    text = (out / "README.md").read_text(encoding="utf-8")
    assert str(fig["villages"]) in text and "synthetic" in text
    assert f"{fig['county_area_km2']} km²" in text
