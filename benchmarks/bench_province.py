"""Province-scale benchmark of the tiled, distributed prediction (issue 7).

Run: ``.venv/bin/python benchmarks/bench_province.py [--sites 2100] [--json out.json]``

Region: the demo generator's terrain model (:func:`coverage.demo.terrain_synth.synth_terrain`:
ridges, massifs, carved valleys; 150-1750 m) on a 5,200 x 4,600 grid used as a 30 m working
grid: 156 km x 138 km = 21,528 km2 (23.9 M cells). Sites: 2,100 by default (700 per operator,
CMCC 900 MHz, CU 1800 MHz, CT 800 MHz), placed preferably in valleys, 25-45 m high, two in
three with three sectors; prediction radius 15 km (the default), P.1812 engine, receiver
1.5 m; core tiles of :data:`coverage.scale.tiling.DEFAULT_TILE_CELLS` cells.

Measured:

1. scaling, on an evenly spread subset of sites (``--scaling-sites``), each run from an
   empty cache: in-process (numba on every core), LocalCluster of 1 worker, of 2 workers;
2. the whole region on a LocalCluster of 2 workers, written tile by tile into tiled COGs
   (:func:`coverage.scale.cogs.predict_to_cogs`).

For every run: wall time, sites per second, CPU seconds of the workers (the machine may be
shared, so CPU time is the steadier figure), peak resident memory of each worker process, and
the client's resident memory. Nothing is asserted; the figures go to stdout (and ``--json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import coverage.radio  # noqa: E402, F401  (imports numba safely first)
from coverage.scale.tiling import DEFAULT_TILE_CELLS  # noqa: E402

OPERATORS = (("CMCC", "FDD900"), ("CU", "FDD1800"), ("CT", "FDD800"))
RESOLUTION_M = 30.0


def build_region(cols: int, rows: int, seed: int):
    """The synthetic region as a 30 m working grid (UTM 50N coordinates, Anhui-like)."""
    from affine import Affine
    from pyproj import CRS

    from coverage.demo.terrain_synth import GridSpec, synth_terrain
    from coverage.grid import WorkingGrid

    spec = GridSpec(west=115.5, north=32.0, cols=cols, rows=rows)
    terrain = synth_terrain(np.random.default_rng(seed), spec)
    elevation = np.ascontiguousarray(terrain.elevation_m, dtype=np.float32)
    transform = Affine(RESOLUTION_M, 0.0, 300000.0, 0.0, -RESOLUTION_M, 3545000.0)
    return WorkingGrid(elevation, transform, CRS.from_epsg(32650), RESOLUTION_M)


def place_sites(grid, n: int, seed: int):
    """``n`` sites, preferably in low terrain, 25-45 m high; two in three sectorised."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    rng = np.random.default_rng(seed)
    rows, cols = grid.shape
    margin = 30
    pool_r = rng.integers(margin, rows - margin, 20 * n)
    pool_c = rng.integers(margin, cols - margin, 20 * n)
    z = grid.elevation[pool_r, pool_c].astype(float)
    weight = np.exp(-(z - z.min()) / 250.0)
    pick = rng.choice(len(z), size=n, replace=False, p=weight / weight.sum())
    r = pool_r[pick] + rng.uniform(-0.5, 0.5, n)
    c = pool_c[pick] + rng.uniform(-0.5, 0.5, n)
    x, y = grid.xy(r, c)
    ops = [OPERATORS[k % 3] for k in range(n)]
    frame = pd.DataFrame({
        "site_id": [f"S{k:05d}" for k in range(n)], "operator": [o for o, _ in ops],
        "band": [b for _, b in ops], "height_m": np.round(rng.uniform(25, 45, n), 1),
        "status": "on_air", "tilt_deg": np.nan, "power_dbm": np.nan, "gain_dbi": np.nan,
        "backhaul": "fiber",
        "azimuths": [tuple(float((a + k * 37) % 360) for a in (0, 120, 240)) if k % 3 else ()
                     for k in range(n)]})
    frame["tower_id"] = frame["site_id"]
    frame["ground_m"] = grid.sample(x, y)
    return gpd.GeoDataFrame(frame, geometry=shapely.points(x, y), crs=grid.crs)


