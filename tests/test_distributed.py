"""Cluster runs (dask LocalCluster, 2 workers): identical to serial, and a killed worker.

Skipped when dask.distributed is not installed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

pytest.importorskip("distributed")

from coverage import predict
from coverage.config import Config, ModelSettings
from coverage.errors import ConfigError
from coverage.grid import WorkingGrid
from coverage.io.cache import read_entry
from coverage.scale.candidates import ClusterCandidateRadio
from coverage.scale.cluster import open_client
from coverage.scale.cogs import predict_to_cogs
from coverage.scale.runners import predict_on_cluster
from coverage.study import Study
from tests.test_predict import make_sites, make_study
from tests.test_tiling import EDGE_SITES, assert_same_coverage


@pytest.fixture(scope="module")
def client():
    with open_client(workers=2, dashboard_address=":0") as c:
        yield c


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.tif")}


def test_open_client_choices():
    with open_client() as none:
        assert none is None
    with pytest.raises(ConfigError, match="not both"), open_client("tcp://x:1", 2):
        pass
    with pytest.raises(ConfigError, match="cannot reach"), open_client(
            "tcp://127.0.0.1:9", connect_timeout="1s"):
        pass


def test_cluster_and_remote_scheduler_equal_serial(client, tmp_path):
    study = make_study(EDGE_SITES, radius_km=2.0)
    serial = predict.predict_coverage(study, cache_dir=tmp_path / "serial")
    local = predict_on_cluster(study, cache_dir=tmp_path / "local", client=client,
                                     tile_cells=48)
    assert_same_coverage(serial, local)
    assert (local.computed_sites, local.cached_sites) == (serial.computed_sites, 0)
    with open_client(scheduler=client.scheduler.address) as remote:
        far = predict_on_cluster(study, client=remote, cache_dir=tmp_path / "remote",
                                 tile_cells=64)
        assert_same_coverage(serial, far)
        tags = {"version": "test"}
        predict_to_cogs(study, tmp_path / "cogs_remote", tags=tags, client=remote,
                        cache_dir=tmp_path / "remote", tile_cells=40)
    predict_to_cogs(study, tmp_path / "cogs_here", tags=tags, tile_cells=1000)
    here, there = _digests(tmp_path / "cogs_here"), _digests(tmp_path / "cogs_remote")
    assert len(here) == 7 and here == there


def _hilly_study(n_sites: int) -> Study:
    """A 600 x 600 grid of 30 m with hills; sites on a jittered lattice, radius 7 km."""
    from affine import Affine
    from pyproj import CRS

    rng = np.random.default_rng(11)
    r, c = np.mgrid[0:600, 0:600].astype(np.float32)
    z = np.full((600, 600), 200.0, np.float32)
    for r0, c0, h, s in rng.uniform([0, 0, 80, 20], [600, 600, 500, 90], (25, 4)):
        z += h * np.exp(-((r - r0) ** 2 + (c - c0) ** 2) / (2 * s * s))
    grid = WorkingGrid(z, Affine(30.0, 0, 500000.0, 0, -30.0, 3418000.0), CRS.from_epsg(32650),
                       30.0)
    ops = [("CMCC", "FDD900"), ("CU", "FDD1800"), ("CT", "FDD800")]
    rows = []
    for k in range(n_sites):
        op, band = ops[k % 3]
        rows.append({"site_id": f"S{k}", "operator": op, "band": band,
                     "height_m": float(rng.uniform(25, 45)),
                     "row": float(rng.uniform(60, 540)), "col": float(rng.uniform(60, 540)),
                     "azimuths": (0.0, 120.0, 240.0) if k % 2 else ()})
    config = Config(model=ModelSettings(radius_km=7.0))
    empty = gpd.GeoDataFrame(geometry=[], crs=grid.crs)
    return Study(Path("."), config, grid, empty, empty, empty, None, make_sites(grid, rows),
                 None, None, None, None, None, None)


def test_killed_worker_loses_nothing_and_rerun_resumes(client, tmp_path):
    study = _hilly_study(16)
    serial = predict.predict_coverage(study)
    cache = tmp_path / "cache"
    pids = client.run(os.getpid)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = predict_on_cluster(study, cache_dir=cache, client=client,
                                                         tile_cells=256)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline and thread.is_alive():
        for addr, keys in client.processing().items():
            if any("coverage-site" in str(k) for k in keys) and addr in pids:
                victim = addr
                break
        else:
            time.sleep(0.01)
    assert victim is not None, "no site task was seen running"
    os.kill(pids[victim], signal.SIGKILL)     # the worker process dies mid-task
    thread.join(120)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert_same_coverage(serial, result)
    assert result.computed_sites + result.cached_sites == 16
    assert client.run(os.getpid).keys() != pids.keys() or set(
        client.run(os.getpid).values()) != set(pids.values())   # a worker was replaced
    entries = [p for p in cache.glob("*.npz") if not p.name.startswith(".")]
    assert len(entries) == 16
    assert all(read_entry(cache, p.stem).status == "hit" for p in entries)
    again = predict_on_cluster(study, cache_dir=cache, client=client, tile_cells=256)
    assert (again.computed_sites, again.cached_sites) == (0, 16)
    assert_same_coverage(serial, again)


def test_candidate_coverage_on_the_cluster_equals_serial(client, tmp_path):
    from coverage.assess import assess
    from coverage.plan.candidates import planning_targets
    from coverage.plan.coverage_matrix import coverage_matrix
    from coverage.signal import SignalGrids
    from tests.test_candidates import hill_grid
    from tests.toy import UTM50, cell_point, toy_study

    cfg = Config()
    cfg.model.radius_km = 3.0
    grid = hill_grid()                      # 80 x 80 cells of 50 m over the toy villages
    study = toy_study(cfg, grid=grid)
    cmcc = np.full(grid.shape, -120.0, np.float32)
    cmcc[:, :10] = -90.0
    ct = np.full(grid.shape, np.nan, np.float32)
    ct[:10, :] = -100.0
    rsrp = {"CMCC": cmcc, "CT": ct, "CU": np.full(grid.shape, np.nan, np.float32)}
    sig = SignalGrids(rsrp=rsrp, best_site={op: np.where(np.isnan(v), -1, 0).astype(np.int32)
                                            for op, v in rsrp.items()})
    targets = planning_targets(assess(study, sig), cfg)
    spots = [(7, 7), (2, 8), (8, 2), (5, 5)]
    cands = gpd.GeoDataFrame(
        {"tower_id": [f"H{k}" for k in range(4)], "source": "hill", "kind": "new",
         "ground_m": 200.0, "height_m": [35.0, 30.0, 40.0, 25.0], "price_wan": 60.0,
         "existing_operators": [(), ("CMCC",), (), ()], "backhaul": "none"},
        geometry=[cell_point(r, c) for r, c in spots], crs=UTM50)
    cands["x"], cands["y"] = cands.geometry.x, cands.geometry.y
    serial = coverage_matrix(study, sig, targets, cands, cache_dir=tmp_path / "a")
    with ClusterCandidateRadio(study, client, candidates=cands) as radio:
        remote = coverage_matrix(study, sig, targets, cands, radio)
    assert len(serial.options) > 0
    assert serial.options.equals(remote.options)
    assert serial.groups.equals(remote.groups)
    assert (serial.cover_any != remote.cover_any).nnz == 0
    assert (serial.cover_op != remote.cover_op).nnz == 0
    assert (serial.stats.computed, serial.stats.cached) == (
        remote.stats.computed, remote.stats.cached)
    assert radio.on_cluster == serial.stats.predicted > 0    # nothing computed here
