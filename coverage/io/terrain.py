"""Terrain as it comes: one GeoTIFF of any name, or tiles (.hgt, .tif) mosaicked by a VRT.

``data/terrain/`` may hold ``dem.tif`` (the schema name), one GeoTIFF under any other name
(an ASTER or SRTM download keeps its own), or a set of tiles (SRTM ``N30E116.hgt``,
GeoTIFF tiles). Tiles are mosaicked through a GDAL VRT (an XML file that only references
them), so no tile is copied or read whole: the readers then window into the mosaic as into
any GeoTIFF. The VRT is written to a per-user temporary folder, named by the hash of its
content (the same tiles give the same file); it never goes into the data folder.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np
import rasterio
import rasterio.errors

from coverage.errors import ProblemLog
from coverage.io.atomic import write_text_atomic

RASTER_EXTENSIONS: tuple[str, ...] = (".tif", ".tiff", ".hgt")
"""Terrain files read (GeoTIFF, SRTM height tiles)."""

MOSAIC_LABELS: dict[Path, str] = {}
"""VRT path → how messages name the mosaic (``terrain/（3 幅分幅拼接）``)."""


def vrt_folder() -> Path:
    """Where mosaic VRTs are written (a per-user temporary folder)."""
    base = Path(os.environ.get("COVERAGE_VRT_DIR") or
                Path(tempfile.gettempdir()) / f"coverage-planner-vrt-{os.getuid()}")
    base.mkdir(parents=True, exist_ok=True)
    return base


def terrain_files(folder: Path) -> list[Path]:
    """Raster files of the terrain folder (sorted by name)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in RASTER_EXTENSIONS)


def mosaic_vrt(tiles: list[Path], label: str, log: ProblemLog) -> Path | None:
    """Write a VRT mosaicking ``tiles``; None (with an error logged) when they do not fit.

    Tiles must share one CRS; the mosaic takes the finest pixel size, float32 elevation
    and nodata −32768 (SRTM's void value). Overlapping edges (SRTM tiles share a row and a
    column) take the first tile with data.

    Parameters
    ----------
    tiles : list of Path
        The tile files.
    label : str
        How messages name the terrain folder.
    log : ProblemLog
        Receives the problems.
    """
    from xml.sax.saxutils import escape  # imports ssl: only when tiles are mosaicked

    infos = []
    for tile in tiles:
        try:
            with rasterio.open(tile) as ds:
                if ds.crs is None:
                    log.add(f"{label}/{tile.name}", "分幅没有坐标参考系 (CRS)",
                            "为该分幅设置 CRS（如 gdal_edit.py -a_srs EPSG:4326）")
                    return None
                infos.append((tile, ds.crs.to_wkt(), ds.transform, ds.width, ds.height,
                              ds.nodatavals[0]))
        except rasterio.errors.RasterioError as exc:
            log.add(f"{label}/{tile.name}", f"无法读取该地形分幅（{exc}）",
                    "删除损坏的分幅或重新下载")
            return None
    crss = {wkt for _, wkt, *_ in infos}
    if len(crss) > 1:
        log.add(label, "地形分幅的坐标参考系不一致：" + "、".join(t.name for t, *_ in infos),
                "把所有分幅转换到同一 CRS（gdalwarp -t_srs ...）后再放入 terrain/")
        return None
    res_x = min(abs(tr.a) for _, _, tr, *_ in infos)
    res_y = min(abs(tr.e) for _, _, tr, *_ in infos)
    left = min(tr.c for _, _, tr, *_ in infos)
    top = max(tr.f for _, _, tr, *_ in infos)
    right = max(tr.c + tr.a * w for _, _, tr, w, _, _ in infos)
    bottom = min(tr.f + tr.e * h for _, _, tr, _, h, _ in infos)
    width = round((right - left) / res_x)
    height = round((top - bottom) / res_y)
    sources = []
    for tile, _, tr, w, h, nodata in infos:
        x_off = (tr.c - left) / res_x
        y_off = (top - tr.f) / res_y
        nod = f"<NODATA>{nodata:g}</NODATA>" if nodata is not None else ""
        sources.append(
            "    <ComplexSource>\n"
            f"      <SourceFilename relativeToVRT=\"0\">{escape(str(tile.resolve()))}"
            "</SourceFilename>\n"
            "      <SourceBand>1</SourceBand>\n"
            f"      <SrcRect xOff=\"0\" yOff=\"0\" xSize=\"{w}\" ySize=\"{h}\"/>\n"
            f"      <DstRect xOff=\"{x_off:.6f}\" yOff=\"{y_off:.6f}\" "
            f"xSize=\"{w * abs(tr.a) / res_x:.6f}\" ySize=\"{h * abs(tr.e) / res_y:.6f}\"/>\n"
            f"      {nod}\n"
            "    </ComplexSource>\n")
    xml = (f"<VRTDataset rasterXSize=\"{width}\" rasterYSize=\"{height}\">\n"
           f"  <SRS>{escape(next(iter(crss)))}</SRS>\n"
           f"  <GeoTransform>{left!r}, {res_x!r}, 0.0, {top!r}, 0.0, {-res_y!r}</GeoTransform>\n"
           "  <VRTRasterBand dataType=\"Float32\" band=\"1\">\n"
           "    <NoDataValue>-32768</NoDataValue>\n"
           + "".join(sources) + "  </VRTRasterBand>\n</VRTDataset>\n")
    digest = hashlib.sha256(xml.encode("utf-8")).hexdigest()[:20]
    path = vrt_folder() / f"mosaic-{digest}.vrt"
    if not path.is_file():
        write_text_atomic(path, xml)
    MOSAIC_LABELS[path] = f"{label}（{len(tiles)} 幅分幅拼接）"
    return path


