"""Site selection: which towers, and which operator(s) on each, as one exact MILP (HiGHS).

Formulation (all costs in 万元)
-----------------------------
Options ``j = (t, o, b)``: operator ``o`` installs band ``b`` on candidate tower ``t``
(only options that cover at least one target group). Binary variables:

* ``y_j`` — option j is built;
* ``z_{t,k}`` — tower t (with a price ``P_t > 0``) ends with ``k`` tenants in all
  (``k0_t`` existing ones plus the new ones), ``k = k0_t+1 … min(k0_t + m_t, n_ops)``;
* ``w_{g,o}`` (``required_operators > 1``) — operator o newly covers group g;
* ``c_g`` (budget mode) — group g is covered;
* ``x_t`` (budget mode with ``max_new_sites``, towers of price 0) — tower t is used.

Constraints: one band per operator and tower (``Σ_b y_{t,o,b} ≤ 1``); tenancy
(``Σ_k z_{t,k} ≤ 1``, ``Σ_{o,b} y_{t,o,b} = Σ_k (k − k0_t) z_{t,k}``, and the valid
inequality ``y_j ≤ Σ_k z_{t,k}`` that tightens the LP relaxation); coverage (every
reachable target group: ``Σ_{j covers g} y_j ≥ 1``; with N operators required:
``w_{g,o} ≤ Σ_{j of o covers g} y_j`` and ``Σ_o w_{g,o} ≥ need_g``); operator quotas
(``min_o ≤ Σ_{t,b} y_{t,o,b} ≤ max_o``); budget (``cost ≤ budget_wan``, towers used
``≤ max_new_sites``).

Cost, exact in the tenancy: ``Σ_{t,k} z_{t,k} P_t (1 − d_k) + tenant_cost · Σ_j y_j`` with
``d_1 = 0``, ``d_2 = two_tenant_discount``, ``d_k≥3 = three_tenant_discount``: a new
tower's price is discounted when shared (the tower company's rule, 30 % / 40 % by default),
an existing tower is already paid for (``P_t = 0`` unless the user's candidate list gives a
cost) and every operator installed pays its equipment ``tenant_cost_wan``.

Mode ``cover_all`` minimises the cost; mode ``budget`` maximises the households of the
covered target groups, the cost breaking ties (weighted below half a household, so the
order is lexicographic); the reported gap is on that objective.

A group counts as covered by an option when that option alone, together with the existing
signal, covers it (:mod:`coverage.plan.coverage_matrix`); two new sites that only together
would cover a group are not credited (conservative).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.config import Config, PlanningSettings
from coverage.errors import ConfigError, SolverError
from coverage.plan.coverage_matrix import CoverageMatrix

if TYPE_CHECKING:
    import scipy.sparse as sp

STATUS_TEXT = {0: "optimal", 1: "time or iteration limit reached", 2: "infeasible",
               3: "unbounded", 4: "solver error"}
"""scipy.optimize.milp status codes."""


@dataclass(frozen=True)
class SolveInfo:
    """What the solver reported for one solve.

    Attributes
    ----------
    stage : str
        ``"cost"`` (cover_all) or ``"budget"``.
    status : int
        scipy ``milp`` status (0 optimal, 1 limit, 2 infeasible, 3 unbounded, 4 other).
    message : str
    objective : float or None
    mip_gap : float or None
        Relative gap between the best plan and the best bound (0 = proven optimal).
    dual_bound : float or None
    nodes : int or None
        Branch-and-bound nodes.
    seconds : float
        Wall-clock time of the solve.
    """

    stage: str
    status: int
    message: str
    objective: float | None
    mip_gap: float | None
    dual_bound: float | None
    nodes: int | None
    seconds: float


@dataclass(frozen=True)
class Selection:
    """Result of :func:`select_sites`.

    Attributes
    ----------
    chosen : DataFrame
        One row per built option: option_id, tower_id, operator, band (sorted by tower, then
        operator in config order).
    towers : DataFrame
        One row per tower used: tower_id, source, kind, price_wan, tenants_before,
        new_tenants, tenants_after, discount, tower_cost_wan, equipment_wan, cost_wan,
        operators (";"-joined new operators).
    groups : DataFrame
        The required groups with ``target``, ``need``, ``reachable``, ``covered_after``
        (the plan meets the requirement), ``covered_by`` (option IDs), ``new_operators``,
        ``reason`` (for unreachable or, in budget mode, unfunded groups).
    mode : str
    required_operators : int
    cost_wan : float
        Total cost of the plan (万元).
    households_covered : float
        Households of the target groups the plan covers.
    solves : tuple of SolveInfo
    n_variables, n_constraints : int
    """

    chosen: pd.DataFrame
    towers: pd.DataFrame
    groups: pd.DataFrame
    mode: str
    required_operators: int
    cost_wan: float
    households_covered: float
    solves: tuple[SolveInfo, ...]
    n_variables: int
    n_constraints: int
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``optimal`` when every solve was proven optimal (within ``mip_gap``)."""
        return "optimal" if all(s.status == 0 for s in self.solves) else "feasible"

    @property
    def mip_gap(self) -> float:
        """Largest relative gap over the solves (0 when there was nothing to solve)."""
        gaps = [s.mip_gap for s in self.solves if s.mip_gap is not None]
        return float(max(gaps)) if gaps else 0.0

    @property
    def unreachable(self) -> pd.DataFrame:
        """Target groups no candidate can bring (enough) signal to, with the reason."""
        g = self.groups
        return g[g["target"] & ~g["reachable"]].reset_index(drop=True)


