"""Base-station antenna patterns: the 3GPP (TR 36.814 / TR 38.901) parametric sector model.

All functions are vectorised over numpy arrays and return attenuations relative to the
boresight gain, in dB (0 at boresight, negative elsewhere).

Angle conventions
-----------------
* Bearings and azimuths are degrees clockwise from (grid) north.
* Elevation angles are *depression* angles: degrees below the horizontal seen from the
  antenna, positive downwards; a downtilt is positive downwards too, so the main beam
  points at ``theta == tilt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

OMNI = -1
"""Sector index reported for an omnidirectional antenna (no azimuths)."""


@dataclass(frozen=True)
class PatternParams:
    """Parameters of the 3GPP parametric pattern.

    Attributes
    ----------
    h_beamwidth_deg : float
        Horizontal half-power (3 dB) beamwidth phi_3dB (degrees), default 65.
    v_beamwidth_deg : float
        Vertical half-power beamwidth theta_3dB (degrees), default 7.
    front_to_back_db : float
        Maximum attenuation Am (dB), default 25.
    side_lobe_v_db : float
        Vertical side-lobe level limit SLA_V (dB), default 20.
    """

    h_beamwidth_deg: float = 65.0
    v_beamwidth_deg: float = 7.0
    front_to_back_db: float = 25.0
    side_lobe_v_db: float = 20.0


def wrap_deg(angle_deg: np.ndarray | float) -> np.ndarray:
    """Wrap angles (degrees) to the interval [-180, 180)."""
    return (np.asarray(angle_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0


def horizontal_pattern_db(phi_deg: np.ndarray | float, beamwidth_deg: float = 65.0,
                          am_db: float = 25.0) -> np.ndarray:
    """Horizontal pattern ``A_H(phi) = -min(12 (phi / phi_3dB)^2, Am)`` (dB).

    Parameters
    ----------
    phi_deg : array_like
        Angle off the antenna azimuth (degrees); any value, wrapped to [-180, 180).
    beamwidth_deg : float
        phi_3dB, the horizontal 3 dB beamwidth (degrees).
    am_db : float
        Front-to-back ratio Am (dB), the attenuation floor.

    Returns
    -------
    ndarray of float64
        Attenuation (dB, <= 0): 0 at boresight, -3 at ``phi_3dB / 2``, ``-Am`` behind.
    """
    phi = wrap_deg(phi_deg)
    return -np.minimum(12.0 * (phi / beamwidth_deg) ** 2, am_db)


def vertical_pattern_db(theta_deg: np.ndarray | float, tilt_deg: float = 0.0,
                        beamwidth_deg: float = 7.0, sla_v_db: float = 20.0) -> np.ndarray:
    """Vertical pattern ``A_V(theta) = -min(12 ((theta - tilt) / theta_3dB)^2, SLA_V)`` (dB).

    Parameters
    ----------
    theta_deg : array_like
        Depression angle of the receiver seen from the antenna (degrees, positive down).
    tilt_deg : float
        Total downtilt, mechanical + electrical (degrees, positive down).
    beamwidth_deg : float
        theta_3dB, the vertical 3 dB beamwidth (degrees).
    sla_v_db : float
        Side-lobe attenuation limit SLA_V (dB).

    Returns
    -------
    ndarray of float64
        Attenuation (dB, <= 0).
    """
    theta = np.asarray(theta_deg, dtype=np.float64)
    return -np.minimum(12.0 * ((theta - tilt_deg) / beamwidth_deg) ** 2, sla_v_db)


def sector_pattern_db(bearing_deg: np.ndarray | float, theta_deg: np.ndarray | float,
                      azimuth_deg: float, tilt_deg: float,
                      params: PatternParams = PatternParams()) -> np.ndarray:
    """Combined 3GPP sector pattern ``-min(-(A_H + A_V), Am)`` (dB).

    Parameters
    ----------
    bearing_deg : array_like
        Bearing from the antenna to the receiver (degrees clockwise from north).
    theta_deg : array_like
        Depression angle of the receiver (degrees, positive down).
    azimuth_deg : float
        Sector azimuth (degrees clockwise from north).
    tilt_deg : float
        Total downtilt (degrees, positive down).
    params : PatternParams
        Beamwidths and attenuation limits.

    Returns
    -------
    ndarray of float64
        Attenuation relative to the boresight gain (dB, between ``-Am`` and 0).
    """
    a_h = horizontal_pattern_db(np.asarray(bearing_deg) - azimuth_deg, params.h_beamwidth_deg,
                                params.front_to_back_db)
    a_v = vertical_pattern_db(theta_deg, tilt_deg, params.v_beamwidth_deg,
                              params.side_lobe_v_db)
    return -np.minimum(-(a_h + a_v), params.front_to_back_db)


def omni_pattern_db(theta_deg: np.ndarray | float, tilt_deg: float,
                    params: PatternParams = PatternParams()) -> np.ndarray:
    """Omnidirectional antenna: the vertical pattern only (dB, between ``-SLA_V`` and 0)."""
    return vertical_pattern_db(theta_deg, tilt_deg, params.v_beamwidth_deg,
                               params.side_lobe_v_db)


def best_sector_db(bearing_deg: np.ndarray, theta_deg: np.ndarray,
                   azimuths_deg: Sequence[float], tilt_deg: float,
                   params: PatternParams = PatternParams()) -> tuple[np.ndarray, np.ndarray]:
    """Pattern of the best sector of a site at each receiver.

    Every sector of a site has the same gain, power and tilt, so the best server among
    them is the sector of least pattern attenuation.

    Parameters
    ----------
    bearing_deg, theta_deg : ndarray
        Bearing (degrees from north) and depression angle (degrees, positive down) of each
        receiver, same shape.
    azimuths_deg : sequence of float
        Sector azimuths (degrees from north); empty for an omnidirectional antenna.
    tilt_deg : float
        Total downtilt (degrees, positive down).
    params : PatternParams
        Beamwidths and attenuation limits.

    Returns
    -------
    pattern_db : ndarray of float64
        Attenuation of the best sector (dB, <= 0).
    sector : ndarray of int8
        Index into ``azimuths_deg`` of the best sector; :data:`OMNI` (-1) for an omni site.
    """
    bearing = np.asarray(bearing_deg, dtype=np.float64)
    theta = np.asarray(theta_deg, dtype=np.float64)
    if len(azimuths_deg) == 0:
        pattern = omni_pattern_db(theta, tilt_deg, params)
        return np.broadcast_to(pattern, np.broadcast(bearing, theta).shape).copy(), np.full(
            np.broadcast(bearing, theta).shape, OMNI, dtype=np.int8)
    best = None
    sector = None
    for index, azimuth in enumerate(azimuths_deg):
        pattern = sector_pattern_db(bearing, theta, float(azimuth), tilt_deg, params)
        if best is None or sector is None:
            best = pattern
            sector = np.zeros(pattern.shape, dtype=np.int8)
        else:
            better = pattern > best
            best = np.where(better, pattern, best)
            sector[better] = index
    assert best is not None and sector is not None      # azimuths_deg is not empty here
    return best, sector
