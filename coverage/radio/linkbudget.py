"""Downlink LTE link budget: reference-signal power per resource element and RSRP.

``RSRP = RS_EPRE + G_antenna + A_pattern - L_feeder - L_path - L_body`` (all dB / dBm), with
``RS_EPRE = P_port - 10 log10(12 N_RB) + RS_boost``: the port power spread evenly over the
12 N_RB subcarriers of the carrier, raised by the reference-signal power boost.

Location reliability
--------------------
The predicted RSRP is the *median* (50 % of locations). A location-reliability margin
``norm.ppf(reliability) * sigma`` (e.g. 0.9 and 8 dB -> 10.25 dB) is **added to the coverage
threshold** by the assessment (:func:`coverage.assess.effective_threshold`), never subtracted
from the rasters here, so that the rasters stay comparable with field measurements.
:func:`rsrp_dbm` accepts a ``margin_db`` for callers that want the conservative value itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeGuard

import numpy as np

from coverage.config import BandProfile

_LTE_RESOURCE_BLOCKS = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}


def resource_blocks(bandwidth_mhz: float) -> int:
    """Number of resource blocks N_RB of an LTE carrier (FDD and TDD alike).

    Parameters
    ----------
    bandwidth_mhz : float
        Channel bandwidth (MHz): 1.4, 3, 5, 10, 15 or 20 give the 3GPP TS 36.101 values
        (6, 15, 25, 50, 75, 100). Any other bandwidth uses the same 90 % occupancy of
        180 kHz blocks, ``floor(5 * bandwidth)``.

    Returns
    -------
    int
        N_RB (>= 1).
    """
    for bw, n_rb in _LTE_RESOURCE_BLOCKS.items():
        if abs(bandwidth_mhz - bw) < 1e-6:
            return n_rb
    return max(1, math.floor(5.0 * bandwidth_mhz + 1e-9))


def rs_epre_dbm(port_power_dbm: float, bandwidth_mhz: float, rs_boost_db: float = 0.0) -> float:
    """Reference-signal energy per resource element (dBm).

    Parameters
    ----------
    port_power_dbm : float
        Total power per antenna port (dBm).
    bandwidth_mhz : float
        Carrier bandwidth (MHz), see :func:`resource_blocks`.
    rs_boost_db : float
        Reference-signal power boost over the data resource elements (dB).

    Returns
    -------
    float
        ``P_port - 10 log10(12 N_RB) + boost`` (dBm); 43 dBm, 20 MHz, 3 dB -> 15.21 dBm.
    """
    return port_power_dbm - 10.0 * math.log10(12 * resource_blocks(bandwidth_mhz)) + rs_boost_db


def reliability_margin_db(reliability: float | None, sigma_db: float) -> float:
    """Location-reliability margin ``norm.ppf(reliability) * sigma`` (dB).

    Parameters
    ----------
    reliability : float or None
        Wanted share of locations covered (0.5 < r < 1); None or 0.5 give 0 dB.
    sigma_db : float
        Standard deviation of log-normal shadowing (dB).

    Returns
    -------
    float
        Margin (dB) to add to the RSRP threshold (0.9 and 8 dB -> 10.25 dB).
    """
    if reliability is None:
        return 0.0
    from scipy.stats import norm  # imported when needed: scipy.stats takes a while to load

    return float(norm.ppf(reliability)) * sigma_db


def rsrp_dbm(rs_epre: float, gain_dbi: float, pattern_db: np.ndarray | float,
             feeder_loss_db: float, path_loss_db: np.ndarray | float, body_loss_db: float = 0.0,
             margin_db: float = 0.0) -> np.ndarray:
    """Received reference-signal power (dBm).

    Parameters
    ----------
    rs_epre : float
        RS EPRE at the antenna port (dBm), :func:`rs_epre_dbm`.
    gain_dbi : float
        Antenna boresight gain (dBi).
    pattern_db : array_like
        Pattern attenuation towards the receiver (dB, <= 0).
    feeder_loss_db : float
        Feeder and connector loss (dB).
    path_loss_db : array_like
        Basic transmission loss (dB).
    body_loss_db : float
        Body / receiver-side loss (dB).
    margin_db : float
        Optional fade margin subtracted from the result (dB); 0 for the median RSRP.

    Returns
    -------
    ndarray of float64
        RSRP (dBm); NaN where the path loss is NaN.
    """
    return (rs_epre + gain_dbi + np.asarray(pattern_db) - feeder_loss_db
            - np.asarray(path_loss_db) - body_loss_db - margin_db)


@dataclass(frozen=True)
class SiteRadio:
    """Radio parameters of one site after applying its band defaults.

    Attributes
    ----------
    frequency_mhz : float
        Downlink centre frequency (MHz).
    rs_epre_dbm : float
        RS EPRE (dBm).
    gain_dbi : float
        Antenna gain (dBi): the site's own, else the band's sector or omni gain.
    feeder_loss_db : float
        Feeder loss (dB).
    tilt_deg : float
        Total downtilt (degrees, positive down).
    omni : bool
        True when the site has no sector azimuths.
    """

    frequency_mhz: float
    rs_epre_dbm: float
    gain_dbi: float
    feeder_loss_db: float
    tilt_deg: float
    omni: bool


def site_radio(band: BandProfile, *, omni: bool, power_dbm: float | None = None,
               gain_dbi: float | None = None, tilt_deg: float | None = None) -> SiteRadio:
    """Resolve a site's radio parameters: its own values where given, else the band's.

    Parameters
    ----------
    band : BandProfile
        Defaults of the site's operator band.
    omni : bool
        The site has no sector azimuths (uses ``band.omni_gain_dbi`` by default).
    power_dbm : float or None
        Port power (dBm); None or NaN -> ``band.port_power_dbm``.
    gain_dbi : float or None
        Antenna gain (dBi); None or NaN -> the band's sector or omni gain.
    tilt_deg : float or None
        Total downtilt, mechanical + electrical (degrees); None or NaN ->
        ``band.electrical_tilt_deg`` (no mechanical tilt).
    """

    def given(value: float | None) -> TypeGuard[float]:
        return value is not None and not (isinstance(value, float) and math.isnan(value))

    power = float(power_dbm) if given(power_dbm) else band.port_power_dbm
    default_gain = band.omni_gain_dbi if omni else band.antenna_gain_dbi
    gain = float(gain_dbi) if given(gain_dbi) else default_gain
    tilt = float(tilt_deg) if given(tilt_deg) else band.electrical_tilt_deg
    return SiteRadio(
        frequency_mhz=band.frequency_mhz,
        rs_epre_dbm=rs_epre_dbm(power, band.bandwidth_mhz, band.rs_boost_db),
        gain_dbi=gain,
        feeder_loss_db=band.feeder_loss_db,
        tilt_deg=tilt,
        omni=omni,
    )
