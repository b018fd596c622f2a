"""Backhaul: a microwave line-of-sight graph from every chosen site to fiber (networkx).

Nodes
    *fiber* nodes — existing towers with a fiber-fed site and the fiber points of villages
    marked ``fiber`` (their committee point, else a point inside the village; mast
    :data:`TOWN_MAST_M`); *relay* nodes — the other existing towers; and the chosen sites.
Edges
    A microwave hop between two nodes exists when it is no longer than the hop range of
    both ends (``microwave_hop_km`` of the bands on the tower; fiber points: unlimited) and
    the DEM profile between the two mast tops clears 60 % of the first Fresnel zone at
    every interior point, with the earth bulge at k = 4/3 (:func:`los_clearance`), at the
    microwave frequency :data:`MICROWAVE_GHZ`.
Paths
    A shortest-path tree: Dijkstra from a super-source joined to every fiber node, with a
    hop weight of ``HOP_WEIGHT + length (m)`` (fewest hops first, then the shortest), gives
    each chosen site its own least-cost path to fiber; the union of these paths is a tree,
    so a hop shared by several sites is counted (and built) once. We chose it over a Steiner
    tree (``networkx.algorithms.approximation.steiner_tree``, a 2-approximation of the
    least total length) because every site's path is individually optimal and easy to
    explain; the total may exceed the Steiner optimum when two sites could share a longer
    common trunk.

A chosen site with no path gets a finding (nearest fiber point and distance).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.config import Config
from coverage.grid import WorkingGrid
from coverage.plan.candidates import existing_towers
from coverage.study import Study

if TYPE_CHECKING:  # imported where used: a run whose plan is memoised never needs it
    import networkx as nx

MICROWAVE_GHZ = 15.0
"""Microwave backhaul frequency (GHz) for the Fresnel zone: the 15 GHz band, common for
rural hops of 5-15 km (F1 at mid-path of a 10 km hop: 7.1 m)."""

K_FACTOR = 4.0 / 3.0
"""Effective earth-radius factor for the earth bulge."""

EARTH_RADIUS_M = 6_371_000.0

FRESNEL_CLEARANCE = 0.6
"""Required clearance as a fraction of the first Fresnel radius."""

TOWN_MAST_M = 20.0
"""Mast height (m above ground) assumed at a town or village fiber point."""

HOP_WEIGHT = 1_000_000
"""Integer weight of one hop (a pair of microwave radios), plus its length in metres."""

FIBER = "FIBER"
"""Name of the super-source node."""


@dataclass(frozen=True)
class Backhaul:
    """Result of :func:`plan_backhaul`.

    Attributes
    ----------
    sites : DataFrame
        One row per chosen tower: tower_id, status (``fiber`` at a fiber node, ``microwave``
        with a path, ``none``), hops, length_km, path (node IDs from the site to fiber,
        ">"-joined), fiber_node, nearest_fiber_id, nearest_fiber_km, finding.
    links : GeoDataFrame
        The hops of the tree: from_id, to_id, length_km, clearance_ratio (smallest
        clearance / F1 along the hop), serves (";"-joined chosen towers), new (True when
        the hop is not a fiber connection already), LineString geometry (working CRS).
    nodes : DataFrame
        Every graph node: node_id, role (fiber / relay / chosen), x, y, top_m (mast top,
        m amsl), range_km.
    stats : BackhaulStats
        Graph and tree counts.
    """

    sites: pd.DataFrame
    links: gpd.GeoDataFrame
    nodes: pd.DataFrame
    stats: BackhaulStats


@dataclass(frozen=True)
class BackhaulStats:
    """Counts of one :func:`plan_backhaul` run.

    Attributes
    ----------
    nodes, fiber_nodes : int
        Graph nodes, and those that are fiber nodes.
    pairs_tested : int
        Node pairs within hop range whose line of sight was tested.
    los_edges : int
        Hops that clear the Fresnel criterion.
    tree_hops : int
        Hops in the shortest-path tree (the links to build or keep).
    tree_km : float
        Total length of the tree's hops (km, 3 decimals).
    sites_without_path : int
        Chosen sites with no path to fiber.
    """

    nodes: int
    fiber_nodes: int
    pairs_tested: int
    los_edges: int
    tree_hops: int
    tree_km: float
    sites_without_path: int


@dataclass(frozen=True)
class _Mast:
    """One tower or chosen site as a backhaul graph node candidate (m, working CRS)."""

    tower_id: str
    x: float
    y: float
    ground_m: float
    height_m: float
    backhaul: str
    range_km: float


def _masts(frame: pd.DataFrame) -> list[_Mast]:
    """Rows of a tower table (tower_id, x, y, ground_m, height_m; optionally backhaul and
    range_km) as typed records; tower_id as text, backhaul ``""`` and range 0 when absent."""
    n = len(frame)
    backhaul = frame["backhaul"].tolist() if "backhaul" in frame else [""] * n
    range_km = frame["range_km"].tolist() if "range_km" in frame else [0.0] * n
    return [_Mast(str(t), float(x), float(y), float(g), float(h), str(b), float(r))
            for t, x, y, g, h, b, r in zip(
                frame["tower_id"].tolist(), frame["x"].tolist(), frame["y"].tolist(),
                frame["ground_m"].tolist(), frame["height_m"].tolist(), backhaul, range_km,
                strict=True)]


def fresnel_radius_m(d1_m: np.ndarray, d2_m: np.ndarray, f_ghz: float) -> np.ndarray:
    """First Fresnel zone radius (m) at distances d1, d2 (m) from the two ends."""
    lam = 0.299792458 / f_ghz
    d = d1_m + d2_m
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(lam * d1_m * d2_m / np.where(d > 0, d, 1.0))


def earth_bulge_m(d1_m: np.ndarray, d2_m: np.ndarray, k: float = K_FACTOR) -> np.ndarray:
    """Height (m) of the effective earth's bulge above the chord at d1, d2 (m)."""
    return d1_m * d2_m / (2.0 * k * EARTH_RADIUS_M)


