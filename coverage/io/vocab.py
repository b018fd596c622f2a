"""The one vocabulary table: how county offices name columns and write values.

Every header alias, operator and status spelling, band spelling and separator the readers
accept is listed here (and documented in ``docs/inputs.md``); nothing else is guessed.
Each alias applied to a file is reported once, as a note ("列 '挂高(米)' 读作 height_m"),
so that a user can see how the file was read.

Matching is done on a normalised form: Unicode NFKC (full-width ``ＣＭＣＣ``, ``４５．０`` and
``（米）`` become ASCII), lower case, without spaces, underscores and hyphens.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import numpy as np
import pandas as pd

from coverage.config import Config
from coverage.errors import ProblemLog

# ----------------------------------------------------------------------------------------
# Header aliases

COMMON_HEADERS: dict[str, tuple[str, ...]] = {
    "lon": ("经度", "lng", "long", "longitude", "东经", "x经度", "wgs84经度", "经度(wgs84)",
            "cgcs2000经度", "2000经度"),
    "lat": ("纬度", "latitude", "北纬", "y纬度", "wgs84纬度", "纬度(wgs84)", "cgcs2000纬度",
            "2000纬度"),
    "village_id": ("行政村编码", "行政村编号", "村编码", "村编号", "村代码", "行政村代码"),
    "group_id": ("村民组编码", "村民组编号", "组编码", "组编号"),
}
"""Aliases accepted in every layer (coordinates and the shared IDs)."""

GCJ_HEADERS: dict[str, tuple[str, ...]] = {
    "lon": ("高德经度", "腾讯经度", "火星经度", "gcj经度", "gcj02经度", "gcj_lng", "gcj_lon",
            "gcj02_lng", "gcj02_lon", "gcjlng", "gcjlon", "amap_lng", "amap_lon"),
    "lat": ("高德纬度", "腾讯纬度", "火星纬度", "gcj纬度", "gcj02纬度", "gcj_lat", "gcj02_lat",
            "gcjlat", "amap_lat"),
}
"""Column names that declare GCJ-02 (Gaode, Tencent) coordinates."""

BD_HEADERS: dict[str, tuple[str, ...]] = {
    "lon": ("百度经度", "bd经度", "bd09经度", "bd_lng", "bd_lon", "bd09_lng", "bd09_lon",
            "bdlng", "bdlon", "baidu_lng", "baidu_lon"),
    "lat": ("百度纬度", "bd纬度", "bd09纬度", "bd_lat", "bd09_lat", "bdlat", "baidu_lat"),
}
"""Column names that declare BD-09 (Baidu) coordinates."""

LAYER_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "villages": {
        "name": ("行政村", "行政村名称", "村名", "村名称", "名称"),
        "town": ("乡镇", "所属乡镇", "乡镇名称", "镇", "乡(镇)"),
        "poor": ("贫困村", "是否贫困村", "建档立卡贫困村"),
        "households": ("户数", "总户数", "农户数"),
        "fiber": ("光纤", "通光纤", "是否通光纤", "光纤到村"),
    },
    "groups": {
        "name": ("村民组", "村民组名称", "组名", "自然村", "名称"),
        "households": ("户数", "总户数", "农户数"),
        "population": ("人口", "人数", "总人口", "户籍人口"),
    },
    "points": {
        "point_id": ("测试点编号", "测试点编码", "点位编号"),
        "kind": ("类型", "点位类型", "测试点类型"),
        "name": ("名称", "测试点名称", "点位名称"),
    },
    "households": {
        "households": ("户数",),
    },
    "sites": {
        "site_id": ("站点编号", "基站编号", "站号", "站点编码", "站点id", "基站id", "小区编号"),
        "site_name": ("基站名称", "站点名称", "站名"),
        "operator": ("运营商", "所属运营商"),
        "height_m": ("挂高(米)", "挂高(m)", "挂高", "天线挂高", "天线挂高(米)", "天线挂高(m)",
                     "天线高度", "天线高度(米)"),
        "band": ("频段", "工作频段", "网络制式频段", "频段(mhz)"),
        "tower_id": ("铁塔编号", "铁塔站址编码", "站址编码", "塔号", "铁塔编码"),
        "azimuths_deg": ("方位角", "方位角(度)", "方位角(°)", "天线方位角"),
        "tilt_deg": ("下倾角", "下倾角(度)", "下倾角(°)", "总下倾角", "机械下倾角"),
        "power_dbm": ("功率(dbm)", "发射功率", "发射功率(dbm)", "功率"),
        "gain_dbi": ("增益(dbi)", "天线增益", "天线增益(dbi)", "增益"),
        "status": ("状态", "建设状态", "站点状态", "运行状态"),
        "on_air_date": ("开通日期", "开通时间", "入网日期", "投产日期"),
        "backhaul": ("传输方式", "回传方式", "回传", "传输"),
    },
    "candidates": {
        "candidate_id": ("候选站编号", "候选点编号", "候选站点编号", "编号"),
        "height_m": ("挂高(米)", "挂高(m)", "挂高", "塔高", "塔高(米)"),
        "kind": ("类型", "候选类型", "建设方式"),
        "cost": ("造价(万元)", "造价", "费用(万元)", "投资(万元)"),
    },
    "grid": {
        "work_id": ("项目编号", "工程编号", "项目编码"),
        "category": ("类别", "项目类别", "建设内容", "工程类别"),
        "owner": ("建设单位", "业主", "业主单位", "责任单位"),
        "status": ("状态", "进度", "建设状态", "项目状态"),
        "investment_wan": ("投资(万元)", "投资额(万元)", "投资", "投资额"),
        "due": ("计划完成日期", "计划完工日期", "计划完成时间"),
        "done": ("完成日期", "竣工日期", "实际完成日期"),
        "kva_after": ("改造后容量(kva)", "改造后容量", "新增后容量(kva)"),
    },
    "mobile": {
        "work_id": ("项目编号", "工程编号", "项目编码"),
        "operator": ("运营商", "建设运营商"),
        "category": ("类别", "项目类别", "建设内容", "工程类别"),
        "status": ("状态", "进度", "建设状态", "项目状态"),
        "investment_wan": ("投资(万元)", "投资额(万元)", "投资", "投资额"),
        "site_id": ("站点编号", "基站编号"),
        "due": ("计划完成日期", "计划完工日期", "计划完成时间"),
        "done": ("完成日期", "竣工日期", "实际完成日期"),
    },
    "transformers": {
        "transformer_id": ("台区编号", "变压器编号", "台区编码", "配变编号"),
        "kva": ("容量(kva)", "变压器容量", "变压器容量(kva)", "配变容量(kva)", "容量"),
        "households": ("户数", "供电户数", "台区户数", "用户数"),
    },
    "hazards": {
        "hazard_id": ("隐患编号", "隐患编码"),
        "found": ("发现日期", "发现时间"),
        "fixed": ("是否整改", "已整改", "整改完成", "是否消除"),
        "category": ("隐患类别", "类别", "隐患类型"),
        "fixed_on": ("整改日期", "整改完成日期", "整改时间", "消除日期"),
    },
    "claims": {
        "claim_id": ("认领编号", "认领编码", "编号"),
        "operator": ("运营商", "认领运营商", "认领单位"),
        "site_id": ("站点编号", "基站编号"),
        "tower_id": ("铁塔编号", "铁塔站址编码", "站址编码", "塔号"),
        "candidate_id": ("候选站编号", "候选点编号", "规划站点编号"),
        "band": ("频段", "工作频段"),
        "claimed_on": ("认领日期", "认领时间"),
        "due": ("计划开通日期", "承诺开通日期", "计划完成日期", "完成时限"),
        "status": ("状态", "进度", "认领状态"),
        "started_on": ("开工日期", "开工时间"),
        "on_air_date": ("开通日期", "开通时间", "实际开通日期"),
        "note": ("备注", "说明"),
    },
}
"""Per-layer header aliases: schema column → spellings used by offices."""

# ----------------------------------------------------------------------------------------
# Value aliases

OPERATOR_VALUES: dict[str, tuple[str, ...]] = {
    "CMCC": ("cmcc", "中国移动", "移动", "中移动", "移动公司", "中国移动通信", "chinamobile",
             "chn-cmcc", "china mobile"),
    "CT": ("ct", "ctcc", "中国电信", "电信", "电信公司", "chinatelecom", "chn-ct",
           "china telecom"),
    "CU": ("cu", "cucc", "中国联通", "联通", "联通公司", "chinaunicom", "chn-unicom", "chn-cu",
           "china unicom"),
}
"""Operator spellings → operator code (only codes present in the configuration apply)."""

CHOICE_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "status@sites": {
        "on_air": ("在网", "开通", "已开通", "运行", "在用", "已建", "现网", "onair", "on air"),
        "building": ("在建", "建设中", "施工中", "已立项"),
        "planned": ("规划", "拟建", "计划", "待建", "规划中"),
    },
    "status@works": {
        "done": ("已完成", "完成", "竣工", "已竣工", "已验收"),
        "in_progress": ("在建", "实施中", "施工中", "进行中", "建设中", "inprogress"),
        "planned": ("计划", "规划", "未开工", "待建", "拟建"),
    },
    "kind@points": {
        "committee": ("村委会", "村部", "村委", "党群服务中心"),
        "school": ("学校", "小学", "中学", "教学点"),
        "clinic": ("卫生室", "卫生院", "诊所", "村卫生室"),
        "settlement": ("自然村", "居民点", "聚居点", "村民组"),
    },
    "kind@candidates": {
        "new": ("新建", "新址", "新建铁塔"),
        "existing_tower": ("存量铁塔", "已有铁塔", "共享", "存量", "利旧"),
    },
    "status@claims": {
        "claimed": ("认领", "已认领"),
        "started": ("开工", "已开工", "在建", "施工中"),
        "on_air": ("开通", "已开通", "在网", "onair", "on air"),
        "withdrawn": ("撤回", "已撤回", "放弃", "取消"),
    },
    "backhaul@sites": {
        "fiber": ("光纤", "光缆", "光纤传输"),
        "microwave": ("微波", "微波传输"),
        "none": ("无",),
    },
}
"""Spellings of categorical values, keyed ``column@layer-group``."""

_CHOICE_GROUPS = {"sites": "sites", "grid": "works", "mobile": "works", "points": "points",
                  "candidates": "candidates", "claims": "claims"}

NO_SERVICE_VALUES: tuple[str, ...] = ("无服务", "脱网", "无信号", "no service", "noservice",
                                      "out of service", "outofservice", "no signal", "nosignal",
                                      "limited service", "仅限紧急呼叫")
"""Drive-test flags meaning "no service here"."""

NO_SERVICE_RSRP_DBM = -140.0
"""The RSRP a drive-test app writes where it had no service; stands for "no service"."""

AZIMUTH_SEPARATORS = ";；,，、/|"
"""Separators of azimuth lists (plus spaces): ``0;120;240``, ``0、120、240``, ``0/120/240``."""

# ----------------------------------------------------------------------------------------
# Bands

BAND_MHZ: dict[int, tuple[float, float]] = {
    1: (2110, 2170), 3: (1805, 1880), 5: (869, 894), 8: (925, 960), 34: (2010, 2025),
    38: (2570, 2620), 39: (1880, 1920), 40: (2300, 2400), 41: (2496, 2690), 28: (758, 803),
    78: (3300, 3800), 79: (4400, 5000),
}
"""Downlink ranges (MHz) of the 3GPP bands used in China."""

CMCC_LETTERS: dict[str, int] = {"a": 34, "d": 38, "e": 40, "f": 39}
"""China Mobile's TD-LTE letters: A = B34, D = B38 (2.6 GHz), E = B40, F = B39 (1.9 GHz)."""

