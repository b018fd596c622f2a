"""RSRP over one site's loss window in one compiled pass (antenna pattern + link budget).

The same model as :func:`coverage.radio.antenna.best_sector_db` and
:func:`coverage.radio.linkbudget.rsrp_dbm`, fused per cell: depression angle (earth
curvature included), the sector nearest in azimuth (the vertical pattern is common to all
sectors, so the nearest sector is the best), its 3GPP pattern, then the link budget. One
pass instead of a dozen full-window numpy temporaries per sector is what keeps a warm
(cached) county prediction within seconds.
"""

from __future__ import annotations

import math

import numpy as np

from coverage.radio.jit import njit
from coverage.radio.threads import run_ranges


def rsrp_window(loss_db: np.ndarray, ground_m: np.ndarray, cell_x: np.ndarray,
                cell_y: np.ndarray, site_x: float, site_y: float, tx_amsl_m: float,
                rx_height_m: float, ae_m: float, azimuths_deg: np.ndarray, tilt_deg: float,
                h_beamwidth_deg: float, v_beamwidth_deg: float, am_db: float,
                sla_v_db: float, eirp_ref_db: float, *,
                floor: tuple[np.ndarray, int, int] | None = None, threads: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """RSRP (dBm) and best sector of every cell of a window.

    Parameters
    ----------
    loss_db : ndarray (rows, cols)
        Basic transmission loss (dB); NaN where not predicted.
    ground_m : ndarray (rows, cols)
        Receiver ground height (m amsl); NaN counts as 0 m.
    cell_x : ndarray (cols,)
        Cell-centre x of each column (m, working CRS).
    cell_y : ndarray (rows,)
        Cell-centre y of each row (m).
    site_x, site_y : float
        Antenna position (m).
    tx_amsl_m : float
        Antenna height above sea level (m).
    rx_height_m : float
        Receiver height above ground (m).
    ae_m : float
        Effective earth radius (m).
    azimuths_deg : ndarray (n,)
        Sector azimuths (degrees from grid north); empty for an omni antenna.
    tilt_deg : float
        Total downtilt (degrees, positive down).
    h_beamwidth_deg, v_beamwidth_deg : float
        3 dB beamwidths (degrees).
    am_db, sla_v_db : float
        Front-to-back ratio Am and vertical side-lobe limit SLA_V (dB).
    eirp_ref_db : float
        RS EPRE + antenna gain − feeder loss − body loss (dB): RSRP = this + pattern − loss.
    floor : (ndarray, int, int), optional
        ``(raster, row0, col0)``: a float32 raster (C-contiguous) holding, at
        ``raster[row0 + r, col0 + c]``, a value that cell ``(r, c)`` of the window certainly
        reaches from other sites (in practice the best-server accumulator of the sites folded
        so far, which only grows). Where this site's RSRP is certainly below it (its bound
        with the pattern at its 0 dB maximum: ``float32(eirp_ref_db - loss) < floor``), the
        cell is left out: RSRP NaN and sector −1, without the angles and the pattern. Such a
        site can never be the strongest there, so a best-server fold is the same as with
        every cell computed; only the site's own window differs. The raster may be written
        by another thread meanwhile, as long as its values only grow. Ignored when
        ``am_db`` or ``sla_v_db`` is negative (the pattern could then exceed 0 dB).
    threads : int, optional
        Threads sharing the rows (:func:`coverage.radio.threads.resolve`).

    Returns
    -------
    rsrp : ndarray of float32
        RSRP (dBm), NaN where the loss is NaN.
    sector : ndarray of int8
        Best sector (index into ``azimuths_deg``), −1 for omni or where RSRP is NaN.
    """
    rows, cols = loss_db.shape
    rsrp = np.empty((rows, cols), np.float32)
    sector = np.empty((rows, cols), np.int8)
    if floor is None:
        floor_raster, floor_row0, floor_col0, use_floor = _NO_FLOOR, 0, 0, 0
    else:
        floor_raster, floor_row0, floor_col0 = floor
        if (floor_raster.dtype != np.float32 or floor_raster.ndim != 2
                or not floor_raster.flags.c_contiguous or floor_row0 < 0 or floor_col0 < 0
                or floor_row0 + rows > floor_raster.shape[0]
                or floor_col0 + cols > floor_raster.shape[1]):
            raise ValueError("floor must be a C-contiguous float32 raster holding the window")
        # the bound holds for a pattern of at most 0 dB: Am and SLA_V not negative
        use_floor = 1 if am_db >= 0.0 and sla_v_db >= 0.0 else 0
        floor_row0, floor_col0 = int(floor_row0), int(floor_col0)

    def band(r0: int, r1: int) -> None:
        _rsrp_rows(loss_db, ground_m, cell_x, cell_y, site_x, site_y, tx_amsl_m, rx_height_m,
                   ae_m, azimuths_deg, tilt_deg, h_beamwidth_deg, v_beamwidth_deg, am_db,
                   sla_v_db, eirp_ref_db, floor_raster, floor_row0, floor_col0, use_floor,
                   r0, r1, rsrp, sector)

    run_ranges(band, rows, threads, chunks_per_thread=1)
    return rsrp, sector


_NO_FLOOR = np.full((1, 1), -np.inf, np.float32)
"""The floor argument of :func:`_rsrp_rows` when there is none (never read)."""


@njit(cache=True, nogil=True)
def _rsrp_rows(loss_db, ground_m, cell_x, cell_y, site_x, site_y, tx_amsl_m, rx_height_m,
               ae_m, azimuths_deg, tilt_deg, h_beamwidth_deg, v_beamwidth_deg, am_db,
               sla_v_db, eirp_ref_db, floor, floor_row0, floor_col0, use_floor, r0, r1, rsrp,
               sector):
    """Rows ``r0..r1-1`` of :func:`rsrp_window` into ``rsrp`` and ``sector`` (serial, without
    the GIL; disjoint row ranges may run on threads side by side).

    With ``use_floor`` a cell whose bound ``float32(eirp_ref_db - loss)`` is below
    ``floor[floor_row0 + r, floor_col0 + c]`` is left out. Exact: the pattern is at most
    0 dB (``best <= 0``), and rounding is monotone, so the RSRP written otherwise,
    ``float32(eirp_ref_db + best - loss)``, could not be larger than the bound."""
    cols = loss_db.shape[1]
    n_sectors = azimuths_deg.shape[0]
    sin_az = np.sin(np.radians(azimuths_deg))
    cos_az = np.cos(np.radians(azimuths_deg))
    for r in range(r0, r1):
        dy = cell_y[r] - site_y
        for c in range(cols):
            loss = loss_db[r, c]
            if math.isnan(loss):
                rsrp[r, c] = np.nan
                sector[r, c] = -1
                continue
            if use_floor and np.float32(eirp_ref_db - loss) < floor[floor_row0 + r,
                                                                     floor_col0 + c]:
                rsrp[r, c] = np.nan
                sector[r, c] = -1
                continue
            dx = cell_x[c] - site_x
            dist = math.sqrt(dx * dx + dy * dy)
            ground = ground_m[r, c]
            if math.isnan(ground):
                ground = 0.0
            hrs = ground + rx_height_m
            theta = math.degrees(math.atan2(tx_amsl_m - hrs + dist * dist / (2.0 * ae_m), dist))
            u = (theta - tilt_deg) / v_beamwidth_deg
            tv = 12.0 * u * u
            a_v = -min(tv, sla_v_db)
            if n_sectors == 0:
                best = a_v
                best_k = -1
            else:
                # a_v is the same for every sector, so the best sector is the one nearest in
                # azimuth: the largest cos(phi), i.e. dot product (first index on ties)
                best_k = 0
                best_dot = -np.inf
                for k in range(n_sectors):
                    dot = dx * sin_az[k] + dy * cos_az[k]
                    if dot > best_dot:
                        best_dot = dot
                        best_k = k
                cross = dx * cos_az[best_k] - dy * sin_az[best_k]
                w = math.degrees(math.atan2(cross, best_dot)) / h_beamwidth_deg
                a_h = -min(12.0 * w * w, am_db)
                best = -min(-(a_h + a_v), am_db)
                if best == -am_db:
                    best_k = 0  # every sector is at the floor: the first one, as before
            rsrp[r, c] = eirp_ref_db + best - loss
            sector[r, c] = best_k
