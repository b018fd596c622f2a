"""Field measurements: reading drive-test and hand-typed tables, bad rows, and measured
beats predicted in assessment and readiness (hand-built toy study)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import make_tiny_data
from toy import UTM50, cell_point, toy_signal, toy_study

from coverage.assess import assess
from coverage.config import Config
from coverage.evidence.compare import NO_PREDICTION, OK, OUTSIDE_DEM, compare
from coverage.io.writers import write_csv, write_gpkg
from coverage.predict import predict_coverage
from coverage.readiness import (
    FAIL,
    PASS,
    WARNING,
    RuleContext,
    evaluate,
    rule_measurements_agree,
)
from coverage.study import load_study, validate_data_dir

TODAY = dt.date(2020, 10, 31)
MEAS = "measurements/measurements.csv"

EN = Config(language="en")


def write_measurements(data, frame: pd.DataFrame, name: str = MEAS):
    write_csv(data / name, frame)


def problems_of(data, errors_only=False):
    # notes only say how a column or value was read (issue 14); they are not problems
    out = [p for p in validate_data_dir(data, Config(), today=TODAY)
           if p.file.startswith("measurements") and p.severity != "note"]
    return [p for p in out if p.is_error] if errors_only else out


# ----------------------------------------------------------------------------- reading


def test_drive_test_export_is_read(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    write_measurements(data, pd.DataFrame({
        "Timestamp": ["2020.06.12_10.31.22", "2020.06.12_10.31.34", "2020.06.12_10.31.46"],
        "Longitude": ["116.13", "116.14", "116.16"],
        "Latitude": ["30.86", "30.83", "30.82"],
        "Operator": ["46000", "460-11", "CHN-UNICOM"],
        "RSRP": ["-98", "-104", "-111"], "SNR": ["12.5", "", "-3"],
        "Tester": ["王磊", "王磊", "王磊"],
    }))
    assert problems_of(data) == []
    m = load_study(data, Config(), today=TODAY).measurements
    assert m["operator"].tolist() == ["CMCC", "CT", "CU"]
    assert m["rsrp_dbm"].tolist() == [-98.0, -104.0, -111.0]
    assert m["date"].dt.date.tolist() == [dt.date(2020, 6, 12)] * 3
    assert np.isnan(m["sinr_db"].iloc[1]) and m["sinr_db"].iloc[2] == -3.0
    assert m.crs.to_epsg() == 32650 and m["lon"].iloc[0] == pytest.approx(116.13)


def test_hand_typed_chinese_table_is_read(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    write_measurements(data, pd.DataFrame({
        "经度": ["116.13", "116.125"], "纬度": ["30.86", "30.83"],
        "运营商": ["移动", "中国电信"], "RSRP(dBm)": ["-98", "-106"],
        "测试日期": ["2020年6月12日", "2020/6/13"], "测试人": ["张三", "李四"],
        "测试点": ["P01", "P02"],
    }))
    assert problems_of(data) == []
    m = load_study(data, Config(), today=TODAY).measurements
    assert m["operator"].tolist() == ["CMCC", "CT"]
    assert m["point_id"].tolist() == ["P01", "P02"]
    assert m["tester"].tolist() == ["张三", "李四"]
    assert m["date"].dt.date.tolist() == [dt.date(2020, 6, 12), dt.date(2020, 6, 13)]


def test_mnc_column_gives_the_operator_and_a_bad_mnc_is_an_error(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    frame = pd.DataFrame({"lon": ["116.13", "116.14", "116.16"], "lat": ["30.86", "30.83",
                                                                      "30.82"],
                          "MCC": ["460", "460", "460"], "MNC": ["0", "1", "11"],
                          "rsrp_dbm": ["-98", "-99", "-100"], "date": ["2020-06-12"] * 3})
    write_measurements(data, frame)
    assert problems_of(data) == []
    assert load_study(data, Config(), today=TODAY).measurements["operator"].tolist() == [
        "CMCC", "CU", "CT"]
    write_measurements(data, frame.assign(MNC=["0", "99", "11"]))
    errs = problems_of(data, errors_only=True)
    assert len(errs) == 1
    assert (errs[0].row, errs[0].column, errs[0].value) == (2, "MNC", "99")
    assert "unknown MNC" in errs[0].message and "CU 01/06/09" in errs[0].fix


def test_geopackage_measurements(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    gdf = gpd.GeoDataFrame({"operator": ["CMCC"], "rsrp_dbm": [-97.0], "date": ["2020-06-12"],
                            "point_id": ["P01"]},
                           geometry=gpd.points_from_xy([116.13], [30.86]), crs="EPSG:4326")
    write_gpkg(data / "measurements" / "measurements.gpkg", {"measurements": gdf})
    assert problems_of(data) == []
    m = load_study(data, Config(), today=TODAY).measurements
    assert m["lon"].iloc[0] == pytest.approx(116.13) and m["point_id"].iloc[0] == "P01"


def test_bad_rows_give_clear_errors(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    write_measurements(data, pd.DataFrame({
        "lon": ["116.13", "", "116.15", "116.15", "116.16"],
        "lat": ["30.86", "30.84", "30.85", "30.85", "30.82"],
        "operator": ["CMCC", "CT", "Vodafone", "CU", "CU"],
        "rsrp_dbm": ["-20", "-101", "-99", "-99", "98"],
        "date": ["2020-06-12", "2020-06-12", "2020-06-12", "2099-01-01", "2020-06-12"],
    }))
    errs = {(p.row, p.column): p for p in problems_of(data, errors_only=True)}
    assert set(errs) == {(1, "rsrp_dbm"), (2, "lon"), (3, "operator"), (4, "date"),
                         (5, "rsrp_dbm")}
    assert "out of range" in errs[(1, "rsrp_dbm")].message
    assert "-150 and -30 dBm" in errs[(1, "rsrp_dbm")].message
    assert errs[(5, "rsrp_dbm")].value == "98"
    assert "empty value" in errs[(2, "lon")].message
    assert "unknown operator" in errs[(3, "operator")].message
    assert errs[(3, "operator")].value == "Vodafone"
    assert "after today (2020-10-31)" in errs[(4, "date")].message


def test_measurements_off_the_dem_are_warnings_and_reported_by_compare(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    write_measurements(data, pd.DataFrame({
        "lon": ["116.13", "117.50", "116.195"], "lat": ["30.86", "30.85", "30.895"],
        "operator": ["CMCC", "CMCC", "CMCC"], "rsrp_dbm": ["-98", "-99", "-100"],
        "date": ["2020-06-12"] * 3}))
    probs = problems_of(data)
    assert [p.severity for p in probs] == ["warning", "warning"]
    assert "outside the DEM" in probs[0].message and probs[0].row == 2
    assert "nodata" in probs[1].message and probs[1].row == 3
    study = load_study(data, Config(), today=TODAY)
    cmp = compare(study, predict_coverage(study))
    assert cmp.table["status"].tolist() == [OK, OUTSIDE_DEM, OUTSIDE_DEM]
    assert cmp.stats.set_index(["operator", "band"]).loc[("CMCC", "all"), "n"] == 1
    assert [w.row for w in cmp.warnings] == [2, 3] and not any(w.is_error for w in cmp.warnings)


# ----------------------------------------------------------------------------- measured wins


def measurements(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Toy measurements: (cell row, cell col, operator, rsrp, date, tester, point_id)."""
    r, c, op, rsrp, date, tester, pid = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"operator": list(op), "rsrp_dbm": np.array(rsrp, float),
         "date": pd.to_datetime(list(date)), "sinr_db": np.nan, "tester": list(tester),
         "point_id": list(pid), "lon": 116.0, "lat": 30.7},
        geometry=[cell_point(a, b) for a, b in zip(r, c, strict=True)], crs=UTM50)