def make_study(grid, sites, radius_km: float):
    import geopandas as gpd

    from coverage.config import Config, ModelSettings
    from coverage.study import Study

    empty = gpd.GeoDataFrame(geometry=[], crs=grid.crs)
    config = Config(model=ModelSettings(radius_km=radius_km))
    return Study(Path("."), config, grid, empty, empty, empty, None, sites, None, None, None,
                 None, None, None)


def _rss_now() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss)


def run_once(study, workers: int | None, cache: Path, tile_cells: int,
             cogs: Path | None = None) -> dict:
    """One timed prediction; ``workers`` None = in-process (numba on every core)."""
    from coverage.predict import predict_coverage
    from coverage.scale.cluster import open_client, worker_stats
    from coverage.scale.cogs import predict_to_cogs

    n = len(study.sites)
    client_peak = [_rss_now()]

    def progress(done: int, total: int) -> None:
        if done % 25 == 0 or done == total:
            client_peak.append(_rss_now())

    if workers is None:
        c0, t0 = time.process_time(), time.perf_counter()
        predict_coverage(study, cache_dir=cache, progress=progress)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        return {"mode": "in-process", "sites": n, "wall_s": wall, "cpu_s": cpu,
                "sites_per_s": n / wall, "cpu_s_per_site": cpu / n,
                "client_rss_max_mb": max(client_peak) / 2**20}
    with open_client(workers=workers) as client:
        warm = dataclasses.replace(study, sites=study.sites.iloc[:2 * workers])
        predict_coverage(warm, cache_dir=cache / "warm-up", client=client)  # load numba caches
        shutil.rmtree(cache / "warm-up", ignore_errors=True)
        before = worker_stats(client, reset_peak=True)
        c0, t0 = time.process_time(), time.perf_counter()
        if cogs is None:
            predict_coverage(study, cache_dir=cache, client=client, tile_cells=tile_cells,
                             progress=progress)
        else:
            predict_to_cogs(study, cogs, client=client, cache_dir=cache,
                            tile_cells=tile_cells, progress=progress)
        wall = time.perf_counter() - t0
        client_cpu = time.process_time() - c0
        after = worker_stats(client)
    cpu = sum(after[a]["cpu_s"] - before[a]["cpu_s"] for a in after if a in before)
    peaks = [after[a]["peak_rss_bytes"] / 2**20 for a in after]
    baseline = [before[a]["rss_bytes"] / 2**20 for a in before]
    return {"mode": f"LocalCluster {workers} worker(s)", "sites": n, "wall_s": wall,
            "cpu_s": cpu, "client_cpu_s": client_cpu, "sites_per_s": n / wall,
            "cpu_s_per_site": cpu / n, "worker_peak_rss_mb": peaks,
            "worker_rss_before_mb": baseline,
            "client_rss_max_mb": max(client_peak) / 2**20}


