"""WGS84 ↔ GCJ-02, the obfuscated datum of AutoNavi (Gaode) and other Chinese web maps.

GCJ-02 shifts WGS84 coordinates inside China by a smooth, deliberately irregular offset
of a few hundred metres. The forward formula used here is the published one (Krasovsky
ellipsoid, a = 6 378 245 m, e² = 0.006 693 421 622 965 943); the inverse is solved by
fixed-point iteration to well below a millimetre. Outside China the shift is zero.
Everything is vectorised over numpy arrays.
"""

from __future__ import annotations

import numpy as np

A_M = 6378245.0
"""Semi-major axis of the Krasovsky 1940 ellipsoid the formula uses (m)."""
EE = 0.00669342162296594323
"""Its first eccentricity squared."""

CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
"""The rectangle outside which the published formula leaves coordinates unchanged (deg)."""


def in_china(lon: np.ndarray | float, lat: np.ndarray | float) -> np.ndarray:
    """True where (lon, lat) in degrees lies in the rectangle where GCJ-02 applies."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    return ((lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1])
            & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1]))


def _offsets(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The formula's raw latitude and longitude offsets for x = lon − 105, y = lat − 35."""
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
            + common
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
            + common
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    return dlat, dlon


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 (degrees of longitude, latitude) at WGS84 (lon, lat)."""
    dlat, dlon = _offsets(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((A_M * (1.0 - EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (A_M / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: np.ndarray | float, lat: np.ndarray | float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS84 longitude/latitude (degrees) to GCJ-02 (degrees).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 coordinates in degrees (any matching shapes).

    Returns
    -------
    (ndarray, ndarray)
        GCJ-02 longitude and latitude in degrees; unchanged outside China.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray | float, lat: np.ndarray | float, tol_deg: float = 1e-10,
                   max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (to ``tol_deg`` degrees).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 coordinates in degrees.
    tol_deg : float
        Stop when every point moves less than this (1e-10° ≈ 0.01 mm).
    max_iter : int
        Iteration cap (the offset is smooth; 4–6 iterations usually suffice).

    Returns
    -------
    (ndarray, ndarray)
        WGS84 longitude and latitude in degrees.
    """
    glon = np.asarray(lon, dtype=np.float64)
    glat = np.asarray(lat, dtype=np.float64)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        step_lon, step_lat = glon - flon, glat - flat
        wlon = wlon + step_lon
        wlat = wlat + step_lat
        if np.all(np.abs(step_lon) < tol_deg) and np.all(np.abs(step_lat) < tol_deg):
            break
    return wlon, wlat


def shift_coords(coords: np.ndarray) -> np.ndarray:
    """WGS84 → GCJ-02 for an (n, 2) array of lon/lat, e.g. inside ``shapely.transform``."""
    coords = np.asarray(coords, dtype=np.float64)
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


__all__ = ["gcj02_to_wgs84", "in_china", "shift_coords", "wgs84_to_gcj02"]