def tenancy_discount(planning: PlanningSettings, tenants: int) -> float:
    """Discount on a tower's price when ``tenants`` operators share it (0-1)."""
    if tenants <= 1:
        return 0.0
    if tenants == 2:
        return planning.two_tenant_discount
    return planning.three_tenant_discount


def tower_cost(planning: PlanningSettings, price_wan: float, tenants_before: int,
               new_tenants: int) -> tuple[float, float]:
    """(tower part, equipment part) of the cost of adding tenants to a tower (万元)."""
    if new_tenants <= 0:
        return 0.0, 0.0
    k = tenants_before + new_tenants
    return (price_wan * (1.0 - tenancy_discount(planning, k)),
            planning.tenant_cost_wan * new_tenants)


@dataclass
class _Model:
    """Sparse MILP under construction (all variables binary)."""

    cost: list[float] = field(default_factory=list)
    names: list[tuple] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)

    def var(self, name: tuple, cost: float = 0.0) -> int:
        self.cost.append(cost)
        self.names.append(name)
        return len(self.cost) - 1

    def row(self, idx, coef, lo: float, hi: float) -> None:
        r = len(self.lo)
        idx = np.asarray(idx, np.int64)
        self.rows.append(np.full(idx.size, r))
        self.cols.append(idx)
        self.vals.append(np.broadcast_to(np.asarray(coef, float), idx.shape).copy())
        self.lo.append(lo)
        self.hi.append(hi)

    def matrix(self) -> sp.csr_matrix:
        r = np.concatenate(self.rows) if self.rows else np.empty(0, np.int64)
        c = np.concatenate(self.cols) if self.cols else np.empty(0, np.int64)
        v = np.concatenate(self.vals) if self.vals else np.empty(0)
        import scipy.sparse as sp  # here: ~0.15 s of imports a memoised plan never needs

        return sp.csr_matrix((v, (r, c)), shape=(len(self.lo), len(self.cost)))


def _prune_dominated_options(matrix: CoverageMatrix, by_op: bool) -> np.ndarray:
    """Options kept: drop a band whose covered set is within another band's of the same
    operator on the same tower (the first in option order wins a tie)."""
    opts = matrix.options
    mat = matrix.cover_op if by_op else matrix.cover_any
    keep = np.ones(len(opts), bool)
    sets = [frozenset(mat.indices[mat.indptr[i]:mat.indptr[i + 1]].tolist())
            for i in range(len(opts))]
    for _, idx in opts.groupby(["tower_id", "operator"], sort=False).indices.items():
        if len(idx) < 2:
            continue
        for a in idx:
            for b in idx:
                if a == b or not keep[b]:
                    continue
                if sets[a] < sets[b] or (sets[a] == sets[b] and b < a):
                    keep[a] = False
                    break
        # an option covering nothing under this rule is never useful
    keep &= np.array([len(s) > 0 for s in sets], bool)
    return keep


