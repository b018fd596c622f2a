"""Inspector-ready summaries: an XLSX workbook, an HTML report and CSV tables.

Builds in-memory objects (an openpyxl workbook, an HTML string, data frames); the
writers in :mod:`coverage.io` put them on disk. Chinese and English labels follow
``config.language``. User strings are escaped in HTML (jinja2 autoescape) and can never
become spreadsheet formulas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from coverage.assess import Assessment
from coverage.io.chinacoords import converted_layers
from coverage.labels import label
from coverage.output.cells import FORMULA_STARTS, safe_cell, safe_table
from coverage.readiness import (
    NOT_READY,
    READY,
    READY_AFTER_WORKS,
    READY_IF_PLAN_BUILT,
    VERDICTS,
    Readiness,
)
from coverage.signal import ANY
from coverage.study import Study

if TYPE_CHECKING:
    from coverage.output.workbook import build_workbook as build_workbook


def __getattr__(name: str) -> Any:
    """``build_workbook`` (:mod:`coverage.output.workbook`), imported on first use: openpyxl
    loads only when a workbook is built, not for the console's :func:`headline`."""
    if name == "build_workbook":
        from coverage.output.workbook import build_workbook

        return build_workbook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FORMULA_STARTS", "Headline", "build_workbook", "csv_tables", "headline",
           "render_html", "safe_cell"]

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "农村移动网络覆盖与验收准备报告", "county": "县级汇总", "village": "行政村",
        "group": "村民组", "point": "测试点", "findings": "核查结论", "town": "乡镇",
        "villages": "行政村数", "villages_covered": "已覆盖行政村", "groups": "村民组数",
        "groups_covered": "已覆盖村民组", "groups_uncovered": "未覆盖村民组",
        "households": "户数", "households_covered": "已覆盖户数", "sites": "基站数",
        "shared_towers": "共享铁塔", "grid_investment": "电网投资(万元)",
        "mobile_investment": "移动网投资(万元)", "hazards_found": "隐患排查", "hazards_fixed":
        "已整改", "operator": "运营商", "verdict": "结论", "reasons": "原因", "rule": "规则",
        "severity": "级别", "message": "说明", "remedies": "计划整改", "any": "任一运营商",
        READY: "具备验收条件", READY_AFTER_WORKS: "工程完工后具备",
        READY_IF_PLAN_BUILT: "规划实施后具备", NOT_READY: "不具备",
        "groups_required": "需验收村民组", "as_of": "统计截至", "inspection": "验收日期",
        "overdue": "逾期事项", "overdue_by_owner": "逾期事项（按责任单位/运营商）",
        "overdue_n": "逾期项数", "who": "责任单位/运营商", "due": "计划完成",
        "days_late": "逾期天数", "kind_col": "类别", "max_days": "最长逾期(天)",
        "partial_note": "含部分覆盖", "proposal_note":
        "“规划实施后具备”仅在优化方案的站点建成后成立，尚未落实，不计入“工程完工后具备”。",
        "generated": "生成于", "config": "配置哈希", "version": "版本", "crs": "坐标系",
        "threshold": "覆盖门限", "headline": "主要指标", "by_town": "分乡镇情况",
        "gaps": "未覆盖村民组清单", "reason": "原因", "share": "覆盖比例",
        "name": "名称", "id": "编号", "kind": "类型", "required": "需验收", "status": "状态",
        "rsrp": "RSRP(dBm)", "median": "中位RSRP", "p10": "10%分位RSRP",
    },
    "en": {
        "title": "Rural mobile coverage and acceptance readiness", "county": "County",
        "village": "Village", "group": "Group", "point": "Test point", "findings": "Findings",
        "town": "Town", "villages": "Villages", "villages_covered": "Villages covered",
        "groups": "Groups", "groups_covered": "Groups covered", "groups_uncovered":
        "Groups uncovered", "households": "Households", "households_covered":
        "Households covered", "sites": "Sites", "shared_towers": "Shared towers",
        "grid_investment": "Grid investment (10k CNY)", "mobile_investment":
        "Mobile investment (10k CNY)", "hazards_found": "Hazards found", "hazards_fixed":
        "Hazards fixed", "operator": "Operator", "verdict": "Verdict", "reasons": "Reasons",
        "rule": "Rule", "severity": "Severity", "message": "Message", "remedies":
        "Scheduled remedies", "any": "Any operator", READY: "Ready", READY_AFTER_WORKS:
        "Ready after works", READY_IF_PLAN_BUILT: "Ready if the plan is built",
        NOT_READY: "Not ready", "generated": "Generated", "groups_required":
        "Groups required", "as_of": "As of", "inspection": "Inspection",
        "overdue": "Overdue items", "overdue_by_owner": "Overdue items by owner / operator",
        "overdue_n": "Overdue", "who": "Owner / operator", "due": "Due",
        "days_late": "Days late", "kind_col": "Kind", "max_days": "Most days late",
        "partial_note": "partial included", "proposal_note": "'Ready if the plan is built' "
        "holds only once the optimiser's proposed sites are built; it is not committed and "
        "is never counted as 'ready after works'.",
        "config": "Config hash", "version": "Version", "crs": "CRS", "threshold":
        "Coverage threshold", "headline": "Headline figures", "by_town": "By town",
        "gaps": "Uncovered groups (gap list)", "reason": "Reason", "share": "Share covered",
        "name": "Name", "id": "ID", "kind": "Kind", "required": "Required", "status": "Status",
        "rsrp": "RSRP (dBm)", "median": "Median RSRP", "p10": "10th pct RSRP",
    },
}


