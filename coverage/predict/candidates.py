"""RSRP of candidate sites at chosen cells, for the planning step.

Every candidate tower is turned into one pseudo-site per operator not yet on it and per
band of that operator (an *option*, :func:`candidate_sites`). Its RSRP is needed only where
the gap groups' households are, so :class:`CandidateRadio` evaluates the radio engine at those
cells only (:func:`coverage.radio.engine.path_loss_at_cells`: the same rays, profiles and loss
formula as a full-window prediction, so the same numbers) and applies the link budget of
:func:`coverage.predict.sites.window_rsrp` (omni antenna, band defaults). The planning step
prepares the options of each set of cells it asks for, and their losses are cached as one
entry per set (:mod:`~coverage.predict.candidate_bundle`); an option asked for at cells not
prepared is cached on its own (key: the site's loss-cache key of
:func:`coverage.predict.sites.loss_cache_key` plus the digest of the cells). Any other radio
function can be injected where the planning asks for one (``rsrp_at(site, rows, cols)``; a
full-window function is adapted by :func:`window_rsrp_at`).

Bands of one operator are skipped a priori when another band of the same operator has a
frequency no higher and a reference-signal EIRP (RS EPRE + omni gain − feeder loss) no
lower with the same vertical pattern: the propagation loss grows with frequency (free-space
``20 log10 f`` outweighs the change of diffraction loss), so such a band can never cover
a household the stronger band misses. Candidates are predicted as omni antennas at the
band's default power and tilt (azimuths are designed later).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.config import BandProfile, Config
from coverage.errors import ModelRangeError
from coverage.io.cache import array_digest, make_key, read_entry, write_entry
from coverage.predict import candidate_bundle, loss_codec
from coverage.predict.sites import loss_cache_key
from coverage.radio import engine
from coverage.radio.antenna import PatternParams, best_sector_db
from coverage.radio.diffraction import POL_VERTICAL
from coverage.radio.linkbudget import rs_epre_dbm, rsrp_dbm, site_radio
from coverage.study import Study


@dataclass(frozen=True)
class RsrpWindow:
    """Predicted RSRP of one site on a window of the working grid.

    Attributes
    ----------
    row0, col0 : int
        Grid row and column of the window's first cell.
    rsrp_dbm : ndarray of float32, shape (rows, cols)
        RSRP (dBm); NaN where the site does not reach (outside its radius, nodata).
    """

    row0: int
    col0: int
    rsrp_dbm: np.ndarray


RsrpFunction = Callable[[pd.Series], RsrpWindow]
"""``rsrp_fn(site)``: RSRP window of one site row (columns as ``Study.sites``)."""

RsrpAtFunction = Callable[[pd.Series, np.ndarray, np.ndarray], np.ndarray]
"""``rsrp_at(site, rows, cols)``: RSRP (dBm) of one site at grid cells; NaN where it does not
reach."""


def window_rsrp_at(rsrp_fn: RsrpFunction) -> RsrpAtFunction:
    """Adapt a full-window radio function to the cell-wise interface."""
    def at(site: pd.Series, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        win = rsrp_fn(site)
        h, w = win.rsrp_dbm.shape
        out = np.full(rows.shape, np.nan)
        ok = (rows >= win.row0) & (rows < win.row0 + h) & (cols >= win.col0) & (
            cols < win.col0 + w)
        out[ok] = win.rsrp_dbm[rows[ok] - win.row0, cols[ok] - win.col0]
        return out
    return at


class CandidateRadio:
    """RSRP of candidate sites at chosen cells, equal to :mod:`coverage.predict`'s windows.

    Parameters
    ----------
    study : Study
        Grid and configuration (model, rule, bands).
    cache_dir : Path, optional
        Folder of the on-disk cache of the losses at the cells: one ``.npz`` per prepared
        set of cells (:meth:`prepare`), and one per option asked for at other cells.

    Notes
    -----
    For the terrain model the engine's sweep is run with its evaluation mask restricted to
    the requested cells, and each ray is walked only up to the farthest requested cell it
    owns (the profile of a cell is its owning ray's samples up to that cell), so each
    requested cell gets exactly the value of :func:`coverage.radio.engine.site_path_loss`
    (a test checks it), quantised like the sites' losses (:mod:`~coverage.predict.loss_codec`),
    so a chosen candidate predicts as a site exactly as it was scored. The ray layout and
    cell owners are reused between bands of the same tower
    (:func:`coverage.radio.engine.path_loss_at_cells`). Calls may come from several threads
    (:func:`coverage.plan.coverage_matrix.option_values` predicts towers side by side): the
    layout is kept per thread, and the counters and the bundles are updated under a lock.
    """

    def __init__(self, study: Study, cache_dir: str | Path | None = None):
        self.grid = study.grid
        self.config = study.config
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.elevation = np.ascontiguousarray(study.grid.elevation, dtype=np.float32)
        self._layouts = threading.local()  # the last ray layout, per thread
        self._lock = threading.Lock()  # counters and the bundle (towers run on threads)
        self._dem_digests: dict[tuple[int, int, int, int], str] = {}  # per DEM window
        self._elevation_digest: str | None = None  # of the whole DEM, for the bundle keys
        self.computed = 0
        self.cached = 0
        self.failed = 0
        self.bundles: list[candidate_bundle.Bundle] = []
        """The prepared cell sets' bundles (:meth:`prepare`), in the order prepared."""

    def prepare(self, sites: pd.DataFrame, rows: np.ndarray, cols: np.ndarray) -> None:
        """Read the losses of every option in ``sites`` at the cells from one cache entry
        when a planning run asked for the same before (:mod:`~coverage.predict.
        candidate_bundle`); otherwise collect them as they come, to write that entry.

        May be called for several sets of cells (one entry each); an option asked for at
        prepared cells is cached only in that set's entry.
        """
        if self.cache_dir is None:
            return
        options = self._options(sites)
        if self._elevation_digest is None:
            self._elevation_digest = array_digest(self.elevation)
        self.bundles.append(candidate_bundle.open_bundle(
            self.cache_dir, self.grid, self.elevation, self.config, options, rows, cols,
            elevation_digest=self._elevation_digest))

    def _options(self, sites: pd.DataFrame) -> list[candidate_bundle.Option]:
        """(x, y, height, frequency) of each option in ``sites`` (the losses' identity)."""
        return [(float(geom.x), float(geom.y), float(height),
                 float(self.config.band(str(op), str(band)).frequency_mhz))
                for op, band, height, geom in zip(sites["operator"], sites["band"],
                                                  sites["height_m"], sites.geometry,
                                                  strict=True)]

    def _bundle_of(self, rows: np.ndarray, cols: np.ndarray, option: candidate_bundle.Option
                   ) -> candidate_bundle.Bundle | None:
        """The prepared bundle of ``option`` at exactly these cells, if any."""
        for bundle in self.bundles:
            if option in bundle.wanted and bundle.covers(rows, cols):
                return bundle
        return None

    def sweep_bands(self, sites: pd.DataFrame, rows: np.ndarray, cols: np.ndarray) -> int:
        """Sweep the options of one tower together, for the next :meth:`loss_at` calls.

        The options in ``sites`` (rows of :func:`candidate_sites`) that stand at one
        position and height, and whose losses at these cells :meth:`loss_at` would compute
        (not in a prepared bundle's entry; no cache, or a prepared bundle to record them
        in), are predicted in one sweep of the engine
        (:func:`coverage.radio.engine.path_loss_at_cells_bands`): the terrain of every ray
        is sampled once for all their frequencies. The losses are kept for this thread and
        handed out, each once, by :meth:`loss_at` for exactly these cells, which counts,
        quantises, caches and records them as if it had computed them itself: the values
        are bit for bit the same. Options that cannot be swept together (another position,
        an error of the engine) are left to :meth:`loss_at`.

        Returns
        -------
        int
            The number of frequencies swept (0 when nothing was).
        """
        options = self._options(sites)
        if len({option[:3] for option in options}) != 1:
            return 0
        todo = []
        for option in options:
            bundle = self._bundle_of(rows, cols, option)
            wanted = (self.cache_dir is None if bundle is None
                      else option not in bundle.known)
            if wanted and option not in todo:
                todo.append(option)
        freqs = sorted({option[3] for option in todo})
        if len(freqs) < 2:
            return 0
        model = self.config.model
        x, y, height, _ = todo[0]
        try:
            losses, ground, self._layouts.last = engine.path_loss_at_cells_bands(
                self.elevation, self.grid.transform, x, y, height, freqs, rows, cols,
                rx_height_agl_m=self.config.rule.receiver_height_m,
                radius_m=model.radius_km * 1000.0, delta_n=model.delta_n, model=model.name,
                pol=POL_VERTICAL, hata_environment=model.hata_environment,
                layout=getattr(self._layouts, "last", None))
        except ModelRangeError:
            return 0
        cells = (rows, cols)
        self._layouts.swept = {(x, y, height, f): (loss, ground, cells)
                               for f, loss in zip(freqs, losses, strict=True)}
        return len(freqs)

    def _swept(self, option: candidate_bundle.Option, rows: np.ndarray, cols: np.ndarray
               ) -> tuple[np.ndarray, float] | None:
        """The loss of ``option`` at these cells from :meth:`sweep_bands` (handed out once)."""
        swept = getattr(self._layouts, "swept", None)
        if not swept or option not in swept:
            return None
        loss, ground, (at_rows, at_cols) = swept.pop(option)
        if (at_rows is rows and at_cols is cols) or (
                np.array_equal(at_rows, rows) and np.array_equal(at_cols, cols)):
            return loss, ground
        return None

    def loss_at(self, x: float, y: float, height_m: float, f_mhz: float, rows: np.ndarray,
                cols: np.ndarray) -> tuple[np.ndarray, float]:
        """Basic transmission loss (dB, float32; NaN unreached) at cells, and ground (m)."""
        model = self.config.model
        rx = self.config.rule.receiver_height_m
        option = (float(x), float(y), float(height_m), float(f_mhz))
        bundle = self._bundle_of(rows, cols, option)
        if bundle is not None and option in bundle.known:
            with self._lock:
                self.cached += 1
            steps, ground = bundle.known[option]
            return loss_codec.from_steps(steps), ground
        key = None
        if self.cache_dir is not None and bundle is None:  # a bundle option: its entry only
            key = make_key({"loss": loss_cache_key(self.grid, x, y, height_m, f_mhz, model, rx,
                                                   self._dem_digests),
                            "cells": array_digest(np.stack([rows, cols]).astype(np.int64))})
            found = read_entry(self.cache_dir, key)
            if found.status == "hit" and found.arrays is not None:
                with self._lock:
                    self.cached += 1
                return (loss_codec.from_steps(found.arrays["loss_steps"]),
                        float(found.arrays["ground_m"]))
        swept = self._swept(option, rows, cols)
        if swept is not None:
            loss, ground = swept
        else:
            loss, ground, self._layouts.last = engine.path_loss_at_cells(
                self.elevation, self.grid.transform, x, y, height_m, f_mhz, rows, cols,
                rx_height_agl_m=rx, radius_m=model.radius_km * 1000.0, delta_n=model.delta_n,
                model=model.name, pol=POL_VERTICAL, hata_environment=model.hata_environment,
                layout=getattr(self._layouts, "last", None))
        with self._lock:
            self.computed += 1
        steps = loss_codec.to_steps(loss)  # the sites' precision (loss_codec), cached or not
        loss = loss_codec.from_steps(steps)
        if key is not None and self.cache_dir is not None:
            write_entry(self.cache_dir, key, {"loss_steps": steps,
                                              "ground_m": np.float64(ground)}, compress=True)
        if bundle is not None and self.cache_dir is not None:
            with self._lock:
                candidate_bundle.record(bundle, self.cache_dir, option, steps, float(ground))
        return loss, ground

    def __call__(self, site: pd.Series, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """RSRP (dBm, float32; NaN unreached) of an omni candidate site at the cells.

        Raises
        ------
        ModelRangeError
            The site cannot be predicted (outside the DEM, over nodata).
        """
        cfg = self.config
        band = cfg.band(str(site["operator"]), str(site["band"]))
        x, y = float(site.geometry.x), float(site.geometry.y)
        height = float(site["height_m"])
        loss, ground = self.loss_at(x, y, height, band.frequency_mhz, rows, cols)
        radio = site_radio(band, omni=True)
        pattern = PatternParams(band.h_beamwidth_deg, band.v_beamwidth_deg,
                                band.front_to_back_db, band.side_lobe_v_db)
        cx, cy = self.grid.xy(rows.astype(np.float64), cols.astype(np.float64))
        dx, dy = cx - x, cy - y
        dist = np.hypot(dx, dy)
        bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
        hts = (ground if math.isfinite(ground) else 0.0) + height
        hrs = np.nan_to_num(self.grid.elevation[rows, cols].astype(np.float64)) + (
            cfg.rule.receiver_height_m)
        ae_m = engine.effective_earth_radius_km(cfg.model.delta_n) * 1000.0
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = np.degrees(np.arctan2(hts - hrs + dist * dist / (2.0 * ae_m), dist))
        pattern_db, _ = best_sector_db(bearing, theta, (), radio.tilt_deg, pattern)
        rsrp = rsrp_dbm(radio.rs_epre_dbm, radio.gain_dbi, pattern_db, radio.feeder_loss_db,
                        loss.astype(np.float64), cfg.rule.body_loss_db)
        return rsrp.astype(np.float32)


def band_rs_eirp_dbm(band: BandProfile) -> float:
    """Reference-signal EIRP of an omni candidate on ``band`` (dBm per resource element)."""
    return (rs_epre_dbm(band.port_power_dbm, band.bandwidth_mhz, band.rs_boost_db)
            + band.omni_gain_dbi - band.feeder_loss_db)


def useful_bands(config: Config, operator: str, prune_dominated: bool = True) -> list[str]:
    """Bands of ``operator`` worth predicting for a candidate (see module notes).

    Returns
    -------
    list of str
        Band names in config order, dominated bands removed when ``prune_dominated``.
    """
    bands = config.operators[operator].bands
    names = list(bands)
    if not prune_dominated:
        return names
    keep = []
    for i, name in enumerate(names):
        b = bands[name]
        dominated = False
        for j, other_name in enumerate(names):
            if j == i:
                continue
            o = bands[other_name]
            same_pattern = (o.v_beamwidth_deg == b.v_beamwidth_deg
                            and o.electrical_tilt_deg == b.electrical_tilt_deg
                            and o.side_lobe_v_db == b.side_lobe_v_db)
            no_worse = (o.frequency_mhz <= b.frequency_mhz
                        and band_rs_eirp_dbm(o) >= band_rs_eirp_dbm(b))
            strictly = (o.frequency_mhz < b.frequency_mhz
                        or band_rs_eirp_dbm(o) > band_rs_eirp_dbm(b) or j < i)
            if same_pattern and no_worse and strictly:
                dominated = True
                break
        if not dominated:
            keep.append(name)
    return keep


def candidate_sites(candidates: gpd.GeoDataFrame, config: Config,
                    prune_dominated: bool = True) -> gpd.GeoDataFrame:
    """One pseudo-site per candidate tower, operator not on it, and useful band.

    Returns
    -------
    GeoDataFrame
        ``Study.sites`` columns (site_id = option_id ``TOWER:OP:BAND``, status
        ``planned``, omni, band defaults) plus ``option_id``, ``frequency_mhz`` and
        ``price_wan``; ordered by candidate order, then operator and band in config order.
    """
    rows = []
    bands_of = {op: useful_bands(config, op, prune_dominated) for op in config.operators}
    for cand in candidates.itertuples(index=False):
        tenants = set(cand.existing_operators)
        for op in config.operators:
            if op in tenants:
                continue
            for band in bands_of[op]:
                oid = f"{cand.tower_id}:{op}:{band}"
                rows.append({
                    "site_id": oid, "option_id": oid, "operator": op, "band": band,
                    "height_m": float(cand.height_m), "tower_id": str(cand.tower_id),
                    "azimuths": (), "tilt_deg": np.nan, "power_dbm": np.nan,
                    "gain_dbi": np.nan, "status": "planned", "on_air_date": None,
                    "backhaul": "none", "ground_m": float(cand.ground_m),
                    "frequency_mhz": config.band(op, band).frequency_mhz,
                    "price_wan": float(cand.price_wan), "x": float(cand.x), "y": float(cand.y),
                })
    frame = pd.DataFrame(rows, columns=[
        "site_id", "option_id", "operator", "band", "height_m", "tower_id", "azimuths",
        "tilt_deg", "power_dbm", "gain_dbi", "status", "on_air_date", "backhaul", "ground_m",
        "frequency_mhz", "price_wan", "x", "y"])
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"],
                                                              crs=candidates.crs),
                           crs=candidates.crs)
    if len(gdf):
        lonlat = gdf.geometry.to_crs("EPSG:4326")
        gdf["lon"], gdf["lat"] = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    else:
        gdf["lon"], gdf["lat"] = pd.Series(dtype=float), pd.Series(dtype=float)
    return gdf.drop(columns=["x", "y"])
