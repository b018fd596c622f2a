"""Coverage prediction of a network: every site of a study, folded into best-server rasters.

Each site is predicted by :mod:`coverage.predict.sites`; per operator every cell takes its
strongest site, and "any operator" takes the strongest operator (the rule of
:mod:`coverage.signal`). This is the in-process run of the whole grid at once; the tiled and
distributed runs in :mod:`coverage.scale` give byte-identical results.
:func:`predict_networks` predicts several networks of a study (the sites on air, the ones
still to come) in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS

from coverage.config import Config
from coverage.errors import ModelRangeError, Problem
from coverage.grid import WorkingGrid
from coverage.predict.sites import (
    SiteJob,
    make_site_job,
    mast_key,
    predict_site,
    predict_sites,
    settings_warnings,
    unpredictable,
)
from coverage.radio.threads import map_ordered
from coverage.signal import (
    CoverageResult,
    OperatorCoverage,
    SiteCoverage,
    combine_operators,
    finish_best,
    new_best,
    take_stronger,
)
from coverage.study import Study


def predict_coverage(study: Study, config: Config | None = None, *,
                     cache_dir: str | Path | None = None,
                     statuses: Iterable[str] | None = ("on_air",),
                     keep_sites: bool = False,
                     progress: Callable[[int, int], None] | None = None,
                     threads: int | None = None) -> CoverageResult:
    """Per-operator best-server RSRP over the working grid.

    Parameters
    ----------
    study : Study
        Loaded inputs (grid and sites).
    config : Config, optional
        Defaults to ``study.config``.
    cache_dir : str or Path, optional
        Folder of the per-site loss cache; None disables caching.
    statuses : iterable of str or None
        Site statuses to include (default only ``on_air``); None includes every site.
    keep_sites : bool
        Also return every site's RSRP window (memory: one window per site).
    progress : callable, optional
        Called as ``progress(done, total)`` after each site.
    threads : int, optional
        Sites predicted side by side (default ``config.compute.threads``; 0 = every CPU
        this process may use). The result does not depend on it.

    Returns
    -------
    CoverageResult
    """
    return predict_networks(study, [statuses], config, cache_dir=cache_dir,
                            keep_sites=keep_sites, progress=progress, threads=threads)[0]


def predict_networks(study: Study, networks: Sequence[Iterable[str] | None],
                     config: Config | None = None, *, cache_dir: str | Path | None = None,
                     keep_sites: bool = False,
                     progress: Callable[[int, int], None] | None = None,
                     threads: int | None = None) -> list[CoverageResult]:
    """:func:`predict_coverage` of several networks of one study, in one pass over the sites.

    Every site of any network is predicted once, on one pool of threads, and folded into
    each network it belongs to, in site order: each result equals ``predict_coverage(study,
    statuses=...)`` of its network byte for byte. One pass keeps the threads busy across
    the networks (no serial tail and no fixed costs per network), so a run predicts the
    sites on air and the ones still to come side by side.

    Parameters
    ----------
    study : Study
        Loaded inputs (grid and sites).
    networks : sequence of (iterable of str or None)
        The site statuses of each network (None: every site).
    config, cache_dir, keep_sites, threads
        As :func:`predict_coverage`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each site of any network (``total``: the
        sites of all of them, each once).

    Returns
    -------
    list of CoverageResult
        One per network, in the order of ``networks``.
    """
    cfg = config or study.config
    grid = study.grid
    shape = grid.shape
    cache = Path(cache_dir) if cache_dir is not None else None
    operators = tuple(cfg.operators)
    sites = study.sites.reset_index(drop=True)
    status = sites["status"].astype(str).to_numpy()
    wanted = [None if statuses is None else set(statuses) for statuses in networks]
    member = [[w is None or status[i] in w for w in wanted] for i in range(len(sites))]
    todo = [i for i in range(len(sites)) if any(member[i])]
    folds = [_Fold(operators, shape, settings_warnings(cfg.model)) for _ in networks]
    entries = [make_site_job(cfg, sites.iloc[i], i) for i in todo]
    jobs = [job for job in entries if isinstance(job, SiteJob)]
    # the sites of one mast are predicted together (their bands in one sweep), masts side
    # by side on threads (their kernels release the GIL); results come back in order of
    # each mast's first site and are folded in site order, so the folding below, the
    # warnings and every raster are the same for any number of threads
    floors = {} if keep_sites else _floors(folds, [member[i] for i in todo], entries)
    units = mast_units(jobs)
    results = map_ordered(
        lambda unit: _predict_unit(grid, cfg, unit, cache, floors), units,
        threads if threads is not None else cfg.compute.threads)
    done_early: dict[int, SiteCoverage | str] = {}
    try:
        for done, (i, job) in enumerate(zip(todo, entries, strict=True), start=1):
            into = [fold for fold, inside in zip(folds, member[i], strict=True) if inside]
            if isinstance(job, Problem):
                for fold in into:
                    fold.warnings.append(job)
            else:
                while job.index not in done_early:
                    for unit_job, unit_cov in next(results):
                        done_early[unit_job.index] = unit_cov
                cov = done_early.pop(job.index)
                for fold in into:
                    fold.add(job, cov, keep_sites)
            if progress is not None:
                progress(done, len(todo))
    finally:
        results.close()  # an error above stops the sites not yet started
    crs = grid.crs if isinstance(grid.crs, CRS) else CRS.from_user_input(grid.crs)
    return [fold.result(grid.transform, crs) for fold in folds]


class _Fold:
    """The best-server accumulators of one network (see :func:`predict_networks`)."""

    def __init__(self, operators: tuple[str, ...], shape: tuple[int, int],
                 warnings: list[Problem]):
        self.operators = operators
        self.shape = shape
        self.best, self.best_site = {}, {}
        for op in operators:
            self.best[op], self.best_site[op] = new_best(shape)
        self.warnings = warnings
        self.kept: list[SiteCoverage] = []
        self.computed = self.cached = 0

    def add(self, job: SiteJob, cov: SiteCoverage | str, keep_sites: bool) -> None:
        """Fold one site's result (or the reason it cannot be predicted) in, in site order."""
        if isinstance(cov, str):
            self.warnings.append(unpredictable(job, cov))
            return
        if cov.from_cache:
            self.cached += 1
        else:
            self.computed += 1
        rows, cols = cov.slices
        take_stronger(self.best[cov.operator][rows, cols],
                      self.best_site[cov.operator][rows, cols], cov.rsrp_dbm, job.index)
        if keep_sites:
            self.kept.append(cov)

    def result(self, transform: Affine, crs: CRS) -> CoverageResult:
        """The network's result (finishes the accumulators in place)."""
        operators = self.operators
        by_operator = {}
        for op in operators:
            by_operator[op] = OperatorCoverage(op, finish_best(self.best[op]),
                                               self.best_site[op])
        if operators:
            any_rsrp, any_operator = combine_operators([by_operator[op].rsrp
                                                        for op in operators])
        else:
            any_rsrp = np.full(self.shape, np.nan, np.float32)
            any_operator = np.full(self.shape, -1, np.int8)
        return CoverageResult(transform, crs, operators, by_operator, any_rsrp, any_operator,
                              tuple(self.kept), self.computed, self.cached, self.warnings)


