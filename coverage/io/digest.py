"""Content digests of results and inputs, and of the environment that renders outputs.

:func:`content_digest` reads what a value *holds* (tables column by column, geometries as
WKB, arrays byte for byte, dataclasses field by field), never its identity, so two runs that
computed equal results get equal digests. :func:`environment_digest` covers what an output
writer reads besides the results: every file of the package (code, templates), every
installed distribution's version, the Python version, the locale, time-zone and plotting
settings of the environment, and the system's font files (the overview picture picks a CJK
font among them).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import os
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage.io.cache import array_digest

__all__ = ["content_digest", "environment_digest"]

_PACKAGE = Path(__file__).resolve().parent.parent

def _column_digest(h: Any, col: pd.Series) -> None:
    """Feed one column's values into ``h`` (its name and dtype are fed by the caller)."""
    dtype = col.dtype
    if str(dtype) == "geometry":
        import shapely

        wkb = shapely.to_wkb(np.asarray(col.array), hex=False, include_srid=False)
        items = [b"" if item is None else item for item in wkb]
        h.update(np.fromiter(map(len, items), np.int64, len(items)).tobytes())
        h.update(b"".join(items))
        h.update(str(getattr(col, "crs", None)).encode("utf-8"))
        return
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        values = col.to_numpy()
        if dtype.kind in "mM":   # dates and durations: their integer ticks (dtype fed above)
            values = values.view(np.int64)
        h.update(array_digest(values).encode("ascii"))
        return
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        cells = col.tolist()
        if all(type(v) is str or v is None for v in cells):   # text, maybe missing
            data = [b"" if v is None else v.encode("utf-8", "surrogatepass") for v in cells]
            h.update(np.fromiter((-1 if v is None else len(d) for v, d in
                                  zip(cells, data, strict=True)), np.int64,
                                 len(data)).tobytes())
            h.update(b"".join(data))
            return
    try:
        h.update(array_digest(pd.util.hash_pandas_object(col, index=False).to_numpy())
                 .encode("ascii"))
    except TypeError:   # unhashable cells (lists, dicts): their text, in order
        h.update(repr(col.tolist()).encode("utf-8"))


def _frame_digest(h: Any, frame: pd.DataFrame) -> None:
    """Feed a table's columns, dtypes, index and values into ``h``."""
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode("utf-8"))
    h.update(repr(list(frame.index)).encode("utf-8") if not isinstance(
        frame.index, pd.RangeIndex) else repr(frame.index).encode("utf-8"))
    for i in range(frame.shape[1]):
        h.update(f"\0column {i}\0".encode("ascii"))
        _column_digest(h, frame.iloc[:, i])


def _bulk_digest(value: pd.DataFrame | pd.Series | np.ndarray,
                 seen: dict[int, tuple[object, str]]) -> str:
    """The digest of a table or array, computed once per object in one digest (an object
    met again, such as a table two studies share, is not read twice)."""
    known = seen.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    if isinstance(value, np.ndarray):
        digest = array_digest(value)
    else:
        h = hashlib.sha256()
        _frame_digest(h, value.to_frame() if isinstance(value, pd.Series) else value)
        digest = h.hexdigest()
    seen[id(value)] = (value, digest)
    return digest


def _feed(h: Any, value: Any, skip: Collection[str], seen: dict[int, tuple[object, str]]
          ) -> None:
    """Feed ``value`` (recursively) into the hash ``h``."""
    h.update(type(value).__qualname__.encode("utf-8"))
    if isinstance(value, pd.DataFrame | pd.Series | np.ndarray):
        h.update(_bulk_digest(value, seen).encode("ascii"))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name in skip:
                continue
            h.update(f.name.encode("utf-8"))
            _feed(h, getattr(value, f.name), skip, seen)
    elif hasattr(value, "model_dump_json"):     # the configuration (pydantic)
        h.update(value.model_dump_json().encode("utf-8"))
    elif isinstance(value, Mapping):
        for key in value:
            _feed(h, key, skip, seen)
            _feed(h, value[key], skip, seen)
    elif isinstance(value, list | tuple):
        h.update(str(len(value)).encode("ascii"))
        for item in value:
            _feed(h, item, skip, seen)
    elif isinstance(value, enum.Enum):
        h.update(repr(value.value).encode("utf-8"))
    elif value is None or isinstance(value, str | int | float | bool | Path | np.generic):
        h.update(repr(value).encode("utf-8"))
    elif hasattr(value, "to_wkt"):              # pyproj CRS
        h.update(value.to_wkt().encode("utf-8"))
    elif type(value).__name__ == "Affine":
        h.update(repr(tuple(value)).encode("utf-8"))
    else:
        text = repr(value)
        if " at 0x" in text:   # an object without a value representation: no reuse
            raise TypeError(f"cannot digest a {type(value).__qualname__}")
        h.update(text.encode("utf-8"))


