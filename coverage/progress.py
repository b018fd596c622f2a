"""The monthly dispatch meeting (调度会): the state at each month-end, and what changed.

:func:`compute_progress` reconstructs the county at a list of days (every month-end of the
trend, the period's start and end, and the last day of the previous year for the report's
"今年以来" paragraph) from the dated records (:mod:`coverage.history`,
:mod:`coverage.claims`, :mod:`coverage.work_sites`) and judges readiness on each.

Predictions reuse the per-site cache of the run (``<out>/.cache/sites``) and are never
repeated for a site: every site on air, being built or planned on any of the days is
predicted once and kept at the cells the assessments read (test points, household samples,
measurements; :mod:`coverage.predict.samples`), and a day's best server is a max over the
vectors of its sites, equal at those cells to whole-grid rasters of the same sites. All
days share one sites table (the union of the sites of every day; a site absent on a day
has status ``absent``), so that a site keeps its row, and its prediction, from day to day.
The vectors are kept in ``<out>/.cache/site-samples``, so a progress run after another
over the same cells decodes no loss window. With ``calibrate = true`` the calibration is
fitted once, as a run with the period's end as its as-of date fits it
(the measurements taken up to that day against the raw prediction of the sites on air
that day), and applied to every day: the propagation model is the same on every day, so
the end day's figures equal those of that run (:func:`period_calibration`). Past days are
judged without the optimiser's proposal (it is a proposal of today): their verdicts are
READY, READY_AFTER_WORKS or NOT_READY, so a village the plan would fix counts as NOT_READY
in the trend.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.asof import as_date, works_state
from coverage.assess import Assessment, _group_samples, assess
from coverage.claims import claim_state, with_claim_sites
from coverage.config import Config
from coverage.evidence.calibration import CalibrationFit, apply_calibration, fit_calibration
from coverage.evidence.compare import compare, measurement_cells
from coverage.history import study_as_of
from coverage.predict.samples import best_server, sample_sites
from coverage.readiness import AfterPlan, Readiness, evaluate
from coverage.scale.backend import Backend
from coverage.signal import CoverageResult, SignalGrids, sample_cells
from coverage.study import Study
from coverage.work_sites import with_work_sites

log = logging.getLogger(__name__)

MAX_TREND_MONTHS = 12
"""At most this many month-ends in the trend (the latest ones)."""

SAMPLES_DIR = "site-samples"
"""Folder next to the per-site cache holding the sites' RSRP at the assessed cells
(:mod:`coverage.predict.samples`)."""

ABSENT = "absent"
"""Status of a site of the shared sites table that does not exist on a day."""


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_month_end(day: dt.date) -> dt.date:
    """The last month-end strictly before ``day``."""
    return day.replace(day=1) - dt.timedelta(days=1)


def first_dated_record(study: Study) -> dt.date | None:
    """The earliest date of the programme's records: claims, works, hazards."""
    days: list[dt.date] = []
    if study.claims is not None:
        days += [d for d in map(as_date, study.claims["claimed_on"]) if d is not None]
    for frame, cols in ((study.grid_works, ("due", "done")),
                        (study.mobile_works, ("due", "done")),
                        (study.hazards, ("found",))):
        if frame is None:
            continue
        for col in cols:
            if col in frame:
                days += [d for d in map(as_date, frame[col]) if d is not None]
    return min(days) if days else None


def trend_days(study: Study, start: dt.date, end: dt.date,
               max_months: int = MAX_TREND_MONTHS) -> list[dt.date]:
    """Month-ends from the first dated record's month to ``end`` (the last ``max_months``),
    with ``end`` itself; at least ``start`` and ``end``."""
    first = first_dated_record(study) or start
    first = min(first, start)
    days = []
    day = month_end(first)
    while day < end:
        days.append(day)
        day = month_end(day + dt.timedelta(days=1))
    days = days[-max_months:] if max_months > 0 else []
    return sorted(set(days) | {end})


@dataclass(frozen=True)
class Snapshot:
    """The county on one day.

    Attributes
    ----------
    day : datetime.date
    study : Study
        The records as they stood (sites: the shared table, absent ones marked).
    assessment : Assessment
        Groups and points with the sites on air that day.
    readiness : Readiness
        Verdicts as of that day, with the sites committed that day.
    """

    day: dt.date
    study: Study
    assessment: Assessment
    readiness: Readiness


