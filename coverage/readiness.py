"""Acceptance readiness per administrative village: small rules → findings → a verdict.

Each rule is a function ``(ctx) -> list[Finding]`` over every village at once. A
finding that fails can carry a *remedy*: a scheduled work item or planned site that
finishes before the inspection date. A village is READY when no rule fails,
READY_AFTER_WORKS when every failing finding has such a remedy, NOT_READY otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.assess import Assessment
from coverage.config import Config
from coverage.errors import ConfigError
from coverage.signal import ANY
from coverage.study import Study

READY = "READY"
READY_AFTER_WORKS = "READY_AFTER_WORKS"
NOT_READY = "NOT_READY"

PASS, FAIL, WARNING = "pass", "fail", "warning"


@dataclass(frozen=True)
class Remedy:
    """Scheduled work that should cure a failing finding before the inspection."""

    kind: str  # "grid_work", "mobile_work" or "planned_site"
    ref: str   # work_id or site_id
    due: dt.date


@dataclass(frozen=True)
class Finding:
    """One rule's judgement on one village.

    Attributes
    ----------
    village_id : str
    rule : str
        Rule name as in ``readiness.rules`` of the config.
    severity : str
        ``pass``, ``fail`` or ``warning``.
    message : str
        Plain words for the inspector's report.
    evidence : dict
        The figures behind the judgement (IDs, RSRP, kVA per household, dates).
    remedies : tuple of Remedy
        Scheduled work that cures a failure before the inspection date.
    """

    village_id: str
    rule: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    remedies: tuple[Remedy, ...] = ()


@dataclass(frozen=True)
class AfterPlan:
    """The network once the sites being built, the planned sites and the new plan are on air.

    Attributes
    ----------
    study : Study
        The study whose sites include every pending site (status planned / building).
    assessment : Assessment
        Coverage of that network.
    group_sites : DataFrame
        Which new plan site cures which gap group: group_id, site_id, due.
    """

    study: Study
    assessment: Assessment
    group_sites: pd.DataFrame


@dataclass(frozen=True)
class RuleContext:
    """What every rule sees."""

    study: Study
    assessment: Assessment
    config: Config
    after: AfterPlan | None = None

    @property
    def inspection(self) -> dt.date:
        return self.config.readiness.inspection_date

    @property
    def village_ids(self) -> list[str]:
        return self.study.villages["village_id"].tolist()


@dataclass(frozen=True)
class Readiness:
    """Result of :func:`evaluate`: every finding and one verdict per village."""

    findings: pd.DataFrame   # village_id, rule, severity, message, evidence, remedies
    villages: pd.DataFrame   # village_id, name, town, verdict, reasons, n_fail, n_warning
    counts: dict[str, int]


def _as_date(value: object) -> dt.date | None:
    if value is None or (np.isscalar(value) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        parsed = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    return None if pd.isna(parsed) else parsed.date()


def _open_works(frame: pd.DataFrame | None, inspection: dt.date) -> pd.DataFrame:
    """Works not done, with a ``due_date`` column and an ``on_time`` flag."""
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["work_id", "village_id", "status", "due_date", "on_time"])
    works = frame[frame["status"] != "done"].copy()
    due = works["due"] if "due" in works else pd.Series(None, index=works.index)
    works["due_date"] = [_as_date(v) for v in due]
    works["on_time"] = [d is not None and d <= inspection for d in works["due_date"]]
    return works


def _remedies(works: pd.DataFrame, village_id: str, kind: str,
              categories: tuple[str, ...] | None = None) -> tuple[Remedy, ...]:
    sel = works[(works["village_id"] == village_id) & works["on_time"]]
    if categories is not None and "category" in sel:
        sel = sel[sel["category"].isin(categories)]
    return tuple(Remedy(kind, str(r.work_id), r.due_date)
                 for r in sel.sort_values(["due_date", "work_id"]).itertuples())


def _planned_site_remedies(ctx: RuleContext) -> dict[str, tuple[Remedy, ...]]:
    """Per village: planned/building sites (incl. chosen plan sites) due before inspection."""
    sites = ctx.study.sites
    out: dict[str, list[Remedy]] = {}
    pending = sites[sites["status"].isin(["planned", "building"])]
    if pending.empty:
        return {}
    if "village_id" not in pending:
        villages = ctx.study.villages[["village_id", "geometry"]]
        pending = gpd.sjoin(pending, villages, how="inner", predicate="within")
    for row in pending.itertuples():
        due = _as_date(getattr(row, "on_air_date", None))
        if due is not None and due <= ctx.inspection:
            out.setdefault(str(row.village_id), []).append(Remedy("planned_site", row.site_id,
                                                                  due))
    return {k: tuple(v) for k, v in out.items()}


def _coverage_rule(ctx: RuleContext, level: str) -> list[Finding]:
    a = ctx.assessment
    need = ctx.config.readiness.operators_required
    mobile = _open_works(ctx.study.mobile_works, ctx.inspection)
    planned = _planned_site_remedies(ctx)
    rule = "test_points_covered" if level == "points" else "groups_covered"
    findings = []
    if level == "points":
        table = a.points[a.points["required"]]
        ok = (table["n_operators"] >= need) if need > 1 else table[f"covered_{ANY}"]
        key, what = "point_id", "test point"
    else:
        table = a.groups[a.groups["required"]]
        ok = (table["n_operators"] >= need) if need > 1 else (
            table[f"status_{ANY}"] == "covered")
        key, what = "group_id", "group"
    bad_by_village = table[~ok].groupby("village_id")
    total_by_village = table.groupby("village_id").size()
    measured = table[table["measured"] != ""] if "measured" in table else table.iloc[:0]
    measured_by_village = measured.groupby("village_id")
    for vid in ctx.village_ids:
        total = int(total_by_village.get(vid, 0))
        cited = (measured_by_village.get_group(vid) if vid in measured_by_village.groups
                 else measured.iloc[:0])
        if vid not in bad_by_village.groups:
            msg = (f"all {total} required {what}s covered" if total else
                   f"no required {what}s recorded")
            evidence: dict = {"required": total}
            if len(cited):
                msg += _measured_note(cited, key, what)
                evidence["measured"] = cited[key].tolist()
            findings.append(Finding(vid, rule, PASS if total else WARNING, msg, evidence))
            continue
        bad = bad_by_village.get_group(vid)
        if level == "points":
            detail = [f"{r.name or r.point_id} ({r.kind}, best "
                      f"{'no signal' if pd.isna(r.rsrp_ANY) else f'{r.rsrp_ANY:.1f} dBm'}"
                      + (f"; {_measured_text(r)}" if _measured_text(r) else "") + ")"
                      for r in bad.itertuples()]
        else:
            detail = [f"{r.name} ({int(r.households)} households, {r.share_ANY:.0%} covered"
                      + (f"; {_measured_text(r)}" if _measured_text(r) else "") + ")"
                      for r in bad.itertuples()]
        ops = "any operator" if need == 1 else f"{need} operators"
        msg = (f"{len(bad)} of {total} required {what}s lack signal from {ops} "
               f"(RSRP ≥ {a.threshold_dbm:g} dBm): " + "; ".join(detail[:8])
               + (" …" if len(detail) > 8 else ""))
        good_cited = cited[~cited[key].isin(bad[key])]
        if len(good_cited):
            msg += _measured_note(good_cited, key, what, covered=True)
        if ctx.after is None:
            remedies = _remedies(mobile, vid, "mobile_work") + planned.get(vid, ())
        else:
            remedies, still = _after_plan_remedies(ctx, level, bad[key].tolist())
            if still:
                msg += (f"; {len(still)} still lack signal after every planned site is on "
                        f"air: " + ", ".join(still[:8]) + (" …" if len(still) > 8 else ""))
        evidence = {"uncovered": bad[key].tolist(), "required": total}
        if len(cited):
            evidence["measured"] = cited[key].tolist()
        findings.append(Finding(vid, rule, FAIL, msg, evidence, remedies))
    return findings


def _after_plan_remedies(ctx: RuleContext, level: str, failing: list[str]
                         ) -> tuple[tuple[Remedy, ...], list[str]]:
    """Pending sites that cure ``failing`` items, and the items they leave uncovered.

    A finding is remedied only when the after-plan network covers every failing item;
    the remedies are the pending sites serving them (their on-air dates decide whether
    the village can be READY_AFTER_WORKS by the inspection).
    """
    after = ctx.after
    assert after is not None
    need = ctx.config.readiness.operators_required
    if level == "points":
        table = after.assessment.points.set_index("point_id").loc[failing]
        ok = (table["n_operators"] >= need) if need > 1 else table[f"covered_{ANY}"]
    else:
        table = after.assessment.groups.set_index("group_id").loc[failing]
        ok = (table["n_operators"] >= need) if need > 1 else (
            table[f"status_{ANY}"] == "covered")
    still = [str(i) for i in table.index[~ok.to_numpy(bool)]]
    if still:
        return (), still
    sites = after.study.sites.set_index("site_id")
    pending = sites[sites["status"].isin(["planned", "building"])]
    refs: dict[str, dt.date | None] = {}
    if level == "points":
        for pid, row in table.iterrows():
            op = row.get(f"operator_{ANY}")
            sid = row.get(f"site_{op}") if op else None
            if sid in pending.index:
                refs[str(sid)] = _as_date(pending.at[sid, "on_air_date"])
            else:
                refs.setdefault(f"after-plan network ({pid})", None)
    else:
        mapped = after.group_sites[after.group_sites["group_id"].isin(failing)]
        for r in mapped.itertuples():
            refs[str(r.site_id)] = r.due
        for gid in set(failing) - set(mapped["group_id"]):
            refs.setdefault(f"after-plan network ({gid})", None)
    latest = max((_as_date(v) for v in pending["on_air_date"] if _as_date(v)),
                 default=ctx.inspection)
    return tuple(Remedy("planned_site", ref, due or latest)
                 for ref, due in sorted(refs.items())), []


def _measured_text(row: object) -> str:
    """The measurements that decided a point or group, in words ('' when none)."""
    text = getattr(row, "measured", "")
    return text if isinstance(text, str) else ""


def _measured_note(rows: pd.DataFrame, key: str, what: str, covered: bool = False) -> str:
    """' — judged on field measurements: name (measured -98 dBm (CMCC) on … by …); …'."""
    label = "name" if "name" in rows else key
    items = [f"{getattr(r, label) or getattr(r, key)} ({_measured_text(r)})"
             for r in rows.itertuples()]
    head = (f"; covered {what}s judged on field measurements: " if covered else
            " — judged on field measurements: ")
    return head + "; ".join(items[:4]) + (" …" if len(items) > 4 else "")


def rule_test_points_covered(ctx: RuleContext) -> list[Finding]:
    """Every required test point covered by the required number of operators."""
    return _coverage_rule(ctx, "points")


def rule_groups_covered(ctx: RuleContext) -> list[Finding]:
    """Every required group covered (household share ≥ group_share)."""
    return _coverage_rule(ctx, "groups")


def rule_universal_service(ctx: RuleContext) -> list[Finding]:
    """2018 universal-service rule: an on-air 4G site within a radius of the committee."""
    radius_m = ctx.config.readiness.universal_service_radius_km * 1000.0
    pts = ctx.study.points
    committees = pts[pts["kind"] == "committee"].drop_duplicates("village_id")
    sites = ctx.study.sites[ctx.study.sites["status"] == "on_air"]
    sx, sy = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    by_village = committees.set_index("village_id").geometry
    out = []
    for vid in ctx.village_ids:
        if vid not in by_village.index:
            out.append(Finding(vid, "universal_service", FAIL,
                               "no village committee point recorded; add one to check the rule"))
            continue
        geom = by_village[vid]
        dist = float(np.min(np.hypot(sx - geom.x, sy - geom.y))) if len(sx) else np.inf
        if dist <= radius_m:
            out.append(Finding(vid, "universal_service", PASS,
                               f"nearest 4G site {dist / 1000:.1f} km from the committee",
                               {"distance_km": round(dist / 1000, 2)}))
        else:
            out.append(Finding(vid, "universal_service", FAIL,
                               f"nearest 4G site {dist / 1000:.1f} km from the committee "
                               f"(limit {radius_m / 1000:g} km)",
                               {"distance_km": round(dist / 1000, 2)}))
    return out


def rule_transformer_capacity(ctx: RuleContext) -> list[Finding]:
    """Every transformer at ≥ kva_per_household_min kVA per household."""
    need = ctx.config.readiness.kva_per_household_min
    tr = ctx.study.transformers
    grid = _open_works(ctx.study.grid_works, ctx.inspection)
    out = []
    for vid in ctx.village_ids:
        sub = tr[tr["village_id"] == vid] if tr is not None else pd.DataFrame()
        if sub.empty:
            out.append(Finding(vid, "transformer_capacity", WARNING,
                               "no transformer recorded for this village; check the 台区 list"))
            continue
        ratio = sub["kva"].to_numpy(float) / np.maximum(sub["households"].to_numpy(float), 1)
        low = sub[ratio < need - 1e-9]
        if low.empty:
            out.append(Finding(vid, "transformer_capacity", PASS,
                               f"all {len(sub)} transformers ≥ {need:g} kVA per household "
                               f"(lowest {ratio.min():.2f})", {"lowest": round(ratio.min(), 3)}))
            continue
        lows = ratio[ratio < need - 1e-9]
        detail = "; ".join(f"{r.transformer_id} {v:.2f} kVA/household"
                           for r, v in zip(low.itertuples(), lows, strict=True))
        out.append(Finding(vid, "transformer_capacity", FAIL,
                           f"{len(low)} transformer(s) below {need:g} kVA per household: {detail}",
                           {"transformers": low["transformer_id"].tolist()},
                           _remedies(grid, vid, "grid_work")))
    return out


def _works_rule(ctx: RuleContext, frame: pd.DataFrame | None, rule: str, kind: str
                ) -> list[Finding]:
    works = _open_works(frame, ctx.inspection)
    out = []
    for vid in ctx.village_ids:
        sub = works[works["village_id"] == vid]
        total = 0 if frame is None else int((frame["village_id"] == vid).sum())
        if sub.empty:
            out.append(Finding(vid, rule, PASS, f"all {total} work item(s) done" if total
                               else "no work items for this village", {"items": total}))
            continue
        late = sub[~sub["on_time"]]
        if late.empty:
            due = max(sub["due_date"])
            out.append(Finding(
                vid, rule, FAIL,
                f"{len(sub)} work item(s) not yet done, all due by {due.isoformat()} "
                f"(before the inspection)", {"open": sub["work_id"].tolist()},
                tuple(Remedy(kind, str(r.work_id), r.due_date) for r in sub.itertuples())))
        else:
            detail = "; ".join(
                f"{r.work_id} due {r.due_date.isoformat() if r.due_date else 'unscheduled'}"
                for r in late.itertuples())
            out.append(Finding(vid, rule, FAIL,
                               f"{len(late)} work item(s) will not be done by the inspection on "
                               f"{ctx.inspection.isoformat()}: {detail}",
                               {"late": late["work_id"].tolist()}))
    return out


def rule_grid_works_done(ctx: RuleContext) -> list[Finding]:
    """Every grid work item done, or due before the inspection date."""
    return _works_rule(ctx, ctx.study.grid_works, "grid_works_done", "grid_work")


def rule_mobile_works_done(ctx: RuleContext) -> list[Finding]:
    """Every mobile work item done, or due before the inspection date."""
    return _works_rule(ctx, ctx.study.mobile_works, "mobile_works_done", "mobile_work")


def rule_no_open_hazards(ctx: RuleContext) -> list[Finding]:
    """No open power-line hazard in the village."""
    hz = ctx.study.hazards
    out = []
    for vid in ctx.village_ids:
        sub = hz[hz["village_id"] == vid] if hz is not None else pd.DataFrame()
        open_ = sub[~sub["fixed"].astype(bool)] if not sub.empty else sub
        if open_.empty:
            msg = (f"{len(sub)} hazard(s) found, all fixed" if len(sub) else
                   "no power-line hazard recorded")
            out.append(Finding(vid, "no_open_hazards", PASS, msg, {"found": len(sub)}))
        else:
            out.append(Finding(vid, "no_open_hazards", FAIL,
                               f"{len(open_)} power-line hazard(s) still open: "
                               + ", ".join(open_["hazard_id"].astype(str)),
                               {"open": open_["hazard_id"].tolist()}))
    return out


FIBER_CATEGORIES = ("光缆接入", "fiber", "光纤接入")


def rule_fiber(ctx: RuleContext) -> list[Finding]:
    """Fiber reaches the village where the data says it is required.

    A village is required to have fiber when its ``fiber_required`` column is true, or,
    without that column, when it is flagged ``poor`` (the universal-service programme's
    target villages). ``fiber`` false then fails, curable by a fiber work item on time.
    """
    vill = ctx.study.villages
    mobile = _open_works(ctx.study.mobile_works, ctx.inspection)
    if "fiber" not in vill:
        return [Finding(v, "fiber", WARNING, "no fiber column in the villages layer")
                for v in ctx.village_ids]
    if "fiber_required" in vill:
        required = vill["fiber_required"].fillna(False).astype(bool)
    elif "poor" in vill:
        required = vill["poor"].fillna(False).astype(bool)
    else:
        required = pd.Series(True, index=vill.index)
    out = []
    for vid, need, has in zip(vill["village_id"], required, vill["fiber"].fillna(False),
                              strict=True):
        if not need:
            out.append(Finding(vid, "fiber", PASS, "fiber not required for this village"))
        elif bool(has):
            out.append(Finding(vid, "fiber", PASS, "fiber reaches the village"))
        else:
            out.append(Finding(vid, "fiber", FAIL, "fiber is required but does not reach the "
                               "village", {}, _remedies(mobile, vid, "mobile_work",
                                                        FIBER_CATEGORIES)))
    return out


MIN_GROUP_PLACES = 3
"""A group's measured-minus-predicted median is judged from this many measured places on."""


