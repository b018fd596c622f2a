"""Operators on the grown network: masts, tenants, backhaul, bands and the sites table.

Each tower location of :mod:`coverage.demo.network` gets its operators (by growth phase).
Before the 2015 sharing reform operators often put up their own mast nearby; from then on
masts were shared. Towns get capacity bands, some single-tenant masts are being retrofitted
for a second operator, and each operator band becomes one row of ``sites.csv``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd

from coverage.demo.dates import iso
from coverage.demo.network import Tower
from coverage.demo.plane import GRID
from coverage.schema import OPERATORS

OP_WEIGHT = np.array([0.5, 0.28, 0.22])
"""Relative weight of each operator (CMCC, CT, CU) when one must be picked."""
_PRESENCE = {"town": (0.95, 0.7, 0.7), "valley": (0.9, 0.5, 0.5), "side": (0.72, 0.3, 0.26),
             "gap": (0.6, 0.3, 0.3)}
"""Chance that each operator (CMCC, CT, CU) serves a location, by growth phase."""
SHARING_REFORM = dt.date(2015, 10, 1)
"""From about this date new masts were shared (China Tower); before, operators often built
their own mast at the same place."""


def _nearby_spot(rng: np.random.Generator, xy: np.ndarray, z: np.ndarray,
                 mask: np.ndarray) -> tuple[np.ndarray, float]:
    """Another mast spot 200-500 m away at about the same elevation (inside the county)."""
    rr, cc = int(500 / GRID.dy_m) + 1, int(500 / GRID.dx_m) + 1
    col, row = GRID.xy_to_colrow(xy[0], xy[1])
    r0, c0 = int(np.rint(row)), int(np.rint(col))
    win = z[r0 - rr:r0 + rr + 1, c0 - cc:c0 + cc + 1]
    dy, dx = np.mgrid[-rr:rr + 1, -cc:cc + 1]
    d = np.hypot(dy * GRID.dy_m, dx * GRID.dx_m)
    ok = ((d >= 200.0) & (d <= 500.0) & (np.abs(win - z[r0, c0]) <= 50.0)
          & mask[r0 - rr:r0 + rr + 1, c0 - cc:c0 + cc + 1])
    if not ok.any():
        return xy, float(z[r0, c0])
    k = int(rng.choice(np.flatnonzero(ok.ravel())))
    r, c = divmod(k, win.shape[1])
    return np.array(GRID.colrow_to_xy(c0 - cc + c, r0 - rr + r)), float(win[r, c])


def operator_masts(rng: np.random.Generator, locations: list[Tower], z: np.ndarray,
                   mask: np.ndarray, fiber_village: np.ndarray, village_of: np.ndarray,
                   town_of: np.ndarray) -> list[Tower]:
    """Operators at each location, split over separate masts before the sharing reform,
    backhaul, and a few tenants joining existing masts in 2020.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    locations : list of Tower
        The grown network's towers (not modified).
    z : ndarray, shape (rows, cols)
        Elevation (m), no nodata.
    mask : ndarray of bool, shape (rows, cols)
        County cells.
    fiber_village : ndarray of bool
        Whether each village has fibre.
    village_of, town_of : ndarray of int
        Village and town index of each location.

    Returns
    -------
    list of Tower
        One per mast, with its tenants, backhaul and any tenant being added (``extra``).
    """
    out: list[Tower] = []
    first_in_town: set[int] = set()
    for i, loc in enumerate(locations):
        shared = loc.phase == "town" and int(town_of[i]) not in first_in_town
        if shared:  # each town's central mast carries all three operators
            first_in_town.add(int(town_of[i]))
            ops: tuple[str, ...] = OPERATORS
        else:
            present = rng.random(3) < np.array(_PRESENCE[loc.phase])
            if not present.any():
                present[int(rng.choice(3, p=OP_WEIGHT))] = True
            ops = tuple(op for op, p in zip(OPERATORS, present, strict=True) if p)
        if loc.status == "planned":
            backhaul = "none"
        elif loc.phase in ("town", "valley") or fiber_village[int(village_of[i])]:
            backhaul = "fiber"
        else:
            backhaul = "microwave" if rng.random() < 0.7 else "fiber"
        masts = [list(ops)]
        if (not shared and loc.built is not None and loc.built < SHARING_REFORM
                and len(ops) > 1):
            apart = [op for op in ops[1:] if rng.random() < 0.5]
            masts = [[op for op in ops if op not in apart]] + [[op] for op in apart]
        for j, tenants in enumerate(masts):
            tw = replace(loc, tenants=tuple(tenants), backhaul=backhaul)
            if j > 0:
                xy, ground = _nearby_spot(rng, loc.xy, z, mask)
                rot = int(rng.integers(0, 24)) * 5
                height = float(rng.choice([30.0, 35.0, 40.0]))
                assert loc.built is not None        # every located tower has its build date
                built = loc.built + dt.timedelta(days=int(rng.integers(60, 700)))
                tw = replace(tw, xy=xy, ground=ground, azimuths=(rot, rot + 120, rot + 240),
                             height=height,
                             built=min(built, SHARING_REFORM - dt.timedelta(days=1)))
            if len(tenants) >= 2 and tw.height < 40.0:
                tw.height = 40.0 if len(tenants) == 2 else 45.0
            out.append(tw)
    # Sharing retrofits under way: a second operator joins some single-tenant masts.
    single = [i for i, tw in enumerate(out)
              if tw.status == "on_air" and len(tw.tenants) == 1 and tw.phase == "side"]
    for j, i in enumerate(rng.choice(single, size=min(8, len(single)), replace=False)):
        tw = out[int(i)]
        others = [op for op in OPERATORS if op not in tw.tenants]
        op = others[int(rng.integers(len(others)))]
        band = {"CMCC": "FDD900", "CT": "FDD800", "CU": "FDD900"}[op]
        tw.extra = ((op, band, "building" if j < 5 else "planned"),)
        tw.height = max(tw.height, 40.0)
    return out


def _bands(rng: np.random.Generator, tw: Tower, op: str) -> list[str]:
    """Bands an operator runs on a tower: sub-GHz everywhere, capacity bands in towns."""
    town = tw.phase == "town"
    if op == "CT":
        return ["FDD800"]
    if op == "CMCC":
        out = ["FDD900"]
        if rng.random() < (0.45 if town else 0.12 if tw.phase == "valley" else 0.02):
            out.append("TDD1900")
        if town and rng.random() < (0.6 if tw.county_seat else 0.2):
            out.append("TDD2600")
        return out
    out = []
    if not town or rng.random() < 0.55:
        out.append("FDD900")
    if rng.random() < (0.75 if town else 0.1 if tw.phase == "valley" else 0.0):
        out.append("FDD1800")
    return out or ["FDD1800"]


def site_table(rng: np.random.Generator, towers: list[Tower]) -> pd.DataFrame:
    """The sites table: one row per operator band on every tower (``TW001``... in order).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    towers : list of Tower
        From :func:`operator_masts`.

    Returns
    -------
    DataFrame
        Columns of :data:`coverage.schema.SITES` (lon/lat in degrees, heights in m, dates
        ISO).
    """
    rows: list[dict] = []
    for i, tw in enumerate(towers):
        tower_id = f"TW{i + 1:03d}"
        lon, lat = GRID.xy_to_lonlat(tw.xy[0], tw.xy[1])
        entries = [(op, b, tw.status) for op in tw.tenants for b in _bands(rng, tw, op)]
        entries += list(tw.extra)
        level = {op: k for k, op in enumerate(dict.fromkeys(e[0] for e in entries))}
        for op, band, status in entries:
            lv = level[op]
            az = tuple((a + 10 * lv) % 360 for a in tw.azimuths)
            sector = bool(az)
            built = tw.built
            if status != "on_air" or built is None:
                on_air = None
            else:
                on_air = built + dt.timedelta(days=int(lv * rng.integers(90, 900)))
                on_air = min(on_air, dt.date(2020, 9, 30))
            gain = None
            if rng.random() < 0.5:
                gain = float(rng.choice([15.5, 16.5, 17.0, 18.0])) if sector else 11.0
            rows.append({
                "site_id": f"{op}-{tower_id}-{band}",
                "operator": op,
                "lon": round(float(lon), 6),
                "lat": round(float(lat), 6),
                "height_m": tw.height - 4.0 * lv,
                "band": band,
                "tower_id": tower_id,
                "azimuths_deg": ";".join(str(a) for a in sorted(az)),
                "tilt_deg": tw.tilt,
                "power_dbm": float(rng.choice([40.0, 43.0, 43.0, 43.0, 46.0])),
                "gain_dbi": gain,
                "status": status,
                "on_air_date": iso(on_air),
                "backhaul": "none" if status == "planned" else tw.backhaul,
            })
    return pd.DataFrame(rows)
