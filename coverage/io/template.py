"""Input templates an office fills in: one Excel workbook per table layer.

Each workbook has one data sheet (named in Chinese) with a title row, the Chinese header
(frozen), drop-down lists for operator, band, status and kind, and one example row whose
ID starts with ``示例`` (the readers skip such rows), plus a ``说明`` sheet listing every
column with its meaning, unit and allowed values. The files go where the data folder
expects them (``sites/sites.xlsx``, ``works/grid.xlsx`` ...), so a filled template folder
is a data folder.
"""

from __future__ import annotations

from pathlib import Path

from coverage.config import Config
from coverage.io import vocab
from coverage.io.atomic import atomic_path
from coverage.schema import (
    CANDIDATES,
    CLAIMS,
    GRID_WORKS,
    HAZARDS,
    MEASUREMENTS,
    MOBILE_WORKS,
    POINTS,
    SITES,
    TRANSFORMERS,
    Layer,
)

TEMPLATE_LAYERS: tuple[tuple[Layer, str, str], ...] = (
    (SITES, "sites/sites.xlsx", "基站"),
    (CANDIDATES, "sites/candidates.xlsx", "候选站"),
    (POINTS, "villages/points.xlsx", "测试点"),
    (GRID_WORKS, "works/grid.xlsx", "电网工程"),
    (MOBILE_WORKS, "works/mobile.xlsx", "通信工程"),
    (TRANSFORMERS, "works/transformers.xlsx", "台区"),
    (HAZARDS, "works/hazards.xlsx", "隐患"),
    (MEASUREMENTS, "measurements/measurements.xlsx", "测试"),
    (CLAIMS, "sites/claims.xlsx", "认领台账"),
)
"""(layer, path in the data folder, sheet name) of every template."""

MEASUREMENT_HEADERS: dict[str, str] = {
    "operator": "运营商", "rsrp_dbm": "RSRP(dBm)", "date": "测试日期", "sinr_db": "SINR(dB)",
    "tester": "测试人", "point_id": "测试点编号",
}
"""Chinese headers of the measurement template (read by the drive-test aliases)."""

EXAMPLES: dict[str, dict[str, object]] = {
    "sites": {"site_id": "示例-CMCC-TW001-FDD900", "operator": "中国移动", "lon": 116.4301,
              "lat": 30.8274, "height_m": 45, "band": "FDD900", "tower_id": "TW001",
              "azimuths_deg": "0、120、240", "tilt_deg": 5, "status": "在网",
              "on_air_date": "2019-05-30", "backhaul": "光纤"},
    "candidates": {"candidate_id": "示例-C001", "lon": 116.4937, "lat": 30.9151,
                   "height_m": 30, "kind": "新建", "cost": 57.4},
    "points": {"point_id": "示例-V001-P01", "village_id": "V001", "kind": "村委会",
               "lon": 116.30, "lat": 30.70, "name": "某村村委会"},
    "grid": {"work_id": "示例-G001", "village_id": "V001", "category": "台区改造",
             "owner": "县供电公司", "status": "在建", "investment_wan": 35,
             "due": "2020-09-30", "kva_after": 400},
    "mobile": {"work_id": "示例-M001", "village_id": "V001", "operator": "中国移动",
               "category": "新建基站", "status": "计划", "investment_wan": 60,
               "due": "2020-09-30"},
    "transformers": {"transformer_id": "示例-T001", "village_id": "V001", "kva": 200,
                     "households": 80},
    "hazards": {"hazard_id": "示例-H001", "village_id": "V001", "found": "2020-03-01",
                "fixed": "否", "category": "树线矛盾"},
    "measurements": {"lon": 116.2932, "lat": 30.6685, "operator": "中国移动", "rsrp_dbm": -95,
                     "date": "2020-06-10", "sinr_db": 12.5, "tester": "张三",
                     "point_id": "示例-V001-P01"},
    "claims": {"claim_id": "示例-RL001", "operator": "中国移动", "tower_id": "TW001",
               "band": "FDD900", "claimed_on": "2020-03-01", "due": "2020-09-30",
               "status": "开工", "started_on": "2020-05-10", "village_id": "V001",
               "note": "共享存量铁塔；开通后填开通日期，状态改为开通"},
}
"""The example row of each template (IDs start with 示例 and are skipped when read)."""

