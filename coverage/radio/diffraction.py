"""Diffraction primitives shared by ITU-R P.1812 and the area engine (numba, float64).

Everything here follows Recommendation ITU-R P.1812-8, Annex 1, section 4.3 (which uses the
ITU-R P.526 "delta-Bullington" method):

* :func:`knife_edge_j` -- knife-edge loss J(nu), eq. (12).
* :func:`bullington_from_nu` / :func:`bullington_from_slopes` -- Bullington loss of one path
  from its worst diffraction parameter or from the Tx/Rx horizon slopes, eqs. (13)-(21).
* :func:`bullington_profile` -- the same, scanning a terrain profile, section 4.3.1.
* :func:`bullington_smooth_earth` -- Bullington loss of a smooth (zero-height) profile without
  profile analysis, Attachment 4 to Annex 1, eqs. (105)-(112).
* :func:`spherical_earth_diffraction` -- Ldsph, sections 4.3.2/4.3.3, eqs. (22)-(36).
* :func:`delta_bullington` / :func:`delta_bullington_terms` -- Ld, section 4.3.4,
  eqs. (37)-(39).

Conventions
-----------
Distances in km, heights in m (above mean sea level unless stated), frequency in GHz,
wavelength in m, effective earth radius in km, slopes in m/km, losses in dB.
Polarisation ``pol``: ``0`` = horizontal (:data:`POL_HORIZONTAL`), ``1`` = vertical
(:data:`POL_VERTICAL`).
The wavelength is ``0.2998 / f_GHz`` m (speed of light 2.998e8 m/s, as in ITU-R P.2001 and the
ITU-R reference implementations).
"""

from __future__ import annotations

import numpy as np

from coverage.radio.jit import njit

POL_HORIZONTAL = 0
POL_VERTICAL = 1

#: Speed of light used for the wavelength (m/s).
SPEED_OF_LIGHT = 2.998e8

# Ground electrical constants of P.1812 section 4.3.3 (relative permittivity, conductivity S/m)
_EPS_LAND, _SIGMA_LAND = 22.0, 0.003
_EPS_SEA, _SIGMA_SEA = 80.0, 5.0


@njit(cache=True)
def wavelength_m(f_ghz: float) -> float:
    """Wavelength (m) of a frequency ``f_ghz`` (GHz): 0.2998 / f."""
    return SPEED_OF_LIGHT * 1e-9 / f_ghz


@njit(cache=True)
def knife_edge_j(nu: float) -> float:
    """Knife-edge diffraction loss J(nu) (dB), P.1812-8 eq. (12) / P.526 approximation.

    Parameters
    ----------
    nu : float
        Fresnel-Kirchhoff diffraction parameter (dimensionless).

    Returns
    -------
    float
        ``6.9 + 20 log10(sqrt((nu - 0.1)^2 + 1) + nu - 0.1)`` for ``nu > -0.78``, else 0 dB.
        J(0) = 6.03 dB; for large nu, J ~ 12.95 + 20 log10(nu).
    """
    if nu <= -0.78:
        return 0.0
    t = nu - 0.1
    return 6.9 + 20.0 * np.log10(np.sqrt(t * t + 1.0) + t)


@njit(cache=True)
def bullington_from_nu(nu: float, dtot_km: float) -> float:
    """Bullington loss Lbull (dB) from the path's diffraction parameter, eq. (21).

    ``Luc = J(nu)`` and ``Lbull = Luc + (1 - exp(-Luc/6)) (10 + 0.02 dtot)``.

    Parameters
    ----------
    nu : float
        Diffraction parameter of the Bullington point (trans-horizon, eq. 20) or the largest
        intermediate-point parameter numax (line of sight, eq. 15).
    dtot_km : float
        Path length (km).
    """
    luc = knife_edge_j(nu)
    return luc + (1.0 - np.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot_km)


