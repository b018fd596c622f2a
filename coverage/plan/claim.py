"""Claims: which operator takes each chosen slot — a min-cost flow (networkx, integer costs).

The selection (:mod:`coverage.plan.select`) fixes the towers, how many operators go on
each (hence the cost) and one feasible operator assignment. The claim step then decides
*who* claims each slot, among assignments that keep the cost, the coverage and the
quotas:

* a *slot* is one new tenancy of the selection on a tower; it is *responsible* for the gap
  groups it covers (a group covered by several slots is given to the first, by option ID);
* an operator may take a slot when it is not on that tower yet and one of its bands there
  covers every group the slot is responsible for (so coverage is kept); it takes the band
  that brings it the most households;
* the flow sends one unit per slot from a source through an operator node (supply =
  its minimum quota, arc capacity = max − min) and an (operator, tower) node of capacity 1
  (an operator at most once per tower) to the slot;
* the integer cost of operator ``o`` on a slot is
  ``10 000 × (households the best operator would bring − households o brings)`` plus the
  distance from the tower to o's nearest fiber (0 on a fiber-fed tower, else the nearest
  fiber-fed tower o is on, or village fiber point) in units of 10 m, capped at 9 999:
  first prefer the operator that has *no signal* in the most households the site serves,
  then short backhaul.

The selection's own assignment is always a feasible flow, so the claim step never breaks
what the MILP proved. With ``required_operators > 1`` the operator identity is part of the
requirement itself (distinct operators per group), so the claims are the MILP's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from coverage.config import Config
from coverage.plan.backhaul import nearest_fiber_km
from coverage.plan.coverage_matrix import CoverageMatrix
from coverage.plan.select import Selection, group_coverage, tower_table
from coverage.study import Study

HOUSEHOLD_WEIGHT = 10_000
"""Flow cost of one household an operator would not newly serve (dominates backhaul)."""

FIBER_UNIT_M = 10.0
"""Backhaul distance unit of the flow cost (m); capped at :data:`FIBER_CAP` units."""

FIBER_CAP = 9_999


@dataclass(frozen=True)
class Claims:
    """Result of :func:`claim_sites`.

    Attributes
    ----------
    claims : DataFrame
        One row per claim (sorted by tower, operator): tower_id, operator, band, option_id,
        milp_operator (the selection's operator on that slot), groups (responsible group
        IDs), households_new (households of the gap groups it is responsible for),
        households_operator (households of required groups it brings its operator to),
        fiber_km, tower_share_wan, equipment_wan, cost_wan, reason.
    chosen : DataFrame
        The built options after the claims (option_id, tower_id, operator, band).
    towers : DataFrame
        Per tower cost table (as :attr:`Selection.towers`, operators updated).
    groups : DataFrame
        Groups with coverage recomputed for the claimed options.
    method : str
        ``min_cost_flow`` or ``selection`` (N > 1, or nothing to claim).
    flow_cost : int
        Total integer cost of the flow (0 for ``selection``).
    changed : int
        Slots whose operator differs from the selection's.
    """

    claims: pd.DataFrame
    chosen: pd.DataFrame
    towers: pd.DataFrame
    groups: pd.DataFrame
    method: str
    flow_cost: int
    changed: int

    def per_operator(self) -> dict[str, int]:
        """Number of sites each operator claims."""
        return {str(k): int(v) for k, v in self.claims["operator"].value_counts(
            sort=False).sort_index().items()}


@dataclass(frozen=True)
class _Slot:
    """One new tenancy of the selection: the option, its tower and the MILP's operator."""

    option_id: str
    tower_id: str
    operator: str


def _slots(chosen: pd.DataFrame) -> list[_Slot]:
    """The rows of ``Selection.chosen`` (option_id, tower_id, operator) as records."""
    return [_Slot(option_id=o, tower_id=t, operator=op) for o, t, op in zip(
        chosen["option_id"].tolist(), chosen["tower_id"].tolist(),
        chosen["operator"].tolist(), strict=True)]


def _responsibility(selection: Selection, matrix: CoverageMatrix) -> dict[str, list[int]]:
    """Slot (option_id) -> indices of the groups it is responsible for."""
    out: dict[str, list[int]] = {oid: [] for oid in selection.chosen["option_id"]}
    g = selection.groups
    covered_by = g["covered_by"].to_numpy()
    for j in np.flatnonzero((g["target"] & g["covered_after"]).to_numpy()):
        by = [s for s in str(covered_by[j]).split(";") if s]
        if by:
            out[sorted(by)[0]].append(int(j))
    return out


