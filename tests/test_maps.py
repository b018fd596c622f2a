"""Map layers as data: right features, right colours, escaped strings; GCJ-02; rasters;
determinism; offline assets; the index page and the overview picture.

The inputs are the hand-built toy study of ``tests/toy.py`` (a village called
``<img src=x onerror=alert(1)>``) with shared towers, sector azimuths, works of every
status, transformers on both sides of the kVA target, hazards, a plan and backhaul;
field measurements with an error in every colour step (one tester called
``<script>alert(1)</script>``) and a network after the plan.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image
from shapely.geometry import LineString

from coverage.assess import assess
from coverage.config import Config
from coverage.errors import ConfigError
from coverage.io import assets
from coverage.maps import (
    Basemap,
    Provenance,
    grid_map,
    index_page,
    inputs_map,
    map_frame,
    mobile_map,
    readiness_map,
    render,
)
from coverage.maps.core import MapFrame, TableLayer, esc, js_json, record_popup_html
from coverage.maps.gcj02 import gcj02_to_wgs84, in_china, wgs84_to_gcj02
from coverage.maps.labels import LABELS
from coverage.maps.layers import (
    HAZARD_COLORS,
    KVA_COLORS,
    LATE_OUTLINE,
    OVERDUE_OUTLINE,
    STATUS_COLORS,
    VERDICT_COLORS,
    WORK_COLORS,
    kva_class,
)
from coverage.maps.measurements import (
    ERROR_COLORS,
    NOT_COMPARED_COLOR,
    error_class,
    error_class_labels,
)
from coverage.maps.overview import overview_png
from coverage.maps.raster import RSRP_COLORS, classify_rsrp, rsrp_overlay
from coverage.maps.specs import grid_spec, mobile_spec, readiness_spec
from coverage.output.report import headline
from coverage.readiness import evaluate
from coverage.signal import SignalGrids
from tests.pages import english_words, page_texts, record_popups
from tests.toy import UTM50, cell_point, toy_study

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
PROV = Provenance(version="0.1.0", config_hash="cafe0123deadbeef", crs="EPSG:32650",
                  data="toy", generated="2020-10-01")


# --------------------------------------------------------------------------- inputs


def rich_signal() -> SignalGrids:
    """CMCC −90 dBm west / −120 east; CT −100 dBm on rows 0–2 only (so G3 is partial)."""
    cmcc = np.full((10, 10), -120.0, np.float32)
    cmcc[:, :5] = -90.0
    ct = np.full((10, 10), np.nan, np.float32)
    ct[:3, :] = -100.0
    cu = np.full((10, 10), np.nan, np.float32)
    best = {"CMCC": np.zeros((10, 10), np.int32),
            "CT": np.where(np.isnan(ct), -1, 2).astype(np.int32),
            "CU": np.full((10, 10), -1, np.int32)}
    return SignalGrids(rsrp={"CMCC": cmcc, "CT": ct, "CU": cu}, best_site=best)


def rich_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3", "S4"], "operator": ["CMCC", "CU", "CT", "CMCC"],
         "band": ["FDD900", "FDD1800", "FDD800", "TDD1900"],
         "height_m": [35.0, 30.0, 40.0, 30.0], "tower_id": ["T1", "T1", "T3", "T4"],
         "azimuths": [(0.0, 120.0, 240.0), (60.0, 180.0, 300.0), (), (90.0,)],
         "tilt_deg": [np.nan] * 4, "power_dbm": [np.nan] * 4, "gain_dbi": [np.nan] * 4,
         "status": ["on_air", "on_air", "on_air", "planned"],
         "on_air_date": [None, None, None, dt.date(2020, 9, 1)],
         "backhaul": ["fiber", "fiber", "microwave", "none"],
         "lon": [116.0] * 4, "lat": [30.7] * 4, "ground_m": [200.0] * 4},
        geometry=[cell_point(5, 2), cell_point(5, 2), cell_point(2, 7), cell_point(8, 3)],
        crs=UTM50)


def rich_study():
    grid_works = pd.DataFrame({
        "work_id": ["GW1", "GW2", "GW3"], "village_id": ["V1", "V2", "V2"],
        "category": ["台区改造", "线路新建", "<b>bold</b>"],
        "owner": ["县供电公司", "县供电公司", "Tom & Jerry"],
        "status": ["done", "in_progress", "planned"], "investment_wan": [12.5, 30.0, 8.0],
        "due": [dt.date(2020, 6, 30), dt.date(2020, 9, 30), dt.date(2020, 12, 1)],
        "done": [dt.date(2020, 6, 1), None, None], "kva_after": [np.nan, 400.0, np.nan]})
    mobile_works = gpd.GeoDataFrame({
        "work_id": ["MW1", "MW2"], "village_id": ["V2", "V1"], "operator": ["CU", "CMCC"],
        "category": ["新建基站", "共享改造"], "status": ["in_progress", "done"],
        "investment_wan": [45.0, 20.0], "site_id": [None, "S1"],
        "due": [dt.date(2020, 9, 30), dt.date(2020, 5, 1)],
        "done": [None, dt.date(2020, 4, 20)]},
        geometry=[cell_point(7, 7), cell_point(5, 2)], crs=UTM50)
    transformers = pd.DataFrame({"transformer_id": ["TR1", "TR2", "TR3"],
                                 "village_id": ["V1", "V2", "V2"],
                                 "kva": [200.0, 170.0, 100.0], "households": [100, 100, 80]})
    hazards = pd.DataFrame({"hazard_id": ["H1", "H2"], "village_id": ["V1", "V2"],
                            "found": [dt.date(2020, 3, 1)] * 2, "fixed": [True, False],
                            "category": ["树线矛盾", XSS]})
    return toy_study(sites=rich_sites(), grid_works=grid_works, mobile_works=mobile_works,
                     transformers=transformers, hazards=hazards)


def rich_plan() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    plan = gpd.GeoDataFrame(
        {"candidate_id": ["C1", "C2"], "site_id": ["N1", "N2"],
         "operators": [("CU", "CT"), ("CMCC",)], "cost_wan": [85.0, 60.0],
         "kind": ["new", "existing_tower"], "height_m": [40.0, 35.0],
         "groups": ["G4", ""], "lon": [None, None], "lat": [None, None]},
        geometry=[cell_point(8, 7), cell_point(8, 8)], crs=UTM50)
    links = gpd.GeoDataFrame(
        {"from": ["S1", "S3"], "to": ["N1", "N2"], "kind": ["microwave", "fiber"]},
        geometry=[LineString([cell_point(5, 2), cell_point(8, 7)]),
                  LineString([cell_point(2, 7), cell_point(8, 8)])], crs=UTM50)
    return plan, links


MEASURED = (
    # point, operator, cell, measured dBm, tester; with rich_signal(): error, class / status
    ("M1", "CMCC", (2, 1), -95.0, "李娜"),        # −90 predicted: +5 dB, class 2
    ("M2", "CMCC", (3, 3), -80.0, SCRIPT),        # −10 dB, class 1
    ("M3", "CMCC", (4, 1), -75.0, "李娜"),        # −15 dB, class 0
    ("M4", "CMCC", (6, 1), -99.0, "Tom & Jerry"),  # +9 dB, class 3
    ("M5", "CT", (1, 8), -114.0, "李娜"),         # −100 predicted: +14 dB, class 4
    ("M6", "CU", (2, 2), -90.0, SCRIPT),          # no CU site: no_prediction
    ("M7", "CMCC", (30, 30), -90.0, "李娜"),      # 2.5 km off the grid: outside_dem
)


def rich_measurements(study) -> gpd.GeoDataFrame:
    """:meth:`Comparison.error_layer` of :data:`MEASURED` against :func:`rich_signal`."""
    from coverage.evidence.compare import compare

    meas = gpd.GeoDataFrame(
        {"operator": [m[1] for m in MEASURED], "rsrp_dbm": [m[3] for m in MEASURED],
         "date": pd.to_datetime(["2020-09-0" + str(i + 1) for i in range(len(MEASURED))]),
         "tester": [m[4] for m in MEASURED], "point_id": [m[0] for m in MEASURED]},
        geometry=[cell_point(*m[2]) for m in MEASURED], crs=UTM50)
    return compare(study, rich_signal(), meas).error_layer()


def after_signal() -> SignalGrids:
    """:func:`rich_signal` plus a planned CU site: −80 dBm over the east half."""
    sig = rich_signal()
    cu = np.full((10, 10), np.nan, np.float32)
    cu[:, 5:] = -80.0
    best = dict(sig.best_site, CU=np.where(np.isnan(cu), -1, 1).astype(np.int32))
    return SignalGrids(rsrp=dict(sig.rsrp, CU=cu), best_site=best)


@pytest.fixture(scope="module")
def rich():
    study = rich_study()
    signal = rich_signal()
    assessment = assess(study, signal)
    readiness = evaluate(study, assessment)
    plan, links = rich_plan()
    return study, signal, assessment, readiness, plan, links


@pytest.fixture(scope="module")
def mobile(rich):
    study, signal, assessment, _, plan, links = rich
    return mobile_spec(study, signal, assessment, MapFrame(), plan, links)


# --------------------------------------------------------------------------- GCJ-02


def test_gcj02_matches_published_reference_values():
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    lon, lat = wgs84_to_gcj02(116.0, 40.0)
    assert lon == pytest.approx(116.006141221789, abs=1e-6)
    assert lat == pytest.approx(40.001213650174, abs=1e-6)
    lon, lat = gcj02_to_wgs84(123.0, 45.0)
    assert lon == pytest.approx(122.99395597, abs=1e-6)
    assert lat == pytest.approx(44.99804071, abs=1e-6)


def test_gcj02_inverse_round_trips_and_leaves_outside_china_alone():
    rng = np.random.default_rng(1)
    lon = rng.uniform(75, 135, 500)
    lat = rng.uniform(18, 53, 500)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back_lon - lon)) < 1e-9
    assert np.max(np.abs(back_lat - lat)) < 1e-9
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift_m = np.hypot((glon - lon) * 111_000 * np.cos(np.radians(lat)), (glat - lat) * 111_000)
    assert shift_m.min() > 10 and shift_m.max() < 1200  # hundreds of metres inside China
    assert not in_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_gaode_map_shifts_every_feature_and_tianditu_does_not(rich):
    study, _, assessment, *_ = rich
    wgs = mobile_spec(study, None, assessment, MapFrame("wgs84"))
    gcj = mobile_spec(study, None, assessment, map_frame(Basemap("gaode")))
    tdt = mobile_spec(study, None, assessment, map_frame(Basemap("tianditu", "abcdef0123456789")))
    assert gcj.datum == "gcj02" and tdt.datum == "wgs84"
    for key in ("sites_CMCC", "groups"):
        for fw, fg, ft in zip(wgs.layer(key).features, gcj.layer(key).features,
                              tdt.layer(key).features, strict=True):
            cw = np.array(shapely.get_coordinates(shapely.geometry.shape(fw["geometry"])))
            cg = np.array(shapely.get_coordinates(shapely.geometry.shape(fg["geometry"])))
            ct = np.array(shapely.get_coordinates(shapely.geometry.shape(ft["geometry"])))
            elon, elat = wgs84_to_gcj02(cw[:, 0], cw[:, 1])
            assert np.allclose(cg[:, 0], elon, atol=2e-6) and np.allclose(cg[:, 1], elat,
                                                                         atol=2e-6)
            assert np.array_equal(cw, ct)


def test_basemap_keys_are_checked():
    with pytest.raises(ConfigError, match="key"):
        Basemap("tianditu")
    with pytest.raises(ConfigError):
        Basemap("tianditu", 'abc"def</script>')
    with pytest.raises(ConfigError):
        Basemap("bing")
    html = render(grid_map(rich_study(), PROV, basemap=Basemap("tianditu", "0123456789abcdef")))
    assert "tianditu.gov.cn/vec_w" in html and "tk=0123456789abcdef" in html


# --------------------------------------------------------------------------- rasters


def test_rsrp_classes_follow_the_steps():
    values = np.array([-80, -85, -85.01, -95, -100, -105, -105.5, -115, -115.1, -140, np.nan])
    assert classify_rsrp(values).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0]


def test_rsrp_overlay_is_a_transparent_palette_png_in_mercator(rich):
    study, signal, *_ = rich
    grid = study.grid
    ov = rsrp_overlay(signal.rsrp["CMCC"], grid.transform, grid.crs, max_px=8)
    img = Image.open(io.BytesIO(ov.png))
    assert img.mode == "P" and max(img.size) <= 8 and img.info["transparency"] == 0
    classes = np.asarray(img)
    assert set(np.unique(classes)) <= {0, 2, 5}  # −90 dBm west, −120 dBm east
    assert (classes[:, 0] == 2).all() and (classes[:, -1] == 5).all()
    palette = img.getpalette()
    assert "#{:02x}{:02x}{:02x}".format(*palette[6:9]) == RSRP_COLORS[1]
    (s, w), (n, e) = ov.bounds
    vill = study.villages.to_crs("EPSG:4326").total_bounds
    assert w <= vill[0] + 1e-4 and s <= vill[1] + 1e-4 and e >= vill[2] - 1e-4
    assert n >= vill[3] - 1e-4
    ct = rsrp_overlay(signal.rsrp["CT"], grid.transform, grid.crs, max_px=10)
    assert (np.asarray(Image.open(io.BytesIO(ct.png)))[-1] == 0).all()  # no signal: clear


def test_gcj02_overlay_moves_with_the_shift(rich):
    study, signal, *_ = rich
    grid = study.grid
    a = rsrp_overlay(signal.rsrp["CMCC"], grid.transform, grid.crs, "wgs84", max_px=50)
    b = rsrp_overlay(signal.rsrp["CMCC"], grid.transform, grid.crs, "gcj02", max_px=50)
    (s, w), (n, e) = a.bounds
    glon, glat = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
    (gs, gw), (gn, ge) = b.bounds
    px_lon, px_lat = (e - w) / a.shape[1], (n - s) / a.shape[0]
    # the north-west corner moves exactly with the shift; the far edges to within a pixel
    assert gw == pytest.approx(glon[0], abs=1e-6) and gn == pytest.approx(glat[1], abs=1e-6)
    assert abs(ge - glon[1]) <= 1.01 * px_lon and abs(gs - glat[0]) <= 1.01 * px_lat
    assert (np.count_nonzero(b.classes == 2) == pytest.approx(
        np.count_nonzero(a.classes == 2), rel=0.1))


def test_mobile_map_has_any_operator_overlay_first_and_only_it_shown(mobile):
    keys = [k for k in mobile.layer_keys() if k.startswith("rsrp_")]
    assert keys == ["rsrp_ANY", "rsrp_CMCC", "rsrp_CT", "rsrp_CU"]
    assert [mobile.layer(k).show for k in keys] == [True, False, False, False]
    legend = {s.title: s for s in mobile.legend}
    steps = legend[LABELS["zh"]["rsrp_steps"]]
    assert [i.color for i in steps.items] == list(RSRP_COLORS)
    assert set(steps.layer_keys) == set(keys)


# --------------------------------------------------------------------------- vector layers


def test_groups_coloured_by_any_operator_status_with_shares(mobile, rich):
    groups = mobile.layer("groups").by_id()
    assert {g: p["status"] for g, p in groups.items()} == {
        "G1": "covered", "G2": "covered", "G3": "partial", "G4": "uncovered"}
    for props in groups.values():
        assert props["style"]["fillColor"] == STATUS_COLORS[props["status"]]
    g3 = groups["G3"]["popup"]
    assert "60 %" in g3  # 3 of 5 rows of CT signal
    assert esc(XSS) in g3 and XSS not in g3  # the village's name, escaped
    assert "=cmd|&#x27; /C calc&#x27;!A0" in g3
    assert "中国移动" in g3 and "任一运营商" in g3


def test_sites_per_operator_with_wedges_and_shared_towers(mobile):
    cmcc = mobile.layer("sites_CMCC")
    wedges = [f for f in cmcc.features if f["properties"].get("wedge")]
    assert len(wedges) == 4  # S1: 3 sectors, S4: 1
    sites = {k: v for k, v in cmcc.by_id().items() if "@" not in k}
    assert set(sites) == {"S1", "S4"}
    assert sites["S1"]["shared"] and sites["S1"]["style"]["color"] == "#000000"
    assert sites["S1"]["style"]["fillColor"] == "#0085d0"
    assert "中国联通" in sites["S1"]["popup"]  # co-tenant
    assert sites["S4"]["pending"] and "dashArray" in sites["S4"]["style"]
    ct = mobile.layer("sites_CT").by_id()
    assert list(ct) == ["S3"] and not ct["S3"]["shared"]
    assert ct["S3"]["style"]["fillColor"] == "#2e7d32"
    # a wedge points along its azimuth: S1's 120° sector lies east-south-east of the site
    site = shapely.geometry.shape(next(f for f in cmcc.features
                                       if f["properties"]["id"] == "S1")["geometry"])
    w120 = shapely.geometry.shape(next(f for f in wedges
                                       if f["properties"]["id"] == "S1@120")["geometry"])
    c = w120.centroid
    assert c.x > site.x and c.y < site.y


def test_plan_backhaul_and_points(mobile):
    plan = mobile.layer("plan").by_id()
    assert plan["N1"]["claim"] == "CU" and plan["N1"]["style"]["fillColor"] == "#e60012"
    assert "85.0" in plan["N1"]["popup"] and "中国电信" in plan["N1"]["popup"]
    assert plan["N2"]["claim"] == "CMCC" and plan["N1"]["marker"] == "star"
    links = mobile.layer("backhaul").features
    kinds = {f["properties"]["kind"]: f["properties"]["style"] for f in links}
    assert kinds["microwave"].get("dashArray") and "dashArray" not in kinds["fiber"]
    points = mobile.layer("points").by_id()
    assert {p: v["covered"] for p, v in points.items()} == {
        "P1": True, "P2": True, "P3": False, "P4": True}
    assert points["P3"]["style"]["fillColor"] == STATUS_COLORS["uncovered"]


def _as_of(study, day):
    import dataclasses

    cfg = study.config
    return dataclasses.replace(study, config=cfg.model_copy(update={
        "readiness": cfg.readiness.model_copy(update={"as_of": day})}))


def test_pending_site_past_its_on_air_date_is_overdue_on_the_map(rich):
    # S4 is planned, on air due 2020-09-01: not late in August, 29 days late on 30 September
    study, assessment = rich[0], rich[2]
    early = mobile_spec(_as_of(study, dt.date(2020, 8, 15)), None, assessment, MapFrame())
    s4 = early.layer("sites_CMCC").by_id()["S4"]
    assert s4["style"]["color"] != OVERDUE_OUTLINE and "逾期" not in s4["popup"]
    late = mobile_spec(_as_of(study, dt.date(2020, 9, 30)), None, assessment, MapFrame())
    s4 = late.layer("sites_CMCC").by_id()["S4"]
    assert s4["style"]["color"] == OVERDUE_OUTLINE and "逾期29天" in s4["popup"]
    def site_legend(spec):
        return [item.label for section in spec.legend for item in section.items
                if item.label.startswith("计划 / 在建")]

    assert site_legend(late) == ["计划 / 在建", "计划 / 在建 · 逾期"]
    assert site_legend(early) == ["计划 / 在建"]


def committed_signal() -> SignalGrids:
    """:func:`rich_signal` once S4 (planned CMCC, row 3 of the sites) is on air: −85 dBm
    over the south-east quarter, which is G4 (uncovered today)."""
    sig = rich_signal()
    cmcc = sig.rsrp["CMCC"].copy()
    cmcc[5:, 5:] = -85.0
    best = sig.best_site["CMCC"].copy()
    best[5:, 5:] = 3
    return SignalGrids(rsrp=dict(sig.rsrp, CMCC=cmcc), best_site=dict(sig.best_site, CMCC=best))


def claimed_study(study):
    """``study`` as of 2020-09-30 with S4 (planned CMCC, due 2020-09-01) claimed by RL1
    (and by RL0, withdrawn)."""
    import dataclasses

    claims = pd.DataFrame({"claim_id": ["RL0", "RL1"], "operator": ["CMCC", "CMCC"],
                           "site_id": ["S4", "S4"], "claimed_on": ["2020-02-01", "2020-03-01"],
                           "due": ["2020-05-01", "2020-09-01"],
                           "status": ["withdrawn", "claimed"]})
    return dataclasses.replace(_as_of(study, dt.date(2020, 9, 30)), claims=claims)


def test_group_popup_names_the_claimed_site_that_will_cover_it(rich):
    # S4 (planned, due 2020-09-01) is claimed by RL1; on air it covers G4, uncovered today
    from coverage.assess import group_serving_sites

    study, assessment = claimed_study(rich[0]), rich[2]
    serving = group_serving_sites(study, committed_signal())
    assert serving.set_index("group_id").at["G4", "sites_CMCC"] == "S4"
    spec = mobile_spec(study, rich_signal(), assessment, MapFrame(), committed_serving=serving)
    groups = spec.layer("groups").by_id()
    g4 = groups["G4"]["popup"]
    assert "<th>认领/在建站点将覆盖</th><td>S4（中国移动，认领RL1，计划开通2020-09-01，" \
           "逾期29天）</td>" in g4
    # a group covered today names no coming site; before the due day nothing is late
    assert all("认领/在建站点将覆盖" not in groups[g]["popup"] for g in ("G1", "G2", "G3"))
    early = mobile_spec(_as_of(study, dt.date(2020, 8, 15)), rich_signal(), assessment,
                        MapFrame(), committed_serving=serving)
    g4 = early.layer("groups").by_id()["G4"]["popup"]
    assert "S4（中国移动，认领RL1，计划开通2020-09-01）" in g4 and "逾期" not in g4
    # without the committed network's serving sites the row is absent
    plain = mobile_spec(study, rich_signal(), assessment, MapFrame())
    assert "认领/在建站点将覆盖" not in plain.layer("groups").by_id()["G4"]["popup"]


def test_english_group_popup_names_the_claimed_site(rich):
    import dataclasses

    from coverage.assess import group_serving_sites

    study, assessment = rich[0], rich[2]
    cfg = study.config.model_copy(update={"language": "en"})
    study = _as_of(dataclasses.replace(study, config=cfg), dt.date(2020, 9, 30))
    serving = group_serving_sites(study, committed_signal())
    spec = mobile_spec(study, rich_signal(), assessment, MapFrame(), committed_serving=serving)
    g4 = spec.layer("groups").by_id()["G4"]["popup"]
    assert "<th>Claimed or building site to cover it</th><td>S4 (China Mobile, due on air " \
           "2020-09-01, 29 days late)</td>" in g4


def test_group_popups_travel_as_data_and_render_as_their_html(mobile):
    # the page builds each group popup from a few indices into the layer's strings
    layer = mobile.layer("groups")
    data = layer.geojson()
    strings = data["strings"]
    assert len(strings) == len(set(strings))
    by_id = layer.by_id()
    for f in data["features"]:
        props = f["properties"]
        assert "popup" not in props and "style" not in props
        assert data["styles"][props["si"]] == by_id[props["id"]]["style"]
        assert record_popup_html(strings, props["pk"]) == by_id[props["id"]]["popup"]
    # every string arrives escaped: the hostile village name is text
    assert esc(XSS) in strings and XSS not in strings


def test_the_zh_words_check_reads_the_popups_built_in_the_page(rich):
    # the "no English words in a zh run" check reads a page's popups; group popups are
    # built in the page from records, and the check must still see (and fail on) them
    study, signal, assessment, _, plan, links = rich
    html = render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links))
    built = record_popups(html)
    assert len(built) >= 4 and "cov-title'>第4组" not in html  # no pre-rendered popup
    group = next(t for t in page_texts(html) if "第4组" in t and "户数" in t)
    assert "中国移动" in group and XSS in group  # as the user reads it: entities resolved
    # the toy village name <img src=x onerror=alert(1)> is English to the check
    assert {"onerror", "alert"} <= english_words(group)
    assert not english_words(next(t for t in page_texts(html) if "第1组" in t and "户数" in t))


def test_works_by_status_placed_in_their_village(rich):
    study = _as_of(rich[0], dt.date(2020, 1, 1))
    spec = grid_spec(study, MapFrame())
    layers = {k: spec.layer(k) for k in spec.layer_keys() if k.startswith("grid_works_")}
    # GW3 (due 2020-12-01) finishes after the inspection (2020-10-31): its own layer
    assert {k: list(v.by_id()) for k, v in layers.items()} == {
        "grid_works_planned": [], "grid_works_in_progress": ["GW2"],
        "grid_works_done": ["GW1"], "grid_works_late_inspection": ["GW3"],
        "grid_works_overdue": []}
    gw3 = layers["grid_works_late_inspection"].by_id()["GW3"]
    assert gw3["style"]["color"] == LATE_OUTLINE and gw3["style"]["dashArray"]
    assert "验收后完工" in gw3["popup"] and "2020-10-31" in gw3["popup"]
    entries = [i.label for sec in spec.legend for i in sec.items]
    assert "验收后完工" in entries and "逾期" in entries
    # on a later day the open works are overdue: their own layer, style and legend entry
    late = grid_spec(_as_of(rich[0], dt.date(2030, 1, 1)), MapFrame())
    overdue = late.layer("grid_works_overdue").by_id()
    assert sorted(overdue) == ["GW2", "GW3"]
    assert overdue["GW2"]["style"]["color"] == "#d50000"
    assert "逾期" in overdue["GW2"]["popup"]
    assert gw3["style"]["fillColor"] == WORK_COLORS["late_inspection"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in gw3["popup"] and "Tom &amp; Jerry" in gw3["popup"]
    assert "2020-12-01" in gw3["popup"] and "8.0" in gw3["popup"]
    # works without geometry sit inside their own village
    v2 = study.villages.to_crs("EPSG:4326").set_index("village_id").geometry["V2"]
    for layer in layers.values():
        for f in layer.features:
            if f["properties"]["id"] in ("GW2", "GW3"):
                assert v2.contains(shapely.geometry.shape(f["geometry"]))


def test_transformers_coloured_against_the_kva_target(rich):
    spec = grid_spec(rich[0], MapFrame())
    # below the target: shown; meeting it: a layer of its own, off on opening
    tr = spec.layer("transformers").by_id()
    ok = spec.layer("transformers_ok").by_id()
    assert spec.layer("transformers").show and not spec.layer("transformers_ok").show
    assert {t: p["kva_class"] for t, p in tr.items()} == {"TR2": 1, "TR3": 0}
    assert {t: p["kva_class"] for t, p in ok.items()} == {"TR1": 2}
    tr.update(ok)
    assert [tr[t]["style"]["fillColor"] for t in ("TR3", "TR2", "TR1")] == list(KVA_COLORS)
    assert kva_class(2.0, 2.0) == 2 and kva_class(1.5, 2.0) == 1 and kva_class(1.49, 2.0) == 0


def test_raster_and_vector_classes_never_share_a_colour():
    from coverage.maps.layers import HAZARD_COLORS as HZ
    from coverage.maps.layers import KVA_COLORS as KVA
    from coverage.maps.layers import POINT_COLORS
    from coverage.maps.raster import RSRP_COLORS

    vector = {*STATUS_COLORS.values(), *POINT_COLORS.values(), *WORK_COLORS.values(),
              *VERDICT_COLORS.values(), *HZ.values(), *KVA}
    raster = set(RSRP_COLORS)
    assert len(raster) == 5 and not raster & vector
    # the uncovered group is no longer the colour of the weakest raster class
    assert STATUS_COLORS["uncovered"] != RSRP_COLORS[-1]


def test_grid_map_village_popup_gives_the_grid_facts(rich):
    study = _as_of(rich[0], dt.date(2020, 10, 1))
    spec = grid_spec(study, MapFrame())
    villages = spec.layer("villages").by_id()
    v2 = villages["V2"]["popup"]
    assert "户均配变容量" in v2 and "kVA/户" in v2
    # GW2 due 2020-09-30 and open on 2020-10-01: overdue; GW3 due after the inspection
    assert "未完工电网工程" in v2 and "逾期 1" in v2 and "验收后完工 1" in v2
    assert "未整改隐患/隐患数" in v2


def test_hazards_open_and_fixed(rich):
    spec = grid_spec(rich[0], MapFrame())
    open_ = spec.layer("hazards_open").by_id()
    fixed = spec.layer("hazards_fixed").by_id()
    assert list(open_) == ["H2"] and list(fixed) == ["H1"]
    assert open_["H2"]["style"]["fillColor"] == HAZARD_COLORS["open"]
    assert esc(XSS) in open_["H2"]["popup"] and XSS not in open_["H2"]["popup"]


def test_readiness_layers_search_and_findings(rich):
    study, _, _, readiness, *_ = rich
    spec = readiness_spec(study, readiness, MapFrame())
    verdicts = readiness.villages.set_index("village_id")["verdict"].to_dict()
    for vid, verdict in verdicts.items():
        props = spec.layer(f"verdict_{verdict}").by_id()[vid]
        assert props["style"]["fillColor"] == VERDICT_COLORS[verdict]
    v2 = spec.layer(f"verdict_{verdicts['V2']}").by_id()["V2"]
    assert esc(XSS) in v2["popup"] and XSS not in v2["popup"]
    assert "移动网工程完工" in v2["popup"] and "核查结论" in v2["popup"]
    assert {s["id"]: s["name"] for s in spec.search} == {"V1": "石关村", "V2": XSS}


def test_english_labels_follow_the_config():
    assert set(LABELS["zh"]) == set(LABELS["en"])
    study = toy_study(config=Config(language="en"))
    spec = grid_spec(study, MapFrame())
    assert spec.title == "Grid works and power-line hazards"
    assert spec.layer("villages").name == "Village boundaries"


# --------------------------------------------------------------------------- HTML


def test_html_escapes_every_user_string_and_is_deterministic(rich):
    study, signal, assessment, readiness, plan, links = rich
    pages = [render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links)),
             render(grid_map(study, PROV)), render(readiness_map(study, readiness, PROV)),
             render(inputs_map(study, PROV))]
    for html in pages:
        tags = _start_tags(html)
        assert "img" not in tags and "b" not in tags  # no user string became markup
        # outside scripts, the hostile name never appears unescaped
        assert XSS not in re.sub(r"<script>.*?</script>", "", html, flags=re.S)
        assert "cafe0123deadbeef" in html
    again = render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links))
    assert again == pages[0]
    assert render(readiness_map(study, readiness, PROV)) == pages[2]


def _start_tags(html: str) -> set[str]:
    """Tag names of the document's elements (script bodies are text, as in a browser)."""
    from html.parser import HTMLParser

    seen: set[str] = set()

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.add(tag)

    Tags().feed(html)
    return seen


