"""How the synthetic network grew: tower locations, phase by phase, until few groups lack signal.

Operators built first in the towns, then every few km along the main valleys, then greedily in
side valleys by the uncovered households within reach and by access; growth stops when
:data:`TARGET_UNCOVERED_GROUPS` groups lack signal, and a few towers are then being built or
planned to fill gaps. The cheap link budget (:mod:`coverage.demo.linkbudget`) on one generic
sub-GHz carrier is the coverage oracle. Which operators use each location is decided later
(:mod:`coverage.demo.sites`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from coverage.config import Config
from coverage.demo.dates import random_date
from coverage.demo.linkbudget import RX_HEIGHT_M, THRESHOLD_DBM, group_covered, paths, rsrp
from coverage.demo.names import TOWNS
from coverage.demo.plane import GRID
from coverage.demo.settlements import Settlement
from coverage.demo.terrain_synth import Terrain

TARGET_UNCOVERED_GROUPS = 320
"""The network stops growing when this many groups lack signal (screening estimate)."""
VILLAGE_BIAS = 0.1
"""Greedy growth favours villages already partly covered (finishing them) by this offset."""


@dataclass
class Tower:
    """A tower of the synthetic network (position and ground in the local plane, m)."""

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


class Network:
    """Greedy network growth with the screening model as its coverage oracle.

    Parameters
    ----------
    z : ndarray, shape (rows, cols)
        Elevation (m), no nodata.
    terrain : Terrain
        The synthetic terrain (streams and distances to them).
    s : Settlement
        Villages, groups and households placed.
    cfg : Config
        Band profiles (the generic carrier is CMCC FDD900).
    """

    def __init__(self, z: np.ndarray, terrain: Terrain, s: Settlement, cfg: Config) -> None:
        self.z, self.t, self.s = z, terrain, s
        self.band = cfg.band("CMCC", "FDD900")
        self.rx_abs = self._ground(s.hh_xy) + RX_HEIGHT_M
        self.hit = np.zeros(len(s.hh_xy), dtype=bool)
        self.towers: list[Tower] = []

    def _ground(self, xy: np.ndarray) -> np.ndarray:
        col, row = GRID.xy_to_colrow(xy[:, 0], xy[:, 1])
        c = np.clip(np.rint(col).astype(np.int64), 0, GRID.cols - 1)
        r = np.clip(np.rint(row).astype(np.int64), 0, GRID.rows - 1)
        return self.z[r, c].astype(np.float64)

    def coverage(self, tw: Tower) -> np.ndarray:
        """Household clusters the tower's generic sub-GHz carrier reaches (indices)."""
        p = paths(self.z, tw.xy, tw.ground + tw.height, self.s.hh_xy, self.rx_abs)
        ok = rsrp(p, self.band, tw.azimuths, tw.tilt, 43.0, None) >= THRESHOLD_DBM
        return p.idx[ok]

    def add(self, tw: Tower, count: bool = True) -> None:
        """Add a tower; its coverage counts unless ``count`` is False."""
        self.towers.append(tw)
        if count:
            self.hit[self.coverage(tw)] = True

    def uncovered_groups(self) -> np.ndarray:
        """Boolean mask of the groups lacking signal now."""
        hit_hh = np.bincount(self.s.hh_group, weights=self.s.hh_count * self.hit,
                             minlength=len(self.s.group_hh))
        return ~group_covered(hit_hh, self.s.group_hh)

    def near_tower(self, xy: np.ndarray, dist: float) -> bool:
        """Whether a tower stands within ``dist`` m of ``xy``."""
        return any(np.hypot(*(tw.xy - xy)) < dist for tw in self.towers)


def tower_spots(s: Settlement, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group: a tower spot on the highest ground within 450 m of its main settlement that is
    at most 110 m above it (a knoll or lower spur, as rural masts are), inside the county.

    Returns
    -------
    spots : ndarray, shape (groups, 2)
        Spot positions (local plane, m).
    ground : ndarray, shape (groups,)
        Ground elevation at each spot (m).
    """
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


def grow(rng: np.random.Generator, net: Network, spots: np.ndarray, spot_ground: np.ndarray,
         points_xy: np.ndarray) -> None:
    """Towns first, then the main valleys, then side valleys by access; remote ones left out.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    net : Network
        The network to grow (its ``towers`` are appended to, each with a build date except
        the gap towers).
    spots, spot_ground : ndarray
        From :func:`tower_spots`.
    points_xy : ndarray, shape (towns, 2)
        Each town seat's centre (m), in :data:`~coverage.demo.names.TOWNS` order.
    """
    s, t = net.s, net.t
    tree, axis_az = _valley_axis(t)

    def make(g: int, phase: str, built: dt.date | None) -> Tower:
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
        return Tower(xy, float(spot_ground[g]), height, az, tilt, phase, built=built)

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
            tw = make(int(g), "town", random_date(rng, dt.date(2009, 3, 1), dt.date(2012, 6, 30)))
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
            net.add(make(int(g), "valley",
                         random_date(rng, dt.date(2011, 1, 1), dt.date(2015, 12, 31))))
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
        best = int(np.argmax(score))
        if score[best] <= 0.0:
            break
        if done:
            # A few more are being built or planned to fill gaps; they do not count today.
            tw = make(best, "gap", None)
            tw.status = "building" if late < 2 else "planned"
            net.add(tw, count=False)
            late += 1
            if late == 4:
                break
            # Pretend they cover, so that the next one goes elsewhere.
            net.hit[net.coverage(tw)] = True
            continue
        tw = make(best, "side", None)
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
