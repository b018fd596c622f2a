"""Files for tiled and distributed runs: the working-DEM file tasks open, and tiled COGs.

Working DEM
-----------
A task gets a :class:`DemFile` (a path and the grid's geometry), never an open dataset. The
file is the working grid's elevation as a raw ``.npy`` array (float32, C order), written once
per run into the cache folder and named by its content, so every task and every re-run uses
the same bytes. :func:`open_grid` maps it read-only into memory (copy-on-write): the engine
is handed the grid in full-grid coordinates, exactly as in an in-process run, and reads only
the pages of the site's window (its influence window); the rest of the file is never read.
This is what keeps distributed results byte-identical to serial ones: cutting the DEM into a
separate window array would shift every fractional coordinate and change the last bits of
the interpolated heights. :func:`read_dem_window` copies one window out when a task wants an
array of its own.

For a DEM larger than memory, :func:`resample_dem_tiled` resamples the source DEM onto the
working grid strip by strip (bilinear, as the in-memory resampling) straight into such a
file, named by the source file's size and time and the grid, so an unchanged source is
resampled once.

Tiled COG
---------
:class:`TiledRasterWriter` assembles a raster from tiles written in any order into a tiled,
compressed GeoTIFF beside the target, then converts it with GDAL's COG driver (the same
settings as :func:`coverage.io.writers.write_geotiff`, so the same array gives the same
bytes) and renames it into place atomically. The writer never holds more than the tile it is
given (GDAL's block cache aside).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from numpy.typing import DTypeLike
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window

from coverage.grid import WorkingGrid
from coverage.io.atomic import atomic_path
from coverage.io.cache import array_digest
from coverage.io.readers import GDAL_STREAM_CACHE_MB, DemSource, working_grid_layout

__all__ = ["DemFile", "TiledRasterSet", "TiledRasterWriter", "gdal_cache_limit", "open_dem",
           "open_grid", "read_dem_window", "resample_dem_tiled", "write_dem_file"]

_BLOCK = 512
"""Block size (cells) of the intermediate GeoTIFF and of the COGs."""

_STRIP_CELLS = 1 << 23
"""Cells (grid or source, whichever is more) per strip of :func:`resample_dem_tiled`."""

_TILED_FORMAT = 2
"""Version of :func:`resample_dem_tiled`'s output, part of its file names' digest."""


@dataclass(frozen=True)
class DemFile:
    """Where the working DEM is and the grid it belongs to (small and picklable).

    Attributes
    ----------
    path : str
        The ``.npy`` file (float32, C order, metres; NaN for nodata).
    shape : (int, int)
        Grid (rows, cols).
    transform : tuple of 6 float
        ``Affine`` coefficients (a, b, c, d, e, f), metres.
    crs_wkt : str
        Working CRS as WKT.
    resolution_m : float
        Cell size (m).
    """

    path: str
    shape: tuple[int, int]
    transform: tuple[float, float, float, float, float, float]
    crs_wkt: str
    resolution_m: float

    @property
    def affine(self) -> Affine:
        """The grid transform."""
        return Affine(*self.transform)


def _dem_file(path: Path, shape: tuple[int, int], transform: Affine, crs: CRS,
              resolution_m: float) -> DemFile:
    crs = crs if isinstance(crs, CRS) else CRS.from_user_input(crs)
    return DemFile(str(path), (int(shape[0]), int(shape[1])),
                   tuple(float(v) for v in list(transform)[:6]),  # type: ignore[arg-type]
                   crs.to_wkt(), float(resolution_m))


def _matches(path: Path, shape: tuple[int, int]) -> bool:
    """True when ``path`` is a complete float32 ``.npy`` array of ``shape``."""
    try:
        arr = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    ok = arr.shape == tuple(shape) and arr.dtype == np.float32 and arr.flags.c_contiguous
    del arr
    return ok


def write_dem_file(grid: WorkingGrid, folder: str | Path) -> DemFile:
    """Write the grid's elevation once into ``folder`` (atomically) and describe it.

    The file is named by the SHA-256 of the elevation and the transform, so an existing
    complete file is reused. A grid already backed by such a file (:func:`open_grid`) is
    described without copying.

    Parameters
    ----------
    grid : WorkingGrid
        The working grid.
    folder : str or Path
        Folder for the file (created when missing); for a remote cluster it must be on a
        file system every worker sees at the same path.

    Returns
    -------
    DemFile
    """
    source = getattr(grid.elevation, "filename", None)
    if source is not None and _matches(Path(source), grid.shape):
        return _dem_file(Path(source), grid.shape, grid.transform, grid.crs, grid.resolution_m)
    elevation = np.ascontiguousarray(grid.elevation, dtype=np.float32)
    digest = array_digest(elevation)[:32]
    geometry = json.dumps([list(grid.transform)[:6], list(grid.shape)])
    tag = array_digest(np.frombuffer(geometry.encode("ascii"), np.uint8))[:8]
    target = Path(folder) / f"dem-{digest}-{tag}.npy"
    if not _matches(target, grid.shape):
        with atomic_path(target) as tmp, tmp.open("wb") as fh:
            np.save(fh, elevation, allow_pickle=False)
    return _dem_file(target, grid.shape, grid.transform, grid.crs, grid.resolution_m)


def open_dem(dem: DemFile, mode: Literal["c", "r"] = "c") -> np.ndarray:
    """The working DEM mapped into memory (pages are read when touched).

    ``mode`` is numpy's ``mmap_mode``: ``"c"`` copy-on-write (default), ``"r"`` read-only.
    """
    arr = np.load(dem.path, mmap_mode=mode)
    if arr.shape != tuple(dem.shape) or arr.dtype != np.float32:
        raise ValueError(f"{dem.path} holds a {arr.dtype} array {arr.shape}, expected float32 "
                         f"{tuple(dem.shape)}; delete it and re-run")
    return arr


def open_grid(dem: DemFile) -> WorkingGrid:
    """A :class:`WorkingGrid` whose elevation is the mapped file (see :func:`open_dem`)."""
    return WorkingGrid(open_dem(dem), dem.affine, CRS.from_wkt(dem.crs_wkt), dem.resolution_m)


def read_dem_window(dem: DemFile, rows: slice, cols: slice) -> np.ndarray:
    """Copy of the elevation (float32, m) on a window of the working grid."""
    arr = open_dem(dem)
    try:
        return np.array(arr[rows, cols], dtype=np.float32, copy=True)
    finally:
        del arr


def resample_dem_tiled(source: str | Path, crs: CRS, resolution_m: float,
                       folder: str | Path | None = None, strip_rows: int | None = None
                       ) -> DemFile:
    """Resample a DEM file onto the working grid strip by strip, into a working-DEM file.

    The grid is laid out as :func:`coverage.io.readers.resample_dem` lays it out (the
    source's extent in ``crs``, edges on multiples of the resolution) and filled the same
    way: for each strip of rows, the source window it needs (plus a margin for the
    bilinear kernel) is read, its nodata and values at or below -1000 m become NaN, and it
    is reprojected bilinearly onto the strip, with GDAL's kernel scale fixed to the whole
    grid's. Only one strip and its source window are in memory at a time (the window is
    taller than the strip where the working CRS is rotated against the source's: about
    ``cols × tan(rotation)`` extra rows), and GDAL's block cache is limited to
    :data:`coverage.io.readers.GDAL_STREAM_CACHE_MB` meanwhile.

    The file name carries a digest of the source file's size and modification time, the
    working CRS, the resolution, the grid layout and the strip height: an existing complete
    file with that name is reused as it is, a changed source gets a new file. The file is
    written atomically.

    Notes
    -----
    GDAL's warper approximates the coordinate transformation per chunk it warps. The strips
    span the grid's full width, so they give the same values as a one-piece
    :func:`coverage.io.readers.resample_dem`, except where GDAL splits that one further
    (chunks mostly outside the source's coverage, near its edges): there values can differ
    by a fraction of a pixel's relief and a border cell can be NaN in one and not in the
    other. A run uses one or the other, never both.

    Parameters
    ----------
    source : str or Path
        The DEM (any raster GDAL reads, with a CRS, north-up).
    crs : pyproj.CRS
        Working CRS (projected, metres).
    resolution_m : float
        Cell size (m).
    folder : str or Path, optional
        Folder of the output file (created when missing). None: a new temporary folder
        (``tempfile.mkdtemp(prefix="coverage-dem-")``) that is not removed afterwards; it
        belongs to the caller.
    strip_rows : int, optional
        Rows resampled at a time (default: about 8 M grid or source cells per strip).

    Returns
    -------
    DemFile
    """
    res = float(resolution_m)
    crs = crs if isinstance(crs, CRS) else CRS.from_user_input(crs)
    source = Path(source)
    stat = source.stat()
    with rasterio.Env(GDAL_CACHEMAX=GDAL_STREAM_CACHE_MB * 2**20), rasterio.open(source) as src:
        if src.crs is None:
            raise ValueError(f"{source} has no CRS")
        src_crs = CRS.from_user_input(src.crs.to_wkt())
        described = DemSource(source.name, None, src.transform, src_crs, path=source,
                              shape=(src.height, src.width))
        transform, rows, cols = working_grid_layout(src_crs, described.bounds, crs, res)
        if strip_rows is None:
            ratio = max(1.0, src.width * src.height / (rows * cols))
            strip_rows = int(_STRIP_CELLS / (cols * ratio))
        strip_rows = max(1, min(int(strip_rows), rows))
        key = json.dumps([_TILED_FORMAT, stat.st_size, stat.st_mtime_ns, crs.to_wkt(), res,
                          list(transform)[:6], rows, cols, strip_rows])
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        if folder is None:
            folder = tempfile.mkdtemp(prefix="coverage-dem-")
        target = Path(folder) / f"dem-tiled-{source.stem}-{rows}x{cols}-{res:g}m-{digest}.npy"
        if _matches(target, (rows, cols)):
            return _dem_file(target, (rows, cols), transform, crs, res)
        src_wkt, dst_wkt = src_crs.to_wkt(), crs.to_wkt()
        # GDAL sizes the bilinear kernel by the destination/source pixel ratio of each chunk
        # it warps; fixing the ratio of the whole grid (what a one-piece warp uses) makes the
        # strips agree with each other and with readers.resample_dem.
        scale = {"XSCALE": repr(cols / src.width), "YSCALE": repr(rows / src.height)}
        with atomic_path(target) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                            shape=(rows, cols))
            for r0 in range(0, rows, strip_rows):
                n = min(strip_rows, rows - r0)
                out[r0:r0 + n] = _resample_strip(
                    src, src_wkt, dst_wkt, transform @ Affine.translation(0, r0), n, cols,
                    scale)
            out.flush()
            del out
    _prune_older(target, f"dem-tiled-{source.stem}-*-{res:g}m-*.npy")
    return _dem_file(target, (rows, cols), transform, crs, res)


def _prune_older(target: Path, pattern: str) -> None:
    """Remove the files of an earlier version of the same source and resolution.

    A source that changed (new time stamp or size) makes its old working DEM useless; this
    keeps the cache folder from growing by a working DEM per edit. A file still mapped by
    another process stays readable there (POSIX); one that cannot be removed is left.
    """
    for older in target.parent.glob(pattern):
        if older != target:
            with contextlib.suppress(OSError):
                older.unlink()


def _resample_strip(src: rasterio.io.DatasetReader, src_wkt: str, dst_wkt: str,
                    strip_transform: Affine, n: int, cols: int, scale: dict[str, str]
                    ) -> np.ndarray:
    """One strip of ``n`` grid rows (float32 m, NaN: nodata or no coverage)."""
    values = np.full((n, cols), np.nan, dtype=np.float32)
    window = _source_window(src, src_wkt, dst_wkt, strip_transform, n, cols)
    if window is None:
        return values
    band = src.read(1, window=window, masked=True, out_dtype="float32")
    data = np.ma.filled(band, np.nan)
    del band
    data[data <= -1000.0] = np.nan
    reproject(
        source=data, destination=values,
        src_transform=src.window_transform(window), src_crs=src_wkt, src_nodata=np.nan,
        dst_transform=strip_transform, dst_crs=dst_wkt, dst_nodata=np.nan,
        resampling=Resampling.bilinear, num_threads=1, **scale,
    )
    values[values <= -1000.0] = np.nan
    return values


def _source_window(src: rasterio.io.DatasetReader, src_wkt: str, dst_wkt: str,
                   strip_transform: Affine, n: int, cols: int) -> Window | None:
    """The source pixels a strip of the grid needs (with a kernel margin); None: none."""
    left, top = strip_transform.c, strip_transform.f
    right, bottom = left + cols * strip_transform.a, top + n * strip_transform.e
    full = Window(0, 0, src.width, src.height)
    try:
        xmin, ymin, xmax, ymax = transform_bounds(dst_wkt, src_wkt, left, bottom, right, top,
                                                  densify_pts=21)
    except Exception:  # a strip outside the projection's domain: let GDAL sort it out
        return full
    if not np.all(np.isfinite([xmin, ymin, xmax, ymax])):
        return full
    inverse = ~src.transform
    corners = [inverse @ (x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    cs = [c for c, _ in corners]
    rs = [r for _, r in corners]
    # bilinear reads one source pixel around each sample, more when shrinking the source
    pad_c = int(np.ceil(max(1.0, (max(cs) - min(cs)) / cols))) + 2
    pad_r = int(np.ceil(max(1.0, (max(rs) - min(rs)) / n))) + 2
    c0 = max(0, int(np.floor(min(cs))) - pad_c)
    r0 = max(0, int(np.floor(min(rs))) - pad_r)
    c1 = min(src.width, int(np.ceil(max(cs))) + pad_c)
    r1 = min(src.height, int(np.ceil(max(rs))) + pad_r)
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


GDAL_WRITE_CACHE_MB = 128
"""GDAL block cache (MB) while tiled rasters are written (:func:`gdal_cache_limit`)."""


@contextlib.contextmanager
def gdal_cache_limit(megabytes: int = GDAL_WRITE_CACHE_MB) -> Iterator[None]:
    """Cap GDAL's block cache while the block runs (it defaults to 5 % of the machine's RAM).

    Blocks written to an open GeoTIFF wait in that cache until it is full, so without a cap
    the writing process grows with the region instead of staying at a few tiles.
    """
    with rasterio.Env(GDAL_CACHEMAX=int(megabytes) * 2**20):
        yield


class TiledRasterWriter:
    """Write a single-band raster tile by tile, then publish it as a COG (atomically).

    Use as a context manager; nothing appears at ``target`` unless the block ends without an
    exception. Tiles may come in any order; every cell should be written once.

    Parameters
    ----------
    target : str or Path
        The ``.tif`` to produce.
    shape : (int, int)
        Raster (rows, cols).
    dtype : numpy dtype
        Cell type.
    transform : Affine
        Pixel-to-CRS transform.
    crs : CRS or str
        Coordinate reference system.
    nodata : number or None
        Nodata value recorded in the file.
    tags : mapping, optional
        Metadata tags.
    predictor : int, optional
        DEFLATE predictor (2 integers, 3 floats; from the dtype when None).
    """

    def __init__(self, target: str | Path, shape: tuple[int, int], dtype: DTypeLike,
                 transform: Affine, crs: CRS | str, nodata: float | int | None,
                 tags: Mapping[str, str] | None = None, predictor: int | None = None):
        self.target = Path(target)
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self.transform = transform
        self.crs = crs.to_wkt() if isinstance(crs, CRS) else crs
        self.nodata = nodata
        self.tags = dict(tags or {})
        self.predictor = predictor if predictor is not None else (
            3 if np.issubdtype(self.dtype, np.floating) else 2)
        self._tmp: Path | None = None
        self._ds: rasterio.io.DatasetWriter | None = None

    def __enter__(self) -> TiledRasterWriter:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.target.stem}.", suffix=".part.tif",
                                    dir=self.target.parent)
        os.close(fd)
        self._tmp = Path(name)
        big = self.shape[0] * self.shape[1] * self.dtype.itemsize > 2**31
        self._ds = rasterio.open(
            self._tmp, "w", driver="GTiff", count=1, height=self.shape[0],
            width=self.shape[1], dtype=self.dtype.name, crs=self.crs, transform=self.transform,
            nodata=self.nodata, tiled=True, blockxsize=_BLOCK, blockysize=_BLOCK,
            compress="deflate", zlevel=1, predictor=self.predictor,
            BIGTIFF="YES" if big else "NO")
        if self.tags:
            self._ds.update_tags(**self.tags)
        return self

    def write(self, array: np.ndarray, row0: int, col0: int) -> None:
        """Write ``array`` with its first cell at grid (``row0``, ``col0``)."""
        if self._ds is None:
            raise RuntimeError("TiledRasterWriter.write outside its with-block")
        arr = np.asarray(array, dtype=self.dtype)
        rows, cols = arr.shape
        if row0 < 0 or col0 < 0 or row0 + rows > self.shape[0] or col0 + cols > self.shape[1]:
            raise ValueError(f"tile at ({row0}, {col0}) of {arr.shape} is outside the raster "
                             f"{self.shape}")
        self._ds.write(arr, 1, window=Window(col0, row0, cols, rows))

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.close()
            if exc_type is None:
                self.publish()
        finally:
            self.discard()

    def close(self) -> None:
        """Close the tiled working file (every tile written)."""
        if self._ds is not None:
            self._ds.close()
            self._ds = None

    def publish(self) -> None:
        """Convert the closed working file into the COG at ``target`` (atomically)."""
        if self._tmp is None or self._ds is not None:
            raise RuntimeError("TiledRasterWriter.publish before close, or after discard")
        big = self.shape[0] * self.shape[1] * self.dtype.itemsize > 2**31
        extra = {"BIGTIFF": "IF_SAFER"} if big else {}
        with atomic_path(self.target) as out:
            rasterio.shutil.copy(
                str(self._tmp), out, driver="COG", COMPRESS="DEFLATE",
                PREDICTOR=str(self.predictor), BLOCKSIZE=str(_BLOCK),
                OVERVIEW_RESAMPLING="AVERAGE", NUM_THREADS="1", **extra)

    def discard(self) -> None:
        """Remove the working file (after publishing, or instead of it)."""
        self.close()
        if self._tmp is not None:
            for leftover in (self._tmp, Path(str(self._tmp) + ".aux.xml")):
                if leftover.exists():
                    leftover.unlink()
            self._tmp = None


class TiledRasterSet:
    """Several :class:`TiledRasterWriter` published together, their COGs converted in parallel.

    The conversion to COG comes after the last tile and reads the whole raster once; with
    seven rasters it is the tail of a province run. Each conversion uses one GDAL thread (so
    the bytes do not depend on the thread count) and the rasters are converted side by side.
    Nothing is published when the block ends with an exception.

    Parameters
    ----------
    threads : int, optional
        Conversions at a time (default: the machine's processors, at most the rasters).

    Examples
    --------
    >>> with TiledRasterSet() as rasters:                       # doctest: +SKIP
    ...     a = rasters.add(TiledRasterWriter("a.tif", ...))
    ...     a.write(tile, 0, 0)
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self.writers: list[TiledRasterWriter] = []

    def add(self, writer: TiledRasterWriter) -> TiledRasterWriter:
        """Open ``writer`` in the set and return it."""
        self.writers.append(writer.__enter__())
        return writer

    def __enter__(self) -> TiledRasterSet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        try:
            for writer in self.writers:
                writer.close()
            if exc_type is None and self.writers:
                n = self.threads or min(len(self.writers), os.cpu_count() or 1)
                with ThreadPoolExecutor(max_workers=max(1, n)) as pool:
                    for _ in pool.map(TiledRasterWriter.publish, self.writers):
                        pass
        finally:
            for writer in self.writers:
                writer.discard()
