"""The 建设方案 section of index.html and report.html: per operator, the sites of the plan
with their figures, totals equal to plan.csv, links to the plan's files, all escaped."""

import re

import pandas as pd
import pytest
from toy import toy_signal, toy_study

from coverage.assess import assess
from coverage.maps import index_page
from coverage.output.plan_section import plan_section, plan_section_html
from coverage.output.report import headline, render_html
from coverage.readiness import evaluate
from tests.test_maps import PROV

HOSTILE = "<img src=x onerror=alert(1)>"


def plan_table() -> pd.DataFrame:
    """Rows as plan_csv writes them: one per operator claim (a shared tower T2)."""
    return pd.DataFrame({
        "tower_id": ["T1", "T2", "T2", "C9"], "source": ["existing"] * 3 + ["hill"],
        "kind": ["existing_tower", "existing_tower", "existing_tower", "new"],
        "lon": [110.1, 110.2, 110.2, 110.3], "lat": [30.1, 30.2, 30.2, 30.3],
        "operator": ["CU", "CU", "CT", "CMCC"], "band": ["FDD900", "FDD900", "B5", "B8"],
        "cost_wan": [50.25, 60.0, 55.5, 120.0], "groups": ["G1;G2", "G3", "", "G4"],
        "households_new": [80.0, 40.0, 0.0, 33.0],
        "backhaul": ["fiber", "microwave", "microwave", "none"],
    })


def study_tables():
    groups = pd.DataFrame({"group_id": ["G1", "G2", "G3", "G4"],
                           "village_id": ["V1", "V1", "V2", "V3"]})
    villages = pd.DataFrame({"village_id": ["V1", "V2", "V3"],
                             "name": ["石关村", HOSTILE, "月河村"]})
    return groups, villages


NAMES = {"CMCC": "中国移动", "CT": "中国电信", "CU": "中国联通"}


def test_per_operator_sites_and_totals_are_the_sums_of_plan_csv():
    table = plan_table()
    s = plan_section(table, *study_tables(), NAMES, "zh")
    assert [o.operator for o in s.operators] == ["CMCC", "CT", "CU"]  # config order
    cu = s.operators[2]
    assert [x.tower_id for x in cu.sites] == ["T1", "T2"]
    assert cu.cost_wan == pytest.approx(110.25) and cu.households_new == 120.0
    assert cu.sites[0].villages == "石关村" and cu.sites[0].groups == 2
    assert cu.sites[0].kind == "利旧铁塔" and cu.sites[0].backhaul == "光纤"
    assert s.towers == 3 and s.claims == 4
    assert s.cost_wan == pytest.approx(table["cost_wan"].sum())
    assert s.households_new == pytest.approx(table["households_new"].sum())


def test_section_html_is_escaped_and_links_the_plan_files():
    s = plan_section(plan_table(), *study_tables(), NAMES, "zh")
    html = plan_section_html(s, "zh")
    assert "建设方案" in html and HOSTILE not in html and "&lt;img" in html
    for href in ("plan.csv", "plan.kml", "plan.gpkg", "tables/"):
        assert f'href="{href}"' in html
    assert "285.8" in html  # 50.25 + 60 + 55.5 + 120 万元
    assert "3 座铁塔、4 个运营商站点" in html
    assert "110.10000, 30.10000" in html
    total = re.search(r'class="plan-total"[^>]*>.*?data-cost="([0-9.]+)"', html, re.S)
    assert total is not None and float(total.group(1)) == pytest.approx(285.75)
    none = plan_section_html(None, "zh")
    assert "没有规划方案" in none


def test_index_page_and_report_carry_the_section():
    study = toy_study()
    a = assess(study, toy_signal())
    r = evaluate(study, a)
    section = plan_section_html(plan_section(plan_table(), *study_tables(), NAMES, "zh"), "zh")
    page = index_page(study.config, headline(study, a, r), PROV, plan_html=section)
    assert "建设方案" in page and 'href="plan.csv"' in page and ".plan-table" in page
    assert page.index("建设方案") > page.index("主要指标")
    report = render_html(study, a, r, {"generated": "2020-10-31", "version": "x",
                                       "config_hash": "y", "crs": "z"}, plan_html=section)
    assert "建设方案" in report and 'href="tables/"' in report
    assert "建设方案" not in index_page(study.config, headline(study, a, r), PROV)
