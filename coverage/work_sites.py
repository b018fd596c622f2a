"""Sites that the mobile works list builds: committed sites, predicted like any other.

A mobile work of category 新建基站 (new site) that is not done on the as-of date builds a
site:

- when it names a ``site_id`` of the sites table (a site planned or being built), that
  site's on-air date is the work's due date where the sites table records none;
- when it names no site but has a position and an operator, a new site is added there
  with the operator's first band profile and the planning mast height
  (``planning.candidate_height_m``), status ``planned``, on air from the work's due date.

Either way the site joins the committed network (sites planned / being built) and closes
a coverage gap only where its prediction covers.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.asof import as_date, resolve_as_of, works_state
from coverage.study import Study

NEW_SITE_CATEGORIES = ("新建基站", "new_site")


def _building_works(study: Study) -> pd.DataFrame:
    works = study.mobile_works
    if works is None or works.empty or "category" not in works:
        return pd.DataFrame()
    cfg = study.config
    state = works_state(works, resolve_as_of(cfg.readiness.as_of),
                        cfg.readiness.inspection_date)
    return state[state["category"].isin(NEW_SITE_CATEGORIES) & ~state["is_done"]
                 & state["due_date"].notna()]


def ground_under(study: Study, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elevation of the working-grid cell under each point (m; NaN off the grid)."""
    elev = study.grid.elevation
    rows, cols = study.grid.rowcol(x, y)
    r, c = np.rint(rows).astype(int), np.rint(cols).astype(int)
    ok = (r >= 0) & (r < elev.shape[0]) & (c >= 0) & (c < elev.shape[1])
    out = np.full(len(x), np.nan)
    out[ok] = elev[r[ok], c[ok]]
    return out


def work_sites(study: Study) -> gpd.GeoDataFrame:
    """New sites built by 新建基站 works that name no site but give a position.

    Returns
    -------
    GeoDataFrame
        Rows shaped like ``study.sites`` (working CRS), ``site_id`` = ``work_id:OP:BAND``.
    """
    sites = study.sites
    works = _building_works(study)
    if works.empty or "geometry" not in works:
        return sites.iloc[:0].copy()
    named = works["site_id"].notna() & (works["site_id"].astype(str).str.strip() != "") \
        if "site_id" in works else pd.Series(False, index=works.index)
    new = works[~named & works.geometry.notna() & works["operator"].isin(
        list(study.config.operators))]
    if new.empty:
        return sites.iloc[:0].copy()
    new = gpd.GeoDataFrame(new, geometry="geometry", crs=getattr(works, "crs", None))
    if new.crs is not None and sites.crs is not None and new.crs != sites.crs:
        new = new.to_crs(sites.crs)
    x, y = new.geometry.x.to_numpy(), new.geometry.y.to_numpy()
    ll = new.geometry.to_crs("EPSG:4326")
    height = float(study.config.planning.candidate_height_m)
    rows = []
    for i, w in enumerate(new.itertuples()):
        band = next(iter(study.config.operators[w.operator].bands))
        rows.append({
            "site_id": f"{w.work_id}:{w.operator}:{band}", "operator": w.operator, "band": band,
            "height_m": height, "tower_id": str(w.work_id), "azimuths": (),
            "tilt_deg": np.nan, "power_dbm": np.nan, "gain_dbi": np.nan, "status": "planned",
            "on_air_date": w.due_date, "backhaul": "none",
            "lon": round(float(ll.x.iloc[i]), 7), "lat": round(float(ll.y.iloc[i]), 7),
        })
    frame = pd.DataFrame(rows)
    frame["ground_m"] = ground_under(study, x, y)
    for col in sites.columns:
        if col not in frame and col != sites.geometry.name:
            frame[col] = None
    out = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=sites.crs)
    out = out.rename_geometry(sites.geometry.name) if sites.geometry.name != "geometry" \
        else out
    return out[list(sites.columns)]


def with_work_sites(study: Study) -> Study:
    """``study`` with the sites its works build: dates filled in, new sites added.

    A pending site without an on-air date takes the due date of the open 新建基站 work
    naming it (the earliest, when several do).
    """
    works = _building_works(study)
    if works.empty:
        return study
    sites = study.sites.copy()
    if "site_id" in works:
        due = (works[works["site_id"].notna()].groupby(works["site_id"].astype(str))
               ["due_date"].min())
        pending = sites["status"].isin(["planned", "building"])
        missing = pending & pd.Series([as_date(v) is None for v in sites["on_air_date"]],
                                      index=sites.index)
        fill = sites.loc[missing, "site_id"].map(due)
        sites["on_air_date"] = sites["on_air_date"].astype(object)
        sites.loc[fill.dropna().index, "on_air_date"] = fill.dropna().to_numpy()
    extra = work_sites(dataclasses.replace(study, sites=sites))
    if len(extra):
        sites = gpd.GeoDataFrame(pd.concat([sites, extra], ignore_index=True),
                                 geometry=sites.geometry.name, crs=sites.crs)
    return dataclasses.replace(study, sites=sites)
