"""Site selection (MILP): tiny instances whose optimum is known by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from coverage.config import Config
from coverage.errors import ConfigError, SolverError
from coverage.plan.coverage_matrix import matrix_from_sets
from coverage.plan.select import select_sites, tenancy_discount, tower_cost

OPS = ("CMCC", "CT", "CU")


def groups_frame(hh: dict[str, float], need: dict[str, int] | None = None,
                 n_existing: dict[str, int] | None = None) -> pd.DataFrame:
    ids = list(hh)
    need = need or dict.fromkeys(ids, 1)
    n_existing = n_existing or dict.fromkeys(ids, 0)
    return pd.DataFrame({
        "group_id": ids, "village_id": "V1", "name": ids,
        "households": [float(hh[g]) for g in ids],
        "n_existing": [n_existing[g] for g in ids],
        "covered_any": [n_existing[g] > 0 for g in ids],
        "need": [need[g] for g in ids], "target": [need[g] > 0 for g in ids],
        "best_share": 0.5, "best_rsrp_dbm": -110.0,
    })


def towers_frame(prices: dict[str, float], tenants: dict[str, tuple] | None = None
                 ) -> pd.DataFrame:
    tenants = tenants or {}
    return pd.DataFrame({
        "tower_id": list(prices), "price_wan": [float(p) for p in prices.values()],
        "existing_operators": [tuple(tenants.get(t, ())) for t in prices],
        "source": ["hill" if p > 0 else "existing" for p in prices.values()],
        "kind": ["new" if p > 0 else "existing_tower" for p in prices.values()],
    })


def config(**planning) -> Config:
    cfg = Config()
    for key, value in planning.items():
        setattr(cfg.planning, key, value)
    return cfg


def plan_cost(cfg: Config, towers: pd.DataFrame, chosen: list[tuple[str, str]]) -> float:
    t = towers.set_index("tower_id")
    total = 0.0
    for tower in {c[0] for c in chosen}:
        new = sum(1 for c in chosen if c[0] == tower)
        a, b = tower_cost(cfg.planning, t.at[tower, "price_wan"],
                          len(t.at[tower, "existing_operators"]), new)
        total += a + b
    return total


def brute_force(options, covers, groups, towers, cfg, n_req=1, budget=None, max_sites=None):
    """Cheapest (or, with a budget, most households then cheapest) feasible plan.

    Options that cover no group are never built (a quota counts useful sites only).
    """
    planning = cfg.planning
    options = [o for o in options if covers.get(f"{o[0]}:{o[1]}:{o[2]}")]
    best = None
    hh = dict(zip(groups["group_id"], groups["households"], strict=True))
    need = dict(zip(groups["group_id"], groups["need"], strict=True))
    reach = {g: {o[1] for o in options if g in covers.get(f"{o[0]}:{o[1]}:{o[2]}", set())}
             for g in hh}
    for mask in itertools.product((0, 1), repeat=len(options)):
        chosen = [o for o, m in zip(options, mask, strict=True) if m]
        pairs = [(o[0], o[1]) for o in chosen]
        if len(set(pairs)) < len(pairs):
            continue
        counts = {op: sum(1 for o in chosen if o[1] == op) for op in OPS}
        if any(counts[op] < planning.quotas_min.get(op, 0) for op in OPS):
            continue
        if any(counts[op] > planning.quotas_max.get(op, 99) for op in OPS):
            continue
        cov = {}
        for g in hh:
            ops = {o[1] for o in chosen if g in covers.get(f"{o[0]}:{o[1]}:{o[2]}", set())}
            if n_req == 1:
                cov[g] = len(ops) > 0
            else:
                cov[g] = len(ops) >= min(need[g], len(reach[g]))
        cost = plan_cost(cfg, towers, pairs)
        reachable = [g for g in hh if need[g] > 0 and reach[g]]
        if budget is None and max_sites is None:
            if not all(cov[g] for g in reachable):
                continue
            key = (cost,)
        else:
            if budget is not None and cost > budget + 1e-9:
                continue
            if max_sites is not None and len({p[0] for p in pairs}) > max_sites:
                continue
            got = sum(hh[g] for g in reachable if cov[g]
                      and (n_req == 1 or len({o[1] for o in chosen if g in covers.get(
                          f"{o[0]}:{o[1]}:{o[2]}", set())}) >= need[g]))
            key = (-got, cost)
        if best is None or key < best[0]:
            best = (key, chosen)
    return best


def random_instance(rng: np.random.Generator, n_towers=4, n_groups=5, existing=True):
    options, covers = [], {}
    prices, tenants = {}, {}
    for t in range(n_towers):
        tid = f"T{t}"
        is_existing = existing and rng.random() < 0.4
        prices[tid] = 0.0 if is_existing else float(rng.choice([50.0, 60.0, 70.0]))
        tenants[tid] = (str(rng.choice(OPS)),) if is_existing else ()
        for op in OPS:
            if op in tenants[tid] or rng.random() < 0.3:
                continue
            oid = (tid, op, "B")
            options.append(oid)
            covers[f"{tid}:{op}:B"] = {f"G{g}" for g in range(n_groups) if rng.random() < 0.35}
    groups = groups_frame({f"G{g}": float(rng.integers(20, 90)) for g in range(n_groups)})
    return options, covers, groups, towers_frame(prices, tenants)


def test_discount_rule():
    p = Config().planning
    assert tenancy_discount(p, 1) == 0.0
    assert tenancy_discount(p, 2) == pytest.approx(0.30)
    assert tenancy_discount(p, 3) == pytest.approx(0.40)
    # a new tower: 60; shared by two: 60 x 0.7 = 42 (+2 x 25 equipment)
    assert tower_cost(p, 60.0, 0, 1) == (60.0, 25.0)
    assert tower_cost(p, 60.0, 0, 2) == pytest.approx((42.0, 50.0))
    assert tower_cost(p, 60.0, 0, 3) == pytest.approx((36.0, 75.0))
    assert tower_cost(p, 0.0, 1, 1) == (0.0, 25.0)


def test_sharing_beats_a_second_tower():
    # G1 only CT can reach (from T1 or T2); G2 only CU (from T1 or T2). One shared new
    # tower (42 + 50 = 92) beats two towers (2 x 85 = 170) and adding to the existing tower
    # E1 for G1 (25) plus T1 for G2 (85) = 110.
    groups = groups_frame({"G1": 30, "G2": 40})
    options = [("T1", "CT", "B"), ("T1", "CU", "B"), ("T2", "CT", "B"), ("T2", "CU", "B"),
               ("E1", "CT", "B")]
    covers = {"T1:CT:B": {"G1"}, "T1:CU:B": {"G2"}, "T2:CT:B": {"G1"}, "T2:CU:B": {"G2"},
              "E1:CT:B": {"G1"}}
    towers = towers_frame({"T1": 60, "T2": 60, "E1": 0}, {"E1": ("CMCC",)})
    m = matrix_from_sets(options, groups, covers)
    sel = select_sites(m, towers, Config())
    assert sel.cost_wan == pytest.approx(92.0)
    tower = sel.chosen["tower_id"].iat[0]                # T1 and T2 are alike: either
    assert sel.chosen["option_id"].tolist() == [f"{tower}:CT:B", f"{tower}:CU:B"]
    t = sel.towers.iloc[0]
    assert (t["tenants_after"], t["discount"], t["tower_cost_wan"]) == (2, 0.3, 42.0)
    assert sel.status == "optimal" and sel.mip_gap == 0.0
    assert sel.households_covered == 70.0


def test_existing_tower_is_cheapest():
    groups = groups_frame({"G1": 30})
    options = [("T1", "CT", "B"), ("E1", "CU", "B")]
    covers = {"T1:CT:B": {"G1"}, "E1:CU:B": {"G1"}}
    towers = towers_frame({"T1": 60, "E1": 0}, {"E1": ("CMCC",)})
    sel = select_sites(matrix_from_sets(options, groups, covers), towers, Config())
    assert sel.chosen["option_id"].tolist() == ["E1:CU:B"]
    assert sel.cost_wan == 25.0


@pytest.mark.parametrize("seed", range(12))
def test_cover_all_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    options, covers, groups, towers = random_instance(rng)
    cfg = Config()
    sel = select_sites(matrix_from_sets(options, groups, covers), towers, cfg)
    best = brute_force(options, covers, groups, towers, cfg)
    assert sel.cost_wan == pytest.approx(best[0][0])
    assert sel.status == "optimal"
    # every reachable group is covered, unreachable ones are listed with a reason
    g = sel.groups
    assert g.loc[g["reachable"], "covered_after"].all()
    assert (sel.unreachable["reason"].str.len() > 0).all()


@pytest.mark.parametrize("seed", range(8))
def test_quotas_match_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    options, covers, groups, towers = random_instance(rng)
    counts = pd.Series([o[1] for o in options if covers[f"{o[0]}:{o[1]}:{o[2]}"]]
                       ).value_counts()
    cfg = config(quotas_min={"CT": min(1, int(counts.get("CT", 0)))},
                 quotas_max={"CMCC": 1})
    best = brute_force(options, covers, groups, towers, cfg)
    m = matrix_from_sets(options, groups, covers)
    if best is None:
        with pytest.raises(SolverError, match="quota"):
            select_sites(m, towers, cfg)
        return
    sel = select_sites(m, towers, cfg)
    assert sel.cost_wan == pytest.approx(best[0][0])
    per_op = sel.chosen["operator"].value_counts()
    assert per_op.get("CMCC", 0) <= 1
    assert per_op.get("CT", 0) >= cfg.planning.quotas_min["CT"]


@pytest.mark.parametrize("seed", range(8))
def test_budget_matches_brute_force(seed):
    rng = np.random.default_rng(200 + seed)
    options, covers, groups, towers = random_instance(rng)
    cfg = config(mode="budget", budget_wan=100.0)
    best = brute_force(options, covers, groups, towers, cfg, budget=100.0)
    sel = select_sites(matrix_from_sets(options, groups, covers), towers, cfg)
    assert sel.households_covered == pytest.approx(-best[0][0])
    assert sel.cost_wan == pytest.approx(best[0][1])
    assert sel.cost_wan <= 100.0 + 1e-9
    assert [s.stage for s in sel.solves] == ["budget"]


@pytest.mark.parametrize("seed", range(5))
def test_max_sites_matches_brute_force(seed):
    rng = np.random.default_rng(300 + seed)
    options, covers, groups, towers = random_instance(rng)
    cfg = config(mode="budget", max_new_sites=1)
    best = brute_force(options, covers, groups, towers, cfg, max_sites=1)
    sel = select_sites(matrix_from_sets(options, groups, covers), towers, cfg)
    assert sel.households_covered == pytest.approx(-best[0][0])
    assert sel.cost_wan == pytest.approx(best[0][1])
    assert len(sel.towers) <= 1


@pytest.mark.parametrize("seed", range(6))
def test_two_operators_match_brute_force(seed):
    rng = np.random.default_rng(400 + seed)
    options, covers, groups, towers = random_instance(rng, n_towers=3, n_groups=4)
    groups["need"] = 2
    groups["target"] = True
    cfg = config(required_operators=2)
    m = matrix_from_sets(options, groups, covers)
    sel = select_sites(m, towers, cfg)
    best = brute_force(options, covers, groups, towers, cfg, n_req=2)
    assert sel.cost_wan == pytest.approx(best[0][0])
    g = sel.groups
    full = g["reachable"]
    assert g.loc[full, "covered_after"].all()
    assert g.loc[full, "new_operators"].str.split(";").map(len).ge(2).all()


def test_two_operators_count_existing_operator():
    # G1 already has CMCC: it needs one more operator, not two.
    groups = groups_frame({"G1": 50}, need={"G1": 1}, n_existing={"G1": 1})
    options = [("T1", "CT", "B"), ("T1", "CU", "B")]
    covers = {"T1:CT:B": {"G1"}, "T1:CU:B": {"G1"}}
    towers = towers_frame({"T1": 60})
    sel = select_sites(matrix_from_sets(options, groups, covers), towers,
                       config(required_operators=2))
    assert len(sel.chosen) == 1
    assert sel.cost_wan == 85.0


def test_infeasible_quota_gives_clear_error():
    groups = groups_frame({"G1": 30, "G2": 20})
    options = [("T1", "CT", "B"), ("T2", "CU", "B")]
    covers = {"T1:CT:B": {"G1"}, "T2:CU:B": {"G2"}}
    towers = towers_frame({"T1": 60, "T2": 60})
    m = matrix_from_sets(options, groups, covers)
    with pytest.raises(SolverError, match=r"quotas_min\[CMCC\] = 2.*only 0"):
        select_sites(m, towers, config(quotas_min={"CMCC": 2}))
    with pytest.raises(SolverError, match=r"quotas are infeasible.*CT 1, CU 1"):
        select_sites(m, towers, config(quotas_max={"CU": 0}))
    with pytest.raises(ConfigError, match="min ≤ max"):
        select_sites(m, towers, config(quotas_min={"CT": 2}, quotas_max={"CT": 1}))
    with pytest.raises(ConfigError, match="budget_wan or"):
        select_sites(m, towers, config(mode="budget"))


def test_unreachable_groups_reported():
    groups = groups_frame({"G1": 30, "G2": 20})
    groups.loc[1, ["best_share", "best_rsrp_dbm"]] = [0.4, -113.25]
    options = [("T1", "CT", "B")]
    covers = {"T1:CT:B": {"G1"}}
    sel = select_sites(matrix_from_sets(options, groups, covers), towers_frame({"T1": 60}),
                       Config())
    un = sel.unreachable
    assert un["group_id"].tolist() == ["G2"]
    assert "40%" in un["reason"].iat[0] and "-113.2 dBm" in un["reason"].iat[0]
    assert sel.households_covered == 30.0


def test_dominated_band_is_not_chosen():
    groups = groups_frame({"G1": 30, "G2": 20})
    options = [("T1", "CMCC", "B1"), ("T1", "CMCC", "B2")]
    covers = {"T1:CMCC:B1": {"G1"}, "T1:CMCC:B2": {"G1", "G2"}}
    sel = select_sites(matrix_from_sets(options, groups, covers), towers_frame({"T1": 60}),
                       Config())
    assert sel.chosen["option_id"].tolist() == ["T1:CMCC:B2"]
    assert sel.cost_wan == 85.0


def test_deterministic():
    rng = np.random.default_rng(7)
    options, covers, groups, towers = random_instance(rng, n_towers=6, n_groups=8)
    m = matrix_from_sets(options, groups, covers)
    a = select_sites(m, towers, Config())
    b = select_sites(m, towers, Config())
    pd.testing.assert_frame_equal(a.chosen, b.chosen)
    pd.testing.assert_frame_equal(a.towers, b.towers)
