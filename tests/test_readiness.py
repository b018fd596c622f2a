"""Readiness rules on hand-built cases: pass, fail, exactly at threshold, edge cases."""

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from toy import toy_signal, toy_study

from coverage.assess import assess
from coverage.config import Config
from coverage.errors import ConfigError
from coverage.readiness import (
    FAIL,
    NOT_READY,
    PASS,
    READY,
    READY_AFTER_WORKS,
    WARNING,
    RuleContext,
    evaluate,
    rule_fiber,
    rule_grid_works_done,
    rule_groups_covered,
    rule_no_open_hazards,
    rule_test_points_covered,
    rule_transformer_capacity,
    rule_universal_service,
)


def ctx_for(study, config=None):
    return RuleContext(study, assess(study, toy_signal()), config or study.config)


def by_village(findings):
    return {f.village_id: f for f in findings}


def test_transformer_exactly_at_threshold_passes():
    study = toy_study()
    # TR1 200 kVA / 100 hh = 2.0 exactly; TR2 100 / 50 = 2.0
    f = by_village(rule_transformer_capacity(ctx_for(study)))
    assert f["V1"].severity == PASS
    assert "lowest 2.00" in f["V1"].message


def test_transformer_below_threshold_fails_and_village_without_is_a_warning():
    tr = pd.DataFrame({"transformer_id": ["TR1"], "village_id": ["V1"], "kva": [199.0],
                       "households": [100]})
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(transformers=tr))))
    assert f["V1"].severity == FAIL and "TR1 1.99 kVA/household" in f["V1"].message
    assert f["V2"].severity == WARNING and "no transformer" in f["V2"].message


def test_configurable_kva_target():
    cfg = Config(readiness={"kva_per_household_min": 2.5})
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg))))
    assert f["V1"].severity == FAIL


def test_coverage_rules():
    ctx = ctx_for(toy_study())
    groups = by_village(rule_groups_covered(ctx))
    points = by_village(rule_test_points_covered(ctx))
    assert groups["V1"].severity == PASS  # G1 covered, G2 not required
    assert groups["V2"].severity == FAIL and groups["V2"].evidence["uncovered"] == ["G4"]
    assert points["V2"].severity == FAIL and "小学" in points["V2"].message
    assert points["V1"].severity == PASS


def test_two_operators_required():
    cfg = Config(readiness={"operators_required": 2})
    f = by_village(rule_groups_covered(ctx_for(toy_study(cfg), cfg)))
    # G1 has CMCC and CT; G3 only CT → fails with 2 required
    assert f["V1"].severity == PASS
    assert f["V2"].evidence["uncovered"] == ["G3", "G4"]


def test_empty_village_is_a_warning_not_a_pass():
    study = toy_study()
    groups = study.groups[study.groups["village_id"] == "V1"]
    points = study.points[study.points["village_id"] == "V1"]
    f = by_village(rule_groups_covered(ctx_for(toy_study(groups=groups, points=points))))
    assert f["V2"].severity == WARNING and "no required group" in f["V2"].message


def test_works_due_before_inspection_make_ready_after_works():
    study = toy_study()
    works = study.grid_works.copy()
    works.loc[0, "status"] = "in_progress"
    f = by_village(rule_grid_works_done(ctx_for(toy_study(grid_works=works))))
    assert f["V1"].severity == FAIL and f["V1"].remedies[0].ref == "GW1"
    late = works.assign(due=[dt.date(2021, 3, 1)])
    f = by_village(rule_grid_works_done(ctx_for(toy_study(grid_works=late))))
    assert f["V1"].remedies == () and "will not be done" in f["V1"].message


def test_open_hazard_fails():
    study = toy_study()
    hz = study.hazards.assign(fixed=[True, False])
    f = by_village(rule_no_open_hazards(ctx_for(toy_study(hazards=hz))))
    assert f["V1"].severity == PASS and f["V2"].severity == FAIL and "H2" in f["V2"].message


def test_fiber_required_for_poor_villages():
    f = by_village(rule_fiber(ctx_for(toy_study())))
    assert f["V1"].severity == PASS  # poor, has fiber
    assert "not required" in f["V2"].message  # not poor


