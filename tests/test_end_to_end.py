"""The whole job on the embedded demo county, as `make demo` runs it.

One cold run (every site computed) and one warm re-run (every site from the cache),
into the same output folder: the outputs must be complete, plausible for the county,
and byte-identical between the two runs.
"""

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import rasterio
from openpyxl import load_workbook
from typer.testing import CliRunner

from coverage.cli import app

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
    meta = {r[0]: r[1] for r in wb["meta"].iter_rows(values_only=True)}
    assert meta["config_hash"] == tags["config_hash"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert tags["config_hash"] in html and "行政村" in html