def _reachability(matrix: CoverageMatrix, keep: np.ndarray, n_req: int, threshold: float,
                  share: float) -> pd.DataFrame:
    """Per required group: reachable, the need the model enforces, and the reason."""
    g = matrix.groups.copy()
    opts = matrix.options
    if n_req == 1:
        mat = matrix.cover_any[np.flatnonzero(keep)]
        n_opts = np.asarray(mat.sum(axis=0)).ravel()
        g["reach_new"] = (n_opts > 0).astype(int)
        g["need_model"] = np.where(g["target"] & (n_opts > 0), 1, 0)
        g["reachable"] = ~g["target"] | (n_opts > 0)
    else:
        csc = matrix.cover_op[np.flatnonzero(keep)].tocsc()
        ops = opts["operator"].to_numpy()[np.flatnonzero(keep)]
        reach = np.array([len(set(ops[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]]))
                          for j in range(csc.shape[1])], int)
        g["reach_new"] = reach
        g["need_model"] = np.where(g["target"], np.minimum(g["need"], reach), 0)
        g["reachable"] = ~g["target"] | (reach >= g["need"])
    reasons = []
    best_dbm = g["best_rsrp_dbm"].to_numpy(float).tolist()
    for row, best_rsrp_dbm in zip(g.itertuples(index=False), best_dbm, strict=True):
        if not row.target or row.reachable:
            reasons.append("")
            continue
        best = ("no signal" if np.isnan(best_rsrp_dbm)
                else f"{best_rsrp_dbm:.1f} dBm")
        text = (f"no single candidate brings {share:.0%} of households to {threshold:g} dBm: "
                f"best single candidate {row.best_share:.0%}; best predicted signal (existing "
                f"or any candidate) at the {share:.0%} household {best}")
        if n_req > 1:
            text = (f"only {row.reach_new} more operator(s) can reach it "
                    f"(needs {row.need}); " + text)
        reasons.append(text)
    g["reason"] = reasons
    return g


def _tower_columns(cands: pd.DataFrame) -> tuple[dict[object, Any], dict[object, Any]]:
    """price_wan and existing_operators of every candidate tower, by tower_id (``cands`` is
    indexed by tower_id), as stored."""
    ids = cands.index.tolist()
    return (dict(zip(ids, cands["price_wan"].tolist(), strict=True)),
            dict(zip(ids, cands["existing_operators"].tolist(), strict=True)))


def select_sites(matrix: CoverageMatrix, candidates: pd.DataFrame, config: Config
                 ) -> Selection:
    """Choose towers and operators at least cost (or most households for a budget).

    Parameters
    ----------
    matrix : CoverageMatrix
        Candidate coverage (:func:`coverage.plan.coverage_matrix.coverage_matrix`).
    candidates : DataFrame
        Candidate towers: tower_id, price_wan, existing_operators (tuple), source, kind.
    config : Config
        ``planning`` (mode, costs, discounts, quotas, budget, solver limits) and the
        operators.

    Returns
    -------
    Selection

    Raises
    ------
    ConfigError
        Budget mode without ``budget_wan`` or ``max_new_sites``; a minimum quota above the
        maximum.
    SolverError
        The quotas (or the budget) cannot be met; the message says which and why.
    """
    planning = config.planning
    operators = list(config.operators)
    n_req = planning.required_operators
    mode = planning.mode
    if mode == "budget" and planning.budget_wan is None and planning.max_new_sites is None:
        raise ConfigError("planning.mode = 'budget' needs planning.budget_wan or "
                          "planning.max_new_sites. Fix: set one of them, or use mode "
                          "'cover_all'.")
    for op, lo in planning.quotas_min.items():
        hi = planning.quotas_max.get(op)
        if hi is not None and lo > hi:
            raise ConfigError(f"planning.quotas_min[{op}] = {lo} is above "
                              f"planning.quotas_max[{op}] = {hi}. Fix: make min ≤ max.")

    by_op = n_req > 1
    keep = _prune_dominated_options(matrix, by_op)
    groups = _reachability(matrix, keep, n_req, matrix.threshold_dbm, matrix.group_share)
    opt_idx = np.flatnonzero(keep)
    opts = matrix.options.iloc[opt_idx].reset_index(drop=True)
    cover = (matrix.cover_op if by_op else matrix.cover_any)[opt_idx]
    cands = pd.DataFrame(candidates).set_index("tower_id")
    _check_quota_capacity(opts, planning, operators)

    def build(stage: str, with_quotas: bool) -> tuple[_Model, dict]:
        return _build_model(opts, cover, groups, cands, planning, operators, n_req, mode,
                            stage, with_quotas)

    stage = "budget" if mode == "budget" else "cost"
    model, idx = build(stage, True)
    res, info = _solve(model, planning, stage)
    _raise_if_failed(res, info, opts, cover, groups, cands, planning, operators, n_req, mode,
                     build)
    solves = [info]
    y = np.asarray(res.x[idx["y"]]) > 0.5 if len(idx["y"]) else np.zeros(0, bool)
    return _selection(opts, cover, groups, cands, planning, operators, n_req, mode, y,
                      tuple(solves), model)


