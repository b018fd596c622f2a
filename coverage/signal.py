"""Signal on the working grid: the shared result types and the best-server rule.

A prediction produces, per operator, the strongest RSRP at every cell and the site that gives
it (*best server*); the assessment, the evidence, the planning and the maps read these. The
rule is written here once:

* per operator, a cell takes the strongest site; an exact tie keeps the **lower site index**
  (sites are folded in ascending index, so "strictly stronger replaces" is the rule:
  :func:`take_stronger`);
* "any operator" takes the strongest operator; a tie keeps the earlier operator in
  configuration order (:func:`combine_operators`).

The in-process prediction, the tiled and distributed runs and :func:`merge_coverage` all use
these functions, which is why their results are byte-identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from affine import Affine
from pyproj import CRS

from coverage.errors import Problem
from coverage.grid import WorkingGrid
from coverage.radio.fold_kernels import merge_best
from coverage.radio.linkbudget import SiteRadio

ANY = "ANY"
"""Pseudo-operator: the best of all operators at a place."""

NO_SIGNAL_DBM = -200.0
"""RSRP used for places no site reaches (outside every radius), in dBm."""


class Signal(Protocol):
    """What a reader of predicted signal needs: :class:`SignalGrids` and
    :class:`CoverageResult` both provide it."""

    @property
    def rsrp(self) -> Mapping[str, np.ndarray]:
        """Operator code to best-server RSRP (dBm), NaN where no site reaches."""
        ...

    @property
    def best_site(self) -> Mapping[str, np.ndarray]:
        """Operator code to the row index in ``Study.sites`` of the serving site (−1: none)."""
        ...


@dataclass(frozen=True)
class SignalGrids:
    """Best-server RSRP per operator on the working grid.

    Parameters
    ----------
    rsrp : mapping of str to ndarray
        Operator code to float32 RSRP (dBm), NaN where no site of it reaches.
    best_site : mapping of str to ndarray
        Operator code to int32 row index into ``Study.sites`` of the serving site (−1: none).
    """

    rsrp: Mapping[str, np.ndarray]
    best_site: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class SiteCoverage:
    """RSRP of one site on a window of the working grid.

    Attributes
    ----------
    site_index : int
        Position of the site in ``Study.sites``.
    site_id, operator : str
        The site's identifiers.
    row0, col0 : int
        Grid row and column of the window's first cell.
    rsrp_dbm : ndarray of float32
        RSRP (dBm) on the window; NaN where the site does not reach.
    sector : ndarray of int8
        Index of the best sector (into the site's azimuths); -1 for an omni site.
    radio : SiteRadio
        The radio parameters used (band defaults applied).
    from_cache : bool
        True when the path loss was read from the cache.
    """

    site_index: int
    site_id: str
    operator: str
    row0: int
    col0: int
    rsrp_dbm: np.ndarray
    sector: np.ndarray
    radio: SiteRadio
    from_cache: bool

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices of the window in the full grid."""
        rows, cols = self.rsrp_dbm.shape
        return slice(self.row0, self.row0 + rows), slice(self.col0, self.col0 + cols)


@dataclass(frozen=True)
class OperatorCoverage:
    """Best-server coverage of one operator on the whole working grid.

    Attributes
    ----------
    operator : str
        Operator code.
    rsrp : ndarray of float32
        Best-server RSRP (dBm); NaN where no site of the operator reaches.
    best_site : ndarray of int32
        Position in ``Study.sites`` of the serving site; -1 where none.
    """

    operator: str
    rsrp: np.ndarray
    best_site: np.ndarray


@dataclass(frozen=True)
class CoverageResult:
    """Predicted coverage of a study.

    Attributes
    ----------
    transform : Affine
        Working-grid transform.
    crs : pyproj.CRS
        Working CRS.
    operators : tuple of str
        Operators in configuration order (``any_operator`` indexes this tuple).
    by_operator : dict of str to OperatorCoverage
        Best-server rasters per operator (every configured operator, even without sites).
    any_rsrp : ndarray of float32
        Best RSRP over all operators (dBm), NaN where nobody reaches.
    any_operator : ndarray of int8
        Index into ``operators`` of the strongest operator; -1 where none.
    sites : tuple of SiteCoverage
        Per-site windows (only when requested with ``keep_sites=True``).
    computed_sites, cached_sites : int
        How many site losses were computed, and how many were read from the cache.
    warnings : list of Problem
        Sites skipped or settings ignored, with what to do.
    """

    transform: Affine
    crs: CRS
    operators: tuple[str, ...]
    by_operator: dict[str, OperatorCoverage]
    any_rsrp: np.ndarray
    any_operator: np.ndarray
    sites: tuple[SiteCoverage, ...] = ()
    computed_sites: int = 0
    cached_sites: int = 0
    warnings: list[Problem] = field(default_factory=list)

    @property
    def rsrp(self) -> dict[str, np.ndarray]:
        """Operator code to best-server RSRP raster."""
        return {op: cov.rsrp for op, cov in self.by_operator.items()}

    @property
    def best_site(self) -> dict[str, np.ndarray]:
        """Operator code to best-server site-index raster."""
        return {op: cov.best_site for op, cov in self.by_operator.items()}


def new_best(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Empty best-server accumulators: RSRP ``-inf`` (float32) and site index -1 (int32)."""
    return np.full(shape, -np.inf, np.float32), np.full(shape, -1, np.int32)


def take_stronger(best: np.ndarray, best_site: np.ndarray, values: np.ndarray,
                  index: int) -> None:
    """Fold one site's RSRP (dBm) into best-server accumulators, in place.

    A cell takes the site when it is strictly stronger (NaN compares False); sites must come
    in ascending index, so an exact tie keeps the lower index.
    """
    better = np.greater(values, best)
    np.copyto(best, values, where=better)
    np.copyto(best_site, index, where=better)


def finish_best(best: np.ndarray) -> np.ndarray:
    """The accumulator as an RSRP raster: cells no site reached become NaN (in place)."""
    best[~np.isfinite(best)] = np.nan
    return best


def combine_operators(rsrp: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Any-operator RSRP (float32, NaN none) and operator index (int8, -1 none).

    ``rsrp`` holds the operators' best-server rasters (or tiles of them) in configuration
    order; a tie goes to the earlier operator.
    """
    shape = rsrp[0].shape if rsrp else (0, 0)
    # in place on one float32 accumulator (-inf: no operator yet; NaN compares False), as
    # take_stronger folds sites: no whole-raster temporaries per operator
    any_rsrp = np.full(shape, -np.inf, np.float32)
    any_operator = np.full(shape, -1, np.int8)
    better = np.empty(shape, np.bool_)
    for index, values in enumerate(rsrp):
        np.greater(values, any_rsrp, out=better)
        np.copyto(any_rsrp, values, where=better)
        np.copyto(any_operator, index, where=better)
    np.copyto(any_rsrp, np.nan, where=any_operator < 0)
    return any_rsrp, any_operator


def merge_coverage(first: CoverageResult, second: CoverageResult) -> CoverageResult:
    """Best server over the sites of both results, exactly as if predicted together.

    Both results index the same sites table (``second`` may use a longer one that extends
    it). A cell takes the stronger site; an exact tie goes to the lower site index, which
    is the rule of :func:`predict_coverage`, so merging a prediction of some sites with one
    of others equals predicting all of them at once.

    Returns
    -------
    CoverageResult
        New rasters; site windows, counts and warnings of both (settings warnings once).
    """
    by_operator = {}
    for op in first.operators:
        a, b = first.by_operator[op], second.by_operator[op]
        rasters = [np.require(r, t, ["C_CONTIGUOUS"]) for r, t in (
            (a.rsrp, np.float32), (a.best_site, np.int32),
            (b.rsrp, np.float32), (b.best_site, np.int32))]
        rsrp = np.empty(rasters[0].shape, np.float32)
        best_site = np.empty(rasters[0].shape, np.int32)
        merge_best(*rasters, rsrp, best_site)
        by_operator[op] = OperatorCoverage(op, rsrp, best_site)
    if first.operators:
        any_rsrp, any_operator = combine_operators([by_operator[op].rsrp
                                                    for op in first.operators])
    else:
        any_rsrp, any_operator = first.any_rsrp, first.any_operator
    warnings = list(first.warnings) + [w for w in second.warnings if w not in first.warnings]
    return CoverageResult(first.transform, first.crs, first.operators, by_operator, any_rsrp,
                          any_operator, first.sites + second.sites,
                          first.computed_sites + second.computed_sites,
                          first.cached_sites + second.cached_sites, warnings)


# ------------------------------------------------------------------------------ sampling


def sample_cells(grid: WorkingGrid, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Row and column (int) of the cells holding points (x, y); −1 outside the grid."""
    t = grid.transform  # north-up: x = c + col·a, y = f + row·e
    cols = np.floor((np.asarray(xs, float) - t.c) / t.a).astype(np.int64)
    rows = np.floor((np.asarray(ys, float) - t.f) / t.e).astype(np.int64)
    h, w = grid.elevation.shape
    outside = (rows < 0) | (rows >= h) | (cols < 0) | (cols >= w)
    rows[outside] = -1
    cols[outside] = -1
    return rows, cols


def values_at(raster: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill: float) -> np.ndarray:
    """Raster values at cells (``rows`` -1: outside the grid, gets ``fill``), as float64."""
    out = np.full(rows.shape, fill, dtype=np.float64)
    ok = rows >= 0
    out[ok] = raster[rows[ok], cols[ok]]
    return out
