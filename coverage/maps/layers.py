"""Map layers as data: every layer a planner toggles, with colours, popups and legends.

Each builder takes result objects (Study, Assessment, Readiness, SignalGrids, a plan)
and a :class:`~coverage.maps.core.MapFrame`, and returns :class:`VectorLayer` /
:class:`ImageLayer` objects plus the legend sections that explain their colours.
Every user string is escaped where it is put into a popup or a tooltip.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, Polygon

from coverage.asof import pending_sites_state, resolve_as_of, works_state
from coverage.maps.core import (
    ImageLayer,
    LegendItem,
    LegendSection,
    MapFrame,
    Popup,
    VectorLayer,
    color,
    esc,
    fmt,
    grid_table,
    pct,
    popup_table,
)
from coverage.maps.labels import labels, operator_name
from coverage.maps.raster import (
    RSRP_COLORS,
    mercator_overlay,
    rsrp_class_labels,
    to_mercator_stack,
)

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from coverage.assess import Assessment
    from coverage.config import Config
    from coverage.readiness import Readiness
    from coverage.signal import Signal
    from coverage.study import Study

STATUS_COLORS = {"covered": "#009e73", "partial": "#e69f00", "uncovered": "#d55e00"}
"""Group status in Okabe–Ito colours (colour-blind safe; none used by the RSRP raster)."""
POINT_COLORS = {True: STATUS_COLORS["covered"], False: STATUS_COLORS["uncovered"]}
POINT_KIND_COLORS = {"committee": "#6a1b9a", "school": "#f9a825", "clinic": "#00897b",
                     "settlement": "#5d4037"}
WORK_COLORS = {"planned": "#9e9e9e", "in_progress": "#ff9800", "done": "#2e7d32",
               "overdue": "#6a1b9a", "late_inspection": "#ffd180"}
OVERDUE_OUTLINE = "#d50000"
LATE_OUTLINE = "#e65100"
"""Open works due after the inspection: light orange with a dashed dark-orange outline."""
WORK_STATUSES = ("planned", "in_progress", "done")
VERDICT_COLORS = {"READY": "#2e7d32", "READY_AFTER_WORKS": "#f9a825",
                  "READY_IF_PLAN_BUILT": "#7b61ff", "NOT_READY": "#c62828"}
VERDICTS = ("NOT_READY", "READY_IF_PLAN_BUILT", "READY_AFTER_WORKS", "READY")
HAZARD_COLORS = {"open": "#c62828", "fixed": "#757575"}
KVA_COLORS = ("#c62828", "#f9a825", "#2e7d32")
"""Transformer classes: < 75 % of the target, 75–100 %, ≥ target kVA per household."""
BACKHAUL_COLORS = {"fiber": "#ef6c00", "microwave": "#6a1b9a", "other": "#616161"}
SHARED_TOWER_COLOR = "#000000"
WEDGE_RADIUS_M = 350.0
"""Drawn length of a sector wedge (m); a symbol, not a coverage radius."""

Lab = Mapping[str, str]


# --------------------------------------------------------------------------- helpers


def _rows_by_id(table: pd.DataFrame, id_column: str) -> dict[str, dict[str, object]]:
    """Each row of ``table`` as a dict of its cells (Python scalars, as a row of a table of
    mixed columns gives them), by the text of its ``id_column``; the first row of an id
    that repeats."""
    ids = table[id_column].astype(str).tolist()
    records = cast(list[dict[str, object]], table.drop(columns=id_column).to_dict("records"))
    rows: dict[str, dict[str, object]] = {}
    for key, record in zip(ids, records, strict=True):
        rows.setdefault(key, record)
    return rows


def _text(value: object) -> str:
    """A display string for any cell ('' for missing)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return "" if pd.isna(value) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is pd.NaT:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    if value is pd.NA or (isinstance(value, (np.floating, np.complexfloating, np.datetime64,
                                              np.timedelta64)) and pd.isna(value)):
        return ""
    return str(value)


def _get(row: Mapping[str, object], *names: str) -> object:
    """The first present, non-missing value among columns ``names`` (None when none)."""
    for name in names:
        if name in row:
            value = row[name]
            if _text(value) != "":
                return value
    return None


def _status_label(lab: Lab, status: object) -> str:
    text = _text(status)
    return lab.get(text, text)


def village_names(study: Study) -> dict[str, str]:
    """village_id → village name."""
    vill = study.villages
    return dict(zip(vill["village_id"].astype(str), vill["name"].map(_text), strict=True))


def village_anchors(study: Study) -> dict[str, Point]:
    """village_id → a point inside the village (working CRS)."""
    vill = study.villages
    reps = vill.geometry.representative_point()
    return dict(zip(vill["village_id"].astype(str), reps, strict=True))


def locate(study: Study, table: pd.DataFrame, ring: int = 0) -> gpd.GeoSeries:
    """Working-CRS points for table rows: their own geometry, else near their village.

    Rows without geometry are placed on a small spiral (120 m steps) around their
    village's representative point, in id order, so that several items of one village
    stay apart and clickable; ``ring`` turns the spiral so that different kinds of item
    do not sit on top of each other. Rows with neither get an empty geometry.
    """
    crs = study.villages.crs
    own = None
    if isinstance(table, gpd.GeoDataFrame) and table.geometry.name in table:
        own = table.geometry
        if table.crs is not None and crs is not None and not table.crs.equals(crs):
            own = own.to_crs(crs)
    anchors = village_anchors(study)
    counters: dict[str, int] = {}
    out = []
    for i, (_, row) in enumerate(table.iterrows()):
        geom = None if own is None else own.iloc[i]
        if geom is not None and not shapely.is_empty(geom):
            out.append(geom if geom.geom_type == "Point" else geom.representative_point())
            continue
        vid = _text(row.get("village_id"))
        anchor = anchors.get(vid)
        if anchor is None:
            out.append(Point())
            continue
        k = counters.get(vid, 0) + 1
        counters[vid] = k
        angle = math.radians(137.508 * k + 40.0 * ring)
        radius = 120.0 * math.sqrt(k + 0.5 * ring)
        out.append(Point(anchor.x + radius * math.sin(angle), anchor.y + radius * math.cos(angle)))
    return gpd.GeoSeries(out, index=table.index, crs=crs)


