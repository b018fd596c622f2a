"""Claims (min-cost flow), the whole planning step on the toy study, outputs and KML."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.assess import assess
from coverage.config import Config
from coverage.io.kml import KmlFolder, KmlStyle, kml_color, kml_document, write_kml
from coverage.io.writers import write_csv, write_gpkg
from coverage.output.plan_tables import plan_csv, plan_kml_folders, plan_layers, plan_summary
from coverage.plan import make_plan, plan_village_remedies, planned_sites, study_with_plan
from coverage.plan.claim import claim_sites
from coverage.plan.coverage_matrix import matrix_from_sets
from coverage.plan.select import select_sites
from coverage.predict.candidates import RsrpWindow, window_rsrp_at
from tests.test_plan_select import groups_frame
from tests.toy import UTM50, cell_point, toy_signal, toy_study

KML_NS = {"k": "http://www.opengis.net/kml/2.2"}


def tower(tid: str, r: float, c: float, price: float = 60.0, tenants=(), backhaul="none"):
    p = cell_point(r, c)
    return {"tower_id": tid, "x": p.x, "y": p.y, "price_wan": price,
            "existing_operators": tuple(tenants), "source": "hill" if price else "existing",
            "kind": "new" if price else "existing_tower", "backhaul": backhaul,
            "ground_m": 200.0, "height_m": 35.0, "geometry": p}


def cfg(**planning) -> Config:
    c = Config()
    for k, v in planning.items():
        setattr(c.planning, k, v)
    return c


def run_claims(config: Config, options, covers_any, covers_op, towers, hh, need=None):
    study = toy_study(config)
    groups = groups_frame(hh, need)
    m = matrix_from_sets(options, groups, covers_any, covers_op)
    cands = gpd.GeoDataFrame(pd.DataFrame(towers), geometry="geometry", crs=UTM50)
    sel = select_sites(m, cands, config)
    return sel, claim_sites(sel, m, cands, study, config=config)


ALL3 = [("H1", "CMCC", "B"), ("H1", "CT", "B"), ("H1", "CU", "B")]


def test_claim_prefers_operator_without_signal():
    # all three cover the gap group G1; CU would also bring itself to G2 and G3
    covers_any = {f"H1:{op}:B": {"G1"} for op in ("CMCC", "CT", "CU")}
    covers_op = {"H1:CMCC:B": {"G1"}, "H1:CT:B": {"G1"}, "H1:CU:B": {"G1", "G2", "G3"}}
    hh = {"G1": 40, "G2": 30, "G3": 20}
    sel, cl = run_claims(Config(), ALL3, covers_any, covers_op, [tower("H1", 5, 8)], hh)
    assert cl.method == "min_cost_flow"
    c = cl.claims.iloc[0]
    assert (c["operator"], c["households_operator"], c["households_new"]) == ("CU", 90.0, 40.0)
    assert cl.towers["cost_wan"].sum() == pytest.approx(sel.cost_wan) == 85.0
    assert c["cost_wan"] == 85.0 and c["tower_share_wan"] == 60.0
    assert cl.groups.set_index("group_id").at["G1", "covered_after"]


def test_claim_breaks_ties_by_fiber_distance_and_keeps_quotas():
    covers = {f"H1:{op}:B": {"G1"} for op in ("CMCC", "CT", "CU")}
    hh = {"G1": 40}
    # equal households: CT's fiber-fed tower T2 at (2, 5) is nearest to (5, 8)
    _, cl = run_claims(Config(), ALL3, covers, covers, [tower("H1", 5, 8)], hh)
    assert cl.claims["operator"].tolist() == ["CT"]
    assert cl.claims["fiber_km"].iat[0] == pytest.approx(0.42, abs=0.01)
    # CT capped at 0 sites: the next nearest fiber is CMCC's T1 at (5, 2), 600 m
    _, cl = run_claims(cfg(quotas_max={"CT": 0}), ALL3, covers, covers,
                       [tower("H1", 5, 8)], hh)
    assert cl.claims["operator"].tolist() == ["CMCC"]
    # a minimum quota wins over preference
    _, cl = run_claims(cfg(quotas_min={"CU": 1}), ALL3, covers, covers,
                       [tower("H1", 5, 8)], hh)
    assert cl.claims["operator"].tolist() == ["CU"]


def test_claim_keeps_coverage():
    # only CMCC covers both gap groups from H1: CU (more households for itself) may not take
    # the slot, since it would leave G2 uncovered
    covers_any = {"H1:CMCC:B": {"G1", "G2"}, "H1:CU:B": {"G1"}}
    covers_op = {"H1:CMCC:B": {"G1", "G2"}, "H1:CU:B": {"G1", "G3"}}
    opts = [("H1", "CMCC", "B"), ("H1", "CU", "B")]
    hh = {"G1": 40, "G2": 30, "G3": 200}
    need = {"G1": 1, "G2": 1, "G3": 0}                   # G3 has signal already
    _, cl = run_claims(Config(), opts, covers_any, covers_op, [tower("H1", 5, 8)], hh, need)
    assert cl.claims["operator"].tolist() == ["CMCC"]
    assert cl.claims["groups"].iat[0] == "G1;G2"
    assert cl.groups.loc[cl.groups["target"], "covered_after"].all()


def test_claim_shared_tower_split_and_two_operators():
    covers = {"H1:CT:B": {"G1"}, "H1:CU:B": {"G1"}}
    opts = [("H1", "CT", "B"), ("H1", "CU", "B")]
    _sel, cl = run_claims(cfg(required_operators=2), opts, covers, covers,
                         [tower("H1", 5, 8)], {"G1": 40}, {"G1": 2})
    assert cl.method == "selection"
    assert cl.claims["operator"].tolist() == ["CT", "CU"]
    # two tenants: tower 60 x 0.7 = 42 split in two, plus 25 each
    assert cl.claims["cost_wan"].tolist() == [46.0, 46.0]
    assert cl.per_operator() == {"CT": 1, "CU": 1}


# ---------------------------------------------------------------- the whole step, toy study


def toy_rsrp(study):
    """Synthetic radio: -60 dBm at the site, 0.02 dB per metre (CT 5 dB stronger)."""
    rr, cc = np.mgrid[0:10, 0:10]

    @window_rsrp_at
    def fn(site):
        r, c = study.grid.rowcol(site.geometry.x, site.geometry.y)
        d = np.hypot(rr - r, cc - c) * 100.0
        val = -65.0 - 0.02 * d + (5.0 if site["operator"] == "CT" else 0.0)
        return RsrpWindow(0, 0, val.astype(np.float32))
    return fn


@pytest.fixture
def toy_plan():
    study = toy_study(households=True)
    sig = toy_signal()
    return study, make_plan(study, sig, assess(study, sig), toy_rsrp(study))


def test_make_plan_on_toy(toy_plan):
    _study, plan = toy_plan
    assert plan.targets.target_ids == ["G4"]
    assert plan.claims.claims["tower_id"].tolist() == ["T2"]       # cheapest: share T2
    assert plan.selection.cost_wan == 25.0
    assert plan.backhaul.sites["status"].tolist() == ["fiber"]    # T2 is fiber-fed
    lines = plan_summary(plan)
    assert any("1 of 1 gap groups newly covered, 40 households" in s for s in lines)
    assert any("solver optimal, gap 0.00%" in s for s in lines)
    assert set(plan.timings) == {"candidates", "coverage", "select", "claim", "backhaul"}


def test_after_plan_sites(toy_plan):
    import datetime as dt

    study, plan = toy_plan
    due = dt.date(2020, 9, 30)
    ps = planned_sites(plan, due)
    assert ps["site_id"].tolist() == plan.claims.chosen["option_id"].tolist()
    assert set(ps["status"]) == {"planned"} and set(ps["on_air_date"]) == {due}
    after = study_with_plan(study, plan, due)
    assert len(after.sites) == len(study.sites) + len(ps)
    assert after.sites["site_id"].is_unique
    rem = plan_village_remedies(plan, due)
    assert rem[["village_id", "group_id"]].values.tolist() == [["V2", "G4"]]


def write_all(study, plan, out: Path) -> dict[str, str]:
    write_gpkg(out / "plan.gpkg", plan_layers(plan, study), {"version": "test"})
    write_csv(out / "plan.csv", plan_csv(plan))
    write_kml(out / "plan.kml", "规划 plan", plan_kml_folders(plan, study), "test")
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def test_outputs_are_deterministic(tmp_path):
    hashes = []
    for k in range(2):
        study = toy_study(households=True)
        sig = toy_signal()
        plan = make_plan(study, sig, assess(study, sig), toy_rsrp(study))
        hashes.append(write_all(study, plan, tmp_path / f"run{k}"))
    assert hashes[0] == hashes[1]
    layers = gpd.list_layers(tmp_path / "run0" / "plan.gpkg")["name"].tolist()
    assert layers[:6] == ["candidates", "chosen_sites", "claims", "groups_newly_covered",
                          "unreachable_groups", "backhaul_links"]
    text = (tmp_path / "run0" / "plan.kml").read_text(encoding="utf-8")
    root = ET.fromstring(text.encode("utf-8"))
    names = [e.text for e in root.iterfind(".//k:Placemark/k:name", KML_NS)]
    assert "T2 中国联通" in names
    csv = pd.read_csv(tmp_path / "run0" / "plan.csv")
    assert csv[["tower_id", "operator", "cost_wan"]].values.tolist() == [["T2", "CU", 25.0]]


def test_kml_escaping_colours_and_geometry():
    frame = gpd.GeoDataFrame(
        {"name": ["第1组 <&> \"x\"", "线"], "kind": ["a", "b"], "value": [1.5, np.nan]},
        geometry=[shapely.Polygon([(116.0, 30.0), (116.1, 30.0), (116.1, 30.1)]),
                  shapely.LineString([(116.0, 30.0), (116.2, 30.1)])], crs="EPSG:4326")
    doc = kml_document("测试", [KmlFolder("组", frame, "name", ["kind", "value"],
                                          KmlStyle("s", "#ff8000"), "kind",
                                          {"b": KmlStyle("t", "#0000ff")})])
    root = ET.fromstring(doc.encode("utf-8"))
    pm = root.findall(".//k:Placemark", KML_NS)
    assert pm[0].find("k:name", KML_NS).text == "第1组 <&> \"x\""
    assert pm[1].find("k:styleUrl", KML_NS).text == "#t"
    assert pm[0].find(".//k:Polygon//k:coordinates", KML_NS).text.startswith(
        "116.0000000,30.0000000 116.1000000,30.0000000")
    values = [d.find("k:value", KML_NS).text for d in pm[0].iterfind(".//k:Data", KML_NS)]
    assert values == ["a", "1.5"]
    assert kml_color("#ff8000") == "ff0080ff"
    assert kml_color("#ff8000", 0.5) == "800080ff"
    assert doc == kml_document("测试", [KmlFolder("组", frame, "name", ["kind", "value"],
                                                 KmlStyle("s", "#ff8000"), "kind",
                                                 {"b": KmlStyle("t", "#0000ff")})])
