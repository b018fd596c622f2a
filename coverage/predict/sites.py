"""Coverage prediction of one site: its loss window, its RSRP window and its job record.

For each site the basic transmission loss comes from :mod:`coverage.radio.engine` on a
window around it (cached on disk when a cache folder is given), and the downlink RSRP
follows from the link budget (:mod:`coverage.radio.linkbudget`) and the best sector of the
3GPP antenna pattern (:mod:`coverage.radio.antenna`). Per operator, every cell takes its
strongest site (best server); "any operator" takes the strongest operator.

Conventions
-----------
* RSRP rasters are the **median** prediction; the location-reliability margin is added to
  the coverage threshold by :func:`coverage.assess.effective_threshold`, not subtracted here.
* A site's ``power_dbm``, ``gain_dbi`` and ``tilt_deg`` (total downtilt) override its band's
  defaults (:func:`coverage.radio.linkbudget.site_radio`).
* Bearings are taken on the working grid (grid north); the depression angle to a receiver
  includes the earth's curvature ``d / (2 ae)``.
* Site indices (``best_site``) are positions (0-based rows) in ``Study.sites``.

Caching
-------
The loss window of a site depends only on its position, antenna height, frequency, the model
settings, the receiver height, the grid geometry and the DEM around it; its cache key is the
SHA-256 of exactly these (the DEM as the SHA-256 of the elevation window that can affect the
result) plus the engine version and the stored format of the loss
(:data:`coverage.predict.loss_codec.FORMAT`: entries of an older format are never found, so
never misread). Entries hold the loss quantised to 0.05 dB and deflated by the codec
(:func:`coverage.predict.loss_codec.compress`), with the SHA-256 checksum of every cache
entry (:mod:`coverage.io.cache`); a computed loss is quantised the same way, so a cold
and a warm run agree to the byte. Power, gain, tilt and azimuths do not enter the loss, so
editing them recomputes nothing; moving a site, changing its height or band recomputes that
site only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage.config import Config, ModelSettings
from coverage.errors import Problem
from coverage.grid import WorkingGrid
from coverage.io.cache import array_digest, make_key, read_entry, write_entry
from coverage.predict import loss_codec
from coverage.radio import engine
from coverage.radio.antenna import PatternParams
from coverage.radio.diffraction import POL_VERTICAL
from coverage.radio.linkbudget import SiteRadio, rsrp_dbm, site_radio
from coverage.radio.window import rsrp_window
from coverage.signal import SiteCoverage

SITES_FILE = "sites/sites.csv"
"""Where site problems are reported."""


# ------------------------------------------------------------------------------ per site


def _given(value: Any) -> float | None:
    """A float, or None for missing / NaN values."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _azimuths(value: Any) -> tuple[float, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    return tuple(float(a) for a in value)


def loss_cache_key(grid: WorkingGrid, x: float, y: float, height_m: float, f_mhz: float,
                   model: ModelSettings, rx_height_m: float,
                   dem_digests: dict[tuple[int, int, int, int], str] | None = None) -> str:
    """SHA-256 key of a site's loss window (see the module notes on caching).

    ``dem_digests`` (optional) remembers the digest of each DEM window already hashed, for a
    caller that keys many options of the same towers on the same grid (the bands of a
    candidate tower share its window); the key is the same either way.
    """
    radius_m = model.radius_km * 1000.0
    rows, cols = engine.influence_window(grid.shape, grid.transform, x, y, radius_m)
    bounds = (rows.start, rows.stop, cols.start, cols.stop)
    if dem_digests is None:
        dem = array_digest(grid.elevation[rows, cols])
    else:
        dem = dem_digests.get(bounds) or dem_digests.setdefault(
            bounds, array_digest(grid.elevation[rows, cols]))
    return make_key({
        "engine": engine.ENGINE_VERSION,
        "format": loss_codec.FORMAT,
        "site": [round(x, 3), round(y, 3), round(height_m, 4), round(f_mhz, 6)],
        "model": [model.name, model.radius_km, model.delta_n, model.hata_environment,
                  POL_VERTICAL],
        "rx_height_m": rx_height_m,
        "grid": [list(grid.transform)[:6], list(grid.shape)],
        "dem": [*bounds, dem],
    })


