"""The operators' claims (认领): their state on a day, and the sites they commit.

The county office keeps a claims file (``sites/claims.csv``): each row is one operator's
claim of one site — an existing site (``site_id``), a share of an existing tower
(``tower_id``), a candidate (``candidate_id``) or a new position (``lon``/``lat``) — with
the day it was claimed, the promised on-air day (``due``), its status (认领 claimed,
开工 started, 开通 on air, 撤回 withdrawn) and, so that any past day can be
reconstructed, the days it was started (``started_on``) and went on air (``on_air_date``).

The state of a claim on day *D* (:func:`claim_state`):

- ``absent`` when it was claimed after *D*, and ``withdrawn`` when withdrawn (the file
  records no withdrawal date, so a withdrawn claim never commits anything);
- ``on_air`` when its status is 开通 and its ``on_air_date`` is on or before *D*;
- otherwise ``started`` when it was started on or before *D* (status 开工 or 开通,
  and ``started_on`` not after *D*; a 开工 claim without ``started_on`` counts as started),
  else ``claimed``.

A claim that is ``claimed`` or ``started`` on *D* is committed (it counts for 工程完工后具备,
never for the proposal): its site is pending (``planned`` / ``building``) with the claim's
``due`` as on-air date, overdue when that lies before *D*. An ``on_air`` claim's site is on
air from its ``on_air_date``. The site predicted is the claimed site itself (its own
parameters), or — for a tower, candidate or position — the operator's band (the claim's
``band`` or the operator's first band profile) at the tower's tallest mast, the
candidate's mast height, or the planning mast height (``planning.candidate_height_m``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.asof import as_date, resolve_as_of
from coverage.study import Study
from coverage.work_sites import ground_under

CLAIM_STATES = ("absent", "withdrawn", "claimed", "started", "on_air")
"""The state of a claim on a day (see the module docstring)."""

ACTIVE_STATES = ("claimed", "started", "on_air")
"""States in which a claim commits a site."""


def _blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _num(value: object) -> float:
    """A float from a table cell (number or numeric text)."""
    return float(str(value))


def claim_state(claims: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Every claim with its state on ``as_of``.

    Parameters
    ----------
    claims : DataFrame or None
        The claims table (schema columns of ``sites/claims.csv``).
    as_of : datetime.date
        The day the state is read on.

    Returns
    -------
    DataFrame
        The table plus ``claimed_date``, ``due_date``, ``started_date``, ``on_air_day``
        (dates or None), ``state`` (one of :data:`CLAIM_STATES`), ``overdue`` (bool: active,
        not on air, due before ``as_of``) and ``days_late`` (int, 0 unless overdue).
    """
    cols = ["claim_id", "operator", "status", "claimed_date", "due_date", "started_date",
            "on_air_day", "state", "overdue", "days_late"]
    if claims is None or claims.empty:
        return pd.DataFrame(columns=cols)
    out = claims.copy()
    def dates(col: str) -> list[dt.date | None]:
        return [as_date(v) for v in out[col]] if col in out else [None] * len(out)

    out["claimed_date"] = dates("claimed_on")
    out["due_date"] = dates("due")
    out["started_date"] = dates("started_on")
    out["on_air_day"] = dates("on_air_date")
    states = []
    for status, claimed, started, on_air in zip(out["status"], out["claimed_date"],
                                                out["started_date"], out["on_air_day"],
                                                strict=True):
        if status == "withdrawn":
            states.append("withdrawn")
        elif claimed is None or claimed > as_of:
            states.append("absent")
        elif status == "on_air" and on_air is not None and on_air <= as_of:
            states.append("on_air")
        elif status in ("started", "on_air") and ((started is None and status == "started")
                                                  or (started is not None and started <= as_of)):
            states.append("started")
        else:
            states.append("claimed")
    out["state"] = states
    out["overdue"] = [s in ("claimed", "started") and d is not None and d < as_of
                      for s, d in zip(out["state"], out["due_date"], strict=True)]
    out["days_late"] = [(as_of - d).days if late else 0
                        for late, d in zip(out["overdue"], out["due_date"], strict=True)]
    return out


def _site_status(state: str) -> str:
    return {"on_air": "on_air", "started": "building"}.get(state, "planned")


def _first_band(study: Study, operator: str, band: object) -> str:
    bands = study.config.operators[operator].bands
    if not _blank(band) and str(band) in bands:
        return str(band)
    return next(iter(bands))


