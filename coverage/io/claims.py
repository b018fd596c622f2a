"""Checks of the operators' claims file (``sites/claims.csv``, 认领台账) across layers.

The per-column checks (types, dates, choices, duplicate ``claim_id``, dates of things
that already happened lying after today) are the schema's, as for every input. This
module adds what needs the other layers or several columns of a row, one problem per
row and column:

- the operator must be one of the configuration;
- a claim must say what is claimed: a ``site_id``, ``tower_id`` or ``candidate_id`` that
  exists, or a position (``lon``/``lat``);
- a claimed ``site_id`` must belong to the claiming operator;
- ``due`` must not lie before ``claimed_on``;
- status 开通 (``on_air``) needs its ``on_air_date``; a start or on-air date before the
  claim date is an error;
- a band, when given, must name one of the operator's configured bands;
- a position must lie on the DEM (the study area).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from coverage.config import Config
from coverage.errors import InputDataError, Problem, ProblemLog
from coverage.io import vocab
from coverage.io.readers import LayerSource, read_layer
from coverage.io.validate import log_rows
from coverage.io.vocab import header_aliases, norm_key
from coverage.io.writers import write_csv
from coverage.schema import CLAIMS, OPERATORS


def _present(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Whether each row has a non-blank value in ``column`` (all False when absent)."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    values = frame[column].astype(object)
    return np.array([v is not None and not (isinstance(v, float) and np.isnan(v))
                     and v is not pd.NA and v is not pd.NaT and str(v).strip() != ""
                     for v in values], dtype=bool)


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce")


def check_claims(claims: pd.DataFrame, label: str, sites: pd.DataFrame | None,
                 sites_label: str, candidates: pd.DataFrame | None, candidates_label: str,
                 config: Config, log: ProblemLog) -> None:
    """Log every cross-layer and cross-column problem of the claims table.

    Parameters
    ----------
    claims : DataFrame
        The claims table after the schema checks (column names and values normalised).
    label : str
        How messages name the claims file.
    sites, candidates : DataFrame or None
        The sites and candidates tables (None when absent or unreadable).
    sites_label, candidates_label : str
        How messages name those files.
    config : Config
        The configured operators and their bands.
    log : ProblemLog
        Receives the problems.
    """
    n = len(claims)
    if n == 0:
        return
    text = claims.astype(object)
    if "operator" in claims:
        ops = claims["operator"].astype(object)
        # values outside the schema's operators are reported by the schema check
        unknown = np.flatnonzero(ops.isin(OPERATORS).to_numpy()
                                 & ~ops.isin(list(config.operators)).to_numpy())
        if len(unknown):
            log_rows(log, label, unknown, "operator", ops,
                     "运营商不在配置中（unknown operator）",
                     f"写成已配置的运营商之一：{', '.join(config.operators)}")
    has_pos = _present(claims, "lon") & _present(claims, "lat")
    named = _present(claims, "site_id") | _present(claims, "tower_id") \
        | _present(claims, "candidate_id")
    nothing = np.flatnonzero(~named & ~has_pos)
    if len(nothing):
        log_rows(log, label, nothing, "site_id", None,
                 "认领未指明对象：site_id、tower_id、candidate_id 与经纬度均为空",
                 "填写认领的站点编号、铁塔编号或候选站编号，或给出新址的经度 lon、纬度 lat")
    _check_targets(claims, text, label, sites, sites_label, candidates, candidates_label, log)
    claimed, due = _dates(claims, "claimed_on"), _dates(claims, "due")
    early = np.flatnonzero((due < claimed).to_numpy())
    if len(early):
        log_rows(log, label, early, "due", due.dt.strftime("%Y-%m-%d"),
                 "计划开通日期 due 早于认领日期 claimed_on",
                 "改正 due 或 claimed_on（计划开通不能早于认领）")
    for col, what in (("started_on", "开工日期"), ("on_air_date", "开通日期")):
        when = _dates(claims, col)
        before = np.flatnonzero((when < claimed).to_numpy())
        if len(before):
            log_rows(log, label, before, col, when.dt.strftime("%Y-%m-%d"),
                     f"{what} {col} 早于认领日期 claimed_on", f"改正 {col} 或 claimed_on")
    status = claims["status"].astype(object) if "status" in claims else pd.Series(
        None, index=claims.index, dtype=object)
    undated = np.flatnonzero((status == "on_air").to_numpy() & ~_present(claims, "on_air_date"))
    if len(undated):
        log_rows(log, label, undated, "on_air_date", None,
                 "状态为开通（on_air）但没有开通日期 on_air_date",
                 "填写实际开通日期（YYYY-MM-DD），或把状态改回认领/开工")
    _check_bands(claims, label, config, log)


def _check_targets(claims: pd.DataFrame, text: pd.DataFrame, label: str,
                   sites: pd.DataFrame | None, sites_label: str,
                   candidates: pd.DataFrame | None, candidates_label: str,
                   log: ProblemLog) -> None:
    """site_id / tower_id / candidate_id must exist (and a site be the operator's own)."""
    site_ids: set[object] = set()
    tower_ids: set[object] = set()
    site_op: dict[object, object] = {}
    if sites is not None and "site_id" in sites:
        site_ids = set(sites["site_id"].dropna().astype(object))
        tower = sites["tower_id"].astype(object) if "tower_id" in sites else sites["site_id"]
        tower = tower.where(tower.notna(), sites["site_id"].astype(object))
        tower_ids = set(tower.dropna().astype(object))
        if "operator" in sites:
            site_op = dict(zip(sites["site_id"].astype(object),
                               sites["operator"].astype(object), strict=True))
    cand_ids: set[object] = set()
    if candidates is not None and "candidate_id" in candidates:
        cand_ids = set(candidates["candidate_id"].dropna().astype(object))
    for col, known, parent in (("site_id", site_ids, sites_label),
                               ("tower_id", tower_ids, f"{sites_label} (tower_id)"),
                               ("candidate_id", cand_ids, candidates_label)):
        given = _present(claims, col)
        if not given.any():
            continue
        bad = np.flatnonzero(given & ~text[col].isin(known).to_numpy())
        if len(bad):
            log_rows(log, label, bad, col, text[col],
                     f"认领的 {col} 在 {parent} 中不存在（claim on a {col.split('_')[0]} "
                     "that does not exist）",
                     f"使用 {parent} 中已有的编号，或先在其中登记该对象")
    if site_op and "operator" in claims:
        ids = text["site_id"] if "site_id" in claims else pd.Series(None, index=claims.index)
        other = np.flatnonzero(np.array(
            [s in site_op and site_op[s] != op for s, op in
             zip(ids, text["operator"], strict=True)], dtype=bool))
        if len(other):
            log_rows(log, label, other, "operator", text["operator"],
                     "认领运营商与所认领站点的运营商不同",
                     "改正运营商，或认领该运营商自己的站点（共享铁塔请填 tower_id）")


def _check_bands(claims: pd.DataFrame, label: str, config: Config, log: ProblemLog) -> None:
    """A given band must resolve to one of the claiming operator's bands (noted once)."""
    if "band" not in claims or "operator" not in claims:
        return
    bands = claims["band"].astype(object)
    bad = []
    out = list(bands)
    for i, (op, band) in enumerate(zip(claims["operator"].astype(object), bands, strict=True)):
        if op not in config.operators or not _present(claims.iloc[[i]], "band")[0]:
            continue
        if band in config.operators[op].bands:
            continue
        name, _found = vocab.resolve_band(str(band), op, config)
        if name is None:
            bad.append(i)
        else:
            out[i] = name
    claims["band"] = pd.Series(out, index=claims.index, dtype=object)
    if bad:
        log_rows(log, label, np.array(bad), "band", bands,
                 "频段不是该运营商已配置的频段（unknown band）",
                 "写成该运营商已配置的频段之一，或留空（按运营商的第一个频段）")


def check_claim_positions(claims: pd.DataFrame, label: str, footprint: shapely.Geometry,
                          crs: CRS, dem_label: str, log: ProblemLog) -> None:
    """Positions given (WGS84 ``lon``/``lat``) must lie on the DEM: the study area.

    Parameters
    ----------
    footprint : shapely geometry
        The DEM's footprint in ``crs`` (the working CRS).
    """
    if "lon" not in claims or "lat" not in claims:
        return
    lon = pd.to_numeric(claims["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(claims["lat"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return
    x = np.full(len(claims), np.nan)
    y = np.full(len(claims), np.nan)
    x[ok], y[ok] = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(
        lon[ok], lat[ok])
    inside = np.zeros(len(claims), dtype=bool)
    inside[ok] = shapely.contains_xy(footprint, x[ok], y[ok])
    off = np.flatnonzero(ok & ~inside)
    if len(off):
        shown = pd.Series([f"{a:.6f}, {b:.6f}" for a, b in zip(lon, lat, strict=True)])
        log_rows(log, label, off, "lon", shown,
                 f"认领位置在研究区（{dem_label} 范围）之外（position off the study area）",
                 "核对经纬度（WGS84 十进制度，经度在前），或删除位置改填站点/候选站编号")


# ----------------------------------------------------------------------------------------
# Files of `coverage-planner claims adopt`


def read_plan_table(path: Path) -> pd.DataFrame:
    """``plan.csv`` of a run (IDs as text).

    Raises
    ------
    InputDataError
        When the file is missing or lacks the columns a claim needs.
    """
    label = str(path)
    if not path.is_file():
        raise InputDataError([Problem(label, "文件不存在（the plan file does not exist）",
                                      "先运行 coverage-planner run（或 plan），再指定其输出的 "
                                      "plan.csv")])
    frame = pd.read_csv(path, dtype={"tower_id": str, "operator": str, "band": str,
                                     "source": str}, encoding="utf-8-sig")
    missing = [c for c in ("tower_id", "operator", "band", "lon", "lat") if c not in frame]
    if missing:
        raise InputDataError([Problem(label, f"不是 plan.csv：缺少列 {', '.join(missing)}",
                                      "指定 coverage-planner run 写出的 plan.csv",
                                      column=missing[0])])
    return frame


def read_claims_table(path: Path, config: Config) -> pd.DataFrame | None:
    """The office's claims file with schema column names and values (None when absent).

    Raises
    ------
    InputDataError
        When the file cannot be read.
    """
    if not path.is_file():
        return None
    log = ProblemLog()
    src = LayerSource(path, str(path), None, path.suffix.lower().lstrip("."))
    frame = read_layer(src, CLAIMS, log, config)
    errors = [p for p in log.problems if p.is_error]
    if errors:
        raise InputDataError(errors)
    return frame


def write_claims_table(path: Path, rows: pd.DataFrame, existing_path: Path | None = None
                       ) -> None:
    """Write proposed claim rows to ``path`` (UTF-8 with BOM, atomically).

    With ``existing_path`` (the same file as ``path``), the rows are appended to that CSV
    under its own headers (each new column matched to the existing header that reads as
    the same schema column; columns the file lacks are added at the end).
    """
    if existing_path is None or not existing_path.is_file():
        write_csv(path, rows, bom=True)
        return
    old = pd.read_csv(existing_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    aliases = header_aliases("claims")
    schema = {c.name for c in CLAIMS.columns}

    def column_of(header: str) -> str:
        key = norm_key(header)
        return header if header in schema else aliases.get(key, header)

    by_schema = {column_of(h): h for h in old.columns}
    new = rows.rename(columns={h: by_schema.get(column_of(h), h) for h in rows.columns})
    merged = pd.concat([old, new.astype(object).where(new.notna(), "")], ignore_index=True)
    write_csv(path, merged.fillna(""), bom=True)
