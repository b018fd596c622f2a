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
import pandas as pd
from pyproj import CRS

from coverage.config import Config
from coverage.errors import ModelRangeError, Problem
from coverage.grid import WorkingGrid
from coverage.predict.sites import make_site_job, predict_site, settings_warnings, unpredictable
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
                     progress: Callable[[int, int], None] | None = None) -> CoverageResult:
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
    for done, i in enumerate(todo, start=1):
        row = sites.iloc[i]
        cov = _predict_one(grid, cfg, row, i, cache, warnings)
        if cov is not None:
            if cov.from_cache:
                cached += 1
            else:
                computed += 1
            rows, cols = cov.slices
            take_stronger(best[cov.operator][rows, cols], best_site[cov.operator][rows, cols],
                          cov.rsrp_dbm, i)
            if keep_sites:
                kept.append(cov)
        if progress is not None:
            progress(done, len(todo))
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


def _predict_one(grid: WorkingGrid, cfg: Config, row: pd.Series, index: int,
                 cache: Path | None, warnings: list[Problem]) -> SiteCoverage | None:
    """One site's coverage, or None (with a warning) when it cannot be predicted."""
    job = make_site_job(cfg, row, index)
    if isinstance(job, Problem):
        warnings.append(job)
        return None
    try:
        return predict_site(grid, cfg, job, cache)
    except ModelRangeError as exc:
        warnings.append(unpredictable(job, str(exc)))
        return None