def _records(table: pd.DataFrame) -> list[dict]:
    cols = [c for c in table.columns if c != "geometry"]
    return [dict(zip(cols, row, strict=True)) for row in table[cols].itertuples(index=False)]


def _lonlat_points(frame: MapFrame, geoms: gpd.GeoSeries) -> list[BaseGeometry | None]:
    return frame.lonlat(geoms, simplify=False)


# --------------------------------------------------------------------------- polygons


VILLAGE_LINE = "#333333"


def villages_legend(lab: Lab, key: str = "villages") -> LegendSection:
    """The legend entry of the village boundaries."""
    return LegendSection(lab["villages"], (LegendItem(lab["village"], VILLAGE_LINE, "line"),),
                         (key,))


def villages_layer(study: Study, frame: MapFrame, lab: Lab, show: bool = True,
                   key: str = "villages", *,
                   facts: Mapping[str, Mapping[str, str]] | None = None) -> VectorLayer:
    """Administrative village boundaries (outline only) with name and town, and
    ``facts`` (village_id → popup rows, e.g. :func:`coverage.maps.gridfacts.grid_facts`)."""
    vill = study.villages
    layer = VectorLayer(key, lab["villages"], show=show)
    style = {"color": VILLAGE_LINE, "weight": 1.2, "fill": False, "opacity": 0.9}
    households = vill["households"] if "households" in vill else pd.Series(None, vill.index)
    for geom, vid, name, town, hh in zip(frame.lonlat(vill.geometry), vill["village_id"],
                                         vill["name"], vill["town"], households, strict=True):
        rows = {lab["town"]: _text(town), lab["village_id"]: _text(vid)}
        if _text(hh):
            rows[lab["households"]] = _text(hh)
        if facts:
            rows.update(facts.get(_text(vid), {}))
        layer.add(geom, vid, style, popup=Popup(_text(name), tuple(rows.items())),
                  tooltip=f"{esc(_text(name))} · {esc(_text(town))}")
    return layer


def planned_cover(plan: gpd.GeoDataFrame | None, config: Config) -> dict[str, str]:
    """group_id → the planned sites that will cover it (``C002（中国联通）``), from the
    plan's ``groups`` column (:func:`coverage.output.plan_tables.plan_layers`)."""
    if plan is None or len(plan) == 0 or "groups" not in plan:
        return {}
    out: dict[str, list[str]] = {}
    for rec in _records(plan):
        sid = _text(_get(rec, "site_id", "tower_id", "candidate_id", "id"))
        ops = "+".join(operator_name(config, o) for o in _operators_of(rec))
        words = f"{sid}（{ops}）" if config.language == "zh" else f"{sid} ({ops})"
        for gid in _text(rec.get("groups")).split(";"):
            if gid:
                out.setdefault(gid, []).append(words)
    return {g: ("、" if config.language == "zh" else ", ").join(v) for g, v in out.items()}


def _claim_of(study: Study) -> dict[str, str]:
    """site_id → the id of the claim that commits it (claims not withdrawn).

    A claim naming a site of the sites table commits that site; any other claim adds a
    site whose id starts with the claim's id (``claim_id:OP:BAND``,
    :func:`coverage.claims.with_claim_sites`). Of several claims of one site, the latest
    claimed wins.
    """
    claims = study.claims
    if claims is None or claims.empty or "claim_id" not in claims:
        return {}
    live = claims[claims["status"].astype(str) != "withdrawn"] if "status" in claims \
        else claims
    if "claimed_on" in live:
        live = live.assign(_day=live["claimed_on"].map(_text)).sort_values(
            ["_day", "claim_id"], kind="stable")
    out: dict[str, str] = {}
    ids = live["claim_id"].map(_text).tolist()
    named = live["site_id"].map(_text).tolist() if "site_id" in live else [""] * len(ids)
    for cid, sid in zip(ids, named, strict=True):
        out[sid or cid] = cid
    return out


def claimed_cover(study: Study, assessment: Assessment,
                  committed_serving: pd.DataFrame | None) -> dict[str, str]:
    """group_id → the claimed, planned or building sites that will cover it.

    For each group not covered today (any operator), the sites still to come (status
    planned or building on the as-of date) among the group's serving sites once every
    committed site is on air, as ``CU-TW109-FDD900（中国联通，认领RL2020-004，计划开通
    2020-10-07，逾期5天）``: operator, the claim (when a claim commits the site), the
    promised on-air date, and the days late when that date lies before the as-of date.

    Parameters
    ----------
    study : Study
        The run's study (its sites carry the claims' status and on-air dates).
    assessment : Assessment
        Today's assessment (which groups are covered now).
    committed_serving : DataFrame or None
        :func:`coverage.assess.group_serving_sites` of the committed network.
    """
    if committed_serving is None or committed_serving.empty:
        return {}
    cfg = study.config
    zh = cfg.language == "zh"
    lab = labels(cfg.language)
    pending = pending_sites_state(study.sites, resolve_as_of(cfg.readiness.as_of),
                                  cfg.readiness.inspection_date)
    if pending.empty:
        return {}
    claim_of = _claim_of(study)
    words: dict[str, str] = {}
    for sid, op, due, late in zip(pending["site_id"].map(_text), pending["operator"].map(_text),
                                  pending["due_date"], pending["days_late"], strict=True):
        parts = [operator_name(cfg, op)]
        claim = claim_of.get(sid) or claim_of.get(sid.split(":")[0], "")
        if claim:
            parts.append(f"{lab['claim_short']}{claim}" if zh else f"{lab['claim_short']} {claim}")
        if due is not None:
            parts.append(f"{lab['due_on_air']}{due.isoformat()}" if zh
                         else f"{lab['due_on_air']} {due.isoformat()}")
        if late:
            parts.append(lab["days_late"].format(days=int(late)))
        words[sid] = f"{sid}（{'，'.join(parts)}）" if zh else f"{sid} ({', '.join(parts)})"
    today = assessment.groups.set_index("group_id")["status_ANY"].map(_text) \
        if "status_ANY" in assessment.groups else pd.Series(dtype=object)
    cols = [c for c in committed_serving.columns if c.startswith("sites_")]
    out: dict[str, str] = {}
    for rec in _records(committed_serving):
        gid = _text(rec["group_id"])
        if today.get(gid, "uncovered") == "covered":
            continue
        found = [words[s] for c in cols for s in _text(rec.get(c)).split(";") if s in words]
        if found:
            out[gid] = ("、" if zh else "; ").join(dict.fromkeys(found))
    return out