def test_js_json_cannot_close_a_script():
    import json

    value = {"a": "</script><script>alert(1)</SCRIPT >", "b": "<!--<script>", "c": "\u2028&"}
    text = js_json(value)
    assert "</" not in text and "<!--" not in text and "\u2028" not in text
    assert json.loads(text) == value


def _asset_urls(html: str) -> list[str]:
    """Every script and style sheet the page loads: Leaflet's in the head, then the tools
    appended after the first frame (coverage.maps.tools)."""
    head = re.findall(r'<script src="([^"]+)"', html) + re.findall(
        r'<link rel="stylesheet" href="([^"]+)"', html)
    late = re.findall(r"files = (\{.*?\}), text = ", html)
    assert len(late) == 1
    files = json.loads(late[0])
    return head + files["js"] + files["css"]


def test_offline_maps_load_every_script_from_the_assets_folder(rich):
    study, _, _, readiness, *_ = rich
    offline = render(readiness_map(study, readiness, PROV, offline_assets="assets"))
    online = render(readiness_map(study, readiness, PROV))
    urls = _asset_urls(offline)
    assert len(urls) == 6
    # only Leaflet itself is on the path to the first view; the tools come after it
    assert re.findall(r'<script src="([^"]+)"', offline) == [
        "assets/leaflet@1.9.4/dist/leaflet.js"]
    assert all(u.startswith("assets/") for u in urls), urls
    assert "assets/leaflet@1.9.4/dist/leaflet.js" in urls
    assert "assets/leaflet-measure@3.1.0/dist/leaflet-measure.cn.js" in urls
    assert all(u.startswith(assets.CDN_BASE) for u in _asset_urls(online))
    assert [u.split("/", 1)[1] for u in urls] == [
        u[len(assets.CDN_BASE) + 1:] for u in _asset_urls(online)]
    for rel in urls:  # every referenced file is in the pinned manifest
        spec, path = rel.split("/", 1)[1].split("/", 1)
        pkg = next(p for p in assets.PACKAGES if p.spec == spec)
        assert path in pkg.files


