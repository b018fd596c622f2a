"""The one choice of where per-site predictions run: this process or a dask cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coverage.predict import predict_coverage
from coverage.predict.network import predict_networks
from coverage.scale.runners import predict_on_cluster
from coverage.scale.tiling import DEFAULT_TILE_CELLS
from coverage.signal import CoverageResult
from coverage.study import Study

__all__ = ["Backend"]


@dataclass(frozen=True)
class Backend:
    """Where a run predicts its sites; both give byte-identical results.

    Attributes
    ----------
    client : dask.distributed.Client or None
        None predicts in this process, whole grid at once
        (:func:`coverage.predict.predict_coverage`); a client runs the sites on that cluster,
        tile by tile (:func:`coverage.scale.runners.predict_on_cluster`).
    tile_cells : int
        Tile side (cells) of a cluster run.
    """

    client: Any = None
    tile_cells: int = DEFAULT_TILE_CELLS

    @property
    def on_cluster(self) -> bool:
        """True when the sites run on a dask cluster."""
        return self.client is not None

    def predict(self, study: Study, *, cache_dir: str | Path | None,
                statuses: Iterable[str] | None,
                progress: Callable[[int, int], None] | None = None) -> CoverageResult:
        """Per-operator best-server RSRP of the study's sites of ``statuses``."""
        if self.client is None:
            return predict_coverage(study, cache_dir=cache_dir, statuses=statuses,
                                    progress=progress)
        return predict_on_cluster(study, None, client=self.client, cache_dir=cache_dir,
                                  statuses=statuses, progress=progress,
                                  tile_cells=self.tile_cells)

    def predict_networks(self, study: Study, networks: Sequence[Iterable[str] | None], *,
                         cache_dir: str | Path | None,
                         progress: Callable[[int, int], None] | None = None
                         ) -> list[CoverageResult]:
        """:meth:`predict` of each network (site statuses) of ``networks``, in that order.

        In this process the sites of all of them are predicted in one pass
        (:func:`coverage.predict.network.predict_networks`); on a cluster, one network after
        the other.
        """
        if self.client is None:
            return predict_networks(study, networks, cache_dir=cache_dir, progress=progress)
        return [self.predict(study, cache_dir=cache_dir, statuses=statuses, progress=progress)
                for statuses in networks]
