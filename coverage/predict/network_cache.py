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
from coverage.radio import codec_kernels, engine
from coverage.radio.threads import map_ordered
from coverage.signal import CoverageResult, OperatorCoverage, combine_operators
from coverage.study import Study

__all__ = ["NETWORK_FORMAT", "added_sites_only", "cached_network", "finish_writes",
           "network_key"]

NETWORK_FORMAT = "network-best-server-v3"
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


def _store(cache_dir: Path, key: str, arrays: Callable[[], dict[str, np.ndarray]],
           background: bool) -> None:
    """Write the entry of ``arrays()`` and keep the newest; in a thread of its own when
    ``background`` (the arrays are made there too: checksum and compression release the
    GIL, so they overlap the steps that follow)."""
    def write() -> None:
        write_entry(cache_dir, key, arrays())
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
    by_operator = None
    if found.status == "hit" and found.arrays is not None:
        try:
            by_operator = _decode(found.arrays, operators, study.grid.shape)
        except (KeyError, ValueError, zlib.error):  # checksummed: only a writer's bug
            by_operator = None
    if by_operator is not None:
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
        # the planes are copies, made here: the rasters may change once this returns
        planes = [_planes(result.by_operator[op]) for op in operators]
        _store(cache_dir, key, lambda: _encode(planes, study.grid.shape), background)
    return result


def _planes(coverage: OperatorCoverage) -> tuple[np.ndarray, np.ndarray]:
    """The byte planes of an operator's rasters (copies, uint8): the RSRP raster's four
    (:func:`coverage.radio.codec_kernels.rsrp_planes`) and the serving site's indices as
    the two planes of an int16 when every index fits, else the four of an int32."""
    bits = np.require(coverage.rsrp, np.float32, ["C_CONTIGUOUS", "WRITEABLE"]).view(np.uint32)
    rsrp = np.empty((4, *bits.shape), np.uint8)
    codec_kernels.rsrp_planes(bits, rsrp)
    site = np.require(coverage.best_site, np.int32, ["C_CONTIGUOUS", "WRITEABLE"])
    fits = site.size == 0 or (int(site.max()) <= np.iinfo(np.int16).max
                              and int(site.min()) >= np.iinfo(np.int16).min)
    sites = np.empty((2 if fits else 4, *site.shape), np.uint8)
    codec_kernels.index_planes(site, sites)
    return rsrp, sites


def _encode(planes: list[tuple[np.ndarray, np.ndarray]], shape: tuple[int, int]
            ) -> dict[str, np.ndarray]:
    """The arrays of an entry (format v3) holding the rasters of the operators whose
    :func:`_planes` are ``planes``.

    Per operator ``k`` (in configuration order):

    * ``rsrp_k``: the RSRP raster's two low bytes, as they are when they are noise to the
      deflater (:func:`_incompressible`); otherwise ``rsrp_z_k``, the same planes deflated
      (:func:`_deflate`);
    * ``rsrp_hi_z_k``: its two high bytes deflated, the first of them (the high bits of the
      mantissa, which vary smoothly) as its differences along the rows (modulo 256);
    * ``site_z_k``: the serving site's index in ``site_width_k`` bytes (2 when every index
      fits an int16, else 4), as byte planes (low byte first), deflated (level 1).

    The file is not compressed a second time (:func:`coverage.io.cache.write_entry` still
    checksums it). ``shape`` is the rasters' shape (rows, cols).
    """
    arrays: dict[str, np.ndarray] = {"shape": np.array(shape, np.int64)}
    for k, (rsrp, sites) in enumerate(planes):
        low = rsrp[:2]
        if _incompressible({"low": low}):
            arrays[f"rsrp_{k}"] = low
        else:
            arrays[f"rsrp_z_{k}"] = _deflate(low)
        arrays[f"rsrp_hi_z_{k}"] = _deflate(rsrp[2:])
        arrays[f"site_z_{k}"] = _deflate(sites, runs_only=False)
        arrays[f"site_width_{k}"] = np.array(sites.shape[0], np.int64)
    return arrays