def site_loss(grid: WorkingGrid, x: float, y: float, *, height_m: float, f_mhz: float,
              model: ModelSettings, rx_height_m: float, cache_dir: Path | None = None,
              key: str | None = None) -> tuple[engine.LossWindow, bool]:
    """Path loss window of one site, from the cache when a valid entry exists.

    Parameters
    ----------
    grid : WorkingGrid
        The working grid.
    x, y : float
        Site position (m, working CRS).
    height_m : float
        Antenna height above ground (m).
    f_mhz : float
        Frequency (MHz).
    model : ModelSettings
        Model name, radius, delta_n, Hata environment.
    rx_height_m : float
        Receiver height above ground (m).
    cache_dir : Path or None
        Cache folder; None computes without caching. A missing, corrupt or stale entry is
        recomputed and (re)written atomically.
    key : str, optional
        The entry's key when the caller has already computed :func:`loss_cache_key`.

    Returns
    -------
    (LossWindow, bool)
        The window (loss quantised to :data:`coverage.predict.loss_codec.STEP_DB`, whether
        computed or cached) and whether it came from the cache.
    """
    return _site_loss(grid, x, y, height_m=height_m, f_mhz=f_mhz, model=model,
                      rx_height_m=rx_height_m, cache_dir=cache_dir, key=key)


def _site_loss(grid: WorkingGrid, x: float, y: float, *, height_m: float, f_mhz: float,
               model: ModelSettings, rx_height_m: float, cache_dir: Path | None,
               key: str | None, dtype: loss_codec.LossDtype = np.float32
               ) -> tuple[engine.LossWindow, bool]:
    """:func:`site_loss`, its loss float32 or widened to ``dtype`` (exactly the same values:
    :func:`predict_site` hands float64 to the RSRP kernel without converting a window)."""
    if cache_dir is not None:
        if key is None:
            key = loss_cache_key(grid, x, y, height_m, f_mhz, model, rx_height_m)
        window = _cached_loss(cache_dir, key, model, dtype)
        if window is not None:
            return window, True
    window = engine.site_path_loss(
        grid.elevation, grid.transform, x, y, height_m, f_mhz, rx_height_agl_m=rx_height_m,
        radius_m=model.radius_km * 1000.0, delta_n=model.delta_n, model=model.name,
        pol=POL_VERTICAL, hata_environment=model.hata_environment)
    return _kept_loss(window, cache_dir, key, dtype), False


def _cached_loss(cache_dir: Path, key: str, model: ModelSettings,
                 dtype: loss_codec.LossDtype) -> engine.LossWindow | None:
    """The loss window of a valid cache entry, or None (missing, corrupt or stale)."""
    found = read_entry(cache_dir, key)
    if found.status != "hit" or found.arrays is None:
        return None
    a = found.arrays
    try:
        loss = loss_codec.decompress(a["loss_deflated"], (int(a["rows"]), int(a["cols"])),
                                     dtype)
    except (KeyError, ValueError):  # checksummed, so only a writer's bug: recompute
        return None
    return engine.LossWindow(int(a["row0"]), int(a["col0"]), loss, float(a["site_row"]),
                             float(a["site_col"]), float(a["site_ground_m"]), str(model.name))