def _on_day(study: Study, day: dt.date) -> Study:
    """The study as of ``day``: records, claims and work sites, config as-of set."""
    cfg = study.config
    cfg = cfg.model_copy(update={"readiness": cfg.readiness.model_copy(update={"as_of": day})})
    base = dataclasses.replace(study, config=cfg)
    return with_work_sites(with_claim_sites(study_as_of(base, day), day))


def _shared_sites(states: list[Study]) -> gpd.GeoDataFrame:
    """The union of the sites of every day, in order of first appearance."""
    frames: list[gpd.GeoDataFrame] = []
    seen: set[str] = set()
    for s in states:
        new = s.sites[~s.sites["site_id"].astype(str).isin(seen)]
        seen |= set(new["site_id"].astype(str))
        frames.append(new)
    first = states[0].sites
    shared = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True),
                              geometry=first.geometry.name, crs=first.crs)
    shared["status"] = shared["status"].astype(object)
    shared["on_air_date"] = shared["on_air_date"].astype(object)
    return shared


def _with_shared(state: Study, shared: gpd.GeoDataFrame) -> Study:
    """``state`` whose sites are the shared table, status and dates as on its day."""
    sites = shared.copy()
    own = state.sites.set_index(state.sites["site_id"].astype(str))
    ids = sites["site_id"].astype(str)
    present = ids.isin(own.index).to_numpy()
    sites["status"] = np.where(present, ids.map(own["status"]).to_numpy(dtype=object), ABSENT)
    sites["on_air_date"] = np.where(present, ids.map(own["on_air_date"]).to_numpy(
        dtype=object), None)
    return dataclasses.replace(state, sites=sites)


def _subset(study: Study, rows: np.ndarray) -> Study:
    """``study`` with only the sites of ``rows`` (positions) marked for prediction."""
    sites = study.sites.copy()
    mark = np.full(len(sites), ABSENT, dtype=object)
    mark[rows] = "on_air"
    sites["status"] = mark
    return dataclasses.replace(study, sites=sites)


def period_calibration(state: Study, predict: Callable[[Study, np.ndarray], CoverageResult]
                       ) -> CalibrationFit | None:
    """The calibration a run as of ``state``'s day applies (None when it applies none).

    As in a run: with ``calibrate = true`` and measurements taken by that day, the
    per-operator corrections are fitted on the raw prediction of the sites on air.

    Parameters
    ----------
    state : Study
        The study on the period's last day (shared sites table).
    predict : callable
        ``predict(study, rows)``: the raw best-server coverage of the sites at positions
        ``rows`` (from the per-site cache).
    """
    meas = state.measurements
    if not state.config.calibrate or meas is None or not len(meas):
        return None
    status = state.sites["status"].to_numpy(dtype=object)
    raw = predict(state, np.flatnonzero(status == "on_air"))
    fit = fit_calibration(compare(state, raw))
    return fit if fit.terms else None


def _read_cells(states: list[Study]) -> np.ndarray:
    """Flat indices of every grid cell an assessment of these days reads.

    :func:`coverage.assess.assess` reads the best-server rasters at the test points, at the
    groups' household samples and (through the measured evidence and the calibration) at
    the measurements; nothing else of a day reads them.
    """
    width = states[0].grid.shape[1]
    parts: list[np.ndarray] = []
    seen: set[tuple[int, ...]] = set()
    for st in states:
        key = (id(st.points), id(st.groups), id(st.households), id(st.measurements))
        if key in seen:
            continue
        seen.add(key)
        pts = st.points
        rows, cols = sample_cells(st.grid, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
        _, rc, _ = _group_samples(st)
        rows, cols = np.concatenate([rows, rc[0]]), np.concatenate([cols, rc[1]])
        if st.measurements is not None and len(st.measurements):
            _, _, mrows, mcols = measurement_cells(st, st.measurements.reset_index(drop=True))
            rows, cols = np.concatenate([rows, mrows]), np.concatenate([cols, mcols])
        ok = rows >= 0
        parts.append(rows[ok].astype(np.int64) * width + cols[ok])
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)