def header_of(layer: Layer, column: str) -> str:
    """The Chinese header the template uses for one column."""
    if layer.key == "measurements" and column in MEASUREMENT_HEADERS:
        return MEASUREMENT_HEADERS[column]
    for table in (vocab.LAYER_HEADERS.get(layer.key, {}), vocab.COMMON_HEADERS):
        aliases = table.get(column)
        if aliases:
            return aliases[0]
    return column


def _choices(layer: Layer, column: str, config: Config) -> list[str] | None:
    if column == "operator":
        return [op.name_zh for op in config.operators.values()]
    if column == "band":
        return sorted({b for op in config.operators.values() for b in op.bands})
    group = {"sites": "sites", "grid": "works", "mobile": "works", "points": "points",
             "candidates": "candidates", "claims": "claims"}.get(layer.key)
    table = vocab.CHOICE_VALUES.get(f"{column}@{group}")
    if table is not None:
        return [spellings[0] for spellings in table.values()]
    col = layer.column(column)
    if col.kind == "bool":
        return ["是", "否"]
    return list(col.choices) if col.choices else None


def write_templates(out: Path, config: Config) -> list[Path]:
    """Write every template workbook under ``out``; returns the files written.

    Each file is written atomically. Existing files are replaced.
    """
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    written = []
    for layer, rel, sheet_name in TEMPLATE_LAYERS:
        book = openpyxl.Workbook()
        ws = book.active
        ws.title = sheet_name
        columns = [c.name for c in layer.columns]
        if layer.key == "points":
            columns = [*columns, "lon", "lat"]
        headers = [header_of(layer, c) for c in columns]
        ws.append([f"{sheet_name}表（coverage-planner 模板）：请勿修改第 2 行表头；示例行可删除"])
        ws.append(headers)
        example = EXAMPLES.get(layer.key, {})
        ws.append([example.get(c) for c in columns])
        ws.freeze_panes = "A3"
        bold = Font(bold=True)
        fill = PatternFill("solid", fgColor="DDEBF7")
        for cell in ws[2]:
            cell.font = bold
            cell.fill = fill
        for cell in ws[3]:
            cell.font = Font(italic=True, color="808080")
        for j, col in enumerate(columns, start=1):
            letter = openpyxl.utils.get_column_letter(j)
            ws.column_dimensions[letter].width = max(12, 2 * len(headers[j - 1]) + 2)
            choices = None if col in ("lon", "lat") and layer.key == "points" else \
                _choices(layer, col, config)
            if choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"',
                                    allow_blank=True, showErrorMessage=True,
                                    errorTitle="取值不在列表中",
                                    error="请从下拉列表中选择")
                dv.add(f"{letter}3:{letter}2000")
                ws.add_data_validation(dv)
        notes = book.create_sheet("说明")
        notes.append(["列名", "读作", "必填", "类型/单位", "取值"])
        for cell in notes[1]:
            cell.font = bold
        for col, head in zip(columns, headers, strict=True):
            spec = next((c for c in layer.columns if c.name == col), None)
            kind = "" if spec is None else spec.kind + (f"，{spec.unit}" if spec.unit else "")
            choices = _choices(layer, col, config) if spec is not None else None
            notes.append([head, col, "是" if spec is not None and spec.required else "否", kind,
                          "、".join(choices or [])])
        notes.append([])
        notes.append(["说明：ID 以“示例”开头的行不作为数据读取。编号列请设为“文本”格式，避免 Excel "
                      "改成科学计数法或去掉前导零。坐标为 WGS84 经纬度；高德/腾讯坐标请把列名写成 "
                      "高德经度/高德纬度，百度坐标写成 百度经度/百度纬度。"])
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, suffix=".xlsx") as tmp:
            book.save(tmp)
        written.append(target)
    return written
