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
1. Every site row becomes a :class:`~coverage.predict.sites.SiteJob` (position, height, band,
   radio and pattern: numbers only). The working DEM is written once into the cache folder
   (:func:`coverage.io.tiles.write_dem_file`); tasks get its path, never an open dataset.
2. The grid is cut into core tiles (:mod:`coverage.scale.tiling`); the sites of a tile are those
   whose loss window meets it (within one radius: the halo).
3. A *site task* per site maps the DEM file, computes the loss window (or reads it from the
   loss cache) and the RSRP window exactly as the in-process run does, and stores the RSRP
   window as a scratch cache entry (``<cache>/rsrp/``); it returns only a few numbers.
4. A *tile task* per (tile, operator) reads the RSRP windows of its sites one at a time,
   **in ascending site index**, and keeps the strongest (a tie keeps the lower index, as the
   in-process loop does); it returns the core tile's best RSRP and best site. An *any task*
   per tile combines the operators (ties to the earlier operator).
5. The caller receives finished tiles one by one: :func:`predict_on_cluster` pastes them into
   whole-grid arrays (a :class:`~coverage.signal.CoverageResult`), :func:`predict_to_cogs`
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
window (tile task); see :func:`coverage.scale.tiling.worker_memory_bytes`. The DEM file is mapped,
and a task reads only the pages of its window.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coverage.config import Config
from coverage.errors import Problem
from coverage.io.tiles import (
    write_dem_file,
)
from coverage.predict.sites import (
    SiteJob,
    make_site_job,
    settings_warnings,
    unpredictable,
)
from coverage.scale.cluster import DEFAULT_RETRIES, DEM_DIR, RSRP_DIR, check_shared_folder
from coverage.scale.tasks import GridSource, SiteDone, TileResult, any_task, site_task, tile_task
from coverage.scale.tiling import (
    DEFAULT_TILE_CELLS,
    Tile,
    site_windows,
    sites_per_tile,
    tile_layout,
)
from coverage.signal import (
    CoverageResult,
    OperatorCoverage,
    combine_operators,
)
from coverage.study import Study

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