def _check_quota_capacity(opts: pd.DataFrame, planning: PlanningSettings,
                          operators: list[str]) -> None:
    problems = []
    for op in operators:
        lo = planning.quotas_min.get(op, 0)
        towers = opts.loc[opts["operator"] == op, "tower_id"].nunique()
        if lo > towers:
            problems.append(f"quotas_min[{op}] = {lo}, but {op} can usefully go on only "
                            f"{towers} candidate tower(s) (towers where it would cover a "
                            "gap group)")
    total_min = sum(planning.quotas_min.values())
    if total_min:
        slots = opts.groupby("tower_id")["operator"].nunique().sum()
        if total_min > slots:
            problems.append(f"the minimum quotas add up to {total_min} sites, but the "
                            f"candidates offer only {slots} useful operator slots")
    if problems:
        raise SolverError("the operator quotas cannot be met: " + "; ".join(problems)
                          + ". Fix: lower planning.quotas_min, or add candidates "
                          "(sites/candidates.csv, planning.hill_search_km).")


def _build_model(opts: pd.DataFrame, cover: sp.csr_matrix, groups: pd.DataFrame,
                 cands: pd.DataFrame, planning: PlanningSettings, operators: list[str],
                 n_req: int, mode: str, stage: str, with_quotas: bool
                 ) -> tuple[_Model, dict]:
    m = _Model()
    n_ops_total = len(operators)
    budget_mode = mode == "budget"
    count_sites = budget_mode and planning.max_new_sites is not None
    # y: options
    y = np.asarray([m.var(("y", i), planning.tenant_cost_wan) for i in range(len(opts))],
                   np.int64)
    cost_terms: list[tuple[int, float]] = [(int(v), planning.tenant_cost_wan) for v in y]
    site_vars: list[int] = []
    by_tower = opts.groupby("tower_id", sort=True).indices
    price_of, tenants_of = _tower_columns(cands)
    for tower, idx in by_tower.items():
        idx = np.asarray(idx)
        ops_here = opts["operator"].to_numpy()[idx]
        for op in sorted(set(ops_here)):
            same = idx[ops_here == op]
            if len(same) > 1:
                m.row(y[same], 1.0, -np.inf, 1.0)
        price = float(price_of[tower]) if tower in price_of else 0.0
        k0 = len(tenants_of[tower]) if tower in tenants_of else 0
        m_t = len(set(ops_here))
        if price > 0:
            ks = list(range(k0 + 1, min(k0 + m_t, n_ops_total) + 1))
            z = [m.var(("z", tower, k), price * (1.0 - tenancy_discount(planning, k)))
                 for k in ks]
            cost_terms += [(zi, m.cost[zi]) for zi in z]
            m.row(z, 1.0, -np.inf, 1.0)
            m.row(np.concatenate([y[idx], z]),
                  np.concatenate([np.ones(len(idx)), -np.asarray(ks, float) + k0]), 0.0, 0.0)
            for j in idx:   # valid inequality y_j <= x_t: tightens the LP relaxation
                m.row(np.append(z, y[j]), np.append(-np.ones(len(z)), 1.0), -np.inf, 0.0)
            site_vars += z
        elif count_sites:
            x = m.var(("x", tower))
            for j in idx:
                m.row([y[j], x], [1.0, -1.0], -np.inf, 0.0)
            site_vars.append(x)
    # coverage
    targets = np.flatnonzero(groups["need_model"].to_numpy() > 0)
    csc = cover.tocsc()
    hh = groups["households"].to_numpy(float)
    c_vars = {}
    ops_arr = opts["operator"].to_numpy()
    need_model = groups["need_model"].to_numpy()
    for g in targets:
        js = csc.indices[csc.indptr[g]:csc.indptr[g + 1]]
        need = int(need_model[g])
        if budget_mode:
            c_vars[g] = m.var(("c", int(g)))
        if n_req == 1:
            if budget_mode:
                m.row(np.append(y[js], c_vars[g]), np.append(np.ones(len(js)), -1.0), 0.0,
                      np.inf)
            else:
                m.row(y[js], 1.0, 1.0, np.inf)
            continue
        w_vars = []
        for op in operators:
            jo = js[ops_arr[js] == op]
            if jo.size == 0:
                continue
            wv = m.var(("w", int(g), op))
            w_vars.append(wv)
            m.row(np.append(y[jo], wv), np.append(-np.ones(len(jo)), 1.0), -np.inf, 0.0)
        if budget_mode:
            m.row(np.append(w_vars, c_vars[g]), np.append(np.ones(len(w_vars)), -need), 0.0,
                  np.inf)
        else:
            m.row(w_vars, 1.0, float(need), np.inf)
    # quotas
    if with_quotas:
        for op in operators:
            lo = planning.quotas_min.get(op, 0)
            hi = planning.quotas_max.get(op)
            if lo == 0 and hi is None:
                continue
            js = np.flatnonzero(ops_arr == op)
            m.row(y[js], 1.0, float(lo), np.inf if hi is None else float(hi))
    # budget
    cost_idx = np.array([c for c, _ in cost_terms], np.int64)
    cost_val = np.array([v for _, v in cost_terms], float)
    if budget_mode:
        if planning.budget_wan is not None:
            m.row(cost_idx, cost_val, -np.inf, float(planning.budget_wan) + 1e-6)
        if count_sites and planning.max_new_sites is not None:
            m.row(site_vars, 1.0, -np.inf, float(planning.max_new_sites))
        # most households first; the cost only breaks ties: all plans cost less than
        # cost_ub, so eps * cost < 0.5 household
        cost_ub = float(np.clip(m.cost, 0.0, None).sum())
        eps = 0.5 / max(cost_ub, 1.0)
        m.cost = [eps * c for c in m.cost]
        for g in targets:
            m.cost[c_vars[g]] = -hh[g]
    return m, {"y": y, "c": c_vars}