def compute_progress(study: Study, start: dt.date, end: dt.date, cache_dir: Path,
                     progress: Callable[[str], None] | None = None, *,
                     max_months: int = MAX_TREND_MONTHS, sampled: bool = True
                     ) -> tuple[list[Snapshot], dict[str, dt.date]]:
    """Snapshots of the county on every day of the trend and of the period.

    Parameters
    ----------
    study : Study
        The loaded study (every record).
    start, end : datetime.date
        The period (``start`` < ``end``).
    cache_dir : Path
        The per-site prediction cache (``<out>/.cache/sites``).
    progress : callable, optional
        Called with a short note per day.
    max_months : int
        At most this many month-ends in the trend.
    sampled : bool
        True (default): each site is predicted once, at the cells the assessments read
        (:mod:`coverage.predict.samples`), and readiness findings whose inputs did not
        change are taken from an earlier day; False: whole-grid rasters and every finding
        worked out on every day (slow; the reference the fast way is tested against).
        Both give the same snapshots.

    Returns
    -------
    list of Snapshot
        One per day, in date order.
    dict
        ``{"start": ..., "end": ..., "year_start": ..., "trend_first": ...}``: the days of
        the period, the last day of the previous year and the first day of the trend.
    """
    year_start = dt.date(end.year - 1, 12, 31)
    trend = trend_days(study, start, end, max_months)
    days = sorted(set(trend) | {start, year_start})
    states = [_on_day(study, d) for d in days]
    shared = _shared_sites(states)
    days_shared = [_with_shared(state, shared) for state in states]
    predict: Callable[[Study, np.ndarray], CoverageResult]
    if sampled:
        wanted: set[int] = set()
        for st in days_shared:
            status = st.sites["status"].to_numpy(dtype=object)
            wanted |= {int(i) for i in np.flatnonzero(
                np.isin(status, ["on_air", "planned", "building"]))}
        samples = sample_sites(days_shared[-1], _read_cells(days_shared), sorted(wanted),
                               cache_dir=cache_dir,
                               samples_dir=Path(cache_dir).parent / SAMPLES_DIR)

        def predict(st: Study, rows: np.ndarray) -> CoverageResult:
            return best_server(samples, rows)
    else:
        backend = Backend()

        def predict(st: Study, rows: np.ndarray) -> CoverageResult:
            return backend.predict(_subset(st, rows), cache_dir=cache_dir,
                                   statuses=("on_air",))

    fit = period_calibration(days_shared[-1], predict)

    def calibrated(st: Study, raw: CoverageResult) -> SignalGrids:
        return cast(SignalGrids, raw if fit is None else apply_calibration(st, raw, fit))

    snaps: list[Snapshot] = []
    # findings that stay the same from day to day (the reference way works each one out)
    kept: dict[object, object] | None = {} if sampled else None
    for day, st in zip(days, days_shared, strict=True):
        if progress is not None:
            progress(day.isoformat())
        status = st.sites["status"].to_numpy(dtype=object)
        on_now = np.flatnonzero(status == "on_air")
        a = assess(st, calibrated(st, predict(st, on_now)))
        pending = np.flatnonzero(np.isin(status, ["planned", "building"]))
        committed = None
        if len(pending):
            # the committed network: on air, being built or planned
            both = predict(st, np.union1d(on_now, pending))
            committed = AfterPlan(st, assess(st, calibrated(st, both)),
                                  pd.DataFrame(columns=["group_id", "site_id", "due"]))
        snaps.append(Snapshot(day, st, a, evaluate(st, a, committed=committed,
                                                   shared=kept)))
    return snaps, {"start": start, "end": end, "year_start": year_start,
                   "trend_first": trend[0]}


# ----------------------------------------------------------------------------------------
# Tables of the progress report


def _covered_groups(a: Assessment, op: str) -> set[str]:
    g = a.groups
    col = f"status_{op}"
    if col not in g:
        return set()
    return set(g.loc[(g[col] == "covered") & g["required"].astype(bool), "group_id"].astype(str))


def _in(day: dt.date | None, start: dt.date, end: dt.date) -> bool:
    return day is not None and start < day <= end