def los_clearance(grid: WorkingGrid, xa: np.ndarray, ya: np.ndarray, ha: np.ndarray,
                  xb: np.ndarray, yb: np.ndarray, hb: np.ndarray,
                  *, f_ghz: float = MICROWAVE_GHZ, k: float = K_FACTOR,
                  step_m: float | None = None) -> np.ndarray:
    """Smallest Fresnel clearance ratio along each of many hops (vectorised).

    Parameters
    ----------
    grid : WorkingGrid
        Terrain (bilinear samples; NaN terrain blocks the hop).
    xa, ya, xb, yb : ndarray
        Hop ends (m, working CRS).
    ha, hb : ndarray
        Antenna heights at the ends (m above sea level: ground + mast).
    f_ghz : float
        Frequency for the Fresnel zone (GHz).
    k : float
        Effective earth-radius factor.
    step_m : float, optional
        Sample spacing along the hop (default: the grid resolution).

    Returns
    -------
    ndarray
        ``min over interior points of (line height − terrain − bulge) / F1``; the hop is
        clear when it is ≥ 0.6. ``inf`` for hops too short to have an interior sample.
    """
    xa, ya, ha, xb, yb, hb = (np.atleast_1d(np.asarray(v, float))
                              for v in (xa, ya, ha, xb, yb, hb))
    n = xa.size
    out = np.full(n, np.inf)
    if n == 0:
        return out
    step = step_m or grid.resolution_m
    length = np.hypot(xb - xa, yb - ya)
    n_int = np.maximum(np.ceil(length / step).astype(np.int64) - 1, 0)  # interior samples
    has = n_int > 0
    if not has.any():
        return out
    idx = np.flatnonzero(has)
    counts = n_int[idx]
    link = np.repeat(idx, counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    j = np.arange(counts.sum()) - np.repeat(starts, counts) + 1
    t = j / (n_int[link] + 1.0)
    x = xa[link] + t * (xb[link] - xa[link])
    y = ya[link] + t * (yb[link] - ya[link])
    d1 = t * length[link]
    d2 = length[link] - d1
    terrain = grid.sample(x, y)
    line = ha[link] + t * (hb[link] - ha[link])
    ratio = (line - terrain - earth_bulge_m(d1, d2, k)) / fresnel_radius_m(d1, d2, f_ghz)
    ratio = np.where(np.isfinite(ratio), ratio, -np.inf)
    out[idx] = np.minimum.reduceat(ratio, starts)
    return out


def fiber_points(study: Study) -> pd.DataFrame:
    """Fiber points of villages marked ``fiber``: node_id ``FIBER-<village_id>``, x, y.

    The village's committee test point when it has one, else a point inside the village.
    """
    vill = study.villages
    if "fiber" not in vill:
        return pd.DataFrame(columns=["node_id", "x", "y"])
    flag = vill["fiber"].fillna(False).astype(bool).to_numpy()
    vill = vill[flag]
    pts = study.points
    committee = pts[pts["kind"] == "committee"].drop_duplicates("village_id")
    by_village = dict(zip(committee["village_id"].astype(str), committee.geometry,
                          strict=True))
    rows = []
    for vid, geom in zip(vill["village_id"].astype(str), vill.geometry, strict=True):
        point = by_village.get(vid) or geom.representative_point()
        rows.append({"node_id": f"FIBER-{vid}", "x": point.x, "y": point.y})
    return pd.DataFrame(rows, columns=["node_id", "x", "y"]).sort_values(
        "node_id").reset_index(drop=True)


def _band_range_km(config: Config, study: Study) -> dict[str, float]:
    """Hop range (km) of every existing tower: the largest of its bands' ranges."""
    out: dict[str, float] = {}
    for tower, op, band in zip(study.sites["tower_id"].astype(str), study.sites["operator"],
                               study.sites["band"], strict=True):
        try:
            r = config.band(op, band).microwave_hop_km
        except KeyError:
            continue
        out[tower] = max(out.get(tower, 0.0), r)
    return out


def graph_nodes(study: Study, chosen: pd.DataFrame) -> pd.DataFrame:
    """All nodes of the backhaul graph (see :class:`Backhaul`).

    Parameters
    ----------
    chosen : DataFrame
        tower_id, x, y, ground_m, height_m, range_km of the chosen sites, and optionally
        backhaul (``fiber`` makes the site a fiber node, e.g. a user candidate at a
        fiber-fed tower).
    """
    towers = existing_towers(study)
    ranges = _band_range_km(study.config, study)
    rows: list[dict[str, object]] = []
    chosen_ids = set(chosen["tower_id"].astype(str))
    for t in _masts(towers):
        if not np.isfinite(t.ground_m):
            continue
        role = "fiber" if t.backhaul == "fiber" else "relay"
        rng = ranges.get(t.tower_id, 0.0)
        if t.tower_id in chosen_ids:
            extra = float(chosen.loc[chosen["tower_id"] == t.tower_id, "range_km"].iloc[0])
            rng = max(rng, extra)
            role = "fiber" if role == "fiber" else "chosen"
        rows.append({"node_id": t.tower_id, "role": role, "x": t.x, "y": t.y,
                     "top_m": t.ground_m + t.height_m, "range_km": rng})
    fp = fiber_points(study)
    if len(fp):
        ground = study.grid.sample(fp["x"].to_numpy(), fp["y"].to_numpy())
        for node_id, x, y, g in zip(fp["node_id"].tolist(), fp["x"].tolist(),
                                    fp["y"].tolist(), ground, strict=True):
            if np.isfinite(g):
                rows.append({"node_id": node_id, "role": "fiber", "x": x, "y": y,
                             "top_m": g + TOWN_MAST_M, "range_km": math.inf})
    have = {r["node_id"] for r in rows}
    fed = set(chosen.loc[chosen["backhaul"] == "fiber", "tower_id"].astype(str)) if (
        "backhaul" in chosen) else set()
    for c in _masts(chosen):
        if c.tower_id in have:
            continue
        rows.append({"node_id": c.tower_id,
                     "role": "fiber" if c.tower_id in fed else "chosen", "x": c.x,
                     "y": c.y, "top_m": c.ground_m + c.height_m, "range_km": c.range_km})
    nodes = pd.DataFrame(rows, columns=["node_id", "role", "x", "y", "top_m", "range_km"])
    return nodes.sort_values("node_id", kind="stable").reset_index(drop=True)


def los_graph(grid: WorkingGrid, nodes: pd.DataFrame, f_ghz: float = MICROWAVE_GHZ,
              chunk: int = 4096) -> tuple[nx.Graph, int]:
    """Graph of the hops that are within range and clear the Fresnel criterion.

    Returns
    -------
    (Graph, int)
        Nodes named by node_id (attributes role, x, y, top_m), edges with ``weight``
        (``HOP_WEIGHT + metres``), ``length_m`` and ``clearance``; and the number of pairs
        tested.
    """
    import networkx as nx

    g = nx.Graph()
    for node_id, role, x, y, top_m in zip(nodes["node_id"].tolist(), nodes["role"].tolist(),
                                          nodes["x"].tolist(), nodes["y"].tolist(),
                                          nodes["top_m"].tolist(), strict=True):
        g.add_node(node_id, role=role, x=x, y=y, top_m=top_m)
    xy = nodes[["x", "y"]].to_numpy(float)
    rng_m = nodes["range_km"].to_numpy(float) * 1000.0
    if len(nodes) < 2:
        return g, 0
    from scipy.spatial import cKDTree

    finite = rng_m[np.isfinite(rng_m)]
    max_r = float(finite.max()) if finite.size else 0.0
    pairs = cKDTree(xy).query_pairs(r=max_r, output_type="ndarray") if max_r > 0 else (
        np.empty((0, 2), np.int64))
    if len(pairs) == 0:
        return g, 0
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    a, b = pairs[:, 0], pairs[:, 1]
    length = np.hypot(xy[a, 0] - xy[b, 0], xy[a, 1] - xy[b, 1])
    ok = length <= np.minimum(rng_m[a], rng_m[b])
    roles = nodes["role"].to_numpy()
    ok &= ~((roles[a] == "fiber") & (roles[b] == "fiber"))     # fiber-fiber hops: useless
    a, b, length = a[ok], b[ok], length[ok]
    top = nodes["top_m"].to_numpy(float)
    ids = nodes["node_id"].to_numpy()
    for s in range(0, len(a), chunk):
        sa, sb = a[s:s + chunk], b[s:s + chunk]
        ratio = los_clearance(grid, xy[sa, 0], xy[sa, 1], top[sa], xy[sb, 0], xy[sb, 1],
                              top[sb], f_ghz=f_ghz)
        for i, j, r, d in zip(sa, sb, ratio, length[s:s + chunk], strict=True):
            if r >= FRESNEL_CLEARANCE:
                g.add_edge(ids[i], ids[j], weight=HOP_WEIGHT + round(float(d)),
                           length_m=float(d), clearance=float(r))
    return g, len(a)


def plan_backhaul(study: Study, chosen: pd.DataFrame, f_ghz: float = MICROWAVE_GHZ
                  ) -> Backhaul:
    """Least-cost microwave paths from every chosen site to fiber.

    Parameters
    ----------
    study : Study
        Terrain, existing sites (towers, backhaul) and villages (fiber points).
    chosen : DataFrame
        The chosen towers: tower_id, x, y, ground_m, height_m, range_km (hop range of the
        bands installed there, km), optionally backhaul (``fiber``: already fed).
    f_ghz : float
        Microwave frequency for the Fresnel zone (GHz).

    Returns
    -------
    Backhaul
    """
    import networkx as nx

    nodes = graph_nodes(study, chosen)
    g, tested = los_graph(study.grid, nodes, f_ghz)
    fibers = nodes.loc[nodes["role"] == "fiber", "node_id"].tolist()
    g.add_node(FIBER, role="source")
    for f in fibers:
        g.add_edge(FIBER, f, weight=0, length_m=0.0, clearance=math.inf)
    _dist, paths = nx.single_source_dijkstra(g, FIBER, weight="weight")
    fxy = nodes.loc[nodes["role"] == "fiber", ["node_id", "x", "y"]]
    rows: list[dict[str, object]] = []
    used: dict[tuple[str, str], list[str]] = {}
    for c in _masts(chosen.sort_values("tower_id")):
        tid = c.tower_id
        if len(fxy):
            dd = np.hypot(fxy["x"].to_numpy() - c.x, fxy["y"].to_numpy() - c.y)
            k = int(np.argmin(dd))
            near_id, near_km = str(fxy["node_id"].iloc[k]), round(float(dd[k]) / 1000.0, 2)
        else:
            near_id, near_km = "", math.nan
        if tid in paths:
            path = paths[tid][1:][::-1]                  # site ... fiber node
            hops = len(path) - 1
            length = sum(g.edges[u, v]["length_m"] for u, v in itertools.pairwise(path))
            for u, v in itertools.pairwise(path):
                key = (u, v) if u < v else (v, u)
                used.setdefault(key, []).append(tid)
            status = "fiber" if hops == 0 else "microwave"
            finding = ("on a fiber-fed tower" if hops == 0 else
                       f"{hops} microwave hop(s), {length / 1000:.1f} km, to {path[-1]}")
            rows.append({"tower_id": tid, "status": status, "hops": hops,
                         "length_km": round(length / 1000.0, 3), "path": ">".join(path),
                         "fiber_node": path[-1], "nearest_fiber_id": near_id,
                         "nearest_fiber_km": near_km, "finding": finding})
        else:
            finding = ("no microwave path to fiber clears 60 % of the first Fresnel zone "
                       f"within the hop range; nearest fiber point {near_id} at {near_km} km. "
                       "Fix: extend fiber to the site or add a relay mast")
            rows.append({"tower_id": tid, "status": "none", "hops": -1, "length_km": math.nan,
                         "path": "", "fiber_node": "", "nearest_fiber_id": near_id,
                         "nearest_fiber_km": near_km, "finding": finding})
    sites = pd.DataFrame(rows, columns=["tower_id", "status", "hops", "length_km", "path",
                                        "fiber_node", "nearest_fiber_id", "nearest_fiber_km",
                                        "finding"])
    pos = {str(n): (float(x), float(y)) for n, x, y in zip(
        nodes["node_id"].tolist(), nodes["x"].tolist(), nodes["y"].tolist(), strict=True)}
    link_rows, geoms = [], []
    for (u, v) in sorted(used):
        e = g.edges[u, v]
        link_rows.append({"from_id": u, "to_id": v, "length_km": round(e["length_m"] / 1000, 3),
                          "clearance_ratio": round(e["clearance"], 3),
                          "serves": ";".join(sorted(set(used[(u, v)])))})
        geoms.append(shapely.LineString([pos[u], pos[v]]))
    links = gpd.GeoDataFrame(pd.DataFrame(link_rows, columns=[
        "from_id", "to_id", "length_km", "clearance_ratio", "serves"]),
        geometry=gpd.GeoSeries(geoms, crs=study.grid.crs), crs=study.grid.crs)
    stats = BackhaulStats(
        nodes=len(nodes), fiber_nodes=len(fibers), pairs_tested=tested,
        los_edges=g.number_of_edges() - len(fibers), tree_hops=len(links),
        tree_km=round(float(links["length_km"].sum()) if len(links) else 0.0, 3),
        sites_without_path=int((sites["status"] == "none").sum()))
    return Backhaul(sites=sites, links=links, nodes=nodes, stats=stats)


def nearest_fiber_km(study: Study, x: np.ndarray, y: np.ndarray, operator: str | None = None
                     ) -> np.ndarray:
    """Straight-line distance (km) to the nearest fiber point or fiber-fed tower.

    With ``operator``, only fiber-fed towers that operator is on count (plus village fiber
    points, open to every operator).
    """
    towers = existing_towers(study)
    fib = towers[towers["backhaul"] == "fiber"]
    if operator is not None:
        fib = fib[[operator in ops for ops in fib["existing_operators"]]]
    fp = fiber_points(study)
    fx = np.concatenate([fib["x"].to_numpy(float), fp["x"].to_numpy(float)])
    fy = np.concatenate([fib["y"].to_numpy(float), fp["y"].to_numpy(float)])
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    if fx.size == 0:
        return np.full(x.shape, np.inf)
    d = np.hypot(x[:, None] - fx[None, :], y[:, None] - fy[None, :]).min(axis=1)
    return d / 1000.0