def _new_site_rows(study: Study, state: pd.DataFrame) -> gpd.GeoDataFrame:
    """Sites of active claims on a tower, a candidate or a position (working CRS)."""
    sites = study.sites
    height = float(study.config.planning.candidate_height_m)
    tower_of = sites["tower_id"].astype(str)
    cands = study.candidates.set_index("candidate_id") if study.candidates is not None \
        else None
    rows, xs, ys = [], [], []
    for c in state.itertuples():
        op = str(c.operator)
        if not _blank(getattr(c, "site_id", None)) or op not in study.config.operators:
            continue
        tower = getattr(c, "tower_id", None)
        cand = getattr(c, "candidate_id", None)
        if not _blank(tower):
            on = sites[tower_of == str(tower)]
            if on.empty:
                continue
            x, y = float(on.geometry.x.iloc[0]), float(on.geometry.y.iloc[0])
            mast, ref = float(on["height_m"].max()), str(tower)
        elif not _blank(cand) and cands is not None and str(cand) in cands.index:
            row = cands.loc[str(cand)]
            x, y = float(row.geometry.x), float(row.geometry.y)
            given = row["height_m"]
            mast = _num(given) if not _blank(given) else height
            ref = str(cand)
        elif not _blank(getattr(c, "lon", None)) and not _blank(getattr(c, "lat", None)):
            pt = gpd.GeoSeries(gpd.points_from_xy([_num(c.lon)], [_num(c.lat)]),
                               crs="EPSG:4326").to_crs(sites.crs)
            x, y, mast, ref = float(pt.x.iloc[0]), float(pt.y.iloc[0]), height, str(c.claim_id)
        else:
            continue
        band = _first_band(study, op, getattr(c, "band", None))
        rows.append({
            "site_id": f"{c.claim_id}:{op}:{band}", "operator": op, "band": band,
            "height_m": mast, "tower_id": ref, "azimuths": (), "tilt_deg": np.nan,
            "power_dbm": np.nan, "gain_dbi": np.nan, "status": _site_status(str(c.state)),
            "on_air_date": c.on_air_day if c.state == "on_air" else c.due_date,
            "backhaul": "none",
        })
        xs.append(x)
        ys.append(y)
    if not rows:
        return sites.iloc[:0].copy()
    frame = pd.DataFrame(rows)
    xa, ya = np.array(xs), np.array(ys)
    ll = gpd.GeoSeries(gpd.points_from_xy(xa, ya), crs=sites.crs).to_crs("EPSG:4326")
    frame["lon"] = np.round(ll.x.to_numpy(), 7)
    frame["lat"] = np.round(ll.y.to_numpy(), 7)
    frame["ground_m"] = ground_under(study, xa, ya)
    for col in sites.columns:
        if col not in frame and col != sites.geometry.name:
            frame[col] = None
    out = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xa, ya), crs=sites.crs)
    if sites.geometry.name != "geometry":
        out = out.rename_geometry(sites.geometry.name)
    return out[list(sites.columns)]


def with_claim_sites(study: Study, as_of: dt.date | None = None) -> Study:
    """``study`` with the sites its accepted claims commit, as they stood on ``as_of``.

    A claim naming a ``site_id`` dates that site (its status and on-air day follow the
    claim, unless the sites table already has it on air by ``as_of``); the other claims add
    a site each (``site_id`` = ``claim_id:OP:BAND``). Claims absent or withdrawn on
    ``as_of`` change nothing.

    Parameters
    ----------
    study : Study
        The study (its ``claims`` may be None).
    as_of : datetime.date, optional
        Default: the run's as-of date (``readiness.as_of``, else today).
    """
    if study.claims is None or study.claims.empty:
        return study
    day = as_of or resolve_as_of(study.config.readiness.as_of)
    state = claim_state(study.claims, day)
    active = state[state["state"].isin(ACTIVE_STATES)]
    if active.empty:
        return study
    sites = study.sites.copy()
    sites["on_air_date"] = sites["on_air_date"].astype(object)
    sites["status"] = sites["status"].astype(object)
    if "site_id" in active:
        named = active[[not _blank(s) for s in active["site_id"]]]
        index = {str(s): i for i, s in zip(sites.index, sites["site_id"], strict=True)}
        for c in named.itertuples():
            i = index.get(str(c.site_id))
            if i is None:
                continue
            recorded = as_date(sites.at[i, "on_air_date"])
            if sites.at[i, "status"] == "on_air" and (recorded is None or recorded <= day):
                continue
            sites.at[i, "status"] = _site_status(str(c.state))
            sites.at[i, "on_air_date"] = c.on_air_day if c.state == "on_air" else c.due_date
    extra = _new_site_rows(dataclasses.replace(study, sites=sites), active)
    if len(extra):
        sites = gpd.GeoDataFrame(pd.concat([sites, extra], ignore_index=True),
                                 geometry=sites.geometry.name, crs=sites.crs)
    return dataclasses.replace(study, sites=sites)


def claimed_site_ids(study: Study, as_of: dt.date) -> set[str]:
    """``site_id``s of the sites table named by a claim active on ``as_of``."""
    if study.claims is None or study.claims.empty or "site_id" not in study.claims:
        return set()
    state = claim_state(study.claims, as_of)
    active = state[state["state"].isin(ACTIVE_STATES)]
    return {str(s) for s in active["site_id"] if not _blank(s)}


