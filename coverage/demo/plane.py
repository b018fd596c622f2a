"""The demo county's frame: its DEM grid, local metric plane, CRS and conversions.

Geometry is generated in a local metric plane (x m east, y m north; see
:class:`~coverage.demo.terrain_synth.GridSpec`) and written in EPSG:4326 lon/lat.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio import features

from coverage.demo.terrain_synth import GridSpec

CRS = "EPSG:4326"
NODATA = -32768
GRID = GridSpec()
VOID = (slice(0, 36), slice(GRID.cols - 48, GRID.cols))
"""The DEM's data void: a corner patch outside the county."""


def to_lonlat(geoms, grid: GridSpec = GRID):
    """Local-plane geometries (m) to lon/lat geometries (degrees).

    Parameters
    ----------
    geoms : shapely geometry or ndarray of geometries
        In the local plane (m).
    grid : GridSpec
        The plane's grid.

    Returns
    -------
    shapely geometry or ndarray of geometries
        The same geometries in lon/lat (degrees).
    """
    return shapely.transform(geoms, lambda c: np.column_stack(grid.xy_to_lonlat(c[:, 0], c[:, 1])))


def cell_xy(flat: np.ndarray, grid: GridSpec = GRID) -> np.ndarray:
    """Local-plane coordinates (m) of flat cell indices, shape (n, 2)."""
    row, col = np.divmod(flat, grid.cols)
    return np.column_stack(grid.colrow_to_xy(col, row))


def rasterize(geoms, shape: tuple[int, int], transform: Affine) -> np.ndarray:
    """Label raster: cell centres inside geometry k get k + 1, others 0.

    Parameters
    ----------
    geoms : iterable of shapely geometry
        Lon/lat geometries (degrees).
    shape : tuple of int
        Raster (rows, cols).
    transform : Affine
        Pixel-to-lon/lat transform.

    Returns
    -------
    ndarray of int32, shape ``shape``
    """
    return features.rasterize(((g, k + 1) for k, g in enumerate(geoms)), out_shape=shape,
                              transform=transform, fill=0, dtype="int32")


def cells_by_label(raster: np.ndarray, n: int) -> list[np.ndarray]:
    """Flat cell indices of every label 1..n of an integer raster (label 0 = none)."""
    flat = raster.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=n + 1))])
    return [order[bounds[k]:bounds[k + 1]] for k in range(1, n + 1)]


def points_gdf(rows: dict, xy: np.ndarray) -> gpd.GeoDataFrame:
    """Point GeoDataFrame in EPSG:4326 from columns and local-plane coordinates.

    Parameters
    ----------
    rows : dict of str to list
        Attribute columns.
    xy : ndarray, shape (n, 2)
        Local-plane coordinates (m); written rounded to 1e-7 degrees.

    Returns
    -------
    GeoDataFrame
    """
    lon, lat = GRID.xy_to_lonlat(xy[:, 0], xy[:, 1])
    geom = shapely.points(np.round(lon, 7), np.round(lat, 7))
    return gpd.GeoDataFrame(rows, geometry=geom, crs=CRS)
