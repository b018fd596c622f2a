"""Check input layers against :mod:`coverage.schema` and against each other.

Each check appends :class:`~coverage.errors.Problem` records to a
:class:`~coverage.errors.ProblemLog` and never raises for bad data, so that a user sees
every problem at once. Checks are vectorised (pandas, shapely 2); a message names the
file (``file:layer``), the 1-based row, the column and the value, and says what to do.
At most :data:`MAX_ROWS_SHOWN` rows are listed per problem kind and column, then a summary.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from coverage.config import Config
from coverage.errors import ProblemLog
from coverage.io import vocab
from coverage.schema import Column, Layer

MAX_ROWS_SHOWN = 20
"""Rows listed per (file, column, problem); further rows are summarised in one line."""

EARLIEST_DATE = dt.date(1990, 1, 1)
"""Dates before this are impossible for any input (no 4G network, no such works)."""

LATEST_DATE = dt.date(2100, 12, 31)
"""Dates after this are typos."""

NOT_IN_FUTURE: frozenset[str] = frozenset({"on_air_date", "done", "found", "date",
                                           "fixed_on", "claimed_on", "started_on"})
"""Date columns that record something that already happened."""

OUTSIDE_SHARE_MAX = 0.01
"""Largest share of a group's (or village's) area allowed outside its parent (1 %)."""

POINT_TOLERANCE_M = 1.0
"""A test point this close (m) to its village counts as inside."""

HOUSEHOLD_TOLERANCE_M = 50.0
"""A household point farther than this (m) outside its group gets a warning."""

TOWER_SPREAD_M = 50.0
"""Sites on one tower farther apart than this (m) get a warning."""

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "有", "x"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "无"})
_AZ_SPLIT = re.compile(r"[;,，；/|\s]+")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T_].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")

KIND_WORDS = {
    "int": "a whole number", "float": "a number", "bool": "yes/no (true/false)",
    "date": "a date (YYYY-MM-DD)", "azimuths": "a list of azimuths like '0;120;240'",
}


def log_rows(log: ProblemLog, label: str, rows: np.ndarray, column: str | None,
             values: pd.Series | np.ndarray | None, message: str, fix: str,
             severity: str = "error") -> None:
    """Log one problem per listed row (0-based positions), capped, then a summary line.

    Parameters
    ----------
    rows : ndarray of int
        0-based row positions; reported 1-based.
    values : Series or ndarray, optional
        Values aligned with the frame (indexed by position), shown in the message.
    """
    rows = np.asarray(rows, dtype=int)
    for i in rows[:MAX_ROWS_SHOWN]:
        value = None
        if values is not None:
            v = values.iloc[i] if isinstance(values, pd.Series) else values[i]
            value = None if _isblank(v) else v
        log.add(label, message, fix, row=int(i) + 1, column=column, value=value,
                severity=severity)
    if len(rows) > MAX_ROWS_SHOWN:
        log.add(label, f"{len(rows) - MAX_ROWS_SHOWN} more row(s) with the same problem "
                f"({message})", "fix the rows listed above and re-run to see the rest",
                column=column, severity=severity)


def _isblank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return v is pd.NA or v is pd.NaT


# ----------------------------------------------------------------------------------------
# Raw values to text


def as_text(series: pd.Series) -> pd.Series:
    """Values of any stored type as stripped text; None where blank.

    Integral floats lose their ``.0`` (so an ID stored as 12.0 reads ``"12"``), datetimes
    become ``YYYY-MM-DD`` (with time when not midnight), booleans ``true``/``false``.
    """
    s = series
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        stamps = pd.to_datetime(s)
        fmt = np.where((stamps.dt.normalize() == stamps).fillna(True), "%Y-%m-%d",
                       "%Y-%m-%d %H:%M:%S")
        values: list[str | None] = [None if pd.isna(t) else t.strftime(f)
                  for t, f in zip(stamps, fmt, strict=True)]
    elif pd.api.types.is_float_dtype(s.dtype):
        values = [_float_text(v) for v in s.to_numpy(dtype=float, na_value=np.nan)]
    else:
        values = [_obj_text(v) for v in s.to_numpy(dtype=object)]
    return pd.Series(values, index=s.index, dtype=object)


def _float_text(f: float) -> str | None:
    if np.isnan(f):
        return None
    return str(int(f)) if f == np.trunc(f) and abs(f) < 1e15 else repr(float(f))


def _obj_text(v: object) -> str | None:
    if isinstance(v, str):
        return v.strip() or None
    if _isblank(v):
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", errors="replace")
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return _float_text(float(v))
    if isinstance(v, dt.datetime | pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    text = str(v).strip()
    return text or None


# ----------------------------------------------------------------------------------------
# Columns


def normalise_columns(frame: pd.DataFrame, spec: Layer, label: str, log: ProblemLog,
                      *, has_geometry: bool) -> pd.DataFrame:
    """Match column names to the schema; report missing and likely misspelt columns.

    A name that differs from a known column only in case is renamed silently. For a Point
    layer with geometry, ``lon``/``lat`` are not required (they are derived). Extra
    columns are kept; one that looks like a misspelling of a known column (difflib)
    gets a warning naming the known column.
    """
    known = [c.name for c in spec.columns]
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    present = [c for c in frame.columns if c != geom_name]
    renames = {}
    lowered = {c.lower(): c for c in present}
    for name in known:
        if name not in present and name.lower() in lowered:
            renames[lowered[name.lower()]] = name
    if renames:
        frame = frame.rename(columns=renames)
        present = [renames.get(c, c) for c in present]
    absent = [n for n in known if n not in present]
    extras = [c for c in present if c not in known]
    suggestion: dict[str, str] = {}
    for extra in extras:
        match = difflib.get_close_matches(extra.lower(), absent, n=1, cutoff=0.75)
        if match:
            suggestion[match[0]] = extra
            log.add(label, f"unknown column '{extra}' looks like a misspelling of the known "
                    f"column '{match[0]}'", f"rename '{extra}' to '{match[0]}' (as it is, the "
                    "column is carried through but not used)", column=extra,
                    severity="warning")
    coords_derived = has_geometry and spec.geometry == "Point"
    for col in spec.columns:
        if not col.required or col.name in present:
            continue
        if coords_derived and col.name in ("lon", "lat"):
            continue
        fix = (f"rename column '{suggestion[col.name]}' to '{col.name}'" if col.name in
               suggestion else f"add a '{col.name}' column ({_describe(col)})")
        log.add(label, f"missing required column '{col.name}'", fix, column=col.name)
    return frame


def _describe(col: Column) -> str:
    parts = [KIND_WORDS.get(col.kind, "text")]
    if col.unit:
        parts.append(col.unit)
    if col.choices:
        parts.append("one of " + "/".join(col.choices))
    return ", ".join(parts)


def operator_aliases(config: Config) -> dict[str, str]:
    """Lower-case spellings of each operator (code, Chinese and English names) to its code."""
    aliases: dict[str, str] = {}
    for code, op in config.operators.items():
        for name in (code, op.name_zh, op.name_en, op.name_zh.removeprefix("中国")):
            aliases[name.strip().lower()] = code
    return aliases


# ----------------------------------------------------------------------------------------
# Field measurements as exported by drive-test apps or typed in by hand

MEASUREMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "rsrp_dbm": ("rsrp", "rsrpdbm", "ltersrp", "servingrsrp", "参考信号接收功率", "rsrp值"),
    "sinr_db": ("sinr", "sinrdb", "rssinr", "snr", "rssnr", "ltesinr", "ltesnr", "信噪比"),
    "date": ("date", "datetime", "timestamp", "time", "测试日期", "测试时间", "日期", "时间"),
    "tester": ("tester", "testername", "surveyor", "inspector", "user", "测试人", "测试人员"),
    "point_id": ("pointid", "testpoint", "testpointid", "测试点", "测试点编号"),
    "operator": ("operator", "operatorname", "carrier", "networkoperator", "plmn", "mccmnc",
                 "运营商"),
}
"""Normalised column names (lower case, no spaces, ``_-()./``) read as each schema column,
in order of preference, when the schema name itself is absent."""

LEVEL_COLUMN = "level"
"""Some apps call LTE RSRP "Level"; read as ``rsrp_dbm`` (with a warning) as a last resort."""

PLMN_MNC: dict[str, tuple[int, ...]] = {
    "CMCC": (0, 2, 4, 7, 8, 13), "CU": (1, 6, 9), "CT": (3, 5, 11)}
"""Mobile network codes of the Chinese operators (mobile country code 460)."""

_OPERATOR_SPELLINGS = {
    "chn-cmcc": "CMCC", "cmcc": "CMCC", "chinamobile": "CMCC", "中国移动通信": "CMCC",
    "chn-unicom": "CU", "chn-cu": "CU", "chinaunicom": "CU", "cucc": "CU", "中国联合通信": "CU",
    "chn-ct": "CT", "chn-telecom": "CT", "chinatelecom": "CT", "ctcc": "CT",
}
_PLMN = re.compile(r"^460[\s\-_/]?0?(\d{1,2})$")


def _norm_name(name: str) -> str:
    return re.sub(r"[\s_\-()（）\[\]./]", "", str(name).lower())


def _mnc_operator(mnc: int, config: Config) -> str | None:
    for code, mncs in PLMN_MNC.items():
        if mnc in mncs and code in config.operators:
            return code
    return None


def normalise_measurements(frame: pd.DataFrame, label: str, log: ProblemLog, config: Config
                           ) -> tuple[pd.DataFrame, frozenset[str]]:
    """Read a drive-test export or a hand-typed table as the measurements schema.

    Renames known column spellings (:data:`MEASUREMENT_ALIASES`, e.g. ``RSRP``, ``SINR``,
    ``Timestamp``, ``Operatorname``, ``运营商``) to the schema names; reads PLMN codes
    (``46000``, ``460-01``) and spellings such as ``CHN-UNICOM`` in the operator column; and,
    without an operator column, derives the operator from ``MNC`` (and ``MCC``, which must be
    460). Unknown MNCs are errors; everything else is checked afterwards as for any layer.

    Returns
    -------
    frame : DataFrame
        With schema column names.
    checked : frozenset of str
        Columns already checked here (pass as ``quiet`` to :func:`convert_values`).
    """
    frame = frame.copy()
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    columns = [c for c in frame.columns if c != geom_name]
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm_name(c), c)
    present = {c.lower() for c in columns}
    renames: dict[str, str] = {}
    for target, aliases in MEASUREMENT_ALIASES.items():
        if target in present:
            continue
        for alias in aliases:
            source = by_norm.get(alias)
            if source is not None and source not in renames and source.lower() not in {
                    t for t in MEASUREMENT_ALIASES if t != target}:
                renames[source] = target
                break
    if "rsrp_dbm" not in present and "rsrp_dbm" not in renames.values() \
            and LEVEL_COLUMN in by_norm:
        renames[by_norm[LEVEL_COLUMN]] = "rsrp_dbm"
        log.add(label, f"column '{by_norm[LEVEL_COLUMN]}' read as RSRP (dBm)",
                "name the column rsrp_dbm (or RSRP) to make this explicit", severity="warning")
    frame = vocab.read_no_service(frame.rename(columns=renames), label, log)
    op_col = next((c for c in frame.columns if c != geom_name and str(c).lower() == "operator"),
                  None)
    if op_col is not None:
        text = as_text(frame[op_col])
        frame[op_col] = pd.Series(
            [_operator_spelling(t, config) for t in text], index=frame.index, dtype=object)
    elif "mnc" in by_norm:
        frame = _operator_from_mnc(frame, by_norm, label, log, config)
        return frame, frozenset({"operator"})
    return frame, frozenset()


def _operator_spelling(value: str | None, config: Config) -> str | None:
    """Operator code for a PLMN (``46000``) or a known spelling; the value itself otherwise."""
    if value is None:
        return None
    key = value.strip().lower()
    m = _PLMN.match(key)
    if m:
        return _mnc_operator(int(m.group(1)), config) or value
    code = _OPERATOR_SPELLINGS.get(key.replace(" ", ""))
    return code if code is not None and code in config.operators else value


def _operator_from_mnc(frame: pd.DataFrame, by_norm: dict[str, str], label: str,
                       log: ProblemLog, config: Config) -> pd.DataFrame:
    col = by_norm["mnc"]
    mnc = pd.to_numeric(as_text(frame[col]), errors="coerce").to_numpy(dtype=float)
    ops = [None if not np.isfinite(m) else _mnc_operator(int(m), config) for m in mnc]
    bad = np.flatnonzero([o is None for o in ops])
    if len(bad):
        known = ", ".join(f"{code} {'/'.join(f'{m:02d}' for m in mncs)}"
                          for code, mncs in PLMN_MNC.items() if code in config.operators)
        log_rows(log, label, bad, col, frame[col], "unknown MNC (mobile network code)",
                 f"use an MNC of a configured operator ({known}), or add an operator column")
    if "mcc" in by_norm:
        mcc = pd.to_numeric(as_text(frame[by_norm["mcc"]]), errors="coerce").to_numpy(float)
        foreign = np.flatnonzero(mcc != 460)
        if len(foreign):
            log_rows(log, label, foreign, by_norm["mcc"], frame[by_norm["mcc"]],
                     "not a Chinese network (MCC must be 460)",
                     "remove measurements of foreign networks")
    # rows with a bad MNC keep it as text (reported above, the run stops)
    frame["operator"] = pd.Series([o if o is not None else f"MNC {t}" for o, t in
                                   zip(ops, as_text(frame[col]), strict=True)],
                                  index=frame.index, dtype=object)
    return frame


def convert_values(frame: pd.DataFrame, spec: Layer, label: str, log: ProblemLog,
                   config: Config, *, quiet: frozenset[str] = frozenset()
                   ) -> pd.DataFrame:
    """Check and convert every known column present in ``frame``.

    Reports empty required values, values of the wrong type (text in a numeric column,
    bad dates, bad azimuth lists, non yes/no booleans), out-of-range numbers and unknown
    choices (operators come from the configuration). Converted columns: ``str`` → text
    (NaN where blank), ``float`` → float64 (NaN), ``int`` → int64 (``Int64`` when some are
    blank), ``bool`` → bool (``boolean`` when some are blank), ``date`` → datetime64,
    ``azimuths`` → an extra ``azimuths`` column of float tuples (empty tuple = omni).
    Columns named in ``quiet`` are converted without reporting (already checked). Extra
    text columns are kept, stripped, with NaN where blank.
    """
    frame = frame.copy()
    known = {c.name for c in spec.columns}
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for name in frame.columns:
        if name not in known and name != geom_name and (
                pd.api.types.is_string_dtype(frame[name].dtype)
                or frame[name].dtype == object):
            text = as_text(frame[name]) if frame[name].dtype != object else frame[name].map(
                _obj_text)
            frame[name] = pd.Series(text.to_numpy(dtype=object), index=frame.index,
                                    dtype="str")
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        target = ProblemLog() if col.name in quiet else log
        text = as_text(frame[col.name])
        blank = text.isna().to_numpy()
        if col.required:
            rows = np.flatnonzero(blank)
            if len(rows):
                log_rows(target, label, rows, col.name, None, "empty value in required column",
                         f"fill in '{col.name}' ({_describe(col)}) on every row")
        parser = _PARSERS[col.kind]
        frame = parser(frame, col, text, blank, label, target, config)
    return frame


def _parse_str(frame, col, text, blank, label, log, config):
    if col.choices is not None or col.name == "operator":
        if col.name == "operator":
            aliases = operator_aliases(config)
            allowed = list(config.operators)
        else:
            aliases = {c.lower(): c for c in col.choices}
            allowed = list(col.choices)
        mapped = text.map(lambda v: None if v is None else aliases.get(v.lower()))
        bad = np.flatnonzero(~blank & mapped.isna().to_numpy())
        if len(bad):
            log_rows(log, label, bad, col.name, text,
                     f"unknown {col.name} (allowed: {', '.join(allowed)})",
                     f"use one of {', '.join(allowed)}")
        text = mapped.where(mapped.notna(), text)
    frame[col.name] = pd.Series(text.to_numpy(dtype=object), index=frame.index, dtype="str")
    return frame


def _parse_number(frame, col, text, blank, label, log, config):
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)
    bad_mask = ~blank & ~np.isfinite(values)
    bad = np.flatnonzero(bad_mask)
    if len(bad):
        log_rows(log, label, bad, col.name, text, f"not {KIND_WORDS[col.kind]}",
                 f"write '{col.name}' as {KIND_WORDS[col.kind]}"
                 + (f" in {col.unit}" if col.unit else "") + ", without units or text")
    values[bad_mask] = np.nan
    if col.kind == "int":
        frac = np.isfinite(values) & (values != np.trunc(values))
        idx = np.flatnonzero(frac)
        if len(idx):
            log_rows(log, label, idx, col.name, text, "not a whole number",
                     f"write '{col.name}' as a whole number")
            values[frac] = np.nan
    if col.min is not None or col.max is not None:
        lo = -np.inf if col.min is None else col.min
        hi = np.inf if col.max is None else col.max
        with np.errstate(invalid="ignore"):
            out = np.isfinite(values) & ((values < lo) | (values > hi))
        idx = np.flatnonzero(out)
        if len(idx):
            unit = f" {col.unit}" if col.unit else ""
            log_rows(log, label, idx, col.name, text,
                     f"out of range: {col.name} must be between {_num(lo)} and {_num(hi)}{unit}",
                     f"correct '{col.name}' (check the unit and for typos)")
    if col.kind == "int":
        if np.isfinite(values).all():
            frame[col.name] = values.astype(np.int64)
        else:
            frame[col.name] = pd.array(
                [pd.NA if not np.isfinite(v) else int(v) for v in values], dtype="Int64")
    else:
        frame[col.name] = values
    return frame


def _num(v: float) -> str:
    return f"{v:g}"


def _parse_bool(frame, col, text, blank, label, log, config):
    low = text.map(lambda v: None if v is None else v.lower())
    is_true = low.isin(_TRUE).to_numpy()
    is_false = low.isin(_FALSE).to_numpy()
    bad = np.flatnonzero(~blank & ~is_true & ~is_false)
    if len(bad):
        log_rows(log, label, bad, col.name, text, "not a yes/no value",
                 f"write '{col.name}' as true/false (or 1/0, yes/no, 是/否)")
    if not blank.any() and not len(bad):
        frame[col.name] = is_true
    else:
        frame[col.name] = pd.array(
            [True if t else (False if f else pd.NA) for t, f in zip(is_true, is_false,
                                                                     strict=True)],
            dtype="boolean")
    return frame


def parse_dates(text: pd.Series) -> pd.Series:
    """Parse ``YYYY-MM-DD`` (also ``/``, ``.``, ``YYYYMMDD`` and ``2020年5月1日``) to Timestamps.

    Returns datetime64 values, NaT where blank or unparseable.
    """
    def norm(v: str | None) -> str | None:
        if v is None:
            return None
        s = v.replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-")
        s = s.replace(".", "-").strip()
        m = _DATE_ISO.match(s) or _DATE_COMPACT.match(s)
        if not m:
            return None
        return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"

    normed = text.map(norm)
    return pd.to_datetime(normed, format="%Y-%m-%d", errors="coerce")


def _parse_date(frame, col, text, blank, label, log, config):
    stamps = parse_dates(text)
    bad_mask = ~blank & stamps.isna().to_numpy()
    bad = np.flatnonzero(bad_mask)
    if len(bad):
        log_rows(log, label, bad, col.name, text, "not a valid date",
                 f"write '{col.name}' as YYYY-MM-DD, e.g. 2020-06-30")
    early = np.flatnonzero((stamps < pd.Timestamp(EARLIEST_DATE)).to_numpy())
    if len(early):
        log_rows(log, label, early, col.name, text,
                 f"impossible date: before {EARLIEST_DATE.isoformat()}",
                 f"correct '{col.name}' (check the year)")
    late = np.flatnonzero((stamps > pd.Timestamp(LATEST_DATE)).to_numpy())
    if len(late):
        log_rows(log, label, late, col.name, text,
                 f"impossible date: after {LATEST_DATE.isoformat()}",
                 f"correct '{col.name}' (check the year)")
    frame[col.name] = stamps.to_numpy()
    return frame


def parse_azimuths(value: str | None) -> tuple[float, ...] | None:
    """Parse ``"0;120;240"`` (also commas/spaces) to azimuths in [0, 360); None if invalid.

    An empty value gives ``()`` (omnidirectional).
    """
    if value is None:
        return ()
    parts = [p for p in _AZ_SPLIT.split(value.strip()) if p]
    out = []
    for p in parts:
        try:
            a = float(p)
        except ValueError:
            return None
        if not np.isfinite(a) or a < 0 or a > 360:
            return None
        out.append(a % 360.0)
    return tuple(out)


def _parse_azimuths(frame, col, text, blank, label, log, config):
    parsed = [parse_azimuths(v) for v in text]
    bad = np.array([p is None for p in parsed], dtype=bool)
    idx = np.flatnonzero(bad)
    if len(idx):
        log_rows(log, label, idx, col.name, text,
                 "not a list of azimuths (degrees 0-360 separated by ';')",
                 f"write '{col.name}' like 0;120;240, or leave it empty for an omni antenna")
    frame["azimuths"] = pd.Series([() if p is None else p for p in parsed], index=frame.index,
                                  dtype=object)
    frame[col.name] = pd.Series(text.to_numpy(dtype=object), index=frame.index, dtype="str")
    return frame


_PARSERS = {
    "str": _parse_str, "int": _parse_number, "float": _parse_number, "bool": _parse_bool,
    "date": _parse_date, "azimuths": _parse_azimuths,
}


def check_future_dates(frame: pd.DataFrame, spec: Layer, label: str, log: ProblemLog,
                       today: dt.date) -> None:
    """Dates of things that already happened must not lie after ``today``.

    A site's ``on_air_date`` may lie in the future when its status is planned or building.
    """
    limit = pd.Timestamp(today)
    for col in spec.columns:
        if col.kind != "date" or col.name not in NOT_IN_FUTURE or col.name not in frame:
            continue
        stamps = pd.to_datetime(frame[col.name])
        future = np.array(stamps > limit, dtype=bool)
        if col.name == "on_air_date" and "status" in frame:
            future &= ~frame["status"].isin(["planned", "building"]).to_numpy()
        idx = np.flatnonzero(future)
        if len(idx):
            text = stamps.dt.strftime("%Y-%m-%d")
            what = ("the site is on air" if col.name == "on_air_date" else "it already happened")
            fix = ("set status to planned/building, or correct the date"
                   if col.name == "on_air_date" else f"correct '{col.name}'")
            log_rows(log, label, idx, col.name, text,
                     f"impossible date: after today ({today.isoformat()}) though {what}", fix)


def check_bands(sites: pd.DataFrame, label: str, log: ProblemLog, config: Config) -> None:
    """Each site's band must name exactly one of its operator's configured bands.

    Besides the profile name, bands written by frequency are resolved to the operator's
    profile (:func:`coverage.io.vocab.resolve_band`: ``900``, ``1.8G``, ``LTE900``, ``B3``,
    ``FDD1800``, China Mobile's ``D频段``); each spelling read so is noted once. A band that
    names no profile, or several, is an error.
    """
    if "band" not in sites or "operator" not in sites:
        return
    ops = sites["operator"].astype(object)
    bands = sites["band"].astype(object)
    bad: dict[tuple[str, str], list[int]] = {}
    noted: dict[tuple[str, str], str] = {}
    for i, (op, band) in enumerate(zip(ops, bands, strict=True)):
        if op in config.operators and not _isblank(band):
            known = config.operators[op].bands
            if band in known:
                continue
            name, found = vocab.resolve_band(str(band), op, config)
            if name is None:
                key = (op, "ambiguous" if found else "unknown")
                bad.setdefault(key, []).append(i)
            else:
                if name.lower() != str(band).lower():
                    noted.setdefault((op, str(band)), name)
                bands.iloc[i] = name
    sites["band"] = pd.Series(bands.to_numpy(dtype=object), index=sites.index, dtype="str")
    for (op, written), name in noted.items():
        prof = config.operators[op].bands[name]
        log.add(label, f"{op} 的频段 '{written}' 读作 {name}（{prof.frequency_mhz:g} MHz）",
                "无需处理（按频率对应到配置中的频段）", column="band", severity="note")
    raw = sites["band"]
    for (op, why), rows in bad.items():
        listed = ", ".join(f"{b} ({p.frequency_mhz:g} MHz)"
                           for b, p in config.operators[op].bands.items())
        if why == "ambiguous":
            log_rows(log, label, np.array(rows), "band", raw,
                     f"{op} 的频段写法对应多个已配置频段（已配置：{listed}）",
                     f"写明频段名称，如 {next(iter(config.operators[op].bands))}")
        else:
            log_rows(log, label, np.array(rows), "band", raw,
                     f"unknown band for operator {op} (configured: {listed}); 该运营商没有这个频段",
                     f"写成已配置的频段之一（名称、MHz 或 3GPP 编号，如 {listed}）；若该站确实用"
                     f"此频段，在配置 [operators.{op}.bands] 中按运营商提供的参数添加")


# ----------------------------------------------------------------------------------------
# IDs and references


def check_unique_ids(frame: pd.DataFrame, spec: Layer, label: str, log: ProblemLog) -> None:
    """Every value of the layer's ID column must be unique."""
    if spec.id_column is None or spec.id_column not in frame:
        return
    ids = frame[spec.id_column].astype(object)
    dup = ids.notna() & ids.duplicated(keep="first")
    idx = np.flatnonzero(dup.to_numpy())
    if not len(idx):
        return
    first = {v: i for i, v in reversed(list(enumerate(ids)))}
    for i in idx[:MAX_ROWS_SHOWN]:
        log.add(label, f"duplicate {spec.id_column} (first used on row {first[ids.iloc[i]] + 1})",
                f"give every row its own {spec.id_column}", row=int(i) + 1,
                column=spec.id_column, value=ids.iloc[i])
    if len(idx) > MAX_ROWS_SHOWN:
        log.add(label, f"{len(idx) - MAX_ROWS_SHOWN} more duplicate {spec.id_column}(s)",
                "fix the rows listed above and re-run to see the rest",
                column=spec.id_column)


def check_reference(child: pd.DataFrame, label: str, column: str, parent_ids: pd.Series,
                    parent_label: str, log: ProblemLog) -> np.ndarray:
    """Values of ``child[column]`` must exist in ``parent_ids`` (blank values are skipped).

    Returns
    -------
    ndarray of bool
        True for rows whose reference resolves.
    """
    if column not in child:
        return np.zeros(len(child), dtype=bool)
    values = child[column].astype(object)
    known = set(parent_ids.dropna().astype(object))
    ok = values.isin(known).to_numpy()
    bad = np.flatnonzero(values.notna().to_numpy() & ~ok)
    zeros = np.array([_lost_zeros(values.iloc[i], known) for i in bad], dtype=bool)
    plain, damaged = bad[~zeros] if len(bad) else bad, bad[zeros] if len(bad) else bad
    if len(plain):
        log_rows(log, label, plain, column, values,
                 f"{column} not found in {parent_label} (dangling reference)",
                 f"use a {column} that exists in {parent_label}, or add it there")
    if len(damaged):
        log_rows(log, label, damaged, column, values,
                 f"{column} not found in {parent_label}: Excel 去掉了编号的前导零（{parent_label} "
                 "中有补零后的同一编号）",
                 f"在原始表中将 '{column}' 列设置为“文本”格式并重新输入编号（保留前导零）")
    return ok


def _lost_zeros(value: object, known: set) -> bool:
    """Whether ``value`` is a parent ID with its leading zeros cut (Excel's number format)."""
    text = str(value)
    if not text.isdigit():
        return False
    return any(isinstance(k, str) and k.isdigit() and len(k) > len(text)
               and k.lstrip("0") == text.lstrip("0") for k in known)


# ----------------------------------------------------------------------------------------
# Geometry


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """The polygonal part of a geometry (None when it has none)."""
    if geom is None or geom.is_empty:
        return None
    parts = shapely.get_parts(geom)
    polys = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.union_all(polys)


def check_geometries(gdf: gpd.GeoDataFrame, spec: Layer, label: str, log: ProblemLog,
                     *, coords_reported: bool = False) -> gpd.GeoDataFrame:
    """Check geometries; repair invalid polygons where that is safe.

    Empty/missing geometries and wrong geometry types are errors (missing ones are not
    reported again when ``coords_reported``: a CSV's bad lon/lat were reported already).
    An invalid polygon is repaired, with a warning, when both GEOS repair methods
    (linework and structure) agree on its area within 1 %; otherwise it is an error.
    Returns the frame with repaired geometries (single-point MultiPoints become Points).
    """
    gdf = gdf.copy()
    geoms = np.array(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    # a layer whose geometry is optional (works tables) may leave it empty
    report = not coords_reported and spec.geometry is not None
    idx = np.flatnonzero(missing) if report else np.array([], dtype=int)
    if len(idx):
        log_rows(log, label, idx, "geometry", None, "empty or missing geometry",
                 f"draw the {str(spec.geometry).lower()} of this row, or delete the row")
    types = shapely.get_type_id(geoms)
    if spec.geometry == "Point":
        single_mp = (types == 4) & (shapely.get_num_geometries(geoms) == 1)
        if single_mp.any():
            geoms[single_mp] = shapely.get_geometry(geoms[single_mp], 0)
            types = shapely.get_type_id(geoms)
        wrong = ~missing & (types != 0)
        expected = "a point"
    elif spec.geometry == "Polygon":
        wrong = ~missing & ~np.isin(types, (3, 6))
        expected = "a polygon"
    else:
        wrong = np.zeros(len(geoms), dtype=bool)
        expected = ""
    idx = np.flatnonzero(wrong)
    if len(idx):
        names = pd.Series(shapely.get_type_id(geoms)).map(_TYPE_NAMES)
        log_rows(log, label, idx, "geometry", names, f"wrong geometry type (expected {expected})",
                 f"store {spec.key} as {expected.split()[-1]} geometry")
    if spec.geometry == "Polygon":
        candidates = ~missing & ~wrong
        invalid = np.flatnonzero(candidates & ~shapely.is_valid(geoms))
        repaired_rows, broken_rows, reasons = [], [], []
        for i in invalid:
            g = geoms[i]
            reason = shapely.is_valid_reason(g)
            lw = _polygonal(shapely.make_valid(g, method="linework"))
            st = _polygonal(shapely.make_valid(g, method="structure", keep_collapsed=False))
            a1 = 0.0 if lw is None else lw.area
            a2 = 0.0 if st is None else st.area
            reasons.append(reason)
            if a1 > 0 and abs(a1 - a2) <= OUTSIDE_SHARE_MAX * max(a1, a2):
                geoms[i] = lw
                repaired_rows.append(i)
            else:
                broken_rows.append(i)
        reason_of = dict(zip(invalid, reasons, strict=True))
        if repaired_rows:
            vals = pd.Series({i: reason_of[i] for i in repaired_rows}).reindex(range(len(geoms)))
            log_rows(log, label, np.array(repaired_rows), "geometry", vals,
                     "invalid polygon repaired (area kept within 1 %)",
                     "check the polygon's outline and fix it in QGIS (Vector > Geometry Tools "
                     "> Check Validity) to be sure", severity="warning")
        if broken_rows:
            vals = pd.Series({i: reason_of[i] for i in broken_rows}).reindex(range(len(geoms)))
            log_rows(log, label, np.array(broken_rows), "geometry", vals,
                     "invalid polygon that cannot be repaired safely",
                     "redraw the polygon so that its outline does not cross itself")
    gdf[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return gdf


_TYPE_NAMES = {
    -1: "missing", 0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
    5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection",
}


def usable(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """True for rows with a present, non-empty, valid geometry (safe for overlay checks)."""
    g = np.asarray(gdf.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    ok[ok] = shapely.is_valid(g[ok])
    return ok


def check_groups_in_villages(groups: gpd.GeoDataFrame, villages: gpd.GeoDataFrame,
                             label: str, village_label: str, log: ProblemLog) -> None:
    """A group may not lie more than 1 % (of its area) outside its village."""
    vmap = _geom_by_id(villages, "village_id")
    parent = groups["village_id"].astype(object).map(vmap)
    g = np.asarray(groups.geometry.array, dtype=object)
    p = parent.to_numpy(dtype=object)
    ok = usable(groups) & pd.notna(parent).to_numpy()
    if not ok.any():
        return
    share = np.zeros(len(g))
    area = shapely.area(g[ok])
    outside = shapely.area(shapely.difference(g[ok], p[ok]))
    share[ok] = np.where(area > 0, outside / np.where(area > 0, area, 1), 0)
    idx = np.flatnonzero(share > OUTSIDE_SHARE_MAX)
    if len(idx):
        vals = pd.Series([f"{share[i]:.0%} outside village {groups['village_id'].iloc[i]}"
                          for i in range(len(g))])
        log_rows(log, label, idx, "geometry", vals,
                 f"group lies outside its village (more than {OUTSIDE_SHARE_MAX:.0%} of its "
                 f"area is outside the village polygon in {village_label})",
                 "check the group's village_id, or redraw the group inside its village")


def check_points_in_villages(points: gpd.GeoDataFrame, villages: gpd.GeoDataFrame,
                             groups: gpd.GeoDataFrame | None, label: str, log: ProblemLog
                             ) -> None:
    """Test points must lie in their village; a point's group must belong to its village."""
    vmap = _geom_by_id(villages, "village_id")
    parent = points["village_id"].astype(object).map(vmap)
    ok = usable(points) & pd.notna(parent).to_numpy()
    if ok.any():
        dist = np.zeros(len(points))
        g = np.asarray(points.geometry.array, dtype=object)
        dist[ok] = shapely.distance(g[ok], parent.to_numpy(dtype=object)[ok])
        idx = np.flatnonzero(dist > POINT_TOLERANCE_M)
        if len(idx):
            vals = pd.Series([f"{dist[i]:.0f} m outside village {points['village_id'].iloc[i]}"
                              for i in range(len(points))])
            log_rows(log, label, idx, "geometry", vals, "test point lies outside its village",
                     "check the point's coordinates and its village_id")
    if (groups is not None and "group_id" in points and "village_id" in groups
            and "group_id" in groups):
        gv = dict(zip(groups["group_id"].astype(object), groups["village_id"].astype(object),
                      strict=True))
        their = points["group_id"].astype(object).map(gv)
        clash = their.notna() & (their != points["village_id"].astype(object))
        idx = np.flatnonzero(clash.to_numpy())
        if len(idx):
            log_rows(log, label, idx, "group_id", points["group_id"].astype(object),
                     "the point's group belongs to another village",
                     "make group_id and village_id of the point agree")


def check_households_in_groups(households: gpd.GeoDataFrame, groups: gpd.GeoDataFrame,
                               label: str, log: ProblemLog) -> None:
    """Household points farther than 50 m outside their group get a warning."""
    gmap = _geom_by_id(groups, "group_id")
    parent = households["group_id"].astype(object).map(gmap)
    ok = usable(households) & pd.notna(parent).to_numpy()
    if not ok.any():
        return
    dist = np.zeros(len(households))
    g = np.asarray(households.geometry.array, dtype=object)
    dist[ok] = shapely.distance(g[ok], parent.to_numpy(dtype=object)[ok])
    idx = np.flatnonzero(dist > HOUSEHOLD_TOLERANCE_M)
    if len(idx):
        vals = pd.Series([f"{d:.0f} m" for d in dist])
        log_rows(log, label, idx, "geometry", vals, "household point lies outside its group",
                 "check the point's coordinates and group_id", severity="warning")


def check_work_transformers(works: pd.DataFrame, transformers: pd.DataFrame, label: str,
                            transformers_label: str, log: ProblemLog) -> None:
    """A grid work's ``transformer_id`` must name a transformer of the same village.

    A capacity upgrade applied to a transformer that is not in the register, or that stands
    in another village, would change the wrong village's 户均配变容量 (kVA per household).
    """
    if "transformer_id" not in works or "transformer_id" not in transformers:
        return
    named = works["transformer_id"].astype(object).to_numpy()
    has = pd.notna(named) & (pd.Series(named).astype(str).str.strip() != "").to_numpy()
    if not has.any():
        return
    owner = dict(zip(transformers["transformer_id"].astype(str).tolist(),
                     transformers["village_id"].astype(str).tolist(), strict=True)) \
        if "village_id" in transformers else {}
    unknown = [i for i in np.flatnonzero(has) if str(named[i]) not in owner]
    if unknown:
        log_rows(log, label, np.asarray(unknown), "transformer_id", pd.Series(named),
                 f"the work names a transformer that is not in {transformers_label}",
                 f"correct the transformer_id, or add the transformer to {transformers_label}")
    if "village_id" not in works:
        return
    village = works["village_id"].astype(str).to_numpy()
    elsewhere = [i for i in np.flatnonzero(has) if str(named[i]) in owner
                 and owner[str(named[i])] != village[i]]
    if elsewhere:
        vals = pd.Series([f"{named[i]} (village {owner.get(str(named[i]), '')})"
                          if i in elsewhere else "" for i in range(len(works))])
        log_rows(log, label, np.asarray(elsewhere), "transformer_id", vals,
                 "the work's transformer stands in another village",
                 "correct the transformer_id or the work's village_id")


def _geom_by_id(frame: gpd.GeoDataFrame, id_col: str) -> pd.Series:
    keep = usable(frame) & frame[id_col].notna().to_numpy()
    sub = frame.loc[keep, [id_col, frame.geometry.name]]
    sub = sub.drop_duplicates(id_col)
    return pd.Series(np.asarray(sub.geometry.array, dtype=object),
                     index=sub[id_col].astype(object).to_numpy())


def check_shared_towers(sites: gpd.GeoDataFrame, label: str, log: ProblemLog) -> None:
    """Sites sharing a tower_id should stand within 50 m of the tower's first site."""
    if "tower_id" not in sites or len(sites) == 0:
        return
    ok = usable(sites)
    xs = np.full(len(sites), np.nan)
    ys = np.full(len(sites), np.nan)
    g = np.asarray(sites.geometry.array, dtype=object)
    xs[ok], ys[ok] = shapely.get_x(g[ok]), shapely.get_y(g[ok])
    frame = pd.DataFrame({"t": sites["tower_id"].astype(object).to_numpy(), "x": xs, "y": ys})
    first = frame.groupby("t", sort=False)[["x", "y"]].transform("first")
    spread = np.hypot((frame["x"] - first["x"]).to_numpy(), (frame["y"] - first["y"]).to_numpy())
    idx = np.flatnonzero(spread > TOWER_SPREAD_M)
    if len(idx):
        vals = pd.Series([f"tower {t}: {d:.0f} m from its first site" for t, d in
                          zip(frame["t"], spread, strict=True)])
        log_rows(log, label, idx, "tower_id", vals,
                 "sites on the same tower are far apart",
                 "check tower_id and the coordinates of the sites on this tower",
                 severity="warning")


# ----------------------------------------------------------------------------------------
# DEM


def dem_footprint(bounds: tuple[float, float, float, float], dem_crs: CRS, crs: CRS
                  ) -> BaseGeometry:
    """The DEM's rectangle (in ``dem_crs``) as a densified polygon in ``crs`` (made valid:
    a polygon, or a multipolygon where the reprojection folds it)."""
    xmin, ymin, xmax, ymax = bounds
    ring = shapely.segmentize(shapely.box(xmin, ymin, xmax, ymax),
                              max(xmax - xmin, ymax - ymin) / 100)
    tr = Transformer.from_crs(dem_crs, crs, always_xy=True)
    coords = np.asarray(ring.exterior.coords)
    x, y = tr.transform(coords[:, 0], coords[:, 1])
    return shapely.make_valid(shapely.Polygon(np.column_stack([x, y])))


def check_points_on_dem(gdf: gpd.GeoDataFrame, label: str, footprint: shapely.Geometry,
                        nearest_elev: np.ndarray, lonlat: tuple[np.ndarray, np.ndarray] | None,
                        swapped_inside: np.ndarray | None, dem_label: str, log: ProblemLog,
                        severity: str = "error", what: str = "site") -> None:
    """Points must fall on the DEM, and not over nodata; detect swapped lon/lat.

    Parameters
    ----------
    nearest_elev : ndarray
        Elevation of the nearest working-grid cell (NaN over nodata or off the grid).
    lonlat : tuple of ndarray, optional
        WGS84 lon/lat as given (for the message).
    swapped_inside : ndarray of bool, optional
        True where the point would fall on the DEM with lon and lat exchanged.
    """
    ok = usable(gdf)
    g = np.asarray(gdf.geometry.array, dtype=object)
    inside = np.zeros(len(gdf), dtype=bool)
    inside[ok] = shapely.covers(footprint, g[ok])
    off = ok & ~inside
    vals = None
    if lonlat is not None:
        vals = pd.Series([f"lon {x:.5f}, lat {y:.5f}" for x, y in zip(*lonlat, strict=True)])
    if swapped_inside is not None:
        swapped = off & swapped_inside
        idx = np.flatnonzero(swapped)
        if len(idx):
            log_rows(log, label, idx, "lon", vals,
                     f"{what} lies outside the DEM; lon and lat look swapped",
                     "swap the lon and lat values of this row", severity=severity)
        off &= ~swapped
    idx = np.flatnonzero(off)
    if len(idx):
        log_rows(log, label, idx, "geometry", vals,
                 f"{what} lies outside the DEM ({dem_label})",
                 "check the coordinates (and their CRS), or use a DEM that covers them",
                 severity=severity)
    nodata = ok & inside & ~np.isfinite(nearest_elev)
    idx = np.flatnonzero(nodata)
    if len(idx):
        log_rows(log, label, idx, "geometry", vals,
                 f"{what} lies over DEM nodata (no elevation there in {dem_label})",
                 "check the coordinates, or fill the DEM's voids (e.g. gdal_fillnodata.py)",
                 severity=severity)


def check_dem_covers_villages(villages: gpd.GeoDataFrame, label: str,
                              footprint: shapely.Geometry, nodata_share: np.ndarray,
                              dem_label: str, log: ProblemLog) -> None:
    """Each village must lie on the DEM (≤ 1 % of its area outside); nodata gets a warning.

    Parameters
    ----------
    nodata_share : ndarray
        Share of each village's grid cells without elevation (0..1, NaN when unknown).
    """
    ok = usable(villages)
    g = np.asarray(villages.geometry.array, dtype=object)
    share = np.zeros(len(g))
    area = shapely.area(g[ok])
    out = shapely.area(shapely.difference(g[ok], footprint))
    share[ok] = np.where(area > 0, out / np.where(area > 0, area, 1), 0)
    off = share > OUTSIDE_SHARE_MAX
    idx = np.flatnonzero(off)
    if len(idx):
        vals = pd.Series([f"{s:.0%} outside" for s in share])
        log_rows(log, label, idx, "geometry", vals,
                 f"the DEM ({dem_label}) does not cover this village",
                 "use a DEM that covers every village (with a few km margin), or check the "
                 "village polygons' CRS")
    with np.errstate(invalid="ignore"):
        holes = ok & ~off & (nodata_share > OUTSIDE_SHARE_MAX)
    idx = np.flatnonzero(holes)
    if len(idx):
        vals = pd.Series([f"{s:.0%} nodata" for s in nodata_share])
        log_rows(log, label, idx, "geometry", vals,
                 f"the DEM ({dem_label}) has nodata over part of this village",
                 "fill the DEM's voids (e.g. gdal_fillnodata.py); coverage cannot be predicted "
                 "there", severity="warning")
