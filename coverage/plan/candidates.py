"""Candidate tower locations: the user's list, shareable existing towers and generated hills.

Three sources, each row recording where it came from (``source``):

``user``
    ``study.candidates`` (``sites/candidates.csv``): a ``new`` location or an
    ``existing_tower`` the county can use. ``cost`` is the tower price (万元); a missing
    cost means ``planning.new_tower_cost_wan`` for a new tower and 0 for an existing one.
``existing``
    Towers of ``study.sites`` (grouped by ``tower_id``) that at least one operator is not on
    yet: an operator can share them. Already paid for, so the tower price is 0.
``hill``
    Local terrain maxima of the working DEM within ``planning.hill_search_km`` of a gap
    group, where the terrain slope around the site is at most ``planning.max_slope_deg``,
    thinned so that no two hills are closer than ``planning.hill_spacing_m`` (higher hills
    win). Price ``planning.new_tower_cost_wan``; mast ``planning.candidate_height_m``.

A user candidate within one grid cell of an existing tower replaces it (keeping its
tenants). Everything is vectorised (``scipy.ndimage`` filters, a distance transform, a k-d
tree for the thinning); the order of the result is deterministic (user, existing, hill; IDs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio.features import rasterize

from coverage.assess import Assessment
from coverage.config import Config, PlanningSettings
from coverage.grid import WorkingGrid
from coverage.signal import ANY
from coverage.study import Study

SOURCES: tuple[str, ...] = ("user", "existing", "hill")
"""Where a candidate comes from, in output order."""

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "tower_id", "source", "kind", "x", "y", "ground_m", "height_m", "price_wan",
    "existing_operators", "backhaul", "slope_deg", "gap_distance_m", "note",
)


@dataclass(frozen=True)
class Targets:
    """The groups a plan must bring signal to.

    Attributes
    ----------
    groups : DataFrame
        One row per *required* group (assessment order): group_id, village_id, name,
        households, ``n_existing`` (operators covering it now), ``covered_any`` (bool),
        ``need`` (further operators it needs: 0 when it already meets the requirement) and
        ``target`` (need > 0).
    required_operators : int
        Operators a group needs (1: any operator).
    """

    groups: pd.DataFrame
    required_operators: int

    @property
    def target_ids(self) -> list[str]:
        """group_id of every group that needs signal."""
        return self.groups.loc[self.groups["target"], "group_id"].tolist()


def planning_targets(assessment: Assessment, config: Config) -> Targets:
    """Which required groups need signal, and from how many more operators.

    With ``planning.required_operators == 1`` a group is a target when no operator covers
    it (status for ``ANY`` not ``covered``); with N > 1, when fewer than N operators cover
    it (``need = N - n_operators``).
    """
    n_req = config.planning.required_operators
    g = assessment.groups
    g = g[g["required"]].reset_index(drop=True)
    out = pd.DataFrame({
        "group_id": g["group_id"].astype(str).to_numpy(),
        "village_id": g["village_id"].astype(str).to_numpy(),
        "name": g["name"].to_numpy(),
        "households": g["households"].to_numpy(float),
        "n_existing": g["n_operators"].to_numpy(int),
        "covered_any": (g[f"status_{ANY}"] == "covered").to_numpy(),
    })
    if n_req == 1:
        out["need"] = np.where(out["covered_any"], 0, 1)
    else:
        out["need"] = np.maximum(n_req - out["n_existing"], 0)
    out["target"] = out["need"] > 0
    return Targets(groups=out, required_operators=n_req)


def slope_deg(elevation: np.ndarray, resolution_m: float) -> np.ndarray:
    """Terrain slope (degrees) by Horn's 3 x 3 method; NaN where a neighbour is NaN.

    Horn's slope is ~0 on a symmetric summit, so a site's buildability uses
    :func:`site_slope_deg` (the steepest slope in the 3 x 3 cells around it).
    """
    from scipy import ndimage  # here: a memoised plan never needs it

    e = elevation.astype(np.float64)
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float) / (8.0 * resolution_m)
    ky = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float) / (8.0 * resolution_m)
    gx = ndimage.correlate(e, kx, mode="nearest")
    gy = ndimage.correlate(e, ky, mode="nearest")
    return np.degrees(np.arctan(np.hypot(gx, gy)))


def site_slope_deg(elevation: np.ndarray, resolution_m: float) -> np.ndarray:
    """Steepest Horn slope (degrees) among a cell and its 8 neighbours (the tower pad)."""
    from scipy import ndimage  # here: a memoised plan never needs it

    slope = slope_deg(elevation, resolution_m)
    filled = np.where(np.isfinite(slope), slope, 90.0)
    return ndimage.maximum_filter(filled, size=3, mode="nearest")


def _gap_distance_m(grid: WorkingGrid, groups: gpd.GeoDataFrame) -> np.ndarray:
    """Distance (m) from every cell centre to the nearest cell touched by ``groups``."""
    from scipy import ndimage  # here: a memoised plan never needs it

    if groups.empty:
        return np.full(grid.shape, np.inf)
    mask = rasterize(((geom, 1) for geom in groups.geometry), out_shape=grid.shape,
                     transform=grid.transform, fill=0, all_touched=True, dtype="uint8")
    if not mask.any():
        return np.full(grid.shape, np.inf)
    return ndimage.distance_transform_edt(mask == 0) * grid.resolution_m


def thin_by_spacing(x: np.ndarray, y: np.ndarray, priority: np.ndarray,
                    spacing_m: float) -> np.ndarray:
    """Greedy thinning: keep points in priority order, dropping any closer than the spacing.

    Parameters
    ----------
    x, y : ndarray
        Coordinates (m).
    priority : ndarray
        Higher first; ties keep the input order.
    spacing_m : float
        Minimum distance between two kept points (m).

    Returns
    -------
    ndarray of int
        Indices of the kept points, sorted ascending.
    """
    from scipy.spatial import cKDTree  # here: a memoised plan never needs it

    n = len(x)
    if n == 0:
        return np.empty(0, np.int64)
    order = np.lexsort((np.arange(n), -np.asarray(priority, float)))
    tree = cKDTree(np.column_stack([x, y]))
    alive = np.ones(n, bool)
    kept = []
    for i in order:
        if not alive[i]:
            continue
        kept.append(i)
        # strictly closer than the spacing: points exactly at it may stay
        near = tree.query_ball_point((x[i], y[i]), r=np.nextafter(spacing_m, 0.0))
        alive[near] = False
    return np.sort(np.asarray(kept, np.int64))


def hill_sites(grid: WorkingGrid, gap_groups: gpd.GeoDataFrame,
               planning: PlanningSettings) -> pd.DataFrame:
    """Generated hill-top candidates near the gap groups.

    Parameters
    ----------
    grid : WorkingGrid
        Working DEM.
    gap_groups : GeoDataFrame
        Polygons of the groups that need signal (working CRS).
    planning : PlanningSettings
        ``hill_search_km``, ``hill_spacing_m``, ``max_slope_deg``, ``candidate_height_m``,
        ``new_tower_cost_wan``.

    Returns
    -------
    DataFrame
        Columns :data:`CANDIDATE_COLUMNS`; ``tower_id`` ``HILL-0001`` … numbered north to
        south, west to east.

    Notes
    -----
    A cell is a local maximum when it equals the maximum of the square of half-side
    ``hill_spacing_m / 2`` around it and is strictly above that square's minimum (a flat
    plain gives no hills). The slope is the steepest Horn slope of the cell and its eight
    neighbours; the distance is to the nearest cell touched by a gap group.
    """
    from scipy import ndimage  # here: a memoised plan never needs it

    elev = grid.elevation
    res = grid.resolution_m
    valid = np.isfinite(elev)
    if not valid.any() or gap_groups.empty:
        return _empty_frame()
    filled = np.where(valid, elev, -np.inf).astype(np.float64)
    half = max(1, math.ceil(planning.hill_spacing_m / 2.0 / res))
    size = 2 * half + 1
    wmax = ndimage.maximum_filter(filled, size=size, mode="nearest")
    wmin = ndimage.minimum_filter(np.where(valid, elev, np.inf).astype(np.float64), size=size,
                                  mode="nearest")
    slope = site_slope_deg(elev, res)
    dist = _gap_distance_m(grid, gap_groups)
    peak = (valid & (filled >= wmax) & (filled > wmin)
            & (slope <= planning.max_slope_deg)
            & (dist <= planning.hill_search_km * 1000.0))
    rows, cols = np.nonzero(peak)
    if rows.size == 0:
        return _empty_frame()
    x, y = grid.xy(rows, cols)
    keep = thin_by_spacing(x, y, filled[rows, cols], planning.hill_spacing_m)
    rows, cols, x, y = rows[keep], cols[keep], x[keep], y[keep]
    order = np.lexsort((cols, rows))          # north to south, then west to east
    rows, cols, x, y = rows[order], cols[order], x[order], y[order]
    n = len(rows)
    return pd.DataFrame({
        "tower_id": [f"HILL-{i + 1:04d}" for i in range(n)],
        "source": "hill", "kind": "new", "x": x, "y": y,
        "ground_m": elev[rows, cols].astype(float),
        "height_m": float(planning.candidate_height_m),
        "price_wan": float(planning.new_tower_cost_wan),
        "existing_operators": [()] * n, "backhaul": "none",
        "slope_deg": np.round(slope[rows, cols], 2),
        "gap_distance_m": np.round(dist[rows, cols], 1),
        "note": [f"hill top {elev[r, c]:.0f} m" for r, c in zip(rows, cols, strict=True)],
    })


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CANDIDATE_COLUMNS})


def existing_towers(study: Study) -> pd.DataFrame:
    """Every tower of ``study.sites`` with its tenants, mast height and backhaul.

    Returns
    -------
    DataFrame
        Columns :data:`CANDIDATE_COLUMNS` (``source = "existing"``, price 0), one row per
        ``tower_id`` sorted by ID: position of its first site, tallest mast, tenants
        (sorted operator codes), backhaul ``fiber`` when any of its sites has fiber, else
        ``microwave`` when any has microwave, else ``none``.
    """
    sites = study.sites
    if sites is None or sites.empty:
        return _empty_frame()
    frame = pd.DataFrame({
        "tower_id": sites["tower_id"].astype(str).to_numpy(),
        "operator": sites["operator"].astype(str).to_numpy(),
        "x": shapely.get_x(np.asarray(sites.geometry.array, dtype=object)),
        "y": shapely.get_y(np.asarray(sites.geometry.array, dtype=object)),
        "height_m": sites["height_m"].to_numpy(float),
        "backhaul": (sites["backhaul"].fillna("none").astype(str).to_numpy()
                     if "backhaul" in sites else "none"),
        "status": sites["status"].astype(str).to_numpy() if "status" in sites else "on_air",
    })
    rank = {"fiber": 2, "microwave": 1}
    frame["bh_rank"] = frame["backhaul"].map(rank).fillna(0)
    rows = []
    for tower_id, sub in frame.groupby("tower_id", sort=True):
        best_bh = int(sub["bh_rank"].max())
        statuses = sorted(set(sub["status"]))
        rows.append({
            "tower_id": str(tower_id), "source": "existing", "kind": "existing_tower",
            "x": float(sub["x"].iloc[0]), "y": float(sub["y"].iloc[0]),
            "height_m": float(sub["height_m"].max()), "price_wan": 0.0,
            "existing_operators": tuple(sorted(set(sub["operator"]))),
            "backhaul": {2: "fiber", 1: "microwave"}.get(best_bh, "none"),
            "slope_deg": np.nan, "gap_distance_m": np.nan,
            "note": "existing tower (" + "/".join(statuses) + ")",
        })
    out = pd.DataFrame(rows)
    out["ground_m"] = study.grid.sample(out["x"].to_numpy(), out["y"].to_numpy())
    return out[list(CANDIDATE_COLUMNS)]


def user_candidates(study: Study, towers: pd.DataFrame) -> pd.DataFrame:
    """The user's candidate list as candidate rows; matched to an existing tower within a
    grid cell (its tenants and backhaul are kept)."""
    from scipy.spatial import cKDTree  # here: a memoised plan never needs it

    cands = study.candidates
    planning = study.config.planning
    if cands is None or cands.empty:
        return _empty_frame()
    geoms = np.asarray(cands.geometry.array, dtype=object)
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    kind = cands["kind"].fillna("new").astype(str).to_numpy() if "kind" in cands else (
        np.full(len(cands), "new"))
    cost = cands["cost"].to_numpy(float) if "cost" in cands else np.full(len(cands), np.nan)
    height = (cands["height_m"].to_numpy(float) if "height_m" in cands
              else np.full(len(cands), np.nan))
    height = np.where(np.isfinite(height), height, planning.candidate_height_m)
    default_price = np.where(kind == "new", planning.new_tower_cost_wan, 0.0)
    price = np.where(np.isfinite(cost), cost, default_price)
    tenants: list[tuple[str, ...]] = [()] * len(cands)
    backhaul = ["none"] * len(cands)
    notes = ["user candidate"] * len(cands)
    if len(towers):
        tree = cKDTree(towers[["x", "y"]].to_numpy(float))
        dist, idx = tree.query(np.column_stack([x, y]), k=1)
        for i, (d, j) in enumerate(zip(dist, idx, strict=True)):
            if d <= study.grid.resolution_m:
                tenants[i] = towers["existing_operators"].iloc[j]
                backhaul[i] = towers["backhaul"].iloc[j]
                notes[i] = f"user candidate at existing tower {towers['tower_id'].iloc[j]}"
                height[i] = max(height[i], float(towers["height_m"].iloc[j]))
    out = pd.DataFrame({
        "tower_id": cands["candidate_id"].astype(str).to_numpy(), "source": "user",
        "kind": kind, "x": x, "y": y, "ground_m": study.grid.sample(x, y),
        "height_m": height, "price_wan": price, "existing_operators": tenants,
        "backhaul": backhaul, "slope_deg": np.nan, "gap_distance_m": np.nan, "note": notes,
    })
    return out.sort_values("tower_id", kind="stable").reset_index(drop=True)


def generate_candidates(study: Study, targets: Targets) -> gpd.GeoDataFrame:
    """The union of user candidates, shareable existing towers and hill sites.

    Parameters
    ----------
    study : Study
        Inputs (grid, sites, candidates, groups, config.planning).
    targets : Targets
        From :func:`planning_targets`; hills are sought near its target groups.

    Returns
    -------
    GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS` plus ``geometry`` (working CRS). Candidates over
        DEM nodata are dropped; an existing tower already carrying every operator of the
        config is kept out (nothing can be added to it); existing towers replaced by a user
        candidate at the same place are dropped.
    """
    from scipy.spatial import cKDTree  # here: a memoised plan never needs it

    planning = study.config.planning
    operators = set(study.config.operators)
    towers = existing_towers(study)
    user = user_candidates(study, towers)
    if len(user) and len(towers):
        tree = cKDTree(user[["x", "y"]].to_numpy(float))
        dist, _ = tree.query(towers[["x", "y"]].to_numpy(float), k=1)
        towers = towers[dist > study.grid.resolution_m]
    if len(towers):
        room = [bool(operators - set(t)) for t in towers["existing_operators"]]
        towers = towers[np.asarray(room, bool)]
    gap_ids = set(targets.target_ids)
    gap_groups = study.groups[study.groups["group_id"].astype(str).isin(gap_ids)]
    hills = hill_sites(study.grid, gap_groups, planning)
    parts = [p for p in (user, towers, hills) if len(p)]
    frame = pd.concat(parts, ignore_index=True) if parts else _empty_frame()
    if len(frame):
        frame = frame[np.isfinite(frame["ground_m"].to_numpy(float))].reset_index(drop=True)
        dup = frame["tower_id"].duplicated(keep="first")
        frame.loc[dup, "tower_id"] = frame.loc[dup, "tower_id"] + "~" + frame.loc[dup, "source"]
    for col in ("x", "y", "ground_m", "height_m", "price_wan", "slope_deg", "gap_distance_m"):
        frame[col] = frame[col].astype(float)
    geometry = gpd.points_from_xy(frame["x"], frame["y"], crs=study.grid.crs)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=study.grid.crs)
