"""Deterministic generator of the demo county in ``data/``: a synthetic Dabie-mountain county.

:func:`build_demo_county` is pure: from a seed it returns every layer in memory (DEM, county,
towns, administrative villages, village groups, test points, household clusters, operator
sites, candidate tower locations and the grid/mobile works tables). :func:`write_demo_county`
writes them through :mod:`coverage.io` and returns each file's SHA-256, so that regenerating
gives byte-identical files.

The county imitates a real case (a mountain county of about 180 administrative villages, 71 of
which had 284 village groups without signal in 2020): settlements sit in valleys and on lower
slopes, operators built first in the towns and the main valleys, then in some side valleys,
and remote valleys were left out. :func:`screen_coverage` estimates which groups lack signal
with a cheap single-knife-edge (Bullington) link budget over the DEM, calibrated against the
project's P.1812 engine (:mod:`coverage.radio`), which gives the figures that count.

Geometry is generated in a local metric plane (see :class:`~coverage.terrain_synth.GridSpec`)
and written in EPSG:4326.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage, sparse
from scipy.spatial import cKDTree

from coverage.config import BandProfile, Config
from coverage.io.atomic import write_text_atomic
from coverage.io.writers import write_csv, write_geotiff, write_gpkg
from coverage.schema import (
    CANDIDATES,
    GRID_WORKS,
    GROUPS,
    HAZARDS,
    HOUSEHOLDS,
    MOBILE_WORKS,
    OPERATORS,
    POINTS,
    SITES,
    TRANSFORMERS,
    VILLAGES,
    Layer,
)
from coverage.terrain_synth import GridSpec, Terrain, synth_terrain, to_int16_dem

__all__ = ["DEFAULT_SEED", "DemoCounty", "Screening", "build_demo_county", "county_figures",
           "readme_text", "screen_coverage", "write_demo_county"]

DEFAULT_SEED = 20201031
"""Seed of the committed demo county (the inspection date 2020-10-31)."""

CRS = "EPSG:4326"
NODATA = -32768
COUNTY_NAME = "示范县"
GRID = GridSpec()
VOID = (slice(0, 36), slice(GRID.cols - 48, GRID.cols))
"""The DEM's data void: a corner patch outside the county."""

N_VILLAGES = 182
N_GROUPS_TARGET = 1700
TARGET_UNCOVERED_GROUPS = 320
VILLAGE_BIAS = 0.1
"""Greedy growth favours villages already partly covered (finishing them) by this offset."""
"""The network stops growing when this many groups lack signal (screening estimate)."""

RADIUS_M = 15_000.0
THRESHOLD_DBM = -105.0
RX_HEIGHT_M = 1.5
GROUP_SHARE = 0.95
K_FACTOR = 4.0 / 3.0
DIFFRACTION_EXTRA_DB = 8.0
"""Extra loss (dB) on diffracted paths (knife-edge nu > 0). With it the single-edge screening
matched the project's P.1812 engine on this county (covered share of household points within
0.5 % for every operator, 97-98 % of points judged alike); without it the screening was about
9 dB optimistic near the threshold."""
EARTH_RADIUS_M = 6_371_000.0

TOWNS = ("天河镇", "响水镇", "店岭镇", "石门镇", "白沙镇", "枫林镇", "龙潭镇",
         "铁溪镇", "青枫乡", "莲塘乡", "黄柏乡", "来凤乡", "毛竹乡", "汤池乡")
_FIRST = ("石黄白青龙凤马牛花金银团茶桃杨松枫竹桂梅兰柳槐杉岩云"
          "平新和联光明高大双太红永兴安长古清月星泉鹤鹰狮象虎")
_SECOND = "岭冲畈坪湾岗溪坳塘桥河山林庄园源川岩峰关口店坂坦铺寨洼沟垄"
_PLACES = ("上湾", "下湾", "大屋", "老屋", "新屋", "中屋", "枫树", "竹园", "河边", "岭头", "冲口",
           "冲里", "石门", "塘坎", "茶园", "松树", "高岭", "庙前", "桥头", "岩下", "坳里", "杨树",
           "畈上", "坪上", "垄口", "山脚", "井边", "楼下", "祠堂", "大湾", "小湾", "前山", "后山",
           "西冲", "东冲", "檀树", "栗树", "桑园", "洼里", "岗上")
_GRID_OWNERS = ("县供电公司", "县供电公司", "县供电公司", "皖源电力安装有限公司",
                "天河电力工程有限公司")


# --------------------------------------------------------------------------- results


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


# --------------------------------------------------------------------------- helpers


def _to_lonlat(geoms, grid: GridSpec = GRID):
    """Local-plane geometries (m) to lon/lat geometries."""
    return shapely.transform(geoms, lambda c: np.column_stack(grid.xy_to_lonlat(c[:, 0], c[:, 1])))


def _polygonal(geom):
    """Keep only the polygon parts of a geometry (intersections can add lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _spaced_sample(rng: np.random.Generator, xy: np.ndarray, weight: np.ndarray, n: int,
                   spacing: float | np.ndarray, draws: int) -> np.ndarray:
    """Indices of up to ``n`` points drawn with probability ~ weight, spaced apart.

    A candidate is kept when no kept point is nearer than its ``spacing`` (m; a scalar or one
    value per point). Lowers the spacing by 10 % until ``n`` points are found (or gives what
    it can).
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


def _tile(seeds: np.ndarray, region) -> list:
    """Voronoi cells of ``seeds`` (m) clipped to ``region``, in seed order."""
    if len(seeds) == 1:
        return [region]
    env = shapely.box(*shapely.buffer(region, 5000.0).bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds),
                                                       extend_to=env, ordered=True))
    return [_polygonal(g) for g in shapely.intersection(cells, region)]


def _cells_by_label(raster: np.ndarray, n: int) -> list[np.ndarray]:
    """Flat cell indices of every label 1..n of an integer raster (label 0 = none)."""
    flat = raster.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=n + 1))])
    return [order[bounds[k]:bounds[k + 1]] for k in range(1, n + 1)]


def _rasterize(geoms, shape: tuple[int, int], transform: Affine) -> np.ndarray:
    """Label raster: cell centres inside geometry k get k + 1."""
    return features.rasterize(((g, k + 1) for k, g in enumerate(geoms)), out_shape=shape,
                              transform=transform, fill=0, dtype="int32")


def _cell_xy(flat: np.ndarray, grid: GridSpec = GRID) -> np.ndarray:
    """Local-plane coordinates (m) of flat cell indices."""
    row, col = np.divmod(flat, grid.cols)
    return np.column_stack(grid.colrow_to_xy(col, row))


def _date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """A uniformly random day in [start, end]."""
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _gdf(rows: dict, xy: np.ndarray) -> gpd.GeoDataFrame:
    """Point GeoDataFrame in EPSG:4326 from columns and local-plane coordinates (m)."""
    lon, lat = GRID.xy_to_lonlat(xy[:, 0], xy[:, 1])
    geom = shapely.points(np.round(lon, 7), np.round(lat, 7))
    return gpd.GeoDataFrame(rows, geometry=geom, crs=CRS)


# --------------------------------------------------------------------------- county


def _county_polygon(rng: np.random.Generator, grid: GridSpec):
    """An irregular county outline (local plane, m), at least 1.5 km inside the DEM."""
    hx, hy = grid.half_extent_m
    th = np.linspace(0.0, 2 * math.pi, 1440, endpoint=False)
    n = 3.2
    r = (np.abs(np.cos(th)) ** n + np.abs(np.sin(th)) ** n) ** (-1.0 / n)
    for k in range(2, 48):
        amp = (0.08 if k < 8 else 0.022) / k**0.5
        r = r * (1.0 + rng.uniform(0.3, 1.0) * amp * np.cos(k * th + rng.uniform(0, 2 * math.pi)))
    x, y = (hx - 2000.0) * r * np.cos(th), (hy - 2000.0) * r * np.sin(th)
    shrink = min(1.0, (hx - 1500.0) / np.abs(x).max(), (hy - 1500.0) / np.abs(y).max())
    return shapely.Polygon(np.column_stack([x * shrink, y * shrink]))


def _habitability(t: Terrain, county_mask: np.ndarray) -> np.ndarray:
    """Where people live (0-1): valley floors and lower, gentler slopes near the larger valleys."""
    h = (np.exp(-((t.slope_deg / 20.0) ** 2)) * np.exp(-t.height_above_stream_m / 130.0)
         * (0.5 + 0.5 * np.exp(-t.dist_side_m / 2500.0)))
    return np.where(county_mask, h, 0.0).astype(np.float64)


# --------------------------------------------------------------------------- villages


@dataclass
class _Settlement:
    """Working state of the settlement model (local plane, metres)."""

    county: object
    mask: np.ndarray
    hab: np.ndarray
    village_poly: list
    village_seed: np.ndarray
    village_town: np.ndarray
    town_seat: np.ndarray
    village_names: list[str]
    group_poly: list = field(default_factory=list)
    group_village: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    group_names: list[str] = field(default_factory=list)
    group_hh: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    group_cells: list = field(default_factory=list)
    village_cells: list = field(default_factory=list)
    hh_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    hh_group: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    hh_count: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    group_main: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))


