"""The settlement layers as GeoDataFrames: county, towns, villages, groups, points, households.

Converts the settlement model (local plane, m) to EPSG:4326 tables with the schema's columns.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from coverage.demo.names import COUNTY_NAME, TOWNS
from coverage.demo.plane import CRS, points_gdf, to_lonlat
from coverage.demo.settlements import Settlement


def settlement_layers(rng: np.random.Generator, seed: int, s: Settlement, county,
                      village_hh: np.ndarray, group_ids: list[str], fiber: np.ndarray,
                      poor: np.ndarray, pt_rows: dict, pt_xy: np.ndarray
                      ) -> dict[str, gpd.GeoDataFrame]:
    """The county's settlement layers, keyed as the fields of
    :class:`~coverage.demo.results.DemoCounty`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source (draws each group's people per household, 2.9-3.9).
    seed : int
        The county's seed (a column of the ``county`` layer).
    s : Settlement
        Villages, groups and households placed.
    county : shapely Polygon
        County outline (m).
    village_hh : ndarray of int
        Households of each village.
    group_ids : list of str
        Group IDs, by group index.
    fiber, poor : ndarray of bool
        Village attributes.
    pt_rows, pt_xy
        Test point columns and positions (m).

    Returns
    -------
    dict of str to GeoDataFrame
        ``county``, ``towns``, ``villages``, ``groups``, ``points``, ``households``.
    """
    village_ids = [f"V{v + 1:03d}" for v in range(len(s.village_poly))]
    village_ll = to_lonlat(np.array(s.village_poly, dtype=object))
    group_ll = to_lonlat(np.array(s.group_poly, dtype=object))
    county_ll = to_lonlat(county)
    town_polys = [shapely.union_all(village_ll[s.village_town == k]) for k in range(len(TOWNS))]
    area_km2 = shapely.area(np.array(s.village_poly, dtype=object)) / 1e6
    villages = gpd.GeoDataFrame({
        "village_id": village_ids,
        "name": s.village_names,
        "town": [TOWNS[k] for k in s.village_town],
        "poor": poor,
        "households": village_hh,
        "fiber": fiber,
        "area_km2": np.round(area_km2, 3),
    }, geometry=village_ll, crs=CRS)
    groups = gpd.GeoDataFrame({
        "group_id": group_ids,
        "village_id": [village_ids[v] for v in s.group_village],
        "name": s.group_names,
        "households": s.group_hh,
        "population": np.rint(s.group_hh * rng.uniform(2.9, 3.9, len(s.group_hh))).astype(int),
    }, geometry=group_ll, crs=CRS)
    hh_rank = np.arange(len(s.hh_group)) - np.searchsorted(s.hh_group, s.hh_group)
    households = points_gdf({
        "cluster_id": [f"{group_ids[g]}-H{k + 1}" for g, k in zip(s.hh_group, hh_rank,
                                                                   strict=True)],
        "group_id": [group_ids[g] for g in s.hh_group],
        "households": s.hh_count,
    }, s.hh_xy)
    towns = gpd.GeoDataFrame({
        "town_id": [f"TN{k + 1:02d}" for k in range(len(TOWNS))],
        "name": list(TOWNS),
        "seat_village_id": [village_ids[r] for r in s.town_seat],
        "county_seat": [k == 0 for k in range(len(TOWNS))],
    }, geometry=town_polys, crs=CRS)
    county_gdf = gpd.GeoDataFrame({"name": [COUNTY_NAME], "seed": [seed]},
                                  geometry=[county_ll], crs=CRS)
    return {"county": county_gdf, "towns": towns, "villages": villages, "groups": groups,
            "points": points_gdf(pt_rows, pt_xy), "households": households}