def groups_layer(study: Study, assessment: Assessment, frame: MapFrame, lab: Lab,
                 config: Config, show: bool = True, *, serving: pd.DataFrame | None = None,
                 planned: Mapping[str, str] | None = None,
                 claimed: Mapping[str, str] | None = None
                 ) -> tuple[VectorLayer, LegendSection]:
    """Village groups coloured covered / partial / uncovered (any operator), with shares.

    The popup gives the village, households, and per operator the share, median and 10th
    percentile RSRP, status and (``serving``: :func:`coverage.assess.group_serving_sites`)
    the sites that cover it; ``planned`` (:func:`planned_cover`) adds the planned site
    that will cover the group, ``claimed`` (:func:`claimed_cover`) the claimed or building
    one. The popup travels as data (:class:`~coverage.maps.core.Popup`) and is built in the
    page when opened.
    """
    groups = study.groups
    # each group's row as a dict, read once (a pandas row per group was most of the time)
    table = _rows_by_id(assessment.groups, "group_id")
    ops = [op for op in assessment.operators]
    serve = None
    if serving is not None:
        by_group = serving.set_index("group_id")
        serve = {f"sites_{op}": (by_group[f"sites_{op}"].to_dict()
                                 if f"sites_{op}" in by_group.columns else {}) for op in ops}
    planned = planned or {}
    claimed = claimed or {}
    names = village_names(study)
    layer = VectorLayer("groups", lab["groups"], show=show)
    geoms = frame.lonlat(groups.geometry)
    for geom, gid in zip(geoms, groups["group_id"].astype(str), strict=True):
        row = table.get(gid)
        if row is None:
            continue
        status = _text(row.get("status_ANY")) or "uncovered"
        fill = STATUS_COLORS.get(status, "#9e9e9e")
        rows = {
            lab["village"]: names.get(_text(row["village_id"]), _text(row["village_id"])),
            lab["households"]: _text(row["households"]),
            lab["status"]: _status_label(lab, status),
            lab["required"]: lab["yes"] if bool(row.get("required", True)) else lab["no"],
        }
        if gid in claimed:
            rows[lab["claimed_cover"]] = claimed[gid]
        if gid in planned:
            rows[lab["will_cover"]] = planned[gid]
        head = [lab["operator"], lab["share"], lab["median"], lab["p10"], lab["status"]]
        cells = [[operator_name(config, op), pct(row.get(f"share_{op}")),
                  fmt(row.get(f"median_{op}"), 1) or lab["no_signal"],
                  fmt(row.get(f"p10_{op}"), 1) or lab["no_signal"],
                  _status_label(lab, row.get(f"status_{op}"))] for op in ops]
        if serve is not None:
            head.append(lab["serving_sites"])
            for op, line in zip(ops, cells, strict=True):
                sites = _text(serve[f"sites_{op}"].get(gid, ""))
                line.append(sites.replace(";", ", "))
        # stored as data, built in the page when opened (most of the page's weight else)
        popup = Popup(_text(row["name"]), tuple(rows.items()), tuple(head),
                      tuple(tuple(line) for line in cells))
        tooltip = (f"{esc(_text(row['name']))} · {esc(rows[lab['village']])}: "
                   f"{esc(_status_label(lab, status))} ({esc(pct(row.get('share_ANY')))})")
        layer.add(geom, gid, {"color": "#555555", "weight": 0.6, "fillColor": fill,
                              "fillOpacity": 0.35}, popup=popup, tooltip=tooltip,
                  status=status)
    legend = LegendSection(lab["groups"], tuple(
        LegendItem(lab[s], STATUS_COLORS[s]) for s in ("covered", "partial", "uncovered")),
        ("groups",))
    return layer, legend


# --------------------------------------------------------------------------- points


def points_layer(study: Study, assessment: Assessment, frame: MapFrame, lab: Lab, config: Config,
                 show: bool = False) -> tuple[VectorLayer, LegendSection]:
    """Test points coloured by whether any operator covers them; RSRP per operator."""
    pts = study.points
    table = _rows_by_id(assessment.points, "point_id")
    ops = list(assessment.operators)
    names = village_names(study)
    layer = VectorLayer("points", lab["points"], show=show)
    for geom, pid in zip(_lonlat_points(frame, pts.geometry), pts["point_id"].astype(str),
                         strict=True):
        row = table.get(pid)
        if row is None:
            continue
        covered = bool(row.get("covered_ANY", False))
        kind = _text(row.get("kind"))
        name = _text(row.get("name")) or pid
        rows = {lab["kind"]: lab.get(kind, kind),
                lab["village"]: names.get(_text(row.get("village_id")), ""),
                lab["group"]: _text(row.get("group_id")),
                lab["status"]: lab["point_covered"] if covered else lab["point_uncovered"]}
        per_op = tuple((operator_name(config, op),
                        fmt(row.get(f"rsrp_{op}"), 1) or lab["no_signal"],
                        lab["point_covered"] if bool(row.get(f"covered_{op}", False))
                        else lab["point_uncovered"]) for op in ops)
        style = {"radius": 5, "color": POINT_KIND_COLORS.get(kind, "#000000"), "weight": 2,
                 "fillColor": POINT_COLORS[covered], "fillOpacity": 0.95}
        popup = Popup(name, tuple(rows.items()),
                      (lab["operator"], lab["rsrp"], lab["status"]), per_op)
        layer.add(geom, pid, style, marker="circle", popup=popup,
                  tooltip=f"{esc(lab.get(kind, kind))}: {esc(name)}", covered=covered)
    legend = LegendSection(lab["points"], (
        LegendItem(lab["point_covered"], POINT_COLORS[True], "circle"),
        LegendItem(lab["point_uncovered"], POINT_COLORS[False], "circle"),
        *(LegendItem(lab[k], "#ffffff", "ring", outline=c) for k, c in
          POINT_KIND_COLORS.items())), ("points",))
    return layer, legend


def _wedge(x: float, y: float, azimuth_deg: float, beamwidth_deg: float, radius_m: float
           ) -> Polygon:
    """A sector wedge (working-CRS metres), azimuth clockwise from north."""
    angles = np.radians(np.linspace(azimuth_deg - beamwidth_deg / 2,
                                    azimuth_deg + beamwidth_deg / 2, 9))
    ring = [(x, y), *zip(x + radius_m * np.sin(angles), y + radius_m * np.cos(angles),
                         strict=True), (x, y)]
    return Polygon(ring)