@njit(cache=True)
def bullington_from_slopes(
    stim: float,
    srim: float,
    str_: float,
    dtot_km: float,
    hts_m: float,
    hrs_m: float,
    lam_m: float,
    numax: float = np.nan,
) -> float:
    """Bullington diffraction loss Lbull (dB) of P.1812-8 section 4.3.1 from horizon slopes.

    Parameters
    ----------
    stim : float
        Largest slope (m/km) of the line from the Tx antenna to an intermediate profile point,
        ``max((g_i + 500 Ce d_i (dtot - d_i) - hts) / d_i)``, eq. (13), Ce = 1/ap (1/km).
    srim : float
        Largest slope (m/km) of the line from the Rx antenna to an intermediate point,
        ``max((g_i + 500 Ce d_i (dtot - d_i) - hrs) / (dtot - d_i))``, eq. (17).
    str_ : float
        Slope of the Tx-Rx line, ``(hrs - hts) / dtot`` (m/km), eq. (14).
    dtot_km : float
        Path length (km).
    hts_m, hrs_m : float
        Tx and Rx antenna heights used for this profile (m amsl, or above the smooth surface
        for the smooth profile of section 4.3.4).
    lam_m : float
        Wavelength (m).
    numax : float, optional
        Line-of-sight case only (``stim < str_``): the largest intermediate-point diffraction
        parameter of eq. (15). The Recommendation needs it; when it is not given (NaN) the
        diffraction parameter of the point where the two horizon-slope lines meet is used
        instead (exact when one point sets both slopes, otherwise pessimistic).

    Returns
    -------
    float
        Lbull (dB), eq. (21): ``Luc + (1 - exp(-Luc/6)) (10 + 0.02 dtot)``, with Luc = J(nu)
        from eq. (16) (line of sight) or eq. (20) (trans-horizon, Bullington point).
    """
    if stim < str_ and not np.isnan(numax):
        return bullington_from_nu(numax, dtot_km)
    den = stim + srim
    if den == 0.0:  # parallel horizon lines (line of sight, no numax): no obstruction
        return 0.0
    dbp = (hrs_m - hts_m + srim * dtot_km) / den  # eq. (18)
    eps = 1e-9 * dtot_km
    dbp = min(max(dbp, eps), dtot_km - eps)
    nub = (hts_m + stim * dbp - (hts_m * (dtot_km - dbp) + hrs_m * dbp) / dtot_km) * np.sqrt(
        0.002 * dtot_km / (lam_m * dbp * (dtot_km - dbp))
    )  # eq. (20)
    return bullington_from_nu(nub, dtot_km)


@njit(cache=True)
def _bullington_scan(d_km, g_m, flat, hts_m, hrs_m, ap_km, lam_m):
    """Scan a profile for Stim, Srim and numax (eqs. 13, 15, 17); ``flat`` ignores g_m."""
    n = d_km.shape[0]
    d0 = d_km[0]
    dtot = d_km[n - 1] - d0
    ce = 1.0 / ap_km
    stim = -np.inf
    srim = -np.inf
    numax = -np.inf
    for i in range(1, n - 1):
        di = d_km[i] - d0
        dr = dtot - di
        if di <= 0.0 or dr <= 0.0:
            continue
        gi = 500.0 * ce * di * dr
        if not flat:
            gi += g_m[i]
        s_t = (gi - hts_m) / di
        s_r = (gi - hrs_m) / dr
        nu = (gi - (hts_m * dr + hrs_m * di) / dtot) * np.sqrt(0.002 * dtot / (lam_m * di * dr))
        stim = max(stim, s_t)
        srim = max(srim, s_r)
        numax = max(numax, nu)
    return stim, srim, numax, dtot


@njit(cache=True)
def bullington_profile(d_km, g_m, hts_m: float, hrs_m: float, ap_km: float,
                       lam_m: float) -> float:
    """Bullington loss Lbull (dB) over a terrain profile, P.1812-8 section 4.3.1.

    Parameters
    ----------
    d_km : ndarray of float64
        Distances from the Tx of the profile points (km), ascending, ``d_km[0]`` at the Tx.
    g_m : ndarray of float64
        Profile heights (m amsl) including representative clutter at intermediate points.
    hts_m, hrs_m : float
        Tx and Rx antenna heights (m amsl).
    ap_km : float
        Effective earth radius (km).
    lam_m : float
        Wavelength (m).
    """
    stim, srim, numax, dtot = _bullington_scan(d_km, g_m, False, hts_m, hrs_m, ap_km, lam_m)
    if not np.isfinite(stim):  # no intermediate point: nothing obstructs
        return 0.0
    return bullington_from_slopes(stim, srim, (hrs_m - hts_m) / dtot, dtot, hts_m, hrs_m,
                                  lam_m, numax)


