"""Synthetic mountain terrain for the demo county: ridges, steep slopes and carved valleys.

The surface is a regional trend (high in the north-west, like the main Dabie ridge), a few
massifs, spectral fractional-Brownian noise and ridged noise, into which a dendritic river
network is carved: three main valleys, side valleys and small ravines, each with a bed that
rises upstream. Everything is vectorised numpy/scipy (FFT noise, Euclidean distance
transforms); the 1,620 x 1,980 demo grid takes a few seconds. The same
:class:`numpy.random.Generator` state gives the same terrain.

Coordinates: the grid is geographic (EPSG:4326, 1 arc-second cells). Geometry is generated in
a local equirectangular plane ``x`` (m east), ``y`` (m north) about the grid centre; see
:class:`GridSpec` for the exact, purely arithmetic conversion (no PROJ, so results do not
depend on the PROJ version).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from scipy import ndimage, sparse
from scipy.sparse import csgraph

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (m) used by the local plane."""


@dataclass(frozen=True)
class GridSpec:
    """A north-up geographic grid and its local metric plane.

    Parameters
    ----------
    west, north : float
        Outer edges of the grid (degrees).
    cols, rows : int
        Grid size (cells).
    cells_per_degree : int
        3600 gives 1 arc-second cells (about 27 m east-west by 31 m north-south here).
    """

    west: float = 116.0
    north: float = 31.05
    cols: int = 1980
    rows: int = 1620
    cells_per_degree: int = 3600

    @property
    def res_deg(self) -> float:
        """Cell size (degrees)."""
        return 1.0 / self.cells_per_degree

    @property
    def east(self) -> float:
        """East edge (degrees)."""
        return self.west + self.cols / self.cells_per_degree

    @property
    def south(self) -> float:
        """South edge (degrees)."""
        return self.north - self.rows / self.cells_per_degree

    @property
    def lon0(self) -> float:
        """Longitude of the plane's origin (grid centre, degrees)."""
        return (self.west + self.east) / 2.0

    @property
    def lat0(self) -> float:
        """Latitude of the plane's origin (grid centre, degrees)."""
        return (self.south + self.north) / 2.0

    @property
    def m_per_deg_lat(self) -> float:
        """Metres per degree of latitude."""
        return math.radians(1.0) * EARTH_RADIUS_M

    @property
    def m_per_deg_lon(self) -> float:
        """Metres per degree of longitude at the origin's latitude."""
        return self.m_per_deg_lat * math.cos(math.radians(self.lat0))

    @property
    def dx_m(self) -> float:
        """Cell width (m)."""
        return self.m_per_deg_lon * self.res_deg

    @property
    def dy_m(self) -> float:
        """Cell height (m)."""
        return self.m_per_deg_lat * self.res_deg

    @property
    def transform(self) -> Affine:
        """Pixel-to-lon/lat transform (pixel corners)."""
        return Affine(self.res_deg, 0.0, self.west, 0.0, -self.res_deg, self.north)

    @property
    def half_extent_m(self) -> tuple[float, float]:
        """Half width and half height of the grid (m)."""
        return self.cols * self.dx_m / 2.0, self.rows * self.dy_m / 2.0

    def lonlat_to_xy(self, lon, lat):
        """Lon/lat (degrees) to local plane x, y (m)."""
        return ((np.asarray(lon) - self.lon0) * self.m_per_deg_lon,
                (np.asarray(lat) - self.lat0) * self.m_per_deg_lat)

    def xy_to_lonlat(self, x, y):
        """Local plane x, y (m) to lon/lat (degrees)."""
        return (np.asarray(x) / self.m_per_deg_lon + self.lon0,
                np.asarray(y) / self.m_per_deg_lat + self.lat0)

    def xy_to_colrow(self, x, y):
        """Local plane x, y (m) to fractional column and row of cell centres."""
        return (np.asarray(x) / self.dx_m + self.cols / 2.0 - 0.5,
                self.rows / 2.0 - 0.5 - np.asarray(y) / self.dy_m)

    def colrow_to_xy(self, col, row):
        """Fractional column and row (cell centres at integers) to local plane x, y (m)."""
        return ((np.asarray(col) + 0.5 - self.cols / 2.0) * self.dx_m,
                (self.rows / 2.0 - 0.5 - np.asarray(row)) * self.dy_m)

    def cell_xy(self) -> tuple[np.ndarray, np.ndarray]:
        """x of every column's centre (cols,) and y of every row's centre (rows,), metres."""
        return (self.colrow_to_xy(np.arange(self.cols), 0)[0],
                self.colrow_to_xy(0, np.arange(self.rows))[1])


