"""Where people live: the county outline, its villages, groups and household clusters.

Village seeds are drawn weighted to valleys and lower slopes and tiled into 行政村 polygons
(Voronoi, clipped to the county); the best-placed seeds in the main valleys become the town
seats. Each village is tiled the same way into 村民组, each group gets 1-4 household cluster
points on its most habitable cells. All geometry is in the local plane (m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy import ndimage

from coverage.demo.names import TOWNS, group_names, seat_village_name, village_names
from coverage.demo.placement import off_lattice, settle, spaced_sample, tile
from coverage.demo.plane import GRID, cell_xy, cells_by_label, rasterize, to_lonlat
from coverage.demo.terrain_synth import GridSpec, Terrain

N_VILLAGES = 182
"""Administrative villages (行政村) in the county."""
N_GROUPS_TARGET = 1700
"""About this many village groups (村民组) in all (5-16 per village)."""


@dataclass
class Settlement:
    """Working state of the settlement model (local plane, metres).

    Filled in steps: :func:`place_villages` creates it, :func:`place_groups` and
    :func:`place_households` add the group and household fields.
    """

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


def county_polygon(rng: np.random.Generator, grid: GridSpec):
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


def place_villages(rng: np.random.Generator, t: Terrain, county) -> Settlement:
    """Village seeds weighted to valleys, their Voronoi tiling, towns and names.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    t : Terrain
        The synthetic terrain.
    county : shapely Polygon
        County outline (m).

    Returns
    -------
    Settlement
        Villages ordered by town (each town's seat village first, then by distance to it).
    """
    grid = t.grid
    county_ll = to_lonlat(county)
    mask = rasterize([county_ll], (grid.rows, grid.cols), grid.transform) > 0
    hab = _habitability(t, mask)
    cells = np.flatnonzero(mask.ravel())
    xy = cell_xy(cells)
    # Villages are smaller where many people live (valleys) and larger in the mountains.
    dense = ndimage.uniform_filter(hab, size=71).ravel()[cells]
    dense = np.clip(dense / np.percentile(dense, 99), 0.0, 1.0)
    pick = spaced_sample(rng, xy, hab.ravel()[cells] ** 0.8 + 0.03, N_VILLAGES,
                         2430.0 * (1.25 - 0.65 * dense), 40000)
    seeds = xy[pick] + off_lattice(rng, len(pick))
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
    polys = tile(seeds, county)
    seat_rows = np.array([int(np.flatnonzero(town == k)[0]) for k in range(len(TOWNS))])
    stems = {k: seat_village_name(TOWNS[k]) for k in range(len(TOWNS))}
    names = village_names(rng, len(seeds), set(stems.values()))
    for k, row in enumerate(seat_rows):
        names[row] = stems[k]
    return Settlement(county=county, mask=mask, hab=hab, village_poly=polys,
                      village_seed=seeds, village_town=town, town_seat=seat_rows,
                      village_names=names)


def place_groups(rng: np.random.Generator, s: Settlement) -> None:
    """Group seeds inside each village (weighted to valleys), their tiling, sizes and names.

    Fills the ``group_*`` and ``village_cells`` fields of ``s`` in place.
    """
    grid = GRID
    vr = rasterize(to_lonlat(np.array(s.village_poly, dtype=object)), (grid.rows, grid.cols),
                   grid.transform)
    s.village_cells = cells_by_label(vr, len(s.village_poly))
    hab_flat = s.hab.ravel()
    mass = np.array([hab_flat[c].sum() for c in s.village_cells]) ** 0.7
    n_groups = np.clip(np.rint(N_GROUPS_TARGET * mass / mass.sum()), 5, 16).astype(int)
    polys, village, names, hh = [], [], [], []
    for v, cells in enumerate(s.village_cells):
        xy = cell_xy(cells)
        area = shapely.area(s.village_poly[v])
        pick = spaced_sample(rng, xy, hab_flat[cells] ** 1.5 + 1e-4, n_groups[v],
                             0.45 * math.sqrt(area / n_groups[v]), 600)
        seeds = xy[pick] + off_lattice(rng, len(pick))
        polys += tile(seeds, s.village_poly[v])
        village += [v] * len(seeds)
        names += group_names(rng, s.village_names[v], len(seeds))
        base = (rng.lognormal(math.log(46.0), 0.45, len(seeds))
                * (0.75 + 0.8 * hab_flat[cells[pick]]))
        hh += list(np.clip(np.rint(base), 10, 150).astype(int))
    s.group_poly, s.group_village = polys, np.array(village)
    s.group_names, s.group_hh = names, np.array(hh)
    gr = rasterize(to_lonlat(np.array(polys, dtype=object)), (grid.rows, grid.cols),
                   grid.transform)
    s.group_cells = cells_by_label(gr, len(polys))


def place_households(rng: np.random.Generator, s: Settlement) -> None:
    """1-4 household cluster points per group, on its most habitable cells.

    Fills the ``hh_*`` and ``group_main`` (each group's largest cluster) fields of ``s``.
    """
    hab_flat = s.hab.ravel()
    xs, groups, counts, main = [], [], [], []
    for g, cells in enumerate(s.group_cells):
        hh = int(s.group_hh[g])
        k = int(np.clip(1 + hh // 40 + rng.integers(-1, 2), 1, 4))
        xy = cell_xy(cells)
        jitter = rng.uniform(-0.35, 0.35, (len(cells), 2)) * (GRID.dx_m, GRID.dy_m)
        pick = spaced_sample(rng, xy, hab_flat[cells] ** 2 + 1e-6, k, 150.0, 60)
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
    s.hh_xy = settle(s.hh_xy, s.hh_group, s.group_poly, s.group_cells)


def group_ids(s: Settlement) -> list[str]:
    """``V001-G01`` style IDs (groups are stored village by village)."""
    rank = np.arange(len(s.group_village)) - np.searchsorted(s.group_village, s.group_village)
    return [f"V{v + 1:03d}-G{k + 1:02d}" for v, k in zip(s.group_village, rank, strict=True)]
