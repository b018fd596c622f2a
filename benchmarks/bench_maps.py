"""Benchmark: how soon each map page of a run is usable in headless Chromium, offline.

Run: ``.venv/bin/python benchmarks/bench_maps.py [--out maps] [--runs 5]`` after a run
(``make demo``) has written the pages into ``--out``.

Target (issue 17): every page interactive within 1 s on a quiet 2-core machine (median of
5 loads), every page under 15 MB. The folder is served on 127.0.0.1; any request leaving
the machine fails (basemap tiles get a blank tile), as on an office network without
internet. "Interactive" is the first frame drawn after the page's own ready flag
(``coverage.paintedMs``: every layer, the legend and the search box built by
``coverage.readyMs``, then the first layout and the canvas drawing of the vectors done),
measured from the start of navigation: the map is on the screen and the page's thread is
free to answer a click. The ready flag alone comes before the vectors are drawn; it and
the load event time are printed beside it. The load average is printed first: on a busy
machine the figures are not comparable with a quiet one.

Needs Playwright (Python) and Debian's ``chromium`` (as the browser tests do).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import os
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("mobile.html", "grid.html", "readiness.html", "inputs.html", "index.html")
TILE_HOSTS = ("tile.openstreetmap.org", "tile.opentopomap.org", "tianditu.gov.cn",
              "is.autonavi.com")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
TARGET_S = 1.0
MAX_MB = 15.0


def _blank_tile() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 236, 236)).save(buf, format="PNG")
    return buf.getvalue()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _load(context, url: str, is_map: bool, tile: bytes
          ) -> tuple[float, float, float, list[str]]:
    """One cold load: (ready s, first frame drawn s or NaN, load-event s, page errors)."""
    from playwright import sync_api

    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        target = r.request.url
        if target.startswith("http://127.0.0.1") or target.startswith("data:"):
            r.continue_()
        elif any(h in target for h in TILE_HOSTS):
            r.fulfill(status=200, content_type="image/png", body=tile)
        else:
            errors.append(f"outside request: {target}")
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(url, wait_until="load", timeout=120_000)
        if is_map:
            page.wait_for_function("window.coverage && window.coverage.ready === true",
                                   timeout=120_000)
            ready = float(page.evaluate("window.coverage.readyMs")) / 1000.0
            try:  # pages written before the first-frame stamp existed have none
                page.wait_for_function("window.coverage.paintedMs > 0", timeout=10_000)
                painted = float(page.evaluate("window.coverage.paintedMs")) / 1000.0
            except sync_api.TimeoutError:  # judged by the ready flag alone
                painted = float("nan")
        else:
            ready = float(page.evaluate(
                "performance.getEntriesByType('navigation')[0].domInteractive")) / 1000.0
            painted = ready
        loaded = float(page.evaluate(
            "performance.getEntriesByType('navigation')[0].loadEventEnd")) / 1000.0
    finally:
        page.close()
    return ready, painted, loaded, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "maps",
                        help="output folder of a run (default: maps)")
    parser.add_argument("--runs", type=int, default=5, help="loads per page (default 5)")
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    args = parser.parse_args()
    try:
        from playwright import sync_api
    except ImportError:
        print("playwright is not installed (pip install playwright)", file=sys.stderr)
        return 2
    chromium = os.environ.get("COVERAGE_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        print("chromium not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    folder = args.out.resolve()
    missing = [p for p in args.pages if not (folder / p).is_file()]
    if missing:
        print(f"{folder}: no {', '.join(missing)}. Fix: run `make demo` (or "
              f"`coverage-planner run --out {args.out}`) first.", file=sys.stderr)
        return 2
    load1, load5, load15 = os.getloadavg()
    print(f"load average {load1:.2f} {load5:.2f} {load15:.2f} on {os.cpu_count()} CPUs; "
          f"{args.runs} cold loads per page, headless Chromium, offline")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    tile = _blank_tile()
    worst = 0.0
    failed = False
    try:
        with sync_api.sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            for name in args.pages:
                size_mb = (folder / name).stat().st_size / 1e6
                readies, paints, loads, errors = [], [], [], []
                for _ in range(args.runs):
                    # a fresh browser profile per load: nothing cached between loads
                    context = pw.chromium.launch_persistent_context(
                        str(Path(profile) / f"{name}-{len(readies)}"),
                        executable_path=chromium, args=ARGS, headless=True,
                        viewport={"width": 1366, "height": 768})
                    try:
                        ready, painted, loaded, errs = _load(context, f"{base}/{name}",
                                                             name != "index.html", tile)
                    finally:
                        context.close()
                    readies.append(ready)
                    paints.append(painted)
                    loads.append(loaded)
                    errors += errs
                shown = [r if p != p else max(r, p) for r, p in zip(readies, paints,
                                                                    strict=True)]
                med = statistics.median(shown)
                worst = max(worst, med)
                ok = med <= TARGET_S and size_mb <= MAX_MB and not errors
                failed |= not ok
                print(f"{name:15s} {size_mb:6.2f} MB  interactive median {med:5.2f} s "
                      f"(min {min(shown):.2f}, max {max(shown):.2f})  ready flag "
                      f"{statistics.median(readies):5.2f} s  load event "
                      f"{statistics.median(loads):5.2f} s  {'ok' if ok else 'OVER TARGET'}"
                      + (f"  errors: {errors[:2]}" if errors else ""))
    finally:
        server.shutdown()
        server.server_close()
    print(f"slowest page: {worst:.2f} s (target {TARGET_S:g} s on a quiet machine; "
          f"pages < {MAX_MB:g} MB)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