def test_asset_tarball_is_checked_against_the_pinned_digests():
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in assets.FULLSCREEN.files:
            data = b"tampered"
            info = tarfile.TarInfo("package/" + path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(assets.AssetError, match="SHA-256"):
        assets._extract(assets.FULLSCREEN, buf.getvalue())


def test_missing_assets_are_reported_with_the_fix(tmp_path):
    assert len(assets.missing_assets(tmp_path)) == sum(len(p.files) for p in assets.PACKAGES)
    with pytest.raises(assets.AssetError, match=r"coverage\.io\.assets install"):
        assets.locate_assets(tmp_path)


def test_index_page_escapes_and_links(rich):
    study, signal, assessment, readiness, *_ = rich
    cfg = study.config.model_copy(update={"county_name": "<script>alert(1)</script>县"})
    png = overview_png(study, signal, assessment, readiness, dpi=40)
    html = index_page(cfg, headline(study, assessment, readiness), PROV, overview_png=png)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;县" in html
    for href in ("mobile.html", "grid.html", "readiness.html", "report.html"):
        assert f'href="{href}"' in html
    assert "data:image/png;base64," in html and "cafe0123deadbeef" in html
    with pytest.raises(ValueError):
        index_page(cfg, headline(study, assessment, readiness), PROV,
                   links={"javascript:alert(1)": "x"})


def test_overview_png_is_deterministic(rich):
    study, signal, assessment, readiness, *_ = rich
    a = overview_png(study, signal, assessment, readiness, dpi=40)
    b = overview_png(study, signal, assessment, readiness, dpi=40)
    assert a == b and a.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(a)).size == (480, 280)  # 12 × 7 inches: legends below the maps


