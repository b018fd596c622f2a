"""Site planning: candidates → candidate coverage → selection (MILP) → claims → backhaul.

:func:`make_plan` runs the steps on a loaded study and its current signal and assessment;
the other functions turn the :class:`Plan` into the *after-plan* sites (status ``planned``
with a due date) from which the pipeline recomputes coverage and readiness. The plan's output
tables (GeoPackage layers, the CSV, KML folders) and console summary are in
:mod:`coverage.output.plan_tables`.

Modules: :mod:`~coverage.plan.candidates`, :mod:`~coverage.plan.coverage_matrix`,
:mod:`~coverage.plan.select`, :mod:`~coverage.plan.claim`, :mod:`~coverage.plan.backhaul`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage.assess import Assessment
from coverage.plan.backhaul import Backhaul, plan_backhaul
from coverage.plan.candidates import Targets, generate_candidates, planning_targets
from coverage.plan.claim import Claims, claim_sites
from coverage.plan.coverage_matrix import CoverageMatrix, RsrpAtFunction, coverage_matrix
from coverage.plan.select import Selection, select_sites
from coverage.signal import Signal
from coverage.study import Study

__all__ = [
    "Plan", "make_plan", "plan_village_remedies", "planned_sites", "study_with_plan",
]

SITE_COLUMNS = ("site_id", "operator", "band", "height_m", "tower_id", "azimuths", "tilt_deg",
                "power_dbm", "gain_dbi", "status", "on_air_date", "backhaul", "lon", "lat",
                "ground_m")


@dataclass(frozen=True)
class Plan:
    """Everything the planning step produced.

    Attributes
    ----------
    targets : Targets
    candidates : GeoDataFrame
        All candidate towers (working CRS).
    matrix : CoverageMatrix
    selection : Selection
        The MILP's choice (cost, status, gap).
    claims : Claims
        Final operator per slot, cost per claim, groups covered after the plan.
    backhaul : Backhaul
    timings : dict of str to float
        Seconds per step: candidates, coverage, select, claim, backhaul.
    """

    targets: Targets
    candidates: gpd.GeoDataFrame
    matrix: CoverageMatrix
    selection: Selection
    claims: Claims
    backhaul: Backhaul
    timings: dict


def make_plan(study: Study, signal: Signal, assessment: Assessment,
              rsrp_at: RsrpAtFunction | None = None, *, cache_dir: str | Path | None = None,
              progress: Callable[[int, int], None] | None = None) -> Plan:
    """Plan new and shared sites that close the coverage gaps.

    Parameters
    ----------
    study : Study
        Inputs; ``study.config.planning`` drives every step.
    signal : SignalGrids
        Current best-server RSRP per operator (dBm).
    assessment : Assessment
        Current coverage of the groups (:func:`coverage.assess.assess` on ``signal``).
    rsrp_at : callable, optional
        ``rsrp_at(site_row, rows, cols) -> RSRP (dBm)``; default: the radio engine at the
        household cells (:class:`~coverage.predict.candidates.CandidateRadio`), which
        gives the numbers :func:`coverage.predict.predict_coverage` would.
    cache_dir : str or Path, optional
        Cache folder of the candidate predictions (e.g. ``<out>/.cache/candidates``).
    progress : callable, optional
        ``progress(done, total)`` during the candidate predictions.

    Returns
    -------
    Plan

    Raises
    ------
    coverage.errors.SolverError
        Infeasible quotas or budget (message says why and what to change).
    coverage.errors.ConfigError
        Inconsistent planning settings.
    """
    timings = {}
    t = time.perf_counter()
    targets = planning_targets(assessment, study.config)
    candidates = generate_candidates(study, targets)
    timings["candidates"] = time.perf_counter() - t
    t = time.perf_counter()
    matrix = coverage_matrix(study, signal, targets, candidates, rsrp_at, cache_dir=cache_dir,
                             evidence=getattr(assessment, "evidence", None), progress=progress)
    timings["coverage"] = time.perf_counter() - t
    t = time.perf_counter()
    selection = select_sites(matrix, candidates, study.config)
    timings["select"] = time.perf_counter() - t
    t = time.perf_counter()
    claims = claim_sites(selection, matrix, candidates, study)
    timings["claim"] = time.perf_counter() - t
    t = time.perf_counter()
    backhaul = plan_backhaul(study, _chosen_for_backhaul(claims, candidates, study))
    timings["backhaul"] = time.perf_counter() - t
    return Plan(targets=targets, candidates=candidates, matrix=matrix, selection=selection,
                claims=claims, backhaul=backhaul,
                timings={k: round(v, 3) for k, v in timings.items()})


def _chosen_for_backhaul(claims: Claims, candidates: gpd.GeoDataFrame, study: Study
                         ) -> pd.DataFrame:
    cands = candidates.set_index("tower_id")
    cfg = study.config
    rows = []
    for tower, sub in claims.claims.groupby("tower_id", sort=True):
        rng = max(cfg.band(o, b).microwave_hop_km
                  for o, b in zip(sub["operator"], sub["band"], strict=True))
        rows.append({"tower_id": tower, "x": float(cands.at[tower, "x"]),
                     "y": float(cands.at[tower, "y"]),
                     "ground_m": float(cands.at[tower, "ground_m"]),
                     "height_m": float(cands.at[tower, "height_m"]), "range_km": rng,
                     "backhaul": str(cands.at[tower, "backhaul"])})
    return pd.DataFrame(rows, columns=["tower_id", "x", "y", "ground_m", "height_m",
                                       "range_km", "backhaul"])


# ------------------------------------------------------------------ after-plan view


def planned_sites(plan: Plan, due: dt.date) -> gpd.GeoDataFrame:
    """The claimed sites as rows of ``Study.sites`` (status ``planned``, on-air date ``due``).

    ``site_id`` is the option ID ``TOWER:OP:BAND`` the candidate was predicted under, so a
    prediction cache keyed on the site hits; ``backhaul`` is ``fiber`` (on a fiber-fed tower),
    ``microwave`` (a path was found) or ``none``.
    """
    sites = plan.matrix.sites
    chosen = plan.claims.chosen["option_id"].tolist()
    rows = sites.set_index("option_id").loc[chosen].reset_index()
    bh = plan.backhaul.sites.set_index("tower_id")["status"]
    rows["status"] = "planned"
    rows["on_air_date"] = due
    rows["backhaul"] = rows["tower_id"].map(bh).fillna("none").to_numpy()
    out = gpd.GeoDataFrame(rows[[*SITE_COLUMNS]], geometry=rows.geometry.to_numpy(),
                           crs=sites.crs)
    return out.reset_index(drop=True)


def study_with_plan(study: Study, plan: Plan, due: dt.date) -> Study:
    """A copy of ``study`` whose sites include the planned sites (for the after-plan view)."""
    new = planned_sites(plan, due).to_crs(study.sites.crs)
    extra = [c for c in study.sites.columns if c not in new.columns]
    for col in extra:
        new[col] = None
    sites = pd.concat([study.sites, new[study.sites.columns]], ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry=study.sites.geometry.name, crs=study.sites.crs)
    return dataclasses.replace(study, sites=sites)


def plan_village_remedies(plan: Plan, due: dt.date) -> pd.DataFrame:
    """Which planned site cures which village's gap groups: village_id, group_id, site_id,
    tower_id, operator, due (one row per group and covering claim)."""
    g = plan.claims.groups
    rows = []
    opt_to_claim = plan.claims.claims.set_index("option_id")
    for r in g[g["target"] & g["covered_after"]].itertuples(index=False):
        for oid in str(r.covered_by).split(";"):
            if oid and oid in opt_to_claim.index:
                c = opt_to_claim.loc[oid]
                rows.append({"village_id": r.village_id, "group_id": r.group_id,
                             "site_id": oid, "tower_id": c["tower_id"],
                             "operator": c["operator"], "due": due})
    return pd.DataFrame(rows, columns=["village_id", "group_id", "site_id", "tower_id",
                                       "operator", "due"])


# ------------------------------------------------------------------ output tables