def _azimuths(rec: Mapping[str, object]) -> tuple[float, ...]:
    """A site's sector azimuths (degrees); empty for omni or when not given."""
    value = rec.get("azimuths")
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(float(a) for a in value)
    return ()


def shared_towers(sites: pd.DataFrame) -> dict[str, list[str]]:
    """tower_id → sorted operators, for towers with more than one operator."""
    if sites.empty or "tower_id" not in sites:
        return {}
    ops = sites.groupby(sites["tower_id"].astype(str))["operator"].agg(
        lambda s: sorted(set(map(str, s))))
    return {str(t): o for t, o in ops.items() if len(o) > 1}


def shared_tower_popups(sites: pd.DataFrame, shared: Mapping[str, list[str]], lab: Lab,
                        config: Config) -> dict[str, Popup]:
    """tower_id → one popup listing every tenant of a shared tower (operator, site, band,
    height, azimuths, status, on-air date), the same whichever tenant's marker is clicked."""
    if not shared:
        return {}
    order = {op: i for i, op in enumerate(config.operators)}
    recs = [r for r in _records(sites)
            if (_text(r.get("tower_id")) or _text(r["site_id"])) in shared]
    recs.sort(key=lambda r: (order.get(_text(r.get("operator")), 99), _text(r["site_id"])))
    out: dict[str, Popup] = {}
    for tower, tenants in shared.items():
        rows = [[operator_name(config, _text(r.get("operator"))), _text(r["site_id"]),
                 _text(r.get("band")), fmt(r.get("height_m"), 0),
                 "; ".join(f"{float(a):g}" for a in _azimuths(r)) or lab["omni"],
                 _status_label(lab, _text(r.get("status")) or "on_air"),
                 _text(r.get("on_air_date"))]
                for r in recs if (_text(r.get("tower_id")) or _text(r["site_id"])) == tower]
        out[tower] = Popup(
            f"{lab['shared']} {tower}",
            ((lab["tenants"], ", ".join(operator_name(config, t) for t in tenants)),),
            (lab["operator"], lab["site"], lab["band"], lab["height"], lab["azimuths"],
             lab["status"], lab["on_air"]), tuple(tuple(r) for r in rows))
    return out


def sites_layers(study: Study, frame: MapFrame, lab: Lab, config: Config, show: bool = True
                 ) -> tuple[list[VectorLayer], list[LegendSection]]:
    """Existing sites per operator (operator colour) with sector wedges; shared towers ringed.

    Planned or building sites are drawn with a dashed outline and a lighter fill; those
    whose on-air date has passed on the as-of date (逾期) get the overdue outline and the
    days late in their popup.
    """
    sites = study.sites
    late = pending_sites_state(sites, resolve_as_of(config.readiness.as_of),
                               config.readiness.inspection_date)
    days_late = {str(i): int(d) for i, d, o in zip(late["site_id"].tolist(),
                                                   late["days_late"].tolist(),
                                                   late["overdue"].tolist(), strict=True) if o}
    shared = shared_towers(sites)
    tower_popups = shared_tower_popups(sites, shared, lab, config)
    layers: list[VectorLayer] = []
    items: list[LegendItem] = []
    keys: list[str] = []
    crs = sites.crs
    for op, profile in config.operators.items():
        sub = sites[sites["operator"] == op]
        key = f"sites_{op}"
        name = operator_name(config, op)
        layer = VectorLayer(key, f"{lab['sites']} · {name}", show=show)
        col = color(profile.color)
        items.append(LegendItem(name, col, "circle"))
        keys.append(key)
        if sub.empty:
            layers.append(layer)
            continue
        recs = _records(sub)
        wedges, wedge_ids, wedge_styles = [], [], []
        for rec, geom in zip(recs, sub.geometry, strict=True):
            pending = _text(rec.get("status")) in ("planned", "building")
            try:
                beam = config.band(op, _text(rec.get("band"))).h_beamwidth_deg
            except KeyError:
                beam = 65.0
            for az in _azimuths(rec):
                wedges.append(_wedge(geom.x, geom.y, float(az), beam, WEDGE_RADIUS_M))
                wedge_ids.append(f"{rec['site_id']}@{float(az):g}")
                wedge_styles.append({"color": col, "weight": 1, "fillColor": col,
                                     "fillOpacity": 0.12 if pending else 0.3,
                                     **({"dashArray": "4 3"} if pending else {})})
        if wedges:
            for geom, wid, style in zip(frame.lonlat(gpd.GeoSeries(wedges, crs=crs),
                                                     simplify=False),
                                        wedge_ids, wedge_styles, strict=True):
                layer.add(geom, wid, style, wedge=True)
        for rec, geom in zip(recs, _lonlat_points(frame, sub.geometry), strict=True):
            tower = _text(rec.get("tower_id")) or _text(rec["site_id"])
            tenants = shared.get(tower)
            status = _text(rec.get("status")) or "on_air"
            pending = status in ("planned", "building")
            azimuths = _azimuths(rec)
            rows = {lab["operator"]: name, lab["band"]: _text(rec.get("band")),
                    lab["height"]: fmt(rec.get("height_m"), 0),
                    lab["azimuths"]: "; ".join(f"{float(a):g}" for a in azimuths) or lab["omni"],
                    lab["tower"]: tower, lab["status"]: _status_label(lab, status),
                    lab["backhaul_kind"]: _status_label(lab, rec.get("backhaul"))}
            if tenants:
                rows[lab["tenants"]] = ", ".join(operator_name(config, t) for t in tenants)
            if _text(rec.get("on_air_date")):
                rows[lab["due"] if pending else lab["on_air"]] = _text(rec.get("on_air_date"))
            late_days = days_late.get(_text(rec["site_id"])) if pending else None
            if late_days:
                rows[lab["overdue"]] = lab["days_late"].format(days=late_days)
            style = {"radius": 6 if tenants else 5,
                     "color": OVERDUE_OUTLINE if late_days else
                     SHARED_TOWER_COLOR if tenants else col,
                     "weight": 3 if late_days else 2 if tenants else 1, "fillColor": col,
                     "fillOpacity": 0.4 if pending else 0.95,
                     **({"dashArray": "3 2"} if pending else {})}
            tip = f"{esc(name)} {esc(_text(rec['site_id']))}"
            popup = Popup(_text(rec["site_id"]), tuple(rows.items()))
            if tenants:
                tip = f"{esc(lab['shared'])} {esc(tower)}: " + esc(", ".join(
                    operator_name(config, t) for t in tenants))
                popup = tower_popups[tower]
            layer.add(geom, rec["site_id"], style, marker="circle",
                      popup=popup, tooltip=tip, shared=bool(tenants), pending=pending)
        layers.append(layer)
    legend = [LegendSection(lab["sites"], (
        *items,
        LegendItem(lab["shared"], "#ffffff", "ring", outline=SHARED_TOWER_COLOR),
        LegendItem(f"{lab['planned']} / {lab['building']}", "#ffffff", "ring",
                   outline="#555555", dash=True),
        *((LegendItem(f"{lab['planned']} / {lab['building']} · {lab['overdue']}", "#ffffff",
                      "ring", outline=OVERDUE_OUTLINE, dash=True),) if days_late else ())),
        tuple(keys))]
    return layers, legend


