"""Files of the one-site job (``coverage-planner site``): its DEM window in, its rasters out.

The DEM is one raster file or a folder of tiles, each in any CRS (SRTM ``.hgt``, GeoTIFF ...):
only the square around the site is resampled (bilinear) onto the job's working grid. Tiles of
one CRS are first mosaicked (:func:`coverage.io.terrain.mosaic_vrt`), so there is no seam
between them; tiles of different CRSs are resampled one by one, the first with data winning.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS

from coverage.errors import InputDataError, Problem, ProblemLog
from coverage.io.atomic import atomic_path
from coverage.io.terrain import mosaic_vrt, terrain_files
from coverage.io.writers import write_geotiff


@dataclass(frozen=True, eq=False)
class DemSquare:
    """The DEM on the one-site job's working grid (the attributes of
    :class:`coverage.grid.WorkingGrid` the job needs, with GDAL's CRS: the job never loads
    pyproj, whose import and PROJ database cost it ~0.1 s).

    Attributes
    ----------
    elevation : ndarray, float32 (rows, cols)
        Metres above sea level; NaN where no tile has data.
    transform : Affine
        North-up, square cells of ``resolution_m``.
    crs : rasterio.crs.CRS
        Working CRS (projected, metres).
    resolution_m : float
        Cell size (m).
    """

    elevation: np.ndarray
    transform: Affine
    crs: CRS
    resolution_m: float


def _dem_sources(dem: Path) -> list[Path]:
    if dem.is_dir():
        tiles = terrain_files(dem)
        if not tiles:
            raise InputDataError([Problem(
                file=str(dem), message="the DEM folder holds no raster file",
                fix="give a DEM file, or a folder of tiles (.tif, .hgt, ...)")])
        if len(tiles) > 1:
            log = ProblemLog()
            with contextlib.suppress(rasterio.errors.RasterioError):
                crss = set()
                for tile in tiles:
                    with rasterio.open(tile) as src:
                        crss.add(src.crs)
                if len(crss) == 1 and None not in crss:
                    vrt = mosaic_vrt(tiles, str(dem), log)
                    if vrt is not None:
                        return [vrt]
        return tiles
    if not dem.is_file():
        raise InputDataError([Problem(file=str(dem), message="the DEM file does not exist",
                                      fix="give the path of a DEM file or folder of tiles")])
    return [dem]


def read_dem_square(dem: Path, crs: CRS, x: float, y: float, half_m: float,
                    resolution_m: float, threads: int = 1) -> DemSquare:
    """The DEM on a square working grid centred on (x, y).

    Parameters
    ----------
    dem : Path
        A DEM file or a folder of tiles (any CRS; elevation in metres).
    crs : rasterio.crs.CRS
        Working CRS (projected, metres).
    x, y : float
        Centre (m, working CRS).
    half_m : float
        Half the side of the square (m).
    resolution_m : float
        Cell size (m).
    threads : int
        Threads of the resampling (GDAL's warper; the values do not depend on it).

    Returns
    -------
    DemSquare
        Elevation (float32, NaN where no tile has data).

    Raises
    ------
    InputDataError
        The DEM is missing, unreadable or does not cover the site.
    """
    n = 2 * math.ceil(half_m / resolution_m) + 1
    x0 = (math.floor(x / resolution_m) - n // 2) * resolution_m
    y1 = (math.floor(y / resolution_m) + n // 2 + 1) * resolution_m
    transform = Affine(resolution_m, 0.0, x0, 0.0, -resolution_m, y1)
    elevation = np.full((n, n), np.nan, np.float32)
    dst_crs = crs
    bounds = (x0, y1 - n * resolution_m, x0 + n * resolution_m, y1)
    for path in _dem_sources(dem):
        try:
            with rasterio.open(path) as src:
                if src.crs is None:
                    raise InputDataError([Problem(
                        file=str(path), message="the DEM has no coordinate reference system",
                        fix="add the CRS (e.g. gdal_edit.py -a_srs EPSG:4326) or use a GeoTIFF")])
                left, bottom, right, top = rasterio.warp.transform_bounds(dst_crs, src.crs,
                                                                          *bounds)
                sb = src.bounds
                if right < sb.left or left > sb.right or top < sb.bottom or bottom > sb.top:
                    continue
                part = np.full((n, n), np.nan, np.float32)
                rasterio.warp.reproject(
                    rasterio.band(src, 1), part, src_nodata=src.nodata, dst_transform=transform,
                    dst_crs=dst_crs, dst_nodata=np.nan,
                    resampling=rasterio.warp.Resampling.bilinear, num_threads=max(1, threads))
        except rasterio.errors.RasterioIOError as exc:
            raise InputDataError([Problem(file=str(path), message=f"unreadable DEM: {exc}",
                                          fix="give a GeoTIFF or SRTM .hgt file")]) from None
        fill = np.isnan(elevation) & np.isfinite(part)
        elevation[fill] = part[fill]
    centre = elevation[n // 2, n // 2]
    if not np.isfinite(centre):
        raise InputDataError([Problem(
            file=str(dem), message="the DEM does not cover the site (no elevation there)",
            fix="give the DEM tile(s) around the site, or check --lon/--lat and --datum")])
    return DemSquare(elevation, transform, crs, resolution_m)


def write_site_outputs(out: Path, grid: DemSquare, rsrp: np.ndarray, loss: np.ndarray,
                       overlay: Callable[[], tuple[bytes, str]], tags: dict[str, str],
                       threads: int = 1) -> list[Path]:
    """Write ``rsrp.tif`` and ``loss.tif`` (float32 COG, NaN nodata), ``rsrp.png`` and
    ``rsrp.kml`` into ``out`` (created), each atomically; returns the paths.

    ``overlay()`` gives the PNG bytes and the KML text; with ``threads`` >= 2 it runs while
    two worker threads write the rasters (GDAL compresses without holding the GIL).
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "rsrp.tif", out / "loss.tif", out / "rsrp.png", out / "rsrp.kml"]
    # DEFLATE level 1: a third less CPU than the default level for files ~3 % larger (the
    # user waits for this command; the values are the same)
    wkt = grid.crs.to_wkt()

    def write(path: Path, values: np.ndarray) -> None:
        write_geotiff(path, values.astype(np.float32, copy=False), grid.transform, wkt,
                      nodata=float("nan"), tags=tags, level=1)

    jobs = ((paths[0], rsrp), (paths[1], loss))
    if threads >= 2:
        with ThreadPoolExecutor(max_workers=2) as pool:
            pending = [pool.submit(write, path, values) for path, values in jobs]
            png, kml = overlay()
            for future in pending:
                future.result()
    else:
        for path, values in jobs:
            write(path, values)
        png, kml = overlay()
    with atomic_path(paths[2]) as tmp:
        tmp.write_bytes(png)
    with atomic_path(paths[3]) as tmp:
        tmp.write_text(kml, encoding="utf-8")
    return paths
