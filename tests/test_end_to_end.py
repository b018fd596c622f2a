"""The whole job on the embedded demo county, as `make demo` runs it.

One cold run (every site computed) and one warm re-run (every site from the cache),
into the same output folder: the outputs must be complete, plausible for the county,
and byte-identical between the two runs.
"""

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner
from openpyxl import load_workbook

from coverage.cli import app
from tests.pages import english_words, page_texts, record_popups

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

pytestmark = pytest.mark.slow


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and ".cache" not in p.parts}


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    if not (DATA / "terrain" / "dem.tif").exists():
        pytest.skip("demo data/ not present")
    out = tmp_path_factory.mktemp("maps")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1604102400")  # 2020-10-31
    try:
        runner = CliRunner()
        args = ["run", "--data", str(DATA), "--config", str(ROOT / "coverage.toml"),
                "--out", str(out)]
        first = runner.invoke(app, args)
        first_digests = digests(out)
        second = runner.invoke(app, args)
    finally:
        mp.undo()
    return out, first, first_digests, second


def test_run_succeeds_and_writes_every_output(demo_runs):
    out, first, _, _ = demo_runs
    assert first.exit_code == 0, first.output
    for name in ["index.html", "mobile.html", "grid.html", "readiness.html", "report.html",
                 "readiness.xlsx", "assessment.gpkg", "overview.png",
                 "coverage/rsrp_any.tif", "coverage/rsrp_CMCC.tif", "coverage/best_site_CT.tif",
                 "tables/gaps.csv", "tables/villages.csv"]:
        assert (out / name).is_file(), name
    assert not list(out.glob(".staging-*"))


def test_warm_rerun_uses_the_cache_and_is_byte_identical(demo_runs):
    out, _first, first_digests, second = demo_runs
    assert second.exit_code == 0, second.output
    assert "0 computed" in second.output
    assert digests(out) == first_digests


def test_county_figures_are_plausible(demo_runs):
    out = demo_runs[0]
    county = pd.read_csv(out / "tables" / "county.csv", encoding="utf-8-sig").set_index(
        "operator")
    anyop = county.loc["ANY"]
    assert anyop["villages"] >= 150 and anyop["groups"] >= 1500
    uncovered = anyop["groups_required"] - anyop["groups_covered"]
    # the demo county is built to lack signal in tens of villages and hundreds of groups
    assert 150 <= uncovered <= 450
    for op in ("CMCC", "CT", "CU"):
        assert county.loc[op, "groups_covered"] <= anyop["groups_covered"]
    gaps = pd.read_csv(out / "tables" / "gaps.csv", encoding="utf-8-sig")
    assert len(gaps) == uncovered and gaps["reason"].notna().all()
    assert 30 <= gaps["village_id"].nunique() <= 120


def test_outputs_record_provenance(demo_runs):
    out = demo_runs[0]
    with rasterio.open(out / "coverage" / "rsrp_any.tif") as ds:
        tags = ds.tags()
        assert ds.crs.to_epsg() == 32650
        assert ds.driver == "GTiff" and ds.overviews(1)  # COG with overviews
    assert {"version", "config_hash", "crs"} <= set(tags)
    wb = load_workbook(out / "readiness.xlsx", read_only=True)
    meta = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert meta["配置哈希"] == tags["config_hash"]
    assert meta["统计截至"] == "2020-09-30"  # the as-of date of the demo's coverage.toml
    html = (out / "report.html").read_text(encoding="utf-8")
    assert tags["config_hash"] in html and "行政村" in html


# ------------------------------------------------------------------ one set of figures, in Chinese

def _html_text(path: Path) -> list[str]:
    html = path.read_text(encoding="utf-8")
    body = html[html.find("<body"):]
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", "\n", body).split("\n")


def test_a_chinese_run_shows_no_english_words(demo_runs):
    out = demo_runs[0]
    found: dict[str, set[str]] = {}
    for name in ("report.html", "index.html"):
        for line in _html_text(out / name):
            if "data" in line and "生成于" in line:
                continue  # the provenance line quotes the data folder's own name
            found.setdefault(name, set()).update(english_words(line))
    wb = load_workbook(out / "readiness.xlsx", read_only=True)
    for ws in wb.worksheets:
        if ws.title == "说明":
            continue
        rows = ws.iter_rows(values_only=True)
        head = next(rows)
        for row in rows:
            for col, value in zip(head, row, strict=False):
                if col != "规则编号" and isinstance(value, str):  # rule ids stay, for machines
                    found.setdefault(ws.title, set()).update(english_words(value))
    for name in ("readiness.html", "mobile.html", "grid.html"):
        # popups built in the page from records are read as the page builds them
        for text in page_texts((out / name).read_text(encoding="utf-8")):
            found.setdefault(name, set()).update(english_words(text))
    found = {k: v for k, v in found.items() if v}
    assert not found, found


