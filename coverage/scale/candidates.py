"""Candidate predictions on a cluster, one task per candidate tower."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage.errors import ModelRangeError
from coverage.io.tiles import (
    write_dem_file,
)
from coverage.predict.candidates import CandidateRadio, candidate_sites
from coverage.scale.cluster import DEFAULT_RETRIES, DEM_DIR, check_shared_folder
from coverage.scale.runners import _OnCluster
from coverage.scale.tasks import CandidateOption, candidate_task
from coverage.study import Study


class ClusterCandidateRadio(CandidateRadio):
    """:class:`~coverage.predict.candidates.CandidateRadio` whose predictions run on a
    cluster, one task per candidate tower, with identical results.

    Call :meth:`prepare` with the option sites and cells before asking for values (or give
    ``candidates``: the first call then prepares every option of those candidates within
    reach of the cells). A value not prepared is computed here. Without ``cache_dir`` the
    DEM file goes to a temporary folder: :meth:`close` (or a with-block) removes it.

    Parameters
    ----------
    study : Study
        Grid and configuration.
    client : distributed.Client
        The cluster.
    cache_dir : str or Path, optional
        Cache folder of the candidate predictions (visible to every worker).
    candidates : GeoDataFrame, optional
        Candidate towers (:func:`coverage.plan.candidates.generate_candidates`).
    prune_dominated : bool
        As :func:`coverage.plan.coverage_matrix.coverage_matrix`.
    retries : int
        Re-runs of a failed task.
    """

    def __init__(self, study: Study, client: Any, cache_dir: str | Path | None = None, *,
                 candidates: Any = None, prune_dominated: bool = True,
                 retries: int = DEFAULT_RETRIES):
        super().__init__(study, cache_dir)
        self.client = client
        self.candidates = candidates
        self.prune_dominated = prune_dominated
        self._runner = _OnCluster(client, retries)
        self._futures: dict[str, Any] = {}
        self._cells: tuple[np.ndarray, np.ndarray] | None = None
        self._source: Any = None
        self._results: dict[str, Any] = {}
        self._temp: str | None = None
        self.on_cluster = 0
        """Values that came from the cluster (the rest were computed here)."""

    def close(self) -> None:
        """Forget pending predictions and remove the temporary DEM folder (no cache_dir)."""
        self._futures.clear()
        self._results.clear()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
            self._source = None

    def __enter__(self) -> ClusterCandidateRadio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, sites: pd.DataFrame, rows: np.ndarray, cols: np.ndarray) -> None:
        """Submit the option ``sites`` (rows of ``candidate_sites``) for the cells."""
        if self._source is None:
            if self.cache_dir is None:
                self._temp = tempfile.mkdtemp(prefix="coverage-candidates-")
                folder = Path(self._temp)
            else:
                folder = Path(self.cache_dir)
            check_shared_folder(self.client, folder)
            self._source = self.client.scatter(write_dem_file(self.grid, folder / DEM_DIR),
                                               broadcast=True, hash=False)
        self._cells = (rows, cols)
        cells = self.client.scatter((rows, cols), broadcast=True, hash=False)
        cache = None if self.cache_dir is None else str(self.cache_dir)
        groups: dict[str, list[CandidateOption]] = {}
        for option_id, tower_id, operator, band, height_m, x, y in zip(
                sites["option_id"].tolist(), sites["tower_id"].tolist(),
                sites["operator"].tolist(), sites["band"].tolist(), sites["height_m"].tolist(),
                sites.geometry.x.tolist(), sites.geometry.y.tolist(), strict=True):
            oid = str(option_id)
            if oid in self._futures:
                continue
            groups.setdefault(str(tower_id), []).append(CandidateOption(
                oid, str(operator), str(band), float(height_m), float(x), float(y)))
        for n, (tower, options) in enumerate(groups.items()):
            fut = self._runner.submit(candidate_task, self._source, self.config, cache, cells,
                                      options, True, name=f"candidate-{n}-{tower}")
            for opt in options:
                self._futures[opt.option_id] = fut

    def _prepare_from_candidates(self, rows: np.ndarray, cols: np.ndarray) -> None:
        sites = candidate_sites(self.candidates, self.config, self.prune_dominated)
        if len(sites) and len(rows):
            from scipy.spatial import cKDTree

            cx, cy = self.grid.xy(rows.astype(np.float64), cols.astype(np.float64))
            reach = self.config.model.radius_km * 1000.0 + 2.0 * self.grid.resolution_m
            dist, _ = cKDTree(np.column_stack([cx, cy])).query(
                np.column_stack([sites.geometry.x, sites.geometry.y]), k=1,
                distance_upper_bound=reach)
            sites = sites[np.isfinite(dist)]
        self.prepare(sites, rows, cols)

    def __call__(self, site: pd.Series, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """RSRP (dBm, float32; NaN unreached) of an omni candidate site at the cells."""
        same = self._cells is not None and self._cells[0] is rows and self._cells[1] is cols
        if not same and self._cells is not None and not (
                np.array_equal(self._cells[0], rows) and np.array_equal(self._cells[1], cols)):
            self._futures.clear()
            self._results.clear()
            self._cells = None
        if self._cells is None and self.candidates is not None:
            self._prepare_from_candidates(rows, cols)
        oid = str(site.get("option_id", site.get("site_id", "")))
        fut = self._futures.get(oid)
        if fut is None:
            return super().__call__(site, rows, cols)
        if oid not in self._results:
            for got_id, values, computed, cached in fut.result():
                self._results[got_id] = (values, computed, cached)
        values, computed, cached = self._results.pop(oid)
        self._futures.pop(oid, None)
        self.computed += computed
        self.cached += cached
        self.on_cluster += 1
        if isinstance(values, str):
            raise ModelRangeError(values)
        return values
