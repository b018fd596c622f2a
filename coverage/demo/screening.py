"""Which groups lack signal today: the cheap knife-edge screen and the cruder LOS rule.

On-air sites only. Each distinct mast (position and height) is profiled once with
:func:`~coverage.demo.linkbudget.paths`; each of its operator bands is then scored with
:func:`~coverage.demo.linkbudget.rsrp` against -105 dBm.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage.config import Config
from coverage.demo.linkbudget import RX_HEIGHT_M, THRESHOLD_DBM, group_covered, paths, rsrp
from coverage.demo.plane import GRID
from coverage.demo.results import DemoCounty, Screening
from coverage.schema import OPERATORS


def screen(z: np.ndarray, sites: pd.DataFrame, hh_xy: np.ndarray, hh_group: np.ndarray,
           hh_count: np.ndarray, group_hh: np.ndarray, group_village: np.ndarray,
           group_ids: list[str], cfg: Config) -> Screening:
    """Knife-edge screening and the simple line-of-sight rule, on-air sites only.

    Parameters
    ----------
    z : ndarray, shape (rows, cols)
        Elevation (m), no nodata.
    sites : DataFrame
        The sites table (schema columns).
    hh_xy : ndarray, shape (n, 2)
        Household cluster points (local plane, m).
    hh_group : ndarray of int, shape (n,)
        Group index of each cluster.
    hh_count : ndarray of int, shape (n,)
        Households of each cluster.
    group_hh : ndarray of int, shape (g,)
        Households of each group.
    group_village : ndarray of int, shape (g,)
        Village index (or code) of each group.
    group_ids : list of str
        Group IDs, by group index.
    cfg : Config
        Band profiles.

    Returns
    -------
    Screening
    """
    col, row = GRID.xy_to_colrow(hh_xy[:, 0], hh_xy[:, 1])
    ground = z[np.clip(np.rint(row).astype(int), 0, GRID.rows - 1),
               np.clip(np.rint(col).astype(int), 0, GRID.cols - 1)].astype(np.float64)
    rx_abs = ground + RX_HEIGHT_M
    live = sites[sites["status"] == "on_air"]
    hit = {op: np.zeros(len(hh_xy), dtype=bool) for op in OPERATORS}
    simple = np.zeros(len(hh_xy), dtype=bool)
    sx, sy = GRID.lonlat_to_xy(live["lon"].to_numpy(), live["lat"].to_numpy())
    keys = list(zip(np.round(sx, 1), np.round(sy, 1), live["height_m"], strict=True))
    for key in dict.fromkeys(keys):
        idx = [i for i, k in enumerate(keys) if k == key]
        xy = np.array(key[:2])
        cc, rr = GRID.xy_to_colrow(xy[0], xy[1])
        tx_abs = float(z[int(np.rint(rr)), int(np.rint(cc))]) + float(key[2])
        p = paths(z, xy, tx_abs, hh_xy, rx_abs)
        simple[p.idx[(p.d <= 1500.0) | (p.los & (p.d <= 4000.0))]] = True
        for i in idx:
            r = live.iloc[i]
            az = tuple(float(a) for a in r["azimuths_deg"].split(";")) if r["azimuths_deg"] else ()
            gain = None if pd.isna(r["gain_dbi"]) else float(r["gain_dbi"])
            val = rsrp(p, cfg.band(r["operator"], r["band"]), az, float(r["tilt_deg"]),
                       float(r["power_dbm"]), gain)
            hit[r["operator"]][p.idx[val >= THRESHOLD_DBM]] = True
    hit["any"] = hit["CMCC"] | hit["CT"] | hit["CU"]
    groups_unc: dict[str, int] = {}
    villages_unc: dict[str, int] = {}
    hh_unc: dict[str, int] = {}
    unc_any = None
    for who in ("any", *OPERATORS):
        hit_hh = np.bincount(hh_group, weights=hh_count * hit[who], minlength=len(group_hh))
        unc = ~group_covered(hit_hh, group_hh)
        groups_unc[who] = int(unc.sum())
        villages_unc[who] = int(np.unique(group_village[unc]).size)
        hh_unc[who] = int(group_hh[unc].sum())
        if who == "any":
            unc_any = unc
    hit_hh = np.bincount(hh_group, weights=hh_count * simple, minlength=len(group_hh))
    unc_s = ~group_covered(hit_hh, group_hh)
    assert unc_any is not None                      # "any" is the first key above
    return Screening(
        groups_uncovered=groups_unc, villages_uncovered=villages_unc,
        households_uncovered=hh_unc, simple_groups_uncovered=int(unc_s.sum()),
        simple_villages_uncovered=int(np.unique(group_village[unc_s]).size),
        uncovered_group_ids=tuple(group_ids[g] for g in np.flatnonzero(unc_any)),
    )


def screen_coverage(county: DemoCounty, config: Config | None = None) -> Screening:
    """Screening estimate of the groups lacking signal today, from a county's layers.

    Parameters
    ----------
    county : DemoCounty
        Built or re-read county (uses its DEM, households, groups and sites).
    config : Config, optional
        Band profiles (defaults when None).

    Returns
    -------
    Screening
        Knife-edge (Bullington) link-budget estimate, RSRP >= -105 dBm, group covered when
        95 % of its households are; and the cruder 4 km line-of-sight rule.
    """
    cfg = config or Config()
    z = np.where(county.dem == county.nodata, 150, county.dem).astype(np.float32)
    groups = county.groups.reset_index(drop=True)
    g_index = {gid: k for k, gid in enumerate(groups["group_id"])}
    v_codes, _ = pd.factorize(groups["village_id"])
    hh = county.households
    hh_xy = np.column_stack(GRID.lonlat_to_xy(hh.geometry.x.to_numpy(), hh.geometry.y.to_numpy()))
    return screen(z, county.sites, hh_xy, hh["group_id"].map(g_index).to_numpy(),
                  hh["households"].to_numpy(), groups["households"].to_numpy(), v_codes,
                  list(groups["group_id"]), cfg)
