"""The composed prediction of a whole network, cached as one content-keyed entry.

A warm run used to read, verify and decode every site's loss window and apply the link budget
to it again (hundreds of megabytes of compressed losses for the demo county), only to fold
them into the same best-server rasters as last time. This module stores those rasters (per
operator the best RSRP, float32, and the serving site, int32) as one entry of the checksummed
cache of :mod:`coverage.io.cache`, and reads them back when nothing they depend on changed.

The key holds everything the rasters depend on:

* every site job in site order (position in ``Study.sites``, id, operator, position, height,
  frequency, azimuths, radio parameters with the band defaults applied, antenna pattern) and
  every site left out with its warning;
* the model and coverage-rule settings, the operators in configuration order;
* the working grid (transform, shape, CRS) and the SHA-256 of its whole elevation raster;
* the loss format (:data:`coverage.predict.loss_codec.FORMAT`), the engine version, the
  numpy and numba versions, and the digest of the source of the modules that compute the
  rasters (:func:`coverage.io.source_digest.source_digest`), so editing the code never
  reads an entry made by other code.

A result is stored only when it carries no warning beyond the ones its key already implies
(settings ignored, sites without a configured band), so a hit reproduces the result exactly:
the same rasters, the any-operator raster recombined by the same rule, every site counted as
read from the cache (as a warm per-site run counts them), and the same warnings. Anything
else (an unpredictable site, a corrupt or stale entry) falls back to the per-site prediction,
whose own cache still applies.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import threading
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from pyproj import CRS

from coverage.errors import Problem
from coverage.io.cache import (
    array_digest,
    keep_newest,
    make_key,
    read_entry,
    write_entry,
)
from coverage.io.source_digest import source_digest
from coverage.predict import loss_codec
from coverage.predict.sites import SiteJob, make_site_job, settings_warnings
from coverage.radio import engine
from coverage.signal import CoverageResult, OperatorCoverage, combine_operators
from coverage.study import Study

__all__ = ["NETWORK_FORMAT", "added_sites_only", "cached_network", "finish_writes",
           "network_key"]

NETWORK_FORMAT = "network-best-server-v2"
"""Identifies the stored layout; part of the key."""

KEEP_ENTRIES = 3
"""Network entries kept (the most recently used): a run's networks on air and committed,
and the plan's added sites (the network after the plan is the committed one merged with
them). An entry of the demo is at most about 24 MB (the plan's sites alone, mostly empty
raster, far less), so editing sites never grows the cache by more."""

CODE = ("radio", "predict/__init__.py", "predict/network.py", "predict/network_cache.py",
        "predict/sites.py", "predict/loss_codec.py", "signal.py", "grid.py", "config.py",
        "io/cache.py", "io/source_digest.py")
"""Sources (relative to the package) whose digest enters the key."""


LEFT_OUT_STATUS = "predicted_before"
"""Status :func:`added_sites_only` gives the sites a prediction must skip (no real site has
it, so no prediction of real statuses picks them)."""


def added_sites_only(study: Study, first: int) -> Study:
    """``study`` whose sites before position ``first`` no prediction picks.

    Their rows stay where they are, so the added sites keep their positions (the best-server
    indices): merging the prediction of the added sites into one of the earlier sites equals
    predicting them all (:func:`coverage.signal.merge_coverage`), without reading the earlier
    ones again.
    """
    sites = study.sites.copy()
    status = sites["status"].astype(object).to_numpy(copy=True)
    status[:first] = LEFT_OUT_STATUS
    sites["status"] = status
    return dataclasses.replace(study, sites=sites)


def _entries(study: Study, statuses: Iterable[str] | None) -> list[SiteJob | Problem]:
    """The site jobs and left-out sites of ``statuses``, in site order (as predicted)."""
    cfg = study.config
    sites = study.sites.reset_index(drop=True)
    wanted = None if statuses is None else set(statuses)
    return [make_site_job(cfg, sites.iloc[i], i) for i in range(len(sites))
            if wanted is None or str(sites.at[i, "status"]) in wanted]


def _static_warnings(study: Study, entries: list[SiteJob | Problem]) -> list[Problem]:
    """The warnings every prediction of ``entries`` carries, in the order it gives them."""
    return [*settings_warnings(study.config.model),
            *(e for e in entries if isinstance(e, Problem))]


def network_key(study: Study, entries: list[SiteJob | Problem]) -> str:
    """SHA-256 key of the best-server rasters of ``entries`` on the study's grid."""
    cfg, grid = study.config, study.grid
    return make_key({
        "format": NETWORK_FORMAT,
        "loss_format": loss_codec.FORMAT,
        "engine": engine.ENGINE_VERSION,
        "numpy": np.__version__,
        "numba": _numba_version(),
        "code": source_digest(*CODE),
        "operators": list(cfg.operators),
        "model": cfg.model.model_dump(mode="json"),
        "rule": cfg.rule.model_dump(mode="json"),
        "grid": [list(grid.transform)[:6], list(grid.shape), str(grid.crs),
                 array_digest(grid.elevation)],
        "entries": [dataclasses.asdict(e) for e in entries],
    })


