"""The one label table: Chinese and English words of maps, reports and readiness findings,
chosen by ``config.language``. A low layer: report, readiness and maps all read it."""

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
        "READY": "具备验收条件", "READY_AFTER_WORKS": "工程完工后具备",
        "READY_IF_PLAN_BUILT": "规划实施后具备", "NOT_READY": "不具备", "overdue": "逾期",
        "as_of": "统计截至",
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
        "meas_source": "实测", "pred_source": "预测", "days_late": "逾期{days}天",
        "village_id": "行政村编号", "kva_hh_unit": "kVA/户", "other": "其他",
        # plan popup: candidate kinds and sources, backhaul findings
        "new": "新建铁塔", "existing_tower": "利旧铁塔", "hill": "山头候选点",
        "existing": "现有铁塔", "user": "用户候选点",
        "bh_fiber": "铁塔已通光纤", "bh_hops": "微波{hops}跳，{km} km，接入{node}",
        "bh_none": "无满足第一菲涅尔区60%余隙的微波路径；最近光纤点{node}距{km} km，"
        "需延伸光纤或加中继杆",
        "coords": "经纬度", "villages_served": "服务行政村", "groups_served": "覆盖村民组",
        "will_cover": "规划覆盖站点", "serving_sites": "主服务站",
        "claimed_cover": "认领/在建站点将覆盖", "claim_short": "认领", "due_on_air": "计划开通",
        "kva_village": "户均配变容量", "open_works": "未完工电网工程",
        "open_hazards": "未整改隐患/隐患数", "late_inspection": "验收后完工",
        "transformers_ok": "配变·户均容量达标", "inspection_day": "验收日",
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
        "READY": "Ready", "READY_AFTER_WORKS": "Ready after works",
        "READY_IF_PLAN_BUILT": "Ready if the plan is built", "NOT_READY": "Not ready",
        "overdue": "overdue", "as_of": "As of",
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
        "meas_source": "measured", "pred_source": "predicted", "days_late": "{days} days late",
        "village_id": "Village ID", "kva_hh_unit": "kVA/household", "other": "other",
        "new": "new tower", "existing_tower": "existing tower", "hill": "hill candidate",
        "existing": "existing tower", "user": "user candidate",
        "bh_fiber": "on a fiber-fed tower", "bh_hops": "{hops} microwave hop(s), {km} km, "
        "to {node}", "bh_none": "no microwave path to fiber clears 60 % of the first Fresnel "
        "zone within the hop range; nearest fiber point {node} at {km} km. Fix: extend fiber "
        "to the site or add a relay mast",
        "coords": "Lon, lat", "villages_served": "Villages served", "groups_served":
        "Groups covered", "will_cover": "Planned site to cover it",
        "serving_sites": "Serving sites",
        "claimed_cover": "Claimed or building site to cover it", "claim_short": "claim",
        "due_on_air": "due on air",
        "kva_village": "kVA per household (village)", "open_works": "Open grid works",
        "open_hazards": "Open hazards / found", "late_inspection": "due after the inspection",
        "transformers_ok": "Transformers meeting the target", "inspection_day": "inspection",
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