def candidates_layer(study: Study, frame: MapFrame, lab: Lab, show: bool = False
                     ) -> tuple[VectorLayer | None, LegendSection | None]:
    """User-listed candidate tower locations (triangles)."""
    cands = study.candidates
    if cands is None or len(cands) == 0:
        return None, None
    layer = VectorLayer("candidates", lab["candidates"], show=show)
    for rec, geom in zip(_records(cands), _lonlat_points(frame, cands.geometry), strict=True):
        rows = {lab["kind"]: lab.get(_text(rec.get("kind")), _text(rec.get("kind"))),
                lab["height"]: fmt(rec.get("height_m"), 0),
                lab["cost"]: fmt(_get(rec, "cost_wan", "cost"), 1)}
        layer.add(geom, rec["candidate_id"], {"radius": 6, "color": "#555555", "weight": 1,
                                              "fillColor": "#ffffff", "fillOpacity": 0.9},
                  marker="triangle",
                  popup=Popup(_text(rec["candidate_id"]), tuple(rows.items())),
                  tooltip=f"{esc(lab['candidate'])} {esc(_text(rec['candidate_id']))}")
    return layer, LegendSection(lab["candidates"], (
        LegendItem(lab["candidates"], "#ffffff", "triangle", outline="#555555"),),
        ("candidates",))


def _operators_of(rec: Mapping[str, object]) -> list[str]:
    """The claiming operator first, then co-located tenants, from loosely typed columns."""
    for name in ("operators", "operator", "claim", "claimed_by", "tenants"):
        value = rec.get(name)
        if value is None:
            continue
        if isinstance(value, (list, tuple, np.ndarray)):
            ops = [str(v) for v in value if _text(v)]
        else:
            text = _text(value)
            ops = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
        if ops:
            return ops
    return []


def _backhaul_words(rec: Mapping[str, object], lab: Lab) -> str:
    """The backhaul planner's finding for a plan site, in the run's language."""
    hops = rec.get("hops")
    if hops is None or not _text(hops):
        return _text(rec.get("finding"))
    hops = int(float(str(hops)))
    if hops == 0:
        return lab["bh_fiber"]
    if hops > 0:
        path = _text(rec.get("path"))
        return lab["bh_hops"].format(hops=hops, km=fmt(rec.get("length_km"), 1),
                                     node=path.split(">")[-1] if path else "")
    return lab["bh_none"].format(node=_text(rec.get("nearest_fiber_id")),
                                 km=fmt(rec.get("nearest_fiber_km"), 2))


def plan_layer(plan: gpd.GeoDataFrame | None, study: Study, frame: MapFrame, lab: Lab,
               config: Config, show: bool = True
               ) -> tuple[VectorLayer | None, LegendSection | None]:
    """Chosen new or shared sites, a star in the claiming operator's colour, with cost."""
    if plan is None or len(plan) == 0:
        return None, None
    if plan.crs is None:
        plan = plan.set_crs(study.villages.crs)
    layer = VectorLayer("plan", lab["plan_sites"], show=show)
    profiles = config.operators
    names = village_names(study)
    village_of = dict(zip(study.groups["group_id"].astype(str),
                          study.groups["village_id"].astype(str), strict=True))
    for rec, geom in zip(_records(plan), _lonlat_points(frame, plan.geometry), strict=True):
        ops = _operators_of(rec)
        claim = ops[0] if ops else ""
        col = color(profiles[claim].color) if claim in profiles else "#616161"
        sid = _text(_get(rec, "site_id", "tower_id", "candidate_id", "id"))
        rows = {lab["claim"]: operator_name(config, claim) if claim else "",
                lab["tenants"]: ", ".join(operator_name(config, o) for o in ops),
                lab["candidate"]: _text(rec.get("candidate_id")),
                lab["kind"]: lab.get(_text(_get(rec, "kind", "source")),
                                     _text(_get(rec, "kind", "source"))),
                lab["band"]: _text(_get(rec, "bands", "band")),
                lab["height"]: fmt(rec.get("height_m"), 0),
                lab["cost"]: fmt(_get(rec, "cost_wan", "cost"), 1)}
        hh = _get(rec, "households_new", "households_gained", "new_households", "households")
        if hh is not None:
            rows[lab["households"]] = fmt(hh, 0)
        lon, lat = rec.get("lon"), rec.get("lat")  # WGS84, as in plan.csv
        if not (_text(lon) and _text(lat)):
            lon, lat = getattr(geom, "x", None), getattr(geom, "y", None)
        rows[lab["coords"]] = f"{fmt(lon, 5)}, {fmt(lat, 5)}"
        served = [g for g in _text(rec.get("groups")).split(";") if g]
        if served:
            vids = list(dict.fromkeys(village_of.get(g, "") for g in served))
            rows[lab["villages_served"]] = "、".join(names.get(v, v) for v in vids if v) \
                if config.language == "zh" else ", ".join(names.get(v, v) for v in vids if v)
            rows[lab["groups_served"]] = str(len(served))
        link = _get(rec, "backhaul")
        if link is None and _text(rec.get("status")) in ("fiber", "microwave", "none"):
            link = rec.get("status")  # the backhaul planner's status of the tower
        if _text(link):
            rows[lab["backhaul_kind"]] = _status_label(lab, link)
        finding = _backhaul_words(rec, lab)
        if finding:
            rows[lab["message"]] = finding
        rows = {k: v for k, v in rows.items() if v != ""}
        layer.add(geom, sid, {"radius": 8, "color": "#212121", "weight": 1, "fillColor": col,
                              "fillOpacity": 1.0}, marker="star",
                  popup=Popup(sid, tuple(rows.items())),
                  tooltip=f"{esc(sid)} · {esc(rows.get(lab['claim'], ''))} · "
                          f"{esc(rows.get(lab['cost'], ''))}", claim=claim, cost=_text(
                      _get(rec, "cost_wan", "cost")))
    items = tuple(LegendItem(operator_name(config, op), color(p.color), "star",
                             outline="#212121") for op, p in profiles.items())
    return layer, LegendSection(lab["plan_sites"], items, ("plan",))


