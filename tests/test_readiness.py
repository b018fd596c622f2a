"""Readiness rules on hand-built cases: pass, fail, exactly at threshold, edge cases."""

import dataclasses
import datetime as dt

import numpy as np
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
    READY_IF_PLAN_BUILT,
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

AS_OF = dt.date(2020, 8, 1)


def cfg_for(lang="en", **readiness):
    return Config(language=lang, readiness={"as_of": AS_OF, **readiness})


def ctx_for(study, config=None):
    config = config or study.config
    return RuleContext(study, assess(study, toy_signal()), config)


def by_village(findings):
    return {f.village_id: f for f in findings}


def test_transformer_exactly_at_threshold_passes():
    study = toy_study(cfg_for())
    # TR1 200 kVA / 100 hh = 2.0 exactly; TR2 100 / 50 = 2.0 → 300 / 150 = 2.0
    f = by_village(rule_transformer_capacity(ctx_for(study)))
    assert f["V1"].severity == PASS
    assert "capacity 2.00 kVA per household (300 kVA / 150 households" in f["V1"].message


def test_transformer_below_threshold_fails_and_village_without_is_a_warning():
    tr = pd.DataFrame({"transformer_id": ["TR1"], "village_id": ["V1"], "kva": [199.0],
                       "households": [100]})
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg_for(), transformers=tr))))
    assert f["V1"].severity == FAIL and "1.99 kVA per household" in f["V1"].message
    assert f["V2"].severity == WARNING and "no transformer" in f["V2"].message


def test_configurable_kva_target():
    cfg = cfg_for(kva_per_household_min=2.5)
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg))))
    assert f["V1"].severity == FAIL


def test_coverage_rules():
    ctx = ctx_for(toy_study(cfg_for()))
    groups = by_village(rule_groups_covered(ctx))
    points = by_village(rule_test_points_covered(ctx))
    assert groups["V1"].severity == PASS  # G1 covered, G2 not required
    assert groups["V2"].severity == FAIL and groups["V2"].evidence["uncovered"] == ["G4"]
    assert points["V2"].severity == FAIL and "小学" in points["V2"].message
    assert points["V1"].severity == PASS


def test_two_operators_required():
    cfg = cfg_for(operators_required=2)
    f = by_village(rule_groups_covered(ctx_for(toy_study(cfg), cfg)))
    # G1 has CMCC and CT; G3 only CT → fails with 2 required
    assert f["V1"].severity == PASS
    assert f["V2"].evidence["uncovered"] == ["G3", "G4"]


def test_empty_village_is_a_warning_not_a_pass():
    study = toy_study(cfg_for())
    groups = study.groups[study.groups["village_id"] == "V1"]
    points = study.points[study.points["village_id"] == "V1"]
    f = by_village(rule_groups_covered(ctx_for(toy_study(cfg_for(), groups=groups, points=points))))
    assert f["V2"].severity == WARNING and "no required group" in f["V2"].message


def test_works_due_before_inspection_make_ready_after_works():
    study = toy_study(cfg_for())
    works = study.grid_works.copy()
    works.loc[0, "status"] = "in_progress"
    f = by_village(rule_grid_works_done(ctx_for(toy_study(cfg_for(), grid_works=works))))
    assert f["V1"].severity == FAIL and f["V1"].remedies[0].ref == "GW1"
    late = works.assign(due=[dt.date(2021, 3, 1)])
    f = by_village(rule_grid_works_done(ctx_for(toy_study(cfg_for(), grid_works=late))))
    assert f["V1"].remedies == () and "will not be done" in f["V1"].message


def test_open_hazard_fails():
    study = toy_study(cfg_for())
    hz = study.hazards.assign(fixed=[True, False])
    f = by_village(rule_no_open_hazards(ctx_for(toy_study(cfg_for(), hazards=hz))))
    assert f["V1"].severity == PASS and f["V2"].severity == FAIL and "H2" in f["V2"].message


def test_fiber_required_for_poor_villages():
    f = by_village(rule_fiber(ctx_for(toy_study(cfg_for()))))
    assert f["V1"].severity == PASS  # poor, has fiber
    assert "not required" in f["V2"].message  # not poor


def test_universal_service_rule():
    f = by_village(rule_universal_service(ctx_for(toy_study(cfg_for()))))
    assert f["V1"].severity == PASS and f["V1"].evidence["distance_km"] < 5
    cfg = cfg_for(universal_service_radius_km=0.1)
    f = by_village(rule_universal_service(ctx_for(toy_study(cfg), cfg)))
    assert f["V1"].severity == FAIL