def _solve(model: _Model, planning: PlanningSettings, stage: str):
    n = len(model.cost)
    t0 = time.perf_counter()
    if n == 0:
        class _Empty:
            status, message, fun, mip_gap, mip_dual_bound, mip_node_count = (
                0, "nothing to decide", 0.0, 0.0, 0.0, 0)
            x = np.zeros(0)
        res = _Empty()
    else:
        # here: scipy.optimize costs ~0.1 s of imports that a memoised plan never needs
        from scipy.optimize import Bounds, LinearConstraint, milp

        constraints = ([LinearConstraint(model.matrix(), model.lo, model.hi)]
                       if model.lo else [])
        res = milp(np.asarray(model.cost), constraints=constraints,
                   integrality=np.ones(n), bounds=Bounds(0, 1),
                   options={"disp": False, "presolve": True,
                            "time_limit": planning.time_limit_s,
                            "mip_rel_gap": planning.mip_gap})
    seconds = time.perf_counter() - t0
    fun = None if res.fun is None else float(res.fun)
    info = SolveInfo(
        stage=stage, status=int(res.status), message=str(res.message), objective=fun,
        mip_gap=None if getattr(res, "mip_gap", None) is None else float(res.mip_gap),
        dual_bound=(None if getattr(res, "mip_dual_bound", None) is None
                    else float(res.mip_dual_bound)),
        nodes=None if getattr(res, "mip_node_count", None) is None else int(
            res.mip_node_count),
        seconds=round(seconds, 3))
    return res, info