def test_build_pages_gives_every_output(rich):
    from coverage.maps import build_pages

    study, signal, assessment, readiness, plan, links = rich
    pages = build_pages(study, signal, assessment, readiness, PROV, plan=plan, backhaul=links,
                        offline_assets="assets")
    assert sorted(pages) == ["grid.html", "index.html", "inputs.html", "mobile.html",
                             "overview.png", "readiness.html"]
    assert isinstance(pages["overview.png"], bytes)
    for name in ("mobile.html", "grid.html", "readiness.html", "inputs.html"):
        assert 'src="assets/leaflet@1.9.4/dist/leaflet.js"' in pages[name]
    for href in ("mobile.html", "grid.html", "readiness.html", "inputs.html"):
        assert f'href="{href}"' in pages["index.html"]


def test_every_layer_has_a_legend(rich):
    from coverage.maps.specs import inputs_spec

    study, signal, assessment, readiness, plan, links = rich
    frame = MapFrame()
    for spec in (mobile_spec(study, signal, assessment, frame, plan, links),
                 grid_spec(study, frame), readiness_spec(study, readiness, frame),
                 inputs_spec(study, frame)):
        explained = {k for section in spec.legend for k in section.layer_keys}
        assert set(spec.layer_keys()) <= explained, spec.title