def backhaul_layer(backhaul: gpd.GeoDataFrame | None, study: Study, frame: MapFrame,
                   lab: Lab, show: bool = True
                   ) -> tuple[VectorLayer | None, LegendSection | None]:
    """Backhaul links: fiber solid orange, microwave dashed purple."""
    if backhaul is None or len(backhaul) == 0:
        return None, None
    if backhaul.crs is None:
        backhaul = backhaul.set_crs(study.villages.crs)
    lengths = backhaul.geometry.length / 1000.0 if backhaul.crs.is_projected else None
    layer = VectorLayer("backhaul", lab["backhaul"], show=show)
    geoms = frame.lonlat(backhaul.geometry, simplify=False)
    for i, (rec, geom) in enumerate(zip(_records(backhaul), geoms, strict=True)):
        kind = _text(_get(rec, "kind", "medium", "type", "backhaul")).lower()
        if not kind and "new" in rec:  # planner's hops: new = microwave, else existing fiber
            kind = "microwave" if bool(rec["new"]) else "fiber"
        if not kind and _text(rec.get("clearance_ratio")):  # the planner's microwave tree
            kind = "microwave"
        kind = kind or "other"
        col = BACKHAUL_COLORS.get(kind, BACKHAUL_COLORS["other"])
        a = _text(_get(rec, "from", "from_id", "site_a", "a", "source"))
        b = _text(_get(rec, "to", "to_id", "site_b", "b", "target"))
        length = _get(rec, "length_km")
        if length is None and lengths is not None:
            length = float(lengths.iloc[i])
        rows = {lab["from"]: a, lab["to"]: b, lab["backhaul_kind"]: lab.get(kind, kind),
                lab["length_km"]: fmt(length, 2)}
        if _text(rec.get("clearance_ratio")):
            rows[lab["clearance"]] = fmt(rec.get("clearance_ratio"), 2)
        style = {"color": col, "weight": 3, "opacity": 0.9,
                 **({"dashArray": "8 6"} if kind == "microwave" else {})}
        layer.add(geom, _text(_get(rec, "link_id", "id")) or f"{a}-{b}-{i}", style,
                  popup=Popup(f"{a} → {b}", tuple(rows.items())),
                  tooltip=f"{esc(a)} → {esc(b)} ({esc(lab.get(kind, kind))})", kind=kind)
    return layer, LegendSection(lab["backhaul"], (
        LegendItem(lab["fiber"], BACKHAUL_COLORS["fiber"], "line"),
        LegendItem(lab["microwave"], BACKHAUL_COLORS["microwave"], "line", dash=True)),
        ("backhaul",))


def works_layers(study: Study, table: pd.DataFrame | None, which: str, frame: MapFrame,
                 lab: Lab, config: Config, show: bool = True
                 ) -> tuple[list[VectorLayer], list[LegendSection]]:
    """Work items, one layer per status (planned / in progress / done), and the overdue
    ones (due before the as-of date and not done) in a layer and style of their own.

    Parameters
    ----------
    which : str
        ``mobile`` (squares; operator shown) or ``grid`` (diamonds; owner and kVA shown).
    """
    if table is None or len(table) == 0:
        return [], []
    names = village_names(study)
    geoms = _lonlat_points(frame, locate(study, table, ring=1 if which == "mobile" else 2))
    title = lab[f"{which}_works"]
    kinds = (*WORK_STATUSES, "late_inspection", "overdue")
    layers = {s: VectorLayer(f"{which}_works_{s}", f"{title} · {lab[s]}", show=show)
              for s in kinds}
    marker = "square" if which == "mobile" else "diamond"
    state = works_state(table, resolve_as_of(config.readiness.as_of),
                        config.readiness.inspection_date)
    late = dict(zip(state["work_id"].astype(str), state["days_late"], strict=True))
    after = {str(w) for w, done, ok, due in zip(
        state["work_id"], state["is_done"], state["on_time"], state["due_date"], strict=True)
        if not done and not ok and due is not None}
    for rec, geom in zip(_records(table), geoms, strict=True):
        status = _text(rec.get("status"))
        if status not in layers:
            continue
        days = int(late.get(_text(rec.get("work_id")), 0))
        rows = {lab["village"]: names.get(_text(rec.get("village_id")), ""),
                lab["category"]: _text(rec.get("category"))}
        if which == "mobile":
            rows[lab["operator"]] = operator_name(config, _text(rec.get("operator")))
            rows[lab["site"]] = _text(rec.get("site_id"))
        else:
            rows[lab["owner"]] = _text(rec.get("owner"))
            rows[lab["kva"]] = fmt(rec.get("kva_after"), 0)
        rows.update({lab["status"]: lab[status],
                     lab["investment"]: fmt(rec.get("investment_wan"), 1),
                     lab["due"]: _text(rec.get("due")), lab["done_date"]: _text(rec.get("done"))})
        if days:
            rows[lab["overdue"]] = lab["days_late"].format(days=days)
        rows = {k: v for k, v in rows.items() if v != ""}
        who = rows.get(lab["operator"] if which == "mobile" else lab["owner"], "")
        is_after = not days and _text(rec.get("work_id")) in after
        if is_after:
            rows[lab["late_inspection"]] = f"{_text(rec.get('due'))}（{lab['inspection_day']} " \
                f"{config.readiness.inspection_date}）" if config.language == "zh" else \
                f"{_text(rec.get('due'))} ({lab['inspection_day']} " \
                f"{config.readiness.inspection_date})"
        shown = "overdue" if days else "late_inspection" if is_after else status
        style = ({"radius": 8, "color": OVERDUE_OUTLINE, "weight": 3} if days else
                 {"radius": 8, "color": LATE_OUTLINE, "weight": 3, "dashArray": "3 2"}
                 if is_after else {"radius": 6, "color": "#212121", "weight": 1})
        layers[shown].add(
            geom, rec["work_id"], {**style, "fillColor": WORK_COLORS[shown],
                                   "fillOpacity": 0.95},
            marker=marker, popup=Popup(_text(rec["work_id"]), tuple(rows.items())),
            tooltip=f"{esc(_text(rec['work_id']))} · {esc(who)} · {esc(lab[shown])}",
            status=status)
    legend = LegendSection(title, tuple(
        LegendItem(lab[s], WORK_COLORS[s], marker,
                   outline=OVERDUE_OUTLINE if s == "overdue" else LATE_OUTLINE
                   if s == "late_inspection" else "#212121", dash=s == "late_inspection")
        for s in kinds),
        tuple(layers[s].key for s in kinds))
    return [layers[s] for s in kinds], [legend]


