"""What the generator returns: :class:`DemoCounty` and its :class:`Screening`."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine


@dataclass(frozen=True)
class Screening:
    """Screening estimate of today's coverage (on-air sites only).

    Parameters
    ----------
    groups_uncovered, villages_uncovered, households_uncovered : dict of str to int
        Per operator and for ``"any"`` operator: groups whose covered household share is below
        95 %, villages with at least one such group, and their households. Coverage is
        RSRP >= -105 dBm from a single-knife-edge (Bullington) link budget over the DEM.
    simple_groups_uncovered, simple_villages_uncovered : int
        The cruder line-of-sight rule: a group is covered when a site is within 1.5 km of
        its household points, or within 4 km with terrain line of sight from the mast top.
    uncovered_group_ids : tuple of str
        Groups lacking signal from any operator (knife-edge estimate).
    """

    groups_uncovered: dict[str, int]
    villages_uncovered: dict[str, int]
    households_uncovered: dict[str, int]
    simple_groups_uncovered: int
    simple_villages_uncovered: int
    uncovered_group_ids: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class DemoCounty:
    """Every layer of the demo county, in memory.

    Parameters
    ----------
    seed : int
        The seed it was built from.
    dem : ndarray of int16, shape (rows, cols)
        Elevation (m), nodata ``-32768`` in one corner.
    transform : Affine
        DEM pixel-to-lon/lat transform.
    crs : str
        CRS of the DEM and of every layer (EPSG:4326).
    nodata : int
        DEM nodata value.
    county, towns, villages, groups, points, households : GeoDataFrame
        Boundary, 乡镇 polygons, 行政村 polygons, 村民组 polygons, test points and household
        cluster points.
    sites, candidates : DataFrame
        Operator sites and candidate tower locations (lon/lat columns).
    grid_works, mobile_works, transformers, hazards : GeoDataFrame
        Works tables, each row a point in its village.
    screening : Screening
        Screening estimate of the groups lacking signal today.
    """

    seed: int
    dem: np.ndarray
    transform: Affine
    crs: str
    nodata: int
    county: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    groups: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    sites: pd.DataFrame
    candidates: pd.DataFrame
    grid_works: gpd.GeoDataFrame
    mobile_works: gpd.GeoDataFrame
    transformers: gpd.GeoDataFrame
    hazards: gpd.GeoDataFrame
    screening: Screening
    claims: pd.DataFrame | None = None
