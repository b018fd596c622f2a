"""The demo county's headline figures (areas, counts, sums), for the README and reports."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypedDict

import numpy as np
import shapely

from coverage.demo.plane import GRID
from coverage.demo.results import DemoCounty
from coverage.schema import OPERATORS


def _local_area_km2(geoms) -> np.ndarray:
    """Area (km²) of lon/lat geometries in the local metric plane."""
    local = shapely.transform(geoms, lambda c: np.column_stack(GRID.lonlat_to_xy(c[:, 0], c[:, 1])))
    return shapely.area(local) / 1e6


class CountyFigures(TypedDict):
    """The figures of :func:`county_figures` (a plain dict at run time, as the README and
    the tests read it); ``*_by_*`` and layer-kind counts map a kind or status to a count."""

    seed: int
    dem_cols: int
    dem_rows: int
    dem_width_km: float
    dem_height_km: float
    dem_cell_m: str
    elevation_min_m: int
    elevation_max_m: int
    elevation_mean_m: int
    nodata_cells: int
    county_area_km2: float
    towns: int
    villages: int
    poor_villages: int
    fiber_villages: int
    groups: int
    households: int
    population: int
    household_clusters: int
    points: dict[Hashable, int]
    site_rows: int
    sites_by_operator: dict[Hashable, int]
    sites_by_band: dict[str, int]
    sites_by_status: dict[Hashable, int]
    towers: int
    towers_by_tenants: dict[int, int]
    candidates: dict[Hashable, int]
    grid_works: dict[Hashable, int]
    mobile_works: dict[Hashable, int]
    mobile_works_by_category: dict[Hashable, int]
    transformers: int
    transformers_below_2kva_per_household: int
    hazards: int
    hazards_fixed: int
    uncovered_groups: dict[str, int]
    uncovered_villages: dict[str, int]
    uncovered_households: dict[str, int]
    los_rule_uncovered_groups: int
    los_rule_uncovered_villages: int


def county_figures(county: DemoCounty) -> CountyFigures:
    """The county's headline figures (areas in km², counts, sums), for the README and reports.

    Parameters
    ----------
    county : DemoCounty
        Built or re-read county.

    Returns
    -------
    CountyFigures
        DEM size and elevations (m), area (km²), counts of every layer (some by kind or
        status), and the screening's uncovered groups, villages and households.
    """
    dem = county.dem
    valid = dem[dem != county.nodata]
    sites = county.sites
    tenants = sites.groupby("tower_id")["operator"].nunique()
    area = float(_local_area_km2(county.county.geometry.to_numpy())[0])
    scr = county.screening
    by_band = sites.groupby(["operator", "band"]).size()
    by_tenants = tenants.value_counts().sort_index()
    return {
        "seed": county.seed,
        "dem_cols": dem.shape[1], "dem_rows": dem.shape[0],
        "dem_width_km": round(dem.shape[1] * GRID.dx_m / 1000.0, 1),
        "dem_height_km": round(dem.shape[0] * GRID.dy_m / 1000.0, 1),
        "dem_cell_m": f"{GRID.dx_m:.1f} x {GRID.dy_m:.1f}",
        "elevation_min_m": int(valid.min()), "elevation_max_m": int(valid.max()),
        "elevation_mean_m": round(float(valid.mean())),
        "nodata_cells": int((dem == county.nodata).sum()),
        "county_area_km2": round(area, 1),
        "towns": len(county.towns),
        "villages": len(county.villages),
        "poor_villages": int(county.villages["poor"].sum()),
        "fiber_villages": int(county.villages["fiber"].sum()),
        "groups": len(county.groups),
        "households": int(county.groups["households"].sum()),
        "population": int(county.groups["population"].sum()),
        "household_clusters": len(county.households),
        "points": county.points["kind"].value_counts().reindex(
            ["committee", "school", "clinic", "settlement"]).fillna(0).astype(int).to_dict(),
        "site_rows": len(sites),
        "sites_by_operator": sites["operator"].value_counts().reindex(list(OPERATORS)).to_dict(),
        "sites_by_band": {f"{op} {b}": int(n) for op, b, n in zip(
            by_band.index.get_level_values(0), by_band.index.get_level_values(1),
            by_band.tolist(), strict=True)},
        "sites_by_status": sites["status"].value_counts().to_dict(),
        "towers": int(tenants.size),
        "towers_by_tenants": {int(k): int(v) for k, v in zip(
            by_tenants.index.tolist(), by_tenants.tolist(), strict=True)},
        "candidates": county.candidates["kind"].value_counts().to_dict(),
        "grid_works": county.grid_works["status"].value_counts().to_dict(),
        "mobile_works": county.mobile_works["status"].value_counts().to_dict(),
        "mobile_works_by_category": county.mobile_works["category"].value_counts().to_dict(),
        "transformers": len(county.transformers),
        "transformers_below_2kva_per_household": int(
            (county.transformers["kva"] < 2.0 * county.transformers["households"]).sum()),
        "hazards": len(county.hazards), "hazards_fixed": int(county.hazards["fixed"].sum()),
        "uncovered_groups": scr.groups_uncovered, "uncovered_villages": scr.villages_uncovered,
        "uncovered_households": scr.households_uncovered,
        "los_rule_uncovered_groups": scr.simple_groups_uncovered,
        "los_rule_uncovered_villages": scr.simple_villages_uncovered,
    }