def kva_class(ratio: float, target: float) -> int:
    """0: below 75 % of the target kVA/household, 1: below the target, 2: at or above."""
    if ratio >= target - 1e-9:
        return 2
    return 1 if ratio >= 0.75 * target - 1e-9 else 0


def transformers_layer(study: Study, frame: MapFrame, lab: Lab, config: Config,
                       show: bool = True
                       ) -> tuple[list[VectorLayer], list[LegendSection]]:
    """Transformers coloured by kVA per household against the readiness target.

    Those below the target are one layer (shown); those meeting it another, off on
    opening (a toggle), so that the few that matter are not buried under the many.
    """
    table = study.transformers
    if table is None or len(table) == 0:
        return [], []
    target = float(config.readiness.kva_per_household_min)
    names = village_names(study)
    low_layer = VectorLayer("transformers", lab["transformers"], show=show)
    ok_layer = VectorLayer("transformers_ok", lab["transformers_ok"], show=False)
    geoms = _lonlat_points(frame, locate(study, table, ring=3))
    for rec, geom in zip(_records(table), geoms, strict=True):
        kva = float(rec.get("kva") or 0.0)
        hh = float(rec.get("households") or 0.0)
        ratio = kva / max(hh, 1.0)
        cls = kva_class(ratio, target)
        rows = {lab["village"]: names.get(_text(rec.get("village_id")), ""),
                lab["kva"]: fmt(kva, 0), lab["households"]: fmt(hh, 0),
                lab["kva_per_hh"]: fmt(ratio, 2),
                lab["target"]: f"≥ {target:g}"}
        layer = ok_layer if cls == 2 else low_layer
        layer.add(geom, rec["transformer_id"], {"radius": 6 if cls == 2 else 7,
                                                "color": "#212121", "weight": 1,
                                                "fillColor": KVA_COLORS[cls],
                                                "fillOpacity": 0.95},
                  marker="circle",
                  popup=Popup(_text(rec["transformer_id"]), tuple(rows.items())),
                  tooltip=f"{esc(_text(rec['transformer_id']))}: {ratio:.2f} {lab['kva_hh_unit']}",
                  ratio=round(ratio, 3), kva_class=cls)
    lo = 0.75 * target
    legend = [LegendSection(f"{lab['transformers']} · {lab['kva_per_hh']}", (
        LegendItem(f"< {lo:g}", KVA_COLORS[0], "circle"),
        LegendItem(f"{lo:g} … {target:g}", KVA_COLORS[1], "circle")), ("transformers",)),
        LegendSection(lab["transformers_ok"], (
            LegendItem(f"≥ {target:g}", KVA_COLORS[2], "circle"),), ("transformers_ok",))]
    return [low_layer, ok_layer], legend


def hazards_layers(study: Study, frame: MapFrame, lab: Lab, show: bool = True
                   ) -> tuple[list[VectorLayer], list[LegendSection]]:
    """Power-line hazards: open (red) and fixed (grey) as two layers."""
    table = study.hazards
    if table is None or len(table) == 0:
        return [], []
    names = village_names(study)
    layers = {"open": VectorLayer("hazards_open", lab["hazards_open"], show=show),
              "fixed": VectorLayer("hazards_fixed", lab["hazards_fixed"], show=show)}
    geoms = _lonlat_points(frame, locate(study, table, ring=4))
    for rec, geom in zip(_records(table), geoms, strict=True):
        state = "fixed" if bool(rec.get("fixed")) else "open"
        rows = {lab["village"]: names.get(_text(rec.get("village_id")), ""),
                lab["category"]: _text(rec.get("category")), lab["found"]: _text(rec.get("found")),
                lab["status"]: lab[state]}
        rows = {k: v for k, v in rows.items() if v != ""}
        layers[state].add(geom, rec["hazard_id"], {"radius": 7, "color": "#212121", "weight": 1,
                                                   "fillColor": HAZARD_COLORS[state],
                                                   "fillOpacity": 0.95},
                          marker="triangle",
                          popup=Popup(_text(rec["hazard_id"]), tuple(rows.items())),
                          tooltip=f"{esc(_text(rec['hazard_id']))}: {esc(lab[state])}")
    legend = LegendSection(lab["hazards"], tuple(
        LegendItem(lab[s], HAZARD_COLORS[s], "triangle", outline="#212121")
        for s in ("open", "fixed")), ("hazards_open", "hazards_fixed"))
    return [layers["open"], layers["fixed"]], [legend]


# --------------------------------------------------------------------------- readiness


def _finding_rows(findings: pd.DataFrame, lab: Lab) -> list[list[str]]:
    order = {"fail": 0, "warning": 1, "pass": 2}
    recs = sorted(_records(findings), key=lambda r: (order.get(_text(r.get("severity")), 3),
                                                     _text(r.get("rule"))))
    return [[lab.get("rule_" + _text(r.get("rule")), _text(r.get("rule"))),
             lab.get(_text(r.get("severity")), _text(r.get("severity"))),
             _text(r.get("message")), _text(r.get("remedies"))] for r in recs]