@dataclass(frozen=True)
class Stream:
    """One river of the carved network, from its mouth (junction) to its head.

    Parameters
    ----------
    order : int
        1 main valleys, 2 side valleys, 3 ravines.
    xy : ndarray, shape (n, 2)
        Vertices in the local plane (m).
    bed_m : ndarray, shape (n,)
        Bed elevation at each vertex (m), non-decreasing upstream.
    """

    order: int
    xy: np.ndarray
    bed_m: np.ndarray


@dataclass(frozen=True)
class Terrain:
    """Synthetic terrain and the by-products the settlement model needs.

    Parameters
    ----------
    grid : GridSpec
        Where the arrays sit.
    elevation_m : ndarray of float32, shape (rows, cols)
        Ground elevation (m).
    slope_deg : ndarray of float32
        Terrain slope (degrees).
    height_above_stream_m : ndarray of float32
        Height above the bed of the nearest stream (m).
    dist_main_m : ndarray of float32
        Distance to the nearest main-valley (order 1) stream (m).
    dist_side_m : ndarray of float32
        Distance to the nearest order 1 or 2 stream (m), a stand-in for road access.
    streams : tuple of Stream
        The river network, beds in final elevation units.
    """

    grid: GridSpec
    elevation_m: np.ndarray
    slope_deg: np.ndarray
    height_above_stream_m: np.ndarray
    dist_main_m: np.ndarray
    dist_side_m: np.ndarray
    streams: tuple[Stream, ...]


def spectral_noise(rng: np.random.Generator, rows: int, cols: int, dx: float, dy: float,
                   beta: float, lmin: float, lmax: float) -> np.ndarray:
    """Gaussian random field with power spectrum ``k**-beta`` between two wavelengths.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    rows, cols : int
        Output shape.
    dx, dy : float
        Cell size (m); the field is isotropic in metres.
    beta : float
        Spectral exponent (about 3 to 3.5 for terrain-like fBm).
    lmin, lmax : float
        Shortest and longest wavelength kept (m).

    Returns
    -------
    ndarray of float64
        Zero mean, unit standard deviation (periodic at the edges).
    """
    ky = np.fft.fftfreq(rows, d=dy)[:, None]
    kx = np.fft.rfftfreq(cols, d=dx)[None, :]
    k = np.hypot(kx, ky)
    band = (k >= 1.0 / lmax) & (k <= 1.0 / lmin)
    amp = np.zeros_like(k)
    amp[band] = k[band] ** (-beta / 2.0)
    spec = (rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape)) * amp
    field = np.fft.irfft2(spec, s=(rows, cols))
    return (field - field.mean()) / field.std()