@dataclass(frozen=True)
class Headline:
    """County figures as in a real county report."""

    villages: int
    villages_covered: int
    groups: int
    groups_required: int
    groups_covered: int
    groups_uncovered: int
    households: int
    households_covered: float
    sites_per_operator: dict[str, int]
    shared_towers: int
    grid_investment_wan: float
    mobile_investment_wan: float
    hazards_found: int
    hazards_fixed: int
    verdicts: dict[str, int]
    as_of: dt.date | None = None
    inspection: dt.date | None = None
    overdue: int = 0
    overdue_by_who: dict[str, int] = field(default_factory=dict)


def headline(study: Study, assessment: Assessment, readiness: Readiness) -> Headline:
    """Compute the county headline figures.

    Every figure comes from the assessment's county rollup of *required* groups (one
    definition: uncovered = required and not covered, partial included), so the
    headline, county table, report, workbook and index page agree.
    """
    row = assessment.county.set_index("operator").to_dict("index")[ANY]
    sites = study.sites
    tenants = sites.groupby("tower_id")["operator"].nunique()
    grid = study.grid_works
    mobile = study.mobile_works
    hz = study.hazards
    return Headline(
        villages=int(row["villages"]), villages_covered=int(row["villages_covered"]),
        groups=int(row["groups"]), groups_required=int(row["groups_required"]),
        groups_covered=int(row["groups_covered"]),
        groups_uncovered=int(row["groups_uncovered"]),
        households=int(row["households"]), households_covered=float(row["households_covered"]),
        sites_per_operator={op: int((sites["operator"] == op).sum())
                            for op in study.config.operators},
        shared_towers=int((tenants > 1).sum()),
        grid_investment_wan=float(grid["investment_wan"].sum()) if grid is not None else 0.0,
        mobile_investment_wan=float(mobile["investment_wan"].sum()) if mobile is not None
        else 0.0,
        hazards_found=len(hz) if hz is not None else 0,
        hazards_fixed=int(hz["fixed"].astype(bool).sum()) if hz is not None else 0,
        verdicts={v: int(readiness.counts.get(v, 0)) for v in VERDICTS},
        as_of=readiness.as_of, inspection=study.config.readiness.inspection_date,
        overdue=len(readiness.overdue),
        overdue_by_who=({str(k): int(v) for k, v in readiness.overdue.groupby("who").size()
                         .items()} if len(readiness.overdue) else {}),
    )


def render_html(study: Study, assessment: Assessment, readiness: Readiness,
                meta: Mapping[str, str], *, plan_html: str | None = None) -> str:
    """The HTML report (jinja2, autoescape on): headline figures, the 建设方案 section
    (``plan_html``, already escaped: :func:`coverage.output.plan_section.plan_html`), then
    towns and villages."""
    import jinja2
    import markupsafe

    from coverage.output.plan_section import CSS as PLAN_CSS

    env = jinja2.Environment(loader=jinja2.PackageLoader("coverage", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    t = TEXT[study.config.language]
    head = headline(study, assessment, readiness)
    villages = readiness.villages.merge(
        assessment.villages[["village_id", "groups_required", f"groups_covered_{ANY}",
                             "households", f"households_covered_{ANY}"]],
        on="village_id", how="left")
    # towns in the order of the county's own codes (their first village code)
    order = villages.groupby("town")["village_id"].min().sort_values()
    towns = []
    for town in order.index:
        sub = villages[villages["town"] == town]
        towns.append({"name": town, "villages": sub.sort_values("village_id").to_dict("records"),
                      "counts": {k: int((sub["verdict"] == k).sum()) for k in VERDICTS}})
    ops = study.config.operators
    lang = study.config.language
    op_names = {op: (p.name_zh if lang == "zh" else p.name_en) for op, p in ops.items()}
    county_rows = assessment.county.to_dict("records")
    names = readiness.villages.set_index("village_id")["name"].to_dict()
    overdue = [{**r, "village": names.get(r["village_id"], r["village_id"]),
                "kind": label(lang, "kind_" + r["kind"]), "due": r["due"].isoformat()}
               for r in readiness.overdue.to_dict("records")]
    by_who = []
    if len(readiness.overdue):
        for who, sub in readiness.overdue.groupby("who", sort=True):
            by_who.append({"who": op_names.get(str(who), str(who)), "n": len(sub),
                           "max_days": int(sub["days_late"].max()),
                           "refs": ", ".join(sub["ref"].astype(str))})
    gaps = [{**g, "village": names.get(g["village_id"], g["village_id"])}
            for g in assessment.gaps.to_dict("records")]
    return env.get_template("report.html.j2").render(
        t=t, meta=meta, head=head, towns=towns, county=county_rows, op_names=op_names,
        any_label=t["any"], gaps=gaps, overdue=overdue, by_who=by_who,
        threshold=assessment.threshold_dbm, county_name=study.config.county_name,
        lang=lang, verdicts=VERDICTS,
        converted=converted_layers(study.warnings),
        plan=markupsafe.Markup(plan_html) if plan_html else None,
        plan_css=markupsafe.Markup(PLAN_CSS),
    )


def csv_tables(assessment: Assessment, readiness: Readiness) -> dict[str, pd.DataFrame]:
    """The CSV outputs (file name → table); cells that could be formulas are quoted."""
    villages = readiness.villages.assign(reasons=readiness.villages["reasons"].map(
        lambda r: " | ".join(r)))
    tables = {
        "county.csv": assessment.county, "villages.csv": villages,
        "groups.csv": assessment.groups, "points.csv": assessment.points,
        "gaps.csv": assessment.gaps,
        "findings.csv": readiness.findings.assign(
            evidence=readiness.findings["evidence"].map(safe_cell)),
    }
    return {name: safe_table(frame) for name, frame in tables.items()}
