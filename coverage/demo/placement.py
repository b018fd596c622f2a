"""Placing things in the plane: spaced random samples, Voronoi tilings, points kept inside.

All coordinates are in the local plane (m, see :mod:`coverage.demo.plane`).
"""

from __future__ import annotations

import numpy as np
import shapely

from coverage.demo.plane import GRID, cell_xy, to_lonlat


def spaced_sample(rng: np.random.Generator, xy: np.ndarray, weight: np.ndarray, n: int,
                  spacing: float | np.ndarray, draws: int) -> np.ndarray:
    """Indices of up to ``n`` points drawn with probability ~ weight, spaced apart.

    A candidate is kept when no kept point is nearer than its ``spacing`` (m; a scalar or one
    value per point). Lowers the spacing by 10 % until ``n`` points are found (or gives what
    it can).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    xy : ndarray, shape (m, 2)
        Candidate coordinates (m).
    weight : ndarray, shape (m,)
        Non-negative draw weights.
    n : int
        Wanted number of points.
    spacing : float or ndarray
        Minimum distance (m) to the points already kept.
    draws : int
        Number of weighted draws (with replacement) to pick from.

    Returns
    -------
    ndarray of int
        Indices into ``xy``, in the order they were kept.
    """
    spacing = np.broadcast_to(np.asarray(spacing, dtype=float), weight.shape)
    p = weight / weight.sum()
    cand = rng.choice(len(weight), size=draws, replace=True, p=p)
    _, first = np.unique(cand, return_index=True)
    cand = cand[np.sort(first)]
    cx, cy, c_sp2 = xy[cand, 0], xy[cand, 1], spacing[cand] ** 2
    for _ in range(12):
        chosen: list[int] = []
        gx, gy = np.empty(n), np.empty(n)
        for j in range(len(cand)):
            k = len(chosen)
            if k and ((gx[:k] - cx[j]) ** 2 + (gy[:k] - cy[j]) ** 2 < c_sp2[j]).any():
                continue
            gx[k], gy[k] = cx[j], cy[j]
            chosen.append(int(cand[j]))
            if len(chosen) == n:
                return np.array(chosen)
        c_sp2 = c_sp2 * 0.81
    return np.array(chosen)


def off_lattice(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random sub-cell offsets (m), shape (n, 2): Voronoi seeds off the cell lattice keep cell
    centres off the tiles' edges."""
    return rng.uniform(-0.3, 0.3, (n, 2)) * (GRID.dx_m, GRID.dy_m)


def _polygonal(geom):
    """Keep only the polygon parts of a geometry (intersections can add lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def tile(seeds: np.ndarray, region) -> list:
    """Voronoi cells of ``seeds`` (m, shape (n, 2)) clipped to ``region``, in seed order."""
    if len(seeds) == 1:
        return [region]
    env = shapely.box(*shapely.buffer(region, 5000.0).bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds),
                                                       extend_to=env, ordered=True))
    return [_polygonal(g) for g in shapely.intersection(cells, region)]


def _inside(polys_ll, xy: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Whether each point (local plane, m) lies strictly inside its owner's lon/lat polygon."""
    lon, lat = GRID.xy_to_lonlat(xy[:, 0], xy[:, 1])
    pts = shapely.points(np.round(lon, 7), np.round(lat, 7))
    return shapely.contains_properly(np.asarray(polys_ll, dtype=object)[owner], pts)


def settle(xy: np.ndarray, owner: np.ndarray, polys_xy: list, cells: list) -> np.ndarray:
    """Keep points strictly inside their owner polygon once written in lon/lat.

    Any point that is not is moved to the owner's nearest cell centre that is (a safety net;
    points are normally generated inside).

    Parameters
    ----------
    xy : ndarray, shape (n, 2)
        Points (m).
    owner : ndarray of int, shape (n,)
        Index of each point's polygon.
    polys_xy : list of shapely Polygon
        Owner polygons (m).
    cells : list of ndarray
        Flat DEM cell indices of each owner polygon.

    Returns
    -------
    ndarray, shape (n, 2)
        The settled points (m); a new array.
    """
    polys_ll = to_lonlat(np.array(polys_xy, dtype=object))
    xy = xy.copy()
    for i in np.flatnonzero(~_inside(polys_ll, xy, owner)):
        cxy = cell_xy(cells[owner[i]])
        near = cxy[np.argsort(np.hypot(*(cxy - xy[i]).T), kind="stable")]
        ok = _inside(polys_ll, near, np.full(len(near), owner[i]))
        if ok.any():
            xy[i] = near[int(np.argmax(ok))]
        else:
            p = shapely.point_on_surface(polys_xy[owner[i]])
            xy[i] = (p.x, p.y)
    return xy