def distance_signal(study) -> SignalGrids:
    """A simple distance-law RSRP (dBm) from the study's sites, NaN below −130 dBm."""
    rows, cols = study.grid.elevation.shape
    r, c = np.mgrid[0:rows, 0:cols]
    xs, ys = study.grid.xy(r, c)
    rsrp, best = {}, {}
    for op in study.config.operators:
        out = np.full((rows, cols), np.nan, np.float32)
        idx = np.full((rows, cols), -1, np.int32)
        for i, g in zip(study.sites.index, study.sites.geometry, strict=True):
            if study.sites.loc[i, "operator"] != op:
                continue
            value = (-50.0 - 35.0 * np.log10(np.hypot(xs - g.x, ys - g.y) / 100.0 + 1e-3))
            better = ~(value <= out)
            out = np.where(better, value, out).astype(np.float32)
            idx = np.where(better, i, idx)
        out[out < -130] = np.nan
        rsrp[op], best[op] = out, idx
    return SignalGrids(rsrp=rsrp, best_site=best)


def test_maps_of_the_tiny_data_folder(tiny_data):
    from coverage.maps import build_pages
    from coverage.study import load_study

    study = load_study(tiny_data, Config())
    signal = distance_signal(study)
    assessment = assess(study, signal)
    readiness = evaluate(study, assessment)
    frame = MapFrame()
    spec = mobile_spec(study, signal, assessment, frame)
    cmcc = spec.layer("sites_CMCC").by_id()
    assert cmcc["S1"]["shared"] and cmcc["S4"]["pending"]
    assert len([k for k in cmcc if k.startswith("S1@")]) == 3
    hazards = grid_spec(study, frame)
    assert "2020-04-10" in hazards.layer("hazards_open").by_id()["H2"]["popup"]
    assert "00:00" not in hazards.layer("hazards_open").by_id()["H2"]["popup"]
    pages = build_pages(study, signal, assessment, readiness, PROV)
    assert "岳西县石关村" in pages["readiness.html"]
    assert all(len(v) < 2_000_000 for v in pages.values())


