"""COG assembly: a tiled run written tile by tile into cloud-optimised GeoTIFFs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from coverage.config import Config
from coverage.grid import WorkingGrid
from coverage.io.tiles import (
    TiledRasterSet,
    TiledRasterWriter,
    gdal_cache_limit,
)
from coverage.scale.cluster import DEFAULT_RETRIES
from coverage.scale.runners import TiledRun, TileSink, run_tiled
from coverage.scale.tasks import TileResult
from coverage.scale.tiling import (
    DEFAULT_TILE_CELLS,
)
from coverage.study import Study


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