def test_verdicts_without_a_predicted_network_give_coverage_no_remedy():
    study = toy_study(cfg_for())
    res = evaluate(study, assess(study, toy_signal()))
    v = res.villages.set_index("village_id")
    assert v.loc["V1", "verdict"] == READY
    # V2: G4 and P3 uncovered; MW1 (a CU site due 2020-09-30) names no site or position,
    # so nothing predicts what it covers: it remedies mobile_works_done, not coverage
    assert v.loc["V2", "verdict"] == NOT_READY
    reasons = " | ".join(v.loc["V2", "reasons"])
    assert "groups covered: 1 of 2 required groups lack signal" in reasons
    assert "committed remedy: MW1 (mobile work, by 2020-09-30)" in reasons
    assert res.counts == {READY: 1, READY_AFTER_WORKS: 0, READY_IF_PLAN_BUILT: 0,
                          NOT_READY: 1}


def test_unknown_rule_is_a_config_error():
    cfg = Config(readiness={"rules": ["groups_covered", "no_such_rule"]})
    study = toy_study(cfg)
    with pytest.raises(ConfigError, match="no_such_rule"):
        evaluate(study, assess(study, toy_signal()))


def test_study_is_not_mutated():
    study = toy_study(cfg_for())
    before = dataclasses.replace(study).groups.copy()
    evaluate(study, assess(study, toy_signal()))
    assert study.groups.equals(before)


def _with_site(study, due, status="planned"):
    """``study`` plus a CU site N1 in the south-east (V2), on air from ``due``."""
    import geopandas as gpd
    from toy import cell_point

    new = study.sites.iloc[[0]].copy()
    new["site_id"], new["operator"], new["band"], new["tower_id"] = "N1", "CU", "FDD900", "T9"
    new["status"], new["on_air_date"] = status, due
    new["geometry"] = [cell_point(8, 8)]
    sites = gpd.GeoDataFrame(pd.concat([study.sites, new], ignore_index=True),
                             crs=study.sites.crs)
    return dataclasses.replace(study, sites=sites)


def _view(study, covers_g4=True, group_sites=None):
    """The network of ``study`` with N1 on air (covering G4 and P3 when ``covers_g4``)."""
    from coverage.readiness import AfterPlan

    signal = toy_signal()
    if covers_g4:
        signal.rsrp["CU"][5:, 5:] = -95.0
        signal.best_site["CU"][5:, 5:] = 2
    if group_sites is None:
        group_sites = pd.DataFrame(columns=["group_id", "site_id", "due"])
    return AfterPlan(study, assess(study, signal), group_sites)


def _after_plan(due, covers_g4=True):
    """The optimiser proposes N1 (not committed): the after-plan view only."""
    study = toy_study(cfg_for())
    after_study = _with_site(study, due)
    groups = pd.DataFrame({"group_id": ["G4"], "site_id": ["N1"], "due": [due]})
    return study, _view(after_study, covers_g4, groups)


def test_committed_site_due_before_inspection_makes_ready_after_works():
    study = _with_site(toy_study(cfg_for()), dt.date(2020, 9, 1), "building")
    res = evaluate(study, assess(study, toy_signal()), committed=_view(study))
    v = res.villages.set_index("village_id")
    assert v.loc["V2", "verdict"] == READY_AFTER_WORKS
    reasons = " | ".join(v.loc["V2", "reasons"])
    assert "N1 (site being built/planned, by 2020-09-01)" in reasons
    # the failure is still named, with its remedy
    assert "groups covered: 1 of 2 required groups lack signal" in reasons


def test_committed_site_due_after_inspection_is_not_ready():
    study = _with_site(toy_study(cfg_for()), dt.date(2021, 3, 1))
    res = evaluate(study, assess(study, toy_signal()), committed=_view(study))
    assert res.villages.set_index("village_id").loc["V2", "verdict"] == NOT_READY


def test_village_only_the_proposal_fixes_is_ready_if_plan_built_never_after_works():
    study, after = _after_plan(dt.date(2020, 9, 1))
    committed = _view(study, covers_g4=False)
    res = evaluate(study, assess(study, toy_signal()), after=after, committed=committed)
    v = res.villages.set_index("village_id")
    assert v.loc["V2", "verdict"] == READY_IF_PLAN_BUILT
    reasons = " | ".join(v.loc["V2", "reasons"])
    assert "remedy in the proposed plan (not committed): N1 (proposed site, by 2020-09-01)" \
        in reasons
    assert res.counts[READY_AFTER_WORKS] == 0 and res.counts[READY_IF_PLAN_BUILT] == 1


def test_proposal_due_after_inspection_is_not_ready():
    study, after = _after_plan(dt.date(2021, 3, 1))
    res = evaluate(study, assess(study, toy_signal()), after=after)
    assert res.villages.set_index("village_id").loc["V2", "verdict"] == NOT_READY


