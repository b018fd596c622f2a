"""Readers for the user's inputs: vector layers, CSV tables and the DEM.

Every reader reports what is wrong as :class:`~coverage.errors.Problem` records in a
:class:`~coverage.errors.ProblemLog` and returns ``None`` for an input it cannot use, so
that the caller can go on and collect every problem at once. Nothing here raises for bad
data: GDAL, pandas and decoding errors become problems that say what to do.

Supported vector formats: GeoPackage (a named layer), GeoJSON, Shapefile and CSV (with
``lon``/``lat`` columns in WGS84 or a WKT ``geometry``/``wkt`` column). Values are
returned as read; :mod:`coverage.io.validate` checks and converts them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import rasterio
import rasterio.errors
import shapely
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import Window

from coverage.config import Config
from coverage.cpus import available_cpus
from coverage.errors import Problem, ProblemLog
from coverage.io import chinacoords, tabular, terrain, vocab
from coverage.io.dbf import shapefile_encoding
from coverage.schema import DEM_PATH, Layer

VECTOR_EXTENSIONS: tuple[str, ...] = (".gpkg", ".geojson", ".json", ".shp", ".csv", ".xlsx",
                                       ".xls")
"""Extensions tried, in this order, for a layer that is not at its schema path."""

DEM_EXTENSIONS: tuple[str, ...] = (".tif", ".tiff")
"""Extensions tried for the DEM (same stem as :data:`coverage.schema.DEM_PATH`)."""

FORMAT_NAMES: dict[str, str] = {
    "gpkg": "GeoPackage", "geojson": "GeoJSON", "shp": "Shapefile", "csv": "CSV",
    "xlsx": "Excel", "xls": "Excel",
}

WGS84 = CRS.from_epsg(4326)

GDAL_STREAM_CACHE_MB = 64
"""GDAL block cache (MB) while a large DEM is streamed block by block (:func:`scan_dem`,
:func:`coverage.io.tiles.resample_dem_tiled`): each block is read about once, so a bigger
cache would only hold the source in memory."""

_LON_ALIASES = ("lon", "lng", "long", "longitude", "经度")
_LAT_ALIASES = ("lat", "latitude", "纬度")
_WKT_NAMES = ("geometry", "wkt", "geom", "the_geom")


@dataclass(frozen=True)
class LayerSource:
    """Where one schema layer was found.

    Parameters
    ----------
    path : Path
        The file.
    label : str
        How messages name it: path relative to the data folder, ``file:layer`` for a
        GeoPackage layer.
    layer : str or None
        Layer name inside a multi-layer file (None: the file's only layer).
    fmt : str
        ``gpkg``, ``geojson``, ``shp`` or ``csv``.
    """

    path: Path
    label: str
    layer: str | None
    fmt: str


@dataclass(frozen=True)
class DemSource:
    """The DEM as read from its file, before resampling.

    Either holds the pixels (:func:`read_dem`) or only describes the file
    (:func:`inspect_dem`, ``elevation=None``) for DEMs too large to hold in memory.

    Parameters
    ----------
    label : str
        Path relative to the data folder.
    elevation : ndarray, float32 (rows, cols), or None
        Elevation (m), NaN where nodata; None when the pixels were not read.
    transform : Affine
        Pixel-to-CRS transform of the file.
    crs : pyproj.CRS
        The file's CRS.
    path : Path, optional
        The file (always set by :func:`read_dem` and :func:`inspect_dem`).
    shape : (int, int), optional
        (rows, cols) of the file; taken from ``elevation`` when that is given.
    """

    label: str
    elevation: np.ndarray | None
    transform: Affine
    crs: CRS
    path: Path | None = None
    shape: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.elevation is not None:
            object.__setattr__(self, "shape", tuple(int(n) for n in self.elevation.shape))
        elif self.shape is None:
            raise ValueError("DemSource without elevation needs its shape")

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the DEM's CRS."""
        if self.shape is None:
            raise ValueError("DemSource without elevation needs its shape")
        rows, cols = self.shape
        xs = [self.transform.c, self.transform.c + self.transform.a * cols]
        ys = [self.transform.f, self.transform.f + self.transform.e * rows]
        return min(xs), min(ys), max(xs), max(ys)


def _fmt_of(path: Path) -> str:
    ext = path.suffix.lower()
    return {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".shp": "shp",
            ".csv": "csv", ".xlsx": "xlsx", ".xls": "xls"}.get(ext, ext.lstrip("."))


def _rel(path: Path, data_dir: Path) -> str:
    if path in terrain.MOSAIC_LABELS:
        return terrain.MOSAIC_LABELS[path]
    try:
        return path.relative_to(data_dir).as_posix()
    except ValueError:
        return path.as_posix()


def list_gpkg_layers(path: Path) -> list[str] | None:
    """Layer names of a GeoPackage, or None when the file cannot be opened as one."""
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # any GDAL failure means "not a readable GeoPackage"
        return None


_TWINS_FIX = "只保留其中一个文件（删除或移走其余的）"


def _twins_message(layer: str, names: str) -> str:
    return f"{layer} 表同时有多个文件：{names}，无法确定用哪一个"


def locate_layer(data_dir: Path, spec: Layer, log: ProblemLog,
                 layer_cache: dict[Path, list[str] | None] | None = None
                 ) -> LayerSource | None:
    """Find the file holding one schema layer.

    Looks at the schema path first (for a GeoPackage: only when it has the layer), then at
    the same stem with ``.gpkg``, ``.geojson``, ``.json``, ``.shp`` or ``.csv``. For a layer
    of a multi-layer GeoPackage the stem is the layer name (``villages/groups.geojson``).

    Parameters
    ----------
    data_dir : Path
        The data folder.
    spec : Layer
        The schema layer.
    log : ProblemLog
        Receives "missing file" / "missing layer" problems for required layers.
    layer_cache : dict, optional
        Layer lists of GeoPackages already opened (filled in).

    Returns
    -------
    LayerSource or None
        None when the layer is absent (an error was logged unless the layer is optional).
    """
    cache = {} if layer_cache is None else layer_cache
    main = data_dir / spec.path
    missing_layer_in: list[str] | None = None
    if main.is_file():
        if _fmt_of(main) == "gpkg" and spec.layer:
            if main not in cache:
                cache[main] = list_gpkg_layers(main)
            layers = cache[main]
            if layers is None:
                # Not a readable GeoPackage: let the reader say so once, clearly.
                return LayerSource(main, _rel(main, data_dir), spec.layer, "gpkg")
            if spec.layer in layers:
                return LayerSource(main, f"{_rel(main, data_dir)}:{spec.layer}", spec.layer,
                                   "gpkg")
            missing_layer_in = layers
        else:
            twins = [main.parent / f"{main.stem}{e}" for e in tabular.TABLE_EXTENSIONS]
            twins = [t for t in twins if t != main and t.is_file()]
            if twins and _fmt_of(main) in ("csv", "xlsx", "xls"):
                names = "、".join(_rel(p, data_dir) for p in [main, *twins])
                log.add(_rel(main, data_dir), _twins_message(spec.key, names), _TWINS_FIX)
                return None
            return LayerSource(main, _rel(main, data_dir), None, _fmt_of(main))
    stem = spec.layer or main.stem
    if spec.layer:
        for ext in (".xlsx", ".xls"):
            book = main.with_suffix(ext)
            if book.is_file():
                sheets = tabular.list_sheets(book) or []
                sheet = tabular.sheet_for_layer(sheets, spec.layer)
                if sheet is not None:
                    return LayerSource(book, f"{_rel(book, data_dir)}[工作表 {sheet}]", sheet,
                                       _fmt_of(book))
    found = [main.parent / f"{stem}{ext}" for ext in VECTOR_EXTENSIONS]
    found = [p for p in found if p != main and p.is_file()]
    tables = [p for p in found if p.suffix.lower() in tabular.TABLE_EXTENSIONS]
    if len(tables) > 1 and tables[0] == found[0]:
        names = "、".join(_rel(p, data_dir) for p in tables)
        log.add(_rel(tables[0], data_dir), _twins_message(spec.key, names), _TWINS_FIX)
        return None
    if found:
        alt = found[0]
        return LayerSource(alt, _rel(alt, data_dir), None, _fmt_of(alt))
    if spec.optional:
        return None
    others = "/".join(e.lstrip(".") for e in VECTOR_EXTENSIONS)
    if missing_layer_in is not None:
        log.add(spec.path, f"GeoPackage has no layer '{spec.layer}' (it has: "
                f"{', '.join(missing_layer_in) or 'no layers'})",
                f"add the layer '{spec.layer}' to {spec.path}, or provide "
                f"{Path(spec.path).parent.as_posix()}/{stem}.<{others}>",
                column=None)
    else:
        what = f"layer '{spec.layer}' of " if spec.layer else ""
        log.add(spec.path, f"required file missing: no {what}{spec.path} in the data folder",
                f"provide {spec.path} (or {Path(spec.path).parent.as_posix()}/{stem}."
                f"<{others}>) as described in the schema")
    return None


def locate_dem(data_dir: Path, log: ProblemLog) -> Path | None:
    """Find the DEM: ``terrain/dem.tif`` (or ``.tiff``), the only GeoTIFF of ``terrain/``
    under any name, or a VRT mosaic of its tiles (:mod:`coverage.io.terrain`); log an error
    naming what the folder holds when none is there."""
    return terrain.locate_terrain(data_dir, DEM_PATH, log)


# ----------------------------------------------------------------------------------------
# Vector layers


def read_layer(src: LayerSource, spec: Layer, log: ProblemLog, config: Config | None = None
               ) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """Read one layer as found by :func:`locate_layer`, values as stored.

    Returns a GeoDataFrame (with CRS) when the layer has geometry, a DataFrame otherwise,
    with a fresh 0-based index (row ``i`` is data row / feature ``i + 1``). Column names
    are stripped of surrounding spaces. Returns None, with problems logged, when the file
    cannot be used at all (unreadable, wrong format, empty, no CRS, no geometry ...).

    With ``config``, the vocabulary (:mod:`coverage.io.vocab`) is applied: header and value
    aliases (each noted once), and the coordinate system declared under ``[inputs.<layer>]``
    or by the column names (高德经度, bd_lng ...) is converted to WGS84. An Excel table's
    ``attrs["row_numbers"]`` holds the Excel row of every data row.
    """
    fmt_name = FORMAT_NAMES.get(src.fmt, src.fmt)
    file_label = src.label.split(":")[0] if src.fmt == "gpkg" else src.label
    try:
        size = src.path.stat().st_size
    except OSError as exc:
        log.add(file_label, f"cannot read the file ({exc.strerror})",
                "check that the file exists and is readable")
        return None
    if size == 0:
        log.add(file_label, "the file is empty (0 bytes)",
                f"export the {spec.key} data again into {file_label}")
        return None
    settings = config.inputs.get(spec.key) if config is not None else None
    if src.fmt in ("csv", "xlsx", "xls"):
        frame = _read_table(src, spec, log, config)
    elif src.fmt in ("gpkg", "geojson", "shp"):
        frame = _read_ogr(src, spec, log, fmt_name, file_label)
        if frame is not None and config is not None:
            frame = _vocabulary(frame, spec, src.label, log, config)
            if settings is not None and settings.coords in ("gcj02", "bd09") \
                    and isinstance(frame, gpd.GeoDataFrame):
                frame = _convert_geometry(frame, settings.coords, spec, src.label, log)
    else:
        log.add(file_label, f"不支持的文件类型 '{src.path.suffix}'",
                "请使用 GeoPackage (.gpkg)、GeoJSON (.geojson)、Shapefile (.shp)、CSV (.csv) 或 "
                "Excel (.xlsx/.xls)")
        return None
    if frame is None:
        return None
    if len(frame) == 0:
        what = ("the table has a header but no data rows" if src.fmt == "csv" else
                "the layer has no features")
        if spec.optional:
            log.add(src.label, f"{what}; it is treated as absent",
                    f"add {spec.key} rows, or remove the file/layer", severity="warning")
        else:
            log.add(src.label, what,
                    f"fill {src.label} with the {spec.key} rows (one per {spec.key[:-1]})")
        return None
    return frame


def _read_ogr(src: LayerSource, spec: Layer, log: ProblemLog, fmt_name: str,
              file_label: str) -> gpd.GeoDataFrame | pd.DataFrame | None:
    layer = src.layer
    if layer is None and src.fmt == "gpkg":
        layers = list_gpkg_layers(src.path)
        if layers is None:
            layers = []
        if spec.key in layers:
            layer = spec.key
        elif len(layers) > 1:
            log.add(file_label, f"GeoPackage has several layers ({', '.join(layers)}) and none "
                    f"is called '{spec.key}'", f"name the layer '{spec.key}'")
            return None
    encoding = shapefile_encoding(src.path, file_label, log) if src.fmt == "shp" else None
    try:
        frame = pyogrio.read_dataframe(src.path, layer=layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        reason = str(exc).split(";")[0]
        if "not recognized" in reason or "not a" in reason.lower() or "file" in reason.lower():
            reason = "the file is not recognised as one"
        log.add(file_label, f"not a valid {fmt_name} file ({reason})",
                f"re-export the data as {fmt_name} (check that it opens in QGIS), "
                "or give the file the extension of its real format")
        return None
    except Exception as exc:  # GDAL/driver failures of any other kind
        log.add(file_label, f"could not read the {fmt_name} file ({exc})",
                "re-export the data as GeoPackage and check that it opens in QGIS")
        return None
    frame = frame.rename(columns=lambda c: str(c).strip())
    frame = frame.reset_index(drop=True)
    if src.fmt == "shp":
        frame = _untruncate_shapefile_names(frame, spec)
    if isinstance(frame, gpd.GeoDataFrame):
        has_geom = bool((~shapely.is_missing(np.asarray(frame.geometry.array))).any()) \
            if len(frame) else True
        if spec.geometry is None and not has_geom:
            return pd.DataFrame(frame.drop(columns=frame.geometry.name))
        if frame.crs is None:
            fix = ("add the matching .prj file (e.g. export again from QGIS), or set the CRS "
                   "with: ogr2ogr -a_srs EPSG:4326 out.shp in.shp" if src.fmt == "shp" else
                   "set the layer's coordinate reference system (QGIS: Layer > Set CRS, or "
                   "ogr2ogr -a_srs EPSG:XXXX) and save again")
            log.add(src.label, "the layer has no coordinate reference system (CRS)", fix)
            return None
        if not _degrees_plausible(frame):
            _bad_degrees(frame, src, log)
            return None
        return frame
    if spec.geometry is not None:
        log.add(src.label, f"the layer has no geometry (expected {spec.geometry.lower()}s)",
                f"save {spec.key} as a spatial layer with {spec.geometry.lower()} geometry")
        return None
    return pd.DataFrame(frame)


def _untruncate_shapefile_names(frame: pd.DataFrame, spec: Layer) -> pd.DataFrame:
    """Shapefile field names are cut at 10 characters: map them back to schema names."""
    present = set(frame.columns)
    renames = {}
    for col in spec.columns:
        short = col.name[:10]
        if len(col.name) > 10 and col.name not in present and short in present:
            renames[short] = col.name
    return frame.rename(columns=renames) if renames else frame


def _degrees_plausible(frame: gpd.GeoDataFrame) -> bool:
    """False when a geographic CRS carries coordinates outside ±180/±90."""
    if frame.crs is None or not frame.crs.is_geographic:
        return True
    geoms = frame.geometry.values
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return True
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[ok])
    return xmin >= -180.0 and xmax <= 180.0 and ymin >= -90.0 and ymax <= 90.0


def _bad_degrees(frame: gpd.GeoDataFrame, src: LayerSource, log: ProblemLog) -> None:
    xmin, ymin, xmax, ymax = frame.total_bounds
    log.add(src.label, f"the layer's CRS ({frame.crs.to_string()}) is in degrees but its "
            f"coordinates ({xmin:.0f}..{xmax:.0f}, {ymin:.0f}..{ymax:.0f}) are not",
            "the CRS is wrong: set the CRS the coordinates were really made in (e.g. the "
            "local UTM zone or CGCS2000 Gauss-Kruger) and save again")
    return None


def _find_column(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for alias in aliases:
        if alias in lowered:
            return lowered[alias]
    return None


def _sidecar_crs(path: Path, log: ProblemLog, label: str) -> CRS | None:
    prj = path.with_suffix(".prj")
    if not prj.is_file():
        return None
    try:
        return CRS.from_user_input(prj.read_text(encoding="utf-8").strip())
    except (CRSError, UnicodeDecodeError) as exc:
        log.add(label, f"the .prj file next to the CSV is not a valid CRS ({exc})",
                "remove the .prj file (lon/lat are then read as WGS84) or correct it")
        return None


def _csv_geometry(frame: pd.DataFrame, src: LayerSource, spec: Layer, log: ProblemLog
                  ) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """Build geometry from a WKT column or lon/lat columns of a CSV."""
    label = src.label
    cols = list(frame.columns)
    wkt_col = _find_column(cols, _WKT_NAMES)
    lon_col = _find_column(cols, _LON_ALIASES)
    lat_col = _find_column(cols, _LAT_ALIASES)
    crs = _sidecar_crs(src.path, log, label)
    if wkt_col is not None:
        raw = frame[wkt_col].to_numpy(dtype=object)
        given = np.array([isinstance(t, str) and t != "" for t in raw], dtype=bool)
        text = pd.Series(np.where(given, raw, np.array(None, dtype=object)), dtype=object)
        geoms = shapely.from_wkt(text.to_numpy(), on_invalid="ignore")
        bad = np.flatnonzero(given & shapely.is_missing(geoms))
        for i in bad[:20]:
            log.add(label, "not a valid WKT geometry", "write the geometry as WKT, e.g. "
                    "'POLYGON ((116.1 30.8, 116.2 30.8, 116.2 30.9, 116.1 30.8))'",
                    row=int(i) + 1, column=wkt_col, value=_short(text.iloc[i]))
        _more(log, label, wkt_col, len(bad), "not valid WKT")
        gdf = gpd.GeoDataFrame(frame.drop(columns=[wkt_col]), geometry=geoms,
                               crs=crs or WGS84)
        if crs is None and not _degrees_plausible(gdf):
            log.add(label, "WKT coordinates are not longitude/latitude degrees",
                    "CSV geometry is read as WGS84 lon/lat: convert it, or put a .prj file "
                    "with the CRS next to the CSV, or use a GeoPackage")
            return None
        return gdf
    if spec.geometry == "Point":
        return _lonlat_points(frame, src, spec, log, lon_col, lat_col, crs)
    if spec.geometry is None:
        return frame
    log.add(label, f"the CSV has no geometry column (expected {spec.geometry.lower()}s as WKT)",
            "add a 'geometry' column with WKT polygons, or use a GeoPackage/GeoJSON/Shapefile")
    return None


def _lonlat_points(frame: pd.DataFrame, src: LayerSource, spec: Layer, log: ProblemLog,
                   lon_col: str | None, lat_col: str | None, crs: CRS | None
                   ) -> gpd.GeoDataFrame | None:
    label = src.label
    cols = list(frame.columns)
    projected = crs is not None and not crs.is_geographic
    if lon_col is None or lat_col is None:
        x_col, y_col = _find_column(cols, ("x",)), _find_column(cols, ("y",))
        if x_col is not None and y_col is not None:
            xs = pd.to_numeric(frame[x_col], errors="coerce")
            ys = pd.to_numeric(frame[y_col], errors="coerce")
            geographic = bool(xs.abs().le(180).all() and ys.abs().le(90).all())
            if geographic or projected:
                if not projected:
                    log.add(label, f"using columns '{x_col}'/'{y_col}' as lon/lat (WGS84)",
                            "name them lon and lat to make this explicit", severity="warning")
                lon_col, lat_col = x_col, y_col
            else:
                log.add(label, f"columns '{x_col}'/'{y_col}' are not lon/lat degrees and the "
                        "CSV has no .prj file naming their CRS",
                        "give lon and lat in WGS84 degrees, or add a .prj file with the CRS")
                return None
    if lon_col is None or lat_col is None:
        missing = "lon" if lon_col is None else "lat"
        log.add(label, f"missing required column '{missing}' (no point coordinates)",
                "add 'lon' and 'lat' columns in WGS84 degrees, or a WKT 'geometry' column",
                column=missing)
        return None
    frame = frame.rename(columns={lon_col: "lon", lat_col: "lat"})
    lon = np.array([chinacoords.parse_degrees(v) for v in frame["lon"]], dtype=float)
    lat = np.array([chinacoords.parse_degrees(v) for v in frame["lat"]], dtype=float)
    blank_lon = (frame["lon"].isna() | (frame["lon"] == "")).to_numpy()
    blank_lat = (frame["lat"].isna() | (frame["lat"] == "")).to_numpy()
    for name, values, blank in (("lon", lon, blank_lon), ("lat", lat, blank_lat)):
        bad = np.flatnonzero(~np.isfinite(values) & ~blank)
        for i in bad[:20]:
            log.add(label, "not a number", f"write {name} as decimal degrees, e.g. 116.3512",
                    row=int(i) + 1, column=name, value=frame[name].iloc[i])
        _more(log, label, name, len(bad), "not a number")
        empty = np.flatnonzero(blank)
        for i in empty[:20]:
            log.add(label, "empty value in required column", f"give the {name} of this row",
                    row=int(i) + 1, column=name)
        _more(log, label, name, len(empty), "empty value")
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not projected:
        lon_bad = np.abs(lon) > 180
        lat_bad = np.abs(lat) > 90
        swapped = ok & lat_bad & ~lon_bad & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
        for i in np.flatnonzero(swapped)[:20]:
            log.add(label, "lon and lat look swapped (lat is outside -90..90, lon is not)",
                    "swap the lon and lat values (lon is east-west, ~73..135 in China)",
                    row=int(i) + 1, column="lat", value=frame["lat"].iloc[i])
        _more(log, label, "lat", int(swapped.sum()), "lon and lat look swapped")
        for name, out in (("lon", lon_bad & ~swapped), ("lat", lat_bad & ~swapped)):
            rng = 180 if name == "lon" else 90
            idx = np.flatnonzero(ok & out)
            for i in idx[:20]:
                log.add(label, f"out of range: {name} must be within -{rng}..{rng} degrees",
                        f"give {name} in WGS84 decimal degrees", row=int(i) + 1, column=name,
                        value=frame[name].iloc[i])
            _more(log, label, name, len(idx), "out of range")
        ok &= ~lon_bad & ~lat_bad
    datum = str(frame.attrs.get("datum", "wgs84"))
    if datum in ("gcj02", "bd09") and not projected and ok.any():
        lon[ok], lat[ok] = chinacoords.to_wgs84(lon[ok], lat[ok], datum)
        log.add(label, f"坐标按 {chinacoords.DATUMS[datum]} 读入，已转换为 WGS84"
                f"（{int(ok.sum())} 个点）", "无需处理；报告中注明了转换", severity="note")
    geoms = np.full(len(frame), None, dtype=object)
    geoms[ok] = shapely.points(lon[ok], lat[ok])
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs or WGS84)
    gdf.attrs["lonlat_columns"] = True
    if datum in ("gcj02", "bd09"):
        gdf.attrs["converted_from"] = chinacoords.DATUMS[datum]
    return gdf


def _short(value: object, n: int = 60) -> str:
    text = str(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _more(log: ProblemLog, label: str, column: str | None, count: int, what: str,
          shown: int = 20) -> None:
    """Summarise rows beyond the first ``shown`` with the same problem."""
    if count > shown:
        log.add(label, f"{count - shown} more row(s) with the same problem ({what})",
                "fix the rows listed above and re-run to see the rest", column=column)


# ----------------------------------------------------------------------------------------
# DEM


def read_dem(path: Path, data_dir: Path, log: ProblemLog) -> DemSource | None:
    """Read the DEM's first band as float32 metres, nodata (and voids) as NaN.

    Logs an error (and returns None) when the file is not a raster GDAL can read or has
    no CRS; a warning when an unflagged void value (≤ -1000 m) is treated as nodata.
    """
    opened = _open_dem(path, data_dir, log, read=True)
    if opened is None:
        return None
    label, band, transform, crs, _ = opened
    assert band is not None                         # read=True: the band was read
    elevation = np.ma.filled(band.astype(np.float32), np.nan)
    voids = elevation <= -1000.0
    if voids.any():
        _log_voids(log, label, int(voids.sum()))
        elevation[voids] = np.nan
    if not np.isfinite(elevation).any():
        _log_all_nodata(log, label)
        return None
    return DemSource(label, elevation, transform, crs, path=path)


def inspect_dem(path: Path, data_dir: Path, log: ProblemLog) -> DemSource | None:
    """Describe the DEM (CRS, transform, shape) without reading its pixels.

    Logs the errors of :func:`read_dem` that need no pixels (empty file, not a raster, no
    CRS, rotated) and returns None for them; the result has ``elevation=None``. Use
    :func:`scan_dem` for the checks on the values.
    """
    opened = _open_dem(path, data_dir, log, read=False)
    if opened is None:
        return None
    label, _, transform, crs, shape = opened
    return DemSource(label, None, transform, crs, path=path, shape=shape)


def scan_dem(dem: DemSource, log: ProblemLog, block_cells: int = 1 << 22) -> DemSource | None:
    """The value checks of :func:`read_dem`, one window of rows at a time.

    Logs the same warning for unflagged voids (≤ -1000 m) and the same error for a DEM
    without any valid value (then returns None). Holds at most about ``block_cells`` cells
    (rounded to whole rows and to the file's block height) in memory, and GDAL's block cache
    is limited to :data:`GDAL_STREAM_CACHE_MB` meanwhile.

    Parameters
    ----------
    dem : DemSource
        From :func:`inspect_dem` (its ``path`` is read).
    log : ProblemLog
        Receives the problems.
    block_cells : int
        Cells read at a time.

    Returns
    -------
    DemSource or None
        ``dem`` itself (still without pixels), or None when it has no valid value.
    """
    voids = 0
    valid = False
    try:
        cache = GDAL_STREAM_CACHE_MB * 2**20
        with rasterio.Env(GDAL_CACHEMAX=cache), rasterio.open(dem.path) as ds:
            rows, cols = ds.height, ds.width
            block_rows = max(1, int(ds.block_shapes[0][0]))
            step = max(1, block_cells // max(cols, 1))
            step = max(block_rows, step // block_rows * block_rows)
            for r0 in range(0, rows, step):
                n = min(step, rows - r0)
                band = ds.read(1, window=Window(0, r0, cols, n), masked=True)
                values = np.ma.filled(band.astype(np.float32), np.nan)
                bad = values <= -1000.0
                voids += int(bad.sum())
                valid = valid or bool((np.isfinite(values) & ~bad).any())
    except rasterio.errors.RasterioError as exc:
        _log_unreadable(log, dem.label, exc)
        return None
    if voids:
        _log_voids(log, dem.label, voids)
    if not valid:
        _log_all_nodata(log, dem.label)
        return None
    return dem


def _log_voids(log: ProblemLog, label: str, count: int) -> None:
    log.add(label, f"{count} DEM cells at or below -1000 m treated as nodata",
            "set the DEM's nodata value so that voids are explicit", severity="warning")


def _log_all_nodata(log: ProblemLog, label: str) -> None:
    log.add(label, "the DEM has no valid elevation values (all nodata)",
            "provide a DEM with data over the county")


def _open_dem(path: Path, data_dir: Path, log: ProblemLog, read: bool
              ) -> tuple[str, np.ma.MaskedArray | None, Affine, CRS, tuple[int, int]] | None:
    """Open the DEM, check it, and read its first band (masked) when ``read``."""
    label = _rel(path, data_dir)
    if path.stat().st_size == 0:
        log.add(label, "the DEM file is empty (0 bytes)", "provide the elevation GeoTIFF again")
        return None
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                log.add(label, "the DEM has no coordinate reference system (CRS)",
                        "set its CRS, e.g. gdal_edit.py -a_srs EPSG:4326 dem.tif (or "
                        "QGIS: Raster > Projections > Assign Projection)")
                return None
            if ds.transform.b != 0 or ds.transform.d != 0:
                log.add(label, "the DEM is rotated/sheared", "warp it north-up with gdalwarp")
                return None
            band = ds.read(1, masked=True) if read else None
            transform = ds.transform
            crs = CRS.from_user_input(ds.crs.to_wkt())
            shape = (int(ds.height), int(ds.width))
    except (rasterio.errors.RasterioError, CRSError) as exc:
        _log_unreadable(log, label, exc)
        return None
    return label, band, transform, crs, shape


def _log_unreadable(log: ProblemLog, label: str, exc: Exception) -> None:
    """The error for a DEM GDAL cannot open or read."""
    if isinstance(exc, rasterio.errors.RasterioIOError):
        reason = str(exc)
        if "not recognized" in reason:
            reason = "the file is not a raster GDAL recognises"
        log.add(label, f"not a valid GeoTIFF ({reason})",
                "provide the elevation as a single-band GeoTIFF (e.g. gdal_translate in.hgt "
                "dem.tif)")
    else:
        log.add(label, f"could not read the DEM ({exc})", "re-export it as a GeoTIFF")


def working_grid_layout(src_crs: CRS | str, src_bounds: tuple[float, float, float, float],
                        crs: CRS, resolution_m: float) -> tuple[Affine, int, int]:
    """The working grid covering a DEM: transform, rows and columns.

    Edges are multiples of ``resolution_m`` in ``crs``; pixels are square and north-up.
    Shared by the in-memory and the strip-wise resampling so both give the same grid.

    Parameters
    ----------
    src_crs : CRS or str
        The DEM's CRS.
    src_bounds : (left, bottom, right, top)
        The DEM's bounds in its CRS.
    crs : CRS
        The working CRS.
    resolution_m : float
        Cell size (m).
    """
    res = float(resolution_m)
    src_wkt = src_crs if isinstance(src_crs, str) else src_crs.to_wkt()
    xmin, ymin, xmax, ymax = transform_bounds(src_wkt, crs.to_wkt(), *src_bounds,
                                              densify_pts=51)
    x0 = np.floor(xmin / res) * res
    y1 = np.ceil(ymax / res) * res
    cols = max(1, int(np.ceil((xmax - x0) / res - 1e-9)))
    rows = max(1, int(np.ceil((y1 - ymin) / res - 1e-9)))
    return Affine(res, 0.0, x0, 0.0, -res, y1), rows, cols


def resample_dem(dem: DemSource, crs: CRS, resolution_m: float, threads: int = 1
                 ) -> tuple[np.ndarray, Affine]:
    """Resample the DEM once onto the working grid (bilinear).

    The grid covers the DEM's extent in ``crs``; its edges are multiples of
    ``resolution_m``, pixels are square and north-up.

    Parameters
    ----------
    dem : DemSource
        The DEM as read.
    crs : pyproj.CRS
        Working CRS (projected, metres).
    resolution_m : float
        Cell size (m).
    threads : int
        Threads of GDAL's warper (0 = every CPU); the values do not depend on it.

    Returns
    -------
    elevation : ndarray, float32 (rows, cols)
        Metres, NaN where the DEM has nodata or no coverage.
    transform : Affine
        ``Affine(resolution_m, 0, xmin, 0, -resolution_m, ymax)``.
    """
    if dem.elevation is None:
        raise ValueError(f"{dem.label}: the DEM's pixels were not read (use "
                         "coverage.io.tiles.resample_dem_tiled for a DEM file)")
    transform, rows, cols = working_grid_layout(dem.crs, dem.bounds, crs, resolution_m)
    out = np.full((rows, cols), np.nan, dtype=np.float32)
    reproject(
        source=dem.elevation, destination=out,
        src_transform=dem.transform, src_crs=dem.crs.to_wkt(), src_nodata=np.nan,
        dst_transform=transform, dst_crs=crs.to_wkt(), dst_nodata=np.nan,
        resampling=Resampling.bilinear,
        num_threads=threads if threads > 0 else available_cpus(),
    )
    return out, transform


def dem_footprint_lonlat_contains(dem: DemSource, lon: np.ndarray, lat: np.ndarray
                                  ) -> np.ndarray:
    """Whether WGS84 points fall within the DEM's rectangle (in the DEM's own CRS)."""
    from pyproj import Transformer

    tr = Transformer.from_crs(WGS84, dem.crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, float), np.asarray(lat, float))
    xmin, ymin, xmax, ymax = dem.bounds
    with np.errstate(invalid="ignore"):
        return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)



# ----------------------------------------------------------------------------------------
# Tables (CSV, Excel) and the vocabulary


def _read_table(src: LayerSource, spec: Layer, log: ProblemLog, config: Config | None
                ) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """A CSV or Excel table, with the vocabulary applied and geometry built."""
    settings = config.inputs.get(spec.key) if config is not None else None
    sheet = src.layer if src.fmt in ("xlsx", "xls") else None
    if settings is not None and settings.sheet is not None:
        sheet = settings.sheet
    label = src.label.split("[")[0]
    table = tabular.read_table(src.path, label, spec, log, sheet=sheet)
    if table is None:
        return None
    label = table.label
    src = LayerSource(src.path, label, src.layer, src.fmt)
    frame = table.frame
    if config is not None:
        frame = _vocabulary(frame, spec, label, log, config)
    tabular.check_excel_damage(tabular.Table(frame, label, table.rows), spec, log)
    cols = [str(c) for c in frame.columns]
    datum: str = settings.coords if settings is not None else "wgs84"
    if "lon" not in cols or "lat" not in cols:
        glon, glat, named = vocab.coordinate_headers(cols)
        if named is not None and glon is not None and glat is not None:
            attrs = dict(frame.attrs)
            frame = frame.rename(columns={glon: "lon", glat: "lat"})
            frame.attrs.update(attrs)
            frame.attrs["renamed"] = {**attrs.get("renamed", {}), "lon": glon, "lat": glat}
            log.add(label, f"列 '{glon}'/'{glat}' 读作 {chinacoords.DATUMS[named]} 经纬度 lon/lat",
                    "无需处理（将转换为 WGS84）", severity="note")
            if datum not in ("wgs84", named):
                log.add(label, f"配置声明坐标为 {chinacoords.DATUMS[datum]}，但列名表明是 "
                        f"{chinacoords.DATUMS[named]}", f"改正配置 [inputs.{spec.key}] coords "
                        "或列名，使二者一致")
                return None
            datum = named
        elif named is not None:
            missing = "纬度" if glat is None else "经度"
            log.add(label, f"有列 '{glon or glat}'，但缺少对应的{missing}列",
                    "经度、纬度两列须成对给出（如 高德经度/高德纬度）")
            return None
    frame.attrs["datum"] = datum
    frame.attrs["label"] = label
    frame.attrs["row_numbers"] = table.rows if src.fmt in ("xlsx", "xls") else None
    if len(frame) == 0:
        return frame
    result = _csv_geometry(frame, src, spec, log)
    if result is not None:
        for key in ("label", "row_numbers", "renamed"):
            if key in frame.attrs:
                result.attrs[key] = frame.attrs[key]
    return result


def _vocabulary(frame: pd.DataFrame, spec: Layer, label: str, log: ProblemLog,
                config: Config) -> pd.DataFrame:
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    skip = frozenset({geom}) if geom else frozenset()
    attrs = dict(frame.attrs)
    frame = vocab.normalise_cells(frame, skip)
    frame = vocab.rename_headers(frame, spec.key, [c.name for c in spec.columns], label, log,
                                 skip)
    frame = vocab.map_values(frame, spec.key, label, log, config)
    frame.attrs.update(attrs)
    return frame


def _convert_geometry(frame: gpd.GeoDataFrame, datum: str, spec: Layer, label: str,
                      log: ProblemLog) -> gpd.GeoDataFrame:
    """Convert a geographic layer declared GCJ-02/BD-09 to WGS84 (every vertex)."""
    if frame.crs is None or not frame.crs.is_geographic:
        log.add(label, f"配置声明坐标为 {chinacoords.DATUMS[datum]}，但该图层是投影坐标 "
                f"({frame.crs})", f"删除配置 [inputs.{spec.key}] coords，或提供经纬度图层")
        return frame

    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = chinacoords.to_wgs84(coords[:, 0], coords[:, 1], datum)
        return np.column_stack([lon, lat])

    out = frame.copy()
    out[out.geometry.name] = shapely.transform(np.asarray(frame.geometry.array), shift)
    out = out.set_crs(WGS84, allow_override=True)
    out.attrs["converted_from"] = chinacoords.DATUMS[datum]
    log.add(label, f"坐标按 {chinacoords.DATUMS[datum]} 读入，已转换为 WGS84",
            "无需处理；报告中注明了转换", severity="note")
    return out


def user_rows(problems: list[Problem], loaded: Mapping[str, object]) -> list[Problem]:
    """Problems as the user sees the file: Excel row numbers and the original headers.

    Data-row numbers of Excel tables become Excel row numbers; a column read under an alias
    is named by the header the file has, with the schema name (``挂高(米)（height_m）``).

    Parameters
    ----------
    problems : list of Problem
        As logged (rows are 1-based data rows).
    loaded : mapping
        Layer key → an object with ``frame`` and ``label`` (the frames read); a frame whose
        ``attrs["row_numbers"]`` is set maps data row ``i`` to Excel row ``row_numbers[i-1]``.
    """
    maps: dict[str, np.ndarray] = {}
    headers: dict[str, dict[str, str]] = {}
    for item in loaded.values():
        frame = getattr(item, "frame", None)
        if frame is None:
            continue
        label = str(getattr(item, "label", ""))
        rows = frame.attrs.get("row_numbers")
        if rows is not None:
            maps[label] = np.asarray(rows)
        if frame.attrs.get("renamed"):
            headers[label] = dict(frame.attrs["renamed"])
    if not maps and not headers:
        return problems
    out = []
    for p in problems:
        rows = maps.get(p.file)
        if rows is not None and p.row is not None and 1 <= p.row <= len(rows):
            p = dataclasses.replace(p, row=int(rows[p.row - 1]))
        original = headers.get(p.file, {}).get(p.column or "")
        if original is not None and p.severity != "note":
            p = dataclasses.replace(p, column=f"{original}（{p.column}）")
        out.append(p)
    return out


def unread_tables(data_dir: Path, used: set[Path], log: ProblemLog) -> None:
    """Every table file (.csv, .xlsx, .xls) of the data folder that no layer read is an error.

    A works list saved as ``works/工程台账.xlsx`` must not be skipped silently: the message
    names the file and the names the layers are read from.
    """
    from coverage.schema import LAYERS

    expected: dict[str, list[str]] = {}
    for spec in LAYERS:
        folder = Path(spec.path).parent.as_posix()
        stem = spec.layer or Path(spec.path).stem
        expected.setdefault(folder, []).append(stem)
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in tabular.TABLE_EXTENSIONS:
            continue
        if path.name.startswith((".", "~$")):
            continue
        if path in used:
            _unread_sheets(path, data_dir, log)
            continue
        rel = _rel(path, data_dir)
        folder = Path(rel).parent.as_posix()
        names = expected.get(folder)
        if names is None:
            continue
        log.add(rel, "该文件没有被读取（文件名不对应任何图层），其中的数据不会被使用",
                f"按图层命名：{folder}/<{'|'.join(dict.fromkeys(names))}>.xlsx（或 .csv），"
                f"或工作簿 {folder}/{Path(expected_path(folder)).name} 中按图层命名工作表；"
                "不需要的文件请移出数据文件夹")


def expected_path(folder: str) -> str:
    """The schema file of a data sub-folder, as a workbook name (``works/works.xlsx``)."""
    from coverage.schema import LAYERS

    spec = next(s for s in LAYERS if Path(s.path).parent.as_posix() == folder)
    return Path(spec.path).with_suffix(".xlsx").as_posix()


NOTE_SHEETS = frozenset({"说明", "填表说明", "notes", "readme", "备注"})
"""Sheet names of explanations, never data."""


def _unread_sheets(path: Path, data_dir: Path, log: ProblemLog) -> None:
    """A warning for each sheet with content of a workbook laid out one sheet per layer
    (``works/works.xlsx``) that no layer reads."""
    from coverage.schema import LAYERS

    if path.suffix.lower() not in (".xlsx", ".xls"):
        return
    folder = path.parent
    specs = [s for s in LAYERS if s.layer and (data_dir / s.path).parent == folder
             and (data_dir / s.path).stem == path.stem]
    if not specs:
        return
    sheets = tabular.list_sheets(path) or []
    read = {tabular.sheet_for_layer(sheets, s.layer or s.key) for s in specs}
    for sheet in sheets:
        if sheet in read or vocab.norm_key(sheet) in NOTE_SHEETS:
            continue
        log.add(_rel(path, data_dir), f"工作表 '{sheet}' 没有被读取（名称不对应任何图层）",
                "把工作表改名为图层名（" + "、".join(
                    f"{s.layer}/{tabular.SHEET_NAMES.get(s.layer or '', ('',))[0]}"
                    for s in specs) + "），或移出该工作表", severity="warning")