def rule_measurements_agree(ctx: RuleContext) -> list[Finding]:
    """Field measurements and predictions agree within the margin (a warning where not).

    Points at test points where a measured RSRP differs from the prediction by more than
    ``readiness.measurement_margin_db`` (dB; also where the model predicts no signal at
    all), and at groups where the median difference of at least
    :data:`MIN_GROUP_PLACES` deciding measurements exceeds the margin. Villages without
    measurements pass.
    """
    from coverage.evidence.measured import format_dbm

    margin = ctx.config.readiness.measurement_margin_db
    a = ctx.assessment
    ops = [op for op in a.operators if op != ANY]
    if a.evidence is None:
        return [Finding(v, "measurements_agree", PASS, "no field measurements")
                for v in ctx.village_ids]
    issues: dict[str, list[str]] = {}
    where: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for r in a.points.itertuples():
        for op in ops:
            m = getattr(r, f"measured_{op}", np.nan)
            if pd.isna(m):
                continue
            counts[r.village_id] = counts.get(r.village_id, 0) + 1
            p = getattr(r, f"predicted_{op}")
            if pd.isna(p) or abs(m - p) > margin:
                pred = "no signal" if pd.isna(p) else f"{format_dbm(p)} dBm"
                diff = "" if pd.isna(p) else f", {m - p:+.1f} dB"
                issues.setdefault(r.village_id, []).append(
                    f"{r.name or r.point_id} {op}: measured {format_dbm(m)} dBm, "
                    f"predicted {pred}{diff}")
                where.setdefault(r.village_id, []).append(str(r.point_id))
    for r in a.groups.itertuples():
        for op in ops:
            share = getattr(r, f"measured_share_{op}", 0.0)
            if not share:
                continue
            counts[r.village_id] = counts.get(r.village_id, 0) + 1
            d = getattr(r, f"measured_delta_{op}", np.nan)
            places = int(getattr(r, f"measured_places_{op}", 0))
            if places >= MIN_GROUP_PLACES and pd.notna(d) and abs(d) > margin:
                issues.setdefault(r.village_id, []).append(
                    f"{r.name} {op}: measured {abs(d):.1f} dB "
                    f"{'above' if d > 0 else 'below'} the prediction (median of {places} "
                    "places)")
                where.setdefault(r.village_id, []).append(str(r.group_id))
    out = []
    for vid in ctx.village_ids:
        if vid in issues:
            items = issues[vid]
            out.append(Finding(
                vid, "measurements_agree", WARNING,
                f"field measurements and predictions differ by more than {margin:g} dB at "
                f"{len(items)} place(s): " + "; ".join(items[:6])
                + (" …" if len(items) > 6 else "") + " — check the sites' data there",
                {"places": where[vid], "margin_db": margin}))
        elif counts.get(vid):
            out.append(Finding(vid, "measurements_agree", PASS,
                               f"field measurements agree with predictions within ±{margin:g} dB",
                               {"margin_db": margin}))
        else:
            out.append(Finding(vid, "measurements_agree", PASS,
                               "no recent field measurements in this village"))
    return out