_writing: list[tuple[threading.Thread, list[BaseException]]] = []
_writing_lock = threading.Lock()
_prune_lock = threading.Lock()  # one keep_newest at a time (a write may run beside a read)


def finish_writes() -> None:
    """Wait for the entries :func:`cached_network` is still writing in the background.

    Raises
    ------
    Exception
        The first error of such a write (as a write in the foreground would have).
    """
    with _writing_lock:
        pending = list(_writing)
        _writing.clear()
    errors: list[BaseException] = []
    for thread, failed in pending:
        thread.join()
        errors += failed
    if errors:
        raise errors[0]


def _store(cache_dir: Path, key: str, arrays: dict[str, np.ndarray], background: bool
           ) -> None:
    """Write one entry and keep the newest; in a thread of its own when ``background``
    (checksum and compression release the GIL, so they overlap the steps that follow)."""
    def write() -> None:
        write_entry(cache_dir, key, arrays, compress=True, raw=_incompressible(arrays))
        with _prune_lock:
            keep_newest(cache_dir, KEEP_ENTRIES, used=key)

    if not background:
        write()
        return
    failed: list[BaseException] = []

    def run() -> None:
        try:
            write()
        except BaseException as exc:  # re-raised by finish_writes
            failed.append(exc)

    thread = threading.Thread(target=run, name="coverage-network-cache")
    with _writing_lock:
        _writing.append((thread, failed))
    thread.start()


def cached_network(study: Study, statuses: Iterable[str] | None, cache_dir: Path | None,
                   predict: Callable[[], CoverageResult], *,
                   progress: Callable[[int, int], None] | None = None,
                   background: bool = False) -> CoverageResult:
    """``predict()``'s result, from the network cache when a valid entry exists.

    Parameters
    ----------
    study : Study
        The study whose sites of ``statuses`` ``predict`` predicts.
    statuses : iterable of str or None
        Site statuses predicted (None: every site).
    cache_dir : Path or None
        Folder of the network entries, of its own: only the :data:`KEEP_ENTRIES` most
        recently used entries in it are kept. None always predicts.
    predict : callable
        The prediction (in process or on a cluster; both give the same result).
    progress : callable, optional
        Called once as ``progress(n, n)`` on a hit (``predict`` reports its own progress).
    background : bool
        Write a new entry in a background thread (the caller calls :func:`finish_writes`
        before it ends). Entries appear atomically, and the folder is pruned by one thread
        at a time, so a read beside a write finds a whole entry or none (then predicts).

    Returns
    -------
    CoverageResult
        Without per-site windows (``sites`` is empty).
    """
    if cache_dir is None:
        return predict()
    entries = _entries(study, statuses)
    key = network_key(study, entries)
    operators = tuple(study.config.operators)
    expected = _static_warnings(study, entries)
    found = read_entry(cache_dir, key)
    if found.status == "hit" and found.arrays is not None:
        a = found.arrays
        by_operator = {op: OperatorCoverage(op, _unshuffle(a[f"rsrp_{k}"], a[f"rsrp_hi_{k}"]),
                                            a[f"site_{k}"].astype(np.int32))
                       for k, op in enumerate(operators)}
        if operators:
            any_rsrp, any_operator = combine_operators([by_operator[op].rsrp
                                                        for op in operators])
        else:
            shape = study.grid.shape
            any_rsrp = np.full(shape, np.nan, np.float32)
            any_operator = np.full(shape, -1, np.int8)
        grid_crs = study.grid.crs
        crs = grid_crs if isinstance(grid_crs, CRS) else CRS.from_user_input(grid_crs)
        jobs = sum(isinstance(e, SiteJob) for e in entries)
        if progress is not None:
            progress(len(entries), len(entries))
        with _prune_lock:
            keep_newest(cache_dir, KEEP_ENTRIES, used=key)
        return CoverageResult(study.grid.transform, crs, operators, by_operator, any_rsrp,
                              any_operator, (), 0, jobs, expected)
    result = predict()
    if _storable(result, operators, expected):
        arrays: dict[str, np.ndarray] = {}
        for k, op in enumerate(operators):
            planes = _shuffle(result.by_operator[op].rsrp)
            arrays[f"rsrp_{k}"], arrays[f"rsrp_hi_{k}"] = planes[:2], planes[2:]
            arrays[f"site_{k}"] = _narrow(result.by_operator[op].best_site)
        _store(cache_dir, key, arrays, background)
    return result


