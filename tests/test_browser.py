"""The maps in a real headless Chromium, with no internet.

Every map of the toy study is written with offline assets (``assets/`` beside the HTML,
see :mod:`coverage.io.assets`) and served from 127.0.0.1. Basemap tile requests are
answered with a blank tile; any other request leaving the machine fails the test.
Checks: no JavaScript error, every layer of the layer control toggles, popups open on a
click and show the expected village, the legend is present, the village search works
with Chinese input (IME composition included), and the name ``<img src=x
onerror=alert(1)>`` stays text. ``mobile_meas`` adds field measurements (a tester called
``<script>alert(1)</script>``) and the after-plan overlay: they toggle, follow the
legend and open popups as text. A screenshot of each map and the time until it was
interactive are saved under ``$COVERAGE_ARTIFACTS`` (default ``artifacts/``).

Skipped when Chromium (Debian's ``chromium``), Playwright or the offline assets are
absent, unless ``COVERAGE_REQUIRE_BROWSER=1`` (CI), which makes that a failure. Set-up:
``apt-get install chromium``, ``pip install playwright``, and
``python -m coverage.io.assets install``.
"""

from __future__ import annotations

import functools
import html
import http.server
import io
import json
import math
import os
import shutil
import threading
from pathlib import Path

import pytest
from PIL import Image

from coverage.assess import assess, group_serving_sites
from coverage.io import assets
from coverage.maps import (
    Basemap,
    grid_map,
    index_page,
    inputs_map,
    mobile_map,
    readiness_map,
    render,
)
from coverage.maps.overview import overview_png
from coverage.output.report import headline
from coverage.readiness import evaluate
from tests.pages import record_popups
from tests.test_maps import (
    PROV,
    SCRIPT,
    XSS,
    after_signal,
    claimed_study,
    committed_signal,
    rich_measurements,
    rich_plan,
    rich_signal,
    rich_study,
)

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("COVERAGE_CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
TILE_HOSTS = ("tile.openstreetmap.org", "tile.opentopomap.org", "tianditu.gov.cn",
              "is.autonavi.com")
MAPS = ("mobile", "grid", "readiness", "inputs", "mobile_gcj", "mobile_meas")

REQUIRED = os.environ.get("COVERAGE_REQUIRE_BROWSER") == "1"
"""CI sets this: a missing browser, Playwright or asset set-up then fails instead of skipping."""


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"browser tests required but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright import sync_api
except ImportError:
    _unavailable("playwright is not installed (pip install playwright)")
if CHROMIUM is None:
    _unavailable("chromium is not installed (Debian: apt-get install chromium)")
try:
    ASSET_DIR = assets.locate_assets()
except assets.AssetError as exc:
    _unavailable(f"offline map assets not installed: {exc}")


PLAYWRIGHT: dict[str, object] = {}
"""The running Playwright of the ``browser`` fixture (for a second, touch-enabled context)."""

SITE_ROOTS: dict[str, Path] = {}
"""Served URL → folder of the ``site`` fixture (tests write extra pages into it)."""


def _site_root(url: str) -> Path:
    return SITE_ROOTS[url]


def artifacts_dir() -> Path:
    """Where screenshots and timings go (not committed)."""
    path = Path(os.environ.get("COVERAGE_ARTIFACTS", REPO / "artifacts")) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _blank_tile() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 236, 236)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The maps of the toy study, written with offline assets, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("maps")
    study = rich_study()
    signal = rich_signal()
    assessment = assess(study, signal)
    readiness = evaluate(study, assessment)
    plan, links = rich_plan()
    off = "assets"
    pages = {
        "mobile": mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links,
                             offline_assets=off),
        "grid": grid_map(study, PROV, offline_assets=off),
        "readiness": readiness_map(study, readiness, PROV, offline_assets=off),
        "inputs": inputs_map(study, PROV, offline_assets=off),
        "mobile_gcj": mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links,
                                 offline_assets=off, basemap=Basemap("gaode")),
        "mobile_meas": mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links,
                                  offline_assets=off, measurements=rich_measurements(study),
                                  after_signal=after_signal()),
    }
    claimed = claimed_study(study)
    pages["mobile_claims"] = mobile_map(
        claimed, signal, assessment, PROV, offline_assets=off,
        committed_serving=group_serving_sites(claimed, committed_signal()))
    for name, fmap in pages.items():
        (root / f"{name}.html").write_text(render(fmap), encoding="utf-8")
    png = overview_png(study, signal, assessment, readiness, dpi=60)
    (root / "index.html").write_text(
        index_page(study.config, headline(study, assessment, readiness), PROV,
                   overview_png=png), encoding="utf-8")
    assets.copy_assets(root / "assets", ASSET_DIR)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    SITE_ROOTS[url] = root
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        PLAYWRIGHT["pw"] = pw
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1280, "height": 800})
        try:
            yield context
        finally:
            context.close()