@dataclass(frozen=True)
class ProgressTables:
    """Every table of progress.html / progress.xlsx (schema column names, raw values).

    ``summary`` holds the figures of the paragraph (``key``, ``value``), each one a total
    of another table.
    """

    start: dt.date
    end: dt.date
    year_start: dt.date
    operators: pd.DataFrame
    overdue: pd.DataFrame
    owners: pd.DataFrame
    hazards: pd.DataFrame
    changes: pd.DataFrame
    trend: pd.DataFrame
    summary: pd.DataFrame


def _village_names(study: Study) -> dict[str, str]:
    v = study.villages
    return dict(zip(v["village_id"].astype(str), v["name"].astype(str), strict=True))


def _operator_table(snaps: dict[dt.date, Snapshot], start: dt.date, end: dt.date,
                    overdue: pd.DataFrame) -> pd.DataFrame:
    s_end, s_start = snaps[end], snaps[start]
    study = s_end.study
    claims = claim_state(study.claims, end)
    rows = []
    for op in study.config.operators:
        mine = claims[claims["operator"] == op] if len(claims) else claims
        sites = study.sites[(study.sites["operator"] == op)]
        before = s_start.study.sites
        was_on = set(before.loc[before["status"] == "on_air", "site_id"].astype(str))
        now_on = set(sites.loc[sites["status"] == "on_air", "site_id"].astype(str))
        new_groups = _covered_groups(s_end.assessment, op) - \
            _covered_groups(s_start.assessment, op)
        g = s_end.assessment.groups.set_index(s_end.assessment.groups["group_id"].astype(str))
        rows.append({
            "operator": op,
            "claimed": int(sum(_in(d, start, end) for d in mine["claimed_date"]))
            if len(mine) else 0,
            "started": int(sum(_in(d, start, end) for d in mine["started_date"]))
            if len(mine) else 0,
            "on_air": len(now_on - was_on),
            "active_claims": int(mine["state"].isin(["claimed", "started"]).sum())
            if len(mine) else 0,
            "overdue": int((overdue["operator"] == op).sum()) if len(overdue) else 0,
            "groups_new": len(new_groups),
            "households_new": int(g.loc[sorted(new_groups), "households"].sum())
            if new_groups else 0,
        })
    return pd.DataFrame(rows)


def _overdue_table(snap: Snapshot) -> pd.DataFrame:
    od = snap.readiness.overdue
    cols = ["operator", "kind", "ref", "village_id", "village", "due", "days_late"]
    if od is None or od.empty:
        return pd.DataFrame(columns=cols)
    names = _village_names(snap.study)
    mobile = od[od["kind"].isin(["planned_site", "mobile_work"])].copy()
    mobile["operator"] = mobile["who"].astype(str)
    mobile["village"] = mobile["village_id"].astype(str).map(names).fillna("")
    mobile = mobile.sort_values(["operator", "days_late", "ref"], ascending=[True, False, True])
    return mobile[cols].reset_index(drop=True)


def _owner_table(snap: Snapshot, end: dt.date) -> pd.DataFrame:
    study, cfg = snap.study, snap.study.config
    w = works_state(study.grid_works, end, cfg.readiness.inspection_date)
    cols = ["owner", "projects", "planned", "in_progress", "done", "investment_wan",
            "investment_done_wan", "overdue"]
    if w.empty:
        return pd.DataFrame(columns=cols)
    w["state"] = [("done" if d else ("in_progress" if s in ("in_progress", "done")
                                     else "planned"))
                  for d, s in zip(w["is_done"], w["status"], strict=True)]
    rows = []
    for owner, sub in w.groupby(w["owner"].astype(str), sort=True):
        rows.append({
            "owner": owner, "projects": len(sub),
            "planned": int((sub["state"] == "planned").sum()),
            "in_progress": int((sub["state"] == "in_progress").sum()),
            "done": int((sub["state"] == "done").sum()),
            "investment_wan": round(float(sub["investment_wan"].sum()), 2),
            "investment_done_wan": round(float(sub.loc[sub["is_done"], "investment_wan"].sum()),
                                         2),
            "overdue": int(sub["overdue"].sum()),
        })
    return pd.DataFrame(rows, columns=cols)


