"""The prediction step for a region too large for memory: tile by tile, straight into COGs.

A county's prediction is held whole in memory (:func:`coverage.predict.predict_coverage`).
Above ``model.max_in_memory_cells`` (a province at 30 m), the ``predict`` step instead runs
:func:`coverage.scale.runners.run_tiled` and writes every finished tile into the coverage
COGs, so the coordinating process holds a few tiles, never the region. The files are
byte-identical to the whole-array ones (:func:`predict_to_folder` is tested against them).

Field measurements are compared without whole rasters: a tile sink keeps only the values at
the measured cells (:class:`CellSamples`). When the configuration asks for calibration, a
first pass predicts only the tiles holding measurements (and only the sites reaching them),
the corrections are fitted, and a second pass writes every tile corrected cell by cell
(:func:`coverage.evidence.calibration.calibrate_tile`, the arithmetic of the whole-array
correction).
The second pass reads every site's loss from the cache the first pass filled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from numpy.typing import DTypeLike

from coverage.evidence.calibration import (
    CalibrationFit,
    calibrate_tile,
    calibration_sites,
    fit_calibration,
)
from coverage.evidence.compare import Comparison, compare, measurement_cells
from coverage.scale.cogs import CogWriters, cog_writers, predict_to_cogs, write_tile
from coverage.scale.runners import TiledRun, run_tiled
from coverage.scale.tasks import TileResult
from coverage.scale.tiling import DEFAULT_TILE_CELLS, Tile, tile_layout
from coverage.signal import SignalGrids, combine_operators
from coverage.study import Study

__all__ = ["CellSamples", "StreamedPrediction", "needs_tiling", "predict_to_folder"]


def needs_tiling(study: Study) -> bool:
    """True when the working grid has more cells than ``model.max_in_memory_cells``."""
    rows, cols = study.grid.shape
    return rows * cols > study.config.model.max_in_memory_cells


class CellSamples:
    """A raster's values at a fixed set of cells, filled tile by tile.

    Indexed like the raster it samples, ``samples[rows, cols]``, for any of its cells.

    Parameters
    ----------
    shape : (int, int)
        The raster's (rows, cols).
    rows, cols : ndarray of int
        The cells to keep (inside the raster; repeats allowed).
    dtype : numpy dtype
        Cell type.
    fill : number
        Value of a cell no tile has covered yet.
    """

    def __init__(self, shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray,
                 dtype: DTypeLike, fill: float | int):
        self.shape = (int(shape[0]), int(shape[1]))
        flat = np.ravel_multi_index((np.asarray(rows, np.int64), np.asarray(cols, np.int64)),
                                    self.shape)
        self._flat = np.unique(flat)
        self._rows, self._cols = np.unravel_index(self._flat, self.shape)
        self.values = np.full(self._flat.size, fill, dtype=np.dtype(dtype))

    def fill(self, row0: int, col0: int, block: np.ndarray) -> None:
        """Take the kept cells that ``block`` (first cell at ``row0``, ``col0``) covers."""
        nrows, ncols = block.shape
        inside = ((self._rows >= row0) & (self._rows < row0 + nrows)
                  & (self._cols >= col0) & (self._cols < col0 + ncols))
        if inside.any():
            self.values[inside] = block[self._rows[inside] - row0, self._cols[inside] - col0]

    def __getitem__(self, key: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        rows, cols = key
        flat = np.ravel_multi_index((np.asarray(rows, np.int64), np.asarray(cols, np.int64)),
                                    self.shape)
        at = np.searchsorted(self._flat, flat)
        if flat.size and (np.any(at >= self._flat.size) or np.any(self._flat[at] != flat)):
            raise KeyError("a cell that was not sampled")
        return self.values[at]


class _Sampler:
    """A tile sink keeping every operator's RSRP and best site at the measured cells."""

    def __init__(self, shape: tuple[int, int], operators: tuple[str, ...], rows: np.ndarray,
                 cols: np.ndarray):
        self.rsrp = {op: CellSamples(shape, rows, cols, np.float32, np.nan) for op in operators}
        self.best = {op: CellSamples(shape, rows, cols, np.int32, -1) for op in operators}

    def __call__(self, result: TileResult) -> None:
        if result.operator:   # the any-operator tiles are not compared
            t = result.tile
            self.rsrp[result.operator].fill(t.row0, t.col0, result.rsrp)
            self.best[result.operator].fill(t.row0, t.col0, result.best)

    def signal(self) -> SignalGrids:
        # CellSamples stand in for the rasters at the measured cells, the only cells the
        # comparison indexes ([rows, cols]); they are not full arrays.
        return SignalGrids(rsrp=cast(Mapping[str, np.ndarray], self.rsrp),
                           best_site=cast(Mapping[str, np.ndarray], self.best))


