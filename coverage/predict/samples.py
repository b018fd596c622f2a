"""Site predictions kept at chosen cells only, for judging many networks of the same sites.

A progress run (:mod:`coverage.progress`) judges the county on many days, each with its own
set of sites on air. The assessment of a day reads the best-server rasters at a few
thousand cells only (test points, household samples, measurements), so each site is
predicted once (its loss from the per-site cache, as in a run), its RSRP kept at those
cells, and a day's best server is a max over the vectors of its sites
(:func:`best_server`). The rule is the one of :mod:`coverage.signal`: per operator the
strongest site, an exact tie to the lower site index, "any operator" to the earlier
operator; the values are the float32 values of the whole-grid prediction, so every cell
that is sampled holds exactly what :func:`coverage.predict.predict_coverage` gives there.

Caching
-------
With a ``samples_dir``, a site's vector is also kept on disk (:mod:`coverage.io.cache`), so
a later progress run over the same cells reads a few kilobytes per site instead of
decoding its loss window. The key is the site's loss-cache key (position, height, band,
model, grid, DEM), everything :func:`coverage.predict.window_rsrp` adds to the loss (radio,
pattern, azimuths, receiver), the digest of the sampled cells, and the digest of the code
that turns a loss into RSRP (:data:`RSRP_CODE`), so a vector is never reused for anything
else than what a fresh prediction would give. A vector is stored compressed, its cell
positions as differences (small, ascending), which keeps it at about a third of its raw
size. The folder is bounded like the network cache's: after a call only the
:data:`KEEP_SETS` x (sites of the call) most recently used vectors are kept, those of the
call first, so a series of runs over changing cells does not grow it without end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS

from coverage.config import Config
from coverage.errors import ModelRangeError, Problem
from coverage.grid import WorkingGrid
from coverage.io.cache import array_digest, keep_newest, make_key, read_entry, write_entry
from coverage.io.source_digest import source_digest
from coverage.predict.sites import (
    SiteJob,
    job_loss_key,
    make_site_job,
    predict_site,
    settings_warnings,
    unpredictable,
)
from coverage.radio.threads import map_ordered
from coverage.signal import CoverageResult, OperatorCoverage, combine_operators
from coverage.study import Study

__all__ = ["SAMPLES_FORMAT", "SampledSites", "best_server", "rsrp_code", "sample_sites"]

SAMPLES_FORMAT = "site-samples-v2"
"""Identifies the stored vectors (v2: compressed, positions as differences); part of the key."""

KEEP_SETS = 2
"""Vectors kept in the folder, in sets of a call's sites: the call's own and as many again
(e.g. the previous period's cells), the most recently used."""


def rsrp_code() -> str:
    """SHA-256 of the source of the modules that turn a loss window into RSRP (part of
    the key of a stored vector: editing them makes every stored vector stale)."""
    return source_digest("predict/sites.py", "radio/window.py", "radio/linkbudget.py",
                         "radio/antenna.py")


def _samples_key(grid: WorkingGrid, cfg: Config, job: SiteJob, cells_digest: str) -> str:
    return make_key({
        "format": SAMPLES_FORMAT, "code": rsrp_code(), "loss": job_loss_key(grid, cfg, job),
        "cells": cells_digest,
        "site": [job.x, job.y, job.height_m, list(job.azimuths)],
        "radio": dataclasses.asdict(job.radio), "pattern": dataclasses.asdict(job.pattern),
        "rx": [cfg.rule.receiver_height_m, cfg.rule.body_loss_db, cfg.model.delta_n],
    })


@dataclass(frozen=True)
class SampledSites:
    """RSRP of sites at chosen cells of the working grid.

    Attributes
    ----------
    cells : ndarray of int64
        Flat indices (row-major) of the sampled cells in the working grid, ascending.
    shape : tuple of int
        The working grid's shape (rows, cols).
    transform : Affine
        Working-grid transform.
    crs : pyproj.CRS
        Working CRS.
    operators : tuple of str
        Operators in configuration order.
    site_operator : ndarray of object
        Operator of every site of the table (position = site index).
    values : ndarray of float32, shape (n_sites, n_cells)
        RSRP (dBm) of each site at each sampled cell; ``-inf`` where the site does not
        reach, was not asked for, or cannot be predicted.
    warnings : list of Problem
        Sites left out (no band, cannot be predicted) and settings ignored.
    """

    cells: np.ndarray
    shape: tuple[int, int]
    transform: Affine
    crs: CRS
    operators: tuple[str, ...]
    site_operator: np.ndarray
    values: np.ndarray
    warnings: list[Problem] = field(default_factory=list)


def sample_sites(study: Study, cells: np.ndarray, sites: Iterable[int], *,
                 cache_dir: str | Path | None, samples_dir: str | Path | None = None,
                 config: Config | None = None, threads: int | None = None) -> SampledSites:
    """Predict each site once and keep its RSRP at ``cells``.

    Parameters
    ----------
    study : Study
        Grid and sites (site index = row position in ``study.sites``).
    cells : ndarray of int
        Flat indices of the cells to keep (any order, repeats allowed).
    sites : iterable of int
        Positions of the sites to predict; the others stay ``-inf``.
    cache_dir : str or Path or None
        The per-site loss cache (as :func:`coverage.predict.predict_coverage`).
    samples_dir : str or Path or None
        Folder of the stored vectors (see the module notes); None stores none.
    config : Config, optional
        Defaults to ``study.config``.
    threads : int, optional
        Sites predicted side by side (default ``config.compute.threads``).

    Returns
    -------
    SampledSites
    """
    cfg = config or study.config
    grid: WorkingGrid = study.grid
    shape = (int(grid.shape[0]), int(grid.shape[1]))
    flat = np.unique(np.asarray(cells, dtype=np.int64))
    cell_rows, cell_cols = np.divmod(flat, shape[1])
    table = study.sites.reset_index(drop=True)
    values = np.full((len(table), len(flat)), -np.inf, np.float32)
    cache = Path(cache_dir) if cache_dir is not None else None
    warnings = settings_warnings(cfg.model)
    entries = [make_site_job(cfg, table.iloc[i], i) for i in sorted(set(map(int, sites)))]
    jobs = [job for job in entries if isinstance(job, SiteJob)]

    stored = Path(samples_dir) if samples_dir is not None else None
    cells_digest = array_digest(flat)

    used: list[str] = []

    def one(job: SiteJob) -> tuple[np.ndarray, np.ndarray] | str:
        key = _samples_key(grid, cfg, job, cells_digest) if stored is not None else None
        if stored is not None and key is not None:
            used.append(key)
            found = read_entry(stored, key)
            if found.status == "hit" and found.arrays is not None:
                at = np.cumsum(found.arrays["at_step"], dtype=np.int64)
                return at, found.arrays["rsrp_dbm"]
        try:
            cov = predict_site(grid, cfg, job, cache)
        except ModelRangeError as exc:
            return str(exc)
        rows, cols = cov.slices
        # the sampled cells inside the site's window (cells are sorted by row, then col)
        lo, hi = np.searchsorted(flat, [rows.start * shape[1], rows.stop * shape[1]])
        r, c = cell_rows[lo:hi], cell_cols[lo:hi]
        inside = (c >= cols.start) & (c < cols.stop)
        at = np.arange(lo, hi, dtype=np.int64)[inside]
        rsrp = np.ascontiguousarray(cov.rsrp_dbm[r[inside] - rows.start,
                                                 c[inside] - cols.start], dtype=np.float32)
        if stored is not None and key is not None:
            step = np.diff(at, prepend=0).astype(np.int32)  # at is ascending, < cells
            write_entry(stored, key, {"at_step": step, "rsrp_dbm": rsrp}, compress=True)
        return at, rsrp

    results = map_ordered(one, jobs, threads if threads is not None else cfg.compute.threads)
    try:
        for job in entries:
            if isinstance(job, Problem):
                warnings.append(job)
                continue
            got = next(results)
            if isinstance(got, str):
                warnings.append(unpredictable(job, got))
                continue
            at, v = got
            values[job.index, at] = np.where(np.isnan(v), -np.inf, v)
    finally:
        results.close()
    if stored is not None:
        keep_newest(stored, KEEP_SETS * max(1, len(jobs)), used=used)
    crs = grid.crs if isinstance(grid.crs, CRS) else CRS.from_user_input(grid.crs)
    return SampledSites(flat, shape, grid.transform, crs, tuple(cfg.operators),
                        table["operator"].astype(str).to_numpy(dtype=object), values, warnings)


def best_server(sampled: SampledSites, sites: Iterable[int]) -> CoverageResult:
    """Best-server coverage of a set of sites, at the sampled cells.

    Parameters
    ----------
    sampled : SampledSites
        The sites' RSRP at the cells (from :func:`sample_cells`).
    sites : iterable of int
        Positions of the sites on air.

    Returns
    -------
    CoverageResult
        Whole-grid rasters holding, at every sampled cell, what
        :func:`coverage.predict.predict_coverage` of these sites gives there (RSRP NaN and
        site -1 at the other cells). No site windows.
    """
    rows = np.array(sorted(set(map(int, sites))), dtype=np.int64)
    n = sampled.cells.size
    size = sampled.shape[0] * sampled.shape[1]
    by_operator: dict[str, OperatorCoverage] = {}
    vectors = []
    for op in sampled.operators:
        mine = rows[sampled.site_operator[rows] == op] if rows.size else rows
        best = np.full(n, np.nan, np.float32)
        site = np.full(n, -1, np.int32)
        if mine.size:
            block = sampled.values[mine]
            top = block.max(axis=0)
            first = block.argmax(axis=0)       # the first (lowest index) of equal values
            reach = top > -np.inf
            best[reach] = top[reach]
            site[reach] = mine[first[reach]]
        vectors.append(best)
        by_operator[op] = OperatorCoverage(op, _scatter(sampled, best, np.nan, size),
                                           _scatter(sampled, site, -1, size))
    if sampled.operators:
        any_v, any_op = combine_operators(vectors)
        any_rsrp = _scatter(sampled, any_v, np.nan, size)
        any_operator = _scatter(sampled, any_op, -1, size)
    else:
        any_rsrp = np.full(sampled.shape, np.nan, np.float32)
        any_operator = np.full(sampled.shape, -1, np.int8)
    return CoverageResult(sampled.transform, sampled.crs, sampled.operators, by_operator,
                          any_rsrp, any_operator, (), 0, 0, list(sampled.warnings))


def _scatter(sampled: SampledSites, vector: np.ndarray, fill: float, size: int) -> np.ndarray:
    """A whole-grid raster holding ``vector`` at the sampled cells and ``fill`` elsewhere."""
    out = np.full(size, fill, vector.dtype)
    out[sampled.cells] = vector
    return out.reshape(sampled.shape)