def _village_names(rng: np.random.Generator, n: int, reserved: set[str]) -> list[str]:
    names: list[str] = []
    seen = set(reserved)
    while len(names) < n:
        name = _FIRST[rng.integers(len(_FIRST))] + _SECOND[rng.integers(len(_SECOND))] + "村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _villages(rng: np.random.Generator, t: Terrain, county) -> _Settlement:
    """Village seeds weighted to valleys, their Voronoi tiling, towns and names."""
    grid = t.grid
    county_ll = _to_lonlat(county)
    mask = _rasterize([county_ll], (grid.rows, grid.cols), grid.transform) > 0
    hab = _habitability(t, mask)
    cells = np.flatnonzero(mask.ravel())
    xy = _cell_xy(cells)
    # Villages are smaller where many people live (valleys) and larger in the mountains.
    dense = ndimage.uniform_filter(hab, size=71).ravel()[cells]
    dense = np.clip(dense / np.percentile(dense, 99), 0.0, 1.0)
    pick = _spaced_sample(rng, xy, hab.ravel()[cells] ** 0.8 + 0.03, N_VILLAGES,
                          2430.0 * (1.25 - 0.65 * dense), 40000)
    seeds = xy[pick] + _off_lattice(rng, len(pick))
    seed_cells = cells[pick]
    # Town seats: well-inhabited seeds in the main valleys, far apart.
    score = hab.ravel()[seed_cells] * np.exp(-t.dist_main_m.ravel()[seed_cells] / 1500.0)
    seats: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        if all(np.hypot(*(seeds[i] - seeds[j])) >= 7500.0 for j in seats):
            seats.append(int(i))
        if len(seats) == len(TOWNS):
            break
    d_seat = np.hypot(seeds[:, None, 0] - seeds[None, seats, 0],
                      seeds[:, None, 1] - seeds[None, seats, 1])
    town = np.argmin(d_seat, axis=1)
    # Order: by town, seat first, then by distance to the seat.
    order = np.lexsort((d_seat[np.arange(len(seeds)), town], town))
    seeds, town = seeds[order], town[order]
    polys = _tile(seeds, county)
    seat_rows = np.array([int(np.flatnonzero(town == k)[0]) for k in range(len(TOWNS))])
    stems = {k: TOWNS[k][:2] + "村" for k in range(len(TOWNS))}
    names = _village_names(rng, len(seeds), set(stems.values()))
    for k, row in enumerate(seat_rows):
        names[row] = stems[k]
    return _Settlement(county=county, mask=mask, hab=hab, village_poly=polys,
                       village_seed=seeds, village_town=town, town_seat=seat_rows,
                       village_names=names)


def _groups(rng: np.random.Generator, s: _Settlement) -> None:
    """Group seeds inside each village (weighted to valleys), their tiling, sizes and names."""
    grid = GRID
    vr = _rasterize(_to_lonlat(np.array(s.village_poly, dtype=object)), (grid.rows, grid.cols),
                    grid.transform)
    s.village_cells = _cells_by_label(vr, len(s.village_poly))
    hab_flat = s.hab.ravel()
    mass = np.array([hab_flat[c].sum() for c in s.village_cells]) ** 0.7
    n_groups = np.clip(np.rint(N_GROUPS_TARGET * mass / mass.sum()), 5, 16).astype(int)
    polys, village, names, hh = [], [], [], []
    for v, cells in enumerate(s.village_cells):
        xy = _cell_xy(cells)
        area = shapely.area(s.village_poly[v])
        pick = _spaced_sample(rng, xy, hab_flat[cells] ** 1.5 + 1e-4, n_groups[v],
                              0.45 * math.sqrt(area / n_groups[v]), 600)
        seeds = xy[pick] + _off_lattice(rng, len(pick))
        polys += _tile(seeds, s.village_poly[v])
        village += [v] * len(seeds)
        vname = s.village_names[v]
        if rng.random() < 0.55:
            names += [f"{vname}第{k + 1}组" for k in range(len(seeds))]
        else:
            names += [_PLACES[i] + "组" for i in rng.permutation(len(_PLACES))[:len(seeds)]]
        base = (rng.lognormal(math.log(46.0), 0.45, len(seeds))
                * (0.75 + 0.8 * hab_flat[cells[pick]]))
        hh += list(np.clip(np.rint(base), 10, 150).astype(int))
    s.group_poly, s.group_village = polys, np.array(village)
    s.group_names, s.group_hh = names, np.array(hh)
    gr = _rasterize(_to_lonlat(np.array(polys, dtype=object)), (grid.rows, grid.cols),
                    grid.transform)
    s.group_cells = _cells_by_label(gr, len(polys))


