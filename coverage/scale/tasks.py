"""The task functions of a tiled run, the same in this process and on dask workers.

See :mod:`coverage.scale.runners` for how a tiled run goes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import Point

from coverage.config import Config
from coverage.errors import ModelRangeError
from coverage.grid import WorkingGrid
from coverage.io.cache import make_key, read_entry, write_entry
from coverage.io.tiles import (
    DemFile,
    open_grid,
)
from coverage.predict.candidates import CandidateRadio
from coverage.predict.sites import (
    SiteJob,
    job_loss_key,
    predict_site,
)
from coverage.scale.cluster import RSRP_DIR
from coverage.scale.tiling import (
    Tile,
)
from coverage.signal import combine_operators, finish_best, new_best, take_stronger

GridSource = DemFile | WorkingGrid
"""What a task opens: the DEM file on a cluster, the grid itself in this process."""


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
        from coverage.radio.threads import set_default_threads

        set_default_threads(1)


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
    best, best_site = new_best((tile.nrows, tile.ncols))
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
        take_stronger(target, target_site, window, job.index)
    return TileResult(tile, operator, finish_best(best), best_site)


def any_task(tile: Tile, results: list[TileResult | None]) -> TileResult:
    """Any-operator best RSRP and operator index on a tile (operators in config order)."""
    empty = np.full((tile.nrows, tile.ncols), np.nan, np.float32)
    rsrp, index = combine_operators([empty if r is None else r.rsrp for r in results])
    return TileResult(tile, "", rsrp, index)


# ------------------------------------------------------------------------------ candidate task


class _GridAndConfig:
    """The two attributes of a Study that :class:`CandidateRadio` reads."""

    def __init__(self, grid: WorkingGrid, config: Config):
        self.grid = grid
        self.config = config


@dataclass(frozen=True)
class CandidateOption:
    """One candidate option to predict on a worker (numbers only, picklable).

    Attributes
    ----------
    option_id : str
        ``TOWER:OP:BAND``.
    operator, band : str
        Operator code and band name.
    height_m : float
        Antenna height above ground (m).
    x, y : float
        Tower position (m, working CRS).
    """

    option_id: str
    operator: str
    band: str
    height_m: float
    x: float
    y: float


def candidate_task(source: GridSource, cfg: Config, cache_dir: str | None,
                   cells: tuple[np.ndarray, np.ndarray], options: list[CandidateOption],
                   single_thread: bool = False) -> list[tuple[str, Any, int, int]]:
    """RSRP of candidate options (one tower's) at the cells: (option_id, values or error
    text, computed, cached) per option, computed by :class:`CandidateRadio` as in-process."""
    _one_thread(single_thread)
    radio = CandidateRadio(_GridAndConfig(_grid(source), cfg), cache_dir)  # type: ignore[arg-type]
    out = []
    rows, cols = cells
    for opt in options:
        site = pd.Series({"operator": opt.operator, "band": opt.band,
                          "height_m": opt.height_m, "geometry": Point(opt.x, opt.y)})
        before = (radio.computed, radio.cached)
        try:
            values: Any = radio(site, rows, cols)
        except ModelRangeError as exc:
            values = str(exc)
        out.append((opt.option_id, values, radio.computed - before[0],
                    radio.cached - before[1]))
    return out
