"""The operators' side of the works tables: 68 rural mobile works of 2020.

New sites and sharing retrofits under way, new sites finished in 2020, fibre replacing
microwave backhaul, new sites planned in villages still without signal, and capacity upgrades.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from coverage.demo.dates import iso, random_date
from coverage.demo.plane import GRID
from coverage.demo.sites import OP_WEIGHT
from coverage.schema import OPERATORS

N_MOBILE_WORKS = 68
"""Rural mobile works in the county's 2020 table."""


def mobile_work_rows(rng: np.random.Generator, sites: pd.DataFrame, site_village: np.ndarray,
                     unc_villages: list[int], village_xy: np.ndarray) -> tuple[dict, np.ndarray]:
    """68 operator rural works: new sites and sharing retrofits, fibre access, capacity, gaps.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    sites : DataFrame
        The sites table.
    site_village : ndarray of int
        Village index of each site row.
    unc_villages : list of int
        Villages with groups lacking signal (screening estimate).
    village_xy : ndarray, shape (villages, 2)
        Each village's committee point (m), where gap works are placed.

    Returns
    -------
    rows : dict of str to list
        Mobile works columns, ordered by village (investment in 万元, dates ISO).
    xy : ndarray, shape (68, 2)
        Points (m): the site's, or the village committee's for gap works.
    """
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
        rows["due"].append(iso(due))
        rows["done"].append(iso(done))
        xy.append(at)

    late_tower = sites.groupby("tower_id", sort=False)["status"].transform(
        lambda st: (st != "on_air").all())
    for i in np.flatnonzero(sites["status"].to_numpy() != "on_air"):
        new = bool(late_tower.iloc[i])
        st = sites["status"].iloc[i]
        add(int(site_village[i]), sites["operator"].iloc[i], "新建基站" if new else "共享改造",
            "in_progress" if st == "building" else "planned",
            rng.uniform(45, 90) if new else rng.uniform(10, 25), int(i),
            random_date(rng, dt.date(2020, 10, 15), dt.date(2020, 12, 31)), None,
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
            int(i), random_date(rng, dt.date(2020, 9, 30), dt.date(2020, 12, 31)), None,
            np.array([sx[i], sy[i]]))
    # Gaps: new sites planned in villages still without signal (no site designed yet).
    for v in rng.permutation(unc_villages)[:min(12, N_MOBILE_WORKS - len(rows["work_id"]))]:
        op = str(rng.choice(OPERATORS, p=OP_WEIGHT))
        add(int(v), op, "新建基站", "planned", rng.uniform(50, 95), None,
            random_date(rng, dt.date(2020, 11, 30), dt.date(2021, 6, 30)), None, village_xy[v])
    # The rest: capacity upgrades and fibre on older fibre-fed sites.
    old = np.flatnonzero((dates.dt.year < 2018).to_numpy()
                         & (sites["backhaul"] == "fiber").to_numpy())
    for i in np.sort(rng.choice(old, size=max(0, N_MOBILE_WORKS - len(rows["work_id"])),
                                replace=False)):
        due = random_date(rng, dt.date(2020, 3, 31), dt.date(2020, 11, 30))
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
