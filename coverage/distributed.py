"""Distributed and tiled execution of the coverage prediction (dask.distributed).

The same prediction runs in three ways, with byte-identical results:

* in this process, whole grid at once (:func:`coverage.predict.predict_coverage` without a
  client: the default for a county);
* in this process, tile by tile (:func:`predict_on_cluster` / :func:`predict_to_cogs` with
  ``client=None``);
* on a dask cluster, tile by tile: an embedded ``LocalCluster`` or an existing scheduler
  (:func:`open_client`).

How a tiled run goes
--------------------
1. Every site row becomes a :class:`~coverage.predict.SiteJob` (position, height, band,
   radio and pattern: numbers only). The working DEM is written once into the cache folder
   (:func:`coverage.io.tiles.write_dem_file`); tasks get its path, never an open dataset.
2. The grid is cut into core tiles (:mod:`coverage.tiling`); the sites of a tile are those
   whose loss window meets it (within one radius: the halo).
3. A *site task* per site maps the DEM file, computes the loss window (or reads it from the
   loss cache) and the RSRP window exactly as the in-process run does, and stores the RSRP
   window as a scratch cache entry (``<cache>/rsrp/``); it returns only a few numbers.
4. A *tile task* per (tile, operator) reads the RSRP windows of its sites one at a time,
   **in ascending site index**, and keeps the strongest (a tie keeps the lower index, as the
   in-process loop does); it returns the core tile's best RSRP and best site. An *any task*
   per tile combines the operators (ties to the earlier operator).
5. The caller receives finished tiles one by one: :func:`predict_on_cluster` pastes them into
   whole-grid arrays (a :class:`~coverage.predict.CoverageResult`), :func:`predict_to_cogs`
   writes them into tiled COGs and never holds the whole region.

Sites are submitted tile by tile (row-major), each tile's tasks right after its new sites, so
tiles finish while later sites are still being predicted and a site's scratch entry is
deleted as soon as every tile that needs it has been received.

Faults
------
Tasks are submitted with ``retries``; a worker that dies mid-task has the task re-run on
another worker by the scheduler. Every cache entry (loss windows in ``<cache>``, scratch RSRP
windows in ``<cache>/rsrp``) is written to a temporary file and renamed, and is checksummed,
so a killed task leaves at most a hidden temporary file, never a partial entry; a missing or
corrupt entry is recomputed. A re-run after a crash finds every finished site in the cache.

Memory
------
A worker holds one site's window (site task) or one core tile of one operator plus one site
window (tile task); see :func:`coverage.tiling.worker_memory_bytes`. The DEM file is mapped,
and a task reads only the pages of its window.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import Point

from coverage.config import Config
from coverage.errors import ConfigError, ModelRangeError, Problem
from coverage.io.cache import make_key, read_entry, write_entry
from coverage.io.tiles import (
    DemFile,
    TiledRasterSet,
    TiledRasterWriter,
    gdal_cache_limit,
    open_grid,
    write_dem_file,
)
from coverage.plan.coverage_matrix import CandidateRadio, candidate_sites
from coverage.predict import (
    CoverageResult,
    OperatorCoverage,
    SiteJob,
    combine_operators,
    job_loss_key,
    make_site_job,
    predict_site,
    settings_warnings,
    unpredictable,
)
from coverage.study import Study, WorkingGrid
from coverage.tiling import DEFAULT_TILE_CELLS, Tile, site_windows, sites_per_tile, tile_layout

__all__ = ["DEFAULT_RETRIES", "RSRP_DIR", "WORKER_ENV", "ClusterCandidateRadio", "SiteDone",
           "TileResult", "TiledRun", "any_task", "candidate_task", "check_shared_folder",
           "cog_writers", "distributed_available", "open_client", "predict_on_cluster",
           "predict_to_cogs", "rsrp_key", "run_tiled", "site_task", "tile_task", "worker_stats",
           "write_tile"]

DEFAULT_RETRIES = 3
"""Times a failed task is re-run (a task on a killed worker is rescheduled anyway)."""

RSRP_DIR = "rsrp"
"""Sub-folder of the cache folder holding the scratch RSRP windows of a tiled run."""

DEM_DIR = "dem"
"""Sub-folder of the cache folder holding the working-DEM file."""

WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}
"""Environment of embedded workers: one thread each (the cluster provides the parallelism)."""

GridSource = DemFile | WorkingGrid
"""What a task opens: the DEM file on a cluster, the grid itself in this process."""


def distributed_available() -> bool:
    """True when ``dask.distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _require_distributed() -> None:
    if not distributed_available():
        raise ConfigError("--scheduler/--workers need dask.distributed, which is not installed. "
                          "Fix: pip install 'coverage-planner[dask]' (or run without them).")


