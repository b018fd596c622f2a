"""Coverage prediction of a network: every site of a study, folded into best-server rasters.

Each site is predicted by :mod:`coverage.predict.sites`; per operator every cell takes its
strongest site, and "any operator" takes the strongest operator (the rule of
:mod:`coverage.signal`). This is the in-process run of the whole grid at once; the tiled and
distributed runs in :mod:`coverage.scale` give byte-identical results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from pyproj import CRS

from coverage.config import Config
from coverage.errors import ModelRangeError, Problem
from coverage.grid import WorkingGrid
from coverage.predict.sites import (
    SiteJob,
    make_site_job,
    predict_site,
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
    cfg = config or study.config
    grid = study.grid
    shape = grid.shape
    cache = Path(cache_dir) if cache_dir is not None else None
    operators = tuple(cfg.operators)
    best, best_site = {}, {}
    for op in operators:
        best[op], best_site[op] = new_best(shape)
    warnings = settings_warnings(cfg.model)
    kept: list[SiteCoverage] = []
    computed = cached = 0
    sites = study.sites.reset_index(drop=True)
    wanted = None if statuses is None else set(statuses)
    todo = [i for i in range(len(sites))
            if wanted is None or str(sites.at[i, "status"]) in wanted]
    entries = [make_site_job(cfg, sites.iloc[i], i) for i in todo]
    jobs = [job for job in entries if isinstance(job, SiteJob)]
    # sites run side by side on threads (their kernels release the GIL); results come back
    # in site order, so the folding below, the warnings and every raster are the same for
    # any number of threads
    results = map_ordered(lambda job: _predict_job(grid, cfg, job, cache), jobs,
                          threads if threads is not None else cfg.compute.threads)
    try:
        for done, job in enumerate(entries, start=1):
            if isinstance(job, Problem):
                warnings.append(job)
            else:
                cov = next(results)
                if isinstance(cov, str):
                    warnings.append(unpredictable(job, cov))
                else:
                    if cov.from_cache:
                        cached += 1
                    else:
                        computed += 1
                    rows, cols = cov.slices
                    take_stronger(best[cov.operator][rows, cols],
                                  best_site[cov.operator][rows, cols], cov.rsrp_dbm, job.index)
                    if keep_sites:
                        kept.append(cov)
            if progress is not None:
                progress(done, len(todo))
    finally:
        results.close()  # an error above stops the sites not yet started
    by_operator = {}
    for op in operators:
        by_operator[op] = OperatorCoverage(op, finish_best(best[op]), best_site[op])
    if operators:
        any_rsrp, any_operator = combine_operators([by_operator[op].rsrp for op in operators])
    else:
        any_rsrp = np.full(shape, np.nan, np.float32)
        any_operator = np.full(shape, -1, np.int8)
    crs = grid.crs if isinstance(grid.crs, CRS) else CRS.from_user_input(grid.crs)
    return CoverageResult(grid.transform, crs, operators, by_operator, any_rsrp, any_operator,
                          tuple(kept), computed, cached, warnings)


def _predict_job(grid: WorkingGrid, cfg: Config, job: SiteJob, cache: Path | None
                 ) -> SiteCoverage | str:
    """One site's coverage, or the reason it cannot be predicted (runs on a worker)."""
    try:
        return predict_site(grid, cfg, job, cache)
    except ModelRangeError as exc:
        return str(exc)
