"""Coverage prediction: per-site RSRP windows and per-operator best-server rasters.

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
result) plus the engine version. Power, gain, tilt and azimuths do not enter the loss, so
editing them recomputes nothing; moving a site, changing its height or band recomputes that
site only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS

from coverage.config import Config, ModelSettings
from coverage.errors import ModelRangeError, Problem
from coverage.io.cache import array_digest, make_key, read_entry, write_entry
from coverage.radio import engine
from coverage.radio.antenna import PatternParams
from coverage.radio.diffraction import POL_VERTICAL
from coverage.radio.linkbudget import SiteRadio, rsrp_dbm, site_radio
from coverage.radio.window import rsrp_window
from coverage.study import Study, WorkingGrid

SITES_FILE = "sites/sites.csv"
"""Where site problems are reported."""


@dataclass(frozen=True)
class SiteCoverage:
    """RSRP of one site on a window of the working grid.

    Attributes
    ----------
    site_index : int
        Position of the site in ``Study.sites``.
    site_id, operator : str
        The site's identifiers.
    row0, col0 : int
        Grid row and column of the window's first cell.
    rsrp_dbm : ndarray of float32
        RSRP (dBm) on the window; NaN where the site does not reach.
    sector : ndarray of int8
        Index of the best sector (into the site's azimuths); -1 for an omni site.
    radio : SiteRadio
        The radio parameters used (band defaults applied).
    from_cache : bool
        True when the path loss was read from the cache.
    """

    site_index: int
    site_id: str
    operator: str
    row0: int
    col0: int
    rsrp_dbm: np.ndarray
    sector: np.ndarray
    radio: SiteRadio
    from_cache: bool

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices of the window in the full grid."""
        rows, cols = self.rsrp_dbm.shape
        return slice(self.row0, self.row0 + rows), slice(self.col0, self.col0 + cols)


@dataclass(frozen=True)
class OperatorCoverage:
    """Best-server coverage of one operator on the whole working grid.

    Attributes
    ----------
    operator : str
        Operator code.
    rsrp : ndarray of float32
        Best-server RSRP (dBm); NaN where no site of the operator reaches.
    best_site : ndarray of int32
        Position in ``Study.sites`` of the serving site; -1 where none.
    """

    operator: str
    rsrp: np.ndarray
    best_site: np.ndarray


@dataclass(frozen=True)
class CoverageResult:
    """Predicted coverage of a study.

    Attributes
    ----------
    transform : Affine
        Working-grid transform.
    crs : pyproj.CRS
        Working CRS.
    operators : tuple of str
        Operators in configuration order (``any_operator`` indexes this tuple).
    by_operator : dict of str to OperatorCoverage
        Best-server rasters per operator (every configured operator, even without sites).
    any_rsrp : ndarray of float32
        Best RSRP over all operators (dBm), NaN where nobody reaches.
    any_operator : ndarray of int8
        Index into ``operators`` of the strongest operator; -1 where none.
    sites : tuple of SiteCoverage
        Per-site windows (only when requested with ``keep_sites=True``).
    computed_sites, cached_sites : int
        How many site losses were computed, and how many were read from the cache.
    warnings : list of Problem
        Sites skipped or settings ignored, with what to do.
    """

    transform: Affine
    crs: CRS
    operators: tuple[str, ...]
    by_operator: dict[str, OperatorCoverage]
    any_rsrp: np.ndarray
    any_operator: np.ndarray
    sites: tuple[SiteCoverage, ...] = ()
    computed_sites: int = 0
    cached_sites: int = 0
    warnings: list[Problem] = field(default_factory=list)

    @property
    def rsrp(self) -> dict[str, np.ndarray]:
        """Operator code to best-server RSRP raster."""
        return {op: cov.rsrp for op, cov in self.by_operator.items()}

    @property
    def best_site(self) -> dict[str, np.ndarray]:
        """Operator code to best-server site-index raster."""
        return {op: cov.best_site for op, cov in self.by_operator.items()}


# ------------------------------------------------------------------------------ per site


def _given(value: object) -> float | None:
    """A float, or None for missing / NaN values."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _azimuths(value: object) -> tuple[float, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    return tuple(float(a) for a in value)  # type: ignore[union-attr]


def loss_cache_key(grid: WorkingGrid, x: float, y: float, height_m: float, f_mhz: float,
                   model: ModelSettings, rx_height_m: float) -> str:
    """SHA-256 key of a site's loss window (see the module notes on caching)."""
    radius_m = model.radius_km * 1000.0
    rows, cols = engine.influence_window(grid.shape, grid.transform, x, y, radius_m)
    return make_key({
        "engine": engine.ENGINE_VERSION,
        "site": [round(x, 3), round(y, 3), round(height_m, 4), round(f_mhz, 6)],
        "model": [model.name, model.radius_km, model.delta_n, model.hata_environment,
                  POL_VERTICAL],
        "rx_height_m": rx_height_m,
        "grid": [list(grid.transform)[:6], list(grid.shape)],
        "dem": [rows.start, rows.stop, cols.start, cols.stop,
                array_digest(grid.elevation[rows, cols])],
    })


def site_loss(grid: WorkingGrid, x: float, y: float, height_m: float, f_mhz: float,
              model: ModelSettings, rx_height_m: float, cache_dir: Path | None = None, *,
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
        The window and whether it came from the cache.
    """
    if cache_dir is not None:
        if key is None:
            key = loss_cache_key(grid, x, y, height_m, f_mhz, model, rx_height_m)
        found = read_entry(cache_dir, key)
        if found.status == "hit" and found.arrays is not None:
            a = found.arrays
            window = engine.LossWindow(
                int(a["row0"]), int(a["col0"]), a["loss_db"], float(a["site_row"]),
                float(a["site_col"]), float(a["site_ground_m"]), str(model.name))
            return window, True
    window = engine.site_path_loss(
        grid.elevation, grid.transform, x, y, height_m, f_mhz, rx_height_agl_m=rx_height_m,
        radius_m=model.radius_km * 1000.0, delta_n=model.delta_n, model=model.name,
        pol=POL_VERTICAL, hata_environment=model.hata_environment)
    if cache_dir is not None and key is not None:
        write_entry(cache_dir, key, {
            "loss_db": window.loss_db, "row0": np.int64(window.row0),
            "col0": np.int64(window.col0), "site_row": np.float64(window.site_row),
            "site_col": np.float64(window.site_col),
            "site_ground_m": np.float64(window.site_ground_m)})
    return window, False


def window_rsrp(grid: WorkingGrid, window: engine.LossWindow, x: float, y: float,
                height_m: float, azimuths: tuple[float, ...], radio: SiteRadio,
                pattern: PatternParams, rx_height_m: float, body_loss_db: float,
                delta_n: float) -> tuple[np.ndarray, np.ndarray]:
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
        float(pattern.front_to_back_db), float(pattern.side_lobe_v_db), float(eirp_ref))


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


def make_site_job(cfg: Config, row: object, index: int) -> SiteJob | Problem:
    """The job of one site row of ``Study.sites``, or the warning that leaves it out."""
    site_id = str(row["site_id"])  # type: ignore[index]
    operator = str(row["operator"])  # type: ignore[index]
    band_name = str(row["band"])  # type: ignore[index]
    try:
        band = cfg.band(operator, band_name)
    except KeyError:
        return Problem(
            file=SITES_FILE, row=index + 1, column="band", value=f"{operator}/{band_name}",
            message=f"site {site_id}: no band {band_name!r} for operator {operator!r} in the "
                    "configuration; the site is left out",
            fix="add the band under [operators.<op>.bands] or correct the site's band",
            severity="warning")
    geom = row["geometry"]  # type: ignore[index]
    azimuths = _azimuths(row.get("azimuths"))  # type: ignore[attr-defined]
    radio = site_radio(band, omni=len(azimuths) == 0,
                       power_dbm=_given(row.get("power_dbm")),  # type: ignore[attr-defined]
                       gain_dbi=_given(row.get("gain_dbi")),  # type: ignore[attr-defined]
                       tilt_deg=_given(row.get("tilt_deg")))  # type: ignore[attr-defined]
    pattern = PatternParams(band.h_beamwidth_deg, band.v_beamwidth_deg, band.front_to_back_db,
                            band.side_lobe_v_db)
    return SiteJob(index, site_id, operator, float(geom.x), float(geom.y),
                   float(row["height_m"]), float(band.frequency_mhz),  # type: ignore[index]
                   azimuths, radio, pattern)


def job_loss_key(grid: WorkingGrid, cfg: Config, job: SiteJob) -> str:
    """The loss-cache key of a job (:func:`loss_cache_key`)."""
    return loss_cache_key(grid, job.x, job.y, job.height_m, job.f_mhz, cfg.model,
                          cfg.rule.receiver_height_m)


def predict_site(grid: WorkingGrid, cfg: Config, job: SiteJob, cache: Path | None = None, *,
                 loss_key: str | None = None) -> SiteCoverage:
    """RSRP window of one site (the loss from the cache when there).

    Raises
    ------
    ModelRangeError
        When the site cannot be predicted (outside the DEM, over nodata, out of range).
    """
    rx_height = cfg.rule.receiver_height_m
    window, from_cache = site_loss(grid, job.x, job.y, job.height_m, job.f_mhz, cfg.model,
                                   rx_height, cache, key=loss_key)
    rsrp, sector = window_rsrp(grid, window, job.x, job.y, job.height_m, job.azimuths,
                               job.radio, job.pattern, rx_height, cfg.rule.body_loss_db,
                               cfg.model.delta_n)
    return SiteCoverage(job.index, job.site_id, job.operator, window.row0, window.col0, rsrp,
                        sector, job.radio, from_cache)


def unpredictable(job: SiteJob, reason: str) -> Problem:
    """The warning for a site the model cannot predict (``reason``: the error's text)."""
    return Problem(
        file=SITES_FILE, row=job.index + 1, value=job.site_id,
        message=f"site {job.site_id} cannot be predicted: {reason}",
        fix="move the site inside the DEM, or choose another model", severity="warning")


def combine_operators(rsrp: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Any-operator RSRP (float32, NaN none) and operator index (int8, -1 none).

    ``rsrp`` holds the operators' best-server rasters (or tiles of them) in configuration
    order; a tie goes to the earlier operator.
    """
    shape = rsrp[0].shape if rsrp else (0, 0)
    any_rsrp = np.full(shape, np.nan, np.float32)
    any_operator = np.full(shape, -1, np.int8)
    for index, values in enumerate(rsrp):
        better = values > np.nan_to_num(any_rsrp, nan=-np.inf)
        any_rsrp[better] = values[better]
        any_operator[better] = index
    return any_rsrp, any_operator


def merge_coverage(first: CoverageResult, second: CoverageResult) -> CoverageResult:
    """Best server over the sites of both results, exactly as if predicted together.

    Both results index the same sites table (``second`` may use a longer one that extends
    it). A cell takes the stronger site; an exact tie goes to the lower site index, which
    is the rule of :func:`predict_coverage`, so merging a prediction of some sites with one
    of others equals predicting all of them at once.

    Returns
    -------
    CoverageResult
        New rasters; site windows, counts and warnings of both (settings warnings once).
    """
    by_operator = {}
    for op in first.operators:
        a, b = first.by_operator[op], second.by_operator[op]
        va = np.nan_to_num(a.rsrp, nan=-np.inf)
        vb = np.nan_to_num(b.rsrp, nan=-np.inf)
        take_b = (vb > va) | ((vb == va) & (b.best_site >= 0)
                              & ((a.best_site < 0) | (b.best_site < a.best_site)))
        by_operator[op] = OperatorCoverage(op, np.where(take_b, b.rsrp, a.rsrp),
                                           np.where(take_b, b.best_site, a.best_site))
    if first.operators:
        any_rsrp, any_operator = combine_operators([by_operator[op].rsrp
                                                    for op in first.operators])
    else:
        any_rsrp, any_operator = first.any_rsrp, first.any_operator
    warnings = list(first.warnings) + [w for w in second.warnings if w not in first.warnings]
    return CoverageResult(first.transform, first.crs, first.operators, by_operator, any_rsrp,
                          any_operator, first.sites + second.sites,
                          first.computed_sites + second.computed_sites,
                          first.cached_sites + second.cached_sites, warnings)


# ------------------------------------------------------------------------------ whole study


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


def predict_coverage(study: Study, config: Config | None = None, *,
                     cache_dir: str | Path | None = None,
                     statuses: Iterable[str] | None = ("on_air",),
                     keep_sites: bool = False,
                     progress: Callable[[int, int], None] | None = None,
                     client: Any = None, tile_cells: int | None = None) -> CoverageResult:
    """Per-operator best-server RSRP over the working grid.

    Parameters
    ----------
    study : Study
        Loaded inputs (grid and sites).
    config : Config, optional
        Defaults to ``study.config``.
    cache_dir : str or Path, optional
        Folder of the per-site loss cache; None disables caching.
    statuses : iterable of str or None
        Site statuses to include (default only ``on_air``); None includes every site.
    keep_sites : bool
        Also return every site's RSRP window (memory: one window per site).
    progress : callable, optional
        Called as ``progress(done, total)`` after each site.
    client : dask.distributed.Client, optional
        Run the sites on this cluster, tile by tile (:func:`coverage.distributed.
        predict_on_cluster`); the result is byte-identical to the in-process run. None (the
        default) predicts in this process.
    tile_cells : int, optional
        Tile side (cells) of a cluster run (default
        :data:`coverage.tiling.DEFAULT_TILE_CELLS`).

    Returns
    -------
    CoverageResult
    """
    if client is not None:
        if keep_sites:
            raise ValueError("keep_sites is not available on a cluster (it would hold every "
                             "site's window in memory)")
        from coverage.distributed import predict_on_cluster
        from coverage.tiling import DEFAULT_TILE_CELLS

        return predict_on_cluster(study, config, client=client, cache_dir=cache_dir,
                                  statuses=statuses, progress=progress,
                                  tile_cells=tile_cells or DEFAULT_TILE_CELLS)
    cfg = config or study.config
    grid = study.grid
    shape = grid.shape
    cache = Path(cache_dir) if cache_dir is not None else None
    operators = tuple(cfg.operators)
    best = {op: np.full(shape, -np.inf, np.float32) for op in operators}
    best_site = {op: np.full(shape, -1, np.int32) for op in operators}
    warnings = _settings_warnings(cfg.model)
    kept: list[SiteCoverage] = []
    computed = cached = 0
    sites = study.sites.reset_index(drop=True)
    wanted = None if statuses is None else set(statuses)
    todo = [i for i in range(len(sites))
            if wanted is None or str(sites.at[i, "status"]) in wanted]
    for done, i in enumerate(todo, start=1):
        row = sites.iloc[i]
        cov = _predict_one(grid, cfg, row, i, cache, warnings)
        if cov is not None:
            if cov.from_cache:
                cached += 1
            else:
                computed += 1
            rows, cols = cov.slices
            target, target_site = best[cov.operator][rows, cols], best_site[cov.operator][
                rows, cols]
            better = cov.rsrp_dbm > target  # NaN compares False
            target[better] = cov.rsrp_dbm[better]
            target_site[better] = i
            if keep_sites:
                kept.append(cov)
        if progress is not None:
            progress(done, len(todo))
    by_operator = {}
    for op in operators:
        rsrp = best[op]
        rsrp[~np.isfinite(rsrp)] = np.nan
        by_operator[op] = OperatorCoverage(op, rsrp, best_site[op])
    if operators:
        any_rsrp, any_operator = combine_operators([by_operator[op].rsrp for op in operators])
    else:
        any_rsrp = np.full(shape, np.nan, np.float32)
        any_operator = np.full(shape, -1, np.int8)
    crs = grid.crs if isinstance(grid.crs, CRS) else CRS.from_user_input(grid.crs)
    return CoverageResult(grid.transform, crs, operators, by_operator, any_rsrp, any_operator,
                          tuple(kept), computed, cached, warnings)


def _predict_one(grid: WorkingGrid, cfg: Config, row: object, index: int,
                 cache: Path | None, warnings: list[Problem]) -> SiteCoverage | None:
    """One site's coverage, or None (with a warning) when it cannot be predicted."""
    job = make_site_job(cfg, row, index)
    if isinstance(job, Problem):
        warnings.append(job)
        return None
    try:
        return predict_site(grid, cfg, job, cache)
    except ModelRangeError as exc:
        warnings.append(unpredictable(job, str(exc)))
        return None
