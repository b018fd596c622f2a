"""Per-village lookups of the readiness rules: each village gets its own rows.

The rules read every village's transformers, works and hazards through lookups made once
for the whole table (not one selection per village); these cases pin what a user reads
per village: interleaved rows, a village without any rows, two villages of one name in
different towns, a transformer without households, done works applied next to villages
without any.
"""

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from toy import UTM50, cell_box, toy_signal, toy_study

from coverage import capacity
from coverage.assess import assess
from coverage.config import Config
from coverage.readiness import (
    FAIL,
    PASS,
    WARNING,
    RuleContext,
    _ColumnLookup,
    evaluate,
    rule_grid_works_done,
    rule_no_open_hazards,
    rule_transformer_capacity,
)

AS_OF = dt.date(2020, 8, 1)


def _config(**readiness):
    return Config(language="en", readiness={"as_of": AS_OF, **readiness})


def _villages():
    # V1 and V2 share a name (different towns); V3 has no transformer, work or hazard
    return gpd.GeoDataFrame(
        {"village_id": ["V1", "V2", "V3"], "name": ["石关村", "石关村", "下湾村"],
         "town": ["响肠镇", "太湖镇", "响肠镇"], "poor": [False] * 3, "fiber": [True] * 3},
        geometry=[cell_box(0, 10, 0, 5), cell_box(0, 10, 5, 10), cell_box(0, 2, 0, 2)],
        crs=UTM50)


def _study(config=None, **overrides):
    return toy_study(config or _config(), villages=_villages(), **overrides)


def _ctx(study):
    return RuleContext(study, assess(study, toy_signal()), study.config)


def _by_village(findings):
    return {f.village_id: f for f in findings}


def _works(rows):
    frame = pd.DataFrame(rows, columns=["work_id", "village_id", "category", "status", "due",
                                        "done", "kva_after", "transformer_id"])
    return frame.assign(owner="县供电公司", investment_wan=1.0)


# interleaved rows of two villages; TRc has no households yet
TRANSFORMERS = pd.DataFrame({
    "transformer_id": ["TRa", "TRx", "TRb", "TRc", "TRy"],
    "village_id": ["V1", "V2", "V1", "V1", "V2"],
    "kva": [200.0, 315.0, 60.0, 50.0, 100.0],
    "households": [100, 100, 50, 0, 40]})


def test_capacity_per_village_from_interleaved_rows():
    f = _by_village(rule_transformer_capacity(_ctx(_study(transformers=TRANSFORMERS,
                                                          grid_works=_works([])))))
    # V1: 310 kVA / 150 households = 2.0667; TRb 60/50 = 1.2 is below 2.0 (a warning)
    assert f["V1"].severity == WARNING
    assert f["V1"].evidence == {"kva": 310.0, "households": 150,
                                "kva_per_household": 2.067, "below": ["TRb"]}
    assert "2.07 kVA per household (310 kVA / 150 households" in f["V1"].message
    assert "TRb 1.20" in f["V1"].message and "TRc" not in f["V1"].message
    # V2 (same name, other town): its own rows only, 415 / 140 = 2.964
    assert f["V2"].severity == PASS
    assert f["V2"].evidence == {"kva": 415.0, "households": 140,
                                "kva_per_household": 2.964, "below": []}
    assert f["V3"].severity == WARNING and "no transformer" in f["V3"].message


def test_per_transformer_rule_lists_each_village_low_transformers_in_table_order():
    tr = TRANSFORMERS.assign(kva=[150.0, 315.0, 60.0, 50.0, 60.0])
    study = _study(_config(kva_rule="per_transformer"), transformers=tr,
                   grid_works=_works([]))
    f = _by_village(rule_transformer_capacity(_ctx(study)))
    assert f["V1"].severity == FAIL and f["V1"].evidence["below"] == ["TRa", "TRb"]
    assert "TRa 1.50" in f["V1"].message and "TRb 1.20" in f["V1"].message
    assert f["V2"].severity == FAIL and f["V2"].evidence["below"] == ["TRy"]


def test_done_upgrade_in_one_village_leaves_the_other_as_registered():
    # V2's done work takes its weakest (TRy, 2.5 kVA/hh) to 400 kVA; V1 has no capacity work
    works = _works([["GW1", "V2", "台区改造", "done", dt.date(2020, 6, 30),
                     dt.date(2020, 6, 1), 400.0, None]])
    f = _by_village(rule_transformer_capacity(_ctx(_study(transformers=TRANSFORMERS,
                                                          grid_works=works))))
    assert f["V2"].evidence["kva"] == 715.0 and f["V2"].evidence["applied"] == ["GW1"]
    assert "GW1 (TRy 100→400 kVA" in f["V2"].message
    assert f["V1"].evidence["kva"] == 310.0 and "applied" not in f["V1"].evidence