RULES: dict[str, Callable[[RuleContext], list[Finding]]] = {
    "test_points_covered": rule_test_points_covered,
    "groups_covered": rule_groups_covered,
    "universal_service": rule_universal_service,
    "transformer_capacity": rule_transformer_capacity,
    "grid_works_done": rule_grid_works_done,
    "no_open_hazards": rule_no_open_hazards,
    "fiber": rule_fiber,
    "mobile_works_done": rule_mobile_works_done,
    "measurements_agree": rule_measurements_agree,
}


def verdict(findings: list[Finding], inspection: dt.date) -> tuple[str, list[str]]:
    """The verdict of one village and its reasons in plain words."""
    fails = [f for f in findings if f.severity == FAIL]
    if not fails:
        return READY, ["every rule passes"]
    cured = [f for f in fails if any(r.due <= inspection for r in f.remedies)]
    if len(cured) == len(fails):
        reasons = [f"{f.rule}: {f.message} — scheduled: "
                   + ", ".join(f"{r.ref} by {r.due.isoformat()}" for r in f.remedies)
                   for f in fails]
        return READY_AFTER_WORKS, reasons
    return NOT_READY, [f"{f.rule}: {f.message}" for f in fails if f not in cured]


def evaluate(study: Study, assessment: Assessment, config: Config | None = None,
             after: AfterPlan | None = None) -> Readiness:
    """Apply every configured rule to every village and give a verdict per village.

    Parameters
    ----------
    study : Study
    assessment : Assessment
    config : Config, optional
        Defaults to ``study.config``.
    after : AfterPlan, optional
        The network with every pending and planned site on air. When given, a coverage
        failure is remedied only if that network covers every failing item, by the
        pending sites' on-air dates; otherwise any on-time mobile work of the village
        counts as its remedy.

    Returns
    -------
    Readiness

    Raises
    ------
    ConfigError
        A rule named in ``readiness.rules`` does not exist.
    """
    config = config or study.config
    rules = list(config.readiness.rules)
    if config.readiness.universal_service_rule and "universal_service" not in rules:
        rules.append("universal_service")
    if assessment.evidence is not None and "measurements_agree" not in rules:
        rules.append("measurements_agree")
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ConfigError(f"readiness.rules names unknown rule(s) {unknown}; Fix: use any of "
                          f"{sorted(RULES)}")
    ctx = RuleContext(study, assessment, config, after)
    findings: list[Finding] = []
    for name in rules:
        findings.extend(RULES[name](ctx))
    by_village: dict[str, list[Finding]] = {}
    for f in findings:
        by_village.setdefault(f.village_id, []).append(f)
    rows = []
    for v in study.villages.itertuples():
        fs = by_village.get(v.village_id, [])
        verdict_, reasons = verdict(fs, config.readiness.inspection_date)
        rows.append({"village_id": v.village_id, "name": v.name, "town": v.town,
                     "verdict": verdict_, "reasons": reasons,
                     "n_fail": sum(f.severity == FAIL for f in fs),
                     "n_warning": sum(f.severity == WARNING for f in fs)})
    villages = pd.DataFrame(rows)
    table = pd.DataFrame([{
        "village_id": f.village_id, "rule": f.rule, "severity": f.severity,
        "message": f.message, "evidence": f.evidence,
        "remedies": "; ".join(f"{r.kind} {r.ref} due {r.due.isoformat()}" for r in f.remedies),
    } for f in findings])
    counts = {k: int((villages["verdict"] == k).sum()) for k in (READY, READY_AFTER_WORKS,
                                                                  NOT_READY)}
    return Readiness(findings=table, villages=villages, counts=counts)