def claim_sites(selection: Selection, matrix: CoverageMatrix, candidates: pd.DataFrame,
                study: Study, *, config: Config | None = None) -> Claims:
    """Assign an operator to every slot of the selection by a min-cost flow.

    Parameters
    ----------
    selection : Selection
        From :func:`coverage.plan.select.select_sites`.
    matrix : CoverageMatrix
        The candidate coverage the selection was made on.
    candidates : DataFrame
        Candidate towers (tower_id, x, y, price_wan, existing_operators, source, kind).
    study : Study
        For the fiber points and fiber-fed towers.
    config : Config, optional
        Defaults to ``study.config``.

    Returns
    -------
    Claims

    Raises
    ------
    coverage.errors.SolverError
        The flow is infeasible (cannot happen for a valid selection; a bug otherwise).
    """
    cfg = config or study.config
    planning = cfg.planning
    operators = list(cfg.operators)
    cands = pd.DataFrame(candidates).set_index("tower_id")
    opts = matrix.options
    opt_pos = {oid: i for i, oid in enumerate(opts["option_id"])}
    resp = _responsibility(selection, matrix)
    slots = selection.chosen.reset_index(drop=True)
    slot_rows = _slots(slots)
    hh_op = opts["households_op"].to_numpy()
    hh = matrix.groups["households"].to_numpy(float)
    covers = {i: set(matrix.covers(i).tolist()) for i in range(len(opts))}

    # admissible (slot, operator) -> best option index
    fiber: dict[str, np.ndarray] = {}
    on_fiber = (cands["backhaul"].to_numpy() == "fiber") if "backhaul" in cands else (
        np.zeros(len(cands), bool))
    for op in operators:
        km = nearest_fiber_km(study, cands["x"].to_numpy(float), cands["y"].to_numpy(float),
                              op)
        fiber[op] = np.where(on_fiber, 0.0, km)     # a fiber-fed tower serves every tenant
    tower_pos: dict[str, int] = {t: i for i, t in enumerate(cands.index)}
    by_tower_op = opts.groupby(["tower_id", "operator"], sort=False).indices
    admissible: dict[int, dict[str, int]] = {}
    for s, slot in enumerate(slot_rows):
        need = set(resp[slot.option_id])
        choices: dict[str, int] = {}
        for op in operators:
            idx = by_tower_op.get((slot.tower_id, op))
            if idx is None:
                continue
            ok = [i for i in idx if need <= covers[i]]
            if op == slot.operator:
                ok = ok or [opt_pos[slot.option_id]]
            if ok:
                choices[op] = max(ok, key=lambda i: (hh_op[i], -i))
        admissible[s] = choices

    method = "selection"
    assign = {s: (slot.operator, opt_pos[slot.option_id]) for s, slot in enumerate(slot_rows)}
    flow_cost = 0
    if selection.required_operators == 1 and len(slots):
        assign, flow_cost = _flow(slot_rows, admissible, hh_op, fiber, tower_pos, operators,
                                  planning.quotas_min, planning.quotas_max)
        method = "min_cost_flow"

    rows = []
    band, option_id = opts["band"].to_numpy(), opts["option_id"].to_numpy()
    group_id = matrix.groups["group_id"].to_numpy()
    for s, slot in enumerate(slot_rows):
        op, i = assign[s]
        groups_here = resp[slot.option_id]
        fkm = float(fiber[op][tower_pos[slot.tower_id]]) if slot.tower_id in tower_pos else (
            np.inf)
        rows.append({
            "tower_id": slot.tower_id, "operator": op, "band": band[i],
            "option_id": option_id[i], "milp_operator": slot.operator,
            "groups": ";".join(group_id[j] for j in groups_here),
            "households_new": float(hh[groups_here].sum()) if groups_here else 0.0,
            "households_operator": float(hh_op[i]),
            "fiber_km": round(fkm, 2) if np.isfinite(fkm) else np.nan,
        })
    claims = pd.DataFrame(rows, columns=[
        "tower_id", "operator", "band", "option_id", "milp_operator", "groups",
        "households_new", "households_operator", "fiber_km"])
    chosen, towers, _ = tower_table(claims[["option_id", "tower_id", "operator", "band"]],
                                    cands, planning, operators)
    claims = _with_costs(claims, towers, operators)
    chosen_idx = np.array([opt_pos[o] for o in chosen["option_id"]], np.int64)
    rule = matrix.cover_op if selection.required_operators > 1 else matrix.cover_any
    groups = group_coverage(selection.groups.drop(
        columns=["covered_by", "new_operators", "covered_after"]), rule, opts, chosen_idx,
        selection.required_operators, operators)
    changed = int((claims["operator"] != claims["milp_operator"]).sum())
    return Claims(claims=claims, chosen=chosen, towers=towers, groups=groups, method=method,
                  flow_cost=int(flow_cost), changed=changed)