# ----------------------------------------------------------------------------------------
# Adopting the optimiser's proposal as claims for the office to confirm

CLAIM_COLUMNS = ("claim_id", "operator", "site_id", "tower_id", "candidate_id", "lon", "lat",
                 "band", "claimed_on", "due", "status", "started_on", "on_air_date", "note")
"""Columns of ``sites/claims.csv`` in the order the office's file is written."""

CLAIM_HEADERS_ZH = {
    "claim_id": "认领编号", "operator": "运营商", "site_id": "站点编号", "tower_id": "铁塔编号",
    "candidate_id": "候选站编号", "lon": "经度", "lat": "纬度", "band": "频段",
    "claimed_on": "认领日期", "due": "计划开通日期", "status": "状态", "started_on": "开工日期",
    "on_air_date": "开通日期", "note": "备注",
}
"""Chinese headers of the claims file (each one an alias the readers accept)."""

STATUS_ZH = {"claimed": "认领", "started": "开工", "on_air": "开通", "withdrawn": "撤回"}
"""Claim statuses as the office writes them."""


def _key(operator: object, tower: object, candidate: object, lon: object, lat: object
         ) -> tuple[str, str]:
    """What a claim claims, for matching proposals with claims already in the file."""
    if not _blank(tower):
        return str(operator), f"tower:{tower}"
    if not _blank(candidate):
        return str(operator), f"candidate:{candidate}"
    if not _blank(lon) and not _blank(lat):
        return str(operator), f"at:{_num(lon):.5f},{_num(lat):.5f}"
    return str(operator), ""


def adopt_plan(plan: pd.DataFrame, existing: pd.DataFrame | None, *, claimed_on: dt.date,
               due: dt.date, language: str = "zh") -> tuple[pd.DataFrame, int]:
    """Claim rows, status 认领, for the office to confirm: one per proposed site of ``plan``.

    Parameters
    ----------
    plan : DataFrame
        ``plan.csv`` of a run: ``tower_id``, ``source`` (``existing`` tower, ``user``
        candidate or generated ``hill`` site), ``lon``, ``lat`` (WGS84 degrees),
        ``operator``, ``band``, ``households_new``.
    existing : DataFrame or None
        The office's claims (schema column names); proposals it already claims (same
        operator and tower, candidate or position, not withdrawn) are left out and its
        ``claim_id`` values are not reused.
    claimed_on, due : datetime.date
        The claim date and the promised on-air date written into every row.
    language : str
        ``"zh"``: Chinese headers and status 认领; ``"en"``: schema names and ``claimed``.

    Returns
    -------
    DataFrame
        The new rows (columns :data:`CLAIM_COLUMNS`, renamed for ``language``).
    int
        How many proposals were already claimed.
    """
    taken: set[tuple[str, str]] = set()
    used: set[str] = set()
    if existing is not None and len(existing):
        for row in existing.itertuples():
            used.add(str(row.claim_id))
            if getattr(row, "status", None) != "withdrawn":
                taken.add(_key(row.operator, getattr(row, "tower_id", None),
                               getattr(row, "candidate_id", None), getattr(row, "lon", None),
                               getattr(row, "lat", None)))
    rows = []
    skipped = 0
    number = 0
    for p in plan.sort_values(["tower_id", "operator"], kind="stable").itertuples():
        source = str(getattr(p, "source", "hill"))
        tower = str(p.tower_id) if source == "existing" else None
        cand = str(p.tower_id) if source == "user" else None
        lon = None if tower or cand else round(_num(p.lon), 6)
        lat = None if tower or cand else round(_num(p.lat), 6)
        if _key(p.operator, tower, cand, lon, lat) in taken:
            skipped += 1
            continue
        number += 1
        while f"RL-{claimed_on:%Y%m}-{number:03d}" in used:
            number += 1
        households = getattr(p, "households_new", None)
        if language == "zh":
            note = f"规划建议（{p.tower_id}），待确认"
            if not _blank(households):
                note += f"；新增覆盖 {int(_num(households))} 户"
        else:
            note = f"proposed by the plan ({p.tower_id}); to be confirmed"
            if not _blank(households):
                note += f"; {int(_num(households))} households newly covered"
        rows.append({
            "claim_id": f"RL-{claimed_on:%Y%m}-{number:03d}", "operator": p.operator,
            "site_id": None, "tower_id": tower, "candidate_id": cand, "lon": lon, "lat": lat,
            "band": p.band, "claimed_on": claimed_on.isoformat(), "due": due.isoformat(),
            "status": STATUS_ZH["claimed"] if language == "zh" else "claimed",
            "started_on": None, "on_air_date": None, "note": note,
        })
    out = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    if language == "zh":
        out = out.rename(columns=CLAIM_HEADERS_ZH)
    return out, skipped
