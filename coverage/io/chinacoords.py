"""Chinese coordinate conventions: GCJ-02, BD-09 and DMS strings, to and from WGS84.

GCJ-02 is the obfuscated datum of AutoNavi (Gaode), Tencent and other Chinese web maps;
BD-09 is Baidu's, a further rotation and scaling of GCJ-02. CGCS2000 geographic coordinates
agree with WGS84 to well below a metre and are taken as they are.

GCJ-02 shifts WGS84 coordinates inside China by a smooth, deliberately irregular offset
of a few hundred metres. The forward formula used here is the published one (Krasovsky
ellipsoid, a = 6 378 245 m, e² = 0.006 693 421 622 965 943); the inverse is solved by
fixed-point iteration to well below a millimetre. Outside China the shift is zero.
Everything is vectorised over numpy arrays.
"""

from __future__ import annotations

import re

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




X_PI = np.pi * 3000.0 / 180.0
"""Baidu's constant of the BD-09 rotation (rad per degree, scaled)."""


def gcj02_to_bd09(lon: np.ndarray | float, lat: np.ndarray | float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (degrees), Baidu's published formula.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude (degrees).

    Returns
    -------
    (ndarray, ndarray)
        BD-09 longitude and latitude (degrees).
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: np.ndarray | float, lat: np.ndarray | float, tol_deg: float = 1e-10,
                  max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 (degrees): :func:`gcj02_to_bd09` inverted by fixed-point iteration."""
    blon = np.asarray(lon, dtype=np.float64)
    blat = np.asarray(lat, dtype=np.float64)
    glon, glat = blon - 0.0065, blat - 0.006
    for _ in range(max_iter):
        flon, flat = gcj02_to_bd09(glon, glat)
        dlon, dlat = blon - flon, blat - flat
        glon, glat = glon + dlon, glat + dlat
        if np.all(np.abs(dlon) < tol_deg) and np.all(np.abs(dlat) < tol_deg):
            break
    return glon, glat


def bd09_to_wgs84(lon: np.ndarray | float, lat: np.ndarray | float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS84 (degrees)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: np.ndarray | float, lat: np.ndarray | float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → BD-09 (degrees)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


DATUMS: dict[str, str] = {"wgs84": "WGS84", "cgcs2000": "CGCS2000", "gcj02": "GCJ-02",
                          "bd09": "BD-09"}
"""Declarable coordinate systems of point tables and how messages name them."""


def to_wgs84(lon: np.ndarray, lat: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat (degrees) in ``datum`` (a key of :data:`DATUMS`) to WGS84."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        return bd09_to_wgs84(lon, lat)
    if datum in ("wgs84", "cgcs2000"):
        return lon, lat
    raise ValueError(f"unknown datum {datum!r}")


_DMS = re.compile(
    r"^\s*(?P<h1>[NSEW北南东西])?(?:经|纬)?\s*(?P<d>\d+(?:\.\d+)?)\s*(?:°|度|d|:|\s)\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:′|'|分|m|:|\s)?\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:″|\"|''|秒|s)?\s*)?(?P<h2>[NSEW北南东西])?\s*$",
    re.IGNORECASE)


def parse_degrees(value: object) -> float:
    """Decimal degrees from a number or a DMS string; NaN when it is neither.

    Accepts ``116.43``, ``116°25'48.5"``, ``116度25分48.5秒``, ``N30°49'38"``, ``116:25:48.5``
    and ``116°25.81'``; S and W (南, 西) give negative values. Minutes and seconds must be
    below 60.
    """
    if value is None:
        return float("nan")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip()
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        pass
    text = text.replace("’", "'").replace("′", "'").replace("”", '"').replace("″", '"')
    m = _DMS.match(text)
    if m is None or (m.group("h1") and m.group("h2")):
        return float("nan")
    deg = float(m.group("d"))
    minutes = float(m.group("m") or 0.0)
    seconds = float(m.group("s") or 0.0)
    if minutes >= 60 or seconds >= 60:
        return float("nan")
    out = deg + minutes / 60.0 + seconds / 3600.0
    hemi = (m.group("h1") or m.group("h2") or "").upper()
    return -out if hemi in ("S", "W", "南", "西") else out


CONVERTED = "已转换为 WGS84"
"""Words of the note the readers log for a layer whose coordinates were converted."""


def converted_layers(problems: list) -> list[str]:
    """``file（datum）`` of every layer the readers converted to WGS84, from their notes."""
    out = set()
    for p in problems:
        if CONVERTED in p.message and p.message.startswith("坐标按 "):
            datum = p.message.removeprefix("坐标按 ").split("读入")[0].strip()
            out.add(f"{p.file}（{datum}）")
    return sorted(out)


__all__ = [
    "CONVERTED",
    "DATUMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "converted_layers",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "parse_degrees",
    "shift_coords",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
