"""The build plan (建设方案) on the first page: which operator builds or shares where.

Built from the very table written as ``plan.csv`` (:func:`coverage.output.plan_tables.
plan_csv`), so the totals shown on ``index.html`` and in ``report.html`` are the sums of
that file's rows: per operator, the sites to build or share (tower, coordinates, band,
villages and groups served, households newly covered, cost in 万元, backhaul), then the
county totals, with links to ``plan.csv``, ``plan.kml``, ``plan.gpkg`` and ``tables/``.

:func:`plan_section` gives plain data; :func:`plan_section_html` an escaped HTML fragment
(jinja2 autoescape) that both pages embed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jinja2
import pandas as pd

from coverage.labels import labels, operator_name
from coverage.output.plan_tables import plan_csv
from coverage.plan import Plan
from coverage.study import Study

TEXT = {
    "zh": {"title": "建设方案", "operator": "运营商", "tower": "铁塔/站址", "kind": "类型",
           "lonlat": "经度, 纬度", "band": "频段", "villages": "服务行政村",
           "groups": "覆盖村民组", "households_new": "新覆盖户数", "cost": "造价(万元)",
           "backhaul": "回传", "sites": "站点", "towers": "铁塔", "total": "合计",
           "summary": "{towers} 座铁塔、{claims} 个运营商站点，新覆盖 {households} 户，"
                      "总造价 {cost} 万元：{per_op}。",
           "files": "方案文件", "plan.csv": "方案明细表", "plan.kml": "方案地标(奥维/谷歌地球)",
           "plan.gpkg": "方案图层(地理信息系统)", "tables/": "数据表目录",
           "none": "本次运行没有规划方案（未启用规划或没有需要覆盖的村民组）。",
           "proposal": "以上为优化模型提出的方案，运营商认领后方计入工程。",
           "sep": "、", "groups_n": "{n} 个"},
    "en": {"title": "Build plan", "operator": "Operator", "tower": "Tower / site",
           "kind": "Kind", "lonlat": "Lon, lat", "band": "Band",
           "villages": "Villages served", "groups": "Groups covered",
           "households_new": "Households newly covered", "cost": "Cost (10k CNY)",
           "backhaul": "Backhaul", "sites": "sites", "towers": "towers", "total": "Total",
           "summary": "{towers} towers, {claims} operator sites, {households} households "
                      "newly covered, cost {cost} (10k CNY): {per_op}.",
           "files": "Plan files", "plan.csv": "plan.csv", "plan.kml": "plan.kml",
           "plan.gpkg": "plan.gpkg", "tables/": "Tables (tables/)",
           "none": "This run has no plan (planning off, or no group needs covering).",
           "proposal": "This is the optimiser's proposal; it counts as works once operators "
                       "claim it.",
           "sep": ", ", "groups_n": "{n}"},
}

FILES = ("plan.csv", "plan.kml", "plan.gpkg", "tables/")
"""The plan's files, linked from the section (relative to the output folder)."""


@dataclass(frozen=True)
class PlanSite:
    """One operator's site of the plan (one row of ``plan.csv``).

    Attributes
    ----------
    tower_id, kind, band, backhaul : str
        Tower or candidate id; kind, band and backhaul in the run's language.
    lon, lat : float
        WGS84 degrees.
    villages : str
        Names of the villages whose gap groups the site covers, joined.
    groups : int
        Number of gap groups it covers.
    households_new : float
        Households newly covered (households of those groups).
    cost_wan : float
        The operator's cost for this site, 万元.
    """

    tower_id: str
    kind: str
    lon: float
    lat: float
    band: str
    villages: str
    groups: int
    households_new: float
    cost_wan: float
    backhaul: str


@dataclass(frozen=True)
class OperatorPlan:
    """The sites of one operator and their sums."""

    operator: str
    name: str
    sites: tuple[PlanSite, ...]
    households_new: float
    cost_wan: float