@contextlib.contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None, *,
                dashboard_address: str = ":0", memory_limit: str | float = "auto",
                connect_timeout: str = "20s") -> Iterator[Any]:
    """A dask client for a run, or None for an in-process run.

    Parameters
    ----------
    scheduler : str, optional
        Address of an existing scheduler (``tcp://HOST:PORT``).
    workers : int, optional
        Start an embedded ``LocalCluster`` of this many worker processes, one thread each.
    dashboard_address : str
        Dashboard of the embedded cluster (``":0"``: any free port).
    memory_limit : str or float
        Memory limit per embedded worker (dask syntax, ``"auto"`` shares the machine's).
    connect_timeout : str
        How long to try reaching ``scheduler`` (dask syntax).

    Yields
    ------
    distributed.Client or None
        None when neither ``scheduler`` nor ``workers`` is given.

    Raises
    ------
    ConfigError
        Both given, ``workers`` < 1, distributed not installed, or the scheduler unreachable.
    """
    if scheduler and workers:
        raise ConfigError("give --scheduler or --workers, not both. Fix: --scheduler to use an "
                          "existing cluster, --workers N for one on this machine.")
    if not scheduler and not workers:
        yield None
        return
    _require_distributed()
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            _refused_fast(scheduler)
            client = Client(scheduler, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the dask scheduler at {scheduler} ({exc}). Fix: "
                              "check the address (tcp://HOST:PORT) and that `dask scheduler` "
                              "is running and reachable from here.") from None
        try:
            yield client
        finally:
            client.close()
        return
    if int(workers) < 1:  # type: ignore[arg-type]
        raise ConfigError(f"--workers {workers}: give at least 1 worker.")
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1,  # type: ignore[arg-type]
                           processes=True, dashboard_address=dashboard_address,
                           memory_limit=memory_limit, env=dict(WORKER_ENV))
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _refused_fast(address: str) -> None:
    """Raise OSError at once when nothing listens at a ``tcp://HOST:PORT`` address.

    The dask client would retry until its timeout; a refused connection or an unknown host
    is certain and is reported now. Other addresses (tls://, inproc://) are left to dask.
    """
    import socket
    from urllib.parse import urlsplit

    if not address.startswith("tcp://"):
        return
    parts = urlsplit(address)
    if parts.hostname is None or parts.port is None:
        return
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=5.0):
            pass
    except (ConnectionRefusedError, socket.gaierror) as exc:
        raise OSError(exc.strerror or str(exc)) from None
    except OSError:
        return  # slow or filtered: let dask try for its full timeout


