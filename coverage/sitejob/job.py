"""The one-site job: working grid, path loss, RSRP, overlay and summary.

The working grid is the UTM zone of the site at the requested resolution, a square of side
``2 * radius`` around it; the path loss is the area engine's (:mod:`coverage.radio.engine`,
the model settings of the configuration) and the RSRP the link budget and antenna pattern of
the county run (:func:`coverage.predict.sites.window_rsrp`), so a candidate predicts here as
it would in ``run``. The overlay is the RSRP classed at the maps' steps (−85 … −115 dBm) in
a WGS84 frame, for a KML ``GroundOverlay``.
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS

from coverage.config import Config
from coverage.grid import WorkingGrid
from coverage.io.site_files import DemSquare, read_dem_square, write_site_outputs
from coverage.radio import engine
from coverage.radio.antenna import PatternParams
from coverage.radio.diffraction import POL_VERTICAL
from coverage.radio.linkbudget import SiteRadio, rsrp_dbm, site_radio
from coverage.radio.threads import available_cpus
from coverage.radio.window import rsrp_window
from coverage.sitejob.request import SiteRequest

STEPS_DBM: tuple[float, ...] = (-85.0, -95.0, -105.0, -115.0)
"""Class boundaries of the overlay (dBm); the same as the maps' (a test checks it)."""
COLORS: tuple[str, ...] = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#f2f2f2")
"""Colour of each class, strongest first; the same as the maps'."""