def _floors(folds: list[_Fold], member: list[list[bool]],
            entries: list[SiteJob | Problem]) -> dict[int, np.ndarray]:
    """Per site index, the accumulator its RSRP is folded into, when it is folded into one
    network only: the sites folded before it already reach that RSRP, so the site need not
    compute its pattern where it is certainly weaker (:func:`predict_site`'s ``floor``).

    The accumulator only grows while the sites are folded (in site order, in this thread,
    while the workers compute later sites), and a site is folded after it is computed, so
    the floor is always a value that the network reaches; the fold's result is the same as
    with every cell computed (a cell left out is NaN, which never wins).
    """
    floors = {}
    for inside, job in zip(member, entries, strict=True):
        into = [fold for fold, is_in in zip(folds, inside, strict=True) if is_in]
        if isinstance(job, SiteJob) and len(into) == 1 and job.operator in into[0].best:
            floors[job.index] = into[0].best[job.operator]
    return floors


def mast_units(jobs: Sequence[SiteJob]) -> list[list[SiteJob]]:
    """The jobs grouped by mast (:func:`~coverage.predict.sites.mast_key`), each group in
    job order, the groups in order of their first job."""
    units: dict[tuple[float, float, float], list[SiteJob]] = {}
    for job in jobs:
        units.setdefault(mast_key(job), []).append(job)
    return list(units.values())


def _predict_unit(grid: WorkingGrid, cfg: Config, unit: list[SiteJob], cache: Path | None,
                  floors: dict[int, np.ndarray]
                  ) -> list[tuple[SiteJob, SiteCoverage | str]]:
    """The sites of one mast (runs on a worker): their bands in one sweep; when one of
    them cannot be predicted, each on its own, so each gets its own result or reason."""
    if len(unit) > 1:
        try:
            covs = predict_sites(grid, cfg, unit, cache,
                                 floors=[floors.get(job.index) for job in unit])
            return list(zip(unit, covs, strict=True))
        except ModelRangeError:
            pass
    return [(job, _predict_job(grid, cfg, job, cache, floors.get(job.index)))
            for job in unit]


def _predict_job(grid: WorkingGrid, cfg: Config, job: SiteJob, cache: Path | None,
                 floor: np.ndarray | None = None) -> SiteCoverage | str:
    """One site's coverage, or the reason it cannot be predicted (runs on a worker)."""
    try:
        return predict_site(grid, cfg, job, cache, floor=floor)
    except ModelRangeError as exc:
        return str(exc)
