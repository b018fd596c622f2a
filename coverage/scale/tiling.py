"""Tile layout of the working grid, and which sites reach which tile.

A region too large to hold in memory is predicted tile by tile. The grid is cut into square
*core* tiles (row-major, the last row and column of tiles may be smaller); every output cell
belongs to exactly one core. A site can change a cell of a core only when the cell lies in
the site's loss window, so the sites of a tile are the sites whose window meets the core:
those within one radius of it (the tile's *halo*). The terrain a tile needs is its core
widened by the engine's reach (:func:`halo_cells`: one radius plus three cells, see
:func:`coverage.radio.engine.influence_window`).

Site windows are computed here with the same floating-point operations as the engine's own
layout (:func:`coverage.radio.engine.site_path_loss`), vectorised over sites, so the window of
every site is known before any prediction runs.

Memory
------
:func:`worker_memory_bytes` states the bound of one task: a tile task holds its core's best
RSRP and best-site arrays of one operator (8 bytes a cell) plus one site window at a time;
a site task holds one site window with the engine's scratch arrays; an any-operator task
holds one tile of every operator. None of these depends on the size of the region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine

__all__ = ["DEFAULT_TILE_CELLS", "Tile", "halo_cells", "site_windows", "sites_per_tile",
           "tile_layout", "window_cells", "worker_memory_bytes"]

DEFAULT_TILE_CELLS = 1024
"""Side of a core tile (cells): 31 km at 30 m, 8 MiB of RSRP + best site per operator; a
multiple of the COG block (512), so that no output block is written twice."""


@dataclass(frozen=True)
class Tile:
    """One core tile of the working grid.

    Attributes
    ----------
    index : int
        Position in the row-major layout.
    row0, col0 : int
        Grid row and column of the core's first cell.
    nrows, ncols : int
        Size of the core (cells).
    """

    index: int
    row0: int
    col0: int
    nrows: int
    ncols: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices of the core in the full grid."""
        return slice(self.row0, self.row0 + self.nrows), slice(self.col0, self.col0 + self.ncols)

    def halo(self, cells: int, shape: tuple[int, int]) -> tuple[slice, slice]:
        """Row and column slices of the core widened by ``cells`` on every side, clipped."""
        rows, cols = shape
        return (slice(max(0, self.row0 - cells), min(rows, self.row0 + self.nrows + cells)),
                slice(max(0, self.col0 - cells), min(cols, self.col0 + self.ncols + cells)))


def tile_layout(shape: tuple[int, int], tile_cells: int = DEFAULT_TILE_CELLS
                ) -> tuple[Tile, ...]:
    """Cut a grid of ``shape`` (rows, cols) into row-major core tiles of ``tile_cells``.

    Raises
    ------
    ValueError
        When ``tile_cells`` is not a positive integer.
    """
    if int(tile_cells) != tile_cells or tile_cells < 1:
        raise ValueError(f"tile_cells must be a positive integer, got {tile_cells!r}")
    size = int(tile_cells)
    rows, cols = shape
    tiles: list[Tile] = []
    for r0 in range(0, rows, size):
        for c0 in range(0, cols, size):
            tiles.append(Tile(len(tiles), r0, c0, min(size, rows - r0), min(size, cols - c0)))
    return tuple(tiles)


def halo_cells(radius_m: float, resolution_m: float) -> int:
    """Cells of terrain around a core that can affect it: ``ceil(radius / res) + 3``."""
    return math.ceil(radius_m / resolution_m) + 3


def window_cells(radius_m: float, resolution_m: float) -> int:
    """Largest side (cells) of a site's loss window: ``2 floor(radius / res) + 2``."""
    return 2 * math.floor(radius_m / resolution_m) + 2


def site_windows(shape: tuple[int, int], transform: Affine, x: np.ndarray, y: np.ndarray,
                 radius_m: float) -> np.ndarray:
    """Loss windows of sites, as the engine lays them out.

    Parameters
    ----------
    shape : (int, int)
        Grid (rows, cols).
    transform : Affine
        North-up grid transform with square cells (m).
    x, y : ndarray of float
        Site positions (m, working CRS).
    radius_m : float
        Prediction radius (m).

    Returns
    -------
    ndarray of int64, shape (n, 4)
        ``row0, row1, col0, col1`` per site (``row1``/``col1`` exclusive); an empty window
        (site farther than the radius from the grid) has ``row1 <= row0`` or
        ``col1 <= col0``.
    """
    res = float(transform.a)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    # the engine's _site_rowcol and _layout, operation for operation
    sr = (y - transform.f) / transform.e - 0.5
    sc = (x - transform.c) / transform.a - 0.5
    rc = radius_m / res
    nr, nc = shape
    row0 = np.maximum(0, np.ceil(sr - rc))
    row1 = np.minimum(nr - 1, np.floor(sr + rc))
    col0 = np.maximum(0, np.ceil(sc - rc))
    col1 = np.minimum(nc - 1, np.floor(sc + rc))
    out = np.stack([row0, row1 + 1, col0, col1 + 1], axis=1)
    out = np.where(np.isfinite(out), out, 0).astype(np.int64)
    return out.reshape(-1, 4)


def sites_per_tile(tiles: tuple[Tile, ...], windows: np.ndarray, margin: int = 1
                   ) -> list[np.ndarray]:
    """For every tile, the sites whose loss window meets its core (ascending positions).

    Parameters
    ----------
    tiles : tuple of Tile
        From :func:`tile_layout`.
    windows : ndarray, shape (n, 4)
        From :func:`site_windows`.
    margin : int
        Widen each window by this many cells before the test (a site too many is harmless:
        it changes no cell of the core; a site too few would be wrong).

    Returns
    -------
    list of ndarray of int64
        Positions into ``windows``, one array per tile, in ascending order.
    """
    w = np.asarray(windows, dtype=np.int64).reshape(-1, 4)
    nonempty = (w[:, 1] > w[:, 0]) & (w[:, 3] > w[:, 2])
    r0, r1 = w[:, 0] - margin, w[:, 1] + margin
    c0, c1 = w[:, 2] - margin, w[:, 3] + margin
    out = []
    for t in tiles:
        hit = (nonempty & (r0 < t.row0 + t.nrows) & (r1 > t.row0)
               & (c0 < t.col0 + t.ncols) & (c1 > t.col0))
        out.append(np.flatnonzero(hit).astype(np.int64))
    return out


def worker_memory_bytes(tile_cells: int, radius_m: float, resolution_m: float,
                        n_operators: int = 3) -> int:
    """Upper estimate of the working memory of one task (bytes), independent of the region.

    With ``T`` the tile side and ``W`` the window side (:func:`window_cells`):

    * a site task holds the engine's arrays for one window (loss float32, cell owners
      2 x int32, distances float64, mask, RSRP and its float64 temporaries): under
      ``80 W^2``;
    * a tile task holds its core's RSRP (float32) and best site (int32) of one operator,
      ``8 T^2``, plus one site's RSRP window and its file buffer, about ``12 W^2``;
    * an any-operator task holds every operator's tile and its result:
      ``(8 n_operators + 5) T^2``.

    The interpreter, numpy, numba, rasterio and dask add a fixed 300-350 MB per worker
    process, and a finished tile (``8 T^2``) waits on its worker until the client takes it.
    """
    t = int(tile_cells)
    w = window_cells(radius_m, resolution_m)
    return max(80 * w * w, 8 * t * t + 12 * w * w, (8 * n_operators + 5) * t * t)
