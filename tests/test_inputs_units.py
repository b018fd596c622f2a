"""The input vocabulary in isolation: coordinates, DMS, bands, headers, values, .dbf encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from coverage.config import Config
from coverage.errors import ProblemLog
from coverage.io import chinacoords as cc
from coverage.io import vocab
from coverage.io.dbf import shapefile_encoding
from coverage.io.validate import check_reference

# ------------------------------------------------------------------------- coordinates

LON = np.array([116.0, 116.3, 116.55, 104.06, 121.47, 87.6])
LAT = np.array([30.6, 30.8, 31.05, 30.67, 31.23, 43.8])


def _metres(lon1, lat1, lon2, lat2):
    dx = (lon1 - lon2) * 111320 * np.cos(np.radians(lat1))
    dy = (lat1 - lat2) * 110540
    return np.hypot(dx, dy)


def test_gcj02_round_trip_is_below_half_a_metre():
    g = cc.wgs84_to_gcj02(LON, LAT)
    back = cc.gcj02_to_wgs84(*g)
    assert _metres(*back, LON, LAT).max() < 0.5


def test_bd09_round_trip_is_below_half_a_metre():
    b = cc.wgs84_to_bd09(LON, LAT)
    back = cc.bd09_to_wgs84(*b)
    assert _metres(*back, LON, LAT).max() < 0.5


def test_offsets_are_those_people_see():
    """GCJ-02 moves points in eastern and central China 0.3-0.7 km, BD-09 0.7-1.3 km."""
    lon, lat = LON[:5], LAT[:5]
    g = cc.wgs84_to_gcj02(lon, lat)
    gcj = _metres(*g, lon, lat)
    assert ((gcj > 300) & (gcj < 700)).all(), gcj
    b = cc.wgs84_to_bd09(lon, lat)
    bd = _metres(*b, lon, lat)
    assert ((bd > 700) & (bd < 1300)).all(), bd


def test_known_point():
    """Tiananmen: WGS84 (116.391275, 39.907375) is GCJ-02 (116.397510, 39.908775) to
    about a metre; BD-09 adds Baidu's (≈ +0.0064°, +0.0060°) shift there."""
    g = cc.wgs84_to_gcj02(116.391275, 39.907375)
    assert _metres(*g, 116.397510, 39.908775) < 2.0
    b = cc.gcj02_to_bd09(116.397510, 39.908775)
    assert 0.0060 < b[0] - 116.397510 < 0.0068
    assert 0.0055 < b[1] - 39.908775 < 0.0065


def test_outside_china_is_unchanged():
    lon, lat = cc.wgs84_to_gcj02(2.35, 48.85)
    assert lon == 2.35 and lat == 48.85


@pytest.mark.parametrize(("text", "value"), [
    ("116.4301", 116.4301),
    ("116°25'48.5\"", 116 + 25 / 60 + 48.5 / 3600),
    ("116度25分48.5秒", 116 + 25 / 60 + 48.5 / 3600),
    ("E116°25′48.5″", 116 + 25 / 60 + 48.5 / 3600),
    ("30°49'38\"N", 30 + 49 / 60 + 38 / 3600),
    ("30°49'38\"S", -(30 + 49 / 60 + 38 / 3600)),
    ("116:25:48.5", 116 + 25 / 60 + 48.5 / 3600),
    ("116°25.5'", 116 + 25.5 / 60),
    ("东经116度25分", 116 + 25 / 60),
])
def test_dms_is_parsed(text, value):
    assert cc.parse_degrees(text) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize("text", ["116°75'10\"", "abc", "116.3.5", "N116°E", ""])
def test_not_degrees_is_nan(text):
    assert np.isnan(cc.parse_degrees(text))


# ------------------------------------------------------------------------------- bands

@pytest.mark.parametrize(("operator", "written", "band"), [
    ("CMCC", "FDD900", "FDD900"), ("CMCC", "fdd900", "FDD900"), ("CMCC", "900", "FDD900"),
    ("CMCC", "900M", "FDD900"), ("CMCC", "900MHz", "FDD900"), ("CMCC", "LTE900", "FDD900"),
    ("CMCC", "B8", "FDD900"), ("CMCC", "D频段", "TDD2600"), ("CMCC", "F频段", "TDD1900"),
    ("CMCC", "B41", "TDD2600"), ("CMCC", "B38", "TDD2600"), ("CMCC", "2.6G", "TDD2600"),
    ("CMCC", "1.9G", "TDD1900"), ("CMCC", "ＬＴＥ９００", "FDD900"),
    ("CU", "1.8G", "FDD1800"), ("CU", "B3", "FDD1800"), ("CU", "FDD1800", "FDD1800"),
    ("CU", "1800M", "FDD1800"), ("CU", "900", "FDD900"), ("CT", "800M", "FDD800"),
    ("CT", "B5", "FDD800"), ("CT", "LTE800", "FDD800"),
])
def test_band_spellings_resolve_by_frequency(operator, written, band):
    assert vocab.resolve_band(written, operator, Config())[0] == band


@pytest.mark.parametrize(("operator", "written"), [
    ("CMCC", "FDD1800"), ("CMCC", "B3"), ("CT", "1.8G"), ("CMCC", "E频段"), ("CU", "5G"),
    ("CMCC", "LTE"),
])
def test_absent_bands_are_not_guessed(operator, written):
    name, found = vocab.resolve_band(written, operator, Config())
    assert name is None and found == []


