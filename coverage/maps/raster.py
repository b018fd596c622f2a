"""RSRP rasters as map overlays: reproject to web mercator, classify, encode as PNG.

Leaflet stretches an image overlay linearly in web-mercator metres between its corner
coordinates, so the raster is first warped to EPSG:3857 (``rasterio.warp``, averaged
when downsampled to at most ``max_px`` pixels on the long side). For a GCJ-02 basemap it
is then resampled once more onto the shifted frame, so every pixel lands where the
basemap draws that place. Classes follow the colour steps at −85/−95/−105/−115 dBm; the
PNG is a small palette image, transparent where there is no signal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from affine import Affine
from PIL import Image
from pyproj import CRS, Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject

from coverage.maps.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

MERCATOR = CRS.from_epsg(3857)


def _xy(tf: Affine, cols: np.ndarray | float, rows: np.ndarray | float
        ) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates of (fractional) pixel positions under affine ``tf``."""
    cols = np.asarray(cols, float)
    rows = np.asarray(rows, float)
    return tf.a * cols + tf.b * rows + tf.c, tf.d * cols + tf.e * rows + tf.f
RSRP_STEPS_DBM: tuple[float, ...] = (-85.0, -95.0, -105.0, -115.0)
"""Class boundaries of the RSRP overlays (dBm), strongest first."""
RSRP_COLORS: tuple[str, ...] = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#f2f2f2")
"""Colour of each class: ≥ −85, −95…−85, −105…−95, −115…−105, < −115 dBm.

One hue from dark (strong) to pale (weak): readable with any colour vision, and no class
shares a colour with the vector classes drawn over it (group and point status, works,
verdicts), which use the Okabe–Ito colours."""


def rsrp_class_labels() -> list[str]:
    """Legend labels of the RSRP classes (dBm), strongest first."""
    s = RSRP_STEPS_DBM
    return [f"≥ {s[0]:g}"] + [f"{s[i + 1]:g} … {s[i]:g}" for i in range(len(s) - 1)] + [
        f"< {s[-1]:g}"]


def classify_rsrp(rsrp: np.ndarray) -> np.ndarray:
    """Class index per cell: 0 no signal (NaN), 1 ≥ −85 dBm … 5 < −115 dBm (uint8)."""
    values = np.asarray(rsrp, dtype=np.float64)
    out = np.zeros(values.shape, np.uint8)
    finite = np.isfinite(values)
    # number of steps strictly above the value: 0 for ≥ −85, 4 for < −115
    below = np.zeros(values.shape, np.uint8)
    for step in RSRP_STEPS_DBM:
        below += (finite & (values < step)).astype(np.uint8)
    out[finite] = below[finite] + 1
    return out


