"""ITU-R P.1812-8: path-specific point-to-area prediction (30 MHz - 6 GHz) for one profile.

Implemented from Recommendation ITU-R P.1812-8, Annex 1 (sections 3-4) and its Attachments 1
(path profile analysis) and 2 (inverse cumulative normal), for outdoor receivers:

* free-space and line-of-sight loss with multipath/focusing corrections (section 4.2),
* delta-Bullington diffraction over the profile with representative clutter heights added to
  the intermediate points (section 3.2), interpolated between the median effective earth
  radius ae and a_beta (section 4.3),
* troposcatter (section 4.4), ducting/layer reflection (section 4.5), their blending into
  Lbc (section 4.6), location variability (section 4.8) and field strength (section 4.9).

Equation numbers in comments are those quoted by the ITU-R SG3 validation logs.
The diffraction formulas live in :mod:`coverage.radio.diffraction` (shared with the area
engine). Not implemented: building entry loss (indoor receivers), the ITU digital maps of
Delta-N and N0 (pass path-centre values; defaults 45 and 325 N-units).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from coverage.errors import ModelRangeError
from coverage.radio.diffraction import (
    POL_HORIZONTAL,
    POL_VERTICAL,
    delta_bullington_terms,
    wavelength_m,
)

__all__ = [
    "P1812Result",
    "basic_transmission_loss",
    "effective_earth_radius",
    "field_strength_dbuv_m",
    "inv_cum_norm",
    "location_sigma_db",
]

#: Mean earth radius (km) used for the path-centre point (P.2001 Attachment H).
EARTH_RADIUS_KM = 6371.0
#: Effective-earth factor exceeded for beta0 % of time, eq. (7b).
K_BETA = 3.0

FloatArray = npt.NDArray[np.float64]
Polarisation = int | Literal["h", "v", "horizontal", "vertical"]


@dataclass(frozen=True)
class P1812Result:
    """Result of :func:`basic_transmission_loss`: the loss and its intermediate terms.

    Losses in dB, distances in km, heights in m, angles in mrad. Names follow the ITU-R SG3
    validation logs. ``Lbulla``, ``Lbulls`` and ``Ldsph`` are the delta-Bullington parts for
    the a_beta earth radius (the ones that make up ``Ldb``, as logged by the ITU reference
    code); ``Lbulla50``, ``Lbulls50`` and ``Ldsph50`` are those for ae (making up ``Ld50``).
    """

    Lb: float  # basic transmission loss not exceeded for p % time, pL % locations, eq. (69)
    Ep: float  # field strength for 1 kW e.r.p. (dBuV/m), eq. (70)
    Lbfs: float  # free-space loss, eq. (8)
    Lb0p: float  # line-of-sight loss not exceeded for p % time, eq. (10)
    Lb0b: float  # line-of-sight loss not exceeded for beta0 % time, eq. (11)
    Lbulla: float
    Lbulls: float
    Ldsph: float
    Lbulla50: float
    Lbulls50: float
    Ldsph50: float
    Ld50: float  # median diffraction loss, eq. (39) with ae
    Ldb: float  # diffraction loss for beta0 % time, eq. (39) with a_beta
    Ldp: float  # diffraction loss not exceeded for p % time, eq. (41)
    Lbd50: float  # eq. (42)
    Lbd: float  # eq. (43)
    Lminb0p: float  # eq. (59)
    Lba: float  # ducting / layer reflection, eq. (46)
    Lminbap: float  # eq. (60)
    Lbda: float  # eq. (61)
    Lbam: float  # eq. (62)
    Lbs: float  # troposcatter, eq. (44)
    Lbc: float  # combined, eq. (63)
    Lloc: float  # location-variability term, eqs. (67)-(68)
    Fi: float  # eq. (40)
    Fj: float  # eq. (57)
    Fk: float  # eq. (58)
    d: float  # path length
    dlt: float  # Tx horizon distance, eq. (78)
    dlr: float  # Rx horizon distance, eq. (81a)
    theta_t: float  # Tx horizon elevation angle
    theta_r: float  # Rx horizon elevation angle
    theta: float  # path angular distance, eq. (82)
    hts: float  # Tx antenna height amsl
    hrs: float  # Rx antenna height amsl
    hst: float  # smooth-earth height at Tx (least squares, before clamping)
    hsr: float  # smooth-earth height at Rx (least squares, before clamping)
    hstd: float  # smooth-surface height at Tx for diffraction, eq. (89)
    hsrd: float  # smooth-surface height at Rx for diffraction, eq. (89)
    hte: float  # Tx effective height for ducting, eq. (92a)
    hre: float  # Rx effective height for ducting, eq. (92b)
    hm: float  # terrain roughness, eq. (93)
    ae: float  # median effective earth radius, eq. (7a)
    ab: float  # effective earth radius exceeded for beta0 % time, eq. (7b)
    b0: float  # beta0 (%), eq. (5)
    omega: float  # fraction of the path over sea
    dtm: float  # longest continuous land section
    dlm: float  # longest continuous inland section
    phi_path: float  # path-centre latitude (deg), eq. (4)
    trans_horizon: bool  # True when the path is trans-horizon (Attachment 1, section 4)

    @property
    def Lbfsg(self) -> float:
        """Alias of :attr:`Lbfs` (P.452 naming)."""
        return self.Lbfs


# --------------------------------------------------------------------------------------------
# small formulas
# --------------------------------------------------------------------------------------------


def effective_earth_radius(delta_n: float) -> tuple[float, float]:
    """Median effective earth radius ae and a_beta (km), eqs. (6), (7a), (7b).

    ``k50 = 157 / (157 - delta_n)``, ``ae = 6371 k50``, ``a_beta = 6371 * 3``.

    Parameters
    ----------
    delta_n : float
        Average radio-refractivity lapse rate through the lowest 1 km (N-units/km, > 0;
        39.25 gives k = 4/3).
    """
    k50 = 157.0 / (157.0 - delta_n)
    return EARTH_RADIUS_KM * k50, EARTH_RADIUS_KM * K_BETA


def inv_cum_norm(x: float) -> float:
    """Inverse complementary cumulative normal I(x), P.1812-8 Attachment 2, eqs. (96)-(97).

    The Recommendation's rational approximation (error < 4.5e-4), x clipped to
    [1e-6, 0.999999]. I(0.1) = 1.28, I(0.5) = 0, I(0.9) = -1.28.
    """
    x = min(max(x, 1e-6), 0.999999)

    def _t_minus_c(y: float) -> float:
        t = math.sqrt(-2.0 * math.log(y))
        c = ((0.010328 * t + 0.802853) * t + 2.515516698) / (
            ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0)
        return t - c

    return _t_minus_c(x) if x <= 0.5 else -_t_minus_c(1.0 - x)


def field_strength_dbuv_m(lb_db: float | FloatArray, f_ghz: float,
                          erp_kw: float = 1.0) -> float | FloatArray:
    """Field strength (dBuV/m) from basic transmission loss, eq. (70).

    ``E = 199.36 + 20 log10(f_GHz) - Lb + 10 log10(erp_kw)`` (1 kW e.r.p. by default).
    """
    return 199.36 + 20.0 * np.log10(f_ghz) - lb_db + 10.0 * np.log10(erp_kw)


def location_sigma_db(f_ghz: float, hrg_m: float, r_m: float, wa_m: float = 100.0) -> float:
    """Standard deviation of location variability sigma_L (dB), P.1812-8 section 4.8.

    ``sigma_L = (0.52 + 0.024 f) wa^0.28 u_h`` with ``u_h = 1`` below the clutter,
    ``1 - (h - R)/10`` within 10 m above it, 0 higher.

    Parameters
    ----------
    f_ghz : float
        Frequency (GHz).
    hrg_m : float
        Receiver height above ground (m).
    r_m : float
        Representative clutter height at the receiver (m).
    wa_m : float
        Width of the square area over which the variability applies (m).
    """
    if hrg_m < r_m:
        uh = 1.0
    elif hrg_m >= r_m + 10.0:
        uh = 0.0
    else:
        uh = 1.0 - (hrg_m - r_m) / 10.0
    return (0.52 + 0.024 * f_ghz) * wa_m**0.28 * uh


def _path_centre_latitude(phi_t: float, lam_t: float, phi_r: float, lam_r: float,
                          dist_km: float) -> float:
    """Latitude (deg) of the point ``dist_km`` from the Tx along the great circle to the Rx."""
    pt, pr = math.radians(phi_t), math.radians(phi_r)
    dlon = math.radians(lam_r - lam_t)
    y = math.cos(pr) * math.sin(dlon)
    x = math.cos(pt) * math.sin(pr) - math.sin(pt) * math.cos(pr) * math.cos(dlon)
    bearing = math.atan2(y, x) if (abs(x) > 1e-12 or abs(y) > 1e-12) else 0.0
    delta = dist_km / EARTH_RADIUS_KM
    s = math.sin(pt) * math.cos(delta) + math.cos(pt) * math.sin(delta) * math.cos(bearing)
    return math.degrees(math.asin(min(1.0, max(-1.0, s))))


def _beta0(phi_deg: float, dtm_km: float, dlm_km: float) -> float:
    """Time percentage beta0 (%) of refractivity gradients beyond 100 N/km, eqs. (2)-(5)."""
    tau = 1.0 - math.exp(-4.12e-4 * dlm_km**2.41)  # eq. (3)
    mu1 = (10.0 ** (-dtm_km / (16.0 - 6.6 * tau))
           + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2  # eq. (2)
    mu1 = min(mu1, 1.0)
    aphi = abs(phi_deg)
    if aphi <= 70.0:
        mu4 = mu1 ** (-0.935 + 0.0176 * aphi)  # eq. (4)
        return 10.0 ** (-0.015 * aphi + 1.67) * mu1 * mu4  # eq. (5)
    return 4.17 * mu1 * mu1**0.3


def _run_lengths(d: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
    """Lengths (km) of the contiguous runs of ``mask`` along the profile.

    Each run extends half a step beyond its first and last points (unless at a terminal).
    """
    n = d.size
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    lo = np.where(starts > 0, 0.5 * (d[starts] - d[np.maximum(starts - 1, 0)]), 0.0)
    hi = np.where(stops < n - 1, 0.5 * (d[np.minimum(stops + 1, n - 1)] - d[stops]), 0.0)
    return d[stops] - d[starts] + lo + hi


# --------------------------------------------------------------------------------------------
# path profile analysis (Attachment 1)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    dlt: float
    dlr: float
    theta_t: float
    theta_r: float
    theta: float
    hst: float
    hsr: float
    hstd: float
    hsrd: float
    hte: float
    hre: float
    hm: float
    trans_horizon: bool


def _profile_geometry(d: FloatArray, h: FloatArray, htg: float, hrg: float, ae: float,
                      f_ghz: float) -> _Geometry:
    """Horizon angles/distances, smooth-earth heights and roughness (Attachment 1, s. 4-5).

    Uses the bare terrain heights ``h`` (m amsl), as the ITU-R validation results do.
    """
    dtot = d[-1]
    hts, hrs = h[0] + htg, h[-1] + hrg
    di, hi = d[1:-1], h[1:-1]
    dri = dtot - di

    # smooth-earth surface by least squares, eqs. (85)-(88)
    dd = np.diff(d)
    v1 = float(np.sum(dd * (h[1:] + h[:-1])))
    v2 = float(np.sum(dd * (h[1:] * (2.0 * d[1:] + d[:-1]) + h[:-1] * (d[1:] + 2.0 * d[:-1]))))
    hst = (2.0 * v1 * dtot - v2) / dtot**2
    hsr = (v2 - v1 * dtot) / dtot**2

    # smooth-surface heights for the diffraction model, eqs. (89)-(91)
    hh = hi - (hts * dri + hrs * di) / dtot
    hobs = float(np.max(hh))
    if hobs <= 0.0:
        hstp, hsrp = hst, hsr
    else:
        a_t = float(np.max(hh / di))
        a_r = float(np.max(hh / dri))
        hstp = hst - hobs * a_t / (a_t + a_r)
        hsrp = hsr - hobs * a_r / (a_t + a_r)
    hstd = min(hstp, float(h[0]))
    hsrd = min(hsrp, float(h[-1]))

    # horizon elevation angles and distances, eqs. (76)-(84)
    th_i = 1000.0 * np.arctan((hi - hts) / (1000.0 * di) - di / (2.0 * ae))
    th_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae))
    th_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
    it = int(np.argmax(th_i))
    trans = bool(th_i[it] > th_td)
    theta_t = max(float(th_i[it]), th_td)
    if trans:
        lt = it + 1
        th_ri = 1000.0 * np.arctan((hi - hrs) / (1000.0 * dri) - dri / (2.0 * ae))
        ir = th_ri.size - 1 - int(np.argmax(th_ri[::-1]))  # nearest the Rx on ties
        theta_r = float(th_ri[ir])
        lr = ir + 1
        dlt, dlr = float(d[lt]), float(dtot - d[lr])
    else:
        theta_r = th_rd
        lam = wavelength_m(f_ghz)
        nu = (hi + 500.0 * di * dri / ae - (hts * dri + hrs * di) / dtot) * np.sqrt(
            0.002 * dtot / (lam * di * dri))
        lt = lr = nu.size - int(np.argmax(nu[::-1]))  # last maximum, as a profile index
        dlt = float(d[lt])
        dlr = dtot - dlt
    theta = 1000.0 * dtot / ae + theta_t + theta_r

    # ducting/layer-reflection heights and roughness, eqs. (90)-(93)
    hst_c = min(hst, float(h[0]))
    hsr_c = min(hsr, float(h[-1]))
    slope = (hsr_c - hst_c) / dtot
    hte = htg + float(h[0]) - hst_c
    hre = hrg + float(h[-1]) - hsr_c
    seg = slice(lt, lr + 1)
    hm = float(np.max(h[seg] - (hst_c + slope * d[seg])))
    return _Geometry(dlt=dlt, dlr=dlr, theta_t=theta_t, theta_r=theta_r, theta=theta,
                     hst=hst, hsr=hsr, hstd=hstd, hsrd=hsrd, hte=hte, hre=hre, hm=hm,
                     trans_horizon=trans)


# --------------------------------------------------------------------------------------------
# propagation mechanisms
# --------------------------------------------------------------------------------------------


def _anomalous(f: float, p: float, dtot: float, geo: _Geometry, hts: float, hrs: float,
               dct: float, dcr: float, dlm: float, omega: float, ae: float,
               b0: float) -> float:
    """Ducting / layer-reflection basic loss Lba (dB), section 4.5, eqs. (46)-(56)."""
    dlt, dlr = geo.dlt, geo.dlr
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0  # eq. (47a)

    def site_shielding(theta: float, dl: float) -> float:  # eq. (48)
        th2 = theta - 0.1 * dl
        if th2 <= 0.0:
            return 0.0
        return 20.0 * math.log10(1.0 + 0.361 * th2 * math.sqrt(f * dl)) + 0.264 * th2 * f ** (
            1.0 / 3.0)

    def sea_coupling(dc: float, dl: float, hs: float) -> float:  # eq. (49)
        if omega >= 0.75 and dc <= dl and dc <= 5.0:
            return -3.0 * math.exp(-0.25 * dc * dc) * (1.0 + math.tanh(0.07 * (50.0 - hs)))
        return 0.0

    af = (102.45 + 20.0 * math.log10(f) + 20.0 * math.log10(dlt + dlr) + alf
          + site_shielding(geo.theta_t, dlt) + site_shielding(geo.theta_r, dlr)
          + sea_coupling(dct, dlt, hts) + sea_coupling(dcr, dlr, hrs))  # eq. (47)
    gamma_d = 5e-5 * ae * f ** (1.0 / 3.0)  # eq. (51)
    theta1 = 1e3 * dtot / ae + min(geo.theta_t, 0.1 * dlt) + min(geo.theta_r, 0.1 * dlr)
    d_i = min(dtot - dlt - dlr, 40.0)  # eq. (56a)
    mu3 = math.exp(-4.6e-5 * (geo.hm - 10.0) * (43.0 + 6.0 * d_i)) if geo.hm > 10.0 else 1.0
    tau = 1.0 - math.exp(-4.12e-4 * dlm**2.41)
    alpha = max(-0.6 - 3.5e-9 * dtot**3.1 * tau, -3.4)  # eq. (55a)
    mu2 = min((500.0 / ae * dtot**2 / (math.sqrt(geo.hte) + math.sqrt(geo.hre)) ** 2) ** alpha,
              1.0)  # eq. (55)
    beta = b0 * mu2 * mu3  # eq. (54)
    lb = math.log10(beta)
    gamma = 1.076 / (2.0058 - lb) ** 1.012 * math.exp(
        -(9.51 - 4.8 * lb + 0.198 * lb * lb) * 1e-6 * dtot**1.13)  # eq. (53a)
    ap = -12.0 + (1.2 + 3.7e-3 * dtot) * math.log10(p / beta) + 12.0 * (p / beta) ** gamma
    return af + gamma_d * theta1 + ap  # eqs. (46), (50), (53)


def _troposcatter(f: float, p: float, dtot: float, theta: float, n0: float) -> float:
    """Troposcatter basic loss Lbs (dB) not exceeded for p % time, eqs. (44)-(45)."""
    lf = 25.0 * math.log10(f) - 2.5 * math.log10(f / 2.0) ** 2
    return (190.1 + lf + 20.0 * math.log10(dtot) + 0.573 * theta - 0.15 * n0
            - 10.125 * math.log10(50.0 / p) ** 0.7)


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _check_range(name: str, value: float, lo: float, hi: float, strict: bool,
                 what: str) -> float:
    """Return ``value`` if in [lo, hi]; else raise ModelRangeError (strict) or clamp + warn."""
    if lo <= value <= hi:
        return value
    msg = (f"ITU-R P.1812: {name} = {value:g} is outside the valid range [{lo:g}, {hi:g}]; "
           f"{what}")
    if strict:
        raise ModelRangeError(msg)
    clamped = min(max(value, lo), hi)
    warnings.warn(msg + f" (clamped to {clamped:g})", stacklevel=3)
    return clamped


def _polarisation(pol: Polarisation) -> int:
    if isinstance(pol, str):
        key = pol.strip().lower()[:1]
        if key in ("h", "v"):
            return POL_HORIZONTAL if key == "h" else POL_VERTICAL
    elif pol in (POL_HORIZONTAL, POL_VERTICAL):
        return int(pol)
    raise ModelRangeError(f"ITU-R P.1812: polarisation {pol!r} is not valid; use 0 or 'h' "
                          "(horizontal), 1 or 'v' (vertical)")


def _profile_arrays(d_km: npt.ArrayLike, h_m: npt.ArrayLike, r_m: npt.ArrayLike | None,
                    zone: npt.ArrayLike | None) -> tuple[FloatArray, FloatArray, FloatArray,
                                                         npt.NDArray[np.int64]]:
    d = np.asarray(d_km, dtype=np.float64)
    h = np.asarray(h_m, dtype=np.float64)
    n = d.size
    r = np.zeros(n) if r_m is None else np.asarray(r_m, dtype=np.float64)
    z = np.full(n, 4, dtype=np.int64) if zone is None else np.asarray(zone).astype(np.int64)
    if d.ndim != 1 or n < 3:
        raise ModelRangeError("ITU-R P.1812: the profile needs at least 3 points (Tx, one "
                              f"intermediate point, Rx); got {n}. Sample the path more finely.")
    for name, arr in (("h_m", h), ("r_m", r), ("zone", z)):
        if arr.shape != d.shape:
            raise ModelRangeError(f"ITU-R P.1812: {name} has {arr.size} points but d_km has "
                                  f"{n}; give one value per profile point.")
    if d[0] != 0.0 or np.any(np.diff(d) <= 0.0):
        raise ModelRangeError("ITU-R P.1812: d_km must start at 0 (the Tx) and increase "
                              "strictly to the Rx; reorder, de-duplicate or re-sample the "
                              "profile.")
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(r))):
        raise ModelRangeError("ITU-R P.1812: the profile has missing (NaN) heights; fill the "
                              "DEM voids before predicting.")
    if not np.all(np.isin(z, (1, 3, 4))):
        raise ModelRangeError("ITU-R P.1812: zone values must be 1 (sea), 3 (coastal land) or "
                              "4 (inland); got " + str(sorted(set(z.tolist()))))
    return d, h, r, z


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------


def basic_transmission_loss(
    f_ghz: float,
    p_percent: float,
    d_km: npt.ArrayLike,
    h_m: npt.ArrayLike,
    r_m: npt.ArrayLike | None,
    zone: npt.ArrayLike | None,
    htg_m: float,
    hrg_m: float,
    pol: Polarisation,
    phi_t: float,
    phi_r: float,
    lam_t: float,
    lam_r: float,
    *,
    pL: float = 50.0,
    sigmaL: float = 0.0,
    delta_n: float = 45.0,
    n0: float = 325.0,
    dct_km: float = 500.0,
    dcr_km: float = 500.0,
    phi_path: float | None = None,
    strict: bool = True,
) -> P1812Result:
    """Basic transmission loss of one terrain profile per ITU-R P.1812-8 (outdoor receiver).

    Parameters
    ----------
    f_ghz : float
        Frequency (GHz), valid 0.03-6.
    p_percent : float
        Time percentage (%) for which the loss is not exceeded, valid 1-50.
    d_km : array_like
        Distance of each profile point from the Tx (km), ascending from 0 to the Rx.
    h_m : array_like
        Terrain height of each point (m amsl).
    r_m : array_like or None
        Representative clutter (ground-cover) height of each point (m); added to the terrain
        at the intermediate points for diffraction (section 3.2), ignored at the terminals.
        None: no clutter.
    zone : array_like or None
        Radio-climatic zone of each point: 1 sea, 3 coastal land, 4 inland. None: inland.
    htg_m, hrg_m : float
        Tx and Rx antenna heights above ground (m), valid 1-3000.
    pol : int or str
        Polarisation: 0 / "h" horizontal, 1 / "v" vertical.
    phi_t, phi_r : float
        Tx and Rx latitude (deg, north positive).
    lam_t, lam_r : float
        Tx and Rx longitude (deg, east positive).
    pL : float
        Location percentage (%) for which the loss is not exceeded, 0 < pL < 100.
    sigmaL : float
        Standard deviation of location variability (dB), e.g. :func:`location_sigma_db`.
    delta_n : float
        Path-centre refractivity lapse rate Delta-N (N-units/km); 39.25 gives k = 4/3.
    n0 : float
        Path-centre sea-level surface refractivity N0 (N-units).
    dct_km, dcr_km : float
        Distance over land from Tx / Rx to the coast (km); forced to 0 for a terminal at sea.
    phi_path : float or None
        Path-centre latitude (deg); None computes it from the terminal coordinates.
    strict : bool
        True: out-of-range f, p, heights or pL raise :class:`~coverage.errors.ModelRangeError`.
        False: they are clamped to the range with a warning.

    Returns
    -------
    P1812Result
        ``Lb`` (dB) and every intermediate term.

    Raises
    ------
    ModelRangeError
        Inputs outside the Recommendation's validity range or a malformed profile.
    """
    d, h, r, z = _profile_arrays(d_km, h_m, r_m, zone)
    use = "use a model valid there (e.g. free space) or pass strict=False to clamp"
    f = _check_range("frequency f_ghz (GHz)", f_ghz, 0.03, 6.0, strict, use)
    p = _check_range("time percentage p_percent (%)", p_percent, 1.0, 50.0, strict,
                     "P.1812 predicts losses not exceeded for 1-50 % of time")
    htg = _check_range("Tx height above ground htg_m (m)", htg_m, 1.0, 3000.0, strict,
                       "antenna heights must be 1-3000 m above ground")
    hrg = _check_range("Rx height above ground hrg_m (m)", hrg_m, 1.0, 3000.0, strict,
                       "antenna heights must be 1-3000 m above ground")
    p_loc = _check_range("location percentage pL (%)", pL, 1e-6, 100.0 - 1e-6, strict,
                         "pL must be strictly between 0 and 100")
    if sigmaL < 0.0 or dct_km < 0.0 or dcr_km < 0.0 or not 0.0 <= delta_n < 157.0:
        raise ModelRangeError("ITU-R P.1812: sigmaL, dct_km, dcr_km must be >= 0 and "
                              f"0 <= delta_n < 157 (got {sigmaL}, {dct_km}, {dcr_km}, "
                              f"{delta_n}); check the model settings.")
    ipol = _polarisation(pol)
    dct = 0.0 if z[0] == 1 else dct_km
    dcr = 0.0 if z[-1] == 1 else dcr_km

    dtot = float(d[-1])
    hts, hrs = float(h[0]) + htg, float(h[-1]) + hrg
    g = h + r
    g[0], g[-1] = h[0], h[-1]  # clutter only at intermediate points, section 3.2

    # radio-meteorology, sections 3.5-3.7
    lengths_land = _run_lengths(d, (z == 3) | (z == 4))
    lengths_inland = _run_lengths(d, z == 4)
    dtm = float(lengths_land.max()) if lengths_land.size else 0.0
    dlm = float(lengths_inland.max()) if lengths_inland.size else 0.0
    omega = float(_run_lengths(d, z == 1).sum()) / dtot
    if phi_path is None:
        phi_path = _path_centre_latitude(phi_t, lam_t, phi_r, lam_r, 0.5 * dtot)
    b0 = _beta0(phi_path, dtm, dlm)
    ae, ab = effective_earth_radius(delta_n)

    geo = _profile_geometry(d, h, htg, hrg, ae, f)

    # interpolation factors, eqs. (57)-(58)
    fj = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (geo.theta - 0.3) / 0.3))
    fk = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))

    # line of sight, eqs. (8)-(11)
    lbfs = 92.4 + 20.0 * math.log10(f) + 10.0 * math.log10(dtot**2 + ((hts - hrs) / 1e3) ** 2)
    mp = 2.6 * (1.0 - math.exp(-0.1 * (geo.dlt + geo.dlr)))
    lb0p = lbfs + mp * math.log10(p / 50.0)
    lb0b = lbfs + mp * math.log10(b0 / 50.0)

    # diffraction, eqs. (37)-(43)
    ld50, lbulla50, lbulls50, ldsph50 = delta_bullington_terms(
        d, g, hts, hrs, geo.hstd, geo.hsrd, ae, f, omega, ipol)
    ldb, lbulla, lbulls, ldsph = delta_bullington_terms(
        d, g, hts, hrs, geo.hstd, geo.hsrd, ab, f, omega, ipol)
    fi = inv_cum_norm(p / 100.0) / inv_cum_norm(b0 / 100.0) if p > b0 else 1.0  # eq. (40)
    ldp = ld50 if p == 50.0 else ld50 + fi * (ldb - ld50)  # eq. (41)
    lbd50 = lbfs + ld50
    lbd = lb0p + ldp

    # blending of LoS, diffraction, ducting and troposcatter, eqs. (59)-(63)
    if p < b0:
        lminb0p = lb0p + (1.0 - omega) * ldp
    else:
        lminb0p = lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * fi
    lba = _anomalous(f, p, dtot, geo, hts, hrs, dct, dcr, dlm, omega, ae, b0)
    eta = 2.5
    lminbap = eta * float(np.logaddexp(lba / eta, lb0p / eta))
    lbda = lminbap + (lbd - lminbap) * fk if lminbap <= lbd else lbd
    lbam = lbda + (lminb0p - lbda) * fj
    lbs = _troposcatter(f, p, dtot, geo.theta, n0)
    lbc = -5.0 * math.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))

    # location variability and final loss, eqs. (64)-(70)
    lloc = 0.0 if z[-1] == 1 else -inv_cum_norm(p_loc / 100.0) * sigmaL
    lb = max(lb0p, lbc + lloc)
    ep = float(field_strength_dbuv_m(lb, f))

    return P1812Result(
        Lb=lb, Ep=ep, Lbfs=lbfs, Lb0p=lb0p, Lb0b=lb0b, Lbulla=lbulla, Lbulls=lbulls,
        Ldsph=ldsph, Lbulla50=lbulla50, Lbulls50=lbulls50, Ldsph50=ldsph50, Ld50=ld50,
        Ldb=ldb, Ldp=ldp, Lbd50=lbd50, Lbd=lbd, Lminb0p=lminb0p, Lba=lba, Lminbap=lminbap,
        Lbda=lbda, Lbam=lbam, Lbs=lbs, Lbc=lbc, Lloc=lloc, Fi=fi, Fj=fj, Fk=fk, d=dtot,
        dlt=geo.dlt, dlr=geo.dlr, theta_t=geo.theta_t, theta_r=geo.theta_r, theta=geo.theta,
        hts=hts, hrs=hrs, hst=geo.hst, hsr=geo.hsr, hstd=geo.hstd, hsrd=geo.hsrd,
        hte=geo.hte, hre=geo.hre, hm=geo.hm, ae=ae, ab=ab, b0=b0, omega=omega, dtm=dtm,
        dlm=dlm, phi_path=phi_path, trans_horizon=geo.trans_horizon,
    )