def _densify(xy: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample a polyline every ``step`` metres; returns points and their source position."""
    seg = np.hypot(*np.diff(xy, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.arange(0.0, s[-1] + 1e-9, step)
    return np.column_stack([np.interp(t, s, xy[:, 0]), np.interp(t, s, xy[:, 1])]), t


def _along(xy: np.ndarray) -> np.ndarray:
    """Cumulative length along a polyline (m)."""
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])


def _chaikin(xy: np.ndarray, bed: np.ndarray, rounds: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Corner-cutting smoothing of a polyline and its bed profile; keeps both end points."""
    for _ in range(rounds):
        if len(xy) < 3:
            break
        a, b = xy[:-1], xy[1:]
        ba, bb = bed[:-1], bed[1:]
        q = np.empty((2 * len(a), 2))
        q[0::2], q[1::2] = 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b
        qb = np.empty(2 * len(a))
        qb[0::2], qb[1::2] = 0.75 * ba + 0.25 * bb, 0.25 * ba + 0.75 * bb
        xy = np.vstack([xy[:1], q[1:-1], xy[-1:]])
        bed = np.concatenate([bed[:1], qb[1:-1], bed[-1:]])
    return xy, bed


@dataclass(frozen=True)
class _Drainage:
    """A drainage tree on a coarse lattice (node arrays are flat, lattice rows go north)."""

    x: np.ndarray
    y: np.ndarray
    parent: np.ndarray
    area_km2: np.ndarray
    bed_m: np.ndarray
    shape: tuple[int, int]
    spacing_m: float


def _drainage(rng: np.random.Generator, grid: GridSpec, spacing: float,
              uplift: np.ndarray | None = None) -> _Drainage:
    """Random shortest-path drainage tree with stream-power node elevations.

    Edges of an 8-connected lattice get costs from a smooth random "corridor" field, so that
    rivers follow winding low corridors; a shortest-path tree from the outlets (with a cost
    head start per outlet) is the river network. Contributing areas accumulate down the tree;
    node elevations integrate the slope ``S = min(0.6, 0.16 u A**-0.5)`` (A in km², ``u`` the
    uplift field) upstream from the outlets.
    """
    hx, hy = grid.half_extent_m
    ncx = math.ceil(2 * hx / spacing) + 3
    ncy = math.ceil(2 * hy / spacing) + 3
    xc = (np.arange(ncx) - (ncx - 1) / 2.0) * spacing
    yc = (np.arange(ncy) - (ncy - 1) / 2.0) * spacing
    X, Y = np.meshgrid(xc, yc)
    x, y = X.ravel(), Y.ravel()
    n = x.size
    if uplift is None:
        uplift = np.ones(n)
    idx = np.arange(n).reshape(ncy, ncx)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel(),
                        idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel(),
                        idx[1:, 1:].ravel(), idx[1:, :-1].ravel()])
    length = np.hypot(x[a] - x[b], y[a] - y[b])
    corridor = spectral_noise(rng, ncy, ncx, spacing, spacing, 3.0, 1500.0, 30000.0).ravel()
    cost = (length * np.exp(0.9 * (corridor[a] + corridor[b]) / 2.0
                            + 0.8 * (uplift[a] + uplift[b]) / 2.0)
            * rng.uniform(0.85, 1.15, a.size))
    # Outlets: the main one at the south-east corner, smaller ones east and north.
    outlets = np.array([idx[0, ncx - 1], idx[int(0.62 * ncy), ncx - 1],
                        idx[ncy - 1, int(0.55 * ncx)]])
    head_start = np.array([0.0, 26000.0, 30000.0])
    outlet_bed = np.array([150.0, 300.0, 430.0])
    root = n  # virtual node joined to every outlet
    rows = np.concatenate([a, np.full(outlets.size, root)])
    cols = np.concatenate([b, outlets])
    graph = sparse.coo_matrix((np.concatenate([cost, head_start + 1.0]), (rows, cols)),
                              shape=(n + 1, n + 1)).tocsr()
    dist, pred = csgraph.dijkstra(graph, directed=False, indices=root,
                                  return_predecessors=True)
    dist, pred = dist[:n], pred[:n].astype(np.int64)
    pred[pred == root] = -1
    order = np.argsort(dist, kind="stable")
    area = np.full(n, spacing**2 / 1e6)
    for i in order[::-1]:  # per lattice node (about 13,000), not per cell
        if pred[i] >= 0:
            area[pred[i]] += area[i]
    step = np.where(pred >= 0, np.hypot(x - x[pred], y - y[pred]), 0.0)
    slope = np.minimum(0.6, 0.16 * uplift * area**-0.5)
    bed = np.zeros(n)
    bed[outlets] = outlet_bed
    for i in order:
        if pred[i] >= 0:
            bed[i] = bed[pred[i]] + slope[i] * step[i]
    return _Drainage(x, y, pred, area, bed, (ncy, ncx), spacing)