def findings(study, **kw):
    a = assess(study, toy_signal(), **kw)
    r = evaluate(study, a)
    return a, {(f.village_id, f.rule): f for f in r.findings.itertuples()}


def test_without_measurements_nothing_changes():
    plain = assess(toy_study(EN), toy_signal())
    assert plain.evidence is None and "measured" not in plain.points
    r = evaluate(toy_study(EN), plain)
    assert "measurements_agree" not in set(r.findings["rule"])


def test_measured_overrides_predicted_at_a_test_point_and_the_finding_says_so():
    # P3 (school, V2) is predicted uncovered (CMCC -120, CT none)
    _, before = findings(toy_study(EN))
    assert before[("V2", "test_points_covered")].severity == FAIL
    study = toy_study(EN, measurements=measurements(
        [(8, 8, "CMCC", -98.0, "2020-06-12", "张三", "P3")]))
    a, f = findings(study)
    p3 = a.points.set_index("point_id").loc["P3"]
    assert p3["covered_ANY"] and p3["source_CMCC"] == "measured" and p3["rsrp_CMCC"] == -98
    assert p3["predicted_CMCC"] == -120 and p3["measured_delta_CMCC"] == 22
    assert p3["source_CT"] == "predicted"
    msg = f[("V2", "test_points_covered")].message
    assert f[("V2", "test_points_covered")].severity == PASS
    assert "measured -98 dBm (CMCC) on 2020-06-12 by 张三" in msg and "小学" in msg