@dataclass(frozen=True)
class PlanSection:
    """The whole section: per operator, then county totals (sums of ``plan.csv``)."""

    operators: tuple[OperatorPlan, ...]
    towers: int
    claims: int
    households_new: float
    cost_wan: float


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def plan_section(table: pd.DataFrame, groups: pd.DataFrame, villages: pd.DataFrame,
                 operators: dict[str, str], language: str) -> PlanSection:
    """The plan section's data from the ``plan.csv`` table.

    Parameters
    ----------
    table : DataFrame
        :func:`coverage.output.plan_tables.plan_csv` (one row per operator claim).
    groups : DataFrame
        ``group_id`` and ``village_id`` of every group.
    villages : DataFrame
        ``village_id`` and ``name`` of every village.
    operators : dict of str to str
        Operator code → display name, in the order to show them.
    language : str
        ``"zh"`` or ``"en"``, for kinds and backhaul.

    Returns
    -------
    PlanSection
    """
    lab = labels(language)
    village_of = dict(zip(groups["group_id"].astype(str), groups["village_id"].astype(str),
                          strict=True))
    name_of = dict(zip(villages["village_id"].astype(str), villages["name"].map(_text),
                       strict=True))
    sep = TEXT["zh" if language == "zh" else "en"]["sep"]
    per_op: list[OperatorPlan] = []
    codes = list(operators) + sorted(set(table["operator"].astype(str)) - set(operators))
    for op in codes:
        rows = table[table["operator"].astype(str) == op]
        if rows.empty:
            continue
        sites = []
        for r in rows.to_dict("records"):
            gids = [g for g in _text(r["groups"]).split(";") if g]
            vids = list(dict.fromkeys(village_of[g] for g in gids if g in village_of))
            names = sep.join(name_of.get(v) or v for v in vids)
            sites.append(PlanSite(
                tower_id=_text(r["tower_id"]), kind=lab.get(_text(r["kind"]), _text(r["kind"])),
                lon=float(r["lon"]), lat=float(r["lat"]), band=_text(r["band"]), villages=names,
                groups=len(gids), households_new=float(r["households_new"]),
                cost_wan=float(r["cost_wan"]),
                backhaul=lab.get(_text(r["backhaul"]), _text(r["backhaul"]))))
        per_op.append(OperatorPlan(op, operators.get(op, op), tuple(sites),
                                   float(rows["households_new"].sum()),
                                   float(rows["cost_wan"].sum())))
    return PlanSection(tuple(per_op), int(table["tower_id"].nunique()), len(table),
                       float(table["households_new"].sum()), float(table["cost_wan"].sum()))


