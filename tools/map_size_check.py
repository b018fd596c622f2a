"""Build the four maps on a county-sized synthetic study and report sizes and load times.

The study has the size of the demo county (≈ 50 × 60 km, 30 m grid of 1,650 × 2,000
cells, 220 villages, ~1,500 groups, ~320 sites of three operators, 108 works, 400
transformers, 17 hazards, a 46-site plan with backhaul). RSRP is a simple distance law
with a smooth random shadowing field: realistic in extent and texture, not in physics.

Usage::

    .venv/bin/python tools/map_size_check.py [--out DIR] [--browser]

``--browser`` also opens each map in headless Chromium (offline assets, tiles blocked)
and prints the time until the page was interactive (``coverage.ready``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.server
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS
from scipy import ndimage

from coverage.assess import assess
from coverage.config import Config
from coverage.grid import WorkingGrid
from coverage.io import assets
from coverage.maps import (
    Provenance,
    grid_map,
    index_page,
    mobile_map,
    readiness_map,
    render,
)
from coverage.maps.overview import overview_png
from coverage.output.report import headline
from coverage.readiness import evaluate
from coverage.signal import SignalGrids
from coverage.study import Study

CRS50 = CRS.from_epsg(32650)
X0, Y0, RES, ROWS, COLS = 420_000.0, 3_440_000.0, 30.0, 2000, 1650
OPS = ("CMCC", "CT", "CU")


def _voronoi(seeds: np.ndarray, clip: shapely.Geometry) -> list[shapely.Geometry]:
    """Voronoi cells of ``seeds`` clipped to ``clip``, in seed order."""
    pts = shapely.points(seeds)
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=clip)
    cells = list(shapely.get_parts(cells))
    tree = shapely.STRtree(cells)
    out = []
    for p in pts:
        idx = tree.query(p, predicate="intersects")
        out.append(shapely.intersection(cells[int(idx[0])], clip))
    return out


def synthetic_study(seed: int = 7) -> tuple[Study, SignalGrids, gpd.GeoDataFrame,
                                            gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    county = shapely.box(X0, Y0 - ROWS * RES, X0 + COLS * RES, Y0)
    xmin, ymin, xmax, ymax = county.bounds
    seeds = np.column_stack([rng.uniform(xmin, xmax, 220), rng.uniform(ymin, ymax, 220)])
    vgeoms = _voronoi(seeds, county)
    towns = [f"{c}镇" for c in "东南西北中上下前后左右"]
    villages = gpd.GeoDataFrame({
        "village_id": [f"V{i:03d}" for i in range(220)],
        "name": [f"{'青石白云黄岭龙泉松林'[i % 10]}{'山河坪坳冲湾'[i % 6]}村{i}"
                 for i in range(220)],
        "town": [towns[i % len(towns)] for i in range(220)],
        "poor": rng.random(220) < 0.3, "fiber": rng.random(220) < 0.8,
    }, geometry=vgeoms, crs=CRS50)
    villages.loc[5, "name"] = "<img src=x onerror=alert(1)>"
    groups, gids = [], []
    for v in villages.itertuples():
        b = v.geometry.bounds
        inner = []
        while len(inner) < 7:
            p = shapely.Point(rng.uniform(b[0], b[2]), rng.uniform(b[1], b[3]))
            if v.geometry.contains(p):
                inner.append((p.x, p.y))
        for j, g in enumerate(_voronoi(np.array(inner), v.geometry)):
            groups.append({"group_id": f"{v.village_id}-G{j}", "village_id": v.village_id,
                           "name": f"第{j + 1}组", "households": int(rng.integers(10, 90)),
                           "geometry": g})
            gids.append(v.village_id)
    groups = gpd.GeoDataFrame(groups, crs=CRS50)
    reps = groups.geometry.representative_point()
    kinds = np.where(np.arange(len(groups)) % 7 == 0, "committee",
                     np.where(np.arange(len(groups)) % 7 == 3, "school", "settlement"))
    points = gpd.GeoDataFrame({
        "point_id": [f"P{i:04d}" for i in range(len(groups))],
        "village_id": groups["village_id"], "kind": kinds, "group_id": groups["group_id"],
        "name": [f"测试点{i}" for i in range(len(groups))]}, geometry=reps, crs=CRS50)
    # sites: towers, ~40 % shared by two or three operators
    n_towers = 230
    tx = rng.uniform(xmin, xmax, n_towers)
    ty = rng.uniform(ymin, ymax, n_towers)
    rows = []
    for t in range(n_towers):
        tenants = rng.choice(OPS, size=1 + int(rng.random() < 0.4) + int(rng.random() < 0.1),
                             replace=False)
        for op in tenants:
            band = {"CMCC": "FDD900", "CT": "FDD800", "CU": "FDD1800"}[op]
            rows.append({"site_id": f"S{len(rows):04d}", "operator": op, "band": band,
                         "height_m": 35.0, "tower_id": f"T{t:03d}",
                         "azimuths": tuple(float((a + 40 * t) % 360) for a in (0, 120, 240)),
                         "tilt_deg": np.nan, "power_dbm": np.nan, "gain_dbi": np.nan,
                         "status": "on_air" if rng.random() < 0.92 else "building",
                         "on_air_date": None, "backhaul": "fiber", "lon": 0.0, "lat": 0.0,
                         "ground_m": 500.0, "geometry": shapely.Point(tx[t], ty[t])})
    sites = gpd.GeoDataFrame(rows, crs=CRS50)
    # signal: distance law + smooth shadowing, NaN below -140 dBm
    yy = (Y0 - (np.arange(ROWS) + 0.5) * RES)[:, None].astype(np.float32)
    xx = (X0 + (np.arange(COLS) + 0.5) * RES)[None, :].astype(np.float32)
    shadow = ndimage.gaussian_filter(rng.normal(0, 1, (ROWS // 10, COLS // 10)), 3)
    shadow = ndimage.zoom(shadow / shadow.std() * 8.0, 10, order=1).astype(np.float32)
    rsrp, best = {}, {}
    for op in OPS:
        sub = sites[sites["operator"] == op]
        out = np.full((ROWS, COLS), -200.0, np.float32)
        idx = np.full((ROWS, COLS), -1, np.int32)
        for i, g in zip(sub.index, sub.geometry, strict=True):
            d = np.hypot(xx - np.float32(g.x), yy - np.float32(g.y)) + 30.0
            val = -55.0 - 38.0 * np.log10(d / 100.0)
            better = val > out
            out = np.where(better, val, out)
            idx = np.where(better, i, idx)
        out = out + shadow
        out[out < -140] = np.nan
        rsrp[op] = out.astype(np.float32)
        best[op] = idx
    status = np.array(["planned", "in_progress", "done"])
    vid = villages["village_id"].to_numpy()

    def pts_in(n: int) -> list[shapely.Point]:
        return list(shapely.points(np.column_stack([rng.uniform(xmin, xmax, n),
                                                    rng.uniform(ymin, ymax, n)])))

    grid_works = gpd.GeoDataFrame({
        "work_id": [f"GW{i:02d}" for i in range(40)], "village_id": rng.choice(vid, 40),
        "category": "台区改造", "owner": "县供电公司", "status": rng.choice(status, 40),
        "investment_wan": rng.uniform(5, 200, 40).round(1),
        "due": [dt.date(2020, 10, 1)] * 40, "done": [None] * 40, "kva_after": 400.0},
        geometry=pts_in(40), crs=CRS50)
    mobile_works = gpd.GeoDataFrame({
        "work_id": [f"MW{i:02d}" for i in range(68)], "village_id": rng.choice(vid, 68),
        "operator": rng.choice(OPS, 68), "category": "新建基站", "status": rng.choice(status, 68),
        "investment_wan": rng.uniform(20, 80, 68).round(1), "site_id": None,
        "due": [dt.date(2020, 10, 15)] * 68, "done": [None] * 68},
        geometry=pts_in(68), crs=CRS50)
    transformers = gpd.GeoDataFrame({
        "transformer_id": [f"TR{i:03d}" for i in range(400)],
        "village_id": np.repeat(vid, 2)[:400], "kva": rng.choice([100.0, 200.0, 315.0], 400),
        "households": rng.integers(40, 160, 400)}, geometry=pts_in(400), crs=CRS50)
    hazards = gpd.GeoDataFrame({
        "hazard_id": [f"H{i:02d}" for i in range(17)], "village_id": rng.choice(vid, 17),
        "found": [dt.date(2020, 4, 1)] * 17, "fixed": [True] * 14 + [False] * 3,
        "category": "树线矛盾"}, geometry=pts_in(17), crs=CRS50)
    cand = gpd.GeoDataFrame({"candidate_id": [f"C{i:03d}" for i in range(120)],
                             "kind": "new", "height_m": 40.0, "cost": 60.0},
                            geometry=pts_in(120), crs=CRS50)
    plan = cand.iloc[:46].copy()
    plan["site_id"] = [f"N{i:02d}" for i in range(46)]
    plan["operators"] = [tuple(rng.choice(OPS, 1 + int(rng.random() < 0.3), replace=False))
                         for _ in range(46)]
    plan["cost_wan"] = rng.uniform(40, 90, 46).round(1)
    tower_xy = sites.drop_duplicates("tower_id").geometry
    links = []
    for i, g in enumerate(plan.geometry):
        d = tower_xy.distance(g)
        links.append({"from": f"T{int(d.to_numpy().argmin()):03d}", "to": plan["site_id"].iloc[i],
                      "kind": "microwave" if i % 3 else "fiber",
                      "geometry": shapely.LineString([tower_xy.iloc[int(d.to_numpy().argmin())],
                                                      g])})
    backhaul = gpd.GeoDataFrame(links, crs=CRS50)
    grid = WorkingGrid(elevation=np.full((ROWS, COLS), 500.0, np.float32),
                       transform=Affine(RES, 0, X0, 0, -RES, Y0), crs=CRS50, resolution_m=RES)
    study = Study(data_dir=Path("synthetic"), config=Config(), grid=grid, villages=villages,
                  groups=groups, points=points, households=None, sites=sites, candidates=cand,
                  grid_works=grid_works, mobile_works=mobile_works, transformers=transformers,
                  hazards=hazards, measurements=None, warnings=[])
    return study, SignalGrids(rsrp=rsrp, best_site=best), plan, backhaul


def _browser_times(root: Path, names: list[str]) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    out = {}
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path="/usr/bin/chromium",
                                                    args=args, headless=True)
        for name in names:
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base)
                       or r.request.url.startswith("data:") else r.abort())
            t0 = time.perf_counter()
            page.goto(f"{base}/{name}")
            if name == "index.html":
                page.wait_for_load_state("load")
            else:
                page.wait_for_function("window.coverage && window.coverage.ready",
                                       timeout=60_000)
            out[name] = time.perf_counter() - t0
            if errors:
                print(f"  {name}: JavaScript errors {errors}")
            page.screenshot(path=str(root / f"{name}.png"))
            page.close()
        ctx.close()
    server.shutdown()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="maps-size-"))
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    study, signal, plan, backhaul = synthetic_study()
    a = assess(study, signal)
    r = evaluate(study, a)
    print(f"synthetic study {len(study.villages)} villages, {len(study.groups)} groups, "
          f"{len(study.sites)} sites, grid {COLS}×{ROWS}: {time.perf_counter() - t:.1f} s")
    prov = Provenance("dev", "0" * 16, "EPSG:32650", "synthetic", "2020-10-01")
    builders = {
        "mobile.html": lambda: mobile_map(study, signal, a, prov, plan=plan, backhaul=backhaul,
                                          offline_assets="assets"),
        "grid.html": lambda: grid_map(study, prov, offline_assets="assets"),
        "readiness.html": lambda: readiness_map(study, r, prov, offline_assets="assets"),
    }
    for name, build in builders.items():
        t = time.perf_counter()
        html = render(build())
        (out / name).write_text(html, encoding="utf-8")
        print(f"{name:15s} {len(html.encode()) / 1e6:6.2f} MB  built in "
              f"{time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    png = overview_png(study, signal, a, r)
    html = index_page(study.config, headline(study, a, r), prov, overview_png=png)
    (out / "index.html").write_text(html, encoding="utf-8")
    print(f"{'index.html':15s} {len(html.encode()) / 1e6:6.2f} MB  built in "
          f"{time.perf_counter() - t:.1f} s")
    try:
        assets.copy_assets(out / "assets")
    except assets.AssetError as exc:
        print(f"(no offline assets: {exc})")
    if args.browser:
        for name, sec in _browser_times(out, [*builders, "index.html"]).items():
            print(f"{name:15s} interactive after {sec:.2f} s (headless Chromium, offline)")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
