"""Workbook, HTML and CSV reports: right numbers, Chinese text, no injection."""

import io

import pytest
from openpyxl import load_workbook
from toy import toy_signal, toy_study

from coverage.assess import assess
from coverage.output.report import build_workbook, csv_tables, headline, render_html
from coverage.readiness import evaluate

META = {"version": "0.1.0", "config_hash": "abc", "crs": "EPSG:32650", "generated": "2020-10-01"}


@pytest.fixture(scope="module")
def parts():
    study = toy_study()
    a = assess(study, toy_signal())
    return study, a, evaluate(study, a)


def test_headline(parts):
    h = headline(*parts)
    assert (h.villages, h.villages_covered, h.groups_covered, h.groups_uncovered) == (2, 1, 2, 1)
    assert h.households == 130 and h.households_covered == 90
    assert h.sites_per_operator == {"CMCC": 1, "CT": 1, "CU": 0}
    assert (h.hazards_found, h.hazards_fixed) == (2, 2)
    assert h.mobile_investment_wan == 45.0 and h.grid_investment_wan == 12.5


def test_workbook_reads_back(parts):
    wb = build_workbook(*parts, META)
    buf = io.BytesIO()
    wb.save(buf)
    back = load_workbook(io.BytesIO(buf.getvalue()))
    assert back.sheetnames == ["县级汇总", "行政村", "村民组", "测试点", "核查结论", "meta"]
    villages = back["行政村"]
    assert villages.freeze_panes == "A2" and villages.auto_filter.ref
    rows = list(villages.iter_rows(values_only=True))
    header = rows[0]
    names = [r[header.index("名称")] for r in rows[1:]]
    assert names == ["石关村", "<img src=x onerror=alert(1)>"]
    groups = list(back["村民组"].iter_rows(values_only=True))
    formula_name = [r[groups[0].index("名称")] for r in groups[1:]][2]
    assert formula_name.startswith("'=")  # shown as text, never evaluated
    for ws in back.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {ws.title}!{cell.coordinate}"


def test_html_escapes_and_shows_numbers(parts):
    html = render_html(*parts, META)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "石关村" in html and "响肠镇" in html
    assert "90 / 130" in html  # households covered
    assert "工程完工后具备" in html


def test_english_labels(parts):
    study, a, r = parts
    en = study.config.model_copy(update={"language": "en"})
    import dataclasses
    html = render_html(dataclasses.replace(study, config=en), a, r, META)
    assert "Ready after works" in html and "Households covered" in html


def test_csv_tables_quote_formulas(parts):
    tables = csv_tables(parts[1], parts[2])
    assert set(tables) >= {"county.csv", "villages.csv", "groups.csv", "gaps.csv",
                           "findings.csv", "points.csv"}
    names = tables["groups.csv"]["name"].tolist()
    assert names[2].startswith("'=")
