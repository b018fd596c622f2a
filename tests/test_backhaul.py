"""Backhaul: Fresnel clearance on hand-made profiles and least-cost paths to fiber."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import Point, box

from coverage.grid import WorkingGrid
from coverage.plan.backhaul import (
    MICROWAVE_GHZ,
    earth_bulge_m,
    fresnel_radius_m,
    los_clearance,
    plan_backhaul,
)
from tests.toy import UTM50, X0, Y0, toy_study

CELL = 30.0
ROWS, COLS = 11, 400                                     # 12 km east-west strip
MID_ROW = 5


def strip(ridge_m: float = 0.0) -> WorkingGrid:
    """Flat ground at 0 m with an optional ridge across cols 160-175 (~4.8-5.3 km)."""
    z = np.zeros((ROWS, COLS), np.float32)
    z[:, 160:176] = ridge_m
    return WorkingGrid(elevation=z, transform=Affine(CELL, 0, X0, 0, -CELL, Y0), crs=UTM50,
                       resolution_m=CELL)


def xy(col: float) -> tuple[float, float]:
    return X0 + (col + 0.5) * CELL, Y0 - (MID_ROW + 0.5) * CELL


def test_fresnel_and_bulge_formulas():
    # first Fresnel radius at mid-path of 10 km at 15 GHz: sqrt(lambda d1 d2 / d) = 7.07 m
    lam = 0.299792458 / MICROWAVE_GHZ
    assert fresnel_radius_m(np.array(5000.0), np.array(5000.0), 15.0) == pytest.approx(
        math.sqrt(lam * 2500.0), rel=1e-12)
    assert float(fresnel_radius_m(np.array(5000.0), np.array(5000.0), 15.0)) == pytest.approx(
        7.07, abs=0.01)
    # earth bulge at mid-path of 10 km, k = 4/3: 5000^2 / (2 * 4/3 * 6371 km) = 1.47 m
    assert float(earth_bulge_m(np.array(5000.0), np.array(5000.0))) == pytest.approx(1.4714,
                                                                                     abs=1e-3)


def test_clearance_flat_and_with_ridge():
    xa, ya = xy(0)
    xb, yb = xy(333)                                     # 9.99 km
    d = 333 * CELL
    f1_mid = float(fresnel_radius_m(np.array(d / 2), np.array(d / 2), MICROWAVE_GHZ))
    bulge_mid = float(earth_bulge_m(np.array(d / 2), np.array(d / 2)))
    flat = los_clearance(strip(), xa, ya, 30.0, xb, yb, 30.0)[0]
    # the minimum over the path is at mid-path on flat ground
    assert flat == pytest.approx((30.0 - bulge_mid) / f1_mid, rel=2e-3)
    low = los_clearance(strip(20.0), xa, ya, 30.0, xb, yb, 30.0)[0]
    high = los_clearance(strip(26.0), xa, ya, 30.0, xb, yb, 30.0)[0]
    assert low >= 0.6 > high                             # 26 m ridge: ~0.35 F1 clearance
    assert high == pytest.approx((30.0 - 26.0 - bulge_mid) / f1_mid, abs=0.05)
    # vectorised over several hops at once, in input order
    many = los_clearance(strip(26.0), [xa, xa], [ya, ya], [30.0, 80.0], [xb, xb], [yb, yb],
                         [30.0, 80.0])
    assert many[0] == pytest.approx(high) and many[1] > 0.6
    # a hop shorter than one cell has no interior sample
    assert np.isinf(los_clearance(strip(), xa, ya, 30.0, xa + 10.0, ya, 30.0)[0])


def backhaul_study(ridge_m: float, relay: bool):
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2"], "name": ["西村", "东村"], "town": ["镇", "镇"],
         "fiber": [True, False]},
        geometry=[box(X0, Y0 - ROWS * CELL, X0 + 100 * CELL, Y0),
                  box(X0 + 100 * CELL, Y0 - ROWS * CELL, X0 + COLS * CELL, Y0)], crs=UTM50)
    points = gpd.GeoDataFrame(
        {"point_id": ["P1"], "village_id": ["V1"], "kind": ["committee"], "group_id": [None],
         "name": ["村委会"]}, geometry=[Point(*xy(0))], crs=UTM50)
    rows = []
    if relay:
        rows.append({"site_id": "S1", "operator": "CMCC", "band": "FDD900", "height_m": 30.0,
                     "tower_id": "R1", "azimuths": (), "status": "on_air",
                     "backhaul": "microwave", "geometry": Point(*xy(168))})
    sites = gpd.GeoDataFrame(pd.DataFrame(rows, columns=[
        "site_id", "operator", "band", "height_m", "tower_id", "azimuths", "status",
        "backhaul", "geometry"]), geometry="geometry", crs=UTM50)
    return toy_study(grid=strip(ridge_m), villages=villages, points=points, sites=sites)


def chosen(*cols: float) -> pd.DataFrame:
    return pd.DataFrame({"tower_id": [f"H{i + 1}" for i in range(len(cols))],
                         "x": [xy(c)[0] for c in cols], "y": [xy(c)[1] for c in cols],
                         "ground_m": 0.0, "height_m": 30.0, "range_km": 15.0})


def test_direct_hop_without_obstruction():
    bh = plan_backhaul(backhaul_study(0.0, relay=False), chosen(333))
    s = bh.sites.iloc[0]
    assert (s["status"], s["hops"], s["path"]) == ("microwave", 1, "H1>FIBER-V1")
    assert s["length_km"] == pytest.approx(9.99, abs=1e-6)
    assert len(bh.links) == 1 and bh.links["serves"].iat[0] == "H1"
    assert bh.links["clearance_ratio"].iat[0] >= 0.6


def test_obstruction_gives_finding():
    bh = plan_backhaul(backhaul_study(40.0, relay=False), chosen(333))
    s = bh.sites.iloc[0]
    assert s["status"] == "none" and s["hops"] == -1
    assert "FIBER-V1" in s["finding"] and "9.99 km" in s["finding"]
    assert bh.links.empty and bh.stats.sites_without_path == 1


def test_relay_over_ridge_and_shared_hop_counted_once():
    bh = plan_backhaul(backhaul_study(40.0, relay=True), chosen(333, 300))
    s = bh.sites.set_index("tower_id")
    assert s.at["H1", "path"] == "H1>R1>FIBER-V1" and s.at["H1", "hops"] == 2
    assert s.at["H2", "path"] == "H2>R1>FIBER-V1"
    links = bh.links.set_index(["from_id", "to_id"])
    assert len(links) == 3                               # R1-FIBER shared by both sites
    assert links.loc[("FIBER-V1", "R1"), "serves"] == "H1;H2"
    assert bh.stats.tree_hops == 3


def test_hop_range_limits_edges():
    c = chosen(333)
    c["range_km"] = 5.0
    bh = plan_backhaul(backhaul_study(0.0, relay=False), c)
    assert bh.sites["status"].iat[0] == "none"


def test_chosen_site_already_on_fiber():
    c = chosen(333)
    c["backhaul"] = "fiber"
    bh = plan_backhaul(backhaul_study(40.0, relay=False), c)
    s = bh.sites.iloc[0]
    assert (s["status"], s["hops"], s["path"]) == ("fiber", 0, "H1")
