"""Deterministic, atomic writers for the formats coverage-planner produces.

Same inputs give byte-identical files: GeoPackage timestamps are pinned, GeoTIFFs
carry no creation time, CSVs have a fixed column order and ``\\n`` line ends.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS

from coverage.io.atomic import atomic_path, write_text_atomic

if TYPE_CHECKING:  # geopandas and pandas load when a table is written (not for a raster)
    import geopandas as gpd
    import pandas as pd

PINNED_TIMESTAMP = "2020-01-01T00:00:00Z"
"""Timestamp written into GeoPackage metadata so that files are reproducible."""


def write_gpkg(target: str | Path, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
               metadata: Mapping[str, str] | None = None) -> None:
    """Write several layers into one GeoPackage, atomically and reproducibly.

    Parameters
    ----------
    target : str or Path
        The ``.gpkg`` file; replaced as a whole.
    layers : mapping of str to GeoDataFrame or DataFrame
        Layer name to table; a plain DataFrame becomes an attribute-only table.
    metadata : mapping of str to str, optional
        Key/value pairs (version, config hash, CRS, ...) stored in a ``metadata`` table.
    """
    import geopandas as gpd
    import pandas as pd

    old = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = PINNED_TIMESTAMP
    try:
        with atomic_path(target) as tmp:
            for name, frame in layers.items():
                if not isinstance(frame, gpd.GeoDataFrame):
                    frame = gpd.GeoDataFrame(frame.copy())
                frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            if metadata:
                table = pd.DataFrame(
                    {"key": list(metadata.keys()), "value": [str(v) for v in metadata.values()]}
                )
                gpd.GeoDataFrame(table).to_file(tmp, layer="metadata", driver="GPKG",
                                                 engine="pyogrio")
    finally:
        if old is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = old


def write_csv(target: str | Path, frame: pd.DataFrame, float_format: str | None = None,
              bom: bool = False) -> None:
    """Write a table as UTF-8 CSV with ``\\n`` line ends, atomically.

    Parameters
    ----------
    target : str or Path
    frame : DataFrame
    float_format : str, optional
        e.g. ``"%.6f"``.
    bom : bool
        Start with a UTF-8 byte-order mark, so that spreadsheet programs on Chinese
        Windows open Chinese text correctly (used for report tables).
    """
    text = frame.to_csv(index=False, lineterminator="\n", float_format=float_format)
    write_text_atomic(target, ("\ufeff" if bom else "") + text)


def write_geotiff(target: str | Path, array: np.ndarray, transform: Affine, crs: CRS | str,
                  nodata: float | int | None, tags: Mapping[str, str] | None = None,
                  cog: bool = True, predictor: int | None = None, level: int | None = None
                  ) -> None:
    """Write a single-band raster as a compressed (Cloud Optimised) GeoTIFF, atomically.

    Parameters
    ----------
    target : str or Path
        Output ``.tif``.
    array : ndarray, shape (rows, cols)
        Values; its dtype is kept.
    transform : Affine
        Pixel-to-CRS transform.
    crs : CRS or str
        Coordinate reference system.
    nodata : number or None
        Nodata value recorded in the file.
    tags : mapping, optional
        Metadata tags (version, config hash, ...).
    cog : bool
        Write with the COG driver (tiled, overviews) when True, else a tiled GTiff.
    predictor : int, optional
        DEFLATE predictor (2 for integers, 3 for floats); chosen from the dtype when None.
    level : int, optional
        DEFLATE level of a COG (1 fastest ... 9 smallest); GDAL's default (6) when None.
    """
    if predictor is None:
        predictor = 3 if np.issubdtype(array.dtype, np.floating) else 2
    profile = {
        "count": 1, "height": array.shape[0], "width": array.shape[1],
        "dtype": array.dtype.name, "crs": crs, "transform": transform, "nodata": nodata,
    }
    with atomic_path(target) as tmp:
        if cog:
            mem_profile = dict(profile, driver="GTiff")
            with rasterio.MemoryFile() as mem:
                with mem.open(**mem_profile) as ds:
                    ds.write(array, 1)
                    if tags:
                        ds.update_tags(**tags)
                with mem.open() as src:
                    rasterio.shutil.copy(
                        src, tmp, driver="COG", COMPRESS="DEFLATE", PREDICTOR=str(predictor),
                        BLOCKSIZE="512", OVERVIEW_RESAMPLING="AVERAGE", NUM_THREADS="1",
                        **({} if level is None else {"LEVEL": str(level)}),
                    )
        else:
            with rasterio.open(tmp, "w", driver="GTiff", compress="deflate", predictor=predictor,
                               tiled=True, blockxsize=256, blockysize=256, zlevel=9,
                               **profile) as ds:
                ds.write(array, 1)
                if tags:
                    ds.update_tags(**tags)


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block (as it was, after it).

    Building and saving a workbook makes a few hundred thousand short-lived objects (cells,
    XML elements); each full collection they trigger walks every object of the process
    (a forked writer's copy of the whole run) and finds nothing to free. Reference counting
    still frees them; the few cycles (a workbook and its sheets) wait for the next
    collection after the block.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_workbook(target: str | Path, workbook: object, timestamp: str = PINNED_TIMESTAMP
                   ) -> None:
    """Save an openpyxl workbook atomically and reproducibly.

    openpyxl stamps the save time into ``docProps/core.xml`` and the zip entries; both are
    replaced by ``timestamp`` so that the same workbook gives the same bytes. openpyxl
    writes its parts into an uncompressed archive, and each part is deflated once, as it is
    copied into the file with its pinned time.

    Parameters
    ----------
    target : str or Path
        The ``.xlsx`` file.
    workbook : openpyxl.Workbook
    timestamp : str
        ISO time (``YYYY-MM-DDTHH:MM:SSZ``) written as created/modified.
    """
    import io
    import re
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    # what Workbook.save does, into a stored (not deflated) archive: the parts are
    # compressed once, below
    with cycle_collection_paused():
        ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True)
                    ).save()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              lambda m: m.group(1) + timestamp + m.group(3), text)
                data = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zout.writestr(entry, data)
    with atomic_path(target) as tmp:
        tmp.write_bytes(out.getvalue())