# --------------------------------------------------------------------------- measurements


@pytest.fixture(scope="module")
def measured(rich):
    study, signal, assessment, _, plan, links = rich
    frame = rich_measurements(study)
    spec = mobile_spec(study, signal, assessment, MapFrame(), plan, links,
                       measurements=frame, after_signal=after_signal())
    return frame, spec


def test_error_classes_follow_the_steps():
    err = [-30.0, -12.0, -11.9, -6.01, -6.0, 0.0, 6.0, 6.01, 11.99, 12.0, 40.0, np.nan]
    assert error_class(err).tolist() == [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, -1]
    assert error_class_labels(LABELS["en"]) == [
        "≤ -12 (prediction too low)", "-12 … -6", "-6 … +6", "+6 … +12",
        "≥ +12 (prediction too high)"]


def test_error_layers_colour_by_step_and_hold_only_compared_rows(measured):
    frame, spec = measured
    assert frame["status"].tolist() == ["ok"] * 5 + ["no_prediction", "outside_dem"]
    keys = [k for k in spec.layer_keys() if k.startswith("errors_")]
    assert keys == ["errors_CMCC", "errors_CT", "errors_not_compared"]  # no CU row is ok
    assert not any(spec.layer(k).show for k in keys)
    cmcc, ct = spec.layer("errors_CMCC").records(), spec.layer("errors_CT").records()
    lab = LABELS["zh"]
    got = {r["title"]: (r["class"], r["style"]["fillColor"], r[lab["error_db"]])
           for r in (*cmcc.values(), *ct.values())}
    assert got == {"M1": (2, ERROR_COLORS[2], "+5.0"), "M2": (1, ERROR_COLORS[1], "-10.0"),
                   "M3": (0, ERROR_COLORS[0], "-15.0"), "M4": (3, ERROR_COLORS[3], "+9.0"),
                   "M5": (4, ERROR_COLORS[4], "+14.0")}
    m5 = next(r for r in ct.values() if r["title"] == "M5")
    assert m5[lab["measured"]] == "-114.0" and m5[lab["predicted"]] == "-100.0"
    assert m5[lab["operator"]] == "中国电信" and m5[lab["meas_date"]] == "2020-09-05"
    assert m5[lab["serving_site"]] == "S3"
    # the extreme errors are drawn last (on top); the ids are the measurement file rows
    assert [cmcc[i]["title"] for i in cmcc] == ["M1", "M2", "M4", "M3"]
    assert list(cmcc) == ["1", "2", "4", "3"]
    skipped = spec.layer("errors_not_compared").records()
    assert [r["title"] for r in skipped.values()] == ["M6", "M7"]
    assert {r["style"]["fillColor"] for r in skipped.values()} == {NOT_COMPARED_COLOR}
    assert skipped["6"][lab["status"]] == lab["no_prediction"]
    assert skipped["6"][lab["reason"]] == "no CU site predicted to reach this place"
    assert skipped["7"][lab["status"]] == lab["outside_dem"]
    legend = {s.title: s for s in spec.legend}
    steps = legend[lab["error_steps"]]
    assert [i.color for i in steps.items] == list(ERROR_COLORS)
    assert steps.layer_keys == ("errors_CMCC", "errors_CT")
    assert legend[lab["not_compared"]].layer_keys == ("errors_not_compared",)


