"""The power side of the works tables: 台区 transformers, rural grid works, line hazards.

Each function returns the table's columns and one point (local plane, m) per row.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from coverage.demo.dates import iso, random_date
from coverage.demo.names import GRID_OWNERS
from coverage.demo.placement import settle
from coverage.demo.plane import cell_xy
from coverage.demo.settlements import Settlement

_KVA = np.array([30, 50, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630], dtype=float)
"""Standard distribution transformer sizes (kVA)."""


def transformer_rows(rng: np.random.Generator, s: Settlement, village_hh: np.ndarray
                     ) -> tuple[dict, np.ndarray, set[int]]:
    """Several 台区 per village at its settlements; in about one village in seven one of them
    is below 2 kVA per household.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    s : Settlement
        Villages, groups and households placed.
    village_hh : ndarray of int
        Households of each village.

    Returns
    -------
    rows : dict of str to list
        Columns ``transformer_id``, ``village_id``, ``kva``, ``households``.
    xy : ndarray, shape (n, 2)
        Each transformer at one of its village's household clusters (m).
    weak : set of int
        Villages with a transformer below 2 kVA per household.
    """
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


def underpowered_villages(seed: int, tr: dict[str, list], weak: set[int],
                          count: int = 5) -> list[str]:
    """Make a few weak villages short on average too (户均配变容量 below 2.0 kVA).

    A single weak transformer seldom pulls a village's average below the threshold, so
    the acceptance rule (total kVA / households) would never fail in the demo. Here every
    transformer of ``count`` of the weak villages gets the largest standard size not above
    1.6 kVA per household. A generator of its own keeps every other demo file unchanged.

    Parameters
    ----------
    seed : int
        The demo's seed.
    tr : dict of str to list
        The transformer table (changed in place).
    weak : set of int
        Villages with a weak transformer (0-based).
    count : int
        How many of them become short on average.

    Returns
    -------
    list of str
        The ids of the villages changed.
    """
    rng = np.random.default_rng([seed, 15])
    pool = sorted(weak)
    chosen = sorted(rng.choice(pool, size=min(count, len(pool)), replace=False).tolist())
    ids = [f"V{v + 1:03d}" for v in chosen]
    for i, vid in enumerate(tr["village_id"]):
        if vid in ids:
            sizes = _KVA[1.6 * tr["households"][i] >= _KVA]
            tr["kva"][i] = float(sizes[-1]) if sizes.size else float(_KVA[0])
    return ids


def grid_work_rows(rng: np.random.Generator, n_villages: int, weak: set[int],
                   tr: dict[str, list], tr_xy: np.ndarray) -> tuple[dict, np.ndarray]:
    """40 rural grid works: the weak 台区 being fixed, the rest mostly done.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n_villages : int
        Number of villages.
    weak : set of int
        Villages with a weak transformer (from :func:`transformer_rows`).
    tr, tr_xy
        The transformer table and points (each work sits at its village's first one).

    Returns
    -------
    rows : dict of str to list
        Grid works columns (investment in 万元, dates ISO, ``kva_after`` in kVA).
    xy : ndarray, shape (40, 2)
        Points (m).
    """
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
        due = random_date(rng, dt.date(2020, 4, 30), dt.date(2020, 12, 31))
        if status == "done":
            due = random_date(rng, dt.date(2020, 3, 31), dt.date(2020, 10, 15))
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
        rows["owner"].append(str(rng.choice(GRID_OWNERS)))
        rows["status"].append(status)
        rows["investment_wan"].append(round(float(rng.uniform(*invest)), 1))
        rows["due"].append(iso(due))
        rows["done"].append(iso(done))
        rows["kva_after"].append(kva)
        k = np.flatnonzero(tr_v == vid)
        xy.append(tr_xy[k[0]])
    return rows, np.array(xy)


def hazard_rows(rng: np.random.Generator, s: Settlement) -> tuple[dict, np.ndarray]:
    """17 power-line hazards found in 2020, 14 of them fixed.

    Returns
    -------
    rows : dict of str to list
        Columns ``hazard_id``, ``village_id``, ``found`` (ISO date), ``fixed``, ``category``.
    xy : ndarray, shape (17, 2)
        A random point strictly inside each hazard's village (m).
    """
    cats = ("树线矛盾", "交叉跨越距离不足", "杆塔倾斜", "导线断股", "拉线松动", "基础冲刷")
    villages = np.sort(rng.choice(len(s.village_poly), size=17, replace=False))
    open_ = set(rng.choice(17, size=3, replace=False).tolist())
    rows: dict[str, list] = {"hazard_id": [], "village_id": [], "found": [], "fixed": [],
                             "category": []}
    xy = []
    for i, v in enumerate(villages):
        cells = s.village_cells[v]
        xy.append(cell_xy(cells[[int(rng.integers(len(cells)))]])[0])
        rows["hazard_id"].append(f"HZ{i + 1:02d}")
        rows["village_id"].append(f"V{v + 1:03d}")
        rows["found"].append(iso(random_date(rng, dt.date(2020, 3, 1), dt.date(2020, 9, 30))))
        rows["fixed"].append(i not in open_)
        rows["category"].append(str(rng.choice(cats)))
    return rows, settle(np.array(xy), villages, s.village_poly, s.village_cells)