@dataclass(frozen=True)
class SiteResult:
    """What the job wrote and found.

    Attributes
    ----------
    paths : list of Path
        ``rsrp.tif``, ``loss.tif``, ``rsrp.png``, ``rsrp.kml``.
    threshold_dbm : float
        RSRP needed (rule threshold plus the reliability margin, dBm).
    area_km2 : float
        Area with RSRP at or above the threshold (km²).
    households : int or None
        Households at or above the threshold (None without a data folder).
    summary : str
        The one-line summary.
    """

    paths: list[Path]
    threshold_dbm: float
    area_km2: float
    households: int | None
    summary: str


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS of a point (GDAL's: the job does not load pyproj)."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def threshold_dbm(cfg: Config) -> float:
    """The RSRP a place needs (dBm): as :func:`coverage.assess.effective_threshold` (a test
    checks it), without importing the county's assessment stack."""
    threshold = cfg.rule.threshold_dbm
    if cfg.rule.location_reliability is not None:
        z = statistics.NormalDist().inv_cdf(cfg.rule.location_reliability)
        threshold += z * cfg.rule.shadowing_sigma_db
    return threshold


def site_rsrp(grid: WorkingGrid | DemSquare, window: engine.LossWindow, x: float, y: float,
              height_m: float, azimuths: tuple[float, ...], radio: SiteRadio,
              pattern: PatternParams, cfg: Config) -> np.ndarray:
    """RSRP (dBm, float32) on the loss window: the fused link budget and antenna pattern of
    :func:`coverage.predict.sites.window_rsrp` (a test checks they agree to the bit), called
    here directly so that the one-site job does not load the county's prediction package."""
    rows, cols = window.slices
    cx = grid.transform.c + (np.arange(cols.start, cols.stop, dtype=np.float64) + 0.5) * (
        grid.resolution_m)
    cy = grid.transform.f - (np.arange(rows.start, rows.stop, dtype=np.float64) + 0.5) * (
        grid.resolution_m)
    ground = window.site_ground_m if math.isfinite(window.site_ground_m) else 0.0
    ae_m = engine.effective_earth_radius_km(cfg.model.delta_n) * 1000.0
    eirp_ref = rsrp_dbm(radio.rs_epre_dbm, radio.gain_dbi, 0.0, radio.feeder_loss_db, 0.0,
                        cfg.rule.body_loss_db)
    rsrp, _sector = rsrp_window(
        np.ascontiguousarray(window.loss_db, dtype=np.float64),
        np.ascontiguousarray(grid.elevation[rows, cols], dtype=np.float64), cx, cy,
        float(x), float(y), ground + height_m, float(cfg.rule.receiver_height_m), ae_m,
        np.asarray(azimuths, dtype=np.float64), float(radio.tilt_deg),
        float(pattern.h_beamwidth_deg), float(pattern.v_beamwidth_deg),
        float(pattern.front_to_back_db), float(pattern.side_lobe_v_db), float(eirp_ref),
        threads=cfg.compute.threads)
    return rsrp


def _classes(rsrp: np.ndarray) -> np.ndarray:
    out = np.zeros(rsrp.shape, np.uint8)
    finite = np.isfinite(rsrp)
    below = np.zeros(rsrp.shape, np.uint8)
    for step in STEPS_DBM:
        below += (finite & (rsrp < step)).astype(np.uint8)
    out[finite] = below[finite] + 1
    return out


def overlay(rsrp: np.ndarray, transform: Affine, crs: CRS, max_px: int = 1500
            ) -> tuple[bytes, tuple[float, float, float, float]]:
    """Classed RSRP as a palette PNG in WGS84 and its (west, south, east, north) (deg)."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    rows, cols = rsrp.shape
    src_crs = crs
    west, north = transform.c, transform.f
    east, south = transform.c + cols * transform.a, transform.f + rows * transform.e
    dst_tf, w, h = calculate_default_transform(src_crs, "EPSG:4326", cols, rows,
                                               left=west, bottom=south, right=east, top=north)
    scale = max(w, h) / max_px
    if scale > 1.0:
        w, h = math.ceil(w / scale), math.ceil(h / scale)
        dst_tf = dst_tf @ Affine.scale(scale, scale)
    # classed first (one byte a cell, class 0 = no data), then resampled: with nearest
    # resampling every output cell is one input cell's class either way
    dst = np.zeros((h, w), np.uint8)
    reproject(_classes(rsrp), dst, src_transform=transform, src_crs=src_crs, src_nodata=0,
              dst_transform=dst_tf, dst_crs="EPSG:4326", dst_nodata=0,
              resampling=Resampling.nearest)
    lon0, lat1 = dst_tf.c, dst_tf.f
    lon1, lat0 = dst_tf.c + w * dst_tf.a, dst_tf.f + h * dst_tf.e
    return _palette_png(dst), (lon0, lat0, lon1, lat1)


def _palette_png(classes: np.ndarray) -> bytes:
    """``classes`` (uint8, 0 = no data) as a palette PNG, class 0 transparent.

    Written by GDAL's PNG driver: this job has GDAL loaded already for its rasters, and a
    second imaging library would cost the one-site command more to import (~50 ms) than
    the whole overlay takes to encode.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    colormap = {0: (0, 0, 0, 0)}
    for k, c in enumerate(COLORS, start=1):
        colormap[k] = (int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16), 255)
    rows, cols = classes.shape
    with warnings.catch_warnings(), rasterio.Env(GDAL_PAM_ENABLED="NO"), MemoryFile() as mem:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # an image, not a map
        with mem.open(driver="PNG", width=cols, height=rows, count=1, dtype="uint8",
                      nodata=0, ZLEVEL=6) as png:
            png.write(classes, 1)
            png.write_colormap(1, colormap)
        return bytes(mem.read())


def kml_overlay(name: str, image: str, box: tuple[float, float, float, float]) -> str:
    """A KML document with one ``GroundOverlay`` of ``image`` over ``box`` (W, S, E, N)."""
    west, south, east, north = box
    title, href = escape(name, quote=False), escape(image, quote=False)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{title}</name><GroundOverlay><name>{title}</name>"
        f"<color>b3ffffff</color><Icon><href>{href}</href></Icon>"
        f"<LatLonBox><north>{north:.7f}</north><south>{south:.7f}</south>"
        f"<east>{east:.7f}</east><west>{west:.7f}</west></LatLonBox>"
        "</GroundOverlay></Document></kml>\n")


