"""The planning result, memoised in the run's checksummed cache.

A warm run plans the same gaps with the same candidates, costs and settings as the run
before it, and :func:`~coverage.plan.make_plan` (candidate generation, the candidates'
coverage of the gap households, the MILP, the operator claims, backhaul) costs seconds
although its result cannot have changed. :func:`memoised_plan` stores the :class:`Plan` as
one entry of the cache of :mod:`coverage.io.cache` (the entry's key and a SHA-256 checksum
are verified on reading, like every other entry) and reads it back only when *everything*
the plan is computed from is the same:

* the whole study handed to the planner, field by field (every table's column names,
  dtypes and values, geometries as WKB, the working grid's elevation raster, transform and
  CRS, the configuration, the claims): :func:`content_digest`;
* the signal the gaps are judged on (every operator's best-server RSRP and site rasters,
  in operator order)
  and the assessment of it (every table);
* which radio predicts the candidates (in this process, or on a dask cluster);
* the source of the whole package (:func:`coverage.io.source_digest.source_digest`) and the
  versions of the libraries that compute the plan (numpy, scipy and its HiGHS solver,
  pandas, geopandas, shapely, pyproj, numba), so that editing any code, or upgrading a
  solver, never reads a plan made by other code.

A miss (no entry, or a corrupt or stale one) runs the planner and stores its result; the
plan of a hit is the one that run produced (its ``timings`` and the solver's seconds are
those of that run). The plan is stored as a pickle inside the checksummed entry: it holds
geometry tables and solver records that have no array form. The cache lives in the run's
own output folder, which only the user writes, and an entry is unpickled only after its key
and checksum are verified.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib.metadata
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage.io.cache import array_digest, keep_newest, make_key, read_entry, write_entry
from coverage.io.source_digest import source_digest

__all__ = ["PLAN_FORMAT", "content_digest", "memoised_plan", "plan_key"]

PLAN_FORMAT = "plan-pickle-v1"
"""Identifies the stored layout; part of the key."""

KEEP_ENTRIES = 2
"""Plan entries kept (the most recently used); a demo plan entry is a few megabytes."""

LIBRARIES = ("numpy", "scipy", "highspy", "pandas", "geopandas", "shapely", "pyproj", "numba")
"""Distributions whose versions enter the key (the solver comes with scipy)."""


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _frame_digest(h: Any, frame: pd.DataFrame) -> None:
    """Feed a table's columns, dtypes, index and values into ``h``."""
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode("utf-8"))
    h.update(repr(list(frame.index)).encode("utf-8") if not isinstance(
        frame.index, pd.RangeIndex) else repr(frame.index).encode("utf-8"))
    for name in frame.columns:
        col = frame[name]
        h.update(str(name).encode("utf-8"))
        dtype = str(col.dtype)
        if dtype == "geometry":
            import shapely

            wkb = shapely.to_wkb(np.asarray(col.array), hex=False, include_srid=False)
            for item in wkb:
                h.update(b"\0" if item is None else item)
            h.update(str(getattr(col, "crs", None)).encode("utf-8"))
            continue
        try:
            values = pd.util.hash_pandas_object(col, index=False).to_numpy()
            h.update(array_digest(values).encode("ascii"))
        except TypeError:   # unhashable cells (lists, dicts): their text, in order
            h.update(repr(col.tolist()).encode("utf-8"))


def _feed(h: Any, value: Any) -> None:
    """Feed ``value`` (recursively) into the hash ``h``."""
    h.update(type(value).__qualname__.encode("utf-8"))
    if isinstance(value, pd.DataFrame):
        _frame_digest(h, value)
    elif isinstance(value, pd.Series):
        _frame_digest(h, value.to_frame())
    elif isinstance(value, np.ndarray):
        h.update(array_digest(value).encode("ascii"))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            h.update(f.name.encode("utf-8"))
            _feed(h, getattr(value, f.name))
    elif hasattr(value, "model_dump_json"):     # the configuration (pydantic)
        h.update(value.model_dump_json().encode("utf-8"))
    elif isinstance(value, Mapping):
        for key in value:
            _feed(h, key)
            _feed(h, value[key])
    elif isinstance(value, list | tuple):
        h.update(str(len(value)).encode("ascii"))
        for item in value:
            _feed(h, item)
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


def content_digest(value: Any) -> str:
    """SHA-256 hex digest of a result or input's content (tables, arrays, dataclasses).

    Parameters
    ----------
    value : object
        A dataclass (recursively its fields), DataFrame or GeoDataFrame, ndarray, mapping,
        sequence or plain value.

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
    _feed(h, value)
    return h.hexdigest()


def plan_key(study: Any, signal: Any, assessment: Any, backend: str) -> str:
    """SHA-256 key of the plan of ``study`` on ``signal`` and ``assessment``.

    Parameters
    ----------
    study : Study
        The study handed to the planner.
    signal : Signal
        The signal the gaps are judged on: every operator's best-server RSRP and site
        rasters enter the key (the any-operator rasters are combined from them).
    assessment : Assessment
        The assessment of ``signal``.
    backend : str
        Which radio predicts the candidates (``"local"`` or the cluster's).
    """
    best = signal.best_site
    rasters = {op: [array_digest(np.asarray(rsrp)), array_digest(np.asarray(best[op]))]
               for op, rsrp in signal.rsrp.items()}
    return make_key({
        "format": PLAN_FORMAT,
        "code": source_digest("."),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "backend": backend,
        "study": content_digest(study),
        "signal": rasters,
        "assessment": content_digest(assessment),
    })


def memoised_plan(cache_dir: Path | None, key: Callable[[], str], make: Callable[[], Any]
                  ) -> Any:
    """The plan stored under ``key()`` in ``cache_dir``, or ``make()``'s, stored there.

    Parameters
    ----------
    cache_dir : Path or None
        Folder of the plan entries (e.g. ``<out>/.cache/plan``); None plans without a memo.
    key : callable
        Returns the entry's key (:func:`plan_key`); a ``TypeError`` from it (content that
        cannot be digested) plans without a memo.
    make : callable
        Plans (:func:`coverage.plan.make_plan`); its errors propagate and nothing is stored.

    Returns
    -------
    Plan
    """
    if cache_dir is None:
        return make()
    try:
        name = key()
    except TypeError:
        return make()
    found = read_entry(cache_dir, name)
    if found.status == "hit" and found.arrays is not None:
        plan = pickle.loads(found.arrays["plan"].tobytes())
        keep_newest(cache_dir, KEEP_ENTRIES, used=name)
        return plan
    plan = make()
    blob = np.frombuffer(pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)
    write_entry(cache_dir, name, {"plan": blob}, compress=True)
    keep_newest(cache_dir, KEEP_ENTRIES, used=name)
    return plan