def test_a_weak_measurement_fails_a_point_predicted_covered():
    study = toy_study(EN, measurements=measurements([
        (1, 1, "CMCC", -115.0, "2020-09-01", "李四", "P1"),
        (1, 1, "CT", -112.0, "2020-09-01", "李四", "P1"),
        (1, 1, "CT", -110.0, "2020-09-01", "李四", "P1"),
    ]))
    a, f = findings(study)
    p1 = a.points.set_index("point_id").loc["P1"]
    assert not p1["covered_ANY"] and p1["n_operators"] == 0 and p1["rsrp_CT"] == -111.0
    fail = f[("V1", "test_points_covered")]
    assert fail.severity == FAIL
    assert ("村委会 (Village committee, best -111.0 dBm; measured -115 dBm (CMCC) on 2020-09-01 by "
            "李四; measured -111 dBm (CT) on 2020-09-01 by 李四, median of 2 readings)"
            ) in fail.message
    # both differ from the prediction by more than 12 dB: a warning points at them
    agree = f[("V1", "measurements_agree")]
    assert agree.severity == WARNING and "村委会 CMCC: measured -115 dBm" in agree.message
    assert f[("V2", "measurements_agree")].severity == PASS


def test_one_operator_measured_weak_leaves_the_other_predicted():
    study = toy_study(EN, measurements=measurements(
        [(1, 1, "CMCC", -115.0, "2020-09-01", "李四", "P1")]))
    a, _ = findings(study)
    p1 = a.points.set_index("point_id").loc["P1"]
    assert p1["covered_ANY"] and p1["operator_ANY"] == "CT" and p1["n_operators"] == 1