# ---------------------------------------------------------------- readiness wording
# One sentence template per finding, in both languages; ``{…}`` fields are filled by the
# rules. Ids, figures, units and operator codes are the only Latin text in a zh sentence.
MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "rule_test_points_covered": "测试点覆盖", "rule_groups_covered": "村民组覆盖",
        "rule_universal_service": "普遍服务", "rule_transformer_capacity": "户均配变容量",
        "rule_grid_works_done": "电网工程完工", "rule_no_open_hazards": "线路隐患整改",
        "rule_fiber": "光纤通达", "rule_mobile_works_done": "移动网工程完工",
        "rule_measurements_agree": "实测与预测一致", "rule_overdue": "逾期事项",
        "all_pass": "各项规则均通过",
        "scheduled": "已落实整改：{items}", "proposed": "规划方案整改（尚未落实）：{items}",
        "no_remedy": "无验收前完成的整改", "remedy_item": "{ref}（{kind}，{due}前）",
        "remedy_overdue": "{ref}（{kind}，应于{due}完成，已逾期）",
        "kind_grid_work": "电网工程", "kind_mobile_work": "移动网工程",
        "kind_planned_site": "在建/计划基站", "kind_plan_site": "规划站点",
        "unscheduled": "未排期",
        # coverage
        "what_point": "测试点", "what_group": "村民组",
        "cov_all": "需验收{what}{total}个全部覆盖", "cov_none": "无需验收的{what}",
        "cov_fail": "需验收{what}{total}个中{bad}个无{ops}信号（RSRP ≥ {thr} dBm）：{detail}",
        "ops_any": "任一运营商", "ops_n": "{n}家运营商",
        "point_detail": "{name}（{kind}，最强{best}{meas}）",
        "group_detail": "{name}（{hh}户，覆盖{share}{meas}）",
        "no_signal": "无信号", "dbm": "{v} dBm",
        "measured_note": "——依据实测判定：{items}", "measured_note_ok":
        "；已覆盖{what}依据实测判定：{items}",
        "still_after_committed": "；已落实的基站开通后仍有{n}个无信号：{items}",
        "still_after_plan": "；规划站点全部开通后仍有{n}个无信号：{items}",
        # universal service
        "us_no_committee": "未登记村委会测试点，请补充后再核查",
        "us_pass": "最近4G基站距村委会{d} km", "us_fail":
        "最近4G基站距村委会{d} km（限值{limit} km）",
        # capacity
        "cap_none": "本村无台区变压器登记，请核对台区清单",
        "cap_avg_pass": "户均配变容量{avg} kVA/户（{kva} kVA / {hh}户，{n}台），达到{need} kVA/户",
        "cap_avg_fail": "户均配变容量{avg} kVA/户（{kva} kVA / {hh}户，{n}台），低于{need} kVA/户",
        "cap_pt_pass": "{n}台变压器户均容量均不低于{need} kVA/户（最低{low}）",
        "cap_pt_fail": "{n}台变压器户均容量低于{need} kVA/户：{detail}",
        "cap_single_warn": "；单台低于{need} kVA/户：{detail}",
        "cap_tr": "{tid} {v} kVA/户",
        "cap_applied": "；已按完工工程更新台账：{items}",
        "cap_applied_item": "{wid}（{tid} {old}→{new} kVA）",
        "cap_applied_new": "{wid}（新增台区 {new} kVA）",
        "cap_after": "；增容工程完工后{avg} kVA/户",
        "cap_not_enough": "；在建增容工程完工后仍仅{avg} kVA/户",
        "cap_no_remedy_line": "；{items}为线路类工程，不增加配变容量",
        "weakest": "未指明台区，按最弱台区{tid}计",
        # works
        "works_none": "本村无工程项目", "works_done": "{n}项工程均已完成",
        "works_open": "{n}项工程尚未完成，均在验收前到期（最迟{due}）",
        "works_late": "{n}项工程在{date}验收前无法完成：{detail}",
        "work_due": "{wid}计划{due}",
        # hazards
        "hz_none": "无线路隐患登记", "hz_fixed": "排查隐患{n}处，均已整改",
        "hz_open": "线路隐患{n}处未整改：{ids}",
        # fiber
        "fiber_missing": "村委会光纤字段缺失，无法核查", "fiber_not_required": "本村不要求光纤",
        "fiber_ok": "光纤已通达", "fiber_fail": "要求通光纤但尚未通达",
        # overdue
        "overdue_none": "截至{asof}无逾期事项",
        "overdue_list": "截至{asof}逾期{n}项：{items}",
        "overdue_item": "{ref}（{who}，应于{due}完成，逾期{days}天）",
        "overdue_warning": "（逾期，按计划于验收前完成方可计入）",
        # measurements
        "meas_none": "无实测数据", "meas_none_recent": "本村无近期实测",
        "meas_agree": "实测与预测相差均在±{margin} dB以内",
        "meas_differ": "{n}处实测与预测相差超过{margin} dB：{items}——请核对该处基站数据",
        "meas_point": "{name} {op}：实测{m} dBm，预测{p}{diff}",
        "meas_group": "{name} {op}：实测比预测{dir}{d} dB（{places}处中位数）",
        "above": "高", "below": "低",
    },
    "en": {
        "rule_test_points_covered": "test points covered", "rule_groups_covered":
        "groups covered", "rule_universal_service": "universal service",
        "rule_transformer_capacity": "transformer capacity per household",
        "rule_grid_works_done": "grid works done", "rule_no_open_hazards": "no open hazards",
        "rule_fiber": "fiber", "rule_mobile_works_done": "mobile works done",
        "rule_measurements_agree": "measurements agree", "rule_overdue": "overdue items",
        "all_pass": "every rule passes",
        "scheduled": "committed remedy: {items}", "proposed":
        "remedy in the proposed plan (not committed): {items}",
        "no_remedy": "no remedy finishing before the inspection",
        "remedy_item": "{ref} ({kind}, by {due})",
        "remedy_overdue": "{ref} ({kind}, due {due}, overdue)",
        "kind_grid_work": "grid work", "kind_mobile_work": "mobile work",
        "kind_planned_site": "site being built/planned", "kind_plan_site": "proposed site",
        "unscheduled": "unscheduled",
        "what_point": "test point", "what_group": "group",
        "cov_all": "all {total} required {what}s covered",
        "cov_none": "no required {what}s recorded",
        "cov_fail": "{bad} of {total} required {what}s lack signal from {ops} "
        "(RSRP ≥ {thr} dBm): {detail}",
        "ops_any": "any operator", "ops_n": "{n} operators",
        "point_detail": "{name} ({kind}, best {best}{meas})",
        "group_detail": "{name} ({hh} households, {share} covered{meas})",
        "no_signal": "no signal", "dbm": "{v} dBm",
        "measured_note": " — judged on field measurements: {items}",
        "measured_note_ok": "; covered {what}s judged on field measurements: {items}",
        "still_after_committed": "; {n} still lack signal once the committed sites are on air: "
        "{items}",
        "still_after_plan": "; {n} still lack signal after every planned site is on air: "
        "{items}",
        "us_no_committee": "no village committee point recorded; add one to check the rule",
        "us_pass": "nearest 4G site {d} km from the committee",
        "us_fail": "nearest 4G site {d} km from the committee (limit {limit} km)",
        "cap_none": "no transformer recorded for this village; check the 台区 list",
        "cap_avg_pass": "transformer capacity {avg} kVA per household ({kva} kVA / {hh} "
        "households, {n} transformers), at least {need}",
        "cap_avg_fail": "transformer capacity {avg} kVA per household ({kva} kVA / {hh} "
        "households, {n} transformers), below {need}",
        "cap_pt_pass": "all {n} transformers ≥ {need} kVA per household (lowest {low})",
        "cap_pt_fail": "{n} transformer(s) below {need} kVA per household: {detail}",
        "cap_single_warn": "; single transformers below {need} kVA per household: {detail}",
        "cap_tr": "{tid} {v} kVA/household",
        "cap_applied": "; register updated with finished works: {items}",
        "cap_applied_item": "{wid} ({tid} {old}→{new} kVA)",
        "cap_applied_new": "{wid} (new transformer {new} kVA)",
        "cap_after": "; {avg} kVA per household once the capacity works are done",
        "cap_not_enough": "; only {avg} kVA per household even once the capacity works are done",
        "cap_no_remedy_line": "; {items} line work(s) add no transformer capacity",
        "weakest": "no transformer named, counted on the weakest {tid}",
        "works_none": "no work items for this village", "works_done": "all {n} work item(s) done",
        "works_open": "{n} work item(s) not yet done, all due by {due} (before the inspection)",
        "works_late": "{n} work item(s) will not be done by the inspection on {date}: {detail}",
        "work_due": "{wid} due {due}",
        "hz_none": "no power-line hazard recorded", "hz_fixed": "{n} hazard(s) found, all fixed",
        "hz_open": "{n} power-line hazard(s) still open: {ids}",
        "fiber_missing": "no fiber column in the villages layer",
        "fiber_not_required": "fiber not required for this village",
        "fiber_ok": "fiber reaches the village",
        "fiber_fail": "fiber is required but does not reach the village",
        "overdue_none": "nothing overdue on {asof}",
        "overdue_list": "{n} item(s) overdue on {asof}: {items}",
        "overdue_item": "{ref} ({who}, due {due}, {days} days late)",
        "overdue_warning": " (overdue: counts only if finished before the inspection)",
        "meas_none": "no field measurements",
        "meas_none_recent": "no recent field measurements in this village",
        "meas_agree": "field measurements agree with predictions within ±{margin} dB",
        "meas_differ": "field measurements and predictions differ by more than {margin} dB at "
        "{n} place(s): {items} — check the sites' data there",
        "meas_point": "{name} {op}: measured {m} dBm, predicted {p}{diff}",
        "meas_group": "{name} {op}: measured {d} dB {dir} the prediction (median of {places} "
        "places)",
        "above": "above", "below": "below",
    },
}


