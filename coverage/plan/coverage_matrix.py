"""Candidate coverage: which gap groups each candidate (tower, operator, band) would cover.

Every candidate tower is turned into one pseudo-site per operator not yet on it and per
band of that operator (an *option*). Its RSRP is needed only at the cells of the household
samples some operator could still gain (a household an operator covers already, in a group
that operator covers already, is never read), so :class:`CandidateRadio` evaluates the radio
engine (:mod:`coverage.radio.engine`) at those cells only — the same rays, profiles and loss
formula as a full-window prediction, so the same numbers — and applies the link budget of
:func:`coverage.predict.sites.window_rsrp` (omni antenna, band defaults). The values of all
options are cached on disk as one entry (:mod:`coverage.predict.candidate_bundle`).
Any other radio function can be injected (``rsrp_at(site, rows, cols)``; a full-window
function is adapted by :func:`window_rsrp_at`). A group counts as covered by an option under
the rule of :func:`coverage.assess.assess`: at least ``rule.group_share`` of its households
(sampled exactly as the assessment does) reach the threshold with the *best of the existing
signal and the option's signal*, so an option can also complete a partially covered group.

Two sparse boolean matrices (options x required groups) come out:

``cover_any``
    the option makes a group covered by *any operator* (existing signal: best of all
    operators) — the matrix for ``required_operators == 1``;
``cover_op``
    the option makes a group covered by *its own operator* (existing signal: that
    operator's) — for ``required_operators > 1`` and for the claim preferences.

Which bands of an operator are worth predicting at all, and how candidates are predicted, is
explained in :mod:`coverage.predict.candidates`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.assess import _group_samples, effective_threshold, grouped_weighted_quantile
from coverage.errors import ModelRangeError
from coverage.evidence.measured import MeasuredEvidence
from coverage.plan.candidates import Targets
from coverage.predict.candidates import (
    CandidateRadio,
    RsrpAtFunction,
    candidate_sites,
)
from coverage.radio.threads import map_ordered
from coverage.signal import NO_SIGNAL_DBM, Signal
from coverage.study import Study

if TYPE_CHECKING:
    import scipy.sparse as sp

SHARE_TOLERANCE = 1e-9
"""Slack on the household share test, as in :func:`coverage.assess.assess`."""


@dataclass(frozen=True)
class MatrixStats:
    """Counts and timing of one :func:`coverage_matrix` run.

    Attributes
    ----------
    candidates : int
        Candidate towers offered.
    options_possible : int
        (tower, operator, band) options they allow.
    predicted : int
        Options within the model radius of an open household sample, hence predicted.
    options_kept : int
        Options that cover some required group (rows of ``options``).
    samples, cells : int
        Household samples of the required groups, and the distinct grid cells they fall in.
    unpredictable : tuple of str
        option_id of the options the radio engine could not predict.
    seconds : float
        Wall time of the run (s, 3 decimals).
    computed, cached : int or None
        With the cached radio engine (:class:`CandidateRadio`): predictions computed now
        and read from the cache; None with another radio function.
    """

    candidates: int = 0
    options_possible: int = 0
    predicted: int = 0
    options_kept: int = 0
    samples: int = 0
    cells: int = 0
    unpredictable: tuple[str, ...] = ()
    seconds: float = 0.0
    computed: int | None = None
    cached: int | None = None


@dataclass(frozen=True)
class CoverageMatrix:
    """Result of :func:`coverage_matrix`.

    Attributes
    ----------
    options : DataFrame
        One row per (tower, operator, band) kept for the selection: option_id, tower_id,
        operator, band, frequency_mhz, ``n_any``/``households_any`` (gap groups it makes
        covered by any operator and their households), ``n_op``/``households_op`` (required
        groups it brings its own operator to).
    groups : DataFrame
        The required groups (rows of ``Targets.groups``) plus ``best_share`` (largest
        household share covered by any one option together with the existing signal, for
        the relevant rule), ``best_rsrp_dbm`` (RSRP reached by ``group_share`` of its
        households with the best candidate signal at every household), ``reach_ops``
        (operators some option brings to it, ";"-joined) and ``n_options``.
    cover_any, cover_op : scipy.sparse.csr_matrix of bool, shape (options, groups)
        See the module notes.
    sites : GeoDataFrame
        Every predicted option as a site row (``Study.sites`` columns + ``option_id``), also
        the options that cover nothing (not in ``options``).
    threshold_dbm, group_share : float
        The coverage rule applied.
    stats : MatrixStats
        Counts and timing of the run (all zero for a matrix built by
        :func:`matrix_from_sets`).
    """

    options: pd.DataFrame
    groups: pd.DataFrame
    cover_any: sp.csr_matrix
    cover_op: sp.csr_matrix
    sites: gpd.GeoDataFrame
    threshold_dbm: float
    group_share: float
    stats: MatrixStats = field(default_factory=MatrixStats)

    def covers(self, option: int, by_operator: bool = False) -> np.ndarray:
        """Group indices (into ``groups``) the option makes covered."""
        mat = self.cover_op if by_operator else self.cover_any
        return mat.indices[mat.indptr[option]:mat.indptr[option + 1]]


@dataclass
class _Pool:
    """Samples one operator could still gain."""

    cell: np.ndarray       # index into the cell universe
    label: np.ndarray      # index into the required groups
    weight: np.ndarray
    any_open: np.ndarray   # sample also counts for the any-operator rule
    sample: np.ndarray     # index into the sample arrays


def _existing_at(signal: Signal, op: str, rows: np.ndarray, cols: np.ndarray
                 ) -> np.ndarray:
    out = np.full(rows.shape, NO_SIGNAL_DBM)
    raster = signal.rsrp.get(op)
    if raster is None:
        return out
    ok = rows >= 0
    vals = raster[rows[ok], cols[ok]].astype(np.float64)
    out[ok] = np.where(np.isfinite(vals), vals, NO_SIGNAL_DBM)
    return out


def coverage_matrix(study: Study, signal: Signal, targets: Targets,
                    candidates: gpd.GeoDataFrame, rsrp_at: RsrpAtFunction | None = None, *,
                    cache_dir: str | Path | None = None, prune_dominated: bool = True,
                    evidence: MeasuredEvidence | None = None,
                    progress: Callable[[int, int], None] | None = None) -> CoverageMatrix:
    """Predict every candidate option and record the gap groups it would cover.

    Parameters
    ----------
    study : Study
        Inputs; groups and households give the household samples.
    signal : SignalGrids
        Existing best-server RSRP per operator (dBm); :class:`coverage.predict.
        CoverageResult` works too.
    targets : Targets
        From :func:`coverage.plan.candidates.planning_targets`.
    candidates : GeoDataFrame
        From :func:`coverage.plan.candidates.generate_candidates`.
    rsrp_at : callable, optional
        ``rsrp_at(site_row, rows, cols) -> RSRP (dBm)`` at grid cells; default
        :class:`CandidateRadio` (the radio engine, cached in ``cache_dir``).
    cache_dir : str or Path, optional
        Cache folder of the default radio.
    prune_dominated : bool
        Skip bands dominated by another band of the same operator (module notes).
    evidence : coverage.evidence.measured.MeasuredEvidence, optional
        ``Assessment.evidence``: field measurements decide which households the existing
        network covers, exactly as in the assessment (a candidate's own signal is always
        predicted).
    progress : callable, optional
        ``progress(done, total)`` after each prediction.

    Returns
    -------
    CoverageMatrix
    """
    t_start = time.perf_counter()
    cfg = study.config
    radio = rsrp_at if rsrp_at is not None else CandidateRadio(study, cache_dir)
    thr = effective_threshold(cfg)
    share_need = cfg.rule.group_share
    tg = targets.groups
    n_groups = len(tg)
    operators = list(cfg.operators)

    # --- household samples of the required groups, and the cells they sit in ---------
    labels_all, rc, weights_all = _group_samples(study)
    gid_all = study.groups["group_id"].astype(str).to_numpy()
    pos = pd.Series(np.arange(n_groups), index=tg["group_id"].to_numpy())
    lab = pos.reindex(gid_all[labels_all]).to_numpy()
    keep = ~np.isnan(lab)
    lab = lab[keep].astype(np.int64)
    rows, cols, w = rc[0][keep], rc[1][keep], weights_all[keep]
    inside = rows >= 0
    cells, cell_of = np.unique(np.stack([rows[inside], cols[inside]]), axis=1,
                               return_inverse=True)
    sample_cell = np.full(rows.shape, -1, np.int64)
    sample_cell[inside] = np.asarray(cell_of).ravel()
    u_rows, u_cols = cells[0].astype(np.int64), cells[1].astype(np.int64)
    wsum = np.bincount(lab, weights=w, minlength=n_groups)
    wsum_safe = np.where(wsum > 0, wsum, 1.0)
    existing, covered = {}, {}
    for op in operators:
        value = _existing_at(signal, op, rows, cols)
        if evidence is not None:   # field measurements decide, as in the assessment
            value, covered[op], _ = evidence.judge_samples(op, study.grid,
                                                           np.stack([rows, cols]), value, thr)
        else:
            covered[op] = value >= thr
        existing[op] = value
    any_val = np.max(np.stack([existing[op] for op in operators]), axis=0) if operators else (
        np.full(rows.shape, NO_SIGNAL_DBM))
    any_cov = np.zeros(rows.shape, bool)
    for op in operators:
        any_cov |= covered[op]
    base_any = np.bincount(lab, weights=w * any_cov, minlength=n_groups)
    group_open_any = (base_any / wsum_safe) < share_need - SHARE_TOLERANCE
    base_op, group_open_op, pools = {}, {}, {}
    for op in operators:
        cov = covered[op]
        base_op[op] = np.bincount(lab, weights=w * cov, minlength=n_groups)
        group_open_op[op] = (base_op[op] / wsum_safe) < share_need - SHARE_TOLERANCE
        sel = np.flatnonzero(inside & ~cov & group_open_op[op][lab])
        pools[op] = _Pool(sample_cell[sel], lab[sel], w[sel],
                          (~any_cov[sel]) & group_open_any[lab[sel]], sel)

    # --- which options to predict: only towers within the radius of an open sample ---
    sites = candidate_sites(candidates, cfg, prune_dominated)
    radius = cfg.model.radius_km * 1000.0
    open_any = np.zeros(len(u_rows), bool)
    for pool in pools.values():
        open_any[pool.cell] = True
    open_xy = np.column_stack(study.grid.xy(u_rows[open_any], u_cols[open_any]))
    if len(sites) and len(open_xy):
        from scipy.spatial import cKDTree  # here: a memoised plan never needs it

        sxy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
        near, _ = cKDTree(open_xy).query(sxy, k=1, distance_upper_bound=radius)
        in_reach = np.isfinite(near)
    else:
        in_reach = np.zeros(len(sites), bool)
    # the options are predicted only at the cells some operator could still gain (the
    # values elsewhere are never read); the engine gives every cell the same value whichever
    # other cells are asked with it, so this changes no number
    open_cells = np.flatnonzero(open_any)
    ask_rows, ask_cols = u_rows[open_cells], u_cols[open_cells]
    pool_at = {op: np.searchsorted(open_cells, pool.cell) for op, pool in pools.items()}
    if hasattr(radio, "prepare"):  # a distributed radio computes every option up front
        radio.prepare(sites.iloc[np.flatnonzero(in_reach)], ask_rows, ask_cols)

    best_cand = np.full(rows.shape, NO_SIGNAL_DBM)
    best_share = np.where(group_open_any, base_any / wsum_safe, 1.0)
    hh = tg["households"].to_numpy(float)
    any_i, any_j, op_i, op_j = [], [], [], []
    opt_rows: list[dict[str, object]] = []
    failed: list[str] = []
    total = int(in_reach.sum())
    predicted = option_values(radio, sites, np.flatnonzero(in_reach), ask_rows, ask_cols,
                              threads=cfg.compute.threads)
    # the options' fields as columns: a row look-up per option costs more than its maths
    field = {name: sites[name].to_numpy() for name in ("option_id", "tower_id", "operator",
                                                        "band", "frequency_mhz")}
    for done, (k, values) in enumerate(predicted, start=1):
        op = field["operator"][k]
        pool = pools[op]
        if values is None:
            failed.append(str(field["option_id"][k]))
            continue
        vals = values[pool_at[op]]
        vals = np.where(np.isfinite(vals), vals, NO_SIGNAL_DBM)
        np.maximum.at(best_cand, pool.sample, vals)
        hit = vals >= thr
        new_op = np.bincount(pool.label[hit], weights=pool.weight[hit], minlength=n_groups)
        share_op = (base_op[op] + new_op) / wsum_safe
        got_op = np.flatnonzero((new_op > 0) & group_open_op[op]
                                & (share_op >= share_need - SHARE_TOLERANCE))
        a_hit = hit & pool.any_open
        new_any = np.bincount(pool.label[a_hit], weights=pool.weight[a_hit],
                              minlength=n_groups)
        share_any = (base_any + new_any) / wsum_safe
        best_share = np.maximum(best_share, np.where(group_open_any, share_any, 1.0))
        got_any = np.flatnonzero((new_any > 0) & group_open_any
                                 & (share_any >= share_need - SHARE_TOLERANCE))
        if progress is not None:
            progress(done, total)
        if got_any.size == 0 and got_op.size == 0:
            continue
        i = len(opt_rows)
        any_i.append(np.full(got_any.size, i))
        any_j.append(got_any)
        op_i.append(np.full(got_op.size, i))
        op_j.append(got_op)
        opt_rows.append({
            "option_id": field["option_id"][k], "tower_id": field["tower_id"][k],
            "operator": op, "band": field["band"][k],
            "frequency_mhz": float(field["frequency_mhz"][k]),
            "n_any": int(got_any.size), "households_any": float(hh[got_any].sum()),
            "n_op": int(got_op.size), "households_op": float(hh[got_op].sum()),
        })
    n_opt = len(opt_rows)
    cover_any = _csr(any_i, any_j, n_opt, n_groups)
    cover_op = _csr(op_i, op_j, n_opt, n_groups)
    options = pd.DataFrame(opt_rows, columns=[
        "option_id", "tower_id", "operator", "band", "frequency_mhz", "n_any",
        "households_any", "n_op", "households_op"])

    groups = tg.copy()
    groups["best_share"] = np.round(best_share, 4)
    best_val = np.maximum(any_val, best_cand)
    q = grouped_weighted_quantile(lab, best_val, w, n_groups, max(0.0, 1.0 - share_need))
    groups["best_rsrp_dbm"] = np.where(q > NO_SIGNAL_DBM, np.round(q, 1), np.nan)
    groups["reach_ops"] = _reach_ops(cover_op, options["operator"].to_numpy(), operators)
    groups["n_options"] = np.asarray(cover_any.sum(axis=0)).ravel().astype(int)
    stats = MatrixStats(
        candidates=len(candidates), options_possible=len(sites), predicted=total,
        options_kept=n_opt, samples=len(lab), cells=len(u_rows), unpredictable=tuple(failed),
        seconds=round(time.perf_counter() - t_start, 3),
        computed=radio.computed if isinstance(radio, CandidateRadio) else None,
        cached=radio.cached if isinstance(radio, CandidateRadio) else None)
    return CoverageMatrix(options=options, groups=groups, cover_any=cover_any,
                          cover_op=cover_op, sites=sites, threshold_dbm=thr,
                          group_share=share_need, stats=stats)


def option_values(radio: RsrpAtFunction, sites: gpd.GeoDataFrame, order: np.ndarray,
                  rows: np.ndarray, cols: np.ndarray, *, threads: int | None = None
                  ) -> Iterator[tuple[int, np.ndarray | None]]:
    """Each option's RSRP (dBm, float64) at the cells, in the order of ``order``.

    With the in-process radio engine (:class:`CandidateRadio` itself) the towers are
    predicted side by side on ``threads`` threads (:func:`coverage.radio.threads.map_ordered`;
    the options of one tower stay on one thread, so they share its ray layout), and the
    values come back in order, so everything computed from them is the same for any number
    of threads. Another radio (a function, or the cluster's subclass, which schedules its
    own work) is called in this thread, in order.

    Yields
    ------
    (int, ndarray or None)
        The option's position in ``sites`` and its values; None when the radio cannot
        predict it (:class:`~coverage.errors.ModelRangeError`).
    """
    def one(k: int) -> tuple[int, np.ndarray | None]:
        try:
            return k, np.asarray(radio(sites.iloc[k], rows, cols), np.float64)
        except ModelRangeError:
            return k, None

    if type(radio) is not CandidateRadio:
        yield from (one(int(k)) for k in order)
        return
    towers = sites["tower_id"].astype(str).to_numpy()
    groups: list[list[int]] = []
    for k in order:
        if groups and towers[groups[-1][-1]] == towers[k]:
            groups[-1].append(int(k))
        else:
            groups.append([int(k)])
    def tower(ks: list[int]) -> list[tuple[int, np.ndarray | None]]:
        if len(ks) > 1:  # the bands of the tower in one sweep (each value the same)
            radio.sweep_bands(sites.iloc[ks], rows, cols)
        return [one(k) for k in ks]

    for group in map_ordered(tower, groups, threads):
        yield from group


def _reach_ops(cover_op: sp.csr_matrix, option_ops: np.ndarray, operators: list[str]
               ) -> list[str]:
    """Per group: the operators (config order, ";"-joined) some option brings to it."""
    csc = cover_op.tocsc()
    out = []
    for j in range(csc.shape[1]):
        present = set(option_ops[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]])
        out.append(";".join(o for o in operators if o in present))
    return out


def _csr(rows: list[np.ndarray], cols: list[np.ndarray], n_rows: int, n_cols: int
         ) -> sp.csr_matrix:
    r = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, np.int64)
    import scipy.sparse as sp  # here: ~0.15 s of imports that a memoised plan never needs

    mat = sp.csr_matrix((np.ones(r.size, bool), (r, c)), shape=(n_rows, n_cols), dtype=bool)
    mat.sort_indices()
    return mat


def matrix_from_sets(options: list[tuple[str, str, str]], groups: pd.DataFrame,
                     covers_any: dict[str, set[str]],
                     covers_op: dict[str, set[str]] | None = None) -> CoverageMatrix:
    """Build a coverage matrix by hand (for tests and what-if studies).

    Parameters
    ----------
    options : list of (tower_id, operator, band)
        Option order.
    groups : DataFrame
        Rows of ``Targets.groups`` (group_id, households, n_existing, covered_any, need,
        target, ...).
    covers_any, covers_op : dict of option_id to set of group_id
        Groups each option covers (any-operator rule, own-operator rule); ``covers_op``
        defaults to ``covers_any``. ``option_id`` is ``"TOWER:OP:BAND"``.
    """
    covers_op = covers_any if covers_op is None else covers_op
    gpos = {g: j for j, g in enumerate(groups["group_id"])}
    hh = groups["households"].to_numpy(float)
    rows, ai, aj, oi, oj = [], [], [], [], []
    for i, (tower, op, band) in enumerate(options):
        oid = f"{tower}:{op}:{band}"
        ga = sorted(gpos[g] for g in covers_any.get(oid, set()))
        go = sorted(gpos[g] for g in covers_op.get(oid, set()))
        ai.append(np.full(len(ga), i))
        aj.append(np.asarray(ga, np.int64))
        oi.append(np.full(len(go), i))
        oj.append(np.asarray(go, np.int64))
        rows.append({"option_id": oid, "tower_id": tower, "operator": op, "band": band,
                     "frequency_mhz": np.nan, "n_any": len(ga),
                     "households_any": float(hh[ga].sum()) if ga else 0.0,
                     "n_op": len(go), "households_op": float(hh[go].sum()) if go else 0.0})
    cover_any = _csr(ai, aj, len(options), len(groups))
    cover_op = _csr(oi, oj, len(options), len(groups))
    g = groups.copy()
    for col, default in (("best_share", 0.0), ("best_rsrp_dbm", np.nan)):
        if col not in g:
            g[col] = default
    if "reach_ops" not in g:
        ops_arr = np.array([o[1] for o in options], dtype=object)
        g["reach_ops"] = _reach_ops(cover_op, ops_arr, sorted(set(ops_arr)))
    g["n_options"] = np.asarray(cover_any.sum(axis=0)).ravel().astype(int)
    return CoverageMatrix(options=pd.DataFrame(rows), groups=g, cover_any=cover_any,
                          cover_op=cover_op,
                          sites=gpd.GeoDataFrame({"option_id": []}, geometry=[]),
                          threshold_dbm=-105.0, group_share=0.95)