def _line(r: dict) -> str:
    text = (f"{r['mode']:<24} {r['sites']:>5} sites  {r['wall_s']:8.1f} s wall  "
            f"{r['sites_per_s']:6.2f} sites/s  {r['cpu_s']:8.1f} s CPU "
            f"({r['cpu_s_per_site']:.3f} s/site)")
    if "worker_peak_rss_mb" in r:
        text += "  worker peak RSS " + ", ".join(f"{m:.0f}" for m in r["worker_peak_rss_mb"])
        text += " MB (before the run " + ", ".join(
            f"{m:.0f}" for m in r["worker_rss_before_mb"]) + " MB)"
    if "client_cpu_s" in r:
        text += f"  client CPU {r['client_cpu_s']:.1f} s"
    return text + f"  client RSS max {r['client_rss_max_mb']:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=2100)
    parser.add_argument("--cols", type=int, default=5200)
    parser.add_argument("--rows", type=int, default=4600)
    parser.add_argument("--radius-km", type=float, default=15.0)
    parser.add_argument("--scaling-sites", type=int, default=240)
    parser.add_argument("--tile-cells", type=int, default=DEFAULT_TILE_CELLS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-full", action="store_true", help="only the scaling runs")
    parser.add_argument("--skip-serial", action="store_true", help="no in-process run")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from coverage.scale.tiling import tile_layout, worker_memory_bytes

    t0 = time.perf_counter()
    grid = build_region(args.cols, args.rows, args.seed)
    sites = place_sites(grid, args.sites, args.seed)
    study = make_study(grid, sites, args.radius_km)
    area = grid.shape[0] * grid.shape[1] * RESOLUTION_M**2 / 1e6
    tiles = len(tile_layout(grid.shape, args.tile_cells))
    print(f"region {grid.shape[1]} x {grid.shape[0]} cells at {RESOLUTION_M:g} m = "
          f"{area:,.0f} km2, {len(sites)} sites, radius {args.radius_km:g} km, {tiles} tiles "
          f"of {args.tile_cells} cells; built in {time.perf_counter() - t0:.1f} s")
    bound = worker_memory_bytes(args.tile_cells, args.radius_km * 1000.0, RESOLUTION_M)
    print(f"stated working-memory bound per task: {bound / 2**20:.0f} MB "
          "(+ fixed interpreter/numba/dask baseline)")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    results: dict = {"area_km2": area, "cells": grid.shape[0] * grid.shape[1],
                     "sites": len(sites), "radius_km": args.radius_km,
                     "tile_cells": args.tile_cells, "bound_mb": bound / 2**20, "runs": []}
    work = Path(tempfile.mkdtemp(prefix="bench-province-"))
    try:
        step = max(1, len(sites) // args.scaling_sites)
        subset = dataclasses.replace(study, sites=sites.iloc[::step].iloc[:args.scaling_sites]
                                     .reset_index(drop=True))
        modes: list[int | None] = [] if args.skip_serial else [None]
        for workers in [*modes, 1, 2]:
            cache = work / f"scaling-{workers}"
            r = run_once(subset, workers, cache, args.tile_cells)
            r["part"] = "scaling"
            results["runs"].append(r)
            print(_line(r), flush=True)
            shutil.rmtree(cache, ignore_errors=True)
        one = next(r for r in results["runs"] if r["mode"].startswith("LocalCluster 1"))
        two = next(r for r in results["runs"] if r["mode"].startswith("LocalCluster 2"))
        results["speedup_1_to_2"] = one["wall_s"] / two["wall_s"]
        print(f"scaling 1 -> 2 workers: x{results['speedup_1_to_2']:.2f} wall "
              f"(CPU per site {one['cpu_s_per_site']:.3f} -> {two['cpu_s_per_site']:.3f} s)")
        if not args.skip_full:
            cache = work / "full"
            r = run_once(study, 2, cache, args.tile_cells, cogs=work / "cogs")
            r["part"] = "full"
            cog_mb = sum(p.stat().st_size for p in (work / "cogs").glob("*.tif")) / 2**20
            r["cog_mb"] = cog_mb
            r["loss_cache_gb"] = sum(p.stat().st_size for p in cache.glob("*.npz")) / 2**30
            results["runs"].append(r)
            print(_line(r))
            print(f"  COGs {cog_mb:.0f} MB; loss cache {r['loss_cache_gb']:.1f} GB")
        cps = [r["cpu_s_per_site"] for r in results["runs"] if r["mode"].startswith("Local")]
        results["cpu_s_per_site"] = float(np.median(cps))
        print(f"median worker CPU per site: {results['cpu_s_per_site']:.3f} s; load average "
              f"{os.getloadavg()[0]:.2f} at the end; client peak RSS (incl. region build) "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