def test_two_profiles_in_one_band_are_ambiguous():
    raw = Config().model_dump()
    raw["operators"]["CU"]["bands"]["FDD1800B"] = dict(raw["operators"]["CU"]["bands"]["FDD1800"],
                                                       frequency_mhz=1860.0)
    name, found = vocab.resolve_band("B3", "CU", Config.model_validate(raw))
    assert name is None and sorted(found) == ["FDD1800", "FDD1800B"]


# ------------------------------------------------------------------ headers and values

def test_headers_are_renamed_and_noted_once():
    frame = pd.DataFrame({"站点编号": ["A"], "挂高（米）": ["30"], "频段": ["900"],
                          "extra": ["x"]}, dtype=object)
    log = ProblemLog()
    out = vocab.rename_headers(frame, "sites", ["site_id", "height_m", "band"], "f.csv", log)
    assert list(out.columns) == ["site_id", "height_m", "band", "extra"]
    notes = [p.message for p in log.problems]
    assert "列 '挂高（米）' 读作 height_m" in notes
    assert len(notes) == 3 and all(p.severity == "note" for p in log.problems)


def test_schema_name_wins_over_an_alias():
    frame = pd.DataFrame({"height_m": ["30"], "挂高": ["31"]}, dtype=object)
    out = vocab.rename_headers(frame, "sites", ["height_m"], "f", ProblemLog())
    assert list(out.columns) == ["height_m", "挂高"]


def test_values_are_mapped_with_notes():
    frame = pd.DataFrame({"operator": ["中国移动", "ＣＭＣＣ", "联通", "电信", "xx"],
                          "status": ["在网", "在建", "规划", "on_air", "停用"],
                          "azimuths_deg": ["0、120、240", "0/120", "10；20", "", None]},
                         dtype=object)
    log = ProblemLog()
    out = vocab.map_values(vocab.normalise_cells(frame), "sites", "f", log, Config())
    assert list(out["operator"]) == ["CMCC", "CMCC", "CU", "CT", "xx"]
    assert list(out["status"]) == ["on_air", "building", "planned", "on_air", "停用"]
    assert list(out["azimuths_deg"])[:3] == ["0;120;240", "0;120", "10;20"]
    assert any("'中国移动' 读作 CMCC" in p.message for p in log.problems)


def test_fullwidth_numbers_are_normalised():
    frame = pd.DataFrame({"a": ["４５．０", "ＣＭＣＣ"]}, dtype=object)
    assert list(vocab.normalise_cells(frame)["a"]) == ["45.0", "CMCC"]


def test_no_service_rows():
    frame = pd.DataFrame({"rsrp_dbm": ["", "-95", "-140", ""],
                          "网络状态": ["无服务", "", "", ""]}, dtype=object)
    log = ProblemLog()
    out = vocab.read_no_service(frame, "m.csv", log)
    assert list(out["no_service"]) == [True, False, True, False]
    assert list(out["rsrp_dbm"]) == ["-140", "-95", "-140", ""]
    assert "2 行为无服务" in log.problems[0].message


def test_lost_leading_zeros_are_named():
    log = ProblemLog()
    child = pd.DataFrame({"village_id": ["101", "0102", "999"]})
    check_reference(child, "w.xlsx", "village_id", pd.Series(["0101", "0102"]), "v.gpkg", log)
    messages = [p.message for p in log.problems]
    assert any("前导零" in m for m in messages) and len(messages) == 2


# ---------------------------------------------------------------------------- .dbf

@pytest.mark.parametrize(("encoding", "expected", "note"), [
    ("GBK", "GBK", "按 GBK 编码读取"), ("UTF-8", "UTF-8", None)])
def test_dbf_encoding_is_detected(tmp_path, encoding, expected, note):
    frame = pd.DataFrame({"name": ["天河村", "青枫乡"]})
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(frame, geometry=[shapely.Point(116, 30)] * 2, crs="EPSG:4326")
    shp = tmp_path / "v.shp"
    pyogrio.write_dataframe(gdf, shp, encoding=encoding)
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    log = ProblemLog()
    assert shapefile_encoding(shp, "v.shp", log) == expected
    if note:
        assert note in log.problems[0].message
    read = pyogrio.read_dataframe(shp, encoding=expected)
    assert list(read["name"]) == ["天河村", "青枫乡"]


def test_docs_list_the_whole_vocabulary():
    """docs/inputs.md documents every alias the code accepts."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs/inputs.md").read_text(encoding="utf-8")
    tables = [vocab.COMMON_HEADERS, vocab.GCJ_HEADERS, vocab.BD_HEADERS,
              vocab.OPERATOR_VALUES, *vocab.LAYER_HEADERS.values(),
              *vocab.CHOICE_VALUES.values()]
    missing = [alias for table in tables for aliases in table.values() for alias in aliases
               if alias not in text]
    assert not missing, missing


def test_report_names_the_converted_layers():
    """report.html says which layers' coordinates were converted to WGS84."""
    import dataclasses

    from toy import toy_signal, toy_study

    from coverage.assess import assess
    from coverage.errors import Problem
    from coverage.output.report import render_html
    from coverage.readiness import evaluate

    study = toy_study()
    note = Problem("sites/sites.xlsx", "坐标按 GCJ-02 读入，已转换为 WGS84（12 个点）", "无需处理",
                   severity="note")
    study = dataclasses.replace(study, warnings=[note])
    a = assess(study, toy_signal())
    html = render_html(study, a, evaluate(study, a),
                       {"version": "0", "config_hash": "x", "crs": "EPSG:32650",
                        "generated": "2020-10-01"})
    assert "坐标已转换为 WGS84 的图层：sites/sites.xlsx（GCJ-02）" in html