def content_digest(value: Any, skip: Collection[str] = (),
                   seen: dict[int, tuple[object, str]] | None = None) -> str:
    """SHA-256 hex digest of a result or input's content (tables, arrays, dataclasses).

    Parameters
    ----------
    value : object
        A dataclass (recursively its fields), DataFrame or GeoDataFrame, ndarray, mapping,
        sequence or plain value.
    skip : collection of str
        Dataclass fields left out wherever they occur (e.g. run timings).
    seen : dict, optional
        Digests of tables and arrays by object, shared by the digests of one run: a table
        or array met again is not read again. Only for objects that keep their content
        while the dictionary is in use.

    Returns
    -------
    str
        Equal for equal content, whatever the objects' identities.

    Raises
    ------
    TypeError
        For an object whose content cannot be read (so that nothing is keyed on identity).
    """
    h = hashlib.sha256()
    _feed(h, value, skip, {} if seen is None else seen)
    return h.hexdigest()


ENVIRONMENT_VARIABLES = ("LANG", "LC_ALL", "LC_CTYPE", "LC_COLLATE", "TZ", "MPLCONFIGDIR",
                         "MATPLOTLIBRC", "PROJ_DATA", "PROJ_LIB", "GDAL_DATA",
                         "SOURCE_DATE_EPOCH", "PYTHONHASHSEED")
"""Environment variables that can change how an output is rendered."""

FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts",
                "~/.local/share/fonts")
"""Where the system's fonts are installed (fontconfig's default folders)."""


def _package_files(h: Any) -> None:
    for path in sorted(p for p in _PACKAGE.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(_PACKAGE).as_posix().encode("utf-8"))
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")


def _fonts(h: Any) -> None:
    for folder in FONT_FOLDERS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            stat = path.stat()
            h.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode("utf-8",
                                                                             "replace"))


def _matplotlibrc(h: Any) -> None:
    config = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "matplotlib")
    for candidate in (Path("matplotlibrc"), Path(config) / "matplotlibrc"):
        h.update(str(candidate.resolve()).encode("utf-8", "replace"))
        h.update(candidate.read_bytes() if candidate.is_file() else b"absent")


def _distributions() -> list[str]:
    """Every installed distribution as its metadata folder's name (name and version)."""
    found: set[str] = set()
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder.is_dir():
            found.update(p.name for p in folder.iterdir()
                         if p.suffix in (".dist-info", ".egg-info"))
    return sorted(found)


@functools.cache
def environment_digest() -> str:
    """SHA-256 hex digest of what output writers read besides their results.

    Every file of the package (sources, templates, compiled kernels; not ``__pycache__``),
    the name and version of every installed distribution (its metadata folder), the Python
    version, the variables of :data:`ENVIRONMENT_VARIABLES`, the ``matplotlibrc`` files matplotlib
    would read, and the path, size and modification time of every font file in
    :data:`FONT_FOLDERS`. Computed once per process.
    """
    h = hashlib.sha256()
    h.update(sys.version.encode("utf-8"))
    _package_files(h)
    h.update(repr(_distributions()).encode("utf-8"))
    h.update(repr([(k, os.environ.get(k)) for k in ENVIRONMENT_VARIABLES]).encode("utf-8"))
    _matplotlibrc(h)
    _fonts(h)
    return h.hexdigest()