def _decode(arrays: dict[str, np.ndarray], operators: tuple[str, ...],
            shape: tuple[int, int]) -> dict[str, OperatorCoverage]:
    """Inverse of :func:`_encode`: the coverage of each of ``operators``.

    The operators are decoded side by side on the kernel threads
    (:func:`coverage.radio.threads.map_ordered`): inflating and the codec kernels release
    the GIL, and a warm run decodes three entries of three operators (about 0.5 s of CPU).

    Raises
    ------
    KeyError, ValueError, zlib.error
        When the arrays are not an entry of ``operators`` on rasters of ``shape``.
    """
    if tuple(int(n) for n in arrays["shape"]) != tuple(shape):
        raise ValueError("the entry holds rasters of another shape")

    def decode(k: int) -> OperatorCoverage:
        return _decode_operator(arrays, k, operators[k], shape)

    return {cov.operator: cov for cov in map_ordered(decode, range(len(operators)))}


def _decode_operator(arrays: dict[str, np.ndarray], k: int, operator: str,
                     shape: tuple[int, int]) -> OperatorCoverage:
    """The coverage of ``operator``, the ``k``-th of the entry's operators."""
    rows, cols = shape
    if f"rsrp_{k}" in arrays:
        low = np.require(arrays[f"rsrp_{k}"], np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])
        if low.shape != (2, rows, cols):
            raise ValueError("the low bytes of RSRP have another shape")
    else:
        low = _inflate(arrays[f"rsrp_z_{k}"], (2, rows, cols))
    high = _inflate(arrays[f"rsrp_hi_z_{k}"], (2, rows, cols))
    bits = np.empty((rows, cols), np.uint32)
    codec_kernels.rsrp_from_planes(low, high, bits)
    width = int(arrays[f"site_width_{k}"])
    if width not in (2, 4):
        raise ValueError(f"serving sites stored in {width} bytes")
    best = np.empty((rows, cols), np.int32)
    codec_kernels.index_from_planes(_inflate(arrays[f"site_z_{k}"], (width, rows, cols)), best)
    return OperatorCoverage(operator, bits.view(np.float32), best)


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


def _deflate(planes: np.ndarray, runs_only: bool = True) -> np.ndarray:
    """Byte planes deflated by zlib, as uint8 (1-D).

    ``runs_only``: with zlib's run-length strategy (as the site entries are,
    :mod:`coverage.predict.loss_codec`); otherwise zlib's default strategy at level 1.
    On the demo's entries the run-length strategy takes a third to a fifth of the CPU of
    ``zipfile``'s level 6 (which searches for long matches these planes rarely have), and
    the high bytes of RSRP (differenced along the rows) come out smaller. The serving sites'
    planes are long runs that level 1's matches of any distance cover in fewer symbols:
    about as fast to write, a third faster to inflate, a little larger.
    """
    level, strategy = ((zlib.Z_DEFAULT_COMPRESSION, zlib.Z_RLE) if runs_only
                       else (1, zlib.Z_DEFAULT_STRATEGY))
    deflate = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL,
                               strategy)
    data = np.ascontiguousarray(planes, dtype=np.uint8).data
    return np.frombuffer(deflate.compress(data) + deflate.flush(), np.uint8)


def _inflate(stored: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_deflate`: the planes (uint8, writeable) of ``shape``.

    Raises
    ------
    ValueError, zlib.error
        When the bytes do not inflate, or not to an array of ``shape``.
    """
    raw = bytearray(zlib.decompress(np.ascontiguousarray(stored, np.uint8).data))
    if len(raw) != int(np.prod(shape)):
        raise ValueError(f"inflated {len(raw)} bytes, not an array of shape {shape}")
    return np.frombuffer(raw, np.uint8).reshape(shape)


def _numba_version() -> str:
    """The installed numba's version (the kernels' compiler), without importing it."""
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return "none"
