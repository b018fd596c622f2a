"""The working grid: the DEM resampled once onto one north-up grid in the working CRS.

Every raster of a run (elevation, RSRP, best site) shares this grid; it is a type of its
own so that the readers and writers in :mod:`coverage.io` can use it without the Study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from affine import Affine

if TYPE_CHECKING:  # pyproj is not loaded for the type alone (the one-site job never needs it)
    from pyproj import CRS

__all__ = ["WorkingGrid"]


@dataclass(frozen=True, eq=False)
class WorkingGrid:
    """The DEM resampled onto the working CRS: north-up, square cells.

    Parameters
    ----------
    elevation : ndarray, float32 (rows, cols)
        Metres above sea level; NaN where the DEM has nodata or no coverage. For a grid of
        more than ``config.model.max_in_memory_cells`` cells, a read-only ``np.memmap`` of
        the working-DEM file (see :func:`load_study`).
    transform : Affine
        ``transform.a == resolution_m``, ``transform.e == -resolution_m``; maps
        (col, row) of cell corners to (x, y).
    crs : pyproj.CRS
        Working CRS (projected, metres).
    resolution_m : float
        Cell size (m).

    Notes
    -----
    Fractional indices (:meth:`rowcol`) put ``row = 0.0, col = 0.0`` at the CENTRE of the
    top-left cell; :meth:`xy` is its inverse.
    """

    elevation: np.ndarray
    transform: Affine
    crs: CRS
    resolution_m: float

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.elevation.shape

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the grid's outer edges (m, working CRS)."""
        rows, cols = self.shape
        xmin, ymax = self.transform.c, self.transform.f
        return xmin, ymax - rows * self.resolution_m, xmin + cols * self.resolution_m, ymax

    def rowcol(self, x: np.ndarray | float, y: np.ndarray | float
               ) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, col) of points; 0.0 is the centre of the first row/column."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        col = (x - self.transform.c) / self.resolution_m - 0.5
        row = (self.transform.f - y) / self.resolution_m - 0.5
        return row, col

    def xy(self, row: np.ndarray | float, col: np.ndarray | float
           ) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in metres of fractional (row, col); integer indices give cell centres."""
        row = np.asarray(row, dtype=float)
        col = np.asarray(col, dtype=float)
        x = self.transform.c + (col + 0.5) * self.resolution_m
        y = self.transform.f - (row + 0.5) * self.resolution_m
        return x, y

    def contains(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """True for points within the grid's outer edges (edges included)."""
        xmin, ymin, xmax, ymax = self.bounds
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        with np.errstate(invalid="ignore"):
            return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)

    def sample(self, x: np.ndarray | float, y: np.ndarray | float,
               method: str = "bilinear") -> np.ndarray:
        """Elevation (m) at points: ``nearest`` cell, or ``bilinear`` between cell centres.

        Bilinear falls back to the nearest cell where a neighbour is NaN; NaN off the grid.
        """
        x = np.atleast_1d(np.asarray(x, dtype=float))
        y = np.atleast_1d(np.asarray(y, dtype=float))
        rows, cols = self.shape
        out = np.full(x.shape, np.nan)
        inside = self.contains(x, y) & np.isfinite(x) & np.isfinite(y)
        if not inside.any():
            return out
        r, c = self.rowcol(x[inside], y[inside])
        rn = np.clip(np.floor(r + 0.5).astype(np.int64), 0, rows - 1)
        cn = np.clip(np.floor(c + 0.5).astype(np.int64), 0, cols - 1)
        nearest = self.elevation[rn, cn].astype(float)
        if method == "nearest":
            out[inside] = nearest
            return out
        r = np.clip(r, 0, rows - 1)
        c = np.clip(c, 0, cols - 1)
        r0 = np.minimum(np.floor(r).astype(np.int64), max(rows - 2, 0))
        c0 = np.minimum(np.floor(c).astype(np.int64), max(cols - 2, 0))
        r1 = np.minimum(r0 + 1, rows - 1)
        c1 = np.minimum(c0 + 1, cols - 1)
        fr, fc = r - r0, c - c0
        e = self.elevation
        val = ((1 - fr) * (1 - fc) * e[r0, c0] + (1 - fr) * fc * e[r0, c1]
               + fr * (1 - fc) * e[r1, c0] + fr * fc * e[r1, c1])
        out[inside] = np.where(np.isfinite(val), val, nearest)
        return out