def locate_terrain(data_dir: Path, dem_path: str, log: ProblemLog) -> Path | None:
    """The DEM to read: the schema's file, the only GeoTIFF, or a mosaic of the tiles.

    Logs an error naming what the terrain folder holds when none of these applies.
    """
    main = data_dir / dem_path
    for ext in (".tif", ".tiff"):
        cand = main.with_suffix(ext)
        if cand.is_file():
            return cand
    folder = main.parent
    label = folder.relative_to(data_dir).as_posix() if folder.is_relative_to(data_dir) \
        else folder.as_posix()
    rasters = terrain_files(folder)
    if len(rasters) == 1 and rasters[0].suffix.lower() in (".tif", ".tiff"):
        log.add(f"{label}/{rasters[0].name}", f"地形文件名不是 {main.name}，按唯一的 GeoTIFF 读取",
                "无需处理", severity="note")
        return rasters[0]
    if rasters:
        mosaic = mosaic_vrt(rasters, label, log)
        if mosaic is not None:
            names = "、".join(p.name for p in rasters[:8]) + ("…" if len(rasters) > 8 else "")
            log.add(label, f"地形由 {len(rasters)} 幅分幅拼接（{names}），通过 VRT 读取，"
                    "不复制分幅", "无需处理", severity="note")
        return mosaic
    others = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if others:
        log.add(dem_path, "required file missing: no DEM (elevation GeoTIFF) in the data "
                f"folder; {label}/ 中有：{'、'.join(others[:12])}，但没有可读的地形文件 "
                "(.tif/.tiff/.hgt)",
                "解压或转换为 GeoTIFF（gdal_translate in.img dem.tif）或 SRTM .hgt 分幅，放入 "
                f"{label}/")
    else:
        log.add(dem_path, "required file missing: no DEM (elevation GeoTIFF) in the data folder",
                f"provide the terrain as a single-band GeoTIFF at {dem_path} (or SRTM .hgt / "
                "GeoTIFF tiles in terrain/)")
    return None


def void_mask(elevation: np.ndarray) -> np.ndarray:
    """Cells without elevation (NaN)."""
    return ~np.isfinite(elevation)