def _hazard_table(snaps: dict[dt.date, Snapshot], start: dt.date, end: dt.date
                  ) -> pd.DataFrame:
    cols = ["period", "found", "fixed", "open"]
    rows = []
    for key, day in (("period", start), ("total", None)):
        hz_end = snaps[end].study.hazards
        if hz_end is None or hz_end.empty:
            rows.append({"period": key, "found": 0, "fixed": 0, "open": 0})
            continue
        found_days = [as_date(d) for d in hz_end["found"]]
        fixed = hz_end["fixed"].astype(bool).to_numpy()
        if day is None:
            rows.append({"period": key, "found": len(hz_end), "fixed": int(fixed.sum()),
                         "open": int((~fixed).sum())})
        else:
            hz_start = snaps[start].study.hazards
            was_fixed = set() if hz_start is None else set(
                hz_start.loc[hz_start["fixed"].astype(bool), "hazard_id"].astype(str))
            now_fixed = set(hz_end.loc[fixed, "hazard_id"].astype(str))
            rows.append({"period": key,
                         "found": int(sum(_in(d, start, end) for d in found_days)),
                         "fixed": len(now_fixed - was_fixed),
                         "open": int((~fixed).sum())})
    return pd.DataFrame(rows, columns=cols)


def _changes_table(snaps: dict[dt.date, Snapshot], start: dt.date, end: dt.date
                   ) -> pd.DataFrame:
    a, b = snaps[start].readiness, snaps[end].readiness
    before = a.villages.set_index("village_id")
    after = b.villages.set_index("village_id")
    fa = a.findings[a.findings["severity"] == "fail"]
    fb = b.findings[b.findings["severity"] == "fail"]
    rows = []
    for vid in after.index:
        v0, v1 = str(before.at[vid, "verdict"]), str(after.at[vid, "verdict"])
        if v0 == v1:
            continue
        r0 = set(fa.loc[fa["village_id"] == vid, "rule"])
        r1 = set(fb.loc[fb["village_id"] == vid, "rule"])
        rows.append({"village_id": vid, "village": after.at[vid, "name"],
                     "town": after.at[vid, "town"], "verdict_before": v0, "verdict_after": v1,
                     "rules_resolved": sorted(r0 - r1), "rules_new": sorted(r1 - r0),
                     "reasons": list(after.loc[vid, "reasons"])})
    return pd.DataFrame(rows, columns=["village_id", "village", "town", "verdict_before",
                                       "verdict_after", "rules_resolved", "rules_new",
                                       "reasons"])


VERDICTS = ("READY", "READY_AFTER_WORKS", "READY_IF_PLAN_BUILT", "NOT_READY")


def _trend_table(snaps: list[Snapshot]) -> pd.DataFrame:
    rows = []
    for s in snaps:
        g = s.assessment.groups
        req = g["required"].astype(bool)
        unc = req & (g["status_ANY"] != "covered")
        cfg = s.study.config
        done = 0.0
        for frame in (s.study.grid_works, s.study.mobile_works):
            w = works_state(frame, s.day, cfg.readiness.inspection_date)
            if len(w):
                done += float(w.loc[w["is_done"], "investment_wan"].sum())
        row = {"day": s.day, "groups_uncovered": int(unc.sum()),
               "households_uncovered": int(g.loc[unc, "households"].sum())}
        for v in VERDICTS:
            row[f"villages_{v}"] = int(s.readiness.counts.get(v, 0))
        row["investment_done_wan"] = round(done, 2)
        rows.append(row)
    return pd.DataFrame(rows)