def test_gap_the_plan_cannot_close_is_not_ready_and_says_so():
    study, after = _after_plan(dt.date(2020, 9, 1), covers_g4=False)
    res = evaluate(study, assess(study, toy_signal()), after=after)
    v = res.villages.set_index("village_id")
    assert v.loc["V2", "verdict"] == NOT_READY
    assert any("still lack signal after every planned site" in r for r in v.loc["V2", "reasons"])


# ------------------------------------------------------------------ 户均配变容量, worked by hand


def _grid(**cols):
    base = {"work_id": ["GW1"], "village_id": ["V1"], "category": ["配变增容"],
            "owner": ["县供电公司"], "status": ["done"], "investment_wan": [20.0],
            "due": [dt.date(2020, 6, 30)], "done": [dt.date(2020, 6, 20)], "kva_after": [100.0]}
    base.update(cols)
    return pd.DataFrame(base)


def _transformers(kva, households):
    return pd.DataFrame({"transformer_id": [f"TR{i + 1}" for i in range(len(kva))],
                         "village_id": ["V1"] * len(kva), "kva": kva, "households": households})


def test_capacity_by_village_average_versus_single_transformer():
    # TR1 300 kVA / 100 hh = 3.0, TR2 60 / 50 = 1.2; village 360 / 150 = 2.4 ≥ 2.0
    tr = _transformers([300.0, 60.0], [100, 50])
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg_for(), transformers=tr))))
    assert f["V1"].severity == WARNING  # passes on the average; TR2 named as a warning
    assert f["V1"].evidence["kva_per_household"] == 2.4
    assert "2.40 kVA per household" in f["V1"].message and "TR2 1.20" in f["V1"].message
    cfg = cfg_for(kva_rule="per_transformer")
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg, transformers=tr))))
    assert f["V1"].severity == FAIL and f["V1"].evidence["below"] == ["TR2"]


def test_done_upgrade_is_applied_to_the_register():
    # 200/100 and 40/50: 240 / 150 = 1.6 fails on the register; GW1 (done) took the
    # weakest, TR2, to 100 kVA: 300 / 150 = 2.0 passes, and the finding says so
    tr = _transformers([200.0, 40.0], [100, 50])
    study = toy_study(cfg_for(), transformers=tr, grid_works=_grid())
    f = by_village(rule_transformer_capacity(ctx_for(study)))
    assert f["V1"].severity == PASS
    assert "GW1 (TR2 40→100 kVA" in f["V1"].message
    assert "weakest TR2" in f["V1"].message
    # done after the as-of date: not yet applied
    later = _grid(done=[dt.date(2020, 8, 20)])
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg_for(), transformers=tr,
                                                               grid_works=later))))
    assert f["V1"].severity == FAIL


def test_upgrade_due_before_or_after_the_inspection():
    tr = _transformers([200.0, 40.0], [100, 50])
    before = _grid(status=["in_progress"], done=[None], due=[dt.date(2020, 9, 1)],
                   transformer_id=["TR2"])
    study = toy_study(cfg_for(), transformers=tr, grid_works=before)
    f = by_village(rule_transformer_capacity(ctx_for(study)))
    assert f["V1"].severity == FAIL and [r.ref for r in f["V1"].remedies] == ["GW1"]
    assert "2.00 kVA per household once the capacity works are done" in f["V1"].message
    v = evaluate(study, assess(study, toy_signal())).villages.set_index("village_id")
    assert v.loc["V1", "verdict"] == READY_AFTER_WORKS
    after = before.assign(due=[dt.date(2020, 12, 1)])
    study = toy_study(cfg_for(), transformers=tr, grid_works=after)
    f = by_village(rule_transformer_capacity(ctx_for(study)))
    assert f["V1"].severity == FAIL and f["V1"].remedies == ()
    v = evaluate(study, assess(study, toy_signal())).villages.set_index("village_id")
    assert v.loc["V1", "verdict"] == NOT_READY


def test_a_too_small_upgrade_is_no_remedy():
    tr = _transformers([200.0, 40.0], [100, 50])
    small = _grid(status=["planned"], done=[None], due=[dt.date(2020, 9, 1)],
                  kva_after=[80.0])  # 280 / 150 = 1.87
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg_for(), transformers=tr,
                                                               grid_works=small))))
    assert f["V1"].remedies == () and "only 1.87 kVA per household" in f["V1"].message


def test_new_transformer_adds_capacity():
    tr = _transformers([200.0, 40.0], [100, 50])
    new = _grid(category=["新增配变"], status=["planned"], done=[None],
                due=[dt.date(2020, 9, 1)], kva_after=[60.0])  # 300 / 150 = 2.0
    f = by_village(rule_transformer_capacity(ctx_for(toy_study(cfg_for(), transformers=tr,
                                                               grid_works=new))))
    assert [r.ref for r in f["V1"].remedies] == ["GW1"]