@njit(cache=True)
def _smooth_clearance(dtot_km, hte_m, hre_m, ap_km):
    """Smallest ray clearance hse (m) over a smooth earth and its distance dse1 (km).

    P.1812-8 eqs. (23)-(24).
    """
    c = (hte_m - hre_m) / (hte_m + hre_m)  # eq. (24d)
    m = 250.0 * dtot_km * dtot_km / (ap_km * (hte_m + hre_m))  # eq. (24e)
    arg = 1.5 * c * np.sqrt(3.0 * m / (m + 1.0) ** 3)
    arg = min(1.0, max(-1.0, arg))
    b = 2.0 * np.sqrt((m + 1.0) / (3.0 * m)) * np.cos(np.pi / 3.0 + np.arccos(arg) / 3.0)
    dse1 = 0.5 * dtot_km * (1.0 + b)  # eq. (24a)
    dse2 = dtot_km - dse1  # eq. (24b)
    hse = ((hte_m - 500.0 * dse1 * dse1 / ap_km) * dse2
           + (hre_m - 500.0 * dse2 * dse2 / ap_km) * dse1) / dtot_km  # eq. (23)
    return hse, dse1, dse2


@njit(cache=True)
def bullington_smooth_earth(dtot_km: float, hte_m: float, hre_m: float, ap_km: float,
                            lam_m: float) -> float:
    """Bullington loss of a smooth-earth path without profile analysis (Attachment 4).

    P.1812-8 Attachment 4 to Annex 1, eqs. (105)-(112): an analytic replacement for
    Lbulls (the Bullington loss over the zero-height profile of section 4.3.4).

    Parameters
    ----------
    dtot_km : float
        Path length (km).
    hte_m, hre_m : float
        Antenna heights above the smooth surface (m), eqs. (37a,b).
    ap_km : float
        Effective earth radius (km).
    lam_m : float
        Wavelength (m).
    """
    if dtot_km <= 0.0:
        return 0.0
    ce = 1.0 / ap_km
    dlos = np.sqrt(2.0 * ap_km) * (np.sqrt(0.001 * hte_m) + np.sqrt(0.001 * hre_m))  # eq. (22)
    if dtot_km < dlos:
        hse, dse1, dse2 = _smooth_clearance(dtot_km, hte_m, hre_m, ap_km)
        nu = -hse * np.sqrt(0.002 * dtot_km / (lam_m * dse1 * dse2))  # eq. (105)
    else:
        stm = 500.0 * ce * dtot_km - 2.0 * np.sqrt(500.0 * ce * hte_m)  # eq. (107)
        srm = 500.0 * ce * dtot_km - 2.0 * np.sqrt(500.0 * ce * hre_m)  # eq. (108)
        ds = (hre_m - hte_m + srm * dtot_km) / (stm + srm)  # eq. (109)
        nu = (hte_m + stm * ds - (hte_m * (dtot_km - ds) + hre_m * ds) / dtot_km) * np.sqrt(
            0.002 * dtot_km / (lam_m * ds * (dtot_km - ds)))  # eq. (110)
    return bullington_from_nu(nu, dtot_km)  # eqs. (106)/(111)-(112)


@njit(cache=True)
def _height_gain(b: float, k: float) -> float:
    """Height-gain term G(Y) (dB) of eq. (34) from B = beta Y, floored at 2 + 20 log10 K."""
    if b > 2.0:
        g = 17.6 * np.sqrt(b - 1.1) - 5.0 * np.log10(b - 1.1) - 8.0
    elif b > 0.0:
        g = 20.0 * np.log10(b + 0.1 * b * b * b)
    else:
        g = -np.inf
    return max(g, 2.0 + 20.0 * np.log10(k))


