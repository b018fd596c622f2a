"""Inspector-ready summaries: an XLSX workbook, an HTML report and CSV tables.

Builds in-memory objects (an openpyxl workbook, an HTML string, data frames); the
writers in :mod:`coverage.io` put them on disk. Chinese and English labels follow
``config.language``. User strings are escaped in HTML (jinja2 autoescape) and can never
become spreadsheet formulas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import jinja2
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from coverage.assess import Assessment
from coverage.io.chinacoords import converted_layers
from coverage.readiness import NOT_READY, READY, READY_AFTER_WORKS, Readiness
from coverage.signal import ANY
from coverage.study import Study

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

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
        READY: "具备验收条件", READY_AFTER_WORKS: "工程完工后具备", NOT_READY: "不具备",
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
        "Ready after works", NOT_READY: "Not ready", "generated": "Generated",
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


def headline(study: Study, assessment: Assessment, readiness: Readiness) -> Headline:
    """Compute the county headline figures."""
    row = assessment.county.set_index("operator").loc[ANY]
    sites = study.sites
    tenants = sites.groupby("tower_id")["operator"].nunique()
    grid = study.grid_works
    mobile = study.mobile_works
    hz = study.hazards
    return Headline(
        villages=int(row["villages"]), villages_covered=int(row["villages_covered"]),
        groups=int(row["groups"]), groups_covered=int(row["groups_covered"]),
        groups_uncovered=int(row["groups_required"] - row["groups_covered"]),
        households=int(row["households"]), households_covered=float(row["households_covered"]),
        sites_per_operator={op: int((sites["operator"] == op).sum())
                            for op in study.config.operators},
        shared_towers=int((tenants > 1).sum()),
        grid_investment_wan=float(grid["investment_wan"].sum()) if grid is not None else 0.0,
        mobile_investment_wan=float(mobile["investment_wan"].sum()) if mobile is not None
        else 0.0,
        hazards_found=len(hz) if hz is not None else 0,
        hazards_fixed=int(hz["fixed"].astype(bool).sum()) if hz is not None else 0,
        verdicts=dict(readiness.counts),
    )


def safe_cell(value: object) -> object:
    """A value that a spreadsheet shows as text and never evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, (list, tuple)):
        return safe_cell("; ".join(str(v) for v in value))
    if isinstance(value, dict):
        return safe_cell(", ".join(f"{k}={v}" for k, v in value.items()))
    return value


def _sheet(wb: Workbook, title: str, frame: pd.DataFrame, headers: Mapping[str, str]) -> None:
    ws = wb.create_sheet(title)
    cols = list(frame.columns)
    ws.append([headers.get(c, c) for c in cols])
    for row in frame.itertuples(index=False):
        values = []
        for v in row:
            if v is None or (isinstance(v, float) and pd.isna(v)):
                values.append(None)
            elif hasattr(v, "item") and not isinstance(v, str):
                values.append(v.item())
            else:
                values.append(safe_cell(v))
        ws.append(values)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, col in enumerate(cols, start=1):
        longest = max([len(str(headers.get(col, col)))]
                      + [len(str(v)) for v in frame[col].head(500)])
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, longest * 1.3 + 2))


def build_workbook(study: Study, assessment: Assessment, readiness: Readiness,
                   meta: Mapping[str, str]) -> Workbook:
    """The readiness workbook: county, village, group, test point and findings sheets."""
    t = TEXT[study.config.language]
    wb = Workbook()
    wb.remove(wb.active)
    villages = readiness.villages.merge(assessment.villages.drop(columns=["name", "town"]),
                                        on="village_id", how="left")
    villages = villages.assign(verdict_text=villages["verdict"].map(t))
    _sheet(wb, t["county"], assessment.county, t)
    _sheet(wb, t["village"], villages, t)
    _sheet(wb, t["group"], assessment.groups, t)
    _sheet(wb, t["point"], assessment.points, t)
    _sheet(wb, t["findings"], readiness.findings, t)
    meta_ws = wb.create_sheet("meta")
    for k, v in meta.items():
        meta_ws.append([k, safe_cell(str(v))])
    wb.properties.creator = "coverage-planner"
    wb.properties.title = t["title"]
    return wb


def render_html(study: Study, assessment: Assessment, readiness: Readiness,
                meta: Mapping[str, str]) -> str:
    """The HTML report (jinja2, autoescape on): headline figures, then towns and villages."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("coverage", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    t = TEXT[study.config.language]
    head = headline(study, assessment, readiness)
    villages = readiness.villages.merge(
        assessment.villages[["village_id", "groups_required", f"groups_covered_{ANY}",
                             "households", f"households_covered_{ANY}"]],
        on="village_id", how="left")
    towns = []
    for town, sub in villages.groupby("town", sort=True):
        towns.append({"name": town, "villages": sub.sort_values("village_id").to_dict("records"),
                      "counts": {k: int((sub["verdict"] == k).sum())
                                 for k in (READY, READY_AFTER_WORKS, NOT_READY)}})
    ops = study.config.operators
    op_names = {op: (p.name_zh if study.config.language == "zh" else p.name_en)
                for op, p in ops.items()}
    county_rows = assessment.county.to_dict("records")
    return env.get_template("report.html.j2").render(
        t=t, meta=meta, head=head, towns=towns, county=county_rows, op_names=op_names,
        any_label=t["any"], gaps=assessment.gaps.to_dict("records"),
        threshold=assessment.threshold_dbm, county_name=study.config.county_name,
        lang=study.config.language, verdicts=(READY, READY_AFTER_WORKS, NOT_READY),
        converted=converted_layers(study.warnings),
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
    return {name: frame.map(safe_cell) for name, frame in tables.items()}
