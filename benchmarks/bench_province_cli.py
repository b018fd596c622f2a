"""Province-scale `coverage-planner predict`, end to end: the coordinator's memory stays flat.

Run: ``.venv/bin/python benchmarks/bench_province_cli.py [--sites 2100] [--workers 2]``

Writes a province-like data folder (the demo generator's terrain on a 1 arc-second
EPSG:4326 DEM of 6,000 x 4,800 cells, 25 M cells at 30 m after resampling, about 23,000
km2; a handful of villages; ``--sites`` on-air sites, CMCC/CU/CT in turn) and runs the real
command line on it::

    coverage-planner predict --data D --out O --workers 2 --config C

with ``model.max_in_memory_cells`` set below the grid's size in ``C``, so the DEM is
resampled strip-wise into a mapped file and the rasters are written tile by tile. While it
runs, the command's own process (the coordinator, without its dask workers) and each worker
process are sampled for resident memory every 0.2 s. Printed: wall time, sites per second,
coordinator peak RSS (and its private part: RSS less file-backed pages such as the mapped
DEM's, which the kernel can drop), worker peak RSS, and the whole-array memory the same
grid would have needed (29 bytes per cell for the on-air coverage set alone). Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import coverage.radio  # noqa: E402, F401  (imports numba safely first)

OPERATORS = (("CMCC", "FDD900"), ("CU", "FDD1800"), ("CT", "FDD800"))


def write_data(folder: Path, cols: int, rows: int, n_sites: int, seed: int) -> dict:
    """The province data folder: DEM, a few villages/groups/points, the sites."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from coverage.demo.terrain_synth import GridSpec, synth_terrain
    from coverage.io.writers import write_csv, write_geotiff, write_gpkg

    spec = GridSpec(west=115.5, north=32.0, cols=cols, rows=rows)
    terrain = synth_terrain(np.random.default_rng(seed), spec)
    dem = np.round(terrain.elevation_m).astype(np.int16)
    res = spec.res_deg
    from affine import Affine

    transform = Affine(res, 0.0, spec.west, 0.0, -res, spec.north)
    write_geotiff(folder / "terrain" / "dem.tif", dem, transform, "EPSG:4326", -32768,
                  cog=False)
    rng = np.random.default_rng(seed)
    margin = 60
    pool_r = rng.integers(margin, rows - margin, 20 * n_sites)
    pool_c = rng.integers(margin, cols - margin, 20 * n_sites)
    z = dem[pool_r, pool_c].astype(float)
    weight = np.exp(-(z - z.min()) / 250.0)
    pick = rng.choice(len(z), size=n_sites, replace=False, p=weight / weight.sum())
    lon = spec.west + (pool_c[pick] + rng.uniform(0, 1, n_sites)) * res
    lat = spec.north - (pool_r[pick] + rng.uniform(0, 1, n_sites)) * res
    ops = [OPERATORS[k % 3] for k in range(n_sites)]
    sites = pd.DataFrame({
        "site_id": [f"S{k:05d}" for k in range(n_sites)], "operator": [o for o, _ in ops],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "height_m": np.round(rng.uniform(25, 45, n_sites), 1), "band": [b for _, b in ops],
        "azimuths_deg": ["0;120;240" if k % 3 else "" for k in range(n_sites)],
        "status": "on_air", "on_air_date": "2019-01-01", "backhaul": "fiber"})
    write_csv(folder / "sites" / "sites.csv", sites)
    east, south = spec.west + cols * res, spec.north - rows * res
    villages, groups, points = [], [], []
    for k, (x, y) in enumerate(rng.uniform([spec.west + 0.1, south + 0.1],
                                           [east - 0.1, spec.north - 0.1], (12, 2))):
        box = shapely.box(x - 0.01, y - 0.01, x + 0.01, y + 0.01)
        villages.append({"village_id": f"V{k:02d}", "name": f"村{k}", "town": "镇",
                         "geometry": box})
        groups.append({"group_id": f"V{k:02d}-1", "village_id": f"V{k:02d}", "name": "一组",
                       "households": 40, "geometry": box})
        points.append({"point_id": f"P{k:02d}", "village_id": f"V{k:02d}",
                       "kind": "committee", "geometry": shapely.Point(x, y)})
    write_gpkg(folder / "villages" / "villages.gpkg", {
        "villages": gpd.GeoDataFrame(villages, crs="EPSG:4326"),
        "groups": gpd.GeoDataFrame(groups, crs="EPSG:4326"),
        "points": gpd.GeoDataFrame(points, crs="EPSG:4326")})
    return {"dem_cells": cols * rows, "lon_span": cols * res, "lat_span": rows * res}


