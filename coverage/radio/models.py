"""Closed-form path-loss models: free space (ITU-R P.525), Okumura-Hata, COST-231 Hata.

All functions are vectorised: any argument may be a scalar or an array (numpy broadcasting);
the result is a float for all-scalar input, else a float64 array. Losses in dB.

Validity ranges are enforced: outside them a :class:`~coverage.errors.ModelRangeError` says
which parameter, its value, the valid range and what to do; with ``strict=False`` the
parameter is clamped into the range and a warning is issued instead.

References: ITU-R P.525-4 eq. (4); M. Hata, "Empirical formula for propagation loss in land
mobile radio services", IEEE Trans. VT-29 (1980); COST Action 231 Final Report (1999),
section 4.4.3.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
import numpy.typing as npt

from coverage.errors import ModelRangeError

__all__ = [
    "COST231_RANGES",
    "HATA_RANGES",
    "cost231_hata_loss",
    "free_space_loss",
    "hata_loss",
    "okumura_hata_loss",
]

Environment = Literal["urban", "suburban", "open"]
CitySize = Literal["small_medium", "large"]
ArrayOrFloat = float | npt.NDArray[np.float64]

#: 20 log10(4 pi 1e9 / c): free-space constant for f in MHz and d in km (32.45 dB).
FREE_SPACE_CONSTANT_DB = 20.0 * math.log10(4.0 * math.pi * 1e9 / 299_792_458.0)

#: Validity ranges (min, max) of Okumura-Hata: f MHz, base height m, mobile height m, d km.
HATA_RANGES = {"f_mhz": (150.0, 1500.0), "hb_m": (30.0, 200.0), "hm_m": (1.0, 10.0),
               "d_km": (1.0, 20.0)}
#: Validity ranges of COST-231 Hata (same heights and distances, 1500-2000 MHz).
COST231_RANGES = {**HATA_RANGES, "f_mhz": (1500.0, 2000.0)}

_UNITS = {"f_mhz": "MHz", "hb_m": "m", "hm_m": "m", "d_km": "km"}
_WHAT = {"f_mhz": "frequency", "hb_m": "base-station antenna height",
         "hm_m": "mobile antenna height", "d_km": "distance"}


def _result(x: npt.NDArray[np.float64]) -> ArrayOrFloat:
    return float(x) if x.ndim == 0 else x


def _enforce(model: str, name: str, value: npt.ArrayLike, lo: float, hi: float, strict: bool,
             advice: str) -> npt.NDArray[np.float64]:
    """Check ``value`` against [lo, hi]; raise, or clamp with a warning when not strict."""
    arr = np.asarray(value, dtype=np.float64)
    bad = ~((arr >= lo) & (arr <= hi))
    if not np.any(bad):
        return arr
    worst = arr[bad]
    shown = f"{float(worst.flat[0]):g}" if worst.size == 1 else (
        f"{worst.size} values from {np.nanmin(worst):g} to {np.nanmax(worst):g}")
    unit = _UNITS.get(name, "")
    msg = (f"{model}: {_WHAT.get(name, name)} {name} = {shown} {unit} is outside the valid "
           f"range {lo:g}-{hi:g} {unit}; {advice}")
    if strict or np.any(np.isnan(arr)):
        raise ModelRangeError(msg)
    warnings.warn(msg + " (clamped into the range because strict=False)", stacklevel=3)
    return np.clip(arr, lo, hi)


def free_space_loss(f_mhz: npt.ArrayLike, d_km: npt.ArrayLike, *,
                    strict: bool = True) -> ArrayOrFloat:
    """Free-space basic transmission loss (dB), ITU-R P.525.

    ``L = 32.45 + 20 log10(f_MHz) + 20 log10(d_km)``. E.g. 900 MHz at 1 km: 91.53 dB.

    Parameters
    ----------
    f_mhz : array_like
        Frequency (MHz), > 0.
    d_km : array_like
        Distance (km), > 0. With ``strict=False``, distances <= 0 are clamped to 1 m.
    strict : bool
        Raise :class:`~coverage.errors.ModelRangeError` on non-positive input (default),
        else clamp with a warning.
    """
    f = np.asarray(f_mhz, dtype=np.float64)
    if np.any(~(f > 0)):
        raise ModelRangeError(f"free space: frequency f_mhz must be > 0 MHz (got {f_mhz!s}); "
                              "check the band settings")
    d = _enforce("free space", "d_km", d_km, 1e-3, math.inf, strict,
                 "the distance must be positive; give the receiver a minimum distance "
                 "(e.g. half a grid cell)")
    return _result(FREE_SPACE_CONSTANT_DB + 20.0 * np.log10(f) + 20.0 * np.log10(d))


def _mobile_correction(log_f: npt.NDArray[np.float64], f: npt.NDArray[np.float64],
                       hm: npt.NDArray[np.float64], city_size: CitySize) -> npt.NDArray:
    """Hata mobile-antenna correction a(hm) (dB)."""
    if city_size == "large":
        low = 8.29 * np.log10(1.54 * hm) ** 2 - 1.1  # f <= 300 MHz
        high = 3.2 * np.log10(11.75 * hm) ** 2 - 4.97  # f > 300 MHz
        return np.where(f <= 300.0, low, high)
    return (1.1 * log_f - 0.7) * hm - (1.56 * log_f - 0.8)


def _environment_correction(log_f: npt.NDArray[np.float64], f: npt.NDArray[np.float64],
                            environment: Environment) -> npt.NDArray | float:
    """Correction (dB, <= 0) from the urban loss to suburban / open areas (Hata)."""
    if environment == "urban":
        return 0.0
    if environment == "suburban":
        return -2.0 * np.log10(f / 28.0) ** 2 - 5.4
    return -4.78 * log_f**2 + 18.33 * log_f - 40.94  # open


def _check_choices(model: str, environment: str, city_size: str) -> None:
    if environment not in ("urban", "suburban", "open"):
        raise ModelRangeError(f"{model}: environment {environment!r} is not valid; use "
                              "'urban', 'suburban' or 'open'")
    if city_size not in ("small_medium", "large"):
        raise ModelRangeError(f"{model}: city_size {city_size!r} is not valid; use "
                              "'small_medium' or 'large'")


def _check_all(model: str, ranges: dict[str, tuple[float, float]], strict: bool,
               advice: dict[str, str], **values: npt.ArrayLike) -> list[npt.NDArray]:
    return [_enforce(model, name, v, *ranges[name], strict, advice[name])
            for name, v in values.items()]


_HATA_ADVICE = {
    "f_mhz": 'use COST-231 Hata for 1500-2000 MHz, or choose model "p1812" (30-6000 MHz)',
    "hb_m": 'choose model "p1812" for low or very high sites',
    "hm_m": 'choose model "p1812" for receivers outside 1-10 m',
    "d_km": 'choose model "p1812" (terrain profile) for paths shorter than 1 km or longer '
            "than 20 km",
}
_COST_ADVICE = {**_HATA_ADVICE,
                "f_mhz": 'use Okumura-Hata for 150-1500 MHz, or choose model "p1812" '
                         "(30-6000 MHz)"}


def okumura_hata_loss(f_mhz: npt.ArrayLike, d_km: npt.ArrayLike, hb_m: npt.ArrayLike,
                      hm_m: npt.ArrayLike, environment: Environment = "urban",
                      city_size: CitySize = "small_medium", *,
                      strict: bool = True) -> ArrayOrFloat:
    """Okumura-Hata median path loss (dB), 150-1500 MHz.

    ``L_urban = 69.55 + 26.16 log f - 13.82 log hb - a(hm) + (44.9 - 6.55 log hb) log d``
    with ``a(hm) = (1.1 log f - 0.7) hm - (1.56 log f - 0.8)`` (small/medium city) or
    ``8.29 (log 1.54 hm)^2 - 1.1`` (large city, f <= 300 MHz) /
    ``3.2 (log 11.75 hm)^2 - 4.97`` (large city, f > 300 MHz);
    suburban: ``L_urban - 2 (log(f/28))^2 - 5.4``; open: ``L_urban - 4.78 (log f)^2 +
    18.33 log f - 40.94``. Suburban and open areas use the small/medium-city a(hm).

    Parameters
    ----------
    f_mhz : array_like
        Frequency (MHz), 150-1500.
    d_km : array_like
        Distance (km), 1-20.
    hb_m : array_like
        Base-station effective antenna height (m), 30-200.
    hm_m : array_like
        Mobile antenna height above ground (m), 1-10.
    environment : {"urban", "suburban", "open"}
        Propagation environment.
    city_size : {"small_medium", "large"}
        City size for the urban a(hm) (ignored outside "urban").
    strict : bool
        Raise :class:`~coverage.errors.ModelRangeError` outside the ranges (default), or
        clamp into them with a warning.
    """
    _check_choices("Okumura-Hata", environment, city_size)
    f, d, hb, hm = _check_all("Okumura-Hata", HATA_RANGES, strict, _HATA_ADVICE,
                              f_mhz=f_mhz, d_km=d_km, hb_m=hb_m, hm_m=hm_m)
    log_f = np.log10(f)
    size: CitySize = city_size if environment == "urban" else "small_medium"
    loss = (69.55 + 26.16 * log_f - 13.82 * np.log10(hb)
            - _mobile_correction(log_f, f, hm, size)
            + (44.9 - 6.55 * np.log10(hb)) * np.log10(d))
    return _result(np.asarray(loss + _environment_correction(log_f, f, environment)))


def cost231_hata_loss(f_mhz: npt.ArrayLike, d_km: npt.ArrayLike, hb_m: npt.ArrayLike,
                      hm_m: npt.ArrayLike, environment: Environment = "urban",
                      city_size: CitySize = "small_medium", *,
                      strict: bool = True) -> ArrayOrFloat:
    """COST-231 Hata median path loss (dB), 1500-2000 MHz (COST 231 Final Report 4.4.3).

    ``L = 46.3 + 33.9 log f - 13.82 log hb - a(hm) + (44.9 - 6.55 log hb) log d + Cm`` with
    the Hata a(hm); ``Cm = 3 dB`` for a large city (metropolitan centre, large-city a(hm)),
    0 dB for small/medium cities and suburban areas (small/medium-city a(hm)).
    "open": COST 231 defines no open-area formula; the Hata open-area correction is applied
    to the medium-city loss (an extrapolation; prefer "p1812" in open rural terrain).

    Parameters are as for :func:`okumura_hata_loss`, with f 1500-2000 MHz.
    """
    _check_choices("COST-231 Hata", environment, city_size)
    f, d, hb, hm = _check_all("COST-231 Hata", COST231_RANGES, strict, _COST_ADVICE,
                              f_mhz=f_mhz, d_km=d_km, hb_m=hb_m, hm_m=hm_m)
    log_f = np.log10(f)
    large = environment == "urban" and city_size == "large"
    size: CitySize = "large" if large else "small_medium"
    loss = (46.3 + 33.9 * log_f - 13.82 * np.log10(hb) - _mobile_correction(log_f, f, hm, size)
            + (44.9 - 6.55 * np.log10(hb)) * np.log10(d) + (3.0 if large else 0.0))
    extra = _environment_correction(log_f, f, environment) if environment == "open" else 0.0
    return _result(np.asarray(loss + extra))


def hata_loss(f_mhz: float, d_km: npt.ArrayLike, hb_m: float, hm_m: float,
              environment: Environment = "urban", city_size: CitySize = "small_medium", *,
              strict: bool = True) -> ArrayOrFloat:
    """Hata-family loss (dB) for one frequency: Okumura-Hata up to 1500 MHz, COST-231 above.

    Same parameters as :func:`okumura_hata_loss`; ``f_mhz`` is a scalar here, valid
    150-2000 MHz.
    """
    if f_mhz <= HATA_RANGES["f_mhz"][1]:
        return okumura_hata_loss(f_mhz, d_km, hb_m, hm_m, environment, city_size,
                                 strict=strict)
    return cost231_hata_loss(f_mhz, d_km, hb_m, hm_m, environment, city_size, strict=strict)
