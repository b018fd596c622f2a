"""The inspector's workbook (readiness.xlsx): headers and values in the run's language,
numbers rounded to what they mean, wrapped reasons, frozen headers, A4 landscape print.

Builds an openpyxl workbook in memory; :mod:`coverage.io` writes it. Text cells can never
become formulas (:func:`safe_cell`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from coverage.assess import Assessment
from coverage.config import Config
from coverage.labels import label, operator_name
from coverage.output.cells import safe_cell
from coverage.readiness import Readiness
from coverage.signal import ANY
from coverage.study import Study

HEADERS: dict[str, dict[str, str]] = {
    "zh": {
        "operator": "运营商", "villages": "行政村数", "villages_covered": "已覆盖行政村",
        "groups": "村民组数", "groups_required": "需验收村民组", "groups_covered":
        "已覆盖村民组", "groups_partial": "其中部分覆盖", "groups_uncovered": "未覆盖村民组",
        "households": "户数", "households_covered": "已覆盖户数", "points_required":
        "需验收测试点", "points_covered": "已覆盖测试点", "village_id": "行政村编号",
        "name": "名称", "town": "乡镇", "verdict": "结论", "reasons": "原因",
        "n_fail": "不通过项", "n_warning": "提示项", "n_overdue": "逾期项",
        "points_uncovered": "未覆盖测试点", "covered": "已覆盖", "group_id": "村民组编号",
        "required": "需验收", "share": "覆盖率", "median": "中位RSRP(dBm)",
        "p10": "10%分位RSRP(dBm)", "status": "覆盖状态", "n_operators": "覆盖运营商数",
        "measured_share": "实测判定户数比例", "measured_delta": "实测−预测(dB)",
        "measured_places": "实测处数", "measured": "实测依据", "point_id": "测试点编号",
        "kind": "类型", "rsrp": "RSRP(dBm)", "site": "主服务站", "predicted": "预测RSRP(dBm)",
        "source": "判定依据", "rule": "规则编号", "rule_name": "规则", "severity": "级别",
        "message": "说明", "remedies": "整改项目", "ref": "编号", "who": "责任单位/运营商",
        "due": "计划完成", "days_late": "逾期天数", "on_time": "验收前到期",
        "reason": "原因", "key": "项目", "value": "内容",
    },
    "en": {
        "operator": "Operator", "villages": "Villages", "villages_covered": "Villages covered",
        "groups": "Groups", "groups_required": "Groups required", "groups_covered":
        "Groups covered", "groups_partial": "of which partial", "groups_uncovered":
        "Groups uncovered", "households": "Households", "households_covered":
        "Households covered", "points_required": "Test points required", "points_covered":
        "Test points covered", "village_id": "Village ID", "name": "Name", "town": "Town",
        "verdict": "Verdict", "reasons": "Reasons", "n_fail": "Failures",
        "n_warning": "Warnings", "n_overdue": "Overdue", "points_uncovered":
        "Test points uncovered", "covered": "Covered", "group_id": "Group ID",
        "required": "Required", "share": "Share covered", "median": "Median RSRP (dBm)",
        "p10": "10th pct RSRP (dBm)", "status": "Status", "n_operators": "Operators covering",
        "measured_share": "Share judged on measurements", "measured_delta":
        "Measured − predicted (dB)", "measured_places": "Measured places",
        "measured": "Measurements", "point_id": "Test point ID", "kind": "Kind",
        "rsrp": "RSRP (dBm)", "site": "Serving site", "predicted": "Predicted RSRP (dBm)",
        "source": "Decided by", "rule": "Rule ID", "rule_name": "Rule", "severity": "Severity",
        "message": "Message", "remedies": "Remedies", "ref": "ID", "who": "Owner / operator",
        "due": "Due", "days_late": "Days late", "on_time": "Due before the inspection",
        "reason": "Reason", "key": "Item", "value": "Value",
    },
}

SHEETS = {
    "zh": {"county": "县级汇总", "villages": "行政村", "overdue": "逾期事项", "groups": "村民组",
           "points": "测试点", "findings": "核查结论", "gaps": "未覆盖村民组", "meta": "说明"},
    "en": {"county": "County", "villages": "Villages", "overdue": "Overdue", "groups": "Groups",
           "points": "Test points", "findings": "Findings", "gaps": "Uncovered groups",
           "meta": "About"},
}

META = {
    "zh": {"version": "版本", "generated": "生成时间", "config_hash": "配置哈希",
           "data_hash": "数据哈希", "crs": "坐标系", "calibration": "校准", "as_of": "统计截至",
           "inspection_date": "验收日期", "title": "标题"},
    "en": {"as_of": "As of", "inspection_date": "Inspection date"},
}

PERCENT = ("share", "measured_share")
DBM = ("median", "p10", "rsrp", "predicted", "measured", "measured_delta")
WIDE = ("reasons", "message", "remedies", "measured", "reason")


def split_column(col: str, operators: tuple[str, ...]) -> tuple[str, str | None]:
    """``share_CMCC`` → (``share``, ``CMCC``); a column without an operator → (col, None)."""
    for op in operators:
        if col.endswith("_" + op):
            return col[: -len(op) - 1], op
    return col, None


def header(col: str, config: Config, operators: tuple[str, ...]) -> str:
    """A column's header for people (``share_CMCC`` → ``覆盖率_CMCC``, ANY → 任一运营商)."""
    lang = config.language
    heads = HEADERS.get(lang, HEADERS["en"])
    base, op = split_column(col, operators)
    text = heads.get(base, base)
    if op is None:
        return text
    return f"{text}_{operator_name(config, ANY) if op == ANY else op}"


