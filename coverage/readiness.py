"""Acceptance readiness per administrative village: small rules → findings → a verdict.

Each rule is a function ``(ctx) -> list[Finding]`` over every village at once. A
finding that fails can carry *remedies*: work items, sites being built, or sites of the
optimiser's proposal that cure it. A village is

- ``READY`` when no rule fails;
- ``READY_AFTER_WORKS`` (工程完工后具备) when every failure is cured by *committed* items
  (works in the works lists, sites planned or being built with an on-air date) due on or
  before the inspection;
- ``READY_IF_PLAN_BUILT`` (规划实施后具备) when every failure is cured only once the
  proposal's sites are built too;
- ``NOT_READY`` otherwise.

Every failure is named in the reasons, with its remedy when it has one. Items due before
the as-of date and not done are overdue (逾期): they are listed per village and still
count as a remedy, with a warning, only when due before the inspection. Rules are
documented with their sources in ``docs/rules.md``.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from coverage import capacity
from coverage.asof import as_date, pending_sites_state, resolve_as_of, works_state
from coverage.assess import Assessment
from coverage.config import Config
from coverage.errors import ConfigError
from coverage.labels import label, message
from coverage.signal import ANY
from coverage.study import Study

READY = "READY"
READY_AFTER_WORKS = "READY_AFTER_WORKS"
READY_IF_PLAN_BUILT = "READY_IF_PLAN_BUILT"
NOT_READY = "NOT_READY"
VERDICTS = (READY, READY_AFTER_WORKS, READY_IF_PLAN_BUILT, NOT_READY)

PASS, FAIL, WARNING = "pass", "fail", "warning"

_MAX_LISTED = 8

T = TypeVar("T")


def _as_date(value: object) -> dt.date | None:
    """Kept for callers of the old name; see :func:`coverage.asof.as_date`."""
    return as_date(value)


@dataclass(frozen=True)
class Remedy:
    """An item that should cure a failing finding before the inspection.

    Attributes
    ----------
    kind : str
        ``grid_work``, ``mobile_work``, ``planned_site`` (committed) or ``plan_site`` (the
        optimiser's proposal, not committed).
    ref : str
        work_id or site_id.
    due : datetime.date
    overdue : bool
        Due before the as-of date and not done.
    """

    kind: str
    ref: str
    due: dt.date
    overdue: bool = False

    @property
    def committed(self) -> bool:
        """Whether the item is committed (not only proposed by the optimiser)."""
        return self.kind != "plan_site"


@dataclass(frozen=True)
class Finding:
    """One rule's judgement on one village.

    Attributes
    ----------
    village_id : str
    rule : str
        Rule id as in ``readiness.rules`` of the config (never translated).
    severity : str
        ``pass``, ``fail`` or ``warning``.
    message : str
        Plain words for the inspector's report, in the config's language.
    evidence : dict
        The figures behind the judgement (IDs, RSRP, kVA per household, dates).
    remedies : tuple of Remedy
        Items that cure a failure; all of them are needed.
    """

    village_id: str
    rule: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    remedies: tuple[Remedy, ...] = ()


@dataclass(frozen=True)
class AfterPlan:
    """A network still to come and its coverage.

    Attributes
    ----------
    study : Study
        The study whose sites include the sites still to come.
    assessment : Assessment
        Coverage of that network.
    group_sites : DataFrame
        Which coming site cures which gap group: group_id, site_id, due.
    """

    study: Study
    assessment: Assessment
    group_sites: pd.DataFrame


@dataclass(frozen=True)
class RuleContext:
    """What every rule sees.

    ``committed`` is the network once the committed sites (planned / building, with an
    on-air date) are on air; ``after`` the network once the proposal is built as well.
    """

    study: Study
    assessment: Assessment
    config: Config
    after: AfterPlan | None = None
    committed: AfterPlan | None = None
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)
    shared: dict[object, object] | None = field(default=None, compare=False, repr=False)

    def cached(self, key: object, make: Callable[[], T]) -> T:
        """``make()``, computed once per context and ``key`` (tables every rule reads)."""
        if key not in self.memo:
            self.memo[key] = make()
        return cast(T, self.memo[key])

    @property
    def inspection(self) -> dt.date:
        return self.config.readiness.inspection_date

    @property
    def as_of(self) -> dt.date:
        return resolve_as_of(self.config.readiness.as_of)

    @property
    def lang(self) -> str:
        return self.config.language

    @property
    def village_ids(self) -> list[str]:
        return self.study.villages["village_id"].tolist()

    def msg(self, key: str, **fields: object) -> str:
        return message(self.lang, key, **fields)


@dataclass(frozen=True)
class Readiness:
    """Result of :func:`evaluate`: every finding and one verdict per village.

    ``overdue`` lists every item due before the as-of date and not done: kind, ref,
    village_id, who (owner or operator), due, days_late.
    """

    findings: pd.DataFrame   # village_id, rule, severity, message, evidence, remedies
    villages: pd.DataFrame   # village_id, name, town, verdict, reasons, n_fail, n_warning
    counts: dict[str, int]
    as_of: dt.date = dt.date(2020, 1, 1)
    overdue: pd.DataFrame = field(default_factory=pd.DataFrame)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and not value.strip()) or value is pd.NA


def display_name(name: object, ident: object, kind: object = None, lang: str = "zh") -> str:
    """A place's name for people: its name, or its id (and its kind) when it has none."""
    if not _blank(name):
        return str(name)
    if kind is not None and not _blank(kind):
        return f"{ident}（{label(lang, str(kind))}）" if lang == "zh" else \
            f"{ident} ({label(lang, str(kind))})"
    return str(ident)


def _listed(items: list[str], sep: str = "；") -> str:
    return sep.join(items[:_MAX_LISTED]) + (" …" if len(items) > _MAX_LISTED else "")


def _works(ctx: RuleContext, frame: pd.DataFrame | None) -> pd.DataFrame:
    """The works of ``frame`` with their state on the as-of day (once per context; the
    rules only read it)."""
    return ctx.cached(("works", id(frame)), lambda: works_state(frame, ctx.as_of,
                                                                ctx.inspection))


def _pending_sites(ctx: RuleContext) -> pd.DataFrame:
    return pending_sites_state(ctx.study.sites, ctx.as_of, ctx.inspection)


def _by_village(frame: pd.DataFrame) -> dict[object, pd.DataFrame]:
    """The rows of ``frame`` per ``village_id`` (each in the table's order), split once
    instead of one boolean selection per village."""
    if frame is None or not len(frame) or "village_id" not in frame:
        return {}
    return dict(tuple(pd.DataFrame(frame).groupby("village_id", sort=False)))


def _village_rows(ctx: RuleContext, name: str, frame: pd.DataFrame
                  ) -> Callable[[object], pd.DataFrame]:
    """A lookup village_id → its rows of ``frame`` (no rows: an empty copy of the table).

    The table is split on the first lookup (a rule that needs no village's rows pays
    nothing)."""
    def rows(vid: object) -> pd.DataFrame:
        split = ctx.cached(("by_village", name, id(frame)), lambda: _by_village(frame))
        if vid in split:
            return split[vid]
        return ctx.cached(("no_rows", name, id(frame)), lambda: pd.DataFrame(frame).iloc[:0])
    return rows


@functools.cache
def _row_type(columns: tuple[str, ...]) -> type:
    return collections.namedtuple("Row", columns)


def _rows_of(table: pd.DataFrame, columns: tuple[str, ...]) -> list:
    """The rows of ``table`` as records of the named columns it has (what the rules read
    by name; ``itertuples`` over a wide table is slow)."""
    present = tuple(c for c in columns if c in table.columns)
    make = _row_type(present)
    return [make(*values) for values in zip(*(table[c].tolist() for c in present),
                                            strict=True)]


def _work_remedies(works: pd.DataFrame, kind: str) -> tuple[Remedy, ...]:
    w = works.sort_values(["due_date", "work_id"])
    return tuple(Remedy(kind, str(wid), due, bool(late)) for wid, due, late in zip(
        w["work_id"].tolist(), [as_date(d) for d in w["due_date"]], w["overdue"].tolist(),
        strict=True) if due is not None)


# ------------------------------------------------------------------ coverage


def _coverage_rule(ctx: RuleContext, level: str) -> list[Finding]:
    a = ctx.assessment
    lang = ctx.lang
    need = ctx.config.readiness.operators_required
    rule = "test_points_covered" if level == "points" else "groups_covered"
    if level == "points":
        table = a.points[a.points["required"]]
        ok = (table["n_operators"] >= need) if need > 1 else table[f"covered_{ANY}"]
        key, what = "point_id", ctx.msg("what_point")
    else:
        table = a.groups[a.groups["required"]]
        ok = (table["n_operators"] >= need) if need > 1 else (
            table[f"status_{ANY}"] == "covered")
        key, what = "group_id", ctx.msg("what_group")
    # only the columns read below: the per-village split of a narrow table is cheap
    read = ("village_id", key, "name", "kind", "measured", "rsrp_ANY", "households",
            "share_ANY")
    table = table[[c for c in dict.fromkeys(read) if c in table.columns]]
    bad_by_village = _by_village(table[~ok])
    total_by_village = table.groupby("village_id").size()
    measured = table[table["measured"] != ""] if "measured" in table else table.iloc[:0]
    measured_by_village = _by_village(measured)
    no_measured = measured.iloc[:0]
    totals = dict(zip(total_by_village.index.tolist(), total_by_village.tolist(), strict=True))
    findings = []
    for vid in ctx.village_ids:
        total = int(totals.get(vid, 0))
        cited = measured_by_village.get(vid, no_measured)
        if vid not in bad_by_village:
            msg = (ctx.msg("cov_all", what=what, total=total) if total else
                   ctx.msg("cov_none", what=what))
            evidence: dict = {"required": total}
            if len(cited):
                msg += _measured_note(ctx, cited, key, what)
                evidence["measured"] = cited[key].tolist()
            findings.append(Finding(vid, rule, PASS if total else WARNING, msg, evidence))
            continue
        bad = bad_by_village[vid]
        if level == "points":
            detail = [ctx.msg(
                "point_detail", name=display_name(r.name, r.point_id, r.kind, lang),
                kind=label(lang, str(r.kind)),
                best=(ctx.msg("no_signal") if np.isnan(best)
                      else ctx.msg("dbm", v=f"{best:.1f}")),
                meas=(("；" if lang == "zh" else "; ") + _measured_text(r))
                if _measured_text(r) else "")
                for r, best in zip(_rows_of(bad, ("name", "point_id", "kind", "measured")),
                                   bad["rsrp_ANY"].to_numpy(float).tolist(), strict=True)]
        else:
            detail = [ctx.msg(
                "group_detail", name=display_name(r.name, r.group_id, None, lang),
                hh=int(hh), share=f"{share:.0%}",
                meas=(("；" if lang == "zh" else "; ") + _measured_text(r))
                if _measured_text(r) else "")
                for r, hh, share in zip(_rows_of(bad, ("name", "group_id", "measured")),
                                        bad["households"].tolist(),
                                        bad["share_ANY"].tolist(), strict=True)]
        ops = ctx.msg("ops_any") if need == 1 else ctx.msg("ops_n", n=need)
        msg = ctx.msg("cov_fail", what=what, total=total, bad=len(bad), ops=ops,
                      thr=f"{a.threshold_dbm:g}", detail=_listed(detail))
        bad_ids = bad[key].tolist()
        good_cited = cited[~cited[key].isin(bad_ids)] if len(cited) else cited
        if len(good_cited):
            msg += _measured_note(ctx, good_cited, key, what, covered=True)
        remedies, note = _network_remedies(ctx, level, bad_ids)
        msg += note
        evidence = {"uncovered": list(bad_ids), "required": total}
        if len(cited):
            evidence["measured"] = cited[key].tolist()
        findings.append(Finding(vid, rule, FAIL, msg, evidence, remedies))
    return findings


def _still(ctx: RuleContext, view: AfterPlan, level: str, failing: list[str]) -> list[str]:
    """The failing items that ``view``'s network still leaves uncovered."""
    ok = ctx.cached(("covered", id(view), level), lambda: _covered_in(ctx, view, level))
    return [str(i) for i in failing if not ok.get(i, False)]


def _covered_in(ctx: RuleContext, view: AfterPlan, level: str) -> dict[object, bool]:
    """Whether each test point or group (by id) is covered in ``view``'s network."""
    need = ctx.config.readiness.operators_required
    if level == "points":
        table = view.assessment.points
        ok = (table["n_operators"] >= need) if need > 1 else table[f"covered_{ANY}"]
        key = "point_id"
    else:
        table = view.assessment.groups
        ok = (table["n_operators"] >= need) if need > 1 else (
            table[f"status_{ANY}"] == "covered")
        key = "group_id"
    return {i: False if pd.isna(v) else bool(v)
            for i, v in zip(table[key].tolist(), ok.tolist(), strict=True)}


def _serving_sites(ctx: RuleContext, view: AfterPlan, level: str, failing: list[str],
                   coming: pd.DataFrame) -> dict[str, dt.date | None]:
    """The coming sites (rows of ``coming``, indexed by site_id) that serve ``failing``.

    Test points name their serving site; groups are mapped by ``view.group_sites`` or,
    for the committed network, to the nearest coming site of each operator that covers
    a failing group in that network.
    """
    refs: dict[str, dt.date | None] = {}
    due_of = _due_lookup(ctx, coming)
    if level == "points":
        serving = ctx.cached(("point_sites", id(view)), lambda: _ColumnLookup(
            view.assessment.points, "point_id",
            [f"site_{op}" for op in ctx.assessment.operators if op != ANY]))
        for _pid, sites in serving(failing):
            for sid in sites:
                if isinstance(sid, str) and sid in coming.index:
                    refs[sid] = due_of(sid)
        return refs
    mapped = view.group_sites
    if len(mapped):
        gids, sids, dues = ctx.cached(("group_sites", id(view)), lambda: (
            mapped["group_id"].tolist(), mapped["site_id"].tolist(), mapped["due"].tolist()))
        wanted = set(failing)
        for gid, sid, due in zip(gids, sids, dues, strict=True):
            if gid in wanted:
                refs[str(sid)] = as_date(due)
    covered = ctx.cached(("group_sites_covered", id(view)), lambda: set(
        mapped["group_id"]) if len(mapped) else set())
    rest = [g for g in failing if g not in covered]
    if not rest or coming.empty:
        return refs
    ops = [op for op in ctx.assessment.operators if op != ANY]
    status = ctx.cached(("group_status", id(view)), lambda: _ColumnLookup(
        view.assessment.groups, "group_id", [f"status_{op}" for op in ops]))
    shapes = ctx.cached("group_shapes", lambda: ctx.study.groups.set_index("group_id").geometry)
    for gid, states in status(rest):
        if gid not in shapes.index:
            continue
        centre = shapes[gid].centroid
        for op, state in zip(ops, states, strict=True):
            if state != "covered":
                continue
            mine = ctx.cached(("coming_of", id(coming), op),
                              functools.partial(_operator_rows, coming, op))
            if mine.empty:
                continue
            sid = mine.geometry.distance(centre).idxmin()
            refs[str(sid)] = due_of(sid)
    return refs


def _operator_rows(coming: pd.DataFrame, op: str) -> pd.DataFrame:
    """The rows of ``coming`` of operator ``op``."""
    return coming[coming["operator"] == op]


class _ColumnLookup:
    """The values of some columns of a table by the id in its ``key`` column: an index
    built once, then one vectorised position lookup per list of ids (instead of a row
    lookup per id). A column the table lacks reads as None; an unknown id has no values."""

    def __init__(self, table: pd.DataFrame, key: str, columns: list[str]) -> None:
        self.index = pd.Index(table[key])
        n = len(table)
        self.columns = [table[c].to_numpy(dtype=object) if c in table
                        else np.full(n, None, dtype=object) for c in columns]

    def __call__(self, ids: list[str]) -> list[tuple[object, tuple[object, ...]]]:
        """(id, values of the columns) of each of ``ids`` found in the table, in order."""
        if not ids:
            return []
        pos = self.index.get_indexer(pd.Index(ids, dtype=object))
        return [(i, tuple(col[p] for col in self.columns))
                for i, p in zip(ids, pos.tolist(), strict=True) if p >= 0]


def _due_lookup(ctx: RuleContext, coming: pd.DataFrame
                ) -> Callable[[object], dt.date | None]:
    """site_id → due date of the coming sites (indexed by site_id), read once."""
    if not coming.index.is_unique:
        return lambda sid: as_date(coming.at[sid, "due_date"])
    dues = ctx.cached(("coming_due", id(coming)), lambda: dict(zip(
        coming.index.tolist(), coming["due_date"].tolist(), strict=True)))
    return lambda sid: as_date(dues[sid])


def _network_remedies(ctx: RuleContext, level: str, failing: list[str]
                      ) -> tuple[tuple[Remedy, ...], str]:
    """Remedies of a coverage failure and a note on what stays uncovered.

    The committed network (sites planned or being built, with their on-air dates) is
    tried first; then the network with the proposal built too. A failure is remedied
    only when that network covers every failing item.
    """
    pending = ctx.cached("pending", lambda: _pending_sites(ctx).set_index("site_id"))
    note = ""
    if ctx.committed is not None:
        still = _still(ctx, ctx.committed, level, failing)
        if not still:
            refs = _serving_sites(ctx, ctx.committed, level, failing, pending)
            dated = {ref: due for ref, due in refs.items() if due is not None}
            if refs and len(dated) == len(refs):
                return tuple(Remedy("planned_site", ref, due, bool(pending.at[ref, "overdue"]))
                             for ref, due in sorted(dated.items())), note
        elif ctx.after is None:
            note = ctx.msg("still_after_committed", n=len(still),
                           items=", ".join(still[:_MAX_LISTED]))
    if ctx.after is not None:
        still = _still(ctx, ctx.after, level, failing)
        if still:
            return (), note + ctx.msg("still_after_plan", n=len(still),
                                      items=", ".join(still[:_MAX_LISTED]))
        after_sites = ctx.after.study.sites
        coming = ctx.cached("pending_after", lambda: pending_sites_state(
            after_sites, ctx.as_of, ctx.inspection).set_index("site_id"))
        refs = _serving_sites(ctx, ctx.after, level, failing, coming)
        plan_sites = ctx.after.group_sites
        due_plan = ctx.cached(("due_plan", id(ctx.after)), lambda: max(
            (d for d in plan_sites["due"].map(as_date) if d), default=ctx.inspection)
            if len(plan_sites) else ctx.inspection)
        out = []
        for ref, due in sorted(refs.items()):
            if ref in pending.index:
                if due is None:
                    continue
                out.append(Remedy("planned_site", ref, due, bool(pending.at[ref, "overdue"])))
            else:
                out.append(Remedy("plan_site", ref, due or due_plan))
        if not any(r.kind == "plan_site" for r in out):
            # covered only once the proposal is built, its serving site not identified
            out.append(Remedy("plan_site", label(ctx.lang, "plan_sites"), due_plan))
        return tuple(out), note
    return (), note


def _measured_text(row: object) -> str:
    """The measurements that decided a point or group, in words ('' when none)."""
    text = getattr(row, "measured", "")
    return text if isinstance(text, str) else ""


def _measured_note(ctx: RuleContext, rows: pd.DataFrame, key: str, what: str,
                   covered: bool = False) -> str:
    """The measurements that decided covered or uncovered places, in one clause."""
    items = [f"{display_name(getattr(r, 'name', None), getattr(r, key), None, ctx.lang)} "
             f"({_measured_text(r)})"
             for r in _rows_of(rows, ("name", key, "measured"))]
    text = "; ".join(items[:4]) + (" …" if len(items) > 4 else "")
    return (ctx.msg("measured_note_ok", what=what, items=text) if covered
            else ctx.msg("measured_note", items=text))


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
            out.append(Finding(vid, "universal_service", FAIL, ctx.msg("us_no_committee")))
            continue
        geom = by_village[vid]
        dist = float(np.min(np.hypot(sx - geom.x, sy - geom.y))) if len(sx) else np.inf
        d = f"{dist / 1000:.1f}"
        if dist <= radius_m:
            out.append(Finding(vid, "universal_service", PASS, ctx.msg("us_pass", d=d),
                               {"distance_km": round(dist / 1000, 2)}))
        else:
            out.append(Finding(vid, "universal_service", FAIL,
                               ctx.msg("us_fail", d=d, limit=f"{radius_m / 1000:g}"),
                               {"distance_km": round(dist / 1000, 2)}))
    return out


# ------------------------------------------------------------------ grid


def _fmt_kva(v: float) -> str:
    return f"{v:.2f}" if np.isfinite(v) else "—"


def rule_transformer_capacity(ctx: RuleContext) -> list[Finding]:
    """户均配变容量: total transformer kVA / households ≥ kva_per_household_min.

    With ``kva_rule = "per_transformer"`` every single transformer must reach it instead;
    with the default ``village_average`` single transformers below it are listed as a
    note. Done works' ``kva_after`` are applied to the register first; open works that
    add kVA and are due before the inspection are the remedies when they bring the
    village to the threshold (see :mod:`coverage.capacity`).
    """
    need = ctx.config.readiness.kva_per_household_min
    rule_kind = ctx.config.readiness.kva_rule
    tr = ctx.study.transformers
    works = _works(ctx, ctx.study.grid_works)
    register = _village_rows(ctx, "transformers", tr) if tr is not None else None
    village_works = _village_rows(ctx, "grid_works", works)
    keys = _capacity_keys(ctx, tr, works)
    arrays = _register_arrays(tr)
    done_works = _village_rows(ctx, "grid_works_done_capacity", capacity.capacity_works(
        works[works["is_done"]]) if len(works) else works)
    out = []
    for vid in ctx.village_ids:
        key = keys(vid)
        if key is not None and ctx.shared is not None and key in ctx.shared:
            out.append(cast(Finding, ctx.shared[key]))
            continue
        finding = _transformer_capacity(ctx, vid, register, village_works, works, need,
                                        rule_kind, arrays, done_works)
        if key is not None and ctx.shared is not None:
            ctx.shared[key] = finding
        out.append(finding)
    return out


def _row_keys(frame: pd.DataFrame | None) -> dict[object, tuple[int, ...]] | None:
    """Per village, the content hashes of its rows of ``frame`` (table order); None when
    the table cannot be hashed."""
    if frame is None or not len(frame) or "village_id" not in frame:
        return {}
    try:
        hashes = pd.util.hash_pandas_object(frame, index=True).tolist()
    except TypeError:
        return None
    rows: dict[object, list[int]] = {}
    for vid, h in zip(frame["village_id"].tolist(), hashes, strict=True):
        rows.setdefault(vid, []).append(int(h))
    return {vid: tuple(v) for vid, v in rows.items()}


def _capacity_keys(ctx: RuleContext, register: pd.DataFrame | None, works: pd.DataFrame
                   ) -> Callable[[object], tuple[object, ...] | None]:
    """A village's key for findings of the capacity rule kept across evaluations
    (:attr:`RuleContext.shared`): everything the finding depends on (its register rows, its
    works as of the day, the rule's settings, the inspection date, the language)."""
    if ctx.shared is None:
        return lambda vid: None
    reg, wk = _row_keys(register), _row_keys(works)
    if reg is None or wk is None:
        return lambda vid: None
    r = ctx.config.readiness
    head = ("transformer_capacity", r.kva_per_household_min, r.kva_rule, ctx.inspection,
            ctx.lang,
            None if register is None else tuple(map(str, register.dtypes.items())),
            tuple(map(str, works.dtypes.items())))
    return lambda vid: (*head, vid, reg.get(vid), wk.get(vid))


@dataclass(frozen=True)
class _RegisterArrays:
    """The transformer register as arrays, with each village's row positions (table
    order), so that a village without capacity works needs no per-village frame."""

    frame: pd.DataFrame
    ids: list[object]
    kva: np.ndarray          # kVA, as float (as :func:`coverage.capacity.apply_works` reads it)
    households: np.ndarray   # the register's own dtype (integer or float)
    ratios: np.ndarray       # kVA per household of each transformer (inf without households)
    rows: dict[object, np.ndarray]


def _register_arrays(register: pd.DataFrame | None) -> _RegisterArrays | None:
    """The register as :class:`_RegisterArrays`, or None when its households are not numeric
    (then every village goes through :func:`coverage.capacity.apply_works`)."""
    if register is None or not len(register) or "village_id" not in register:
        return None
    hh = register["households"].to_numpy()
    if hh.dtype.kind not in "iuf":
        return None
    kva = register["kva"].to_numpy(float)
    rows = {vid: np.asarray(pos) for vid, pos in
            register.groupby("village_id", sort=False).indices.items()}
    return _RegisterArrays(register, register["transformer_id"].tolist(), kva, hh,
                           capacity.ratios(kva, hh), rows)


def _transformer_capacity(ctx: RuleContext, vid: str,
                          register: Callable[[object], pd.DataFrame] | None,
                          village_works: Callable[[object], pd.DataFrame],
                          works: pd.DataFrame, need: float, rule_kind: str,
                          arrays: _RegisterArrays | None = None,
                          done_works: Callable[[object], pd.DataFrame] | None = None
                          ) -> Finding:
    """The capacity finding of one village (see :func:`rule_transformer_capacity`).

    ``arrays`` and ``done_works`` (the done capacity works per village) are lookups made
    once for all villages; without them the village's rows are worked out here.
    """
    if arrays is not None and vid not in arrays.rows:
        return Finding(vid, "transformer_capacity", WARNING, ctx.msg("cap_none"))
    sub = None
    if arrays is None:
        sub = register(vid) if register is not None else pd.DataFrame()
        if sub.empty:
            return Finding(vid, "transformer_capacity", WARNING, ctx.msg("cap_none"))
    if done_works is not None:
        done = done_works(vid) if len(works) else works
    else:
        vworks = village_works(vid) if len(works) else works
        done = capacity.capacity_works(vworks[vworks["is_done"]]) if len(vworks) else vworks
    changes: list[capacity.Change] = []
    if len(done) or arrays is None:
        if sub is None:
            sub = arrays.frame.iloc[arrays.rows[vid]] if arrays is not None else pd.DataFrame()
        done = done.sort_values(["done_date", "work_id"], key=None) if len(done) else done
        reg, changes = capacity.apply_works(sub, done if len(done) else sub.iloc[:0].assign(
            work_id=[], category=[], kva_after=[]))
        ratios = capacity.per_transformer(reg)
        ids = reg["transformer_id"].tolist()
        kva_total, hh_total = capacity.totals(reg["kva"].to_numpy(float),
                                              reg["households"].to_numpy())
        n_tr = len(reg)
    else:
        # no done capacity work: the village's register rows as they are
        pos = arrays.rows[vid]
        ratios = arrays.ratios[pos]
        ids = [arrays.ids[i] for i in pos.tolist()]
        kva_total, hh_total = capacity.totals(arrays.kva[pos], arrays.households[pos])
        n_tr = len(pos)
        reg = None
    avg = capacity.per_household(kva_total, hh_total)
    is_low = ratios < need - 1e-9
    low_ids = [ids[i] for i in np.flatnonzero(is_low).tolist()]
    low_text = [ctx.msg("cap_tr", tid=tid, v=_fmt_kva(v))
                for tid, v in zip(low_ids, ratios[is_low], strict=True)]
    evidence = {"kva": round(float(kva_total), 1),
                "households": int(hh_total),
                "kva_per_household": round(avg, 3) if np.isfinite(avg) else None,
                "below": low_ids}
    if rule_kind == "per_transformer":
        ok = not low_ids
        msg = (ctx.msg("cap_pt_pass", n=n_tr, need=f"{need:.1f}",
                       low=_fmt_kva(float(np.min(ratios)))) if ok else
               ctx.msg("cap_pt_fail", n=len(low_ids), need=f"{need:.1f}",
                       detail="；".join(low_text) if ctx.lang == "zh"
                       else "; ".join(low_text)))
    else:
        ok = avg >= need - 1e-9
        msg = ctx.msg("cap_avg_pass" if ok else "cap_avg_fail", avg=_fmt_kva(avg),
                      kva=f"{kva_total:g}", hh=int(hh_total),
                      n=n_tr, need=f"{need:.1f}")
        if low_ids:
            msg += ctx.msg("cap_single_warn", need=f"{need:.1f}", detail=_listed(low_text))
    if changes:
        items = [ctx.msg("cap_applied_new", wid=c.work_id, new=f"{c.kva_after:g}") if c.new
                 else ctx.msg("cap_applied_item", wid=c.work_id, tid=c.transformer_id,
                              old=f"{c.kva_before:g}", new=f"{c.kva_after:g}")
                 + ("" if c.named else
                    (("，" if ctx.lang == "zh" else ", ")
                     + ctx.msg("weakest", tid=c.transformer_id)))
                 for c in changes]
        msg += ctx.msg("cap_applied", items=_listed(items))
        evidence["applied"] = [c.work_id for c in changes]
    if ok:
        sev = WARNING if (rule_kind == "village_average" and low_ids) else PASS
        return Finding(vid, "transformer_capacity", sev, msg, evidence)
    if reg is None:
        # the village's register rows as they are (positions of the table, in order)
        reg = arrays.frame.iloc[arrays.rows[vid]] if arrays is not None else pd.DataFrame()
    vworks = village_works(vid) if len(works) else works
    open_ = vworks[~vworks["is_done"]] if len(vworks) else vworks
    used, after = capacity.remedy_works(reg, open_, need, rule_kind, ctx.inspection)
    remedies: tuple[Remedy, ...] = ()
    if used and after is not None:
        sel = open_[open_["work_id"].astype(str).isin(used)]
        remedies = _work_remedies(sel, "grid_work")
        msg += ctx.msg("cap_after", avg=_fmt_kva(capacity.average(after)))
    elif after is not None:
        msg += ctx.msg("cap_not_enough", avg=_fmt_kva(capacity.average(after)))
    line = open_[~open_.index.isin(capacity.capacity_works(open_).index)] if len(
        open_) else open_
    if len(line):
        msg += ctx.msg("cap_no_remedy_line", items=", ".join(line["work_id"].astype(str)))
    return Finding(vid, "transformer_capacity", FAIL, msg, evidence, remedies)


def _works_rule(ctx: RuleContext, frame: pd.DataFrame | None, rule: str, kind: str
                ) -> list[Finding]:
    works = _works(ctx, frame)
    open_works = works[~works["is_done"]] if len(works) else works
    village_open = _village_rows(ctx, rule + "_open", open_works)
    totals = (works.groupby("village_id", sort=False).size().to_dict()
              if len(works) and "village_id" in works else {})
    out = []
    for vid in ctx.village_ids:
        sub = village_open(vid) if len(open_works) else open_works
        total = int(totals.get(vid, 0))
        if sub.empty:
            out.append(Finding(vid, rule, PASS, ctx.msg("works_done", n=total) if total
                               else ctx.msg("works_none"), {"items": total}))
            continue
        late = sub[~sub["on_time"]]
        if late.empty:
            due = max(sub["due_date"])
            out.append(Finding(vid, rule, FAIL,
                               ctx.msg("works_open", n=len(sub), due=due.isoformat()),
                               {"open": sub["work_id"].tolist()},
                               _work_remedies(sub, kind)))
        else:
            detail = [ctx.msg("work_due", wid=wid,
                              due=due.isoformat() if due else ctx.msg("unscheduled"))
                      for wid, due in zip(late["work_id"].tolist(),
                                          [as_date(d) for d in late["due_date"]], strict=True)]
            out.append(Finding(vid, rule, FAIL,
                               ctx.msg("works_late", n=len(late),
                                       date=ctx.inspection.isoformat(),
                                       detail=_listed(detail)),
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
    village_hazards = _village_rows(ctx, "hazards", hz) if hz is not None else None
    out = []
    for vid in ctx.village_ids:
        sub = village_hazards(vid) if village_hazards is not None else pd.DataFrame()
        open_ = sub[~sub["fixed"].astype(bool)] if not sub.empty else sub
        if open_.empty:
            msg = ctx.msg("hz_fixed", n=len(sub)) if len(sub) else ctx.msg("hz_none")
            out.append(Finding(vid, "no_open_hazards", PASS, msg, {"found": len(sub)}))
        else:
            out.append(Finding(vid, "no_open_hazards", FAIL,
                               ctx.msg("hz_open", n=len(open_),
                                       ids=", ".join(open_["hazard_id"].astype(str))),
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
    mobile = _works(ctx, ctx.study.mobile_works)
    if "fiber" not in vill:
        return [Finding(v, "fiber", WARNING, ctx.msg("fiber_missing")) for v in ctx.village_ids]
    if "fiber_required" in vill:
        required = vill["fiber_required"].fillna(False).astype(bool)
    elif "poor" in vill:
        required = vill["poor"].fillna(False).astype(bool)
    else:
        required = pd.Series(True, index=vill.index)
    village_mobile = _village_rows(ctx, "mobile_works", mobile)
    out = []
    for vid, need, has in zip(vill["village_id"], required, vill["fiber"].fillna(False),
                              strict=True):
        if not need:
            out.append(Finding(vid, "fiber", PASS, ctx.msg("fiber_not_required")))
        elif bool(has):
            out.append(Finding(vid, "fiber", PASS, ctx.msg("fiber_ok")))
        else:
            vw = village_mobile(vid)
            sel = vw[~vw["is_done"] & vw["on_time"]] if len(mobile) else mobile
            if len(sel) and "category" in sel:
                sel = sel[sel["category"].isin(FIBER_CATEGORIES)]
            out.append(Finding(vid, "fiber", FAIL, ctx.msg("fiber_fail"), {},
                               _work_remedies(sel, "mobile_work") if len(sel) else ()))
    return out


# ------------------------------------------------------------------ overdue


def overdue_items(study: Study, config: Config) -> pd.DataFrame:
    """Every item due before the as-of date and not done.

    Returns
    -------
    DataFrame
        kind (``grid_work``, ``mobile_work``, ``planned_site``), ref, village_id, who
        (owner or operator), due (date), days_late (d), sorted by village and due date.
    """
    as_of = resolve_as_of(config.readiness.as_of)
    inspection = config.readiness.inspection_date
    rows = []
    for kind, frame, who in (("grid_work", study.grid_works, "owner"),
                             ("mobile_work", study.mobile_works, "operator")):
        w = works_state(frame, as_of, inspection)
        if not len(w):
            continue
        late = w[w["overdue"]]
        owners = late[who].tolist() if who in late else [""] * len(late)
        for wid, vid, by, due, days, on_time in zip(
                late["work_id"].tolist(), late["village_id"].tolist(), owners,
                late["due_date"].tolist(), late["days_late"].tolist(), late["on_time"].tolist(),
                strict=True):
            rows.append({"kind": kind, "ref": str(wid), "village_id": str(vid),
                         "who": str(by or ""), "due": due,
                         "days_late": int(days), "on_time": bool(on_time)})
    pending = pending_sites_state(study.sites, as_of, inspection)
    pending = pending[pending["overdue"]]
    if len(pending):
        if "village_id" not in pending:
            import geopandas as gpd

            villages = study.villages[["village_id", "geometry"]]
            pending = gpd.sjoin(pending, villages, how="left", predicate="within")
        for sid, vid, op, due, days, on_time in zip(
                pending["site_id"].tolist(), pending["village_id"].tolist(),
                pending["operator"].tolist(), pending["due_date"].tolist(),
                pending["days_late"].tolist(), pending["on_time"].tolist(), strict=True):
            rows.append({"kind": "planned_site", "ref": str(sid),
                         "village_id": "" if _blank(vid) else str(vid),
                         "who": str(op), "due": due,
                         "days_late": int(days), "on_time": bool(on_time)})
    cols = ["kind", "ref", "village_id", "who", "due", "days_late", "on_time"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.sort_values(["village_id", "due", "ref"]).reset_index(drop=True)


def rule_overdue(ctx: RuleContext) -> list[Finding]:
    """Items due before the as-of date and not done (逾期), listed per village (a warning)."""
    items = ctx.cached("overdue", lambda: overdue_items(ctx.study, ctx.config))
    village_items = _village_rows(ctx, "overdue", items)
    asof = ctx.as_of.isoformat()
    out = []
    for vid in ctx.village_ids:
        sub = village_items(vid)
        if sub.empty:
            out.append(Finding(vid, "overdue", PASS, ctx.msg("overdue_none", asof=asof)))
            continue
        text = [ctx.msg("overdue_item", ref=ref, who=who, due=due.isoformat(), days=days)
                for ref, who, due, days in zip(sub["ref"].tolist(), sub["who"].tolist(),
                                               sub["due"].tolist(), sub["days_late"].tolist(),
                                               strict=True)]
        out.append(Finding(vid, "overdue", WARNING,
                           ctx.msg("overdue_list", asof=asof, n=len(sub), items=_listed(text)),
                           {"overdue": sub["ref"].tolist()}))
    return out


MIN_GROUP_PLACES = 3
"""A group's measured-minus-predicted median is judged from this many measured places on."""


def _rows_with(table: pd.DataFrame, columns: list[str],
               keep: Callable[[pd.Series], pd.Series]) -> pd.DataFrame:
    """The rows of ``table`` where ``keep`` holds for at least one of ``columns`` (those it
    has), in table order: the only rows a rule reading those columns has to visit."""
    present = [c for c in columns if c in table.columns]
    if not present:
        return table.iloc[:0]
    mask = np.zeros(len(table), dtype=bool)
    for c in present:
        mask |= keep(table[c]).to_numpy(dtype=bool)
    return table[mask]


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
        return [Finding(v, "measurements_agree", PASS, ctx.msg("meas_none"))
                for v in ctx.village_ids]
    issues: dict[str, list[str]] = {}
    where: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    points = _rows_with(a.points, [f"measured_{op}" for op in ops], lambda c: c.notna())
    for r, vid in zip(points.itertuples(), points["village_id"].tolist(), strict=True):
        for op in ops:
            m = getattr(r, f"measured_{op}", np.nan)
            if pd.isna(m):
                continue
            counts[vid] = counts.get(vid, 0) + 1
            p = getattr(r, f"predicted_{op}")
            if pd.isna(p) or abs(m - p) > margin:
                pred = ctx.msg("no_signal") if pd.isna(p) else f"{format_dbm(p)} dBm"
                diff = "" if pd.isna(p) else f", {m - p:+.1f} dB"
                issues.setdefault(vid, []).append(ctx.msg(
                    "meas_point", name=display_name(r.name, r.point_id, r.kind, ctx.lang),
                    op=op, m=format_dbm(m), p=pred, diff=diff))
                where.setdefault(vid, []).append(str(r.point_id))
    # a share that is not 0 counts (NaN too, as ``not share`` is false for it)
    groups = _rows_with(a.groups, [f"measured_share_{op}" for op in ops], lambda c: c != 0)
    for r, vid in zip(groups.itertuples(), groups["village_id"].tolist(), strict=True):
        for op in ops:
            share = getattr(r, f"measured_share_{op}", 0.0)
            if not share:
                continue
            counts[vid] = counts.get(vid, 0) + 1
            d = getattr(r, f"measured_delta_{op}", np.nan)
            places = int(getattr(r, f"measured_places_{op}", 0))
            if places >= MIN_GROUP_PLACES and pd.notna(d) and abs(d) > margin:
                issues.setdefault(vid, []).append(ctx.msg(
                    "meas_group", name=display_name(r.name, r.group_id, None, ctx.lang), op=op,
                    d=f"{abs(d):.1f}", dir=ctx.msg("above" if d > 0 else "below"),
                    places=places))
                where.setdefault(vid, []).append(str(r.group_id))
    out = []
    for vid in ctx.village_ids:
        if vid in issues:
            items = issues[vid]
            out.append(Finding(
                vid, "measurements_agree", WARNING,
                ctx.msg("meas_differ", margin=f"{margin:g}", n=len(items),
                        items=_listed(items)),
                {"places": where[vid], "margin_db": margin}))
        elif counts.get(vid):
            out.append(Finding(vid, "measurements_agree", PASS,
                               ctx.msg("meas_agree", margin=f"{margin:g}"),
                               {"margin_db": margin}))
        else:
            out.append(Finding(vid, "measurements_agree", PASS, ctx.msg("meas_none_recent")))
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
    "overdue": rule_overdue,
}


def remedy_text(remedies: tuple[Remedy, ...], lang: str) -> str:
    """The remedies of a finding in words (each with its kind, due date and overdue mark)."""
    return ("；" if lang == "zh" else "; ").join(
        message(lang, "remedy_overdue" if r.overdue else "remedy_item", ref=r.ref,
                kind=message(lang, f"kind_{r.kind}"), due=r.due.isoformat())
        for r in remedies)


def _cured(f: Finding, inspection: dt.date, committed_only: bool) -> bool:
    if not f.remedies:
        return False
    if committed_only and not all(r.committed for r in f.remedies):
        return False
    return all(r.due <= inspection for r in f.remedies)


def verdict(findings: list[Finding], inspection: dt.date, lang: str = "zh"
            ) -> tuple[str, list[str]]:
    """The verdict of one village and its reasons in plain words.

    Every failure is named; a failure with a remedy says which (committed or proposed),
    and an overdue remedy carries its warning.
    """
    fails = [f for f in findings if f.severity == FAIL]
    if not fails:
        return READY, [message(lang, "all_pass")]
    reasons = []
    for f in fails:
        sep = "：" if lang == "zh" else ": "
        head = f"{label(lang, 'rule_' + f.rule)}{sep}{f.message}"
        if _cured(f, inspection, committed_only=True):
            tail = message(lang, "scheduled", items=remedy_text(f.remedies, lang))
        elif _cured(f, inspection, committed_only=False):
            tail = message(lang, "proposed", items=remedy_text(f.remedies, lang))
        else:
            tail = message(lang, "no_remedy")
        if any(r.overdue for r in f.remedies):
            tail += message(lang, "overdue_warning")
        reasons.append(f"{head} — {tail}")
    if all(_cured(f, inspection, True) for f in fails):
        return READY_AFTER_WORKS, reasons
    if all(_cured(f, inspection, False) for f in fails):
        return READY_IF_PLAN_BUILT, reasons
    return NOT_READY, reasons


def evaluate(study: Study, assessment: Assessment, *, config: Config | None = None,
             after: AfterPlan | None = None, committed: AfterPlan | None = None,
             shared: dict[object, object] | None = None) -> Readiness:
    """Apply every configured rule to every village and give a verdict per village.

    Parameters
    ----------
    study : Study
    assessment : Assessment
    config : Config, optional
        Defaults to ``study.config``.
    after : AfterPlan, optional
        The network with the committed sites and the optimiser's proposal on air. A
        coverage failure it cures makes the village at best ``READY_IF_PLAN_BUILT``.
    committed : AfterPlan, optional
        The network with the committed sites (planned / building) on air. A coverage
        failure it cures, by on-air dates before the inspection, is a committed remedy.
        Without either view coverage failures have no remedy.
    shared : dict, optional
        Kept by the caller across evaluations of one study on several days (a progress
        run): findings whose inputs are the same on another day are taken from it instead
        of being worked out again (the transformer-capacity rule). The result is the same.

    Returns
    -------
    Readiness

    Raises
    ------
    ConfigError
        A rule named in ``readiness.rules`` does not exist.
    """
    config = config or study.config
    lang = config.language
    rules = list(config.readiness.rules)
    if config.readiness.universal_service_rule and "universal_service" not in rules:
        rules.append("universal_service")
    if assessment.evidence is not None and "measurements_agree" not in rules:
        rules.append("measurements_agree")
    if "overdue" not in rules:
        rules.append("overdue")
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ConfigError(f"readiness.rules names unknown rule(s) {unknown}; Fix: use any of "
                          f"{sorted(RULES)}")
    ctx = RuleContext(study, assessment, config, after, committed, shared=shared)
    findings: list[Finding] = []
    for name in rules:
        findings.extend(RULES[name](ctx))
    by_village: dict[str, list[Finding]] = {}
    for f in findings:
        by_village.setdefault(f.village_id, []).append(f)
    rows = []
    for v in study.villages.itertuples():
        fs = by_village.get(v.village_id, [])
        verdict_, reasons = verdict(fs, config.readiness.inspection_date, lang)
        rows.append({"village_id": v.village_id, "name": v.name, "town": v.town,
                     "verdict": verdict_, "reasons": reasons,
                     "n_fail": sum(f.severity == FAIL for f in fs),
                     "n_warning": sum(f.severity == WARNING for f in fs),
                     "n_overdue": sum(len(f.evidence.get("overdue", ())) for f in fs
                                      if f.rule == "overdue")})
    villages = pd.DataFrame(rows)
    table = pd.DataFrame([{
        "village_id": f.village_id, "rule": f.rule, "severity": f.severity,
        "message": f.message, "evidence": f.evidence,
        "remedies": remedy_text(f.remedies, lang),
    } for f in findings])
    counts = {k: int((villages["verdict"] == k).sum()) for k in VERDICTS}
    return Readiness(findings=table, villages=villages, counts=counts,
                     as_of=ctx.as_of,
                     overdue=ctx.cached("overdue", lambda: overdue_items(study, config)))