def test_measurement_popups_escape_the_tester(measured, rich):
    frame, spec = measured
    lab = LABELS["zh"]
    cmcc = spec.layer("errors_CMCC").records()
    assert cmcc["2"][lab["tester"]] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert cmcc["4"][lab["tester"]] == "Tom &amp; Jerry"
    assert spec.layer("errors_not_compared").records()["6"][lab["tester"]] == esc(SCRIPT)
    study, signal, assessment, _, plan, links = rich
    html = render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links,
                             measurements=frame, after_signal=after_signal()))
    assert SCRIPT not in html and "alert(1)</" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # as text, inside the JSON
    tags = _start_tags(html)
    assert "img" not in tags and "b" not in tags
    again = render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links,
                              measurements=frame, after_signal=after_signal()))
    assert again == html


def test_table_layer_stores_repeated_cells_once():
    layer = TableLayer("t", "t", ("a", "b", "c"), ({"fillColor": "#000000"},))
    for i in range(6):
        layer.add(116.0 + i / 100, 30.0, i, 0, "P", ("same", f"v{i % 2}", f"u{i}"))
    layer.add(float("nan"), 30.0, 99, 0, "P", ("x", "y", "z"))  # no position: left out
    data = layer.payload()
    assert data["ids"] == ["0", "1", "2", "3", "4", "5"] and data["title"] == {"codes": ["P"]}
    assert data["cols"] == [{"codes": ["same"]}, {"codes": ["v0", "v1"], "v": [0, 1] * 3},
                            {"v": [f"u{i}" for i in range(6)]}]
    with pytest.raises(ValueError):
        layer.add(116.0, 30.0, 7, 1, "P", ("a", "b", "c"))  # no class 1


def test_measurement_layers_stay_small(rich):
    """Thousands of measurements cost well under 100 bytes of HTML each."""
    from coverage.evidence.compare import compare

    study, signal, assessment, *_ = rich
    rng = np.random.default_rng(8)
    n = 3000
    rows, cols = rng.uniform(0, 10, n), rng.uniform(0, 5, n)  # CMCC's −90 dBm half
    meas = gpd.GeoDataFrame(
        {"operator": "CMCC", "rsrp_dbm": np.round(rng.normal(-90, 7, n)),
         "date": pd.to_datetime("2020-09-01") + pd.to_timedelta(rng.integers(0, 30, n), "D"),
         "tester": rng.choice(["李娜", "王强", "张伟"], n),
         "point_id": [f"V1-P{i // 3:04d}" for i in range(n)]},
        geometry=[cell_point(r - 0.5, c - 0.5) for r, c in zip(rows, cols, strict=True)],
        crs=UTM50)
    frame = compare(study, signal, meas).error_layer()
    assert (frame["status"] == "ok").all()
    base = render(mobile_map(study, signal, assessment, PROV))
    html = render(mobile_map(study, signal, assessment, PROV, measurements=frame))
    assert (len(html.encode()) - len(base.encode())) / n < 100
    assert len(mobile_spec(study, signal, assessment, MapFrame(),
                           measurements=frame).layer("errors_CMCC")) == n


def test_measurements_shift_with_a_gaode_basemap(rich, measured):
    study, _, assessment, *_ = rich
    frame = measured[0]
    wgs = mobile_spec(study, None, assessment, MapFrame(), measurements=frame)
    gcj = mobile_spec(study, None, assessment, map_frame(Basemap("gaode")), measurements=frame)
    for key in ("errors_CMCC", "errors_not_compared"):
        a, b = wgs.layer(key), gcj.layer(key)
        glon, glat = wgs84_to_gcj02(np.array(a.lon), np.array(a.lat))
        assert np.allclose(b.lon, glon, atol=2e-6) and np.allclose(b.lat, glat, atol=2e-6)
        assert not np.allclose(b.lon, a.lon, atol=1e-4)


def test_after_plan_overlay_only_when_given(rich, mobile, measured):
    study, signal, assessment, *_ = rich
    assert "rsrp_ANY_after" not in mobile.layer_keys()
    spec = measured[1]
    keys = [k for k in spec.layer_keys() if k.startswith("rsrp_")]
    assert keys == ["rsrp_ANY", "rsrp_ANY_after", "rsrp_CMCC", "rsrp_CT", "rsrp_CU"]
    after = spec.layer("rsrp_ANY_after")
    assert not after.show and after.name == "预测RSRP · 任一运营商·规划实施后"
    assert after.bounds == spec.layer("rsrp_ANY").bounds
    rsrp_legend = next(s for s in spec.legend if s.title == LABELS["zh"]["rsrp_steps"])
    assert "rsrp_ANY_after" in rsrp_legend.layer_keys

    def classes(layer) -> np.ndarray:  # palette index = class (1: ≥ −85 dBm)
        return np.asarray(Image.open(io.BytesIO(layer.png)))

    # the planned CU site lifts the east half to −80 dBm (class 1); today nothing reaches it
    assert np.count_nonzero(classes(after) == 1) > 0.4 * classes(after).size
    assert np.count_nonzero(classes(spec.layer("rsrp_ANY")) == 1) == 0
    alone = mobile_spec(study, None, assessment, MapFrame(), after_signal=after_signal())
    assert [k for k in alone.layer_keys() if k.startswith("rsrp_")] == ["rsrp_ANY_after"]
    wrong = SignalGrids(rsrp={"CMCC": np.zeros((5, 5), np.float32)}, best_site={})
    with pytest.raises(ValueError, match="grid"):
        mobile_spec(study, signal, assessment, MapFrame(), after_signal=wrong)