_BAND_TOKEN = re.compile(
    r"^(?:(?:lte|nr|fdd|tdd|gsm|dcs|td|4g|5g)[-_ ]?)*"
    r"(?:(?P<b>[bn])(?P<bnum>\d{1,2})|(?P<mhz>\d+(?:\.\d+)?)\s*(?P<unit>mhz|m|ghz|g)?)$")


def normalise_text(value: str) -> str:
    """NFKC (full width → ASCII), stripped."""
    return unicodedata.normalize("NFKC", value).strip()


def norm_key(value: object) -> str:
    """The form names are compared in: NFKC, lower case, no spaces, ``_`` or ``-``."""
    text = normalise_text(str(value)).lower()
    return re.sub(r"[\s_\-]", "", text)


NOMINAL_MHZ: dict[float, tuple[int, ...]] = {
    700: (28,), 800: (5,), 850: (5,), 900: (8,), 1800: (3,), 1900: (39,), 2000: (34,),
    2100: (1,), 2300: (40,), 2600: (38, 41), 3500: (78,), 4900: (79,),
}
"""The figures people write for a band (MHz) and the 3GPP bands they mean."""


def bands_of_figure(mhz: float) -> tuple[int, ...]:
    """3GPP bands a written MHz figure means: the nominal figure within 5 %, else none."""
    best = min(NOMINAL_MHZ, key=lambda f: abs(f - mhz))
    return NOMINAL_MHZ[best] if abs(best - mhz) <= 0.05 * best else ()


