"""A hand-built 1 km × 1 km study on a 10 × 10 grid of 100 m cells, for assessment,
readiness and report tests whose right answers can be worked out by hand.

Layout (x to the east, y to the north; cell (row, col), row 0 at the top)::

    V1 = west half (cols 0-4)        V2 = east half (cols 5-9)
    G1 = V1 north (rows 0-4), 30 hh  G3 = V2 north, 50 hh
    G2 = V1 south (rows 5-9), 10 hh  G4 = V2 south, 40 hh

Signal: CMCC −90 dBm over the west half, −120 dBm over the east; CT −100 dBm over
the north half, no signal (NaN) over the south.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point, box

from coverage.config import Config
from coverage.grid import WorkingGrid
from coverage.signal import SignalGrids
from coverage.study import Study

X0, Y0, RES = 500_000.0, 3_400_000.0, 100.0
UTM50 = CRS.from_epsg(32650)


def cell_box(r0: int, r1: int, c0: int, c1: int):
    """Polygon of rows r0..r1-1 and cols c0..c1-1."""
    return box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)


def cell_point(r: float, c: float) -> Point:
    """Centre of cell (r, c)."""
    return Point(X0 + (c + 0.5) * RES, Y0 - (r + 0.5) * RES)


def toy_signal() -> SignalGrids:
    cmcc = np.full((10, 10), -120.0, np.float32)
    cmcc[:, :5] = -90.0
    ct = np.full((10, 10), np.nan, np.float32)
    ct[:5, :] = -100.0
    best = {"CMCC": np.zeros((10, 10), np.int32), "CT": np.where(np.isnan(ct), -1, 1)
            .astype(np.int32), "CU": np.full((10, 10), -1, np.int32)}
    cu = np.full((10, 10), np.nan, np.float32)
    return SignalGrids(rsrp={"CMCC": cmcc, "CT": ct, "CU": cu}, best_site=best)


def toy_study(config: Config | None = None, households: bool = False, **overrides) -> Study:
    cfg = config or Config()
    grid = WorkingGrid(elevation=np.full((10, 10), 200.0, np.float32),
                       transform=Affine(RES, 0, X0, 0, -RES, Y0), crs=UTM50, resolution_m=RES)
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2"], "name": ["石关村", "<img src=x onerror=alert(1)>"],
         "town": ["响肠镇", "响肠镇"], "poor": [True, False], "fiber": [True, False]},
        geometry=[cell_box(0, 10, 0, 5), cell_box(0, 10, 5, 10)], crs=UTM50)
    groups = gpd.GeoDataFrame(
        {"group_id": ["G1", "G2", "G3", "G4"], "village_id": ["V1", "V1", "V2", "V2"],
         "name": ["第1组", "第2组", "=cmd|' /C calc'!A0", "第4组"],
         "households": [30, 10, 50, 40]},
        geometry=[cell_box(0, 5, 0, 5), cell_box(5, 10, 0, 5), cell_box(0, 5, 5, 10),
                  cell_box(5, 10, 5, 10)], crs=UTM50)
    points = gpd.GeoDataFrame(
        {"point_id": ["P1", "P2", "P3", "P4"], "village_id": ["V1", "V2", "V2", "V1"],
         "kind": ["committee", "committee", "school", "settlement"],
         "group_id": ["G1", "G3", "G4", "G2"], "name": ["村委会", "村委会", "小学", "下湾"]},
        geometry=[cell_point(1, 1), cell_point(1, 7), cell_point(8, 8), cell_point(8, 1)],
        crs=UTM50)
    hh = None
    if households:
        hh = gpd.GeoDataFrame(
            {"group_id": ["G1", "G2", "G3", "G3", "G4"], "households": [30, 10, 40, 10, 40]},
            geometry=[cell_point(2, 2), cell_point(7, 2), cell_point(1, 6), cell_point(4, 9),
                      cell_point(7, 7)], crs=UTM50)
    sites = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2"], "operator": ["CMCC", "CT"], "band": ["FDD900", "FDD800"],
         "height_m": [35.0, 30.0], "tower_id": ["T1", "T2"], "azimuths": [(), ()],
         "tilt_deg": [np.nan, np.nan], "power_dbm": [np.nan, np.nan],
         "gain_dbi": [np.nan, np.nan], "status": ["on_air", "on_air"],
         "on_air_date": [None, None], "backhaul": ["fiber", "fiber"],
         "lon": [116.0, 116.0], "lat": [30.7, 30.7], "ground_m": [200.0, 200.0]},
        geometry=[cell_point(5, 2), cell_point(2, 5)], crs=UTM50)
    transformers = pd.DataFrame({"transformer_id": ["TR1", "TR2"], "village_id": ["V1", "V1"],
                                 "kva": [200.0, 100.0], "households": [100, 50]})
    grid_works = pd.DataFrame({
        "work_id": ["GW1"], "village_id": ["V1"], "category": ["台区改造"], "owner": ["县供电公司"],
        "status": ["done"], "investment_wan": [12.5], "due": [dt.date(2020, 6, 30)],
        "done": [dt.date(2020, 6, 1)], "kva_after": [np.nan]})
    mobile_works = pd.DataFrame({
        "work_id": ["MW1"], "village_id": ["V2"], "operator": ["CU"], "category": ["新建基站"],
        "status": ["in_progress"], "investment_wan": [45.0], "site_id": [None],
        "due": [dt.date(2020, 9, 30)], "done": [None]})
    hazards = pd.DataFrame({"hazard_id": ["H1", "H2"], "village_id": ["V1", "V2"],
                            "found": [dt.date(2020, 3, 1)] * 2, "fixed": [True, True]})
    fields = dict(data_dir=Path("toy"), config=cfg, grid=grid, villages=villages, groups=groups,
                  points=points, households=hh, sites=sites, candidates=None,
                  grid_works=grid_works, mobile_works=mobile_works, transformers=transformers,
                  hazards=hazards, measurements=None, warnings=[])
    fields.update(overrides)
    return Study(**fields)