def test_open_capacity_work_remedies_only_its_village():
    tr = TRANSFORMERS.assign(kva=[100.0, 100.0, 60.0, 50.0, 100.0])
    works = _works([
        ["GW2", "V2", "台区改造", "planned", dt.date(2020, 9, 1), None, 400.0, "TRx"],
        ["GW1", "V1", "台区改造", "planned", dt.date(2020, 9, 1), None, 400.0, "TRa"]])
    f = _by_village(rule_transformer_capacity(_ctx(_study(transformers=tr, grid_works=works))))
    assert f["V1"].severity == FAIL and [r.ref for r in f["V1"].remedies] == ["GW1"]
    assert f["V2"].severity == FAIL and [r.ref for r in f["V2"].remedies] == ["GW2"]


def test_works_per_village_open_done_and_none():
    works = _works([
        ["GW1", "V1", "线路改造", "done", dt.date(2020, 6, 30), dt.date(2020, 6, 1), None, None],
        ["GW2", "V2", "线路改造", "planned", dt.date(2021, 3, 1), None, None, None],
        ["GW3", "V1", "线路改造", "planned", dt.date(2020, 9, 1), None, None, None],
        ["GW4", "V2", "线路改造", "done", dt.date(2020, 5, 1), dt.date(2020, 5, 1), None, None]])
    f = _by_village(rule_grid_works_done(_ctx(_study(grid_works=works))))
    assert f["V1"].severity == FAIL and f["V1"].evidence == {"open": ["GW3"]}
    assert [r.ref for r in f["V1"].remedies] == ["GW3"]
    assert f["V2"].severity == FAIL and f["V2"].evidence == {"late": ["GW2"]}
    assert f["V2"].remedies == ()
    assert f["V3"].severity == PASS and f["V3"].evidence == {"items": 0}
    done = works.assign(status="done", done=dt.date(2020, 7, 1))
    f = _by_village(rule_grid_works_done(_ctx(_study(grid_works=done))))
    assert f["V1"].evidence == {"items": 2} and f["V2"].evidence == {"items": 2}


def test_open_hazards_per_village():
    hz = pd.DataFrame({"hazard_id": ["H1", "H2", "H3"], "village_id": ["V2", "V1", "V2"],
                       "found": [dt.date(2020, 3, 1)] * 3, "fixed": [False, True, False]})
    f = _by_village(rule_no_open_hazards(_ctx(_study(hazards=hz))))
    assert f["V1"].severity == PASS and f["V1"].evidence == {"found": 1}
    assert f["V2"].severity == FAIL and f["V2"].evidence == {"open": ["H1", "H3"]}
    assert f["V3"].severity == PASS and f["V3"].evidence == {"found": 0}


def test_verdicts_keep_villages_of_one_name_apart():
    hz = pd.DataFrame({"hazard_id": ["H1"], "village_id": ["V2"],
                       "found": [dt.date(2020, 3, 1)], "fixed": [False]})
    study = _study(transformers=TRANSFORMERS, hazards=hz)
    r = evaluate(study, assess(study, toy_signal()))
    v = r.villages.set_index("village_id")
    assert list(r.villages["village_id"]) == ["V1", "V2", "V3"]
    assert list(v["town"]) == ["响肠镇", "太湖镇", "响肠镇"]
    hazards = r.findings[r.findings["rule"] == "no_open_hazards"].set_index("village_id")
    assert hazards.loc["V1", "severity"] == PASS and hazards.loc["V2", "severity"] == FAIL


def test_ratios_match_the_register_reading():
    kva = np.array([200.0, 60.0, 50.0])
    hh = np.array([100, 50, 0])
    np.testing.assert_array_equal(capacity.ratios(kva, hh), [2.0, 1.2, np.inf])
    register = pd.DataFrame({"kva": kva, "households": hh})
    np.testing.assert_array_equal(capacity.per_transformer(register),
                                  capacity.ratios(kva, hh))


def test_column_lookup_by_id():
    table = pd.DataFrame({"point_id": ["P1", "P2", "P3"], "site_CT": ["S1", None, "S3"]})
    look = _ColumnLookup(table, "point_id", ["site_CT", "site_CU"])
    assert look(["P3", "P9", "P1"]) == [("P3", ("S3", None)), ("P1", ("S1", None))]
    assert look([]) == []


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__]))