def watch(proc: subprocess.Popen, peaks: dict, stop: threading.Event) -> None:
    """Sample the command's own RSS and each descendant's every 0.2 s."""
    import psutil

    me = psutil.Process(proc.pid)
    t0 = time.perf_counter()
    while not stop.is_set():
        try:
            info = me.memory_info()
            rss = info.rss
            peaks["coordinator"] = max(peaks.get("coordinator", 0), rss)
            # private = not backed by a file (the mapped DEM's pages are file-backed)
            peaks["private"] = max(peaks.get("private", 0), rss - info.shared)
            peaks["timeline"].append((time.perf_counter() - t0, rss))
            for child in me.children(recursive=True):
                with_rss = child.memory_info().rss
                peaks["workers"][child.pid] = max(peaks["workers"].get(child.pid, 0), with_rss)
        except psutil.Error:
            pass
        stop.wait(0.2)


def main(argv: list[str] | None = None) -> int:
    """Build the region, run the command, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=2100)
    parser.add_argument("--cols", type=int, default=6000)
    parser.add_argument("--rows", type=int, default=4800)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-in-memory-cells", type=int, default=4_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="keep the folder here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-province-cli-"))
    data, out = work / "data", work / "out"
    try:
        t0 = time.perf_counter()
        info = write_data(data, args.cols, args.rows, args.sites, args.seed)
        print(f"data folder: DEM {args.cols} x {args.rows} at 1\" ({info['lon_span']:.2f} x "
              f"{info['lat_span']:.2f} deg), {args.sites} sites; written in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        config = work / "province.toml"
        config.write_text(f"[model]\nmax_in_memory_cells = {args.max_in_memory_cells}\n",
                          encoding="utf-8")
        exe = Path(sys.executable).with_name("coverage-planner")
        cmd = [str(exe), "predict", "--data", str(data), "--out", str(out), "--config",
               str(config)]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        peaks: dict = {"workers": {}, "timeline": []}
        stop = threading.Event()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        watcher = threading.Thread(target=watch, args=(proc, peaks, stop), daemon=True)
        watcher.start()
        output, _ = proc.communicate()
        wall = time.perf_counter() - t0
        stop.set()
        watcher.join()
        if proc.returncode != 0:
            print(output)
            return proc.returncode
        import rasterio

        with rasterio.open(out / "coverage" / "rsrp_any.tif") as ds:
            shape = (ds.height, ds.width)
            area = ds.height * ds.width * abs(ds.transform.a * ds.transform.e) / 1e6
        cells = shape[0] * shape[1]
        workers = sorted(peaks["workers"].values(), reverse=True)[:max(args.workers, 1)]
        result = {
            "cells": cells, "area_km2": area, "sites": args.sites, "wall_s": wall,
            "sites_per_s": args.sites / wall,
            "coordinator_peak_rss_mb": peaks.get("coordinator", 0) / 2**20,
            "coordinator_peak_private_mb": peaks.get("private", 0) / 2**20,
            "worker_peak_rss_mb": [w / 2**20 for w in workers],
            "whole_array_on_air_set_mb": cells * 29 / 2**20,
            "working_dem_mb": cells * 4 / 2**20,
        }
        print(f"working grid {shape[1]} x {shape[0]} = {cells / 1e6:.1f} M cells, "
              f"{area:,.0f} km2; {os.cpu_count()} CPUs")
        print(f"predict --workers {args.workers}: {wall:.1f} s wall, "
              f"{result['sites_per_s']:.2f} sites/s")
        print(f"coordinator peak RSS {result['coordinator_peak_rss_mb']:.0f} MB (private, not "
              f"file-backed: {result['coordinator_peak_private_mb']:.0f} MB); worker peak "
              "RSS " + ", ".join(f"{m:.0f}" for m in result["worker_peak_rss_mb"]) + " MB")
        line = peaks["timeline"]
        if line:
            cut = [0.0, 0.1 * wall, 0.9 * wall, wall + 1]
            parts = [max((r for t, r in line if a <= t < b), default=0) / 2**20
                     for a, b in itertools.pairwise(cut)]
            result["coordinator_peak_rss_phases_mb"] = parts
            print("coordinator peak RSS by phase (first 10 % of the run / middle / last 10 %): "
                  + ", ".join(f"{m:.0f}" for m in parts) + " MB")
        print(f"for scale: the working DEM is {result['working_dem_mb']:.0f} MB (mapped, "
              f"not held), whole-array on-air coverage would be "
              f"{result['whole_array_on_air_set_mb']:.0f} MB")
        print("command summary:\n" + "\n".join("  " + line for line in
                                               output.strip().splitlines()[-6:]))
        if args.json is not None:
            args.json.write_text(json.dumps(result, indent=2))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