def check_shared_folder(client: Any, folder: Path) -> None:
    """Raise :class:`ConfigError` unless every worker sees ``folder`` at the same path."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".visible-{uuid.uuid4().hex}"
    marker.write_text("ok")
    try:
        seen = client.run(os.path.isfile, str(marker))
    finally:
        marker.unlink()
    blind = sorted(addr for addr, ok in seen.items() if not ok)
    if blind:
        raise ConfigError(f"the cache folder {folder} is not visible on worker(s) "
                          f"{', '.join(blind)}. Fix: put --out on a file system every worker "
                          "mounts at the same path (e.g. NFS), or use --workers N here.")


def worker_stats(client: Any, reset_peak: bool = False) -> dict[str, dict[str, float]]:
    """Per worker: peak and current resident memory (bytes), CPU time (s) of its process.

    The peak is the process's own high-water mark (Linux ``VmHWM``; ``ru_maxrss``
    elsewhere, which may include the parent's). ``reset_peak`` restarts it (Linux), so that
    the next call reports the peak since this one.
    """
    return client.run(_process_stats, reset_peak)


def _process_stats(reset_peak: bool = False) -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = float(usage.ru_maxrss) * 1024.0
    now = float("nan")
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak = float(line.split()[1]) * 1024.0
                elif line.startswith("VmRSS:"):
                    now = float(line.split()[1]) * 1024.0
        if reset_peak:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
    return {"peak_rss_bytes": peak, "rss_bytes": now,
            "cpu_s": float(usage.ru_utime + usage.ru_stime)}


# ------------------------------------------------------------------------------ tasks


@dataclass(frozen=True)
class SiteDone:
    """What a site task reports (the RSRP window itself is in the scratch cache).

    Attributes
    ----------
    index : int
        Site position in ``Study.sites``.
    from_cache : bool
        The loss (or the whole RSRP window) came from the cache.
    rsrp_key : str
        Key of the scratch entry (empty when the site failed).
    row0, col0, nrows, ncols : int
        The RSRP window on the grid.
    error : str or None
        Why the model cannot predict the site (a ModelRangeError's text).
    """

    index: int
    from_cache: bool
    rsrp_key: str
    row0: int
    col0: int
    nrows: int
    ncols: int
    error: str | None = None


@dataclass(frozen=True)
class TileResult:
    """Best server of one operator (or of any operator) on one core tile.

    Attributes
    ----------
    tile : Tile
        The core tile.
    operator : str
        Operator code; ``""`` for the any-operator result.
    rsrp : ndarray of float32
        Best RSRP (dBm), NaN where nobody reaches.
    best : ndarray
        int32 site index (operators) or int8 operator index (any); -1 where none.
    """

    tile: Tile
    operator: str
    rsrp: np.ndarray
    best: np.ndarray


def _one_thread(single_thread: bool) -> None:
    if single_thread:
        import numba

        numba.set_num_threads(1)


def _grid(source: GridSource) -> WorkingGrid:
    return source if isinstance(source, WorkingGrid) else open_grid(source)


def rsrp_key(loss_key: str, cfg: Config, job: SiteJob) -> str:
    """Key of a site's scratch RSRP window: its loss key plus everything RSRP adds."""
    return make_key({
        "loss": loss_key, "site": [repr(job.x), repr(job.y), repr(job.height_m)],
        "azimuths": [repr(a) for a in job.azimuths], "radio": repr(job.radio),
        "pattern": repr(job.pattern),
        "rule": [repr(cfg.rule.receiver_height_m), repr(cfg.rule.body_loss_db),
                 repr(cfg.model.delta_n)],
    })


def site_task(source: GridSource, cfg: Config, job: SiteJob, cache_dir: str,
              single_thread: bool = False) -> SiteDone:
    """Predict one site into the scratch cache (see the module notes)."""
    _one_thread(single_thread)
    grid = _grid(source)
    loss_key = job_loss_key(grid, cfg, job)
    key = rsrp_key(loss_key, cfg, job)
    scratch = Path(cache_dir) / RSRP_DIR
    found = read_entry(scratch, key)
    if found.status == "hit" and found.arrays is not None:
        a = found.arrays
        rows, cols = a["rsrp_dbm"].shape
        return SiteDone(job.index, True, key, int(a["row0"]), int(a["col0"]), rows, cols)
    try:
        cov = predict_site(grid, cfg, job, Path(cache_dir), loss_key=loss_key)
    except ModelRangeError as exc:
        return SiteDone(job.index, False, "", 0, 0, 0, 0, str(exc))
    write_entry(scratch, key, {"rsrp_dbm": cov.rsrp_dbm, "row0": np.int64(cov.row0),
                               "col0": np.int64(cov.col0)})
    rows, cols = cov.rsrp_dbm.shape
    return SiteDone(job.index, cov.from_cache, key, cov.row0, cov.col0, rows, cols)


def _site_rsrp(source: GridSource, cfg: Config, job: SiteJob, done: SiteDone,
               cache_dir: str) -> np.ndarray:
    """The site's RSRP window from the scratch cache, recomputed when it is gone."""
    scratch = Path(cache_dir) / RSRP_DIR
    found = read_entry(scratch, done.rsrp_key)
    if found.status == "hit" and found.arrays is not None:
        return found.arrays["rsrp_dbm"]
    cov = predict_site(_grid(source), cfg, job, Path(cache_dir))
    write_entry(scratch, done.rsrp_key, {"rsrp_dbm": cov.rsrp_dbm, "row0": np.int64(cov.row0),
                                         "col0": np.int64(cov.col0)})
    return cov.rsrp_dbm


def tile_task(source: GridSource, cfg: Config, tile: Tile, operator: str,
              items: list[tuple[SiteJob, SiteDone]], cache_dir: str,
              single_thread: bool = False) -> TileResult:
    """Best server of one operator on one core tile, sites taken in ascending index."""
    _one_thread(single_thread)
    best = np.full((tile.nrows, tile.ncols), -np.inf, np.float32)
    best_site = np.full((tile.nrows, tile.ncols), -1, np.int32)
    for job, done in sorted(items, key=lambda item: item[0].index):
        if done.error is not None:
            continue
        r0, r1 = max(tile.row0, done.row0), min(tile.row0 + tile.nrows, done.row0 + done.nrows)
        c0, c1 = max(tile.col0, done.col0), min(tile.col0 + tile.ncols, done.col0 + done.ncols)
        if r1 <= r0 or c1 <= c0:
            continue
        values = _site_rsrp(source, cfg, job, done, cache_dir)
        window = values[r0 - done.row0:r1 - done.row0, c0 - done.col0:c1 - done.col0]
        target = best[r0 - tile.row0:r1 - tile.row0, c0 - tile.col0:c1 - tile.col0]
        target_site = best_site[r0 - tile.row0:r1 - tile.row0, c0 - tile.col0:c1 - tile.col0]
        better = window > target  # NaN compares False; a tie keeps the lower index
        target[better] = window[better]
        target_site[better] = job.index
    best[~np.isfinite(best)] = np.nan
    return TileResult(tile, operator, best, best_site)


def any_task(tile: Tile, results: list[TileResult | None]) -> TileResult:
    """Any-operator best RSRP and operator index on a tile (operators in config order)."""
    empty = np.full((tile.nrows, tile.ncols), np.nan, np.float32)
    rsrp, index = combine_operators([empty if r is None else r.rsrp for r in results])
    return TileResult(tile, "", rsrp, index)


# ------------------------------------------------------------------------------ runners


class _Done:
    """A finished in-process 'future'."""

    def __init__(self, value: Any):
        self.value = value

    def result(self) -> Any:
        return self.value


def _resolve(arg: Any) -> Any:
    if isinstance(arg, _Done):
        return arg.value
    if isinstance(arg, list):
        return [_resolve(a) for a in arg]
    if isinstance(arg, tuple):
        return tuple(_resolve(a) for a in arg)
    return arg


class _InProcess:
    """Runs every task at once, here (the same task functions as on a cluster)."""

    single_thread = False

    def submit(self, fn: Callable, *args: Any, name: str = "") -> _Done:
        return _Done(fn(*_resolve(list(args))))

    def completed(self, futures: list) -> Iterator:
        yield from futures

    def cancel(self, futures: list) -> None:
        pass


class _OnCluster:
    """Submits to a dask client with retries; results as they complete."""

    single_thread = True

    def __init__(self, client: Any, retries: int):
        self.client = client
        self.retries = retries
        self.run_id = uuid.uuid4().hex[:8]

    def submit(self, fn: Callable, *args: Any, name: str = "") -> Any:
        return self.client.submit(fn, *args, retries=self.retries, pure=False,
                                  key=f"coverage-{name}-{self.run_id}")

    def completed(self, futures: list) -> Iterator:
        from distributed import as_completed

        finished = as_completed(futures)
        futures.clear()   # as_completed lets go of each future as it yields it
        yield from finished

    def cancel(self, futures: list) -> None:
        self.client.cancel(futures)


# ------------------------------------------------------------------------------ tiled run


@dataclass
class TiledRun:
    """Counts and warnings of a tiled run (the rasters went to the caller's sink).

    Attributes
    ----------
    operators : tuple of str
        Operators in configuration order.
    shape : (int, int)
        Grid (rows, cols).
    tiles : int
        Core tiles.
    computed_sites, cached_sites : int
        Sites whose loss was computed / read from the cache.
    warnings : list of Problem
        As :func:`coverage.predict.predict_coverage` reports them, in site order.
    seconds : float
        Wall time of the run.
    """

    operators: tuple[str, ...]
    shape: tuple[int, int]
    tiles: int
    computed_sites: int = 0
    cached_sites: int = 0
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0


TileSink = Callable[[TileResult], None]
"""Receives every finished tile result (operators and, when asked, any-operator)."""


def run_tiled(study: Study, config: Config | None, sink: TileSink, *, client: Any = None,
              cache_dir: str | Path | None = None,
              statuses: Iterable[str] | None = ("on_air",),
              tile_cells: int = DEFAULT_TILE_CELLS, with_any: bool = True,
              progress: Callable[[int, int], None] | None = None,
              retries: int = DEFAULT_RETRIES,
              only_tiles: Iterable[int] | None = None) -> TiledRun:
    """Predict tile by tile and hand each finished tile to ``sink`` (module notes).

    Parameters
    ----------
    study : Study
        Grid and sites.
    config : Config, optional
        Defaults to ``study.config``.
    sink : callable
        ``sink(TileResult)`` for every (tile, operator) and, with ``with_any``, every
        any-operator tile (``operator == ""``), in completion order.
    client : distributed.Client, optional
        Cluster to run on; None runs the same tasks here, one after the other.
    cache_dir : str or Path, optional
        Loss cache (and, in sub-folders, the DEM file and scratch RSRP windows); must be
        visible to every worker. None uses a temporary folder (removed afterwards).
    statuses : iterable of str or None
        Site statuses to include (None: all).
    tile_cells : int
        Core tile side (cells).
    with_any : bool
        Also produce the any-operator tiles.
    progress : callable, optional
        ``progress(done, total)`` as sites finish.
    retries : int
        Re-runs of a failed task.
    only_tiles : iterable of int, optional
        Produce only these tiles (:attr:`Tile.index`) and predict only the sites reaching
        them (e.g. to sample the prediction at measurement places); default every tile and
        every site.

    Returns
    -------
    TiledRun
    """
    start = time.perf_counter()
    cfg = config or study.config
    grid = study.grid
    operators = tuple(cfg.operators)
    warnings = settings_warnings(cfg.model)
    sites = study.sites.reset_index(drop=True)
    wanted = None if statuses is None else set(statuses)
    todo = [i for i in range(len(sites))
            if wanted is None or str(sites.at[i, "status"]) in wanted]
    problems: dict[int, Problem] = {}
    jobs: list[SiteJob] = []
    for i in todo:
        job = make_site_job(cfg, sites.iloc[i], i)
        if isinstance(job, Problem):
            problems[i] = job
        else:
            jobs.append(job)
    tiles = tile_layout(grid.shape, tile_cells)
    windows = site_windows(grid.shape, grid.transform, np.array([j.x for j in jobs]),
                           np.array([j.y for j in jobs]), cfg.model.radius_km * 1000.0)
    per_tile = sites_per_tile(tiles, windows)
    every_site = only_tiles is None
    if only_tiles is not None:
        wanted_tiles = set(int(i) for i in only_tiles)
        keep = [n for n, t in enumerate(tiles) if t.index in wanted_tiles]
        tiles = tuple(tiles[n] for n in keep)
        per_tile = [per_tile[n] for n in keep]
    run = TiledRun(operators, grid.shape, len(tiles), warnings=warnings)
    temp = None
    if cache_dir is None:
        temp = tempfile.mkdtemp(prefix="coverage-tiled-")
        cache_dir = temp
    cache = Path(cache_dir)
    try:
        if client is None:
            runner: _InProcess | _OnCluster = _InProcess()
            source: GridSource = grid
        else:
            check_shared_folder(client, cache)
            runner = _OnCluster(client, retries)
            source = write_dem_file(grid, cache / DEM_DIR)
        _submit_and_collect(runner, source, cfg, jobs, tiles, per_tile, operators, str(cache),
                            sink, with_any, run, problems, len(todo), progress, every_site)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    order = {i: n for n, i in enumerate(todo)}
    run.warnings.extend(p for _, p in sorted(problems.items(), key=lambda kv: order[kv[0]]))
    run.seconds = time.perf_counter() - start
    return run


def _submit_and_collect(runner: _InProcess | _OnCluster, source: Any, cfg: Config,
                        jobs: list[SiteJob], tiles: tuple[Tile, ...],
                        per_tile: list[np.ndarray], operators: tuple[str, ...], cache: str,
                        sink: TileSink, with_any: bool, run: TiledRun,
                        problems: dict[int, Problem], total: int,
                        progress: Callable[[int, int], None] | None,
                        every_site: bool = True) -> None:
    """Submit sites tile by tile with their tile tasks; collect everything as it finishes.

    Only small site reports are kept here; a tile result is handed to ``sink`` and dropped.
    """
    single = runner.single_thread
    site_futures: dict[int, Any] = {}
    uses = np.zeros(len(jobs), np.int64)   # tile tasks not yet back, per job
    outcomes: dict[int, SiteDone] = {}
    pending: dict[Any, tuple] = {}
    done_sites = len(problems)
    if progress is not None and done_sites:
        progress(done_sites, total)

    def handle(future: Any) -> None:
        nonlocal done_sites
        kind = pending.pop(future)
        value = future.result()
        if kind[0] == "site":
            outcomes[kind[1]] = value
            done_sites += 1
            if progress is not None:
                progress(done_sites, total)
            return
        sink(value)
        if kind[0] == "tile":
            for k in kind[1]:
                uses[k] -= 1
                if uses[k] == 0 and k in outcomes:
                    _drop_scratch(cache, outcomes[k])

    def submit(fn: Callable, *args: Any, name: str, kind: tuple) -> Any:
        future = runner.submit(fn, *args, name=name)
        pending[future] = kind
        return future

    def site(k: int) -> Any:
        if k not in site_futures:
            site_futures[k] = submit(site_task, source, cfg, jobs[k], cache, single,
                                     name=f"site-{jobs[k].index}", kind=("site", k))
        return site_futures[k]

    try:
        for tile, members in zip(tiles, per_tile, strict=True):
            by_op: list[Any] = []
            for op in operators:
                mine = [int(k) for k in members if jobs[k].operator == op]
                if not mine:
                    by_op.append(None)
                    sink(_empty_tile(tile, op))
                    continue
                items = [(jobs[k], site(k)) for k in mine]
                uses[mine] += 1
                by_op.append(submit(tile_task, source, cfg, tile, op, items, cache, single,
                                    name=f"tile-{tile.index}-{op}", kind=("tile", mine)))
            if with_any:
                submit(any_task, tile, by_op, name=f"any-{tile.index}", kind=("any",))
            del by_op
            if isinstance(runner, _InProcess):   # everything submitted is done: drain now
                for future in list(pending):
                    handle(future)
        if every_site:
            for k in range(len(jobs)):   # sites reaching no tile still count (and may warn)
                site(k)
        for future in runner.completed(list(pending)):
            handle(future)
    except BaseException:
        runner.cancel(list(pending))
        raise
    for k, done in outcomes.items():
        if uses[k] == 0:
            _drop_scratch(cache, done)
        job = jobs[k]
        if done.error is not None:
            problems[job.index] = unpredictable(job, done.error)
        elif done.from_cache:
            run.cached_sites += 1
        else:
            run.computed_sites += 1


def _empty_tile(tile: Tile, operator: str) -> TileResult:
    return TileResult(tile, operator, np.full((tile.nrows, tile.ncols), np.nan, np.float32),
                      np.full((tile.nrows, tile.ncols), -1, np.int32))


def _drop_scratch(cache: str, done: SiteDone) -> None:
    if done.rsrp_key:
        with contextlib.suppress(FileNotFoundError):
            (Path(cache) / RSRP_DIR / f"{done.rsrp_key}.npz").unlink()


# ------------------------------------------------------------------------------ sinks


def predict_on_cluster(study: Study, config: Config | None = None, *, client: Any = None,
                       cache_dir: str | Path | None = None,
                       statuses: Iterable[str] | None = ("on_air",),
                       progress: Callable[[int, int], None] | None = None,
                       tile_cells: int = DEFAULT_TILE_CELLS,
                       retries: int = DEFAULT_RETRIES) -> CoverageResult:
    """:func:`coverage.predict.predict_coverage`, tile by tile, on a cluster or here.

    Byte-identical to the in-process prediction. The whole-grid arrays are assembled in this
    process (memory as for an in-process run); for a region larger than memory use
    :func:`predict_to_cogs`. Parameters as :func:`run_tiled`.
    """
    from pyproj import CRS

    cfg = config or study.config
    grid = study.grid
    shape = grid.shape
    operators = tuple(cfg.operators)
    rsrp = {op: np.full(shape, np.nan, np.float32) for op in operators}
    best = {op: np.full(shape, -1, np.int32) for op in operators}

    def paste(result: TileResult) -> None:
        rows, cols = result.tile.slices
        rsrp[result.operator][rows, cols] = result.rsrp
        best[result.operator][rows, cols] = result.best

    run = run_tiled(study, cfg, paste, client=client, cache_dir=cache_dir, statuses=statuses,
                    tile_cells=tile_cells, with_any=False, progress=progress, retries=retries)
    by_operator = {op: OperatorCoverage(op, rsrp[op], best[op]) for op in operators}
    if operators:
        any_rsrp, any_operator = combine_operators([rsrp[op] for op in operators])
    else:
        any_rsrp = np.full(shape, np.nan, np.float32)
        any_operator = np.full(shape, -1, np.int8)
    crs = grid.crs if isinstance(grid.crs, CRS) else CRS.from_user_input(grid.crs)
    return CoverageResult(grid.transform, crs, operators, by_operator, any_rsrp, any_operator,
                          (), run.computed_sites, run.cached_sites, run.warnings)


def predict_to_cogs(study: Study, folder: str | Path, config: Config | None = None, *,
                    tags: dict[str, str] | None = None, client: Any = None,
                    cache_dir: str | Path | None = None,
                    statuses: Iterable[str] | None = ("on_air",),
                    progress: Callable[[int, int], None] | None = None,
                    tile_cells: int = DEFAULT_TILE_CELLS,
                    retries: int = DEFAULT_RETRIES,
                    also: TileSink | None = None) -> TiledRun:
    """Predict tile by tile straight into COGs, never holding the whole region.

    Writes, as the pipeline names them, ``rsrp_<OP>.tif`` (float32 dBm, nodata NaN),
    ``best_site_<OP>.tif`` (int32 row of the sites table, nodata -1) and ``rsrp_any.tif``
    into ``folder``; with the same tags they are byte-identical to the pipeline's
    whole-array files. Each appears only when complete.

    Parameters
    ----------
    folder : str or Path
        Output folder (e.g. the staged ``coverage/`` folder).
    tags : dict, optional
        Provenance tags of every file (``operator``, ``unit``/``meaning`` are added as the
        pipeline adds them).
    also : callable, optional
        Also hand every finished tile to ``also`` (e.g. to sample it).
    Other parameters
        As :func:`run_tiled`.

    Returns
    -------
    TiledRun
    """
    cfg = config or study.config
    with contextlib.ExitStack() as stack:
        writers = cog_writers(stack, folder, study.grid, tuple(cfg.operators), tags)

        def write(result: TileResult) -> None:
            write_tile(writers, result)
            if also is not None:
                also(result)

        return run_tiled(study, cfg, write, client=client, cache_dir=cache_dir,
                         statuses=statuses, tile_cells=tile_cells, with_any=True,
                         progress=progress, retries=retries)


CogWriters = dict[tuple[str, str], TiledRasterWriter]
"""Open tiled writers by (operator, "rsrp" | "best"); operator "" is any-operator."""


def cog_writers(stack: contextlib.ExitStack, folder: str | Path, grid: WorkingGrid,
                operators: tuple[str, ...], tags: dict[str, str] | None = None) -> CogWriters:
    """Open the coverage COG writers of a tiled run on ``stack`` (published when it closes).

    Files and tags as the pipeline's whole-array writer names them: ``rsrp_<OP>.tif``,
    ``best_site_<OP>.tif`` and ``rsrp_any.tif`` in ``folder``.
    """
    folder = Path(folder)
    crs = grid.crs.to_wkt()
    base = dict(tags or {})
    stack.enter_context(gdal_cache_limit())   # closed after the writers: covers their COGs
    rasters = stack.enter_context(TiledRasterSet())   # COGs converted side by side at the end
    writers: CogWriters = {}
    for op in operators:
        writers[(op, "rsrp")] = rasters.add(TiledRasterWriter(
            folder / f"rsrp_{op}.tif", grid.shape, np.float32, grid.transform, crs,
            float("nan"), dict(base, operator=op, unit="dBm")))
        writers[(op, "best")] = rasters.add(TiledRasterWriter(
            folder / f"best_site_{op}.tif", grid.shape, np.int32, grid.transform, crs, -1,
            dict(base, operator=op, meaning="row of sites table, -1 none")))
    writers[("", "rsrp")] = rasters.add(TiledRasterWriter(
        folder / "rsrp_any.tif", grid.shape, np.float32, grid.transform, crs,
        float("nan"), dict(base, operator="any", unit="dBm")))
    return writers


def write_tile(writers: CogWriters, result: TileResult) -> None:
    """Write one finished tile (an operator's RSRP and best site, or the any-operator RSRP)."""
    t = result.tile
    writers[(result.operator, "rsrp")].write(result.rsrp, t.row0, t.col0)
    if result.operator:
        writers[(result.operator, "best")].write(result.best, t.row0, t.col0)


# ------------------------------------------------------------------------------ candidates


class _GridAndConfig:
    """The two attributes of a Study that :class:`CandidateRadio` reads."""

    def __init__(self, grid: WorkingGrid, config: Config):
        self.grid = grid
        self.config = config


def candidate_task(source: GridSource, cfg: Config, cache_dir: str | None,
                   cells: tuple[np.ndarray, np.ndarray], options: list[dict],
                   single_thread: bool = False) -> list[tuple[str, Any, int, int]]:
    """RSRP of candidate options (one tower's) at the cells: (option_id, values or error
    text, computed, cached) per option, computed by :class:`CandidateRadio` as in-process."""
    _one_thread(single_thread)
    radio = CandidateRadio(_GridAndConfig(_grid(source), cfg), cache_dir)  # type: ignore[arg-type]
    out = []
    rows, cols = cells
    for opt in options:
        site = pd.Series({"operator": opt["operator"], "band": opt["band"],
                          "height_m": opt["height_m"], "geometry": Point(opt["x"], opt["y"])})
        before = (radio.computed, radio.cached)
        try:
            values: Any = radio(site, rows, cols)
        except ModelRangeError as exc:
            values = str(exc)
        out.append((opt["option_id"], values, radio.computed - before[0],
                    radio.cached - before[1]))
    return out


class ClusterCandidateRadio(CandidateRadio):
    """:class:`~coverage.plan.coverage_matrix.CandidateRadio` whose predictions run on a
    cluster, one task per candidate tower, with identical results.

    Call :meth:`prepare` with the option sites and cells before asking for values (or give
    ``candidates``: the first call then prepares every option of those candidates within
    reach of the cells). A value not prepared is computed here. Without ``cache_dir`` the
    DEM file goes to a temporary folder: :meth:`close` (or a with-block) removes it.

    Parameters
    ----------
    study : Study
        Grid and configuration.
    client : distributed.Client
        The cluster.
    cache_dir : str or Path, optional
        Cache folder of the candidate predictions (visible to every worker).
    candidates : GeoDataFrame, optional
        Candidate towers (:func:`coverage.plan.candidates.generate_candidates`).
    prune_dominated : bool
        As :func:`coverage.plan.coverage_matrix.coverage_matrix`.
    retries : int
        Re-runs of a failed task.
    """

    def __init__(self, study: Study, client: Any, cache_dir: str | Path | None = None, *,
                 candidates: Any = None, prune_dominated: bool = True,
                 retries: int = DEFAULT_RETRIES):
        super().__init__(study, cache_dir)
        self.client = client
        self.candidates = candidates
        self.prune_dominated = prune_dominated
        self._runner = _OnCluster(client, retries)
        self._futures: dict[str, Any] = {}
        self._cells: tuple[np.ndarray, np.ndarray] | None = None
        self._source: Any = None
        self._results: dict[str, Any] = {}
        self._temp: str | None = None
        self.on_cluster = 0
        """Values that came from the cluster (the rest were computed here)."""

    def close(self) -> None:
        """Forget pending predictions and remove the temporary DEM folder (no cache_dir)."""
        self._futures.clear()
        self._results.clear()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
            self._source = None

    def __enter__(self) -> ClusterCandidateRadio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, sites: pd.DataFrame, rows: np.ndarray, cols: np.ndarray) -> None:
        """Submit the option ``sites`` (rows of ``candidate_sites``) for the cells."""
        if self._source is None:
            if self.cache_dir is None:
                self._temp = tempfile.mkdtemp(prefix="coverage-candidates-")
            folder = Path(self.cache_dir if self.cache_dir is not None else self._temp)
            check_shared_folder(self.client, folder)
            self._source = self.client.scatter(write_dem_file(self.grid, folder / DEM_DIR),
                                               broadcast=True, hash=False)
        self._cells = (rows, cols)
        cells = self.client.scatter((rows, cols), broadcast=True, hash=False)
        cache = None if self.cache_dir is None else str(self.cache_dir)
        groups: dict[str, list[dict]] = {}
        for site in sites.itertuples(index=False):
            oid = str(site.option_id)
            if oid in self._futures:
                continue
            groups.setdefault(str(site.tower_id), []).append({
                "option_id": oid, "operator": str(site.operator), "band": str(site.band),
                "height_m": float(site.height_m), "x": float(site.geometry.x),
                "y": float(site.geometry.y)})
        for n, (tower, options) in enumerate(groups.items()):
            fut = self._runner.submit(candidate_task, self._source, self.config, cache, cells,
                                      options, True, name=f"candidate-{n}-{tower}")
            for opt in options:
                self._futures[opt["option_id"]] = fut

    def _prepare_from_candidates(self, rows: np.ndarray, cols: np.ndarray) -> None:
        sites = candidate_sites(self.candidates, self.config, self.prune_dominated)
        if len(sites) and len(rows):
            from scipy.spatial import cKDTree

            cx, cy = self.grid.xy(rows.astype(np.float64), cols.astype(np.float64))
            reach = self.config.model.radius_km * 1000.0 + 2.0 * self.grid.resolution_m
            dist, _ = cKDTree(np.column_stack([cx, cy])).query(
                np.column_stack([sites.geometry.x, sites.geometry.y]), k=1,
                distance_upper_bound=reach)
            sites = sites[np.isfinite(dist)]
        self.prepare(sites, rows, cols)

    def __call__(self, site: pd.Series, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """RSRP (dBm, float32; NaN unreached) of an omni candidate site at the cells."""
        same = self._cells is not None and self._cells[0] is rows and self._cells[1] is cols
        if not same and self._cells is not None and not (
                np.array_equal(self._cells[0], rows) and np.array_equal(self._cells[1], cols)):
            self._futures.clear()
            self._results.clear()
            self._cells = None
        if self._cells is None and self.candidates is not None:
            self._prepare_from_candidates(rows, cols)
        oid = str(site.get("option_id", site.get("site_id", "")))
        fut = self._futures.get(oid)
        if fut is None:
            return super().__call__(site, rows, cols)
        if oid not in self._results:
            for got_id, values, computed, cached in fut.result():
                self._results[got_id] = (values, computed, cached)
        values, computed, cached = self._results.pop(oid)
        self._futures.pop(oid, None)
        self.computed += computed
        self.cached += cached
        self.on_cluster += 1
        if isinstance(values, str):
            raise ModelRangeError(values)
        return values