def test_old_and_superseded_measurements_are_ignored():
    rows = [(8, 8, "CMCC", -98.0, "2019-06-12", "张三", "P3")]  # > 365 days before 2020-10-31
    a, f = findings(toy_study(EN, measurements=measurements(rows)))
    assert a.evidence.used.empty and "older than 365 days" in a.evidence.ignored["reason"][0]
    assert f[("V2", "test_points_covered")].severity == FAIL
    cfg = Config(language="en", readiness={"measurement_max_age_days": 600})
    _, f = findings(toy_study(cfg, measurements=measurements(rows)))
    assert f[("V2", "test_points_covered")].severity == PASS
    # a measurement taken before its serving site went on air does not count
    study = toy_study(EN, measurements=measurements(
        [(8, 8, "CMCC", -98.0, "2020-06-12", "张三", "P3")]))
    study.sites["on_air_date"] = pd.to_datetime(["2020-08-01", "2015-01-01"])
    a, f = findings(study)
    assert a.evidence.used.empty and "before S1 went on air" in a.evidence.ignored["reason"][0]
    assert f[("V2", "test_points_covered")].severity == FAIL
    # nor one whose predicted serving site is only planned (the after-plan view)
    study = toy_study(EN, measurements=measurements(
        [(8, 8, "CMCC", -98.0, "2020-06-12", "张三", "P3")]))
    study.sites["status"] = ["planned", "on_air"]
    a, f = findings(study)
    assert a.evidence.ignored["reason"][0] == "now served by S1, not yet on air"
    assert f[("V2", "test_points_covered")].severity == FAIL


def test_measurements_decide_the_households_they_reach():
    # G4 (V2 south, 25 cells, 40 households) has no signal; CT measured -95 dBm at 4 places
    # whose 200 m reach covers all of its cells
    rows = [(r, c, "CT", -95.0, "2020-07-01", "王五", None) for r, c in
            ((6, 6), (6, 8), (8, 6), (8, 8))]
    a, f = findings(toy_study(EN, measurements=measurements(rows)))
    g4 = a.groups.set_index("group_id").loc["G4"]
    assert g4["status_ANY"] == "covered" and g4["measured_share_CT"] == 1.0
    assert g4["measured_places_CT"] == 4 and np.isnan(g4["measured_delta_CT"])  # no prediction
    msg = f[("V2", "groups_covered")].message
    assert f[("V2", "groups_covered")].severity == PASS
    assert ("measured -95 dBm (CT), median of 4 places near 100% of households, 2020-07-01 "
            "by 王五") in msg
    # one place in the middle reaches 13 of the 25 cells: the rest stays predicted (none)
    a, f = findings(toy_study(EN, measurements=measurements(
        [(7, 7, "CT", -95.0, "2020-07-01", "王五", None)])))
    g4 = a.groups.set_index("group_id").loc["G4"]
    assert g4["measured_share_CT"] == pytest.approx(13 / 25)
    assert g4["status_ANY"] == "partial" and f[("V2", "groups_covered")].severity == FAIL
    assert "near 52% of households" in f[("V2", "groups_covered")].message


def test_household_points_are_decided_by_a_nearby_measurement():
    study = toy_study(EN, households=True, measurements=measurements(
        [(7, 7, "CMCC", -100.0, "2020-07-01", "王五", None)]))  # G4's cluster (7, 7)
    a, _ = findings(study)
    g4 = a.groups.set_index("group_id").loc["G4"]
    assert g4["status_ANY"] == "covered" and g4["measured_share_CMCC"] == 1.0


def test_disagreement_warning_where_the_model_predicts_no_signal():
    # CT has no signal in the south half; a measurement of -100 dBm there disagrees
    study = toy_study(EN, measurements=measurements(
        [(8, 8, "CT", -100.0, "2020-07-01", "王五", "P3")]))
    a = assess(study, toy_signal())
    by = {f.village_id: f for f in rule_measurements_agree(RuleContext(study, a,
                                                                       study.config))}
    assert by["V2"].severity == WARNING and "predicted no signal" in by["V2"].message
    assert by["V1"].message == "no recent field measurements in this village"


def test_far_measurement_is_reported_not_crashed_on():
    # a measurement where no CT site reaches (south half) keeps its row, status no_prediction
    study = toy_study(EN, measurements=measurements(
        [(8, 8, "CT", -100.0, "2020-07-01", "王五", None),
         (1, 1, "CT", -99.0, "2020-07-01", "王五", None)]))
    cmp = compare(study, toy_signal())
    assert cmp.table["status"].tolist() == [NO_PREDICTION, OK]
    assert "no CT site" in cmp.table["note"][0] and cmp.warnings[0].row == 1