def _value(v: object, base: str, lang: str, config: Config) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return label(lang, "yes" if v else "no")
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, str):
        if base in ("status", "verdict", "severity", "kind", "source"):
            return label(lang, {"measured": "meas_source", "predicted": "pred_source"}.get(
                v, v))
        if base == "operator" and v in config.operators:
            return operator_name(config, v)
        if base == "operator" and v == ANY:
            return operator_name(config, ANY)
    if isinstance(v, (list, tuple, np.ndarray)):
        return safe_cell("\n".join(str(x) for x in v))
    if isinstance(v, dict):
        return safe_cell(v)
    return safe_cell(v)


def _column(values: pd.Series, base: str, lang: str, config: Config) -> list[object]:
    """The cells of one column for people (:func:`_value` of each), a column at a time.

    Plain numpy columns are converted whole (NaN → empty cell, booleans → yes/no in
    ``lang``); other columns go through :func:`_value` value by value.
    """
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else ""
    if kind == "b":
        yes, no = label(lang, "yes"), label(lang, "no")
        return [yes if v else no for v in values.tolist()]
    if kind and kind in "iu":
        return values.tolist()
    if kind == "f":
        return [None if v != v else v for v in values.tolist()]  # NaN is not equal to itself
    return [_value(v, base, lang, config) for v in values]


def _number_format(base: str, values: pd.Series) -> str | None:
    """A column's number format: percent, dBm with one decimal, grouped counts, or none."""
    if base in PERCENT:
        return "0%"
    if base in DBM and pd.api.types.is_numeric_dtype(values):
        return "0.0"
    if base == "households_covered":
        return "#,##0"
    return None


def _column_width(values: pd.Series, base: str, head: str) -> float:
    """A column's width in characters: wide for text, else fitted to the header and the
    longest of the first 300 values."""
    if base in WIDE:
        return 70.0
    longest = max([len(str(v)) for v in values.head(300)] + [0])
    return min(28.0, max(8.0, len(head) * 1.8, longest * 1.2 + 2))