for _lang, _table in LABELS.items():
    # verdict, overdue and rule names are labels too (popups, legends, workbook)
    _table.update({k: v for k, v in MESSAGES[_lang].items()
                   if k.startswith("rule_") or k in ("READY_IF_PLAN_BUILT", "overdue")})


def message(language: str, key: str, **fields: object) -> str:
    """One readiness sentence in ``language`` with its ``{…}`` fields filled in."""
    table = MESSAGES.get(language, MESSAGES["en"])
    return table[key].format(**fields)


def label(language: str, key: str) -> str:
    """A label from :data:`LABELS` or :data:`MESSAGES` (the key itself when unknown)."""
    return labels(language).get(key) or MESSAGES.get(language, MESSAGES["en"]).get(key, key)


# ---------------------------------------------------------------- dispatch meeting (调度会)
PROGRESS_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{county}调度会进展（{start} 至 {end}）", "summary": "工作报告段落",
        "sheet_summary": "汇总", "sheet_operators": "运营商进展", "sheet_overdue": "逾期站点",
        "sheet_owners": "电网业主进展", "sheet_hazards": "涉电安全隐患",
        "sheet_changes": "结论变化的行政村", "sheet_trend": "逐月趋势",
        "key": "指标", "value": "数值", "operator": "运营商", "claimed": "本期认领",
        "started": "本期开工", "on_air": "本期开通", "active_claims": "在办认领",
        "overdue": "逾期", "groups_new": "本期新覆盖村民组", "households_new": "本期新覆盖户数",
        "kind": "类型", "ref": "编号", "village_id": "行政村编码", "village": "行政村",
        "town": "乡镇", "due": "计划日期", "days_late": "逾期天数", "owner": "业主单位",
        "projects": "项目数", "planned": "未开工", "in_progress": "在建", "done": "已完成",
        "investment_wan": "计划投资(万元)", "investment_done_wan": "完成投资(万元)",
        "period": "范围", "found": "排查发现", "fixed": "已整改", "open": "未整改",
        "period_period": "本期", "period_total": "累计",
        "verdict_before": "期初结论", "verdict_after": "期末结论",
        "rules_resolved": "已解决的规则", "rules_new": "新出现的问题", "reasons": "期末原因",
        "day": "日期", "groups_uncovered": "未覆盖村民组", "households_uncovered": "未覆盖户数",
        "villages_READY": "具备验收条件(村)", "villages_READY_AFTER_WORKS": "工程完工后具备(村)",
        "villages_READY_IF_PLAN_BUILT": "规划实施后具备(村)", "villages_NOT_READY": "不具备(村)",
        "planned_site": "在建/规划站点", "mobile_work": "移动网工程",
        "owners": "电网建设单位", "grid_projects": "农网改造项目(个)",
        "grid_investment_wan": "农网改造投资(万元)", "mobile_projects": "通信工程项目(个)",
        "mobile_investment_wan": "通信工程投资(万元)", "sites_claimed": "认领基站(个)",
        "sites_new_on_air": "新开通基站(个)", "villages_newly_covered": "解决覆盖的行政村(个)",
        "groups_newly_covered": "解决覆盖的村民组(个)", "hazards_found": "排查涉电安全隐患(处)",
        "hazards_fixed": "已整改隐患(处)",
        "chart_groups": "未覆盖村民组", "chart_households": "未覆盖户数",
        "chart_verdicts": "各结论行政村数", "chart_investment": "累计完成投资(万元)",
        "none": "无", "period_line": "本期：{start} 至 {end}；逐月趋势自 {first} 起；每个数字都"
        "是同名工作簿中对应工作表的一行。",
        "paragraph": "{year}年以来，共统筹{owners}建设农网改造项目{grid_projects}个，总计投入资金"
        "{grid_investment_wan}万元。县内各通信运营商农村信息化工程建设项目{mobile_projects}个，"
        "落实建设资金{mobile_investment_wan}万元。根据摸排后实行{operators}认领的方式，共认领基站"
        "{sites_claimed}个，实现共享和新开通基站{sites_new_on_air}个，逐步解决了全县涉及"
        "{villages_newly_covered}个行政村{groups_newly_covered}个村民组移动网络信号覆盖问题。"
        "共排查涉电安全隐患{hazards_found}处，已整改完成{hazards_fixed}处。",
        "ops_join": "、", "ops_tail": "{n}家公司",
    },
    "en": {
        "title": "{county} dispatch meeting: progress {start} to {end}",
        "summary": "Work-report paragraph",
        "sheet_summary": "Summary", "sheet_operators": "Operators", "sheet_overdue": "Overdue",
        "sheet_owners": "Grid owners", "sheet_hazards": "Hazards",
        "sheet_changes": "Verdict changes", "sheet_trend": "Trend",
        "key": "Figure", "value": "Value", "operator": "Operator", "claimed": "Claimed",
        "started": "Started", "on_air": "On air", "active_claims": "Open claims",
        "overdue": "Overdue", "groups_new": "Groups newly covered",
        "households_new": "Households newly covered", "kind": "Kind", "ref": "Id",
        "village_id": "Village id", "village": "Village", "town": "Town", "due": "Due",
        "days_late": "Days late", "owner": "Owner", "projects": "Projects",
        "planned": "Planned", "in_progress": "In progress", "done": "Done",
        "investment_wan": "Investment planned (10k CNY)",
        "investment_done_wan": "Investment completed (10k CNY)", "period": "Scope",
        "found": "Found", "fixed": "Fixed", "open": "Open", "period_period": "This period",
        "period_total": "To date", "verdict_before": "Verdict before",
        "verdict_after": "Verdict after", "rules_resolved": "Rules now passing",
        "rules_new": "Rules now failing", "reasons": "Reasons now", "day": "Day",
        "groups_uncovered": "Uncovered groups", "households_uncovered": "Uncovered households",
        "villages_READY": "Villages ready", "villages_READY_AFTER_WORKS":
        "Villages ready after works", "villages_READY_IF_PLAN_BUILT":
        "Villages ready if plan built", "villages_NOT_READY": "Villages not ready",
        "planned_site": "Site to come", "mobile_work": "Mobile work",
        "owners": "Grid owners", "grid_projects": "Rural grid projects",
        "grid_investment_wan": "Rural grid investment (10k CNY)",
        "mobile_projects": "Telecom projects", "mobile_investment_wan":
        "Telecom investment (10k CNY)", "sites_claimed": "Sites claimed",
        "sites_new_on_air": "Sites newly on air", "villages_newly_covered":
        "Villages newly covered", "groups_newly_covered": "Groups newly covered",
        "hazards_found": "Hazards found", "hazards_fixed": "Hazards fixed",
        "chart_groups": "Uncovered groups", "chart_households": "Uncovered households",
        "chart_verdicts": "Villages per verdict",
        "chart_investment": "Investment completed (10k CNY)", "none": "none",
        "period_line": "Period: {start} to {end}; monthly trend since {first}; every figure is "
        "a row of progress.xlsx.",
        "paragraph": "Since the start of {year}, {owners} have built {grid_projects} rural grid "
        "projects with a total investment of {grid_investment_wan} (10k CNY). The operators "
        "have {mobile_projects} rural telecom projects with {mobile_investment_wan} (10k CNY) "
        "committed. Through claims by {operators}, {sites_claimed} sites were claimed and "
        "{sites_new_on_air} sites shared or newly put on air, solving mobile coverage for "
        "{groups_newly_covered} village groups in {villages_newly_covered} villages. "
        "{hazards_found} power safety hazards were found, {hazards_fixed} of them fixed.",
        "ops_join": ", ", "ops_tail": "{n} operators",
    },
}
"""Words of progress.html / progress.xlsx (the dispatch meeting report)."""


def progress_label(language: str, key: str, **fields: object) -> str:
    """A word or sentence of the progress report in ``language``, fields filled in."""
    table = PROGRESS_LABELS.get(language, PROGRESS_LABELS["en"])
    text = table.get(key, key)
    return text.format(**fields) if fields else text