def test_default_pages_unchanged_without_the_new_inputs(rich, measured):
    from coverage.maps import build_pages

    study, signal, assessment, readiness, plan, links = rich
    frame = measured[0]
    plain = render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links))
    assert "tableLayer" not in plain and "rsrp_ANY_after" not in plain
    assert render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links,
                             measurements=frame.iloc[:0], after_signal=None)) == plain
    pages = build_pages(study, signal, assessment, readiness, PROV, plan=plan, backhaul=links)
    more = build_pages(study, signal, assessment, readiness, PROV, plan=plan, backhaul=links,
                       measurements=frame, after_signal=after_signal())
    assert pages["mobile.html"] == plain
    assert "errors_CMCC" in more["mobile.html"] and "rsrp_ANY_after" in more["mobile.html"]
    assert {k for k in pages if pages[k] != more[k]} == {"mobile.html"}


def test_measurement_labels_in_english(rich):
    signal = rich[1]
    en = toy_study(config=Config(language="en"), sites=rich_sites())
    spec = mobile_spec(en, signal, assess(en, signal), MapFrame(),
                       measurements=rich_measurements(en), after_signal=after_signal())
    assert spec.layer("errors_CMCC").name == "Measurement error · China Mobile"
    assert spec.layer("errors_not_compared").name == "Measurements · not compared"
    assert spec.layer("rsrp_ANY_after").name == "Predicted RSRP · Any operator after the plan"
    rec = spec.layer("errors_not_compared").records()["7"]
    assert rec["Status"] == "outside the DEM" and rec["Tester"] == "李娜"


def test_data_of_layers_off_on_opening_follows_the_page_script(rich, mobile):
    # the first view is built from the data above the page's script; the layers switched
    # off on opening have theirs after it (parsed while the first view is drawn), each once
    study, signal, assessment, _, plan, links = rich
    html = render(mobile_map(study, signal, assessment, PROV, plan=plan, backhaul=links))
    script = html.index("coverage.ready = true")
    ids = re.findall(r'coverage\.(?:feed\(\w+, |imageLayer\(|tableLayer\()"([\w-]+)"', html)
    shown = {k: mobile.layer(k).show for k in mobile.layer_keys()}
    assert sorted(ids) == sorted(set(ids)) and len(ids) == len(shown)
    keys = re.findall(r'coverage\.layers\[("[\w]+")\] = (\w+);', html)
    by_name = {name: json_key.strip('"') for json_key, name in keys}
    assert set(by_name.values()) == set(shown)
    for data_id in ids:
        at = [m.start() for m in re.finditer(f'<script type="application/json" id="{data_id}">',
                                             html)]
        assert len(at) == 1, data_id
        key = by_name[data_id.removesuffix("-data")]
        assert (at[0] < script) == shown[key], (key, shown[key])
    assert not all(shown.values()) and any(shown.values())
    # whatever was switched on before the end of the page is filled once it is parsed
    assert "DOMContentLoaded" in html and html.rstrip().endswith("</html>")


def test_filled_polygon_layers_are_drawn_merged_and_the_others_per_feature(mobile):
    # the village groups and the sector wedges (filled polygons) become one canvas
    # multi-polygon per style; outlines (village boundaries, which answer clicks on their
    # line) and the markers keep one Leaflet layer per feature
    from coverage.maps.render import FeatureLayer

    merged = {k: FeatureLayer(mobile.layer(k)).merged for k in ("groups", "villages")}
    assert merged == {"groups": "true", "villages": "false"}
    sites = [k for k in mobile.layer_keys() if k.startswith("sites_")]
    wedged = {k: any(f["properties"].get("wedge") for f in mobile.layer(k).features)
              for k in sites}
    assert any(wedged.values())
    assert {k: FeatureLayer(mobile.layer(k)).merged == "true" for k in sites} == wedged
    assert FeatureLayer(mobile.layer("plan")).merged == "false"  # markers only


def test_wedges_travel_to_the_page_as_site_and_arc_ends(mobile):
    # the page draws a wedge as an arc: it needs the site and the two ends of the arc,
    # in the polygon's own coordinates; every other feature travels unchanged
    from coverage.maps.wedges import page_wedges

    full = mobile.layer("sites_CMCC").geojson()
    page = page_wedges(full)
    assert len(page["features"]) == len(full["features"]) and page["styles"] == full["styles"]
    n = 0
    for before, after in zip(full["features"], page["features"], strict=True):
        assert after["properties"] == before["properties"]
        if not before["properties"].get("wedge"):
            assert after is before
            continue
        n += 1
        ring = before["geometry"]["coordinates"][0]
        assert len(ring) == 11  # site, nine points along the arc, site
        assert after["geometry"]["coordinates"] == [[ring[0], ring[1], ring[-2], ring[0]]]
    assert n == 4
    groups = mobile.layer("groups").geojson()
    assert page_wedges(groups) is groups  # no wedges: untouched


def test_chinese_pages_name_chinese_fonts_first(rich):
    # Leaflet's font list has no Chinese typeface: a Chinese page names them first (one
    # typeface for every label, no font fallback search while the first view is laid
    # out); an English page keeps Leaflet's list
    study = rich[0]
    assert study.config.language == "zh"
    zh = render(grid_map(study, PROV))
    en = render(grid_map(toy_study(config=Config(language="en")), PROV))
    assert '.leaflet-container{font-family:"Microsoft YaHei"' in zh
    assert "Noto Sans CJK SC" in zh and "Microsoft YaHei" not in en


@pytest.mark.parametrize("size", [60, 400])
def test_rsrp_rasters_warped_together_equal_each_warped_alone(size: int) -> None:
    """The mobile map warps its RSRP rasters to web mercator in one call: each band, with
    its own nodata, must come out exactly as warped alone (nearest and averaged)."""
    from affine import Affine
    from pyproj import CRS

    from coverage.maps.raster import to_mercator, to_mercator_stack

    rng = np.random.default_rng(size)
    bands = rng.normal(-95.0, 12.0, (3, size, size)).astype(np.float32)
    bands[0, : size // 3] = np.nan                   # each band its own holes
    bands[1, :, size // 2:] = np.nan
    bands[2][rng.random((size, size)) < 0.3] = np.nan
    tf = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 3400000.0)
    crs = CRS.from_epsg(32650)
    together, tf_together = to_mercator_stack(bands, tf, crs, max_px=150)
    assert together.shape[0] == 3
    for band, warped in zip(bands, together, strict=True):
        alone, tf_alone = to_mercator(band, tf, crs, max_px=150)
        assert tf_alone == tf_together
        np.testing.assert_array_equal(warped, alone)
    assert np.isfinite(together[1]).any() and np.isnan(together[1]).any()