@njit(cache=True)
def _first_term_ground(eps_r, sigma, dtot_km, hte_m, hre_m, a_km, f_ghz, pol):
    """First-term spherical-earth diffraction loss (dB) for one ground, eqs. (29)-(36)."""
    k = 0.036 * (a_km * f_ghz) ** (-1.0 / 3.0) * (
        (eps_r - 1.0) ** 2 + (18.0 * sigma / f_ghz) ** 2) ** (-0.25)  # eq. (29a)
    if pol == POL_VERTICAL:
        k = k * np.sqrt(eps_r * eps_r + (18.0 * sigma / f_ghz) ** 2)  # eq. (29b)
    k2 = k * k
    beta = (1.0 + 1.6 * k2 + 0.67 * k2 * k2) / (1.0 + 4.5 * k2 + 1.53 * k2 * k2)  # eq. (30)
    x = 21.88 * beta * (f_ghz / (a_km * a_km)) ** (1.0 / 3.0) * dtot_km  # eq. (31)
    ycoef = 0.9575 * beta * (f_ghz * f_ghz / a_km) ** (1.0 / 3.0)  # eq. (32)
    if x >= 1.6:  # eq. (33)
        fx = 11.0 + 10.0 * np.log10(x) - 17.6 * x
    else:
        fx = -20.0 * np.log10(x) - 5.6488 * x ** 1.425
    gt = _height_gain(beta * ycoef * hte_m, k)  # eqs. (34)-(35)
    gr = _height_gain(beta * ycoef * hre_m, k)
    return -fx - gt - gr  # eq. (36)


@njit(cache=True)
def first_term_diffraction(dtot_km: float, hte_m: float, hre_m: float, adft_km: float,
                           f_ghz: float, omega: float, pol: int) -> float:
    """First-term spherical-earth diffraction loss Ldft (dB), P.1812-8 section 4.3.3.

    ``Ldft = omega Ldft(sea: eps 80, sigma 5) + (1 - omega) Ldft(land: eps 22, sigma 0.003)``,
    eq. (28), each from eqs. (29)-(36).

    Parameters
    ----------
    dtot_km : float
        Path length (km).
    hte_m, hre_m : float
        Effective antenna heights above the smooth surface (m).
    adft_km : float
        Effective earth radius used (km).
    f_ghz : float
        Frequency (GHz).
    omega : float
        Fraction of the path over sea (0..1).
    pol : int
        0 horizontal, 1 vertical.
    """
    land = _first_term_ground(_EPS_LAND, _SIGMA_LAND, dtot_km, hte_m, hre_m, adft_km, f_ghz, pol)
    if omega <= 0.0:
        return land
    sea = _first_term_ground(_EPS_SEA, _SIGMA_SEA, dtot_km, hte_m, hre_m, adft_km, f_ghz, pol)
    return omega * sea + (1.0 - omega) * land


@njit(cache=True)
def spherical_earth_diffraction(dtot_km: float, hte_m: float, hre_m: float, ap_km: float,
                                f_ghz: float, omega: float, pol: int) -> float:
    """Spherical-earth diffraction loss Ldsph (dB), P.1812-8 section 4.3.2, eqs. (22)-(27).

    Beyond the marginal line-of-sight distance ``dlos = sqrt(2 ap)(sqrt(0.001 hte) +
    sqrt(0.001 hre))`` (eq. 22) the loss is the first-term loss Ldft for ``adft = ap``.
    Inside it, the smallest clearance hse (eq. 23) is compared with the clearance needed for
    zero loss ``hreq = 17.456 sqrt(dse1 dse2 lambda / d)`` (eq. 25); if hse > hreq the loss is
    0, else ``Ldsph = (1 - hse/hreq) max(Ldft(aem), 0)`` with the effective radius giving
    marginal line of sight ``aem = 500 (d / (sqrt(hte) + sqrt(hre)))^2`` (eqs. 26-27).

    Parameters
    ----------
    dtot_km : float
        Path length (km).
    hte_m, hre_m : float
        Antenna heights above the smooth surface (m) (> 0).
    ap_km : float
        Effective earth radius (km): ae for 50 % time, a_beta for beta0 % time.
    f_ghz : float
        Frequency (GHz).
    omega : float
        Fraction of the path over sea (0..1), weights sea and land first-term losses.
    pol : int
        Polarisation: 0 horizontal, 1 vertical.
    """
    if dtot_km <= 0.0:
        return 0.0
    dlos = np.sqrt(2.0 * ap_km) * (np.sqrt(0.001 * hte_m) + np.sqrt(0.001 * hre_m))
    if dtot_km >= dlos:
        return first_term_diffraction(dtot_km, hte_m, hre_m, ap_km, f_ghz, omega, pol)
    lam = wavelength_m(f_ghz)
    hse, dse1, dse2 = _smooth_clearance(dtot_km, hte_m, hre_m, ap_km)
    hreq = 17.456 * np.sqrt(dse1 * dse2 * lam / dtot_km)  # eq. (25)
    if hse > hreq:
        return 0.0
    aem = 500.0 * (dtot_km / (np.sqrt(hte_m) + np.sqrt(hre_m))) ** 2  # eq. (26)
    ldft = max(first_term_diffraction(dtot_km, hte_m, hre_m, aem, f_ghz, omega, pol), 0.0)
    return (1.0 - hse / hreq) * ldft  # eq. (27)