def test_headline_county_table_report_workbook_and_index_agree(demo_runs):
    out = demo_runs[0]
    county = pd.read_csv(out / "tables" / "county.csv", encoding="utf-8-sig").set_index(
        "operator").loc["ANY"]
    required, covered = int(county["groups_required"]), int(county["groups_covered"])
    uncovered = int(county["groups_uncovered"])
    assert uncovered == required - covered
    gaps = pd.read_csv(out / "tables" / "gaps.csv", encoding="utf-8-sig")
    assert len(gaps) == uncovered
    report = (out / "report.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    for page in (report, index):
        assert f"{covered:,} / {required:,}" in page or f"{covered} / {required}" in page
    assert re.search(rf">\s*{uncovered}\s*<", report) and f"{uncovered:,}" in index
    assert f"({uncovered})" in report  # the gap list's length
    wb = load_workbook(out / "readiness.xlsx", read_only=True)
    rows = list(wb["县级汇总"].iter_rows(values_only=True))
    head = rows[0]
    anyrow = next(r for r in rows[1:] if r[head.index("运营商")] == "任一运营商")
    assert anyrow[head.index("未覆盖村民组")] == uncovered
    assert anyrow[head.index("需验收村民组")] == required
    villages = pd.read_csv(out / "tables" / "villages.csv", encoding="utf-8-sig")
    for verdict, n in villages["verdict"].value_counts().items():
        assert re.search(rf'class="{verdict}"><td>[^<]*</td><td class="num">{n}<', report), \
            verdict


def test_index_and_report_show_the_plan_with_the_totals_of_plan_csv(demo_runs):
    out, first, *_ = demo_runs
    assert first.exit_code == 0, first.output
    plan = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    for page in ("index.html", "report.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "建设方案" in html and 'href="plan.kml"' in html, page
        total = re.search(r'class="plan-total" data-towers="(\d+)" data-sites="(\d+)">.*?'
                          r'data-households="([0-9.]+)".*?data-cost="([0-9.]+)"', html, re.S)
        assert total is not None, page
        towers, sites, households, cost = total.groups()
        assert int(towers) == plan["tower_id"].nunique() and int(sites) == len(plan)
        assert float(households) == pytest.approx(plan["households_new"].sum())
        assert float(cost) == pytest.approx(plan["cost_wan"].sum())
        for op in plan["operator"].unique():
            row = re.search(rf'data-operator="{op}">.*?data-cost="([0-9.]+)"', html, re.S)
            assert row is not None
            assert float(row.group(1)) == pytest.approx(
                plan.loc[plan["operator"] == op, "cost_wan"].sum())


def test_maps_are_offline_by_default(demo_runs):
    out, *_ = demo_runs
    for page in ("mobile.html", "grid.html", "readiness.html", "inputs.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in html and 'src="assets/leaflet@' in html, page
        assert "coverage-load-error" in html
    assert (out / "assets" / "leaflet@1.9.4" / "dist" / "leaflet.js").is_file()


def test_group_popup_names_the_claimed_site_that_will_cover_it(demo_runs):
    # groups not covered today that a site claimed in sites/claims.csv (status 认领/开工)
    # will cover name it in their popup, with the claim, its due day and days late
    out = demo_runs[0]
    claims = pd.read_csv(DATA / "sites" / "claims.csv", encoding="utf-8-sig")
    html = (out / "mobile.html").read_text(encoding="utf-8")
    rows = {m.group(1) for popup in record_popups(html)
            for m in re.finditer(r"<th>认领/在建站点将覆盖</th><td>(.*?)</td>", popup)}
    named = {c for c in claims["claim_id"] if any(f"认领{c}，" in r for r in rows)}
    assert len(named) >= 5, rows
    # RL2020-016: started, promised for 2020-07-29, not on air on the as-of day 2020-09-30
    assert any("CMCC-TW151-FDD900（中国移动，认领RL2020-016，计划开通2020-07-29，逾期63天）" in r
               for r in rows)