def fill_voids(elevation: np.ndarray, max_search_cells: int = 200) -> int:
    """Interpolate NaN cells of ``elevation`` in place (GDAL's inverse-distance fill).

    Parameters
    ----------
    elevation : ndarray, float (rows, cols)
        Working-grid elevation (m), NaN where the DEM has no value; modified in place.
    max_search_cells : int
        How far (cells) to look for values around a void.

    Returns
    -------
    int
        Cells filled.
    """
    from rasterio.fill import fillnodata

    voids = ~np.isfinite(elevation)
    if not voids.any():
        return 0
    filled = fillnodata(np.where(voids, 0, elevation).astype(np.float32), mask=~voids,
                        max_search_distance=float(max_search_cells), smoothing_iterations=0)
    ok = voids & (filled != 0)
    elevation[ok] = filled[ok]
    return int(ok.sum())


def report_household_voids(group_ids: np.ndarray, on_void: np.ndarray, label: str,
                           log: ProblemLog, filled: bool) -> None:
    """One problem per group with households over DEM voids (地形数据缺失).

    Parameters
    ----------
    group_ids : ndarray of str
        The group of every household point (or group representative point).
    on_void : ndarray of bool
        Whether that point lies on a cell without elevation.
    label : str
        The file of the points.
    log : ProblemLog
        Receives an error per group, or a note per group when the voids were filled.
    filled : bool
        ``model.fill_voids`` is set and the voids were interpolated.
    """
    groups = sorted({str(g) for g in np.asarray(group_ids, dtype=object)[on_void]})
    for gid in groups[:50]:
        n = int(np.sum(on_void & (np.asarray(group_ids, dtype=object) == gid)))
        if filled:
            log.add(label, f"村民组 {gid}：{n} 处住户位于 DEM 空洞，地形已插值填补"
                    "（model.fill_voids）", "结果可用；如需更准确，请换用无空洞的 DEM",
                    severity="note")
        else:
            log.add(label, f"地形数据缺失：村民组 {gid} 有 {n} 处住户位于 DEM 空洞（没有高程），"
                    "无法计算其覆盖", "用无空洞的 DEM（或 gdal_fillnodata.py 填补），或在配置中设 "
                    "[model] fill_voids = true 让程序插值", value=gid)
    if len(groups) > 50:
        log.add(label, f"另有 {len(groups) - 50} 个村民组位于 DEM 空洞",
                "修正上面列出的问题后重新运行", severity="note" if filled else "error")


class _Grid(Protocol):
    """What :func:`check_household_voids` needs of the working grid."""

    @property
    def elevation(self) -> np.ndarray: ...

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    def sample(self, x: np.ndarray, y: np.ndarray, method: str = ...) -> np.ndarray: ...


def check_household_voids(frame: object, label: str, grid: _Grid, log: ProblemLog,
                          fill: bool) -> None:
    """Households (or group centres) over DEM voids: an error per group, or, with
    ``fill`` (``model.fill_voids``), the voids of the working grid interpolated in place
    and a note per group.

    Parameters
    ----------
    frame : GeoDataFrame
        The households layer (or the groups), in the working CRS, with ``group_id``.
    label : str
        Its file, for messages.
    grid : WorkingGrid
        The working grid (its ``elevation`` is filled in place when ``fill``).
    log : ProblemLog
        Receives the problems.
    fill : bool
        Interpolate instead of refusing.
    """
    import geopandas as gpd
    import shapely

    from coverage.io.validate import usable

    if not isinstance(frame, gpd.GeoDataFrame) or "group_id" not in frame:
        return
    ok = usable(frame)
    pts = shapely.point_on_surface(np.asarray(frame.geometry.array, dtype=object)[ok])
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    on_void = grid.contains(x, y) & ~np.isfinite(grid.sample(x, y, method="nearest"))
    if on_void.any() and fill:
        fill_voids(grid.elevation)
    report_household_voids(frame["group_id"].to_numpy(dtype=object)[ok], on_void, label, log,
                           filled=fill)
