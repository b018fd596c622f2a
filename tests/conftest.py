"""Shared fixtures: a tiny but complete, valid data folder (``tiny_data``).

:func:`make_tiny_data` writes it with :mod:`coverage.io.writers`, so tests in other files
can build it anywhere (``from conftest import make_tiny_data``) or use the fixture.

The tiny county (EPSG:4326 inputs, around 116.15 E 30.85 N, UTM zone 50N):

* DEM ``terrain/dem.tif``: 200 × 200 cells of 0.0005° (≈ 48 m × 56 m) from 116.10 E to
  116.20 E and 30.80 N to 30.90 N; two hills and a valley, 300–1100 m; a 20 × 20-cell
  nodata block (value -9999) in the north-east corner (116.19–116.20 E, 30.89–30.90 N).
* ``villages/villages.gpkg``: 2 villages (V1 岳西县石关村, V2 岳西县响肠村), 5 groups
  (第1组 … 第5组), 5 test points, 10 household points.
* ``sites/sites.csv``: 5 sites of 3 operators; S1 (CMCC) and S2 (CU) share tower T1;
  an extra column ``备注`` is carried through. ``sites/candidates.csv``: 2 candidates.
* ``works/works.gpkg``: 2 grid works, 2 mobile works, 3 transformers, 2 hazards.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from coverage.io.writers import write_csv, write_geotiff, write_gpkg

DEM_WEST, DEM_NORTH, DEM_CELL_DEG, DEM_SIZE = 116.10, 30.90, 0.0005, 200
DEM_NODATA = -9999.0
NODATA_BLOCK = (slice(0, 20), slice(180, 200))
"""Rows/cols of the DEM's nodata block (north-east corner)."""


def tiny_dem() -> tuple[np.ndarray, Affine]:
    """The tiny DEM (float32 metres, nodata -9999) and its EPSG:4326 transform."""
    lon = DEM_WEST + (np.arange(DEM_SIZE) + 0.5) * DEM_CELL_DEG
    lat = DEM_NORTH - (np.arange(DEM_SIZE) + 0.5) * DEM_CELL_DEG
    lo, la = np.meshgrid(lon, lat)
    hill1 = 700.0 * np.exp(-(((lo - 116.13) / 0.02) ** 2 + ((la - 30.86) / 0.02) ** 2))
    hill2 = 500.0 * np.exp(-(((lo - 116.175) / 0.015) ** 2 + ((la - 30.83) / 0.025) ** 2))
    valley = -80.0 * np.exp(-(((lo - 116.155) / 0.005) ** 2))
    dem = (400.0 + hill1 + hill2 + valley + 40.0 * (la - 30.80) / 0.1).astype(np.float32)
    dem[NODATA_BLOCK] = DEM_NODATA
    transform = Affine(DEM_CELL_DEG, 0.0, DEM_WEST, 0.0, -DEM_CELL_DEG, DEM_NORTH)
    return dem, transform


def _box(w: float, s: float, e: float, n: float) -> shapely.Polygon:
    # an extra vertex on the south edge, so polygons are not plain boxes
    return shapely.Polygon([(w, s), ((w + e) / 2, s), (e, s), (e, n), (w, n)])