def _summary(snaps: dict[dt.date, Snapshot], year_start: dt.date, end: dt.date
             ) -> pd.DataFrame:
    """The paragraph's figures ("今年以来", i.e. since ``year_start``, to ``end``)."""
    s0, s1 = snaps[year_start], snaps[end]
    cfg = s1.study.config
    grid = works_state(s1.study.grid_works, end, cfg.readiness.inspection_date)
    mobile = works_state(s1.study.mobile_works, end, cfg.readiness.inspection_date)
    owners = sorted(set(grid["owner"].astype(str))) if len(grid) else []
    sites1, sites0 = s1.study.sites, s0.study.sites
    on1 = set(sites1.loc[sites1["status"] == "on_air", "site_id"].astype(str))
    on0 = set(sites0.loc[sites0["status"] == "on_air", "site_id"].astype(str))
    new_on = on1 - on0
    claims = claim_state(s1.study.claims, end)
    claimed = int(sum(_in(d, year_start, end) for d in claims["claimed_date"])) \
        if len(claims) else 0
    g1 = s1.assessment.groups
    covered0 = _covered_groups(s0.assessment, "ANY")
    covered1 = _covered_groups(s1.assessment, "ANY")
    new_groups = covered1 - covered0
    villages = g1.loc[g1["group_id"].astype(str).isin(new_groups), "village_id"].nunique()
    hz = s1.study.hazards
    fig = {
        "owners": "、".join(owners),
        "grid_projects": len(grid),
        "grid_investment_wan": round(float(grid["investment_wan"].sum()), 2) if len(grid)
        else 0.0,
        "mobile_projects": len(mobile),
        "mobile_investment_wan": round(float(mobile["investment_wan"].sum()), 2) if len(mobile)
        else 0.0,
        "sites_claimed": claimed,
        "sites_new_on_air": len(new_on),
        "villages_newly_covered": int(villages),
        "groups_newly_covered": len(new_groups),
        "hazards_found": 0 if hz is None else len(hz),
        "hazards_fixed": 0 if hz is None else int(hz["fixed"].astype(bool).sum()),
    }
    return pd.DataFrame({"key": list(fig), "value": list(fig.values())})


def progress_tables(snapshots: list[Snapshot], days: dict[str, dt.date]) -> ProgressTables:
    """Every table of the progress report from the snapshots of :func:`compute_progress`."""
    by_day = {s.day: s for s in snapshots}
    start, end, year_start = days["start"], days["end"], days["year_start"]
    overdue = _overdue_table(by_day[end])
    trend_days_ = [s for s in snapshots if s.day >= days["trend_first"]]
    return ProgressTables(
        start=start, end=end, year_start=year_start,
        operators=_operator_table(by_day, start, end, overdue), overdue=overdue,
        owners=_owner_table(by_day[end], end), hazards=_hazard_table(by_day, start, end),
        changes=_changes_table(by_day, start, end), trend=_trend_table(trend_days_),
        summary=_summary(by_day, year_start, end))


# ----------------------------------------------------------------------------------------
# The `progress` command


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The default period: from the last month-end before ``today`` to ``today``."""
    return previous_month_end(today), today


def run_progress(data_dir: Path, config: Config, out_dir: Path, start: dt.date,
                 end: dt.date, *, quiet: bool = False) -> list[str]:
    """Load the data, reconstruct every day, write progress.html and progress.xlsx.

    Parameters
    ----------
    data_dir : Path
        The data folder.
    config : Config
        The configuration (``readiness.as_of`` is replaced by each day).
    out_dir : Path
        Output folder; its ``.cache/sites`` (a previous run's) is reused.
    start, end : datetime.date
        The period.
    quiet : bool
        No step notes on the log.

    Returns
    -------
    list of str
        Lines for the console: the files written and the paragraph.

    Raises
    ------
    ConfigError
        When ``start`` is not before ``end``.
    InputDataError
        With every problem of the inputs; nothing is written then.
    """
    from coverage.errors import ConfigError
    from coverage.io.outputs import OutputFolder
    from coverage.io.writers import write_workbook
    from coverage.output.progress import (
        build_progress_workbook,
        paragraph,
        render_progress_html,
    )
    from coverage.pipeline import CACHE_DIR, today
    from coverage.study import load_study

    if start >= end:
        raise ConfigError(f"--from {start} is not before --to {end}. Fix: give a period, e.g. "
                          f"--from {previous_month_end(end)} --to {end}.")
    study = load_study(data_dir, config)
    note = (lambda day: None) if quiet else (lambda day: log.info("· %s …", day))
    snaps, days = compute_progress(study, start, end, Path(out_dir) / CACHE_DIR / "sites",
                                   progress=note)
    tables = progress_tables(snaps, days)
    with OutputFolder(Path(out_dir)) as staged:
        write_workbook(staged.path("progress.xlsx"), build_progress_workbook(tables, config),
                       timestamp=f"{today()}T00:00:00Z")
        staged.write_text("progress.html", render_progress_html(tables, config))
    out = Path(out_dir)
    return [str(out / "progress.html"), str(out / "progress.xlsx"), paragraph(tables, config)]