def _channels(rng: np.random.Generator, tree: _Drainage,
              thresholds_km2: tuple[float, float, float]) -> list[Stream]:
    """Cut the tree's channels (area above the smallest threshold) into smoothed streams."""
    a1, a2, a3 = thresholds_km2
    ch = tree.area_km2 >= a3
    ordr = np.where(tree.area_km2 >= a1, 1, np.where(tree.area_km2 >= a2, 2, 3))
    jit = rng.uniform(-0.12, 0.12, (tree.x.size, 2)) * tree.spacing_m
    px, py = tree.x + jit[:, 0], tree.y + jit[:, 1]
    child = np.zeros(tree.x.size, dtype=np.int64)
    np.add.at(child, tree.parent[ch & (tree.parent >= 0)], 1)
    heads = np.flatnonzero(ch & (child == 0))
    heads = heads[np.argsort(-tree.bed_m[heads], kind="stable")]
    seen = np.zeros(tree.x.size, dtype=bool)
    chains: list[tuple[int, list[int]]] = []
    for h in heads.tolist():
        cur, chain, o = h, [h], ordr[h]
        seen[h] = True
        while True:
            p = tree.parent[cur]
            if p < 0:
                chains.append((o, chain))
                break
            chain.append(p)
            if seen[p]:
                chains.append((o, chain))
                break
            seen[p] = True
            if ordr[p] != o:
                chains.append((o, chain))
                chain, o = [p], ordr[p]
            cur = p
    streams = []
    for o, chain in chains:
        if len(chain) < 2:
            continue
        nodes = np.array(chain[::-1])  # mouth to head
        xy, bed = _chaikin(np.column_stack([px[nodes], py[nodes]]), tree.bed_m[nodes])
        streams.append(Stream(int(o), xy, bed))
    return streams


