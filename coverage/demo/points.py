"""Test points of every village: village committee, school, clinic and settlements."""

from __future__ import annotations

import numpy as np

from coverage.demo.placement import settle
from coverage.demo.plane import cell_xy
from coverage.demo.settlements import Settlement, group_ids


def place_test_points(rng: np.random.Generator, s: Settlement) -> tuple[dict, np.ndarray]:
    """Village committee, school, clinic and settlement points.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    s : Settlement
        Villages, groups and households placed.

    Returns
    -------
    rows : dict of str to list
        Columns ``point_id``, ``village_id``, ``kind``, ``group_id``, ``name``.
    xy : ndarray, shape (n, 2)
        The points (local plane, m), each strictly inside its group.
    """
    hab_flat = s.hab.ravel()
    rows: dict[str, list] = {"point_id": [], "village_id": [], "kind": [], "group_id": [],
                             "name": []}
    xy_all, owner = [], []
    gid = group_ids(s)
    hh_v = np.bincount(s.group_village, weights=s.group_hh, minlength=len(s.village_poly))
    rank = np.argsort(np.argsort(-hh_v, kind="stable"), kind="stable") / len(hh_v)
    for v in range(len(s.village_poly)):
        gs = np.flatnonzero(s.group_village == v)
        big = gs[np.argsort(-s.group_hh[gs], kind="stable")]
        vname, vid = s.village_names[v], f"V{v + 1:03d}"
        items: list[tuple[str, int, np.ndarray, str]] = []

        def near(g: int, centre: np.ndarray, radius: float) -> np.ndarray:
            cells = s.group_cells[g]
            xy = cell_xy(cells)
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
        for g in gs.tolist():
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
    return rows, settle(np.array(xy_all), np.array(owner), s.group_poly, s.group_cells)
