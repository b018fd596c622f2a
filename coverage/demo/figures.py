"""The demo county's headline figures (areas, counts, sums), for the README and reports."""

from __future__ import annotations

import numpy as np
import shapely

from coverage.demo.plane import GRID
from coverage.demo.results import DemoCounty
from coverage.schema import OPERATORS


def _local_area_km2(geoms) -> np.ndarray:
    """Area (km²) of lon/lat geometries in the local metric plane."""
    local = shapely.transform(geoms, lambda c: np.column_stack(GRID.lonlat_to_xy(c[:, 0], c[:, 1])))
    return shapely.area(local) / 1e6


def county_figures(county: DemoCounty) -> dict[str, object]:
    """The county's headline figures (areas in km², counts, sums), for the README and reports.

    Parameters
    ----------
    county : DemoCounty
        Built or re-read county.

    Returns
    -------
    dict of str to object
        DEM size and elevations (m), area (km²), counts of every layer (some by kind or
        status), and the screening's uncovered groups, villages and households.
    """
    dem = county.dem
    valid = dem[dem != county.nodata]
    sites = county.sites
    tenants = sites.groupby("tower_id")["operator"].nunique()
    area = float(_local_area_km2(county.county.geometry.to_numpy())[0])
    scr = county.screening
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
        "sites_by_band": {f"{op} {b}": int(n) for (op, b), n in
                          sites.groupby(["operator", "band"]).size().items()},
        "sites_by_status": sites["status"].value_counts().to_dict(),
        "towers": int(tenants.size),
        "towers_by_tenants": {int(k): int(v) for k, v in
                              tenants.value_counts().sort_index().items()},
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