TEMPLATE = """<section class="plan" id="plan">
<h2>{{ t.title }}</h2>
{% if s is none %}<p>{{ t.none }}</p>{% else %}
<p class="plan-summary">{{ summary }}</p>
<p class="plan-files">{{ t.files }}：{% for href, label in files %}
<a href="{{ href }}">{{ label }}</a>{% if not loop.last %} · {% endif %}{% endfor %}</p>
<table class="plan-table">
<tr><th>{{ t.operator }}</th><th>{{ t.tower }}</th><th>{{ t.kind }}</th>
<th>{{ t.lonlat }}</th><th>{{ t.band }}</th><th>{{ t.villages }}</th><th>{{ t.groups }}</th>
<th>{{ t.households_new }}</th><th>{{ t.cost }}</th><th>{{ t.backhaul }}</th></tr>
{% for o in s.operators %}{% for x in o.sites %}
<tr>{% if loop.first %}<th rowspan="{{ o.sites|length + 1 }}">{{ o.name }}</th>{% endif %}
<td>{{ x.tower_id }}</td><td>{{ x.kind }}</td>
<td class="num">{{ "%.5f"|format(x.lon) }}, {{ "%.5f"|format(x.lat) }}</td>
<td>{{ x.band }}</td><td class="villages">{{ x.villages }}</td><td class="num">{{ x.groups }}</td>
<td class="num">{{ "{:,.0f}".format(x.households_new) }}</td>
<td class="num">{{ "{:,.1f}".format(x.cost_wan) }}</td><td>{{ x.backhaul }}</td></tr>
{% endfor %}
<tr class="plan-subtotal" data-operator="{{ o.operator }}">
<td colspan="5">{{ t.total }} · {{ o.sites|length }} {{ t.sites }}</td><td class="num"></td>
<td class="num" data-households="{{ o.households_new }}">
{{ "{:,.0f}".format(o.households_new) }}</td>
<td class="num" data-cost="{{ o.cost_wan }}">{{ "{:,.1f}".format(o.cost_wan) }}</td><td></td></tr>
{% endfor %}
<tr class="plan-total" data-towers="{{ s.towers }}" data-sites="{{ s.claims }}">
<th>{{ t.total }}</th>
<td colspan="5">{{ s.towers }} {{ t.towers }} · {{ s.claims }} {{ t.sites }}</td>
<td class="num"></td>
<td class="num" data-households="{{ s.households_new }}">
{{ "{:,.0f}".format(s.households_new) }}</td>
<td class="num" data-cost="{{ s.cost_wan }}">{{ "{:,.1f}".format(s.cost_wan) }}</td><td></td></tr>
</table>
<p class="note">{{ t.proposal }}</p>
{% endif %}</section>
"""

CSS = """
.plan-table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
.plan-table th,.plan-table td{border:1px solid #bbb;padding:3px 8px;text-align:left;
 vertical-align:top}
.plan-table td{white-space:nowrap}
.plan-table td.villages{white-space:normal;min-width:14em}
.plan-table td.num{text-align:right}
.plan-table tr.plan-subtotal td{background:#f3f3f3}
.plan-table tr.plan-total th,.plan-table tr.plan-total td{background:#e3f2fd;font-weight:700}
.plan-files a{margin:0 4px}
"""
"""Style of the section (both pages include it in their ``<style>``)."""


def plan_section_html(section: PlanSection | None, language: str,
                      files: tuple[str, ...] = FILES, prefix: str = "") -> str:
    """The section as an HTML fragment (every value escaped).

    Parameters
    ----------
    section : PlanSection or None
        None writes a sentence saying the run has no plan.
    language : str
    files : tuple of str
        Plan files to link, relative to the output folder.
    prefix : str
        Prepended to each link (``""`` for pages in the output folder).

    Returns
    -------
    str
    """
    t = TEXT["zh" if language == "zh" else "en"]
    summary = ""
    if section is not None:
        per_op = t["sep"].join(f"{o.name} {len(o.sites)}" for o in section.operators)
        summary = t["summary"].format(towers=section.towers, claims=section.claims,
                                      households=f"{section.households_new:,.0f}",
                                      cost=f"{section.cost_wan:,.1f}", per_op=per_op)
    links = [(prefix + f, t.get(f, f)) for f in files]
    env = jinja2.Environment(autoescape=True)
    return env.from_string(TEMPLATE).render(s=section, t=t, summary=summary, files=links)


__all__ = ["CSS", "FILES", "OperatorPlan", "PlanSection", "PlanSite", "plan_html",
           "plan_section", "plan_section_html"]


def plan_html(plan: Plan | None, study: Study) -> str:
    """The section's HTML for a run (``plan`` None: the "no plan" sentence).

    Parameters
    ----------
    plan : Plan or None
        The run's plan.
    study : Study
        For groups, villages, operator names and the language.

    Returns
    -------
    str
    """
    cfg = study.config
    lang = cfg.language
    if plan is None:
        return plan_section_html(None, lang)
    names = {op: operator_name(cfg, op) for op in cfg.operators}
    section = plan_section(plan_csv(plan), pd.DataFrame(study.groups), pd.DataFrame(
        study.villages), names, lang)
    return plan_section_html(section, lang)