def _households(data: Path, cfg: Config, grid: DemSquare, ok: np.ndarray) -> int:
    """Households (of the data folder) on cells where ``ok`` (``grid``: the cells of ``ok``)."""
    import geopandas as gpd

    from coverage.errors import ProblemLog
    from coverage.io.readers import locate_layer, read_layer
    from coverage.schema import LAYERS_BY_KEY

    log = ProblemLog()
    spec = LAYERS_BY_KEY["households"]
    src = locate_layer(data, spec, log)
    frame = read_layer(src, spec, log, cfg) if src is not None else None
    log.raise_if_errors()
    if frame is None or len(frame) == 0:
        return 0
    pts = gpd.GeoDataFrame(frame).to_crs(grid.crs.to_wkt())
    row, col = WorkingGrid(grid.elevation, grid.transform, pts.crs, grid.resolution_m).rowcol(
        pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    r, c = np.rint(row).astype(np.int64), np.rint(col).astype(np.int64)
    inside = (r >= 0) & (r < ok.shape[0]) & (c >= 0) & (c < ok.shape[1])
    hit = np.zeros(len(frame), bool)
    hit[inside] = ok[r[inside], c[inside]]
    return int(pts["households"].to_numpy()[hit].sum())


def run_site_job(req: SiteRequest, cfg: Config, out: Path, data: Path | None = None
                 ) -> SiteResult:
    """Predict one site and write its rasters, overlay and KML into ``out``.

    Raises
    ------
    InputDataError
        The DEM is missing or does not cover the site; the data folder's households layer
        is unusable.
    ModelRangeError
        The engine cannot predict the site.
    """
    crs = utm_crs(req.lon, req.lat)
    (x,), (y,) = rasterio.warp.transform(CRS.from_epsg(4326), crs, [req.lon], [req.lat])
    radius_m = req.radius_km * 1000.0
    threads = cfg.compute.threads or available_cpus()
    grid = read_dem_square(req.dem, crs, x, y, radius_m + 2 * req.resolution_m,
                           req.resolution_m, threads=threads)
    model = cfg.model
    window = engine.site_path_loss(
        np.ascontiguousarray(grid.elevation, np.float32), grid.transform, x, y, req.height_m,
        req.band.frequency_mhz, rx_height_agl_m=cfg.rule.receiver_height_m, radius_m=radius_m,
        delta_n=model.delta_n, model=model.name, pol=POL_VERTICAL,
        hata_environment=model.hata_environment, threads=cfg.compute.threads)
    band = req.band
    radio = site_radio(band, omni=not req.azimuths, tilt_deg=req.tilt_deg)
    pattern = PatternParams(band.h_beamwidth_deg, band.v_beamwidth_deg, band.front_to_back_db,
                            band.side_lobe_v_db)
    rsrp = site_rsrp(grid, window, x, y, req.height_m, req.azimuths, radio, pattern, cfg)
    tf = grid.transform @ Affine.translation(window.col0, window.row0)
    threshold = threshold_dbm(cfg)
    ok = np.isfinite(rsrp) & (rsrp >= threshold)
    area_km2 = float(ok.sum()) * req.resolution_m ** 2 / 1e6
    households = None
    if data is not None:
        sub = DemSquare(grid.elevation[window.slices], tf, crs, req.resolution_m)
        households = _households(data, cfg, sub, ok)
    name = f"{req.band_label} {req.lon:.5f},{req.lat:.5f} {req.height_m:g} m"
    tags = {"site": name, "radius_km": f"{req.radius_km:g}",
            "resolution_m": f"{req.resolution_m:g}", "model": model.name}

    def png_kml() -> tuple[bytes, str]:
        png, box = overlay(rsrp, tf, crs)
        return png, kml_overlay(name, "rsrp.png", box)

    paths = write_site_outputs(out, DemSquare(window.loss_db, tf, crs, req.resolution_m),
                               rsrp, window.loss_db, png_kml, tags, threads=threads)
    reach = float(np.isfinite(rsrp).sum()) * req.resolution_m ** 2 / 1e6
    summary = (f"site {name}: {area_km2:.1f} km² of {reach:.1f} km² within {req.radius_km:g} "
               f"km at RSRP >= {threshold:.1f} dBm"
               + (f", {households} households" if households is not None else "")
               + f"; wrote {out}")
    return SiteResult(paths, threshold, area_km2, households, summary)