def _kept_loss(window: engine.LossWindow, cache_dir: Path | None, key: str | None,
               dtype: loss_codec.LossDtype) -> engine.LossWindow:
    """A computed window quantised like a cached one (in ``dtype``), written to the cache
    (atomically) when there is one."""
    if cache_dir is None or key is None:
        steps = loss_codec.to_steps(window.loss_db)
        return dataclasses.replace(window, loss_db=loss_codec.from_steps(steps, dtype))
    stored, loss = loss_codec.compress(window.loss_db, dtype)
    window = dataclasses.replace(window, loss_db=loss)
    rows, cols = loss.shape
    # the codec has deflated the loss already: the file is not compressed a second time
    write_entry(cache_dir, key, {
        "loss_deflated": stored, "rows": np.int64(rows), "cols": np.int64(cols),
        "row0": np.int64(window.row0), "col0": np.int64(window.col0),
        "site_row": np.float64(window.site_row), "site_col": np.float64(window.site_col),
        "site_ground_m": np.float64(window.site_ground_m)})
    return window


def window_rsrp(grid: WorkingGrid, window: engine.LossWindow, x: float, y: float, *,
                height_m: float, azimuths: tuple[float, ...], radio: SiteRadio,
                pattern: PatternParams, rx_height_m: float, body_loss_db: float,
                delta_n: float, floor: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """RSRP (dBm, float32) and best sector (int8) on a loss window.

    Parameters
    ----------
    grid : WorkingGrid
        The working grid (receiver ground heights).
    window : LossWindow
        Path loss of the site.
    x, y : float
        Site position (m, working CRS).
    height_m : float
        Antenna height above ground (m).
    azimuths : tuple of float
        Sector azimuths (degrees from grid north); empty for omni.
    radio : SiteRadio
        Resolved radio parameters.
    pattern : PatternParams
        Antenna pattern parameters.
    rx_height_m, body_loss_db, delta_n : float
        Receiver height (m), body loss (dB), refractivity lapse rate (N-units/km).
    floor : ndarray, optional
        A float32 raster of the whole grid (C-contiguous) that other sites certainly reach
        at each cell (a best-server accumulator): cells where this site is certainly weaker
        are NaN (:func:`coverage.radio.window.rsrp_window`).
    """
    rows, cols = window.slices
    cx, _ = grid.xy(0.0, np.arange(cols.start, cols.stop, dtype=np.float64))
    _, cy = grid.xy(np.arange(rows.start, rows.stop, dtype=np.float64), 0.0)
    ground = window.site_ground_m if math.isfinite(window.site_ground_m) else 0.0
    ae_m = engine.effective_earth_radius_km(delta_n) * 1000.0
    # RSRP = RS EPRE + gain + pattern - feeder - loss - body (linkbudget.rsrp_dbm), fused
    eirp_ref = rsrp_dbm(radio.rs_epre_dbm, radio.gain_dbi, 0.0, radio.feeder_loss_db, 0.0,
                        body_loss_db)
    return rsrp_window(
        np.ascontiguousarray(window.loss_db, dtype=np.float64),
        np.ascontiguousarray(grid.elevation[rows, cols], dtype=np.float64),
        np.ascontiguousarray(cx, dtype=np.float64), np.ascontiguousarray(cy, dtype=np.float64),
        float(x), float(y), ground + height_m, float(rx_height_m), ae_m,
        np.asarray(azimuths, dtype=np.float64), float(radio.tilt_deg),
        float(pattern.h_beamwidth_deg), float(pattern.v_beamwidth_deg),
        float(pattern.front_to_back_db), float(pattern.side_lobe_v_db), float(eirp_ref),
        floor=None if floor is None else (floor, rows.start, cols.start))


# ------------------------------------------------------------------------------ site jobs


@dataclass(frozen=True)
class SiteJob:
    """Everything one site's prediction needs besides the grid (small and picklable).

    Attributes
    ----------
    index : int
        Position of the site in ``Study.sites``.
    site_id, operator : str
        The site's identifiers.
    x, y : float
        Position (m, working CRS).
    height_m : float
        Antenna height above ground (m).
    f_mhz : float
        Frequency of its band (MHz).
    azimuths : tuple of float
        Sector azimuths (degrees from grid north); empty for omni.
    radio : SiteRadio
        Radio parameters with band defaults applied.
    pattern : PatternParams
        Antenna pattern of its band.
    """

    index: int
    site_id: str
    operator: str
    x: float
    y: float
    height_m: float
    f_mhz: float
    azimuths: tuple[float, ...]
    radio: SiteRadio
    pattern: PatternParams


def make_site_job(cfg: Config, row: pd.Series, index: int) -> SiteJob | Problem:
    """The job of one site row of ``Study.sites``, or the warning that leaves it out."""
    site_id = str(row["site_id"])
    operator = str(row["operator"])
    band_name = str(row["band"])
    try:
        band = cfg.band(operator, band_name)
    except KeyError:
        return Problem(
            file=SITES_FILE, row=index + 1, column="band", value=f"{operator}/{band_name}",
            message=f"site {site_id}: no band {band_name!r} for operator {operator!r} in the "
                    "configuration; the site is left out",
            fix="add the band under [operators.<op>.bands] or correct the site's band",
            severity="warning")
    geom = row["geometry"]
    azimuths = _azimuths(row.get("azimuths"))
    radio = site_radio(band, omni=len(azimuths) == 0,
                       power_dbm=_given(row.get("power_dbm")),
                       gain_dbi=_given(row.get("gain_dbi")),
                       tilt_deg=_given(row.get("tilt_deg")))
    pattern = PatternParams(band.h_beamwidth_deg, band.v_beamwidth_deg, band.front_to_back_db,
                            band.side_lobe_v_db)
    return SiteJob(index, site_id, operator, float(geom.x), float(geom.y),
                   float(row["height_m"]), float(band.frequency_mhz),
                   azimuths, radio, pattern)


def job_loss_key(grid: WorkingGrid, cfg: Config, job: SiteJob) -> str:
    """The loss-cache key of a job (:func:`loss_cache_key`)."""
    return loss_cache_key(grid, job.x, job.y, job.height_m, job.f_mhz, cfg.model,
                          cfg.rule.receiver_height_m)


def predict_site(grid: WorkingGrid, cfg: Config, job: SiteJob, cache: Path | None = None, *,
                 loss_key: str | None = None, floor: np.ndarray | None = None
                 ) -> SiteCoverage:
    """RSRP window of one site (the loss from the cache when there).

    With ``floor`` (see :func:`window_rsrp`) the window is NaN where the site is certainly
    weaker than the floor: enough for a best-server fold, not for the site's own map.

    Raises
    ------
    ModelRangeError
        When the site cannot be predicted (outside the DEM, over nodata, out of range).
    """
    rx_height = cfg.rule.receiver_height_m
    window, from_cache = _site_loss(grid, job.x, job.y, height_m=job.height_m,
                                    f_mhz=job.f_mhz, model=cfg.model, rx_height_m=rx_height,
                                    cache_dir=cache, key=loss_key, dtype=np.float64)
    return _site_coverage(grid, cfg, job, window, from_cache, floor)


def _site_coverage(grid: WorkingGrid, cfg: Config, job: SiteJob, window: engine.LossWindow,
                   from_cache: bool, floor: np.ndarray | None) -> SiteCoverage:
    """A site's RSRP window from its loss window (:func:`window_rsrp`), as its result."""
    rsrp, sector = window_rsrp(grid, window, job.x, job.y, height_m=job.height_m,
                               azimuths=job.azimuths, radio=job.radio, pattern=job.pattern,
                               rx_height_m=cfg.rule.receiver_height_m,
                               body_loss_db=cfg.rule.body_loss_db,
                               delta_n=cfg.model.delta_n, floor=floor)
    return SiteCoverage(job.index, job.site_id, job.operator, window.row0, window.col0, rsrp,
                        sector, job.radio, from_cache)


def mast_key(job: SiteJob) -> tuple[float, float, float]:
    """Where a site's antennas are (x, y, height): sites with the same key share their
    terrain profiles, so :func:`predict_sites` sweeps their bands together."""
    return (job.x, job.y, job.height_m)


def predict_sites(grid: WorkingGrid, cfg: Config, jobs: Sequence[SiteJob],
                  cache: Path | None = None, *,
                  floors: Sequence[np.ndarray | None] | None = None) -> list[SiteCoverage]:
    """RSRP windows of the sites of one mast (the same :func:`mast_key`), their bands
    swept together.

    Each site gets exactly what :func:`predict_site` gives it: its loss is read from the
    cache when there, and the losses of the others are computed in one sweep of the engine
    at all their frequencies (:func:`coverage.radio.engine.site_path_loss_bands`: the
    terrain of every ray sampled once), then quantised and cached per site as
    :func:`predict_site` does.

    Parameters
    ----------
    grid : WorkingGrid
        The working grid.
    cfg : Config
        Model and rule settings.
    jobs : sequence of SiteJob
        Sites at one position and antenna height (any operators and bands).
    cache : Path, optional
        Folder of the per-site loss cache.
    floors : sequence of (ndarray or None), optional
        Per job, the ``floor`` of :func:`predict_site`.

    Returns
    -------
    list of SiteCoverage
        In the order of ``jobs``.

    Raises
    ------
    ModelRangeError
        When a site cannot be predicted (outside the DEM, over nodata, out of range).
    ValueError
        When the jobs are not at one mast.
    """
    if len({mast_key(job) for job in jobs}) > 1:
        raise ValueError("predict_sites: the sites must share one position and height")
    rx_height = cfg.rule.receiver_height_m
    keys = [job_loss_key(grid, cfg, job) if cache is not None else None for job in jobs]
    windows: list[engine.LossWindow | None] = [None] * len(jobs)
    from_cache = [False] * len(jobs)
    if cache is not None:
        for i, key in enumerate(keys):
            if key is not None:
                windows[i] = _cached_loss(cache, key, cfg.model, np.float64)
                from_cache[i] = windows[i] is not None
    missing = [i for i, window in enumerate(windows) if window is None]
    if missing:
        first = jobs[missing[0]]
        freqs = sorted({jobs[i].f_mhz for i in missing})
        model = cfg.model
        swept = engine.site_path_loss_bands(
            grid.elevation, grid.transform, first.x, first.y, first.height_m, freqs,
            rx_height_agl_m=rx_height, radius_m=model.radius_km * 1000.0,
            delta_n=model.delta_n, model=model.name, pol=POL_VERTICAL,
            hata_environment=model.hata_environment)
        by_frequency = dict(zip(freqs, swept, strict=True))
        for i in missing:
            windows[i] = _kept_loss(by_frequency[jobs[i].f_mhz], cache, keys[i], np.float64)
    out = []
    for i, job in enumerate(jobs):
        window = windows[i]
        assert window is not None
        out.append(_site_coverage(grid, cfg, job, window, from_cache[i],
                                  None if floors is None else floors[i]))
    return out


def unpredictable(job: SiteJob, reason: str) -> Problem:
    """The warning for a site the model cannot predict (``reason``: the error's text)."""
    return Problem(
        file=SITES_FILE, row=job.index + 1, value=job.site_id,
        message=f"site {job.site_id} cannot be predicted: {reason}",
        fix="move the site inside the DEM, or choose another model", severity="warning")


# ------------------------------------------------------------------------------ settings


def settings_warnings(model: ModelSettings) -> list[Problem]:
    """Warnings about model settings the area engine ignores (first in every result)."""
    return _settings_warnings(model)


def _settings_warnings(model: ModelSettings) -> list[Problem]:
    out = []
    if model.name == "p1812" and (model.time_percent != 50.0 or model.clutter_height_m != 0.0
                                  or model.location_percent != 50.0):
        out.append(Problem(
            file="coverage.toml", column="model",
            message="the area engine predicts the median (50 % time and locations) without "
                    "clutter; time_percent, location_percent and clutter_height_m are ignored",
            fix="use rule.location_reliability for a location margin", severity="warning"))
    return out
