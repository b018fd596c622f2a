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
  CRS, the configuration, the claims): :func:`coverage.io.digest.content_digest`;
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

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from coverage.io.cache import array_digest, make_key
from coverage.io.digest import content_digest
from coverage.io.result_memo import memoised_result
from coverage.io.source_digest import source_digest

__all__ = ["PLAN_FORMAT", "memoised_plan", "plan_key"]

PLAN_FORMAT = "plan-pickle-v2"
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


def plan_key(study: Any, signal: Any, assessment: Any, backend: str,
             seen: dict[int, tuple[object, str]] | None = None) -> str:
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
    seen : dict, optional
        Digests of tables and arrays already read in this run
        (:func:`coverage.io.digest.content_digest`).
    """
    best = signal.best_site
    rasters = {op: [array_digest(np.asarray(rsrp)), array_digest(np.asarray(best[op]))]
               for op, rsrp in signal.rsrp.items()}
    return make_key({
        "format": PLAN_FORMAT,
        "code": source_digest("."),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "backend": backend,
        "study": content_digest(study, seen=seen),
        "signal": rasters,
        "assessment": content_digest(assessment, seen=seen),
    })


def memoised_plan(cache_dir: Path | None, key: Callable[[], str], make: Callable[[], Any]
                  ) -> Any:
    """The plan stored under ``key()`` in ``cache_dir``, or ``make()``'s, stored there
    (:func:`coverage.io.result_memo.memoised_result`).

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
    return memoised_result(cache_dir, key, make, keep=KEEP_ENTRIES)
