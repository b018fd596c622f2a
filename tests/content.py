"""Compare files by content, for files committed from another machine.

Byte identity is a promise within one environment (a re-run, serial vs cluster, cold vs warm
cache). A file committed to the repository was written with whatever library versions its
author had; a fresh install may write the same content with different bytes (the last bit of
a float after a new numpy, a GeoPackage page order after a new GDAL). These helpers compare
what a user relies on instead:

* vector files: the same layers, columns, rows, ids and attributes; geometries equal within
  ``GEOMETRY_TOLERANCE_M``;
* rasters: the same grid (CRS, transform, shape, dtype, nodata) and values within a stated
  tolerance;
* CSV and text: the same cells, numbers equal within the precision they are printed with.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely

GEOMETRY_TOLERANCE_M = 1e-6
"""Largest vertex shift (m) between two geometries that count as equal."""

METRES_PER_DEGREE = 111_320.0
"""Upper bound of the length of one degree of longitude or latitude (m): a tolerance in
degrees of ``tol_m / METRES_PER_DEGREE`` never admits more than ``tol_m`` on the ground."""

_NUMBER = re.compile(r"[-+]?\d+(?:\.(\d+))?(?:[eE][-+]?\d+)?")


def _printed_step(text: str) -> float:
    """One unit in the last printed place of a number written as ``text``."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def numbers_agree(a: str, b: str) -> bool:
    """Whether two printed cells agree: equal text, or numbers within one unit of the
    coarser printed precision (a float's last digit may round the other way)."""
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) and math.isnan(y):
        return True
    step = max(_printed_step(a.strip()), _printed_step(b.strip()))
    return abs(x - y) <= step * (1 + 1e-6)


def assert_text_equal(got: Path, want: Path) -> None:
    """Text files equal token by token, numbers within their printed precision."""
    a_lines = got.read_text(encoding="utf-8").splitlines()
    b_lines = want.read_text(encoding="utf-8").splitlines()
    assert len(a_lines) == len(b_lines), f"{want.name}: {len(a_lines)} vs {len(b_lines)} lines"
    for number, (a, b) in enumerate(zip(a_lines, b_lines, strict=True), start=1):
        if a == b:
            continue
        assert _NUMBER.sub("#", a) == _NUMBER.sub("#", b), f"{want.name}:{number}: {a!r} vs {b!r}"
        for x, y in zip(_NUMBER.finditer(a), _NUMBER.finditer(b), strict=True):
            assert numbers_agree(x.group(), y.group()), (
                f"{want.name}:{number}: {x.group()} vs {y.group()}")


def assert_csv_equal(got: Path, want: Path) -> None:
    """CSV files with the same header and rows; numbers within their printed precision."""
    a = pd.read_csv(got, dtype=str, keep_default_na=False)
    b = pd.read_csv(want, dtype=str, keep_default_na=False)
    assert list(a.columns) == list(b.columns), f"{want.name}: columns differ"
    assert len(a) == len(b), f"{want.name}: {len(a)} vs {len(b)} rows"
    for column in a.columns:
        differ = [i for i, (x, y) in enumerate(zip(a[column], b[column], strict=True))
                  if not numbers_agree(x, y)]
        assert not differ, (f"{want.name}: column {column!r} differs in {len(differ)} rows, "
                            f"first at data row {differ[0] + 1}: "
                            f"{a[column].iloc[differ[0]]!r} vs {b[column].iloc[differ[0]]!r}")


def _geometry_tolerance(crs) -> float:
    if crs is not None and crs.is_geographic:
        return GEOMETRY_TOLERANCE_M / METRES_PER_DEGREE
    return GEOMETRY_TOLERANCE_M


def assert_frames_equal(a: pd.DataFrame, b: pd.DataFrame, *, what: str) -> None:
    """Two (Geo)DataFrames with the same columns, rows and values; geometries within
    ``GEOMETRY_TOLERANCE_M``, floats within 1e-9 relative."""
    assert list(a.columns) == list(b.columns), (
        f"{what}: columns {list(a.columns)} vs {list(b.columns)}")
    assert len(a) == len(b), f"{what}: {len(a)} vs {len(b)} rows"
    for column in a.columns:
        x, y = a[column], b[column]
        if isinstance(a, gpd.GeoDataFrame) and column == a.geometry.name:
            assert a.crs == b.crs, f"{what}: CRS {a.crs} vs {b.crs}"
            tol = _geometry_tolerance(a.crs)
            same = shapely.equals_exact(x.to_numpy(), y.to_numpy(), tolerance=tol)
            bad = np.flatnonzero(~same)
            assert bad.size == 0, f"{what}: {bad.size} geometries differ, first at row {bad[0]}"
        elif pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
            np.testing.assert_allclose(x.to_numpy(), y.to_numpy(), rtol=1e-9, atol=0,
                                       equal_nan=True, err_msg=f"{what}: column {column!r}")
        else:
            assert str(x.dtype) == str(y.dtype) or not (
                pd.api.types.is_numeric_dtype(x) ^ pd.api.types.is_numeric_dtype(y)), (
                f"{what}: column {column!r} dtype {x.dtype} vs {y.dtype}")
            differ = ~((x == y) | (x.isna() & y.isna()))
            assert not differ.any(), (
                f"{what}: column {column!r} differs in {int(differ.sum())} rows, first "
                f"{x[differ].iloc[0]!r} vs {y[differ].iloc[0]!r}")


def assert_vector_file_equal(got: Path, want: Path) -> None:
    """A GeoPackage (or any OGR file) with the same layers and the same content."""
    layers_a = [name for name, _ in pyogrio.list_layers(got)]
    layers_b = [name for name, _ in pyogrio.list_layers(want)]
    assert layers_a == layers_b, f"{want.name}: layers {layers_a} vs {layers_b}"
    for layer in layers_a:
        assert_frames_equal(gpd.read_file(got, layer=layer), gpd.read_file(want, layer=layer),
                            what=f"{want.name} layer {layer}")


def assert_raster_equal(got: Path, want: Path, *, atol: float) -> None:
    """A raster on the same grid with values within ``atol`` (nodata in the same cells)."""
    with rasterio.open(got) as a, rasterio.open(want) as b:
        for key in ("crs", "transform", "width", "height", "count", "dtypes", "nodata"):
            assert getattr(a, key) == getattr(b, key), f"{want.name}: {key} differs"
        for band in range(1, a.count + 1):
            x, y = a.read(band, masked=True), b.read(band, masked=True)
            assert np.array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y)), (
                f"{want.name}: nodata cells differ in band {band}")
            diff = np.abs(x.astype(np.float64) - y.astype(np.float64)).max()
            assert diff is np.ma.masked or diff <= atol, (
                f"{want.name}: band {band} differs by {diff} > {atol}")


def assert_files_equal(got: Path, want: Path, *, raster_atol: float = 0.0) -> None:
    """Dispatch on the file's kind."""
    suffix = got.suffix.lower()
    if suffix in (".gpkg", ".geojson", ".shp"):
        assert_vector_file_equal(got, want)
    elif suffix in (".tif", ".tiff"):
        assert_raster_equal(got, want, atol=raster_atol)
    elif suffix == ".csv":
        assert_csv_equal(got, want)
    else:
        assert_text_equal(got, want)