def profile_in_band(frequency_mhz: float, number: int) -> bool:
    """Whether a profile's downlink frequency (MHz) lies in 3GPP band ``number``."""
    lo, hi = BAND_MHZ.get(number, (np.inf, -np.inf))
    return lo <= frequency_mhz <= hi


def resolve_band(value: str, operator: str, config: Config) -> tuple[str | None, list[str]]:
    """The configured band profile of ``operator`` that ``value`` names.

    ``value`` may be the profile name itself (any case), a MHz figure (``900``, ``900M``,
    ``1.8G``, ``LTE900``, ``FDD1800``), a 3GPP band (``B3``, ``B41``, ``n41``) or one of China
    Mobile's letters (``D频段``, ``F频段``). A figure means the 3GPP band(s) of the nominal
    figure within 5 % (:data:`NOMINAL_MHZ`) and matches the profiles whose frequency lies in
    them, or whose name carries the same figure.

    Returns
    -------
    name : str or None
        The profile name; None when no profile or more than one matches.
    candidates : list of str
        Every matching profile (empty: none; several: ambiguous).
    """
    bands = config.operators[operator].bands
    text = normalise_text(value)
    if text in bands:
        return text, [text]
    lowered = {b.lower(): b for b in bands}
    key = text.lower().replace(" ", "")
    if key in lowered:
        return lowered[key], [lowered[key]]
    key = key.removesuffix("频段").removesuffix("频").removesuffix("band")
    number: int | None = None
    mhz: float | None = None
    if operator == "CMCC" and key in CMCC_LETTERS:
        number = CMCC_LETTERS[key]
    else:
        m = _BAND_TOKEN.match(key)
        if m is None:
            return None, []
        if m.group("bnum"):
            number = int(m.group("bnum"))
        else:
            mhz = float(m.group("mhz"))
            if m.group("unit") in ("g", "ghz") or mhz < 10:
                mhz *= 1000.0
    numbers = (number,) if number is not None else bands_of_figure(float(mhz or 0.0))
    found = []
    for name, prof in bands.items():
        digits = re.sub(r"\D", "", name)
        ok = any(profile_in_band(prof.frequency_mhz, n) for n in numbers)
        if mhz is not None and digits and float(digits) == mhz:
            ok = True
        if ok:
            found.append(name)
    return (found[0] if len(found) == 1 else None), found