def verdict_layers(study: Study, readiness: Readiness, frame: MapFrame, lab: Lab,
                   show: bool = True) -> tuple[list[VectorLayer], list[LegendSection], list[dict]]:
    """Villages coloured by verdict (one layer per verdict), findings in the popup.

    Returns the layers, the legend and the search index (raw names, for the search box).
    """
    vill = study.villages
    verdicts = readiness.villages.set_index("village_id")
    findings = readiness.findings
    by_village = ({str(k): g for k, g in findings.groupby("village_id")}
                  if len(findings) else {})
    layers = {v: VectorLayer(f"verdict_{v}", f"{lab['readiness']} · {lab[v]}", show=show)
              for v in VERDICTS}
    search: list[dict] = []
    geoms = frame.lonlat(vill.geometry)
    for geom, vid, name, town in zip(geoms, vill["village_id"].astype(str), vill["name"],
                                     vill["town"], strict=True):
        if vid not in verdicts.index:
            continue
        row = verdicts.loc[vid]
        verdict = _text(row["verdict"])
        if verdict not in layers:
            continue
        reasons = row.get("reasons")
        reasons = list(reasons) if isinstance(reasons, (list, tuple, np.ndarray)) else (
            [_text(reasons)] if _text(reasons) else [])
        head = popup_table({lab["town"]: _text(town), lab["verdict"]: lab[verdict]},
                           title=_text(name))
        reason_html = ("<div class='cov-sub'>" + esc(lab["reasons"]) + "</div><ul>"
                       + "".join(f"<li>{esc(_text(r))}</li>" for r in reasons) + "</ul>"
                       if reasons else "")
        fnd = by_village.get(vid)
        fnd_html = ""
        if fnd is not None and len(fnd):
            fnd_html = ("<div class='cov-sub'>" + esc(lab["findings"]) + "</div>"
                        + grid_table([lab["rule"], lab["severity"], lab["message"],
                                      lab["remedies"]], _finding_rows(fnd, lab)))
        layers[verdict].add(
            geom, vid, {"color": "#333333", "weight": 1, "fillColor": VERDICT_COLORS[verdict],
                        "fillOpacity": 0.55},
            popup=head + reason_html + fnd_html,
            tooltip=f"{esc(_text(name))} · {esc(lab[verdict])}", verdict=verdict)
        search.append({"name": _text(name), "town": _text(town), "id": vid,
                       "layer": layers[verdict].key})
    legend = LegendSection(lab["verdict"], tuple(
        LegendItem(lab[v], VERDICT_COLORS[v]) for v in VERDICTS),
        tuple(layers[v].key for v in VERDICTS))
    search.sort(key=lambda s: (s["town"], s["name"], s["id"]))
    return [layers[v] for v in VERDICTS], [legend], search


# --------------------------------------------------------------------------- rasters


def _any_operator(rsrp: Mapping[str, np.ndarray], ops: Sequence[str]) -> np.ndarray | None:
    """Strongest RSRP of any of ``ops`` per cell (dBm; NaN where none), None without ops."""
    stack: np.ndarray | None = None
    for op in ops:
        arr = np.asarray(rsrp[op], np.float32)
        stack = arr.copy() if stack is None else np.fmax(stack, arr)
    return stack


def rsrp_layers(study: Study, signal: Signal | None, frame: MapFrame, lab: Lab, config: Config,
                max_px: int = 1500, operators: Sequence[str] | None = None,
                after: Signal | None = None
                ) -> tuple[list[ImageLayer], list[LegendSection]]:
    """Predicted RSRP per operator and for any operator, as classified image overlays.

    Only the any-operator overlay is shown on opening; the others are switchable.

    Parameters
    ----------
    signal : SignalGrids or None
        Best-server RSRP per operator today (dBm), on the study grid.
    after : SignalGrids or CoverageResult, optional
        RSRP once the plan is built (dBm), on the same grid: adds the switchable
        ``rsrp_ANY_after`` overlay (off on opening) after the any-operator one.
    """
    grid = study.grid
    rsrp = signal.rsrp if signal is not None else {}
    ops = [op for op in (operators or config.operators) if op in rsrp]
    layers: list[ImageLayer] = []
    stack = _any_operator(rsrp, ops)
    sources: Iterable[tuple[str, np.ndarray]] = [*((op, rsrp[op]) for op in ops)]
    if after is not None:
        after_ops = [op for op in (operators or config.operators) if op in after.rsrp]
        after_stack = _any_operator(after.rsrp, after_ops)
        if after_stack is not None:
            if after_stack.shape != grid.elevation.shape:
                raise ValueError(f"after-plan RSRP grid {after_stack.shape} differs from the "
                                 f"study grid {grid.elevation.shape}")
            sources = [("ANY_after", after_stack), *sources]
    if stack is not None:
        sources = [("ANY", stack), *sources]
    sources = list(sources)
    merc, merc_tf = (to_mercator_stack(np.stack([np.asarray(arr, np.float32)
                                                 for _, arr in sources]),
                                       grid.transform, grid.crs, max_px) if sources
                     else (np.empty((0, 0, 0), np.float32), grid.transform))
    for (op, _), band in zip(sources, merc, strict=True):
        ov = mercator_overlay(band, merc_tf, frame.datum)
        name = lab["any_after"] if op == "ANY_after" else operator_name(config, op)
        layers.append(ImageLayer(f"rsrp_{op}", f"{lab['coverage']} · {name}",
                                 ov.png, ov.bounds, show=op == "ANY"))
    if not layers and signal is None:
        return [], []
    legend = LegendSection(lab["rsrp_steps"], tuple(
        LegendItem(text, c) for text, c in zip(rsrp_class_labels(), RSRP_COLORS, strict=True)),
        tuple(layer.key for layer in layers))
    return layers, [legend]


__all__ = [
    "STATUS_COLORS",
    "VERDICT_COLORS",
    "WORK_COLORS",
    "backhaul_layer",
    "candidates_layer",
    "claimed_cover",
    "groups_layer",
    "hazards_layers",
    "kva_class",
    "locate",
    "plan_layer",
    "planned_cover",
    "points_layer",
    "rsrp_layers",
    "shared_towers",
    "sites_layers",
    "transformers_layer",
    "verdict_layers",
    "village_anchors",
    "village_names",
    "villages_layer",
    "villages_legend",
    "works_layers",
]