def _raise_if_failed(res, info: SolveInfo, opts, cover, groups, cands, planning, operators,
                     n_req, mode, build) -> None:
    if res.x is not None and info.status in (0, 1):
        return
    if info.status == 1:
        raise SolverError(f"the solver stopped at the time limit ({planning.time_limit_s:g} s) "
                          "without a feasible plan. Fix: raise planning.time_limit_s or "
                          "planning.mip_gap.")
    if info.status != 2:
        raise SolverError(f"the solver failed: {info.message}")
    has_quotas = bool(planning.quotas_min or planning.quotas_max)
    detail = ""
    if has_quotas:
        model, idx = build(info.stage, False)
        res2, info2 = _solve(model, planning, "diagnosis")
        if res2.x is not None and info2.status in (0, 1):
            y = np.asarray(res2.x[idx["y"]]) > 0.5
            counts = opts.loc[y, "operator"].value_counts()
            free = ", ".join(f"{op} {int(counts.get(op, 0))}" for op in operators)
            detail = (f"without quotas the least-cost plan has {free} site(s); the quotas "
                      f"(min {dict(planning.quotas_min)}, max {dict(planning.quotas_max)}) "
                      "cannot be met together with covering every reachable gap group")
            raise SolverError(f"the operator quotas are infeasible: {detail}. Fix: relax "
                              "planning.quotas_min / planning.quotas_max.")
    if mode == "budget":
        raise SolverError("no plan fits the budget limits. Fix: raise planning.budget_wan or "
                          "planning.max_new_sites.")
    raise SolverError("no plan meets the requirement (the model is infeasible). Fix: check "
                      "planning.quotas_min / quotas_max and required_operators.")


def _selection(opts: pd.DataFrame, cover: sp.csr_matrix, groups: pd.DataFrame,
               cands: pd.DataFrame, planning: PlanningSettings, operators: list[str],
               n_req: int, mode: str, y: np.ndarray, solves: tuple[SolveInfo, ...],
               model: _Model) -> Selection:
    chosen = opts.loc[y, ["option_id", "tower_id", "operator", "band"]]
    chosen, towers, total = tower_table(chosen, cands, planning, operators)
    g = group_coverage(groups, cover, opts, np.flatnonzero(y), n_req, operators)
    if mode == "budget":
        unfunded = g["target"] & g["reachable"] & ~g["covered_after"]
        g.loc[unfunded, "reason"] = "reachable, but not funded within the budget"
    newly = g["target"] & g["covered_after"]
    hh = float(g.loc[newly, "households"].sum())
    notes = []
    partial = g["target"] & ~g["reachable"] & (g["need_model"] > 0)
    if partial.any():
        notes.append(f"{int(partial.sum())} group(s) get as many operators as candidates can "
                     "bring, fewer than required")
    return Selection(chosen=chosen, towers=towers, groups=g, mode=mode,
                     required_operators=n_req, cost_wan=round(total, 4),
                     households_covered=hh, solves=solves, n_variables=len(model.cost),
                     n_constraints=len(model.lo), notes=notes)