def _flow(slots: list[_Slot], admissible: dict[int, dict[str, int]], hh_op: np.ndarray,
          fiber: dict[str, np.ndarray], tower_pos: dict[str, int], operators: list[str],
          quotas_min: dict[str, int], quotas_max: dict[str, int]
          ) -> tuple[dict[int, tuple[str, int]], int]:
    import networkx as nx  # here: a run whose plan is memoised never needs it

    from coverage.errors import SolverError

    n = len(slots)
    g = nx.DiGraph()
    total_min = sum(quotas_min.get(op, 0) for op in operators)
    g.add_node("source", demand=-(n - total_min))
    for op in operators:
        g.add_node(("op", op), demand=-quotas_min.get(op, 0))
    for s in range(n):
        g.add_node(("slot", s), demand=0)
    g.add_node("sink", demand=n)
    for op in operators:
        hi = quotas_max.get(op)
        cap = n if hi is None else max(hi - quotas_min.get(op, 0), 0)
        g.add_edge("source", ("op", op), capacity=cap, weight=0)
    for s, slot in enumerate(slots):
        choices = admissible[s]
        best = max(hh_op[i] for i in choices.values())
        for op in operators:
            if op not in choices:
                continue
            i = choices[op]
            short = round(best - hh_op[i])
            fkm = fiber[op][tower_pos[slot.tower_id]] if slot.tower_id in tower_pos else np.inf
            dist = FIBER_CAP if not np.isfinite(fkm) else min(
                FIBER_CAP, round(float(fkm) * 1000.0 / FIBER_UNIT_M))
            node = ("ot", op, slot.tower_id)
            if node not in g:
                g.add_edge(("op", op), node, capacity=1, weight=0)
            g.add_edge(node, ("slot", s), capacity=1, weight=HOUSEHOLD_WEIGHT * short + dist)
        g.add_edge(("slot", s), "sink", capacity=1, weight=0)
    try:
        flow = nx.min_cost_flow(g)
    except nx.NetworkXUnfeasible as exc:
        raise SolverError(f"the claim step found no operator assignment ({exc}); the quotas "
                          "cannot be met on the chosen sites. Fix: relax planning.quotas_min "
                          "/ quotas_max.") from None
    cost = nx.cost_of_flow(g, flow)
    out = {}
    for s in range(n):
        for op, i in admissible[s].items():
            node = ("ot", op, slots[s].tower_id)
            if flow.get(node, {}).get(("slot", s), 0) > 0:
                out[s] = (op, i)
    return out, int(cost)


def _with_costs(claims: pd.DataFrame, towers: pd.DataFrame, operators: list[str]
                ) -> pd.DataFrame:
    """Split each tower's cost equally over its new tenants and write the reason."""
    t = towers.set_index("tower_id")
    claims = claims.copy()
    new = claims["tower_id"].map(t["new_tenants"]).astype(float)
    claims["tower_share_wan"] = (claims["tower_id"].map(t["tower_cost_wan"]) / new).round(4)
    claims["equipment_wan"] = (claims["tower_id"].map(t["equipment_wan"]) / new).round(4)
    claims["cost_wan"] = (claims["tower_share_wan"] + claims["equipment_wan"]).round(4)
    reasons = []
    for operator, milp_operator, households_new, households_operator, fiber_km in zip(
            claims["operator"].astype(str).tolist(), claims["milp_operator"].astype(str).tolist(),
            claims["households_new"].to_numpy(float).tolist(),
            claims["households_operator"].to_numpy(float).tolist(),
            claims["fiber_km"].to_numpy(float).tolist(), strict=True):
        parts = [f"covers {households_new:.0f} households of gap groups"
                 if households_new else "adds an operator where the plan needs one",
                 f"brings {operator} to {households_operator:.0f} households it does not "
                 "serve yet"]
        parts.append(f"fiber {fiber_km:.1f} km away" if np.isfinite(fiber_km)
                     else "no fiber point known")
        if operator != milp_operator:
            parts.append(f"claimed instead of {milp_operator} (same cost, stronger "
                         "preference)")
        reasons.append("; ".join(parts))
    claims["reason"] = reasons
    rank = {op: i for i, op in enumerate(operators)}
    claims["_r"] = claims["operator"].map(rank)
    return claims.sort_values(["tower_id", "_r"]).drop(columns="_r").reset_index(drop=True)