def _carve(z: np.ndarray, grid: GridSpec, streams: list[Stream], order: int, width: float,
           floor: float, p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower ``z`` around streams of one order; returns new z, distance (m) and nearest bed."""
    bed_grid = np.full(z.shape, np.inf)
    for st in streams:
        if st.order != order:
            continue
        dense, t = _densify(st.xy, 10.0)
        bed = np.interp(t, _along(st.xy), st.bed_m)
        col, row = grid.xy_to_colrow(dense[:, 0], dense[:, 1])
        c, r = np.rint(col).astype(np.int64), np.rint(row).astype(np.int64)
        ok = (c >= 0) & (c < grid.cols) & (r >= 0) & (r < grid.rows)
        np.minimum.at(bed_grid, (r[ok], c[ok]), bed[ok])
    mask = np.isfinite(bed_grid)
    dist, (ir, ic) = ndimage.distance_transform_edt(~mask, sampling=(grid.dy_m, grid.dx_m),
                                                    return_indices=True)
    near_bed = bed_grid[ir, ic]
    s = np.clip((dist - floor) / (width - floor), 0.0, 1.0)
    f = s**p / (s**p + (1.0 - s) ** p)
    carved = near_bed + (z - near_bed) * f
    z = np.where(z > near_bed, np.minimum(z, carved), z)
    return z, dist, near_bed


def _uplift(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, hx: float,
            hy: float) -> np.ndarray:
    """Relative uplift: the main ridge in the north-west plus a few massifs (about 0.5-2)."""
    s = -0.64 * x / hx + 0.77 * y / hy
    u = 0.55 + 0.9 * (0.5 + 0.5 * np.tanh(1.4 * s))
    for _ in range(5):
        cx, cy = rng.uniform(-0.9, 0.3) * hx, rng.uniform(-0.2, 0.9) * hy
        sig, amp = rng.uniform(3000.0, 7000.0), rng.uniform(0.25, 0.55)
        u = u + amp * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sig**2))
    return u


def synth_terrain(rng: np.random.Generator, grid: GridSpec | None = None,
                  low_m: float = 150.0, high_m: float = 1750.0) -> Terrain:
    """Generate the demo county's terrain.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (consumed in a fixed order).
    grid : GridSpec, optional
        Target grid (default: 1 arc-second, lon 116.0-116.55 E, lat 30.6-31.05 N).
    low_m, high_m : float
        Elevation of the lowest and highest cell after scaling (m).

    Returns
    -------
    Terrain
    """
    grid = grid or GridSpec()
    rows, cols, dx, dy = grid.rows, grid.cols, grid.dx_m, grid.dy_m
    hx, hy = grid.half_extent_m
    spacing = 450.0
    ncx = math.ceil(2 * hx / spacing) + 3
    ncy = math.ceil(2 * hy / spacing) + 3
    ux, uy = np.meshgrid((np.arange(ncx) - (ncx - 1) / 2.0) * spacing,
                         (np.arange(ncy) - (ncy - 1) / 2.0) * spacing)
    uplift = _uplift(rng, ux.ravel(), uy.ravel(), hx, hy)
    tree = _drainage(rng, grid, spacing, uplift)
    streams = _channels(rng, tree, (150.0, 12.0, 0.9))

    xs, ys = grid.cell_xy()
    cyc = (ys - tree.y.min()) / spacing
    cxc = (xs - tree.x.min()) / spacing
    coarse = ndimage.map_coordinates(
        tree.bed_m.reshape(tree.shape), np.meshgrid(cyc, cxc, indexing="ij"), order=3,
        mode="nearest")
    relief = np.clip(coarse - 150.0, 0.0, None) / 600.0
    detail = spectral_noise(rng, rows, cols, dx, dy, beta=3.0, lmin=60.0, lmax=4000.0)
    ridge = 1.0 - np.abs(spectral_noise(rng, rows, cols, dx, dy, 2.6, 400.0, 3000.0))
    z = coarse + (45.0 * detail + 35.0 * ridge) * (0.3 + relief)

    dists, beds = [], []
    for order, width, floor, p in ((1, 1300.0, 180.0, 1.3), (2, 750.0, 45.0, 1.2),
                                   (3, 450.0, 10.0, 1.1)):
        z, dist, near_bed = _carve(z, grid, streams, order, width, floor, p)
        dists.append(dist)
        beds.append(near_bed)

    zmin, zmax = float(z.min()), float(z.max())
    scale = (high_m - low_m) / (zmax - zmin)
    z = low_m + (z - zmin) * scale
    streams = [Stream(st.order, st.xy, low_m + (st.bed_m - zmin) * scale) for st in streams]
    nearest = np.argmin(np.stack(dists), axis=0)
    bed_near = np.take_along_axis(np.stack(beds), nearest[None], axis=0)[0]
    hand = np.maximum(z - (low_m + (bed_near - zmin) * scale), 0.0)
    gy, gx = np.gradient(z, dy, dx)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    return Terrain(
        grid=grid,
        elevation_m=z.astype(np.float32),
        slope_deg=slope.astype(np.float32),
        height_above_stream_m=hand.astype(np.float32),
        dist_main_m=dists[0].astype(np.float32),
        dist_side_m=np.minimum(dists[0], dists[1]).astype(np.float32),
        streams=tuple(streams),
    )

def to_int16_dem(elevation_m: np.ndarray, nodata: int = -32768,
                 void: tuple[slice, slice] | None = None) -> np.ndarray:
    """Round elevations to whole metres as int16 and punch an optional void.

    Parameters
    ----------
    elevation_m : ndarray
        Elevations (m).
    nodata : int
        Value of void cells.
    void : (slice, slice), optional
        Rows and columns set to ``nodata`` (a data void, as real DEMs have).

    Returns
    -------
    ndarray of int16
    """
    dem = np.rint(elevation_m).astype(np.int16)
    if void is not None:
        dem[void] = nodata
    return dem