def _page_setup(ws: Worksheet, title_rows: int) -> None:
    """A4 landscape, one page wide, the header rows repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"1:{title_rows}"


def add_sheet(wb: Workbook, title: str, frame: pd.DataFrame, config: Config,
              operators: tuple[str, ...]) -> Worksheet:
    """One formatted sheet of ``frame`` with translated headers and values.

    Bold grey frozen header, filters, widths, number formats, wrapping, A4 landscape. The
    values are converted a column at a time and every cell is made with its column's style
    (resolved once, on the first data row, through openpyxl's style setters): the same
    workbook as styling cell by cell, without a style look-up per cell.
    """
    lang = config.language
    title_rows = 1
    ws = wb.create_sheet(title)
    heads = [header(str(c), config, operators) for c in frame.columns]
    bases = [split_column(str(c), operators)[0] for c in frame.columns]
    columns = [_column(frame.iloc[:, i], b, lang, config) for i, b in enumerate(bases)]
    ws.append(heads)
    if len(frame):
        ws.append([col[0] for col in columns])
    for cell in ws[title_rows]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    # with no data row this makes the empty cell B2, which the filter range then includes
    ws.freeze_panes = ws.cell(row=title_rows + 1, column=2)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    styles = []
    for i, base in enumerate(bases, start=1):
        fmt = _number_format(base, frame.iloc[:, i - 1])
        # the first cell below the header (an empty one when there is no data row) is
        # styled through openpyxl; the cells below it get the same style ids
        first = ws.cell(row=title_rows + 1, column=i)
        if fmt:
            first.number_format = fmt
        first.alignment = wrap if base in WIDE else top
        style = StyleArray()
        if fmt:
            style.numFmtId = first._style.numFmtId
        style.alignmentId = first._style.alignmentId
        styles.append(style)
    for row in itertools.islice(zip(*columns, strict=True), 1, None):
        ws.append([Cell(ws, value=v, style_array=s) for v, s in zip(row, styles, strict=True)])
    ws.auto_filter.ref = ws.dimensions
    for i, base in enumerate(bases, start=1):
        width = _column_width(frame.iloc[:, i - 1], base, heads[i - 1])
        ws.column_dimensions[get_column_letter(i)].width = width
    _page_setup(ws, title_rows)
    return ws


def build_workbook(study: Study, assessment: Assessment, readiness: Readiness,
                   meta: Mapping[str, str]) -> Workbook:
    """The readiness workbook: county, villages, overdue items, groups, test points,
    findings, uncovered groups, and a sheet about the run.

    Built with Python's cyclic garbage collector paused (the cells are many objects that
    live as long as the workbook: see :func:`coverage.io.writers.cycle_collection_paused`).
    """
    from coverage.io.writers import cycle_collection_paused

    with cycle_collection_paused():
        return _build_workbook(study, assessment, readiness, meta)


def _build_workbook(study: Study, assessment: Assessment, readiness: Readiness,
                    meta: Mapping[str, str]) -> Workbook:
    cfg = study.config
    lang = cfg.language
    ops = tuple(assessment.operators)
    names = SHEETS.get(lang, SHEETS["en"])
    wb = Workbook()
    wb.remove(wb.active)
    add_sheet(wb, names["county"], assessment.county, cfg, ops)
    villages = readiness.villages.merge(assessment.villages.drop(columns=["name", "town"]),
                                        on="village_id", how="left")
    add_sheet(wb, names["villages"], villages, cfg, ops)
    od = readiness.overdue
    if od is not None and len(od):
        od = od.assign(kind=[label(lang, f"kind_{k}") for k in od["kind"]],
                       due=[d.isoformat() for d in od["due"]])
        add_sheet(wb, names["overdue"], od[["village_id", "kind", "ref", "who", "due",
                                             "days_late", "on_time"]], cfg, ops)
    add_sheet(wb, names["gaps"], assessment.gaps, cfg, ops)
    add_sheet(wb, names["groups"], assessment.groups, cfg, ops)
    add_sheet(wb, names["points"], assessment.points, cfg, ops)
    findings = readiness.findings
    if len(findings):
        findings = findings.assign(
            rule_name=[label(lang, "rule_" + r) for r in findings["rule"]])[
            ["village_id", "rule_name", "severity", "message", "remedies", "rule"]]
    add_sheet(wb, names["findings"], findings, cfg, ops)
    ws = wb.create_sheet(names["meta"])
    keys = META.get(lang, {})
    rows = dict(meta)
    rows["as_of"] = readiness.as_of.isoformat()
    rows["inspection_date"] = cfg.readiness.inspection_date.isoformat()
    ws.append([HEADERS[lang]["key"] if lang in HEADERS else "Item",
               HEADERS[lang]["value"] if lang in HEADERS else "Value"])
    for k, v in rows.items():
        ws.append([keys.get(k, k), safe_cell(str(v))])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 90
    wb.properties.creator = "coverage-planner"
    return wb
