"""Benchmark of the area engine (P.1812 delta-Bullington sweep) for one site.

Run: ``.venv/bin/python benchmarks/bench_engine.py [--threads N]``

Terrain: the real SRTM3 tile ``../shared/data/terrain/srtm3/N44W072.hgt`` (White Mountains,
New Hampshire) resampled to a 30 m UTM grid when present, else a synthetic fBm terrain.
Site: omni, 44.5 N 71.5 W, 30 m above ground, 900 MHz, receiver 1.5 m.
Figures: median wall time of >= 5 runs after a JIT warm-up, for radius 30 km (target
<= 0.6 s on 2 threads, >= 5 M cells/s) and 10 km (target <= 0.2 s), and the process peak RSS
(target <= 600 MB). ``--threads`` sets the threads sharing the sweep (default: every CPU the
process may use); ``--scaling`` also times one thread and prints the speed-up (target >= 1.8
on 2 cores). CPU time (all threads) and the load average are printed too: on a shared
machine the wall times are noisy.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.radio import threads as kernel_threads  # noqa: E402
from coverage.radio.engine import site_path_loss  # noqa: E402

HGT = ROOT.parent / "shared" / "data" / "terrain" / "srtm3" / "N44W072.hgt"
SITE_LON, SITE_LAT = -71.5, 44.5
RESOLUTION_M = 30.0
RUNS = 5


def load_real_tile(path: Path) -> tuple[np.ndarray, object, float, float]:
    """The HGT tile resampled (bilinear) to a 30 m grid in UTM zone 19N; site x, y."""
    import rasterio.warp
    from affine import Affine
    from pyproj import Transformer
    from rasterio.crs import CRS

    raw = np.fromfile(path, dtype=">i2").reshape(1201, 1201).astype(np.float32)
    raw[raw == -32768] = np.nan
    step = 1.0 / 1200.0
    src_transform = Affine(step, 0, -72.0 - step / 2, 0, -step, 45.0 + step / 2)
    src_crs = CRS.from_epsg(4326)
    dst_crs = CRS.from_epsg(32619)
    left, bottom, right, top = rasterio.warp.transform_bounds(
        src_crs, dst_crs, -72.0, 44.0, -71.0, 45.0)
    x0 = np.floor(left / RESOLUTION_M) * RESOLUTION_M
    y1 = np.ceil(top / RESOLUTION_M) * RESOLUTION_M
    cols = int(np.ceil((right - x0) / RESOLUTION_M))
    rows = int(np.ceil((y1 - bottom) / RESOLUTION_M))
    dst_transform = Affine(RESOLUTION_M, 0, x0, 0, -RESOLUTION_M, y1)
    dst = np.full((rows, cols), np.nan, np.float32)
    rasterio.warp.reproject(raw, dst, src_transform=src_transform, src_crs=src_crs,
                            src_nodata=np.nan, dst_transform=dst_transform, dst_crs=dst_crs,
                            dst_nodata=np.nan, resampling=rasterio.warp.Resampling.bilinear)
    x, y = Transformer.from_crs(4326, 32619, always_xy=True).transform(SITE_LON, SITE_LAT)
    return dst, dst_transform, x, y


def synthetic_terrain(n: int = 2400, seed: int = 7) -> tuple[np.ndarray, object, float, float]:
    """fBm terrain (relief 1200 m) on a 30 m grid; site at the centre."""
    from affine import Affine

    rng = np.random.default_rng(seed)
    kx = np.fft.fftfreq(n)[:, None]
    ky = np.fft.fftfreq(n)[None, :]
    k = np.hypot(kx, ky)
    k[0, 0] = 1.0
    spec = (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))) / k ** 1.6
    spec[0, 0] = 0.0
    z = np.real(np.fft.ifft2(spec))
    z = ((z - z.min()) / (z.max() - z.min()) * 1200.0 + 150.0).astype(np.float32)
    transform = Affine(RESOLUTION_M, 0, 0, 0, -RESOLUTION_M, n * RESOLUTION_M)
    return z, transform, n * RESOLUTION_M / 2 + 7.0, n * RESOLUTION_M / 2 - 11.0


def time_runs(elev: np.ndarray, transform: object, x: float, y: float,
              radius_m: float, threads: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of RUNS runs and the number of cells predicted.

    CPU time (all threads) is shown too because a shared machine's wall time is noisy.
    """
    walls, cpus = [], []
    cells = 0
    for _ in range(RUNS):
        t0, c0 = time.perf_counter(), time.process_time()
        window = site_path_loss(elev, transform, x, y, 30.0, 900.0, rx_height_agl_m=1.5,
                                radius_m=radius_m, threads=threads)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        cells = int(np.isfinite(window.loss_db).sum())
    return statistics.median(walls), statistics.median(cpus), cells


def main() -> None:
    """Print the benchmark figures."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0,
                        help="threads sharing the sweep (0: every CPU this process may use)")
    parser.add_argument("--scaling", action="store_true",
                        help="also time one thread and print the speed-up")
    args = parser.parse_args()
    n_threads = kernel_threads.resolve(args.threads)
    t0 = time.perf_counter()
    if HGT.is_file():
        elev, transform, x, y = load_real_tile(HGT)
        terrain = f"real SRTM3 tile {HGT.name} -> 30 m UTM 19N grid {elev.shape}"
    else:
        elev, transform, x, y = synthetic_terrain()
        terrain = f"synthetic fBm terrain {elev.shape} (tile not found)"
    t_load = time.perf_counter() - t0
    print(f"terrain: {terrain}, prepared in {t_load:.2f} s")
    t0 = time.perf_counter()
    site_path_loss(elev, transform, x, y, 30.0, 900.0, radius_m=2000.0)  # JIT warm-up
    print(f"JIT warm-up (compile or cache load): {time.perf_counter() - t0:.2f} s")
    for radius_m, target in ((30000.0, 0.6), (10000.0, 0.2)):
        median, cpu, cells = time_runs(elev, transform, x, y, radius_m, n_threads)
        status = "OK" if median <= target else "MISSED"
        print(f"radius {radius_m / 1000:.0f} km: median {median:.3f} s wall ({cpu:.3f} s CPU, "
              f"{n_threads} threads) over {RUNS} runs, {cells} cells "
              f"({cells / median / 1e6:.2f} M cells/s), target <= {target} s {status}; "
              f"load {os.getloadavg()[0]:.2f}")
        if args.scaling and n_threads > 1:
            one, cpu1, _ = time_runs(elev, transform, x, y, radius_m, 1)
            print(f"  1 thread: median {one:.3f} s wall ({cpu1:.3f} s CPU): speed-up "
                  f"{one / median:.2f}x on {n_threads} threads (target >= 1.8 on 2); load "
                  f"{os.getloadavg()[0]:.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak RSS: {peak_mb:.0f} MB (target <= 600 MB); load average now "
          f"{os.getloadavg()[0]:.2f} on {kernel_threads.available_cpus()} CPUs")


if __name__ == "__main__":
    main()