class Page:
    """One opened map with its error, dialog and request logs."""

    def __init__(self, context, base: str, name: str):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                     if m.type == "error" else None)
        self.page.on("dialog", self._dialog)
        tile = _blank_tile()

        def route(r):
            url = r.request.url
            if url.startswith(base + "/") or url.startswith("data:"):
                r.continue_()
            elif any(host in url for host in TILE_HOSTS):
                r.fulfill(status=200, content_type="image/png", body=tile)
            else:
                self.outside.append(url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(f"{base}/{name}.html")
        if name != "index":
            self.page.wait_for_function("window.coverage && window.coverage.ready === true",
                                        timeout=15_000)
            self.page.wait_for_load_state("load")
            # the full-screen and measuring tools come after the first frame
            self.page.wait_for_function("window.coverage.toolsReady === true",
                                        timeout=15_000)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def js(self, code: str, arg: object = None) -> object:
        return self.page.evaluate(code, arg)

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def open_map(browser, site):
    opened: list[Page] = []

    def _open(name: str) -> Page:
        page = Page(browser, site, name)
        opened.append(page)
        return page

    yield _open
    for page in opened:
        page.close()


@pytest.mark.parametrize("name", MAPS)
def test_map_loads_offline_without_errors(open_map, name):
    p = open_map(name)
    assert p.errors == [] and p.outside == [] and p.dialogs == []
    for selector in ("#coverage-legend", "#coverage-note", ".leaflet-control-layers",
                     ".leaflet-control-scale", ".leaflet-control-zoom-fullscreen",
                     ".leaflet-control-measure"):
        assert p.page.locator(selector).count() == 1, selector
    assert "cafe0123deadbeef" in p.page.locator("#coverage-note").inner_text()
    assert p.js("typeof L.Control.Measure === 'function' && typeof L.Control.FullScreen "
                "=== 'function'")
    legend = p.page.locator("#coverage-legend")
    assert legend.is_visible() and legend.locator(".cov-legend-item").count() >= 3
    shot = artifacts_dir() / f"{name}.png"
    p.page.screenshot(path=str(shot))
    timing = artifacts_dir() / "timings.json"
    data = json.loads(timing.read_text()) if timing.exists() else {}
    data[name] = {"ready_ms": round(float(p.js("window.coverage.readyMs")), 1)}
    timing.write_text(json.dumps(data, indent=1, sort_keys=True))
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("name", MAPS)
def test_every_layer_in_the_control_toggles(open_map, name):
    p = open_map(name)
    count = ("Object.values(coverage.layers).filter(l => coverage.map.hasLayer(l)).length")
    boxes = p.page.locator(".leaflet-control-layers-overlays input[type=checkbox]")
    n = boxes.count()
    assert n == len(p.js("Object.keys(coverage.layers)")) and n >= 3
    for i in range(n):
        box = boxes.nth(i)
        before = p.js(count)
        was = box.is_checked()
        box.click()
        assert box.is_checked() != was
        assert p.js(count) == before + (-1 if was else 1)
        box.click()
        assert p.js(count) == before and box.is_checked() == was
    radios = p.page.locator(".leaflet-control-layers-base input[type=radio]")
    keys = p.js("Object.keys(coverage.bases)")
    assert radios.count() == len(keys) >= 3
    for i in range(radios.count()):
        radios.nth(i).click()
        on = p.js("Object.keys(coverage.bases).filter(k => coverage.map.hasLayer("
                  "coverage.bases[k]))")
        assert on == [keys[i]]
    assert p.errors == []


def test_legend_follows_the_layers(open_map):
    p = open_map("grid")
    section = p.page.locator(".cov-legend-section[data-layers='transformers']")
    assert section.is_visible()
    label = p.js("coverage.layers.transformers && document.querySelector("
                 "'.leaflet-control-layers-overlays').innerText")
    assert "台区变压器" in label
    box = p.page.locator(".leaflet-control-layers-overlays label",
                         has_text="台区变压器").locator("input")
    box.click()
    assert not section.is_visible()
    box.click()
    assert section.is_visible()


def _click_feature(p: Page, key: str, fid: str) -> None:
    """Click the screen point of a feature (polygon centre or marker position)."""
    xy = p.js("""([key, id]) => {
        const l = coverage.find(key, id);
        coverage.map.setView(l.getBounds ? l.getBounds().getCenter() : l.getLatLng(),
                             coverage.map.getZoom(), {animate: false});
        const ll = l.getBounds ? l.getCenter() : l.getLatLng();
        const pt = coverage.map.latLngToContainerPoint(ll);
        const box = coverage.map.getContainer().getBoundingClientRect();
        return [pt.x + box.left, pt.y + box.top];
    }""", [key, fid])
    p.page.mouse.click(xy[0], xy[1])


def test_group_popup_on_click_shows_the_village_and_escapes_it(open_map):
    p = open_map("mobile")
    p.js("coverage.map.removeLayer(coverage.layers.villages)")
    _click_feature(p, "groups", "G4")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert "第4组" in text and XSS in text and "户数" in text
    assert popup.locator("img").count() == 0
    assert p.js("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert p.dialogs == [] and p.errors == []


def test_measurement_layers_follow_the_legend_and_keep_the_tester_as_text(open_map):
    p = open_map("mobile_meas")
    section = p.page.locator(".cov-legend-section[data-layers='errors_CMCC errors_CT']")
    assert p.js("['errors_CMCC', 'errors_CT', 'errors_not_compared', 'rsrp_ANY_after']"
                ".filter(k => coverage.map.hasLayer(coverage.layers[k])).length") == 0
    assert not section.is_visible()
    box = p.page.locator(".leaflet-control-layers-overlays label",
                         has_text="实测误差 · 中国移动").locator("input")
    box.click()
    assert section.is_visible()
    assert p.js("coverage.layers.errors_CMCC.getLayers().length") == 4
    p.js("coverage.map.removeLayer(coverage.layers.villages);"
         "coverage.map.removeLayer(coverage.layers.groups)")
    _click_feature(p, "errors_CMCC", "2")  # M2: −10 dB, tested by <script>alert(1)</script>
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert "M2" in text and SCRIPT in text and "-10.0" in text and "中国移动" in text
    assert popup.locator("script").count() == 0
    fill = p.js("coverage.find('errors_CMCC', '2').options.fillColor")
    assert fill == "#abd9e9"
    p.js("coverage.open('errors_not_compared', '6')")
    text = p.page.locator(".leaflet-popup-content", has_text="M6").inner_text()
    assert "M6" in text and "无预测覆盖" in text and "no CU site predicted" in text
    rasters = "document.querySelectorAll('img.cov-raster').length"
    before = p.js(rasters)
    p.page.locator(".leaflet-control-layers-overlays label",
                   has_text="规划实施后").locator("input").click()
    assert p.js(rasters) == before + 1
    assert p.dialogs == [] and p.errors == []


def test_site_popup_lists_tenants_of_a_shared_tower(open_map):
    p = open_map("mobile")
    p.js("coverage.open('sites_CMCC', 'S1')")
    text = p.page.locator(".leaflet-popup-content").inner_text()
    assert "S1" in text and "中国联通" in text and "T1" in text


def test_readiness_popup_and_tooltip_keep_the_name_as_text(open_map):
    p = open_map("readiness")
    verdict = p.js("Object.keys(coverage.layers).find(k => coverage.find(k, 'V2'))")
    _click_feature(p, verdict, "V2")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert XSS in popup.inner_text() and "核查结论" in popup.inner_text()
    assert popup.locator("img").count() == 0
    p.js("key => coverage.find(key, 'V2').openTooltip()", verdict)
    tip = p.page.locator(".leaflet-tooltip")
    assert XSS in tip.inner_text() and tip.locator("img").count() == 0
    assert p.dialogs == [] and p.errors == []


def test_search_finds_villages_typed_in_chinese(open_map):
    p = open_map("readiness")
    box = p.page.locator("#coverage-search")
    # an IME composes pinyin first: nothing is searched until the composition ends
    p.js("""() => {
        const el = document.getElementById('coverage-search');
        el.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
        el.value = 'shi';
        el.dispatchEvent(new InputEvent('input', {data: 'shi', isComposing: true}));
    }""")
    assert p.page.locator(".cov-search-results li").count() == 0
    p.js("""() => {
        const el = document.getElementById('coverage-search');
        el.value = '石关';
        el.dispatchEvent(new CompositionEvent('compositionend', {data: '石关'}));
    }""")
    results = p.page.locator(".cov-search-results li")
    assert results.count() == 1 and "石关村" in results.first.inner_text()
    box.fill("")
    box.focus()
    p.page.keyboard.insert_text("石关村")  # what an IME commits
    assert results.count() == 1
    results.first.click()
    # poll the text: on a loaded machine the popup may be re-rendered while it opens
    p.page.wait_for_function(
        "() => { const el = document.querySelector('.leaflet-popup-content');"
        " return el !== null && el.innerText.includes('石关村'); }", timeout=15000)
    box.fill("没有这个村")
    assert p.page.locator(".cov-search-results li.cov-none").count() == 1
    assert p.errors == []


def test_search_shows_a_hostile_name_as_text(open_map):
    p = open_map("readiness")
    box = p.page.locator("#coverage-search")
    box.fill("<img")
    results = p.page.locator(".cov-search-results li")
    assert results.count() == 1 and XSS in results.first.inner_text()
    assert p.page.locator(".cov-search-results img").count() == 0
    box.press("Enter")
    p.page.locator(".leaflet-popup-content").wait_for(timeout=5000)
    assert p.dialogs == [] and p.errors == []


def test_index_page_links_and_picture(open_map):
    p = open_map("index")
    assert p.errors == [] and p.outside == []
    hrefs = p.js("[...document.querySelectorAll('ul.links a')].map(a => a.getAttribute('href'))")
    assert {"mobile.html", "grid.html", "readiness.html", "report.html"} <= set(hrefs)
    assert p.js("document.querySelector('img.overview').naturalWidth") == 720
    p.page.screenshot(path=str(artifacts_dir() / "index.png"), full_page=True)


def test_measure_tool_measures_a_distance(open_map):
    p = open_map("grid")
    box = p.page.locator(".leaflet-control-measure-toggle").bounding_box()
    p.page.mouse.move(box["x"] + 5, box["y"] + 5)  # the control opens on hover
    p.page.locator(".leaflet-control-measure .js-start").click()
    p.page.mouse.click(500, 300)
    p.page.mouse.click(800, 500)
    p.page.locator(".leaflet-control-measure .js-finish").click()
    text = p.page.locator(".leaflet-popup-content").inner_text()
    assert "公里" in text or "km" in text
    assert p.errors == []


# --------------------------------------------------------------- when the network fails


def _bare_page(browser, url: str, tiles: bool = True):
    """A page with every request outside 127.0.0.1 failing (tiles too unless ``tiles``)."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    tile = _blank_tile()

    def route(r):
        url_ = r.request.url
        if url_.startswith("http://127.0.0.1"):
            r.continue_()
        elif tiles and any(host in url_ for host in TILE_HOSTS):
            r.fulfill(status=200, content_type="image/png", body=tile)
        else:
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_load_state("load")
    return page, errors


@pytest.mark.parametrize("case", ["assets_missing", "cdn_blocked"])
def test_a_page_whose_scripts_fail_says_what_to_run_instead_of_staying_white(
        browser, site, case):
    # the page is written next to the working ones but without assets/ beside it, or
    # with --cdn-maps while the internet is cut off: Leaflet never arrives
    name = f"blank_{case}.html"
    folder = _site_root(site)
    study = rich_study()
    readiness = evaluate(study, assess(study, rich_signal()))
    off = "no-such-assets" if case == "assets_missing" else None
    (folder / name).write_text(render(readiness_map(study, readiness, PROV, offline_assets=off)),
                               encoding="utf-8")
    page, _ = _bare_page(browser, f"{site}/{name}")
    try:
        box = page.locator("#coverage-load-error")
        box.wait_for(timeout=10_000)
        text = box.inner_text()
        assert "地图脚本未能加载" in text
        assert ("make assets" in text) if case == "assets_missing" else ("--cdn-maps" in text)
        assert box.is_visible()
        page.screenshot(path=str(artifacts_dir() / f"{name[:-5]}.png"))
    finally:
        page.close()


def test_a_working_page_shows_no_load_error(open_map):
    p = open_map("readiness")
    p.page.wait_for_timeout(50)
    assert p.page.locator("#coverage-load-error").count() == 0


def test_no_tile_server_switches_to_no_basemap(browser, site):
    page, errors = _bare_page(browser, f"{site}/mobile.html", tiles=False)
    try:
        page.wait_for_function("window.coverage && window.coverage.basemapFallback === true",
                               timeout=15_000)
        assert page.evaluate("coverage.map.hasLayer(coverage.bases.basemap_none)")
        assert page.evaluate("Object.keys(coverage.bases).filter(k => "
                             "coverage.map.hasLayer(coverage.bases[k]))") == ["basemap_none"]
        checked = page.locator(".leaflet-control-layers-base input:checked").locator("..")
        assert "无底图" in checked.inner_text()
        assert "无底图" in page.locator("#coverage-tiles-note").inner_text()
        assert errors == []
    finally:
        page.close()


# ------------------------------------------------------------------ one popup per place


def test_group_click_with_the_default_layers_opens_the_group_popup(open_map):
    # the village boundaries stay on (as on opening): their inside never takes the click
    p = open_map("mobile")
    assert p.js("coverage.map.hasLayer(coverage.layers.villages)")
    _click_feature(p, "groups", "G4")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert "第4组" in text and "户数" in text and "行政村" in text
    for op in ("中国移动", "中国电信", "中国联通"):
        assert op in text
    assert "主服务站" in text and "规划覆盖站点" in text and "N1" in text
    assert "行政村编号" not in text  # not the village popup
    assert p.errors == []


def test_group_popup_names_the_sites_that_serve_it(open_map):
    p = open_map("mobile")
    p.js("coverage.open('groups', 'G1')")
    text = p.page.locator(".leaflet-popup-content").inner_text()
    served = p.js("""() => {
        const rows = [...document.querySelectorAll('.leaflet-popup-content .cov-grid tr')];
        return rows.slice(1).map(r => [...r.cells].map(c => c.innerText));
    }""")
    assert "主服务站" in text
    # a covered operator names at least one site; an operator without signal names none
    named = 0
    for row in served:
        if row[0] != "任一运营商" and row[-2] in ("覆盖", "已覆盖"):
            assert row[-1].strip() != "", row
            named += 1
    assert named >= 1, served


def test_group_popup_built_on_click_names_the_claimed_site(open_map):
    # the popup is built in the page from its record: the same HTML as record_popup_html
    p = open_map("mobile_claims")
    _click_feature(p, "groups", "G4")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert "认领/在建站点将覆盖" in text
    assert "S4（中国移动，认领RL1，计划开通2020-09-01，逾期29天）" in text
    assert "第4组" in text and XSS in text and popup.locator("img").count() == 0
    html = (_site_root(p.page.url.rsplit("/", 1)[0]) / "mobile_claims.html").read_text(
        encoding="utf-8")
    built = [h for h in record_popups(html) if "第4组" in h]
    assert len(built) == 1
    assert p.js("document.querySelector('.leaflet-popup-content').innerHTML") == \
        p.js("h => { const d = document.createElement('div'); d.innerHTML = h; "
             "return d.innerHTML; }", built[0])
    p.page.screenshot(path=str(artifacts_dir() / "group_popup_claimed.png"))
    assert p.dialogs == [] and p.errors == []


def test_a_click_on_a_shared_tower_lists_every_tenant(open_map):
    p = open_map("mobile")
    p.js("coverage.map.removeLayer(coverage.layers.plan)")
    _click_feature(p, "sites_CMCC", "S1")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert "T1" in text and "S1" in text and "S2" in text
    assert "中国移动" in text and "中国联通" in text
    # the same popup whichever tenant's marker answers
    p.page.keyboard.press("Escape")
    p.js("coverage.open('sites_CU', 'S2')")
    text2 = p.page.locator(".leaflet-popup-content").inner_text()
    assert "S1" in text2 and "S2" in text2
    assert p.errors == []


def test_plan_popup_gives_coordinates_and_villages_served(open_map):
    p = open_map("mobile")
    p.js("coverage.open('plan', 'N1')")
    text = p.page.locator(".leaflet-popup-content").inner_text()
    assert "经纬度" in text and "服务行政村" in text
    lonlat = text.split("经纬度")[1].split("\n")[0]
    assert "." in lonlat and "," in lonlat


def _search(p: Page, text: str):
    box = p.page.locator("#coverage-search")
    box.fill("")
    box.focus()
    p.page.keyboard.insert_text(text)
    return p.page.locator(".cov-search-results li")


def _popup_says(p: Page, text: str) -> None:
    p.page.wait_for_function(
        "t => { const el = document.querySelector('.leaflet-popup-content');"
        " return el !== null && el.innerText.includes(t); }", arg=text, timeout=15000)


def test_search_result_opens_its_popup_by_click(open_map):
    p = open_map("readiness")
    results = _search(p, "石关村")
    assert results.count() == 1
    results.first.click()
    _popup_says(p, "石关村")
    p.page.wait_for_timeout(300)  # the popup stays open (no map click closes it)
    assert "石关村" in p.page.locator(".leaflet-popup-content").inner_text()


def test_search_result_opens_its_popup_by_enter(open_map):
    p = open_map("readiness")
    results = _search(p, "石关村")
    assert results.count() == 1
    p.page.keyboard.press("Enter")
    _popup_says(p, "石关村")
    p.page.keyboard.press("Escape")
    results = _search(p, "石关村")
    results.first.focus()
    p.page.keyboard.press("Enter")
    _popup_says(p, "石关村")


def test_search_result_opens_its_popup_by_touch(browser, site, tmp_path):
    # a phone or tablet: a tap, not a click (a second browser context with touch input)
    pw = PLAYWRIGHT["pw"]
    context = pw.chromium.launch_persistent_context(  # type: ignore[attr-defined]
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS, headless=True,
        viewport={"width": 412, "height": 800}, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(site)
                   else r.abort())
        page.goto(f"{site}/readiness.html")
        page.wait_for_function("window.coverage && window.coverage.ready === true",
                               timeout=15_000)
        page.locator("#coverage-search").tap()
        page.keyboard.insert_text("石关村")
        page.locator(".cov-search-results li").first.tap()
        page.wait_for_function(
            "() => { const el = document.querySelector('.leaflet-popup-content');"
            " return el !== null && el.innerText.includes('石关村'); }", timeout=15000)
        page.screenshot(path=str(artifacts_dir() / "search_touch.png"))
    finally:
        context.close()


@pytest.mark.parametrize("name", ["mobile_meas", "grid"])
def test_legend_and_layer_list_fit_a_768_px_screen_and_fold(open_map, name):
    p = open_map(name)
    p.page.set_viewport_size({"width": 1366, "height": 768})
    p.page.wait_for_timeout(100)
    for sel in ("#coverage-legend", ".leaflet-control-layers"):
        box = p.page.locator(sel).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, sel
    legend = p.page.locator("#coverage-legend")
    title = legend.locator(".cov-legend-title")
    sections = "[...document.querySelectorAll('#coverage-legend .cov-legend-section')]" \
               ".filter(e => e.offsetParent !== null).length"
    assert p.js(sections) >= 1
    title.click()
    assert p.js(sections) == 0 and title.get_attribute("aria-expanded") == "false"
    title.click()
    assert p.js(sections) >= 1
    assert p.errors == []


# ------------------------------------------------------------------ polygons drawn merged


def _hover_feature(p: Page, key: str, fid: str) -> None:
    """Move the mouse onto the centre of a polygon feature (as _click_feature)."""
    xy = p.js("""([key, id]) => {
        const l = coverage.find(key, id);
        coverage.map.setView(l.getBounds().getCenter(), coverage.map.getZoom(),
                             {animate: false});
        const pt = coverage.map.latLngToContainerPoint(l.getCenter());
        const box = coverage.map.getContainer().getBoundingClientRect();
        return [pt.x + box.left, pt.y + box.top];
    }""", [key, fid])
    p.page.mouse.move(xy[0] - 40, xy[1] - 40)
    p.page.mouse.move(xy[0], xy[1], steps=4)


def test_groups_are_drawn_as_few_canvas_shapes_and_each_click_opens_its_own_popup(open_map):
    # every group is one piece of a multi-polygon per style: a click on each of two
    # groups opens that group's popup, never a neighbour's, and a hover its tooltip
    p = open_map("mobile")
    n = p.js("coverage.layers.groups.getLayers().length")
    pieces = p.js("coverage.layers.groups.getLayers()"
                  ".reduce((s, l) => s + (l._covPieces || []).length, 0)")
    assert 1 <= n < pieces and p.js("document.querySelectorAll('path.leaflet-interactive')"
                                    ".length") == 0
    # with every layer of the opening view on: the sector wedges drawn above the groups
    # let the clicks through (G1's centre lies under a wedge)
    seen = []
    for gid in ("G1", "G4"):
        p.page.keyboard.press("Escape")
        _click_feature(p, "groups", gid)
        # one popup (the one closed fades out for 0.2 s)
        p.page.wait_for_function("document.querySelectorAll('.leaflet-popup-content')"
                                 ".length === 1", timeout=5000)
        title = p.js("document.querySelector('.leaflet-popup-content .cov-title').innerText")
        expected = p.js("id => coverage.find('groups', id).feature.properties.tooltip"
                        ".split(' · ')[0]", gid)
        assert title == expected, (gid, title)
        seen.append(title)
    assert seen[0] != seen[1]
    p.page.keyboard.press("Escape")
    p.page.mouse.click(5, 400)  # close the popup on the map's west edge
    _hover_feature(p, "groups", "G4")
    tip = p.page.locator(".leaflet-tooltip")
    tip.wait_for(timeout=5000)
    assert tip.inner_text() == html.unescape(
        p.js("coverage.find('groups', 'G4').feature.properties.tooltip"))
    assert p.errors == []


def test_readiness_verdicts_answer_clicks_and_search_when_merged(open_map):
    p = open_map("readiness")
    verdicts = p.js("Object.keys(coverage.layers).filter(k => k.startsWith('verdict_') && "
                    "coverage.layers[k].getLayers().some(l => l._covPieces))")
    assert verdicts
    key = verdicts[0]
    vid = p.js("k => coverage.layers[k].getLayers()[0]._covPieces[0].feature.properties.id",
               key)
    _click_feature(p, key, vid)
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    name = p.js("([k, id]) => coverage.find(k, id).feature.properties.tooltip.split(' · ')[0]",
                [key, vid])
    assert html.unescape(name) in popup.inner_text()
    assert p.errors == []


@pytest.mark.parametrize("name", ["mobile", "mobile_gcj"])
def test_sector_wedges_are_drawn_as_arcs_from_the_site_along_their_azimuths(open_map, name):
    # the page draws each wedge as a canvas arc from three points (site, arc ends): S1
    # (0°, 120°, 240°) and S4 (90°) of CMCC, centred on their site markers, pointing
    # along their azimuths (clockwise from north), and really painted on the canvas
    p = open_map(name)
    arcs = p.js("""() => {
      const out = [], sites = {};
      coverage.layers.sites_CMCC.eachLayer(l => {
        if (l instanceof coverage.Wedges) l._arcs.forEach(a => out.push(
          [a[0].x, a[0].y, a[1], Math.atan2(Math.sin(a[2]) + Math.sin(a[3]),
                                            Math.cos(a[2]) + Math.cos(a[3])) * 180 / Math.PI]));
        else if (l.feature && l._point) sites[l.feature.properties.id] = [l._point.x, l._point.y];
      });
      return {arcs: out, sites: sites};
    }""")
    assert len(arcs["arcs"]) == 4 and set(arcs["sites"]) == {"S1", "S4"}
    expected = {"S1": [0.0, 120.0, 240.0], "S4": [90.0]}
    for sid, azimuths in expected.items():
        sx, sy = arcs["sites"][sid]
        mine = [a for a in arcs["arcs"] if abs(a[0] - sx) < 0.5 and abs(a[1] - sy) < 0.5]
        assert len(mine) == len(azimuths), sid
        got = [(a[3] + 90.0) % 360.0 for a in mine]  # screen angle → azimuth

        def near(g, e):
            return min(abs(g - e), 360.0 - abs(g - e)) < 3.0

        assert all(any(near(g, e) for g in got) for e in azimuths), (sid, got)
        assert all(a[2] > 3 for a in mine)  # a visible radius (pixels)
    # half-way along S1's 120° wedge the canvas changes when the CMCC layer is switched off
    probe = """([x, y]) => {
      const r = coverage.map.getRenderer(coverage.layers.sites_CMCC.getLayers()[0]);
      const px = r._ctx.getImageData(x - r._bounds.min.x, y - r._bounds.min.y, 1, 1).data;
      return Array.from(px);
    }"""
    sx, sy = arcs["sites"]["S1"]
    w = next(a for a in arcs["arcs"]
             if abs(a[0] - sx) < 0.5 and abs((a[3] + 90) % 360 - 120) < 3)
    ang = math.radians(w[3])
    at = [w[0] + 0.6 * w[2] * math.cos(ang), w[1] + 0.6 * w[2] * math.sin(ang)]
    on = p.js(probe, at)
    p.js("coverage.map.removeLayer(coverage.layers.sites_CMCC)")
    p.page.wait_for_timeout(100)  # the canvas redraws on the next frame
    off = p.js(probe, at)
    assert on != off, (on, off)
    assert p.errors == []