def test_a_line_work_is_no_capacity_remedy_and_the_failure_stays_named():
    tr = _transformers([200.0, 40.0], [100, 50])
    line = _grid(category=["线路改造"], status=["in_progress"], done=[None],
                 due=[dt.date(2020, 9, 1)], kva_after=[np.nan])
    study = toy_study(cfg_for(), transformers=tr, grid_works=line)
    f = by_village(rule_transformer_capacity(ctx_for(study)))
    assert f["V1"].severity == FAIL and f["V1"].remedies == ()
    assert "GW1 line work(s) add no transformer capacity" in f["V1"].message
    res = evaluate(study, assess(study, toy_signal()))
    v = res.villages.set_index("village_id")
    assert v.loc["V1", "verdict"] == NOT_READY
    reasons = " | ".join(v.loc["V1", "reasons"])
    # the line work remedies grid_works_done, not the capacity
    assert "grid works done:" in reasons and "committed remedy: GW1" in reasons
    assert "transformer capacity per household:" in reasons
    assert "no remedy finishing before the inspection" in reasons


# ------------------------------------------------------------------ overdue, as-of date


def test_overdue_work_is_listed_and_counts_only_with_a_warning():
    tr = _transformers([200.0, 40.0], [100, 50])
    works = _grid(status=["in_progress"], done=[None], due=[dt.date(2020, 7, 1)],
                  owner=["天河电力"])
    study = toy_study(cfg_for(), transformers=tr, grid_works=works)
    res = evaluate(study, assess(study, toy_signal()))
    od = res.overdue
    assert od[["kind", "ref", "village_id", "who", "days_late"]].values.tolist() == [
        ["grid_work", "GW1", "V1", "天河电力", 31]]
    assert res.as_of == AS_OF
    f = res.findings.set_index(["village_id", "rule"])
    assert f.loc[("V1", "overdue"), "severity"] == WARNING
    assert "GW1 (天河电力, due 2020-07-01, 31 days late)" in f.loc[("V1", "overdue"), "message"]
    v = res.villages.set_index("village_id")
    assert v.loc["V1", "verdict"] == READY_AFTER_WORKS  # due before the inspection
    assert "overdue: counts only if finished before the inspection" in " ".join(
        v.loc["V1", "reasons"])
    assert v.loc["V1", "n_overdue"] == 1
    # the same work on a report of 2020-06-15 is not overdue
    study = toy_study(cfg_for(as_of=dt.date(2020, 6, 15)), transformers=tr, grid_works=works)
    res = evaluate(study, assess(study, toy_signal()))
    assert res.overdue.empty


def test_overdue_site_is_listed_under_its_operator():
    study = _with_site(toy_study(cfg_for()), dt.date(2020, 7, 20), "building")
    res = evaluate(study, assess(study, toy_signal()), committed=_view(study))
    assert res.overdue[["kind", "ref", "village_id", "who"]].values.tolist() == [
        ["planned_site", "N1", "V2", "CU"]]


# ------------------------------------------------------------------ words


def test_point_without_a_name_shows_its_id_and_kind():
    study = toy_study(cfg_for("zh"))
    points = study.points.assign(name=["村委会", "村委会", None, "下湾"])
    study = toy_study(cfg_for("zh"), points=points)
    f = by_village(rule_test_points_covered(ctx_for(study)))
    assert "P3（学校" in f["V2"].message and "nan" not in f["V2"].message
    en = toy_study(cfg_for("en"), points=points)
    f = by_village(rule_test_points_covered(ctx_for(en)))
    assert "P3 (School" in f["V2"].message


def test_chinese_run_reasons_have_no_english_words():
    import re

    study = _with_site(toy_study(cfg_for("zh")), dt.date(2020, 7, 20), "building")
    tr = _transformers([200.0, 40.0], [100, 50])
    line = _grid(category=["线路改造"], status=["in_progress"], done=[None],
                 due=[dt.date(2020, 7, 1)], kva_after=[np.nan])
    study = dataclasses.replace(study, transformers=tr, grid_works=line)
    res = evaluate(study, assess(study, toy_signal()), committed=_view(study))
    texts = [r for rs in res.villages["reasons"] for r in rs] + res.findings[
        "message"].tolist() + res.findings["remedies"].tolist()
    allowed = {"kVA", "dBm", "dB", "km", "RSRP", "CU", "CT", "CMCC", "nan"}
    for text in texts:
        words = set(re.findall(r"[A-Za-z]{2,}", re.sub(r"\b[A-Z]+\d[\w-]*", "", text)))
        assert words <= allowed - {"nan"}, (words, text)