def palette_png(classes: np.ndarray, colors: tuple[str, ...]) -> bytes:
    """A palette PNG: class 0 transparent, class k drawn in ``colors[k - 1]``."""
    img = Image.fromarray(np.ascontiguousarray(classes, dtype=np.uint8), mode="P")
    palette = [0, 0, 0]
    for c in colors:
        palette += [int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)]
    img.putpalette(palette + [0, 0, 0] * (256 - len(palette) // 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=0, optimize=False, compress_level=6)
    return buf.getvalue()


def to_mercator(raster: np.ndarray, transform: Affine, crs: CRS, max_px: int = 1500
                ) -> tuple[np.ndarray, Affine]:
    """Warp a float raster (NaN = nodata) to EPSG:3857, at most ``max_px`` on the long side.

    Returns
    -------
    (ndarray, Affine)
        float32 raster in web mercator (NaN where no data) and its transform.
    """
    stack, dst_tf = to_mercator_stack(raster[np.newaxis], transform, crs, max_px)
    return stack[0], dst_tf


_WARP_MEMORY_MB = 512
"""Working memory of a warp (MB): the demo's five RSRP rasters and their overlays in one
chunk, so each band is warped exactly as alone (GDAL's chunking of a larger warp would move
the averaging windows at chunk edges)."""


def to_mercator_stack(rasters: np.ndarray, transform: Affine, crs: CRS, max_px: int = 1500
                      ) -> tuple[np.ndarray, Affine]:
    """:func:`to_mercator` of several rasters of one grid (shape (bands, rows, cols)) in one
    warp: the coordinate transformation is worked out once for all bands, and each band's
    NaN is its own nodata (GDAL's ``UNIFIED_SRC_NODATA=NO``), so each band comes out as
    warped alone.

    Returns
    -------
    (ndarray, Affine)
        float32 rasters in web mercator, shape (bands, rows, cols), and their transform.
    """
    _, h, w = rasters.shape
    left, top = _xy(transform, 0, 0)
    right, bottom = _xy(transform, w, h)
    dst_tf, dst_w, dst_h = calculate_default_transform(
        crs, MERCATOR, w, h, left=min(left, right), bottom=min(top, bottom),
        right=max(left, right), top=max(top, bottom))
    scale = max(dst_w, dst_h) / float(max_px)
    resampling = Resampling.nearest
    if scale > 1.0:
        dst_tf = dst_tf @ Affine.scale(scale)
        dst_w = max(1, int(np.ceil(dst_w / scale)))
        dst_h = max(1, int(np.ceil(dst_h / scale)))
        resampling = Resampling.average
    out = np.full((rasters.shape[0], dst_h, dst_w), np.nan, np.float32)
    reproject(source=np.ascontiguousarray(rasters, np.float32), destination=out,
              src_transform=transform, src_crs=crs, src_nodata=np.nan, dst_transform=dst_tf,
              dst_crs=MERCATOR, dst_nodata=np.nan, resampling=resampling, num_threads=1,
              warp_mem_limit=_WARP_MEMORY_MB, UNIFIED_SRC_NODATA="NO")
    return out, dst_tf


_TO_LONLAT = Transformer.from_crs(MERCATOR, "EPSG:4326", always_xy=True)
_TO_MERC = Transformer.from_crs("EPSG:4326", MERCATOR, always_xy=True)


def shift_to_gcj02(raster: np.ndarray, transform: Affine) -> tuple[np.ndarray, Affine]:
    """Resample a web-mercator raster onto the GCJ-02-shifted frame (nearest neighbour).

    The output covers the bounding box of the shifted input at the same pixel size; each
    output pixel takes the input pixel at the WGS84 place whose GCJ-02 position it is.
    """
    h, w = raster.shape
    xs = np.array([0, w, 0, w], float)
    ys = np.array([0, 0, h, h], float)
    cx, cy = _xy(transform, xs, ys)
    lon, lat = _TO_LONLAT.transform(cx, cy)
    glon, glat = wgs84_to_gcj02(lon, lat)
    gx, gy = _TO_MERC.transform(glon, glat)
    res_x, res_y = transform.a, -transform.e
    x0, y1 = float(np.min(gx)), float(np.max(gy))
    out_w = max(1, int(np.ceil((np.max(gx) - x0) / res_x)))
    out_h = max(1, int(np.ceil((y1 - np.min(gy)) / res_y)))
    out_tf = Affine(res_x, 0.0, x0, 0.0, -res_y, y1)
    # positions of output pixel centres, then back to WGS84 mercator; the offset is smooth,
    # so it is solved on a coarse lattice and interpolated bilinearly between knots
    step = 16
    kc = np.unique(np.append(np.arange(0, out_w, step), out_w - 1)).astype(float)
    kr = np.unique(np.append(np.arange(0, out_h, step), out_h - 1)).astype(float)
    kcc, krr = np.meshgrid(kc + 0.5, kr + 0.5)
    mx, my = _xy(out_tf, kcc, krr)
    klon, klat = _TO_LONLAT.transform(mx, my)
    wlon, wlat = gcj02_to_wgs84(klon, klat)
    sx, sy = _TO_MERC.transform(wlon, wlat)
    dx, dy = sx - mx, sy - my  # mercator metres to move back, at each knot
    cols = np.arange(out_w, dtype=float)
    rows = np.arange(out_h, dtype=float)
    dx_full = _bilinear(dx, kr, kc, rows, cols)
    dy_full = _bilinear(dy, kr, kc, rows, cols)
    ccc, rrr = np.meshgrid(cols + 0.5, rows + 0.5)
    px, py = _xy(out_tf, ccc, rrr)
    src_c, src_r = _xy(~transform, px + dx_full, py + dy_full)
    src_c = np.floor(src_c).astype(np.int64)
    src_r = np.floor(src_r).astype(np.int64)
    ok = (src_c >= 0) & (src_c < w) & (src_r >= 0) & (src_r < h)
    out = np.full((out_h, out_w), np.nan, np.float32)
    out[ok] = raster[src_r[ok], src_c[ok]]
    return out, out_tf


def _bilinear(values: np.ndarray, kr: np.ndarray, kc: np.ndarray, rows: np.ndarray,
              cols: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of knot ``values`` (len(kr), len(kc)) onto rows × cols."""
    tmp = np.empty((len(kr), len(cols)))
    for i in range(len(kr)):
        tmp[i] = np.interp(cols, kc, values[i])
    out = np.empty((len(rows), len(cols)))
    for j in range(len(cols)):
        out[:, j] = np.interp(rows, kr, tmp[:, j])
    return out


@dataclass(frozen=True)
class Overlay:
    """A classified raster ready for Leaflet: PNG bytes and (south, west), (north, east)."""

    png: bytes
    bounds: tuple[tuple[float, float], tuple[float, float]]
    shape: tuple[int, int]
    classes: np.ndarray


def rsrp_overlay(rsrp: np.ndarray, transform: Affine, crs: CRS, datum: str = "wgs84",
                 max_px: int = 1500) -> Overlay:
    """Warp, classify and encode one RSRP raster (dBm, NaN = no signal).

    Parameters
    ----------
    rsrp : ndarray
        Best-server RSRP in dBm on the working grid.
    transform, crs
        The working grid's transform and CRS.
    datum : str
        ``wgs84`` or ``gcj02`` (the basemap's datum).
    max_px : int
        Longest side of the overlay in pixels.

    Returns
    -------
    Overlay
    """
    merc, tf = to_mercator(rsrp, transform, crs, max_px)
    return mercator_overlay(merc, tf, datum)


def mercator_overlay(merc: np.ndarray, tf: Affine, datum: str = "wgs84") -> Overlay:
    """Classify and encode an RSRP raster already in web mercator (:func:`rsrp_overlay`)."""
    if datum == "gcj02":
        merc, tf = shift_to_gcj02(merc, tf)
    classes = classify_rsrp(merc)
    h, w = classes.shape
    west, north = _xy(tf, 0, 0)
    east, south = _xy(tf, w, h)
    lons, lats = _TO_LONLAT.transform(np.array([west, east]), np.array([south, north]))
    bounds = ((round(float(lats[0]), 7), round(float(lons[0]), 7)),
              (round(float(lats[1]), 7), round(float(lons[1]), 7)))
    return Overlay(png=palette_png(classes, RSRP_COLORS), bounds=bounds, shape=(h, w),
                   classes=classes)


__all__ = ["RSRP_COLORS", "RSRP_STEPS_DBM", "Overlay", "classify_rsrp", "mercator_overlay",
           "palette_png", "rsrp_class_labels", "rsrp_overlay", "shift_to_gcj02", "to_mercator",
           "to_mercator_stack"]