def test_universal_service_rule():
    f = by_village(rule_universal_service(ctx_for(toy_study())))
    assert f["V1"].severity == PASS and f["V1"].evidence["distance_km"] < 5
    cfg = Config(readiness={"universal_service_radius_km": 0.1})
    f = by_village(rule_universal_service(ctx_for(toy_study(cfg), cfg)))
    assert f["V1"].severity == FAIL


def test_verdicts():
    study = toy_study()
    res = evaluate(study, assess(study, toy_signal()))
    v = res.villages.set_index("village_id")
    assert v.loc["V1", "verdict"] == READY
    # V2: G4 uncovered and P3 uncovered, cured by MW1 (CU site due 2020-09-30 < 2020-10-31)
    assert v.loc["V2", "verdict"] == READY_AFTER_WORKS
    assert any("MW1" in r for r in v.loc["V2", "reasons"])
    assert res.counts == {READY: 1, READY_AFTER_WORKS: 1, NOT_READY: 0}
    late = study.mobile_works.assign(due=[dt.date(2020, 12, 1)])
    res = evaluate(study, assess(toy_study(mobile_works=late), toy_signal()))
    res = evaluate(toy_study(mobile_works=late), assess(study, toy_signal()))
    assert res.villages.set_index("village_id").loc["V2", "verdict"] == NOT_READY


def test_unknown_rule_is_a_config_error():
    cfg = Config(readiness={"rules": ["groups_covered", "no_such_rule"]})
    study = toy_study(cfg)
    with pytest.raises(ConfigError, match="no_such_rule"):
        evaluate(study, assess(study, toy_signal()))


def test_study_is_not_mutated():
    study = toy_study()
    before = dataclasses.replace(study).groups.copy()
    evaluate(study, assess(study, toy_signal()))
    assert study.groups.equals(before)


def _after_plan(due, covers_g4=True):
    """After-plan view of the toy county: a planned CU site N1 covers the south-east."""
    import geopandas as gpd
    from toy import cell_point

    from coverage.readiness import AfterPlan

    study = toy_study()
    new = study.sites.iloc[[0]].copy()
    new["site_id"], new["operator"], new["band"] = "N1", "CU", "FDD900"
    new["status"], new["on_air_date"] = "planned", due
    new["geometry"] = [cell_point(8, 8)]
    sites = gpd.GeoDataFrame(pd.concat([study.sites, new], ignore_index=True),
                             crs=study.sites.crs)
    after_study = dataclasses.replace(study, sites=sites)
    signal = toy_signal()
    if covers_g4:
        signal.rsrp["CU"][5:, 5:] = -95.0
        signal.best_site["CU"][5:, 5:] = 2
    after = assess(after_study, signal)
    groups = pd.DataFrame({"group_id": ["G4"], "site_id": ["N1"], "due": [due]})
    return study, AfterPlan(after_study, after, groups)


def test_planned_site_due_before_inspection_makes_ready_after_works():
    study, after = _after_plan(dt.date(2020, 9, 1))
    res = evaluate(study, assess(study, toy_signal()), after=after)
    v = res.villages.set_index("village_id")
    assert v.loc["V2", "verdict"] == READY_AFTER_WORKS
    assert any("N1 by 2020-09-01" in r for r in v.loc["V2", "reasons"])


def test_planned_site_due_after_inspection_is_not_ready():
    study, after = _after_plan(dt.date(2021, 3, 1))
    res = evaluate(study, assess(study, toy_signal()), after=after)
    assert res.villages.set_index("village_id").loc["V2", "verdict"] == NOT_READY


def test_gap_the_plan_cannot_close_is_not_ready_and_says_so():
    study, after = _after_plan(dt.date(2020, 9, 1), covers_g4=False)
    res = evaluate(study, assess(study, toy_signal()), after=after)
    v = res.villages.set_index("village_id")
    assert v.loc["V2", "verdict"] == NOT_READY
    assert any("still lack signal after every planned site" in r for r in v.loc["V2", "reasons"])
