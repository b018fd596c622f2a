"""Parameters of the one-site job, checked before any file is read or written."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coverage.config import BandProfile, Config
from coverage.errors import InputDataError, Problem
from coverage.io.chinacoords import DATUMS, parse_degrees, to_wgs84


@dataclass(frozen=True)
class SiteRequest:
    """One site to predict.

    Attributes
    ----------
    dem : Path
        DEM file or folder of tiles (any CRS).
    lon, lat : float
        Site position, WGS84 degrees (converted from the declared datum).
    height_m : float
        Antenna height above ground (m).
    band_label : str
        ``OPERATOR/BAND`` of the configuration, or ``<f> MHz``.
    band : BandProfile
        Radio defaults (frequency, power, gains, pattern).
    radius_km : float
        Prediction radius (km).
    resolution_m : float
        Working-grid cell size (m).
    azimuths : tuple of float
        Sector azimuths (degrees from grid north); empty for an omni antenna.
    tilt_deg : float or None
        Total downtilt (degrees); None for the band's electrical tilt.
    """

    dem: Path
    lon: float
    lat: float
    height_m: float
    band_label: str
    band: BandProfile
    radius_km: float
    resolution_m: float
    azimuths: tuple[float, ...]
    tilt_deg: float | None


def _problem(option: str, value: object, message: str, fix: str) -> Problem:
    return Problem(file="<command line>", column=option, value=str(value), message=message,
                   fix=fix)


def make_request(cfg: Config, *, dem: Path, lon: str, lat: str, datum: str, height_m: float,
                 band: str | None, frequency_mhz: float | None, radius_km: float,
                 resolution_m: float, azimuths: str | None, tilt_deg: float | None
                 ) -> SiteRequest:
    """Check the command's options and build the request.

    Raises
    ------
    InputDataError
        With one problem per bad option (exit code 2).
    """
    problems: list[Problem] = []
    if not dem.exists():
        problems.append(_problem("--dem", dem, "no such file or folder",
                                 "give a DEM file, or a folder of DEM tiles"))
    lon_deg, lat_deg = parse_degrees(lon), parse_degrees(lat)
    if not (math.isfinite(lon_deg) and -180.0 <= lon_deg <= 180.0):
        problems.append(_problem("--lon", lon, "not a longitude",
                                 "give decimal degrees (116.43) or DMS (116°25'48\"E)"))
    if not (math.isfinite(lat_deg) and -90.0 <= lat_deg <= 90.0):
        problems.append(_problem("--lat", lat, "not a latitude",
                                 "give decimal degrees (30.83) or DMS (30°49'38\"N)"))
    if datum not in DATUMS:
        problems.append(_problem("--datum", datum, "unknown coordinate system",
                                 "use one of " + ", ".join(DATUMS)))
    if not 1.0 <= height_m <= 300.0:
        problems.append(_problem("--height", height_m, "antenna height out of range",
                                 "give metres above ground, 1 to 300"))
    if not 0.1 <= radius_km <= 100.0:
        problems.append(_problem("--radius", radius_km, "radius out of range",
                                 "give kilometres, 0.1 to 100"))
    if not 1.0 <= resolution_m <= 1000.0:
        problems.append(_problem("--resolution", resolution_m, "resolution out of range",
                                 "give metres per cell, 1 to 1000"))
    elif radius_km * 1000.0 / resolution_m > 5000.0:
        problems.append(_problem("--resolution", resolution_m,
                                 "too many cells for this radius (more than 5000 per radius)",
                                 "use a coarser resolution or a smaller radius"))
    if tilt_deg is not None and not -10.0 <= tilt_deg <= 30.0:
        problems.append(_problem("--tilt", tilt_deg, "downtilt out of range",
                                 "give degrees, -10 to 30"))
    sectors: tuple[float, ...] = ()
    if azimuths and azimuths.strip().lower() != "omni":
        try:
            sectors = tuple(float(a) % 360.0 for a in azimuths.replace(";", ",").split(","))
        except ValueError:
            problems.append(_problem("--azimuths", azimuths, "not a list of degrees",
                                     "give e.g. 0,120,240, or omni"))
    profile: BandProfile | None = None
    label = ""
    if band is not None:
        operator, _, name = band.partition("/")
        try:
            profile = cfg.band(operator, name)
            label = f"{operator}/{name}"
        except KeyError:
            known = ", ".join(f"{op}/{b}" for op, prof in cfg.operators.items()
                              for b in prof.bands)
            problems.append(_problem("--band", band, "no such operator band in the "
                                     "configuration", f"use one of {known}"))
    if frequency_mhz is not None:
        if not 30.0 < frequency_mhz <= 6000.0:
            problems.append(_problem("--frequency", frequency_mhz, "frequency out of range",
                                     "give MHz, 30 to 6000"))
        else:
            base = profile or BandProfile(frequency_mhz=frequency_mhz, bandwidth_mhz=10.0)
            profile = base.model_copy(update={"frequency_mhz": float(frequency_mhz)})
            label = (label + " at " if label else "") + f"{frequency_mhz:g} MHz"
    elif band is None:
        problems.append(_problem("--band", "", "no band and no frequency",
                                 "give --band OPERATOR/BAND (e.g. CMCC/FDD900) or "
                                 "--frequency MHz"))
    if problems or profile is None:
        raise InputDataError(problems)
    wlon, wlat = to_wgs84(np.array([lon_deg]), np.array([lat_deg]), datum)
    return SiteRequest(dem=dem, lon=float(wlon[0]), lat=float(wlat[0]), height_m=height_m,
                       band_label=label, band=profile, radius_km=radius_km,
                       resolution_m=resolution_m, azimuths=sectors, tilt_deg=tilt_deg)
