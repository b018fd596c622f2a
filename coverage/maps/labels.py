"""Map labels in Chinese and English, chosen by ``config.language``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coverage.config import Config

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        # layers
        "villages": "行政村边界", "groups": "村民组覆盖", "groups_plain": "村民组",
        "points": "测试点", "sites": "现网基站",
        "candidates": "候选站址", "hazards": "线路隐患", "transformers": "台区变压器",
        "hazards_open": "线路隐患·未整改", "hazards_fixed": "线路隐患·已整改",
        "coverage": "预测RSRP", "any_operator": "任一运营商", "plan_sites": "规划站点(认领)",
        "backhaul": "回传链路", "mobile_works": "移动网工程", "grid_works": "电网工程",
        "readiness": "验收准备",
        # fields
        "village": "行政村", "town": "乡镇", "group": "村民组", "households": "户数",
        "kind": "类型", "operator": "运营商", "band": "频段", "height": "挂高(米)",
        "tower": "铁塔", "shared": "共享铁塔", "tenants": "共址运营商", "azimuths": "方位角(°)",
        "omni": "全向", "status": "状态", "fixed": "已整改", "open": "未整改",
        "kva": "容量(kVA)", "kva_per_hh": "户均容量(kVA/户)", "target": "目标",
        "cost": "造价(万元)", "investment": "投资(万元)", "owner": "责任单位",
        "due": "计划完成", "done_date": "完成日期", "category": "类别", "site": "站点",
        "candidate": "候选站址", "claim": "认领运营商", "backhaul_kind": "回传方式",
        "length_km": "长度(公里)",
        "clearance": "余隙/第一菲涅尔区", "found": "发现日期", "share": "覆盖比例",
        "median": "中位RSRP(dBm)", "p10": "10%分位RSRP(dBm)", "rsrp": "RSRP(dBm)",
        "no_signal": "无信号", "covered": "已覆盖", "partial": "部分覆盖", "uncovered": "未覆盖",
        "required": "需验收", "yes": "是", "no": "否",
        "verdict": "结论", "reasons": "原因", "findings": "核查结论",
        "rule": "规则", "severity": "级别", "message": "说明", "remedies": "计划整改",
        "fail": "不通过", "warning": "提示", "pass": "通过", "on_air": "在网",
        "planned": "计划", "building": "在建", "in_progress": "在建", "done": "已完成",
        "point_covered": "有信号", "point_uncovered": "无有效信号", "from": "起点", "to": "终点",
        "READY": "具备验收条件", "READY_AFTER_WORKS": "工程完工后具备", "NOT_READY": "不具备",
        "committee": "村委会", "school": "学校", "clinic": "卫生室", "settlement": "自然村/居民点",
        "fiber": "光纤", "microwave": "微波", "none": "无",
        # page furniture
        "generated": "生成于", "data": "数据", "config": "配置哈希", "version": "版本",
        "crs": "工作坐标系", "datum": "底图坐标", "legend": "图例", "search": "搜索行政村…",
        "no_match": "无匹配", "basemap_osm": "OpenStreetMap", "basemap_topo": "地形图(OpenTopoMap)",
        "basemap_none": "无底图", "basemap_tianditu": "天地图·矢量", "basemap_tianditu_img":
        "天地图·影像", "basemap_gaode": "高德地图", "basemap_gaode_img": "高德·卫星",
        "title_inputs": "输入数据总览", "title_mobile": "移动网络覆盖与建设",
        "title_grid": "农网改造与线路隐患", "title_readiness": "行政村验收准备",
        "title_index": "覆盖规划成果", "report": "报告", "maps": "地图", "overview": "总览图",
        "rsrp_steps": "RSRP(dBm)",
        # field measurements and the after-plan view
        "any_after": "任一运营商·规划实施后", "meas_error": "实测误差",
        "not_compared": "实测点·未比对", "error_steps": "预测−实测(dB)",
        "err_low": "预测偏低", "err_high": "预测偏高", "meas_date": "测试日期",
        "tester": "测试人员", "measured": "实测RSRP(dBm)", "predicted": "预测RSRP(dBm)",
        "error_db": "误差(预测−实测, dB)", "serving_site": "预测主服务站", "reason": "原因",
        "outside_dem": "超出高程数据范围", "no_prediction": "无预测覆盖",
        "superseded": "测试时主服务站未开通",
    },
    "en": {
        "villages": "Village boundaries", "groups": "Group coverage",
        "groups_plain": "Village groups", "points": "Test points",
        "sites": "Existing sites", "candidates": "Candidate sites",
        "hazards": "Power-line hazards", "transformers": "Transformers",
        "hazards_open": "Hazards · open", "hazards_fixed": "Hazards · fixed",
        "coverage": "Predicted RSRP", "any_operator": "Any operator",
        "plan_sites": "Planned sites (claims)", "backhaul": "Backhaul links",
        "mobile_works": "Mobile works", "grid_works": "Grid works", "readiness": "Readiness",
        "village": "Village", "town": "Town", "group": "Group", "households": "Households",
        "kind": "Kind", "operator": "Operator", "band": "Band", "height": "Height (m)",
        "tower": "Tower", "shared": "Shared tower", "tenants": "Tenants",
        "azimuths": "Azimuths (°)", "omni": "omni", "status": "Status", "fixed": "fixed",
        "open": "open", "kva": "Capacity (kVA)", "kva_per_hh": "kVA per household",
        "target": "target", "cost": "Cost (10k CNY)", "investment": "Investment (10k CNY)",
        "owner": "Owner", "due": "Due", "done_date": "Done", "category": "Category",
        "site": "Site", "candidate": "Candidate", "claim": "Claimed by",
        "backhaul_kind": "Backhaul", "length_km": "Length (km)",
        "clearance": "Clearance / F1", "found": "Found",
        "share": "Share covered", "median": "Median RSRP (dBm)", "p10": "10th pct RSRP (dBm)",
        "rsrp": "RSRP (dBm)", "no_signal": "no signal", "covered": "covered",
        "partial": "partial", "uncovered": "uncovered", "required": "Required",
        "yes": "yes", "no": "no",
        "verdict": "Verdict", "reasons": "Reasons", "findings": "Findings", "rule": "Rule",
        "severity": "Severity", "message": "Message", "remedies": "Scheduled remedies",
        "fail": "fail", "warning": "warning", "pass": "pass", "on_air": "on air",
        "planned": "planned", "building": "building", "in_progress": "in progress",
        "done": "done", "point_covered": "covered", "point_uncovered": "not covered",
        "from": "From", "to": "To",
        "READY": "Ready", "READY_AFTER_WORKS": "Ready after works", "NOT_READY": "Not ready",
        "committee": "Village committee", "school": "School", "clinic": "Clinic",
        "settlement": "Settlement", "fiber": "fiber", "microwave": "microwave", "none": "none",
        "generated": "Generated", "data": "Data", "config": "Config hash", "version": "Version",
        "crs": "Working CRS", "datum": "Map datum", "legend": "Legend",
        "search": "Search villages…", "no_match": "no match", "basemap_osm": "OpenStreetMap",
        "basemap_topo": "Terrain (OpenTopoMap)", "basemap_none": "No basemap",
        "basemap_tianditu": "Tianditu · map", "basemap_tianditu_img": "Tianditu · imagery",
        "basemap_gaode": "AutoNavi (Gaode)", "basemap_gaode_img": "AutoNavi · satellite",
        "title_inputs": "Input overview", "title_mobile": "Mobile coverage and works",
        "title_grid": "Grid works and power-line hazards",
        "title_readiness": "Village acceptance readiness", "title_index": "Coverage plan",
        "report": "Report", "maps": "Maps", "overview": "Overview", "rsrp_steps": "RSRP (dBm)",
        "any_after": "Any operator after the plan", "meas_error": "Measurement error",
        "not_compared": "Measurements · not compared",
        "error_steps": "Predicted − measured (dB)", "err_low": "prediction too low",
        "err_high": "prediction too high", "meas_date": "Date", "tester": "Tester",
        "measured": "Measured RSRP (dBm)", "predicted": "Predicted RSRP (dBm)",
        "error_db": "Error (predicted − measured, dB)", "serving_site": "Predicted server",
        "reason": "Reason", "outside_dem": "outside the DEM", "no_prediction": "no prediction",
        "superseded": "server not on air when measured",
    },
}


def labels(language: str) -> dict[str, str]:
    """The label table for ``language`` (``zh`` or ``en``; anything else gives English)."""
    return LABELS.get(language, LABELS["en"])


def operator_name(config: Config, op: str) -> str:
    """Display name of operator code ``op`` in the config's language (ANY included)."""
    lab = labels(config.language)
    if op == "ANY":
        return lab["any_operator"]
    profile = config.operators.get(op)
    if profile is None:
        return op
    return profile.name_zh if config.language == "zh" else profile.name_en