class _CalibratingSink:
    """Waits for every operator of a tile, corrects them, writes them and their any-operator."""

    def __init__(self, writers: CogWriters, fit: CalibrationFit, sites: pd.DataFrame,
                 study: Study, operators: tuple[str, ...]):
        self.writers, self.fit, self.sites = writers, fit, sites
        self.transform = study.grid.transform
        self.operators = operators
        self.waiting: dict[int, dict[str, TileResult]] = {}

    def __call__(self, result: TileResult) -> None:
        t = result.tile
        got = self.waiting.setdefault(t.index, {})
        got[result.operator] = result
        if len(got) < len(self.operators):
            return
        del self.waiting[t.index]
        corrected = []
        for op in self.operators:
            raw = got[op]
            rsrp = calibrate_tile(self.fit, op, self.sites, self.transform, t.row0, t.col0,
                                  raw.rsrp, raw.best)
            write_tile(self.writers, TileResult(t, op, rsrp, raw.best))
            corrected.append(rsrp)
        any_rsrp, any_operator = combine_operators(corrected)
        write_tile(self.writers, TileResult(t, "", any_rsrp, any_operator))


@dataclass
class StreamedPrediction:
    """What the tiled prediction step found (its rasters are in the output folder).

    Attributes
    ----------
    run : TiledRun
        Tiles, site counts and warnings (sites computed over all passes).
    comparison : Comparison or None
        Measurements against the raw prediction (None without measurements).
    calibration : CalibrationFit or None
        Fitted corrections (None without measurements).
    calibrated : bool
        True when the written rasters carry the corrections.
    passes : int
        Tiled passes made (2 when calibrating: measured tiles, then every tile).
    """

    run: TiledRun
    comparison: Comparison | None = None
    calibration: CalibrationFit | None = None
    calibrated: bool = False
    passes: int = 1


def predict_to_folder(study: Study, folder: str | Path, *, cache_dir: str | Path,
                      client: Any = None, tags: dict[str, str] | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      tile_cells: int = DEFAULT_TILE_CELLS) -> StreamedPrediction:
    """Predict the on-air sites tile by tile into the coverage COGs of ``folder``.

    Writes ``rsrp_<OP>.tif``, ``best_site_<OP>.tif`` and ``rsrp_any.tif`` exactly as the
    whole-array prediction (calibrated when ``config.calibrate`` and the measurements give
    corrections) would, holding only a few tiles at a time.

    Parameters
    ----------
    study : Study
        Grid, sites, configuration and (optionally) measurements.
    folder : str or Path
        Where the COGs go (e.g. the staged ``coverage/`` folder).
    cache_dir : str or Path
        Loss cache (visible to every worker on a cluster).
    client : distributed.Client, optional
        Cluster to run on; None runs here.
    tags : dict, optional
        Provenance tags of every file.
    progress : callable, optional
        ``progress(done, total)`` as sites finish (per pass).
    tile_cells : int
        Core tile side (cells).

    Returns
    -------
    StreamedPrediction
    """
    cfg = study.config
    operators = tuple(cfg.operators)
    meas = study.measurements
    common = dict(client=client, cache_dir=cache_dir, statuses=("on_air",),
                  tile_cells=tile_cells, progress=progress)
    if meas is None or len(meas) == 0:
        run = predict_to_cogs(study, folder, tags=tags, **common)
        return StreamedPrediction(run)
    rows, cols = _measured_cells(study)
    sampler = _Sampler(study.grid.shape, operators, rows, cols)
    if not cfg.calibrate:
        run = predict_to_cogs(study, folder, tags=tags, also=sampler, **common)
        comparison = compare(study, sampler.signal())
        return StreamedPrediction(run, comparison, fit_calibration(comparison))
    measured = _tiles_holding(tile_layout(study.grid.shape, tile_cells), rows, cols)
    first = run_tiled(study, cfg, sampler, with_any=False, only_tiles=measured, **common)
    comparison = compare(study, sampler.signal())
    fit = fit_calibration(comparison)
    if not fit.terms:
        run = predict_to_cogs(study, folder, tags=tags, **common)
    else:
        with contextlib.ExitStack() as stack:
            writers = cog_writers(stack, folder, study.grid, operators, tags)
            sink = _CalibratingSink(writers, fit, calibration_sites(study), study, operators)
            run = run_tiled(study, cfg, sink, with_any=False, **common)
            if sink.waiting:
                raise RuntimeError(f"tiles {sorted(sink.waiting)} lack an operator's result")
    # sites computed in the first pass were read from the cache in the second
    computed = first.computed_sites + run.computed_sites
    run.cached_sites = max(0, run.cached_sites - first.computed_sites)
    run.computed_sites = computed
    return StreamedPrediction(run, comparison, fit, calibrated=bool(fit.terms), passes=2)


def _measured_cells(study: Study) -> tuple[np.ndarray, np.ndarray]:
    """Grid cells holding measurements (inside the grid only)."""
    assert study.measurements is not None
    _, _, rows, cols = measurement_cells(study, study.measurements)
    inside = rows >= 0
    return rows[inside], cols[inside]


def _tiles_holding(tiles: tuple[Tile, ...], rows: np.ndarray, cols: np.ndarray) -> list[int]:
    """Indices of the tiles holding at least one of the cells."""
    out = []
    for t in tiles:
        if np.any((rows >= t.row0) & (rows < t.row0 + t.nrows)
                  & (cols >= t.col0) & (cols < t.col0 + t.ncols)):
            out.append(t.index)
    return out