@njit(cache=True)
def delta_bullington_terms(d_km, h_m, hts_m: float, hrs_m: float, hstd_m: float,
                           hsrd_m: float, ap_km: float, f_ghz: float, omega: float, pol: int):
    """Delta-Bullington diffraction loss and its parts, P.1812-8 section 4.3.4.

    Parameters
    ----------
    d_km : ndarray of float64
        Profile distances from the Tx (km), ascending.
    h_m : ndarray of float64
        Profile heights (m amsl) as used for diffraction, i.e. terrain plus representative
        clutter at intermediate points (g_i of section 3.2).
    hts_m, hrs_m : float
        Tx and Rx antenna heights (m amsl).
    hstd_m, hsrd_m : float
        Smooth-surface heights at Tx and Rx for the diffraction model (m amsl),
        Attachment 1 section 5.6.2.
    ap_km : float
        Effective earth radius (km).
    f_ghz : float
        Frequency (GHz).
    omega : float
        Fraction of the path over sea.
    pol : int
        0 horizontal, 1 vertical.

    Returns
    -------
    tuple of float
        ``(Ld, Lbulla, Lbulls, Ldsph)`` in dB: ``Ld = Lbulla + max(Ldsph - Lbulls, 0)``
        (eq. 39), Lbulla the Bullington loss of the actual profile, Lbulls that of the
        zero-height profile with antenna heights ``hts - hstd`` and ``hrs - hsrd``
        (eqs. 37a,b) and Ldsph the spherical-earth loss for those heights (eq. 38).
    """
    lam = wavelength_m(f_ghz)
    lbulla = bullington_profile(d_km, h_m, hts_m, hrs_m, ap_km, lam)
    hte = hts_m - hstd_m  # eq. (37a)
    hre = hrs_m - hsrd_m  # eq. (37b)
    stim, srim, numax, dtot = _bullington_scan(d_km, h_m, True, hte, hre, ap_km, lam)
    if np.isfinite(stim):
        lbulls = bullington_from_slopes(stim, srim, (hre - hte) / dtot, dtot, hte, hre, lam,
                                        numax)
    else:
        lbulls = 0.0
    ldsph = spherical_earth_diffraction(dtot, hte, hre, ap_km, f_ghz, omega, pol)
    ld = lbulla + max(ldsph - lbulls, 0.0)  # eq. (39)
    return ld, lbulla, lbulls, ldsph


@njit(cache=True)
def delta_bullington(d_km, h_m, hts_m: float, hrs_m: float, hstd_m: float, hsrd_m: float,
                     ap_km: float, f_ghz: float, omega: float, pol: int) -> float:
    """Delta-Bullington diffraction loss Ld (dB), P.1812-8 section 4.3.4, eq. (39).

    Same arguments as :func:`delta_bullington_terms`; returns only Ld.
    """
    return delta_bullington_terms(d_km, h_m, hts_m, hrs_m, hstd_m, hsrd_m, ap_km, f_ghz,
                                  omega, pol)[0]