def _storable(result: CoverageResult, operators: tuple[str, ...], expected: list[Problem]
              ) -> bool:
    """Whether a hit would reproduce ``result`` exactly (see the module notes)."""
    if result.sites or result.operators != operators or list(result.warnings) != expected:
        return False
    for op in operators:
        cov = result.by_operator[op]
        if cov.rsrp.dtype != np.float32 or cov.best_site.dtype != np.int32:
            return False
    if not operators:
        return True
    any_rsrp, any_operator = combine_operators([result.by_operator[op].rsrp
                                                for op in operators])
    return (np.array_equal(any_rsrp, result.any_rsrp, equal_nan=True)
            and np.array_equal(any_operator, result.any_operator)
            and any_rsrp.dtype == result.any_rsrp.dtype
            and any_operator.dtype == result.any_operator.dtype)


def _incompressible(arrays: dict[str, np.ndarray], blocks: int = 16,
                    block: int = 1 << 15) -> list[str]:
    """Names of the arrays that deflate by less than a tenth, judged on ``blocks`` samples
    of ``block`` bytes spread over each: stored as they are, they read at the disk's speed.

    The two low bytes of a raster of RSRP are noise to the deflater (2 % smaller, a quarter
    of an entry's reading time); a raster that is mostly NaN deflates well and is deflated.
    """
    names = []
    for name, value in arrays.items():
        flat = np.ascontiguousarray(value).reshape(-1).view(np.uint8)
        if flat.size < blocks * block:
            continue
        starts = np.linspace(0, flat.size - block, blocks).astype(np.int64)
        part = b"".join(flat[s:s + block].tobytes() for s in starts)
        if len(zlib.compress(part, 1)) > 0.9 * len(part):
            names.append(name)
    return names


def _shuffle(rsrp: np.ndarray) -> np.ndarray:
    """A float32 raster as its four byte planes (uint8, shape (4, rows, cols)).

    The planes of the sign/exponent bytes are nearly constant, so the entry deflates
    about a quarter smaller than the raster itself; the round trip is exact.
    """
    raw = np.ascontiguousarray(rsrp, dtype="<f4").view(np.uint8)
    return np.ascontiguousarray(raw.reshape(*rsrp.shape, 4).transpose(2, 0, 1))


def _unshuffle(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_shuffle` given its planes ``[:2]`` and ``[2:]`` (float32, native
    byte order). Plane by plane into the interleaved bytes: 5x faster than a transposed
    copy of all four."""
    raw = np.empty((*low.shape[1:], 4), np.uint8)
    for k, plane in enumerate((*low, *high)):
        raw[..., k] = plane
    return raw.view("<f4").reshape(low.shape[1:]).astype(np.float32, copy=False)


def _narrow(best_site: np.ndarray) -> np.ndarray:
    """Site indices as int16 when they fit (they are widened back to int32 on reading)."""
    if best_site.size == 0 or int(best_site.max()) <= np.iinfo(np.int16).max:
        return best_site.astype(np.int16)
    return best_site


def _numba_version() -> str:
    """The installed numba's version (the kernels' compiler), without importing it."""
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return "none"