def tiny_layers() -> dict[str, pd.DataFrame]:
    """The tiny county's vector layers and tables (WGS84), keyed by schema layer key."""
    villages = gpd.GeoDataFrame(
        {
            "village_id": ["V1", "V2"], "name": ["岳西县石关村", "岳西县响肠村"],
            "town": ["石关乡", "响肠镇"], "poor": [True, False], "households": [230, 270],
            "fiber": [True, False], "leader": ["王建国", "李华"],
        },
        geometry=[_box(116.11, 30.81, 116.15, 30.89), _box(116.15, 30.81, 116.185, 30.885)],
        crs="EPSG:4326",
    )
    groups = gpd.GeoDataFrame(
        {
            "group_id": ["G01", "G02", "G03", "G04", "G05"],
            "village_id": ["V1", "V1", "V2", "V2", "V2"],
            "name": ["第1组", "第2组", "第3组", "第4组", "第5组"],
            "households": [110, 120, 90, 100, 80],
            "population": [390, 410, 300, 350, 260],
        },
        geometry=[
            _box(116.11, 30.81, 116.15, 30.85), _box(116.11, 30.85, 116.15, 30.89),
            _box(116.15, 30.81, 116.185, 30.835), _box(116.15, 30.835, 116.185, 30.86),
            _box(116.15, 30.86, 116.185, 30.885),
        ],
        crs="EPSG:4326",
    )
    points = gpd.GeoDataFrame(
        {
            "point_id": ["P01", "P02", "P03", "P04", "P05"],
            "village_id": ["V1", "V1", "V2", "V2", "V2"],
            "kind": ["committee", "school", "committee", "clinic", "settlement"],
            "group_id": ["G02", "G01", "G04", "G05", "G03"],
            "name": ["石关村委会", "石关小学", "响肠村委会", "响肠卫生室", "河湾自然村"],
        },
        geometry=shapely.points([(116.13, 30.86), (116.125, 30.83), (116.165, 30.845),
                                 (116.17, 30.87), (116.16, 30.82)]),
        crs="EPSG:4326",
    )
    hh_xy = [(116.12, 30.82), (116.14, 30.84), (116.12, 30.86), (116.14, 30.88),
             (116.16, 30.82), (116.175, 30.83), (116.16, 30.84), (116.175, 30.855),
             (116.16, 30.87), (116.175, 30.88)]
    households = gpd.GeoDataFrame(
        {
            "group_id": ["G01", "G01", "G02", "G02", "G03", "G03", "G04", "G04", "G05",
                         "G05"],
            "households": [60, 50, 70, 50, 40, 50, 55, 45, 30, 50],
        },
        geometry=shapely.points(hh_xy), crs="EPSG:4326",
    )
    sites = pd.DataFrame(
        {
            "site_id": ["S1", "S2", "S3", "S4", "S5"],
            "operator": ["CMCC", "CU", "CT", "CMCC", "CU"],
            "lon": [116.14, 116.14, 116.17, 116.12, 116.18],
            "lat": [30.875, 30.875, 30.83, 30.82, 30.88],
            "height_m": [35.0, 30.0, 40.0, 30.0, 25.0],
            "band": ["FDD900", "FDD1800", "FDD800", "TDD1900", "FDD900"],
            "tower_id": ["T1", "T1", "", "", ""],
            "azimuths_deg": ["0;120;240", "60;180;300", "", "90;270", "45"],
            "tilt_deg": [4.0, 3.0, np.nan, 6.0, np.nan],
            "power_dbm": [43.0, 40.0, 46.0, np.nan, np.nan],
            "gain_dbi": [17.0, np.nan, 11.0, np.nan, 15.5],
            "status": ["on_air", "on_air", "on_air", "planned", "building"],
            "on_air_date": ["2018-06-01", "2019-03-15", "2017-11-20", "", ""],
            "backhaul": ["fiber", "fiber", "microwave", "none", "microwave"],
            "备注": ["共享铁塔", "共享铁塔", "", "规划站", "在建"],
        }
    )
    candidates = pd.DataFrame(
        {
            "candidate_id": ["C1", "C2"], "lon": [116.13, 116.175], "lat": [30.84, 30.86],
            "height_m": [40.0, np.nan], "kind": ["new", "existing_tower"],
            "cost": [60.0, 25.0],
        }
    )
    grid = pd.DataFrame(
        {
            "work_id": ["WG1", "WG2"], "village_id": ["V1", "V2"],
            "category": ["台区改造", "线路新建"], "owner": ["县供电公司", "县供电公司"],
            "status": ["in_progress", "done"], "investment_wan": [120.5, 48.0],
            "due": ["2020-09-30", "2020-06-30"], "done": ["", "2020-05-01"],
            "kva_after": [400.0, np.nan],
        }
    )
    mobile = pd.DataFrame(
        {
            "work_id": ["WM1", "WM2"], "village_id": ["V1", "V2"], "operator": ["CMCC", "CU"],
            "category": ["新建基站", "共享改造"], "status": ["planned", "in_progress"],
            "investment_wan": [60.0, 25.0], "site_id": ["S4", "S5"],
            "due": ["2020-10-15", "2020-09-01"], "done": ["", ""],
        }
    )
    transformers = pd.DataFrame(
        {
            "transformer_id": ["TR1", "TR2", "TR3"], "village_id": ["V1", "V1", "V2"],
            "kva": [400.0, 200.0, 315.0], "households": [150, 80, 120],
        }
    )
    hazards = pd.DataFrame(
        {
            "hazard_id": ["H1", "H2"], "village_id": ["V1", "V2"],
            "found": ["2020-03-02", "2020-04-10"], "fixed": [True, False],
            "category": ["树线矛盾", "杆塔倾斜"],
        }
    )
    return {
        "villages": villages, "groups": groups, "points": points, "households": households,
        "sites": sites, "candidates": candidates, "grid": grid, "mobile": mobile,
        "transformers": transformers, "hazards": hazards,
    }


def make_tiny_data(path: str | Path) -> Path:
    """Write the tiny, valid data folder into ``path`` (created) and return it."""
    path = Path(path)
    layers = tiny_layers()
    dem, transform = tiny_dem()
    write_geotiff(path / "terrain" / "dem.tif", dem, transform, "EPSG:4326", DEM_NODATA,
                  cog=False)
    write_gpkg(path / "villages" / "villages.gpkg",
               {k: layers[k] for k in ("villages", "groups", "points", "households")})
    write_csv(path / "sites" / "sites.csv", layers["sites"])
    write_csv(path / "sites" / "candidates.csv", layers["candidates"])
    write_gpkg(path / "works" / "works.gpkg",
               {k: layers[k] for k in ("grid", "mobile", "transformers", "hazards")})
    return path


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A fresh copy of the tiny, valid data folder (see :func:`make_tiny_data`)."""
    return make_tiny_data(tmp_path / "data")