# ----------------------------------------------------------------------------------------
# Applying the vocabulary to a frame


def header_aliases(layer: str) -> dict[str, str]:
    """Normalised alias → schema column for one layer (layer aliases first)."""
    table: dict[str, str] = {}
    for target, aliases in LAYER_HEADERS.get(layer, {}).items():
        for alias in aliases:
            table.setdefault(norm_key(alias), target)
    for target, aliases in COMMON_HEADERS.items():
        for alias in aliases:
            table.setdefault(norm_key(alias), target)
    return table


def coordinate_headers(columns: list[str]) -> tuple[str | None, str | None, str | None]:
    """(lon column, lat column, datum) found among GCJ-02/BD-09 names, else Nones."""
    for datum, names in (("gcj02", GCJ_HEADERS), ("bd09", BD_HEADERS)):
        keys = {norm_key(c): c for c in columns}
        lon = next((keys[norm_key(a)] for a in names["lon"] if norm_key(a) in keys), None)
        lat = next((keys[norm_key(a)] for a in names["lat"] if norm_key(a) in keys), None)
        if lon is not None or lat is not None:
            return lon, lat, datum
    return None, None, None


def rename_headers(frame: pd.DataFrame, layer: str, known: list[str], label: str,
                   log: ProblemLog, skip: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Rename aliased headers to schema names, noting each rename once.

    A header is renamed only when its schema name is not already present; headers that are
    the schema name in full width or other case are renamed too.
    """
    table = header_aliases(layer)
    for name in known:
        table.setdefault(norm_key(name), name)
    present = set(frame.columns)
    renames: dict[str, str] = {}
    for col in frame.columns:
        if col in skip or not isinstance(col, str) or col in known:
            continue
        target = table.get(norm_key(col))
        if target is None or target in present or target in renames.values():
            continue
        renames[col] = target
    if renames:
        attrs = dict(frame.attrs)
        frame = frame.rename(columns=renames)
        frame.attrs.update(attrs)
        frame.attrs["renamed"] = {**attrs.get("renamed", {}),
                                  **{dst: src for src, dst in renames.items()}}
        for src, dst in renames.items():
            log.add(label, f"列 '{src}' 读作 {dst}", "无需处理（仅说明文件如何被读取）",
                    column=src, severity="note")
    return frame


def normalise_cells(frame: pd.DataFrame, skip: frozenset[str] = frozenset()) -> pd.DataFrame:
    """NFKC-normalise every text cell (full-width digits, letters and punctuation)."""
    frame = frame.copy()
    for col in frame.columns:
        if col in skip or (frame[col].dtype != object and not pd.api.types.is_string_dtype(
                frame[col].dtype)):
            continue
        frame[col] = frame[col].map(
            lambda v: normalise_text(v) if isinstance(v, str) else v).astype(object)
    return frame


def trim_blank_rows(frame: pd.DataFrame, skip: frozenset[str] = frozenset()) -> np.ndarray:
    """Mask of rows where every cell (outside ``skip``) is blank."""
    cols = [c for c in frame.columns if c not in skip]
    if not cols or len(frame) == 0:
        return np.zeros(len(frame), dtype=bool)
    blank = np.ones(len(frame), dtype=bool)
    for c in cols:
        values = frame[c].to_numpy(dtype=object)
        blank &= np.array([v is None or (isinstance(v, float) and np.isnan(v))
                           or (isinstance(v, str) and not v.strip()) for v in values],
                          dtype=bool)
    return blank


def map_values(frame: pd.DataFrame, layer: str, label: str, log: ProblemLog,
               config: Config) -> pd.DataFrame:
    """Read operator, status, kind and backhaul spellings as schema values (noted once)."""
    frame = frame.copy()
    group = _CHOICE_GROUPS.get(layer)
    columns: dict[str, Mapping[str, str]] = {}
    if "operator" in frame.columns:
        table = {}
        for code, spellings in OPERATOR_VALUES.items():
            if code in config.operators:
                for s in spellings:
                    table[norm_key(s)] = code
        for code, op in config.operators.items():
            for s in (code, op.name_zh, op.name_en, op.name_zh.removeprefix("中国")):
                table[norm_key(s)] = code
        columns["operator"] = table
    if group is not None:
        for key, choices in CHOICE_VALUES.items():
            col, _, grp = key.partition("@")
            if grp == group and col in frame.columns:
                table = {}
                for value, spellings in choices.items():
                    table[norm_key(value)] = value
                    for s in spellings:
                        table[norm_key(s)] = value
                columns[col] = table
    for col, lookup in columns.items():
        seen: dict[str, str] = {}
        out = []
        for v in frame[col].to_numpy(dtype=object):
            if isinstance(v, str) and v.strip():
                mapped = lookup.get(norm_key(v))
                if mapped is not None and mapped != v:
                    seen.setdefault(v, mapped)
                    out.append(mapped)
                    continue
            out.append(v)
        frame[col] = pd.Series(out, index=frame.index, dtype=object)
        for src, dst in list(seen.items())[:12]:
            log.add(label, f"列 '{col}' 的值 '{src}' 读作 {dst}",
                    "无需处理（仅说明文件如何被读取）", column=col, severity="note")
    if "azimuths_deg" in frame.columns:
        frame["azimuths_deg"] = frame["azimuths_deg"].map(
            lambda v: re.sub(f"[{re.escape(AZIMUTH_SEPARATORS)}]+", ";", v).strip(";")
            if isinstance(v, str) else v).astype(object)
    return frame


def read_no_service(frame: pd.DataFrame, label: str, log: ProblemLog) -> pd.DataFrame:
    """Drive-test rows with no service become measurements of no service.

    A row whose RSRP is blank and any of whose text cells reads as "no service"
    (:data:`NO_SERVICE_VALUES`: 无服务, 脱网, NO SERVICE ...), or whose RSRP is
    :data:`NO_SERVICE_RSRP_DBM`, is kept with RSRP = −140 dBm (below every coverage threshold)
    and ``no_service = True``, so that it counts as "measured: no service" for its operator
    (a ``no_service`` column of the file is read as one more flag column and replaced by
    this boolean). The count is noted once per file.
    """
    if "rsrp_dbm" not in frame.columns:
        return frame
    frame = frame.copy()
    flags = {norm_key(v) for v in NO_SERVICE_VALUES}
    rsrp = frame["rsrp_dbm"].to_numpy(dtype=object)
    blank = np.array([v is None or (isinstance(v, float) and np.isnan(v))
                      or (isinstance(v, str) and not v.strip()) for v in rsrp], dtype=bool)
    flagged = np.zeros(len(frame), dtype=bool)
    for col in frame.columns:
        if col in ("rsrp_dbm", "lon", "lat", "operator", "date", "tester", "point_id"):
            continue
        values = frame[col].to_numpy(dtype=object)
        flagged |= np.array([isinstance(v, str) and norm_key(v) in flags for v in values],
                            dtype=bool)
    numeric = pd.to_numeric(pd.Series(rsrp, dtype=object), errors="coerce").to_numpy(float)
    floor = np.isfinite(numeric) & (numeric <= NO_SERVICE_RSRP_DBM)
    no_service = (blank & flagged) | floor
    frame["no_service"] = no_service
    if not no_service.any():
        return frame
    out = rsrp.copy()
    out[no_service] = f"{NO_SERVICE_RSRP_DBM:g}"
    frame["rsrp_dbm"] = pd.Series(out, index=frame.index, dtype=object)
    log.add(label, f"{int(no_service.sum())} 行为无服务（RSRP 为空且标为 无服务/脱网/NO "
            f"SERVICE，或 RSRP ≤ {NO_SERVICE_RSRP_DBM:g} dBm），按“实测：无服务”计入该运营商",
            "无需处理（RSRP 记作 -140 dBm，低于任何覆盖门限）", column="rsrp_dbm",
            severity="note")
    return frame
