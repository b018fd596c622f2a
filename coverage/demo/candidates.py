"""Candidate tower locations the user lists: hilltops near uncovered groups, existing towers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage.demo.plane import GRID
from coverage.demo.settlements import Settlement
from coverage.demo.terrain_synth import Terrain

N_NEW = 88
"""At most this many hilltop candidates for new towers."""
N_EXISTING = 16
"""At most this many power or broadcast towers on ridges that could carry antennas."""


def pick_candidates(rng: np.random.Generator, s: Settlement, z: np.ndarray, t: Terrain,
                    uncovered: np.ndarray, towers_xy: np.ndarray) -> pd.DataFrame:
    """Hilltops near uncovered settlements, plus some power/broadcast towers on ridges.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    s : Settlement
        Villages, groups and households placed.
    z : ndarray, shape (rows, cols)
        Elevation (m), no nodata.
    t : Terrain
        The synthetic terrain (distance to side valleys gives access cost).
    uncovered : ndarray of bool
        Groups lacking signal (screening estimate).
    towers_xy : ndarray, shape (n, 2)
        Existing masts (m); candidates keep 800 m from them.

    Returns
    -------
    DataFrame
        Columns of :data:`coverage.schema.CANDIDATES` (lon/lat in degrees, height in m,
        cost in 万元).
    """
    def hilltop(centre: np.ndarray, radius: float) -> tuple[np.ndarray, float]:
        rr, cc = int(radius / GRID.dy_m) + 1, int(radius / GRID.dx_m) + 1
        col, row = GRID.xy_to_colrow(centre[0], centre[1])
        r0, c0 = int(np.rint(row)) - rr, int(np.rint(col)) - cc
        r0, c0 = max(r0, 0), max(c0, 0)
        win = z[r0:r0 + 2 * rr + 1, c0:c0 + 2 * cc + 1]
        yy, xx = np.mgrid[0:win.shape[0], 0:win.shape[1]]
        wx, wy = GRID.colrow_to_xy(c0 + xx, r0 + yy)
        ok = (np.hypot(wx - centre[0], wy - centre[1]) <= radius) & s.mask[
            r0:r0 + win.shape[0], c0:c0 + win.shape[1]]
        k = int(np.argmax(np.where(ok, win, -1e9)))
        r, c = divmod(k, win.shape[1])
        return np.array(GRID.colrow_to_xy(c0 + c, r0 + r)), float(win[r, c])

    chosen: list[tuple[np.ndarray, str, float, float]] = []

    def free(xy: np.ndarray, d_cand: float) -> bool:
        if any(np.hypot(*(xy - c[0])) < d_cand for c in chosen):
            return False
        return bool(np.min(np.hypot(*(towers_xy - xy).T)) >= 800.0)

    gs = np.flatnonzero(uncovered)
    gs = gs[np.argsort(-s.group_hh[gs], kind="stable")]
    for g in gs:
        xy, elev = hilltop(s.group_main[g], float(rng.uniform(700.0, 1500.0)))
        if not free(xy, 1200.0):
            continue
        col, row = GRID.xy_to_colrow(xy[0], xy[1])
        access_km = float(t.dist_side_m[int(np.rint(row)), int(np.rint(col))]) / 1000.0
        cost = 48.0 + 9.0 * min(access_km, 4.0) + 0.02 * max(elev - 400.0, 0.0)
        chosen.append((xy, "new", float(rng.choice([30.0, 35.0, 40.0])),
                       round(cost + float(rng.uniform(-3.0, 3.0)), 1)))
        if len(chosen) == N_NEW:
            break
    n_new = len(chosen)
    for g in rng.permutation(gs):
        xy, _ = hilltop(s.group_main[g], 2500.0)
        if not free(xy, 1500.0):
            continue
        chosen.append((xy, "existing_tower", float(rng.choice([25.0, 30.0, 40.0, 50.0])),
                       round(float(rng.uniform(12.0, 30.0)), 1)))
        if len(chosen) == n_new + N_EXISTING:
            break
    xy = np.array([c[0] for c in chosen])
    lon, lat = GRID.xy_to_lonlat(xy[:, 0], xy[:, 1])
    return pd.DataFrame({
        "candidate_id": [f"C{i + 1:03d}" for i in range(len(chosen))],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "height_m": [c[2] for c in chosen], "kind": [c[1] for c in chosen],
        "cost": [c[3] for c in chosen],
    })