def _off_lattice(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random sub-cell offsets (m): Voronoi seeds off the cell lattice keep cell centres off
    the tiles' edges."""
    return rng.uniform(-0.3, 0.3, (n, 2)) * (GRID.dx_m, GRID.dy_m)


def _inside(polys_ll, xy: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Whether each point (local plane, m) lies strictly inside its owner's lon/lat polygon."""
    lon, lat = GRID.xy_to_lonlat(xy[:, 0], xy[:, 1])
    pts = shapely.points(np.round(lon, 7), np.round(lat, 7))
    return shapely.contains_properly(np.asarray(polys_ll, dtype=object)[owner], pts)


def _settle(xy: np.ndarray, owner: np.ndarray, polys_xy: list, cells: list) -> np.ndarray:
    """Move any point not strictly inside its owner polygon to the owner's nearest cell centre
    that is (a safety net; points are normally generated inside)."""
    polys_ll = _to_lonlat(np.array(polys_xy, dtype=object))
    xy = xy.copy()
    for i in np.flatnonzero(~_inside(polys_ll, xy, owner)):
        cxy = _cell_xy(cells[owner[i]])
        near = cxy[np.argsort(np.hypot(*(cxy - xy[i]).T), kind="stable")]
        ok = _inside(polys_ll, near, np.full(len(near), owner[i]))
        if ok.any():
            xy[i] = near[int(np.argmax(ok))]
        else:
            p = shapely.point_on_surface(polys_xy[owner[i]])
            xy[i] = (p.x, p.y)
    return xy


def _households(rng: np.random.Generator, s: _Settlement) -> None:
    """1-4 household cluster points per group, on its most habitable cells."""
    hab_flat = s.hab.ravel()
    xs, groups, counts, main = [], [], [], []
    for g, cells in enumerate(s.group_cells):
        hh = int(s.group_hh[g])
        k = int(np.clip(1 + hh // 40 + rng.integers(-1, 2), 1, 4))
        xy = _cell_xy(cells)
        jitter = rng.uniform(-0.35, 0.35, (len(cells), 2)) * (GRID.dx_m, GRID.dy_m)
        pick = _spaced_sample(rng, xy, hab_flat[cells] ** 2 + 1e-6, k, 150.0, 60)
        k = len(pick)
        share = rng.dirichlet(np.full(k, 3.0))
        n = np.maximum(1, np.floor(share * hh).astype(int))
        n[np.argmax(share)] += hh - n.sum()
        order = np.argsort(-n, kind="stable")
        pts = xy[pick][order] + jitter[pick][order]
        xs.append(pts)
        groups += [g] * k
        counts += list(n[order])
        main.append(xy[pick][order][0])
    s.hh_xy, s.hh_group, s.hh_count = np.vstack(xs), np.array(groups), np.array(counts)
    s.group_main = np.array(main)
    s.hh_xy = _settle(s.hh_xy, s.hh_group, s.group_poly, s.group_cells)


def _test_points(rng: np.random.Generator, s: _Settlement) -> tuple[dict, np.ndarray]:
    """Village committee, school, clinic and settlement points (columns, xy)."""
    hab_flat = s.hab.ravel()
    rows: dict[str, list] = {"point_id": [], "village_id": [], "kind": [], "group_id": [],
                             "name": []}
    xy_all, owner = [], []
    gid = _group_ids(s)
    hh_v = np.bincount(s.group_village, weights=s.group_hh, minlength=len(s.village_poly))
    rank = np.argsort(np.argsort(-hh_v, kind="stable"), kind="stable") / len(hh_v)
    for v in range(len(s.village_poly)):
        gs = np.flatnonzero(s.group_village == v)
        big = gs[np.argsort(-s.group_hh[gs], kind="stable")]
        vname, vid = s.village_names[v], f"V{v + 1:03d}"
        items: list[tuple[str, int, np.ndarray, str]] = []

        def near(g: int, centre: np.ndarray, radius: float) -> np.ndarray:
            cells = s.group_cells[g]
            xy = _cell_xy(cells)
            d = np.hypot(*(xy - centre).T)
            ok = (d <= radius) & (d > 40.0)
            if not ok.any():
                return centre
            w = hab_flat[cells][ok] ** 2 + 1e-9
            return xy[ok][rng.choice(int(ok.sum()), p=w / w.sum())]

        committee = near(int(big[0]), s.group_main[big[0]], 300.0)
        items.append(("committee", int(big[0]), committee, f"{vname}村委会"))
        if rng.random() < 0.85 - 0.6 * rank[v]:
            g = int(big[min(1, len(big) - 1)] if rng.random() < 0.5 else big[0])
            items.append(("school", g, near(g, s.group_main[g], 500.0), f"{vname}小学"))
        if rng.random() < 0.88:
            items.append(("clinic", int(big[0]), near(int(big[0]), committee, 400.0),
                          f"{vname}卫生室"))
        for g in gs:
            if s.group_hh[g] >= 20:
                items.append(("settlement", int(g), s.group_main[g], s.group_names[g]))
        for k, (kind, g, xy, name) in enumerate(items):
            rows["point_id"].append(f"{vid}-P{k + 1:02d}")
            rows["village_id"].append(vid)
            rows["kind"].append(kind)
            rows["group_id"].append(gid[g])
            rows["name"].append(name)
            xy_all.append(xy)
            owner.append(g)
    return rows, _settle(np.array(xy_all), np.array(owner), s.group_poly, s.group_cells)


def _group_ids(s: _Settlement) -> list[str]:
    """``V001-G01`` style IDs (groups are stored village by village)."""
    rank = np.arange(len(s.group_village)) - np.searchsorted(s.group_village, s.group_village)
    return [f"V{v + 1:03d}-G{k + 1:02d}" for v, k in zip(s.group_village, rank, strict=True)]


# --------------------------------------------------------------------------- radio screening


@dataclass(frozen=True)
class _Paths:
    """Terrain paths from one antenna to the receivers within range."""

    idx: np.ndarray  # receiver indices
    d: np.ndarray  # path length (m)
    c: np.ndarray  # Bullington diffraction parameter times sqrt(wavelength) (m**0.5)
    los: np.ndarray  # terrain clears the straight line
    depression_deg: np.ndarray  # angle of the receiver below the antenna's horizontal
    az_deg: np.ndarray  # azimuth of the receiver from the antenna (clockwise from north)


def _paths(z: np.ndarray, tx_xy: np.ndarray, tx_abs: float, rx_xy: np.ndarray,
           rx_abs: np.ndarray, radius: float = RADIUS_M, step: float = 60.0) -> _Paths:
    """Single-knife-edge geometry over the DEM (k = 4/3) to receivers within ``radius`` m."""
    dxy = rx_xy - tx_xy
    d_all = np.hypot(dxy[:, 0], dxy[:, 1])
    out = {k: [] for k in ("idx", "d", "c", "los")}
    edges = (1.0, 1500.0, 3000.0, 6000.0, 9000.0, 12000.0, radius)
    for lo, hi in itertools.pairwise(edges):
        sel = np.flatnonzero((d_all > lo) & (d_all <= hi))
        if sel.size == 0:
            continue
        n = max(8, math.ceil(hi / step))
        t = np.arange(1, n + 1) / (n + 1.0)
        d = d_all[sel][:, None]
        px = tx_xy[0] + t[None, :] * dxy[sel, 0][:, None]
        py = tx_xy[1] + t[None, :] * dxy[sel, 1][:, None]
        col, row = GRID.xy_to_colrow(px, py)
        flat = (np.clip(np.rint(row).astype(np.int64), 0, GRID.rows - 1) * GRID.cols
                + np.clip(np.rint(col).astype(np.int64), 0, GRID.cols - 1))
        di = t[None, :] * d
        dd = d - di
        h = np.take(z, flat) + di * dd / (2.0 * K_FACTOR * EARTH_RADIUS_M)
        hr = rx_abs[sel][:, None]
        s_t = np.max((h - tx_abs) / di, axis=1)
        s_r = np.max((h - hr) / dd, axis=1)
        s_tr = (rx_abs[sel] - tx_abs) / d[:, 0]
        los = s_t < s_tr
        c = np.empty(sel.size)
        if los.any():  # the most intruding point along the line of sight
            geo = np.sqrt(2.0 * d[los] / (di[los] * dd[los]))
            c[los] = np.max((h[los] - tx_abs - s_tr[los, None] * di[los]) * geo, axis=1)
        nl = ~los
        db = np.clip((rx_abs[sel][nl] - tx_abs + s_r[nl] * d[nl, 0]) / (s_t[nl] + s_r[nl]),
                     1.0, d[nl, 0] - 1.0)
        hb = (s_t[nl] - s_tr[nl]) * db  # Bullington point above the direct line
        c[nl] = hb * np.sqrt(2.0 * d[nl, 0] / (db * (d[nl, 0] - db)))
        out["idx"].append(sel)
        out["d"].append(d[:, 0])
        out["c"].append(c)
        out["los"].append(los)
    idx = np.concatenate(out["idx"]) if out["idx"] else np.zeros(0, dtype=np.int64)
    d = np.concatenate(out["d"]) if out["d"] else np.zeros(0)
    c = np.concatenate(out["c"]) if out["c"] else np.zeros(0)
    los = np.concatenate(out["los"]) if out["los"] else np.zeros(0, dtype=bool)
    dep = np.degrees(np.arctan2(tx_abs - rx_abs[idx], d))
    az = np.degrees(np.arctan2(dxy[idx, 0], dxy[idx, 1])) % 360.0
    return _Paths(idx, d, c, los, dep, az)


def _rsrp(p: _Paths, band: BandProfile, azimuths: tuple[float, ...], tilt: float,
          power_dbm: float, gain_dbi: float | None) -> np.ndarray:
    """RSRP (dBm) at the receivers of ``p``: RS power + pattern gain - FSPL - knife edge
    (plus :data:`DIFFRACTION_EXTRA_DB` on diffracted paths)."""
    lam = 299.792458 / band.frequency_mhz
    nu = p.c / math.sqrt(lam)
    j = np.where(nu > -0.78,
                 6.9 + 20.0 * np.log10(np.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1), 0.0)
    j = j + np.where(nu > 0.0, DIFFRACTION_EXTRA_DB, 0.0)
    fspl = 32.45 + 20.0 * math.log10(band.frequency_mhz) + 20.0 * np.log10(p.d / 1000.0)
    rs = power_dbm - 10.0 * math.log10(12 * 5 * band.bandwidth_mhz) + band.rs_boost_db
    av = np.minimum(12.0 * ((p.depression_deg - tilt) / band.v_beamwidth_deg) ** 2,
                    band.side_lobe_v_db)
    if azimuths:
        off = np.abs((p.az_deg[:, None] - np.asarray(azimuths)[None, :] + 180.0) % 360.0 - 180.0)
        ah = np.min(np.minimum(12.0 * (off / band.h_beamwidth_deg) ** 2,
                               band.front_to_back_db), axis=1)
        att = np.minimum(ah + av, band.front_to_back_db)
        gain = band.antenna_gain_dbi if gain_dbi is None else gain_dbi
    else:
        att = av
        gain = band.omni_gain_dbi if gain_dbi is None else gain_dbi
    return rs + gain - att - band.feeder_loss_db - fspl - j


def _group_covered(hit_hh: np.ndarray, group_hh: np.ndarray) -> np.ndarray:
    """Groups whose covered household share reaches 95 %."""
    return hit_hh >= GROUP_SHARE * group_hh - 1e-9


# --------------------------------------------------------------------------- network


@dataclass
class _Tower:
    """A tower of the synthetic network."""

    xy: np.ndarray
    ground: float
    height: float
    azimuths: tuple[int, ...]
    tilt: float
    phase: str  # town / valley / side / gap
    status: str = "on_air"
    built: dt.date | None = None
    county_seat: bool = False
    tenants: tuple[str, ...] = ()
    backhaul: str = "fiber"
    extra: tuple[tuple[str, str, str], ...] = ()  # (operator, band, status) added later


class _Network:
    """Greedy network growth with the screening model as its coverage oracle."""

    def __init__(self, z: np.ndarray, terrain: Terrain, s: _Settlement, cfg: Config) -> None:
        self.z, self.t, self.s = z, terrain, s
        self.band = cfg.band("CMCC", "FDD900")
        self.rx_abs = self._ground(s.hh_xy) + RX_HEIGHT_M
        self.hit = np.zeros(len(s.hh_xy), dtype=bool)
        self.towers: list[_Tower] = []

    def _ground(self, xy: np.ndarray) -> np.ndarray:
        col, row = GRID.xy_to_colrow(xy[:, 0], xy[:, 1])
        c = np.clip(np.rint(col).astype(np.int64), 0, GRID.cols - 1)
        r = np.clip(np.rint(row).astype(np.int64), 0, GRID.rows - 1)
        return self.z[r, c].astype(np.float64)

    def coverage(self, tw: _Tower) -> np.ndarray:
        """Receivers the tower's generic sub-GHz carrier reaches."""
        p = _paths(self.z, tw.xy, tw.ground + tw.height, self.s.hh_xy, self.rx_abs)
        ok = _rsrp(p, self.band, tw.azimuths, tw.tilt, 43.0, None) >= THRESHOLD_DBM
        return p.idx[ok]

    def add(self, tw: _Tower, count: bool = True) -> None:
        self.towers.append(tw)
        if count:
            self.hit[self.coverage(tw)] = True

    def uncovered_groups(self) -> np.ndarray:
        hit_hh = np.bincount(self.s.hh_group, weights=self.s.hh_count * self.hit,
                             minlength=len(self.s.group_hh))
        return ~_group_covered(hit_hh, self.s.group_hh)

    def near_tower(self, xy: np.ndarray, dist: float) -> bool:
        return any(np.hypot(*(tw.xy - xy)) < dist for tw in self.towers)


def _spots(s: _Settlement, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group: a tower spot on the highest ground within 450 m of its main settlement that is
    at most 110 m above it (a knoll or lower spur, as rural masts are), inside the county."""
    rr, cc = int(450 / GRID.dy_m) + 1, int(450 / GRID.dx_m) + 1
    dy, dx = np.mgrid[-rr:rr + 1, -cc:cc + 1]
    disk = np.hypot(dy * GRID.dy_m, dx * GRID.dx_m) <= 450.0
    col, row = GRID.xy_to_colrow(s.group_main[:, 0], s.group_main[:, 1])
    col, row = np.rint(col).astype(int), np.rint(row).astype(int)
    spots = np.zeros((len(col), 2))
    ground = np.zeros(len(col))
    for g in range(len(col)):
        r0, c0 = row[g] - rr, col[g] - cc
        win = z[r0:r0 + 2 * rr + 1, c0:c0 + 2 * cc + 1]
        ok = (disk & s.mask[r0:r0 + 2 * rr + 1, c0:c0 + 2 * cc + 1]
              & (win <= z[row[g], col[g]] + 110))
        k = int(np.argmax(np.where(ok, win, -1e9)))
        r, c = divmod(k, win.shape[1])
        spots[g] = GRID.colrow_to_xy(c0 + c, r0 + r)
        ground[g] = win[r, c]
    return spots, ground


def _valley_axis(t: Terrain) -> tuple[cKDTree, np.ndarray]:
    """KD-tree of stream vertices and the stream azimuth (degrees) at each."""
    xy, az = [], []
    for st in t.streams:
        tan = np.gradient(st.xy, axis=0)
        xy.append(st.xy)
        az.append(np.degrees(np.arctan2(tan[:, 0], tan[:, 1])) % 180.0)
    return cKDTree(np.vstack(xy)), np.concatenate(az)


def _grow(rng: np.random.Generator, net: _Network, spots: np.ndarray, spot_ground: np.ndarray,
          points_xy: np.ndarray) -> None:
    """Towns first, then the main valleys, then side valleys by access; remote ones left out."""
    s, t = net.s, net.t
    tree, axis_az = _valley_axis(t)

    def make(g: int, phase: str, built: dt.date) -> _Tower:
        xy = spots[g]
        if phase in ("town", "valley") or rng.random() < 0.35:
            rot = int(rng.integers(0, 24)) * 5
            az: tuple[int, ...] = (rot, rot + 120, rot + 240)
        elif rng.random() < 0.45:
            a = int(round(axis_az[tree.query(xy)[1]] / 5.0) * 5) % 180
            az = (a, a + 180)
        else:
            az = ()
        height = float(rng.choice([30.0, 35.0, 40.0, 45.0], p=[0.2, 0.35, 0.3, 0.15]))
        tilt = float(rng.integers(2, 7)) if az else float(rng.integers(0, 3))
        return _Tower(xy, float(spot_ground[g]), height, az, tilt, phase, built=built)

    group_town = s.village_town[s.group_village]
    # 1. Towns: several towers around each seat (more in the county seat).
    for k in range(len(TOWNS)):
        seat_xy = points_xy[k]
        near = np.flatnonzero((group_town == k)
                              & (np.hypot(*(spots - seat_xy).T) <= 2500.0))
        near = near[np.argsort(-s.group_hh[near], kind="stable")]
        want = 6 if k == 0 else int(rng.integers(2, 4))
        placed = 0
        for g in near:
            if net.near_tower(spots[g], 700.0 if k == 0 else 900.0):
                continue
            tw = make(int(g), "town", _date(rng, dt.date(2009, 3, 1), dt.date(2012, 6, 30)))
            tw.county_seat = k == 0
            net.add(tw)
            placed += 1
            if placed == want:
                break
    # 2. Main valleys: a tower every few km along the order-1 rivers.
    spot_tree = cKDTree(spots)
    for st in (st for st in t.streams if st.order == 1):
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(st.xy, axis=0).T))])
        for pos in np.arange(1500.0, along[-1], 3200.0):
            p = st.xy[int(np.searchsorted(along, pos))]
            d, g = spot_tree.query(p)
            if d > 1500.0 or net.near_tower(spots[g], 2200.0):
                continue
            net.add(make(int(g), "valley", _date(rng, dt.date(2011, 1, 1), dt.date(2015, 12, 31))))
    # 3. Side valleys, greedily by uncovered households near the spot and by access.
    reach = cKDTree(s.hh_xy).query_ball_point(spots, 2000.0)
    lens = np.array([len(r) for r in reach])
    m = sparse.csr_matrix((np.ones(lens.sum()), np.concatenate(reach).astype(np.int64),
                           np.concatenate([[0], np.cumsum(lens)])),
                          shape=(len(spots), len(s.hh_xy)))
    col, row = GRID.xy_to_colrow(spots[:, 0], spots[:, 1])
    access = np.exp(-t.dist_main_m[np.rint(row).astype(int), np.rint(col).astype(int)] / 4500.0)
    side_dates = []
    late = 0
    hh_v = np.bincount(s.group_village, weights=s.group_hh, minlength=len(s.village_poly))
    while True:
        unc = net.uncovered_groups()
        done = unc.sum() <= TARGET_UNCOVERED_GROUPS
        hit_v = np.bincount(s.group_village[s.hh_group], weights=s.hh_count * net.hit,
                            minlength=len(s.village_poly))
        share = (hit_v / np.maximum(hh_v, 1.0))[s.group_village[s.hh_group]]
        weight = s.hh_count * unc[s.hh_group] * ~net.hit * (VILLAGE_BIAS + share)
        score = (m @ weight) * access
        tw_xy = np.array([tw.xy for tw in net.towers])
        dmin = np.min(np.hypot(spots[:, None, 0] - tw_xy[None, :, 0],
                               spots[:, None, 1] - tw_xy[None, :, 1]), axis=1)
        score[dmin < 1300.0] = 0.0
        g = int(np.argmax(score))
        if score[g] <= 0.0:
            break
        if done:
            # A few more are being built or planned to fill gaps; they do not count today.
            tw = make(g, "gap", None)
            tw.status = "building" if late < 2 else "planned"
            net.add(tw, count=False)
            late += 1
            if late == 4:
                break
            # Pretend they cover, so that the next one goes elsewhere.
            net.hit[net.coverage(tw)] = True
            continue
        tw = make(g, "side", None)
        net.add(tw)
        side_dates.append(tw)
    # Undo the pretend coverage of the gap towers.
    net.hit[:] = False
    for tw in net.towers:
        if tw.status == "on_air":
            net.hit[net.coverage(tw)] = True
    # Side towers were built from 2014 on, the last ones in 2020.
    n = len(side_dates)
    start, end = dt.date(2014, 1, 1).toordinal(), dt.date(2020, 8, 31).toordinal()
    for i, tw in enumerate(side_dates):
        tw.built = dt.date.fromordinal(int(start + (end - start) * ((i + 1) / n) ** 0.6))


_OP_WEIGHT = np.array([0.5, 0.28, 0.22])
_PRESENCE = {"town": (0.95, 0.7, 0.7), "valley": (0.9, 0.5, 0.5), "side": (0.72, 0.3, 0.26),
             "gap": (0.6, 0.3, 0.3)}
"""Chance that each operator (CMCC, CT, CU) serves a location, by growth phase."""
SHARING_REFORM = dt.date(2015, 10, 1)
"""From about this date new masts were shared (China Tower); before, operators often built
their own mast at the same place."""


def _nearby_spot(rng: np.random.Generator, xy: np.ndarray, z: np.ndarray,
                 mask: np.ndarray) -> tuple[np.ndarray, float]:
    """Another mast spot 200-500 m away at about the same elevation (inside the county)."""
    rr, cc = int(500 / GRID.dy_m) + 1, int(500 / GRID.dx_m) + 1
    col, row = GRID.xy_to_colrow(xy[0], xy[1])
    r0, c0 = int(np.rint(row)), int(np.rint(col))
    win = z[r0 - rr:r0 + rr + 1, c0 - cc:c0 + cc + 1]
    dy, dx = np.mgrid[-rr:rr + 1, -cc:cc + 1]
    d = np.hypot(dy * GRID.dy_m, dx * GRID.dx_m)
    ok = ((d >= 200.0) & (d <= 500.0) & (np.abs(win - z[r0, c0]) <= 50.0)
          & mask[r0 - rr:r0 + rr + 1, c0 - cc:c0 + cc + 1])
    if not ok.any():
        return xy, float(z[r0, c0])
    k = int(rng.choice(np.flatnonzero(ok.ravel())))
    r, c = divmod(k, win.shape[1])
    return np.array(GRID.colrow_to_xy(c0 - cc + c, r0 - rr + r)), float(win[r, c])


def _towers(rng: np.random.Generator, locations: list[_Tower], z: np.ndarray, mask: np.ndarray,
            fiber_village: np.ndarray, village_of: np.ndarray, town_of: np.ndarray
            ) -> list[_Tower]:
    """Operators at each location, split over separate masts before the sharing reform,
    backhaul, and a few tenants joining existing masts in 2020."""
    out: list[_Tower] = []
    first_in_town: set[int] = set()
    for i, loc in enumerate(locations):
        shared = loc.phase == "town" and int(town_of[i]) not in first_in_town
        if shared:  # each town's central mast carries all three operators
            first_in_town.add(int(town_of[i]))
            ops: tuple[str, ...] = OPERATORS
        else:
            present = rng.random(3) < np.array(_PRESENCE[loc.phase])
            if not present.any():
                present[int(rng.choice(3, p=_OP_WEIGHT))] = True
            ops = tuple(op for op, p in zip(OPERATORS, present, strict=True) if p)
        if loc.status == "planned":
            backhaul = "none"
        elif loc.phase in ("town", "valley") or fiber_village[int(village_of[i])]:
            backhaul = "fiber"
        else:
            backhaul = "microwave" if rng.random() < 0.7 else "fiber"
        masts = [list(ops)]
        if (not shared and loc.built is not None and loc.built < SHARING_REFORM
                and len(ops) > 1):
            apart = [op for op in ops[1:] if rng.random() < 0.5]
            masts = [[op for op in ops if op not in apart]] + [[op] for op in apart]
        for j, tenants in enumerate(masts):
            tw = replace(loc, tenants=tuple(tenants), backhaul=backhaul)
            if j > 0:
                xy, ground = _nearby_spot(rng, loc.xy, z, mask)
                rot = int(rng.integers(0, 24)) * 5
                tw = replace(tw, xy=xy, ground=ground, azimuths=(rot, rot + 120, rot + 240),
                             height=float(rng.choice([30.0, 35.0, 40.0])),
                             built=loc.built + dt.timedelta(days=int(rng.integers(60, 700))))
                tw.built = min(tw.built, SHARING_REFORM - dt.timedelta(days=1))
            if len(tenants) >= 2 and tw.height < 40.0:
                tw.height = 40.0 if len(tenants) == 2 else 45.0
            out.append(tw)
    # Sharing retrofits under way: a second operator joins some single-tenant masts.
    single = [i for i, tw in enumerate(out)
              if tw.status == "on_air" and len(tw.tenants) == 1 and tw.phase == "side"]
    for j, i in enumerate(rng.choice(single, size=min(8, len(single)), replace=False)):
        tw = out[int(i)]
        others = [op for op in OPERATORS if op not in tw.tenants]
        op = others[int(rng.integers(len(others)))]
        band = {"CMCC": "FDD900", "CT": "FDD800", "CU": "FDD900"}[op]
        tw.extra = ((op, band, "building" if j < 5 else "planned"),)
        tw.height = max(tw.height, 40.0)
    return out


def _bands(rng: np.random.Generator, tw: _Tower, op: str) -> list[str]:
    """Bands an operator runs on a tower: sub-GHz everywhere, capacity bands in towns."""
    town = tw.phase == "town"
    if op == "CT":
        return ["FDD800"]
    if op == "CMCC":
        out = ["FDD900"]
        if rng.random() < (0.45 if town else 0.12 if tw.phase == "valley" else 0.02):
            out.append("TDD1900")
        if town and rng.random() < (0.6 if tw.county_seat else 0.2):
            out.append("TDD2600")
        return out
    out = []
    if not town or rng.random() < 0.55:
        out.append("FDD900")
    if rng.random() < (0.75 if town else 0.1 if tw.phase == "valley" else 0.0):
        out.append("FDD1800")
    return out or ["FDD1800"]


def _site_rows(rng: np.random.Generator, towers: list[_Tower]) -> pd.DataFrame:
    """One row per operator band on every tower."""
    rows: list[dict] = []
    for i, tw in enumerate(towers):
        tower_id = f"TW{i + 1:03d}"
        lon, lat = GRID.xy_to_lonlat(tw.xy[0], tw.xy[1])
        entries = [(op, b, tw.status) for op in tw.tenants for b in _bands(rng, tw, op)]
        entries += list(tw.extra)
        level = {op: k for k, op in enumerate(dict.fromkeys(e[0] for e in entries))}
        for op, band, status in entries:
            lv = level[op]
            az = tuple((a + 10 * lv) % 360 for a in tw.azimuths)
            sector = bool(az)
            built = tw.built
            if status != "on_air" or built is None:
                on_air = None
            else:
                on_air = built + dt.timedelta(days=int(lv * rng.integers(90, 900)))
                on_air = min(on_air, dt.date(2020, 9, 30))
            gain = None
            if rng.random() < 0.5:
                gain = float(rng.choice([15.5, 16.5, 17.0, 18.0])) if sector else 11.0
            rows.append({
                "site_id": f"{op}-{tower_id}-{band}",
                "operator": op,
                "lon": round(float(lon), 6),
                "lat": round(float(lat), 6),
                "height_m": tw.height - 4.0 * lv,
                "band": band,
                "tower_id": tower_id,
                "azimuths_deg": ";".join(str(a) for a in sorted(az)),
                "tilt_deg": tw.tilt,
                "power_dbm": float(rng.choice([40.0, 43.0, 43.0, 43.0, 46.0])),
                "gain_dbi": gain,
                "status": status,
                "on_air_date": _iso(on_air),
                "backhaul": "none" if status == "planned" else tw.backhaul,
            })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- screening


def _screen(z: np.ndarray, sites: pd.DataFrame, hh_xy: np.ndarray, hh_group: np.ndarray,
            hh_count: np.ndarray, group_hh: np.ndarray, group_village: np.ndarray,
            group_ids: list[str], cfg: Config) -> Screening:
    """Knife-edge screening and the simple line-of-sight rule, on-air sites only."""
    col, row = GRID.xy_to_colrow(hh_xy[:, 0], hh_xy[:, 1])
    ground = z[np.clip(np.rint(row).astype(int), 0, GRID.rows - 1),
               np.clip(np.rint(col).astype(int), 0, GRID.cols - 1)].astype(np.float64)
    rx_abs = ground + RX_HEIGHT_M
    live = sites[sites["status"] == "on_air"]
    hit = {op: np.zeros(len(hh_xy), dtype=bool) for op in OPERATORS}
    simple = np.zeros(len(hh_xy), dtype=bool)
    sx, sy = GRID.lonlat_to_xy(live["lon"].to_numpy(), live["lat"].to_numpy())
    keys = list(zip(np.round(sx, 1), np.round(sy, 1), live["height_m"], strict=True))
    for key in dict.fromkeys(keys):
        idx = [i for i, k in enumerate(keys) if k == key]
        xy = np.array(key[:2])
        cc, rr = GRID.xy_to_colrow(xy[0], xy[1])
        tx_abs = float(z[int(np.rint(rr)), int(np.rint(cc))]) + float(key[2])
        p = _paths(z, xy, tx_abs, hh_xy, rx_abs)
        simple[p.idx[(p.d <= 1500.0) | (p.los & (p.d <= 4000.0))]] = True
        for i in idx:
            r = live.iloc[i]
            az = tuple(float(a) for a in r["azimuths_deg"].split(";")) if r["azimuths_deg"] else ()
            gain = None if pd.isna(r["gain_dbi"]) else float(r["gain_dbi"])
            val = _rsrp(p, cfg.band(r["operator"], r["band"]), az, float(r["tilt_deg"]),
                        float(r["power_dbm"]), gain)
            hit[r["operator"]][p.idx[val >= THRESHOLD_DBM]] = True
    hit["any"] = hit["CMCC"] | hit["CT"] | hit["CU"]
    groups_unc, villages_unc, hh_unc = {}, {}, {}
    unc_any = None
    for key in ("any", *OPERATORS):
        hit_hh = np.bincount(hh_group, weights=hh_count * hit[key], minlength=len(group_hh))
        unc = ~_group_covered(hit_hh, group_hh)
        groups_unc[key] = int(unc.sum())
        villages_unc[key] = int(np.unique(group_village[unc]).size)
        hh_unc[key] = int(group_hh[unc].sum())
        if key == "any":
            unc_any = unc
    hit_hh = np.bincount(hh_group, weights=hh_count * simple, minlength=len(group_hh))
    unc_s = ~_group_covered(hit_hh, group_hh)
    return Screening(
        groups_uncovered=groups_unc, villages_uncovered=villages_unc,
        households_uncovered=hh_unc, simple_groups_uncovered=int(unc_s.sum()),
        simple_villages_uncovered=int(np.unique(group_village[unc_s]).size),
        uncovered_group_ids=tuple(group_ids[g] for g in np.flatnonzero(unc_any)),
    )


# --------------------------------------------------------------------------- candidates


def _candidates(rng: np.random.Generator, s: _Settlement, z: np.ndarray, t: Terrain,
                uncovered: np.ndarray, towers_xy: np.ndarray) -> pd.DataFrame:
    """Hilltops near uncovered settlements, plus some power/broadcast towers on ridges."""
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
        if len(chosen) == 88:
            break
    n_new = len(chosen)
    for g in rng.permutation(gs):
        xy, _ = hilltop(s.group_main[g], 2500.0)
        if not free(xy, 1500.0):
            continue
        chosen.append((xy, "existing_tower", float(rng.choice([25.0, 30.0, 40.0, 50.0])),
                       round(float(rng.uniform(12.0, 30.0)), 1)))
        if len(chosen) == n_new + 16:
            break
    xy = np.array([c[0] for c in chosen])
    lon, lat = GRID.xy_to_lonlat(xy[:, 0], xy[:, 1])
    return pd.DataFrame({
        "candidate_id": [f"C{i + 1:03d}" for i in range(len(chosen))],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "height_m": [c[2] for c in chosen], "kind": [c[1] for c in chosen],
        "cost": [c[3] for c in chosen],
    })


# --------------------------------------------------------------------------- works


_KVA = np.array([30, 50, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630], dtype=float)


def _transformers(rng: np.random.Generator, s: _Settlement, village_hh: np.ndarray
                  ) -> tuple[dict, np.ndarray, set[int]]:
    """Several 台区 per village at its settlements; in about one village in seven one of them
    is below 2 kVA per household."""
    rows: dict[str, list] = {"transformer_id": [], "village_id": [], "kva": [], "households": []}
    xy_all = []
    weak_villages: set[int] = set()
    for v in range(len(s.village_poly)):
        hh = int(village_hh[v])
        n = int(np.clip(math.ceil(hh / rng.uniform(100.0, 140.0)), 2, 10))
        share = rng.dirichlet(np.full(n, 8.0))
        part = np.maximum(5, np.floor(share * hh).astype(int))
        part[np.argmax(part)] += hh - part.sum()
        pts = s.hh_xy[np.isin(s.hh_group, np.flatnonzero(s.group_village == v))]
        at = pts[rng.permutation(len(pts))[:n]]
        if len(at) < n:
            at = np.vstack([at] * n)[:n]
        weak_k = int(rng.integers(n)) if rng.random() < 0.1 else -1
        for k in range(n):
            if k == weak_k:
                sizes = _KVA[rng.uniform(1.1, 1.9) * part[k] >= _KVA]
                kva = float(sizes[-1]) if sizes.size else float(_KVA[0])
            else:
                need = rng.uniform(2.05, 3.4) * part[k]
                kva = float(_KVA[min(int(np.searchsorted(_KVA, need)), _KVA.size - 1)])
            if kva < 2.0 * part[k]:
                weak_villages.add(v)
            rows["transformer_id"].append(f"V{v + 1:03d}-TR{k + 1}")
            rows["village_id"].append(f"V{v + 1:03d}")
            rows["kva"].append(kva)
            rows["households"].append(int(part[k]))
            xy_all.append(at[k])
    return rows, np.array(xy_all), weak_villages


def _grid_works(rng: np.random.Generator, n_villages: int, weak: set[int],
                tr: dict[str, list], tr_xy: np.ndarray) -> tuple[dict, np.ndarray]:
    """40 rural grid works: the weak 台区 being fixed, the rest mostly done."""
    cats = ("台区改造", "线路改造", "新增配变", "配变增容", "低压线路改造")
    weak_list = sorted(weak)
    others = [v for v in rng.permutation(n_villages) if v not in weak]
    villages = (weak_list + others)[:40]
    rows: dict[str, list] = {k: [] for k in ("work_id", "village_id", "category", "owner",
                                             "status", "investment_wan", "due", "done",
                                             "kva_after")}
    xy = []
    tr_v = np.array(tr["village_id"])
    for i, v in enumerate(sorted(villages)):
        vid = f"V{v + 1:03d}"
        if v in weak:
            cat = str(rng.choice(["台区改造", "新增配变", "配变增容"]))
            status = str(rng.choice(["in_progress", "planned"], p=[0.65, 0.35]))
        else:
            cat = str(rng.choice(cats))
            status = str(rng.choice(["done", "in_progress", "planned"], p=[0.85, 0.1, 0.05]))
        due = _date(rng, dt.date(2020, 4, 30), dt.date(2020, 12, 31))
        if status == "done":
            due = _date(rng, dt.date(2020, 3, 31), dt.date(2020, 10, 15))
            done = min(due + dt.timedelta(days=int(rng.integers(-40, 25))), dt.date(2020, 10, 20))
        else:
            done = None
        kva = float(rng.choice([200.0, 315.0, 400.0])) if cat in ("台区改造", "新增配变",
                                                                  "配变增容") else None
        invest = {"台区改造": (40, 160), "线路改造": (60, 300), "新增配变": (20, 60),
                  "配变增容": (15, 45), "低压线路改造": (25, 90)}[cat]
        rows["work_id"].append(f"GW{i + 1:02d}")
        rows["village_id"].append(vid)
        rows["category"].append(cat)
        rows["owner"].append(str(rng.choice(_GRID_OWNERS)))
        rows["status"].append(status)
        rows["investment_wan"].append(round(float(rng.uniform(*invest)), 1))
        rows["due"].append(_iso(due))
        rows["done"].append(_iso(done))
        rows["kva_after"].append(kva)
        k = np.flatnonzero(tr_v == vid)
        xy.append(tr_xy[k[0]])
    return rows, np.array(xy)


def _mobile_works(rng: np.random.Generator, sites: pd.DataFrame, site_village: np.ndarray,
                  unc_villages: list[int], village_xy: np.ndarray) -> tuple[dict, np.ndarray]:
    """68 operator rural works: new sites and sharing retrofits, fibre access, capacity, gaps."""
    rows: dict[str, list] = {k: [] for k in ("work_id", "village_id", "operator", "category",
                                             "status", "investment_wan", "site_id", "due",
                                             "done")}
    xy: list[np.ndarray] = []
    sx, sy = GRID.lonlat_to_xy(sites["lon"].to_numpy(), sites["lat"].to_numpy())

    def add(v: int, op: str, cat: str, status: str, invest: float, site: int | None,
            due: dt.date, done: dt.date | None, at: np.ndarray) -> None:
        rows["work_id"].append("")
        rows["village_id"].append(f"V{v + 1:03d}")
        rows["operator"].append(op)
        rows["category"].append(cat)
        rows["status"].append(status)
        rows["investment_wan"].append(round(invest, 1))
        rows["site_id"].append(None if site is None else str(sites["site_id"].iloc[site]))
        rows["due"].append(_iso(due))
        rows["done"].append(_iso(done))
        xy.append(at)

    late_tower = sites.groupby("tower_id", sort=False)["status"].transform(
        lambda st: (st != "on_air").all())
    for i in np.flatnonzero(sites["status"].to_numpy() != "on_air"):
        new = bool(late_tower.iloc[i])
        st = sites["status"].iloc[i]
        add(int(site_village[i]), sites["operator"].iloc[i], "新建基站" if new else "共享改造",
            "in_progress" if st == "building" else "planned",
            rng.uniform(45, 90) if new else rng.uniform(10, 25), int(i),
            _date(rng, dt.date(2020, 10, 15), dt.date(2020, 12, 31)), None,
            np.array([sx[i], sy[i]]))
    dates = pd.to_datetime(sites["on_air_date"])
    new_2020 = np.flatnonzero((dates.dt.year == 2020).to_numpy())
    for i in np.sort(rng.permutation(new_2020)[:16]):
        d = dates.iloc[i].date()
        add(int(site_village[i]), sites["operator"].iloc[i], "新建基站", "done",
            rng.uniform(45, 90), int(i), d + dt.timedelta(days=int(rng.integers(-20, 40))), d,
            np.array([sx[i], sy[i]]))
    micro = np.flatnonzero((sites["backhaul"] == "microwave").to_numpy()
                           & (sites["status"] == "on_air").to_numpy())
    for i in np.sort(rng.choice(micro, size=min(10, micro.size), replace=False)):
        add(int(site_village[i]), sites["operator"].iloc[i], "光缆接入",
            str(rng.choice(["in_progress", "planned"], p=[0.6, 0.4])), rng.uniform(5, 30),
            int(i), _date(rng, dt.date(2020, 9, 30), dt.date(2020, 12, 31)), None,
            np.array([sx[i], sy[i]]))
    # Gaps: new sites planned in villages still without signal (no site designed yet).
    for v in rng.permutation(unc_villages)[:min(12, 68 - len(rows["work_id"]))]:
        op = str(rng.choice(OPERATORS, p=_OP_WEIGHT))
        add(int(v), op, "新建基站", "planned", rng.uniform(50, 95), None,
            _date(rng, dt.date(2020, 11, 30), dt.date(2021, 6, 30)), None, village_xy[v])
    # The rest: capacity upgrades and fibre on older fibre-fed sites.
    old = np.flatnonzero((dates.dt.year < 2018).to_numpy()
                         & (sites["backhaul"] == "fiber").to_numpy())
    for i in np.sort(rng.choice(old, size=max(0, 68 - len(rows["work_id"])), replace=False)):
        due = _date(rng, dt.date(2020, 3, 31), dt.date(2020, 11, 30))
        status = "done" if due < dt.date(2020, 10, 1) else "in_progress"
        cat = "扩容" if rng.random() < 0.7 else "光缆接入"
        add(int(site_village[i]), sites["operator"].iloc[i], cat, status,
            rng.uniform(8, 20) if cat == "扩容" else rng.uniform(5, 30), int(i), due,
            due - dt.timedelta(days=int(rng.integers(0, 30))) if status == "done" else None,
            np.array([sx[i], sy[i]]))
    order = np.argsort(np.array(rows["village_id"]), kind="stable")
    rows = {k: [val[i] for i in order] for k, val in rows.items()}
    rows["work_id"] = [f"MW{i + 1:02d}" for i in range(len(order))]
    return rows, np.array(xy)[order]


def _hazards(rng: np.random.Generator, s: _Settlement) -> tuple[dict, np.ndarray]:
    """17 power-line hazards found in 2020, 14 of them fixed."""
    cats = ("树线矛盾", "交叉跨越距离不足", "杆塔倾斜", "导线断股", "拉线松动", "基础冲刷")
    villages = np.sort(rng.choice(len(s.village_poly), size=17, replace=False))
    open_ = set(rng.choice(17, size=3, replace=False).tolist())
    rows: dict[str, list] = {"hazard_id": [], "village_id": [], "found": [], "fixed": [],
                             "category": []}
    xy = []
    for i, v in enumerate(villages):
        cells = s.village_cells[v]
        xy.append(_cell_xy(cells[[int(rng.integers(len(cells)))]])[0])
        rows["hazard_id"].append(f"HZ{i + 1:02d}")
        rows["village_id"].append(f"V{v + 1:03d}")
        rows["found"].append(_iso(_date(rng, dt.date(2020, 3, 1), dt.date(2020, 9, 30))))
        rows["fixed"].append(i not in open_)
        rows["category"].append(str(rng.choice(cats)))
    return rows, _settle(np.array(xy), villages, s.village_poly, s.village_cells)


# --------------------------------------------------------------------------- build


def build_demo_county(seed: int = DEFAULT_SEED) -> DemoCounty:
    """Generate the demo county (pure; the same seed gives the same county).

    Parameters
    ----------
    seed : int
        Seed of every random choice.

    Returns
    -------
    DemoCounty
    """
    cfg = Config()
    streams = np.random.SeedSequence(seed).spawn(9)
    rngs = [np.random.default_rng(ss) for ss in streams]
    terrain = synth_terrain(rngs[0], GRID)
    dem = to_int16_dem(terrain.elevation_m, NODATA, VOID)
    z = np.where(dem == NODATA, 150, dem).astype(np.float32)

    county = _county_polygon(rngs[1], GRID)
    s = _villages(rngs[2], terrain, county)
    _groups(rngs[3], s)
    _households(rngs[4], s)
    pt_rows, pt_xy = _test_points(rngs[5], s)
    n_v = len(s.village_poly)
    village_hh = np.bincount(s.group_village, weights=s.group_hh, minlength=n_v).astype(int)
    group_ids = _group_ids(s)
    village_ids = [f"V{v + 1:03d}" for v in range(n_v)]
    committee_xy = pt_xy[np.array(pt_rows["kind"]) == "committee"]

    # Villages' attributes.
    rng = rngs[6]
    col, row = GRID.xy_to_colrow(committee_xy[:, 0], committee_xy[:, 1])
    rc = (np.rint(row).astype(int), np.rint(col).astype(int))
    d_main, d_side = terrain.dist_main_m[rc], terrain.dist_side_m[rc]
    seat = np.zeros(n_v, dtype=bool)
    seat[s.town_seat] = True
    p_fiber = np.where(seat | (d_main < 1500.0), 0.95, np.where(d_side < 1000.0, 0.45, 0.2))
    fiber = rng.random(n_v) < p_fiber
    remote = np.clip(d_main / 8000.0, 0.0, 1.0)
    poor = (rng.random(n_v) < 0.15 + 0.45 * remote) & ~seat

    # Network.
    net = _Network(z, terrain, s, cfg)
    spots, spot_ground = _spots(s, z)
    _grow(rng, net, spots, spot_ground, committee_xy[s.town_seat])
    vr = _rasterize(_to_lonlat(np.array(s.village_poly, dtype=object)), (GRID.rows, GRID.cols),
                    GRID.transform)

    def village_at(xy: np.ndarray) -> np.ndarray:
        c, r = GRID.xy_to_colrow(xy[:, 0], xy[:, 1])
        return vr[np.rint(r).astype(int), np.rint(c).astype(int)] - 1

    loc_xy = np.array([tw.xy for tw in net.towers])
    loc_village = village_at(loc_xy)
    towers = _towers(rng, net.towers, z, s.mask, fiber, loc_village,
                     s.village_town[loc_village])
    towers_xy = np.array([tw.xy for tw in towers])
    sites = _site_rows(rng, towers)
    sxy = np.column_stack(GRID.lonlat_to_xy(sites["lon"].to_numpy(), sites["lat"].to_numpy()))
    site_village = village_at(sxy)

    screening = _screen(z, sites, s.hh_xy, s.hh_group, s.hh_count, s.group_hh, s.group_village,
                        group_ids, cfg)
    unc = np.isin(np.array(group_ids), np.array(screening.uncovered_group_ids))
    candidates = _candidates(rngs[7], s, z, terrain, unc, towers_xy)

    # Works.
    rng = rngs[8]
    tr_rows, tr_xy, weak = _transformers(rng, s, village_hh)
    gw_rows, gw_xy = _grid_works(rng, n_v, weak, tr_rows, tr_xy)
    unc_villages = sorted(set(s.group_village[unc].tolist()))
    mw_rows, mw_xy = _mobile_works(rng, sites, site_village, unc_villages, committee_xy)
    hz_rows, hz_xy = _hazards(rng, s)

    # Layers.
    village_ll = _to_lonlat(np.array(s.village_poly, dtype=object))
    group_ll = _to_lonlat(np.array(s.group_poly, dtype=object))
    county_ll = _to_lonlat(county)
    town_polys = [shapely.union_all(village_ll[s.village_town == k]) for k in range(len(TOWNS))]
    area_km2 = shapely.area(np.array(s.village_poly, dtype=object)) / 1e6
    villages = gpd.GeoDataFrame({
        "village_id": village_ids,
        "name": s.village_names,
        "town": [TOWNS[k] for k in s.village_town],
        "poor": poor,
        "households": village_hh,
        "fiber": fiber,
        "area_km2": np.round(area_km2, 3),
    }, geometry=village_ll, crs=CRS)
    groups = gpd.GeoDataFrame({
        "group_id": group_ids,
        "village_id": [village_ids[v] for v in s.group_village],
        "name": s.group_names,
        "households": s.group_hh,
        "population": np.rint(s.group_hh * rng.uniform(2.9, 3.9, len(s.group_hh))).astype(int),
    }, geometry=group_ll, crs=CRS)
    points = _gdf(pt_rows, pt_xy)
    hh_rank = np.arange(len(s.hh_group)) - np.searchsorted(s.hh_group, s.hh_group)
    households = _gdf({
        "cluster_id": [f"{group_ids[g]}-H{k + 1}" for g, k in zip(s.hh_group, hh_rank,
                                                                   strict=True)],
        "group_id": [group_ids[g] for g in s.hh_group],
        "households": s.hh_count,
    }, s.hh_xy)
    towns = gpd.GeoDataFrame({
        "town_id": [f"TN{k + 1:02d}" for k in range(len(TOWNS))],
        "name": list(TOWNS),
        "seat_village_id": [village_ids[r] for r in s.town_seat],
        "county_seat": [k == 0 for k in range(len(TOWNS))],
    }, geometry=town_polys, crs=CRS)
    county_gdf = gpd.GeoDataFrame({"name": [COUNTY_NAME], "seed": [seed]},
                                  geometry=[county_ll], crs=CRS)
    return DemoCounty(
        seed=seed, dem=dem, transform=GRID.transform, crs=CRS, nodata=NODATA,
        county=county_gdf, towns=towns, villages=villages, groups=groups, points=points,
        households=households, sites=sites, candidates=candidates,
        grid_works=_gdf(gw_rows, gw_xy), mobile_works=_gdf(mw_rows, mw_xy),
        transformers=_gdf(tr_rows, tr_xy), hazards=_gdf(hz_rows, hz_xy),
        screening=screening,
    )


# --------------------------------------------------------------------------- figures


def _local_area_km2(geoms) -> np.ndarray:
    """Area (km²) of lon/lat geometries in the local metric plane."""
    local = shapely.transform(geoms, lambda c: np.column_stack(GRID.lonlat_to_xy(c[:, 0], c[:, 1])))
    return shapely.area(local) / 1e6


def screen_coverage(county: DemoCounty, config: Config | None = None) -> Screening:
    """Screening estimate of the groups lacking signal today, from a county's layers.

    Parameters
    ----------
    county : DemoCounty
        Built or re-read county (uses its DEM, households, groups and sites).
    config : Config, optional
        Band profiles (defaults when None).

    Returns
    -------
    Screening
        Knife-edge (Bullington) link-budget estimate, RSRP >= -105 dBm, group covered when
        95 % of its households are; and the cruder 4 km line-of-sight rule.
    """
    cfg = config or Config()
    z = np.where(county.dem == county.nodata, 150, county.dem).astype(np.float32)
    groups = county.groups.reset_index(drop=True)
    g_index = {gid: k for k, gid in enumerate(groups["group_id"])}
    v_codes, _ = pd.factorize(groups["village_id"])
    hh = county.households
    hh_xy = np.column_stack(GRID.lonlat_to_xy(hh.geometry.x.to_numpy(), hh.geometry.y.to_numpy()))
    return _screen(z, county.sites, hh_xy, hh["group_id"].map(g_index).to_numpy(),
                   hh["households"].to_numpy(), groups["households"].to_numpy(), v_codes,
                   list(groups["group_id"]), cfg)


def county_figures(county: DemoCounty) -> dict[str, object]:
    """The county's headline figures (areas in km², counts, sums), for the README and reports."""
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


# --------------------------------------------------------------------------- writing

_EXTRA_COLUMNS = {
    "villages": "area_km2 (float, km², informative)",
    "households": "cluster_id (str, unique)",
}


def _schema_table(layer: Layer) -> str:
    lines = ["| column | type | required | range / choices | unit |", "|---|---|---|---|---|"]
    for col in layer.columns:
        if col.choices:
            rng = ", ".join(col.choices)
        elif col.min is not None or col.max is not None:
            rng = f"{col.min:g} .. {col.max:g}"
        else:
            rng = ""
        lines.append(f"| {col.name} | {col.kind} | {'yes' if col.required else 'no'} | {rng} "
                     f"| {col.unit} |")
    return "\n".join(lines)


def _fmt(d: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in d.items())


def readme_text(county: DemoCounty) -> str:
    """The ``data/README.md`` describing the demo county, its figures and its schema."""
    f = county_figures(county)
    unc, unv = f["uncovered_groups"], f["uncovered_villages"]
    parts = [
        f"# Demo county ({COUNTY_NAME}) — synthetic data\n",
        "Everything in this folder is **synthetic**: a made-up mountain county generated by "
        "`coverage/demo.py` from a seed. It stands in for a real case (a Dabie-mountain county "
        "of about 2,400 km² and 180 administrative villages, 71 of which had 284 village groups "
        "without signal in 2020). Names of towns, villages and groups are invented; no real "
        "place, person, site or measurement is described.\n",
        "Regenerate (byte-identical files for the same seed):\n",
        "```\ncoverage-planner demo-data --out data/\n# or\n"
        ".venv/bin/python -c \"from pathlib import Path; from coverage.demo import *; "
        "write_demo_county(build_demo_county(), Path('data'))\"\n```\n",
        f"Seed: `{f['seed']}`. All vector layers are EPSG:4326 (lon/lat, WGS84); names are "
        "UTF-8.\n",
        "## Figures\n",
        "| item | value |", "|---|---|",
        f"| DEM | {f['dem_cols']} x {f['dem_rows']} cells of 1 arc-second ({f['dem_cell_m']} m), "
        f"{f['dem_width_km']} km x {f['dem_height_km']} km, lon {GRID.west:g}-{GRID.east:g} E, "
        f"lat {GRID.south:g}-{GRID.north:g} N |",
        f"| elevation | {f['elevation_min_m']}-{f['elevation_max_m']} m (mean "
        f"{f['elevation_mean_m']} m); {f['nodata_cells']} nodata cells (a void in the "
        "north-east corner, outside the county) |",
        f"| county area | {f['county_area_km2']} km² |",
        f"| towns (乡镇) | {f['towns']} |",
        f"| administrative villages (行政村) | {f['villages']} ({f['poor_villages']} poor, "
        f"{f['fiber_villages']} with fibre) |",
        f"| village groups (村民组) | {f['groups']} |",
        f"| households / population | {f['households']} / {f['population']} |",
        f"| household cluster points | {f['household_clusters']} |",
        f"| test points | {_fmt(f['points'])} |",
        f"| operator sites (rows) | {f['site_rows']}: {_fmt(f['sites_by_operator'])} |",
        f"| sites by band | {_fmt(f['sites_by_band'])} |",
        f"| sites by status | {_fmt(f['sites_by_status'])} |",
        f"| towers | {f['towers']}; by number of operators: {_fmt(f['towers_by_tenants'])} |",
        f"| candidate locations | {_fmt(f['candidates'])} |",
        f"| grid (power) works | {sum(f['grid_works'].values())}: {_fmt(f['grid_works'])} |",
        f"| mobile works | {sum(f['mobile_works'].values())}: {_fmt(f['mobile_works'])}; "
        f"{_fmt(f['mobile_works_by_category'])} |",
        f"| transformers (台区) | {f['transformers']}, "
        f"{f['transformers_below_2kva_per_household']} below 2 kVA per household |",
        f"| power-line hazards | {f['hazards']}, {f['hazards_fixed']} fixed |",
        "",
        "## Coverage gaps (screening estimate)\n",
        "The network was grown as real ones were: towns and main valleys first, then side "
        "valleys by access, remote valleys left out. A cheap screening model (free space plus "
        "one Bullington knife edge over this DEM, k = 4/3, with 8 dB more on diffracted paths "
        "as calibrated against the project's P.1812 engine; RSRP >= -105 dBm with default "
        "band profiles and antenna patterns, on-air sites only; a group counts as covered "
        "when 95 % of its households are) estimates:\n",
        "| operator | groups lacking signal | villages with such groups | households |",
        "|---|---|---|---|",
    ]
    for key in ("any", *OPERATORS):
        parts.append(f"| {key} | {unc[key]} | {unv[key]} | "
                     f"{f['uncovered_households'][key]} |")
    parts += [
        "",
        f"A cruder rule (covered within 1.5 km of a site, or within 4 km with line of sight "
        f"from the mast top) leaves {f['los_rule_uncovered_groups']} groups in "
        f"{f['los_rule_uncovered_villages']} villages uncovered. The radio engine "
        "(`coverage.radio`) gives the figures that count.\n",
        "## Files and schema\n",
        "Columns follow `coverage/schema.py` (types: str, int, float, bool, date = ISO "
        "`YYYY-MM-DD`, azimuths = degrees from north separated by `;`, empty = omni). IDs are "
        "unique strings.\n",
        "- `terrain/dem.tif` — elevation (m), int16 GeoTIFF, DEFLATE, EPSG:4326, nodata -32768.",
        "- `villages/villages.gpkg` — layers `villages`, `groups`, `points`, `households`, plus "
        "`towns` (town_id, name, seat_village_id, county_seat) and `county` (name, seed) for "
        "maps, and a `metadata` table.",
        "- `sites/sites.csv` — one row per operator band on a tower; shared towers have the same "
        "`tower_id` and coordinates.",
        "- `sites/candidates.csv` — user-listed candidate tower locations (hilltops near "
        "uncovered groups; `existing_tower` = power or broadcast towers), cost in 万元.",
        "- `works/works.gpkg` — layers `grid`, `mobile`, `transformers`, `hazards` "
        "(points in their village), and a `metadata` table.",
        "",
    ]
    for layer in (VILLAGES, GROUPS, POINTS, HOUSEHOLDS, SITES, CANDIDATES, GRID_WORKS,
                  MOBILE_WORKS, TRANSFORMERS, HAZARDS):
        parts.append(f"### `{layer.label}`\n")
        parts.append(_schema_table(layer))
        if layer.key in _EXTRA_COLUMNS:
            parts.append(f"\nAlso: {_EXTRA_COLUMNS[layer.key]}.")
        parts.append("")
    return "\n".join(parts)


def write_demo_county(county: DemoCounty, out_dir: Path) -> dict[str, str]:
    """Write the demo county's files under ``out_dir`` (through :mod:`coverage.io`).

    Parameters
    ----------
    county : DemoCounty
        From :func:`build_demo_county`.
    out_dir : Path
        The data folder (created when missing); existing files are replaced atomically.

    Returns
    -------
    dict of str to str
        Relative path (``/`` separated) to the SHA-256 of the written file.
    """
    out_dir = Path(out_dir)
    meta = {"generator": "coverage.demo", "seed": str(county.seed), "crs": county.crs,
            "synthetic": "true"}
    write_geotiff(out_dir / "terrain" / "dem.tif", county.dem, county.transform, county.crs,
                  county.nodata, tags=meta, cog=False)
    write_gpkg(out_dir / "villages" / "villages.gpkg", {
        "villages": county.villages, "groups": county.groups, "points": county.points,
        "households": county.households, "towns": county.towns, "county": county.county,
    }, metadata=meta)
    write_csv(out_dir / "sites" / "sites.csv", county.sites)
    write_csv(out_dir / "sites" / "candidates.csv", county.candidates)
    write_gpkg(out_dir / "works" / "works.gpkg", {
        "grid": county.grid_works, "mobile": county.mobile_works,
        "transformers": county.transformers, "hazards": county.hazards,
    }, metadata=meta)
    write_text_atomic(out_dir / "README.md", readme_text(county))
    rels = ("README.md", "sites/candidates.csv", "sites/sites.csv", "terrain/dem.tif",
            "villages/villages.gpkg", "works/works.gpkg")
    return {rel: hashlib.sha256((out_dir / rel).read_bytes()).hexdigest() for rel in rels}