def tower_table(chosen: pd.DataFrame, candidates: pd.DataFrame, planning: PlanningSettings,
                operators: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Cost of a set of built options, per tower.

    Parameters
    ----------
    chosen : DataFrame
        option_id, tower_id, operator, band of the built options.
    candidates : DataFrame
        Candidate towers indexed by tower_id (price_wan, existing_operators, source, kind).
    planning : PlanningSettings
    operators : list of str
        Config order of the operators.

    Returns
    -------
    (chosen, towers, total)
        ``chosen`` sorted by tower then operator; one row per tower (see
        :class:`Selection`); the total cost (万元).
    """
    cands = candidates
    op_rank = {op: i for i, op in enumerate(operators)}
    chosen = chosen[["option_id", "tower_id", "operator", "band"]].copy()
    chosen["_r"] = chosen["operator"].map(op_rank)
    chosen = chosen.sort_values(["tower_id", "_r"]).drop(columns="_r").reset_index(drop=True)
    rows = []
    total = 0.0
    price_of, tenants_of = _tower_columns(cands)
    source_of = dict(zip(cands.index.tolist(), cands["source"].tolist(), strict=True))
    kind_of = dict(zip(cands.index.tolist(), cands["kind"].tolist(), strict=True))
    for tower, sub in chosen.groupby("tower_id", sort=True):
        price = float(price_of[tower]) if tower in price_of else 0.0
        before: tuple[str, ...] = tuple(tenants_of[tower]) if tower in tenants_of else ()
        new = len(sub)
        part_tower, part_eq = tower_cost(planning, price, len(before), new)
        total += part_tower + part_eq
        rows.append({
            "tower_id": tower,
            "source": source_of.get(tower, ""),
            "kind": kind_of.get(tower, ""),
            "price_wan": price, "tenants_before": len(before), "new_tenants": new,
            "tenants_after": len(before) + new,
            "discount": tenancy_discount(planning, len(before) + new) if price > 0 else 0.0,
            "tower_cost_wan": round(part_tower, 4), "equipment_wan": round(part_eq, 4),
            "cost_wan": round(part_tower + part_eq, 4),
            "operators": ";".join(sub["operator"]),
            "existing_operators": ";".join(before),
        })
    towers = pd.DataFrame(rows, columns=[
        "tower_id", "source", "kind", "price_wan", "tenants_before", "new_tenants",
        "tenants_after", "discount", "tower_cost_wan", "equipment_wan", "cost_wan",
        "operators", "existing_operators"])
    return chosen, towers, total


def group_coverage(groups: pd.DataFrame, cover: sp.csr_matrix, opts: pd.DataFrame,
                   chosen: np.ndarray, n_req: int, operators: list[str]) -> pd.DataFrame:
    """Add ``covered_by``, ``new_operators`` and ``covered_after`` to the groups table.

    Parameters
    ----------
    groups : DataFrame
        Required groups (``target``, ``need``).
    cover : csr_matrix
        Options x groups: the rule in force (any operator, or own operator for N > 1).
    opts : DataFrame
        The options (rows of ``cover``): option_id, operator.
    chosen : ndarray of int
        Row indices of the built options.
    n_req : int
        Operators required per group.
    operators : list of str
        Config order of the operators.
    """
    op_rank = {op: i for i, op in enumerate(operators)}
    g = groups.copy()
    sub = cover[np.asarray(chosen, np.int64)].tocsc()
    ids = opts["option_id"].to_numpy()[chosen]
    ops = opts["operator"].to_numpy()[chosen]
    covered_by, new_ops, covered_after = [], [], []
    need = g["need"].to_numpy()
    for j in range(len(g)):
        rows_j = sub.indices[sub.indptr[j]:sub.indptr[j + 1]]
        covered_by.append(";".join(sorted(ids[rows_j])))
        distinct = sorted(set(ops[rows_j]), key=lambda o: op_rank.get(o, len(op_rank)))
        new_ops.append(";".join(distinct))
        if not g["target"].iat[j]:
            covered_after.append(True)
        elif n_req == 1:
            covered_after.append(len(rows_j) > 0)
        else:
            covered_after.append(len(distinct) >= int(need[j]))
    g["covered_by"] = covered_by
    g["new_operators"] = new_ops
    g["covered_after"] = covered_after
    return g


def selection_to_frame(selection: Selection, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The chosen towers with their candidate geometry (working CRS)."""
    geo = candidates.set_index("tower_id").geometry
    t = selection.towers
    return gpd.GeoDataFrame(t.copy(), geometry=t["tower_id"].map(geo).to_numpy(),
                            crs=candidates.crs)
