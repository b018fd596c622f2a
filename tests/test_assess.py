"""Assessment on the hand-built toy study: every number worked out by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toy import toy_signal, toy_study

from coverage.assess import assess, effective_threshold, grouped_weighted_quantile
from coverage.config import Config
from coverage.signal import ANY


@pytest.fixture(scope="module")
def result():
    return assess(toy_study(), toy_signal())


def test_test_points(result):
    p = result.points.set_index("point_id")
    assert p.loc["P1", "rsrp_CMCC"] == -90.0 and p.loc["P1", "site_CMCC"] == "S1"
    assert bool(p.loc["P1", "covered_CMCC"]) and bool(p.loc["P1", "covered_CT"])
    assert p.loc["P1", "n_operators"] == 2
    # P2 (north-east): CT only
    assert not p.loc["P2", "covered_CMCC"] and p.loc["P2", "covered_ANY"]
    assert p.loc["P2", "operator_ANY"] == "CT"
    # P3 (south-east): CMCC −120, CT no signal → uncovered
    assert np.isnan(p.loc["P3", "rsrp_CT"]) and p.loc["P3", "site_CT"] is None
    assert not p.loc["P3", "covered_ANY"] and p.loc["P3", "rsrp_ANY"] == -120.0
    # P4 is a settlement in a 10-household group: reported, not required
    assert not p.loc["P4", "required"] and p.loc["P1", "required"]


def test_groups_from_cells(result):
    g = result.groups.set_index("group_id")
    assert g.loc["G1", "status_CMCC"] == "covered" and g.loc["G1", "share_CT"] == 1.0
    assert g.loc["G3", "share_CMCC"] == 0.0 and g.loc["G3", "status_ANY"] == "covered"
    assert g.loc["G4", "status_ANY"] == "uncovered"
    assert g.loc["G4", "median_ANY"] == -120.0 and np.isnan(g.loc["G4", "median_CT"])
    assert not g.loc["G2", "required"]
    assert g.loc["G1", "n_operators"] == 2 and g.loc["G3", "n_operators"] == 1


def test_household_points_weight_the_share():
    res = assess(toy_study(households=True), toy_signal())
    g = res.groups.set_index("group_id")
    # G3's clusters (40 + 10 households) both sit in CT's northern band; CMCC is weak east
    assert g.loc["G3", "share_CT"] == 1.0 and g.loc["G3", "share_CMCC"] == 0.0


def test_partial_group_by_household_weight():
    study = toy_study(households=True)
    sig = toy_signal()
    sig.rsrp["CT"][4, 9] = np.nan  # the 10-household cluster of G3 loses CT
    res = assess(study, sig)
    g3 = res.groups.set_index("group_id").loc["G3"]
    assert g3["share_ANY"] == pytest.approx(0.8)
    assert g3["status_ANY"] == "partial"
    assert g3["p10_ANY"] == -120.0 and g3["median_ANY"] == -100.0
    assert res.gaps["group_id"].tolist() == ["G3", "G4"]
    assert "仅80%的户数达到-105 dBm" in res.gaps.set_index("group_id").loc["G3", "reason"]


def test_rollup_adds_up(result):
    county = result.county.set_index("operator")
    villages = result.villages
    for op in result.operators:
        assert county.loc[op, "households_covered"] == pytest.approx(
            villages[f"households_covered_{op}"].sum())
        assert county.loc[op, "groups_covered"] == villages[f"groups_covered_{op}"].sum()
        # one definition: uncovered = required and not covered (partial ones included)
        assert (county.loc[op, "groups_covered"] + county.loc[op, "groups_uncovered"]
                ) == county.loc[op, "groups_required"]
        assert county.loc[op, "groups_partial"] <= county.loc[op, "groups_uncovered"]
    assert county.loc[ANY, "households"] == 130
    # G1 30 + G2 10 (CMCC west) + G3 50 (CT north)
    assert county.loc[ANY, "households_covered"] == 90
    assert county.loc[ANY, "villages_covered"] == 1


def test_gap_list_has_reasons(result):
    gaps = result.gaps
    assert gaps["group_id"].tolist() == ["G4"]
    assert "−120" in gaps.loc[0, "reason"].replace("-", "−")


def test_reliability_margin_raises_threshold():
    cfg = Config(rule={"location_reliability": 0.9})
    assert effective_threshold(cfg) == pytest.approx(-105 + 1.2816 * 8, abs=0.01)
    res = assess(toy_study(cfg), toy_signal())
    # −100 dBm no longer meets −94.7 dBm: G3 loses CT coverage
    assert res.groups.set_index("group_id").loc["G3", "status_ANY"] == "uncovered"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(-140, -60), st.integers(1, 50)),
                min_size=1, max_size=40))
def test_grouped_quantile_matches_expanded_sample(rows):
    labels = np.array([r[0] for r in rows])
    values = np.array([r[1] for r in rows])
    weights = np.array([r[2] for r in rows], float)
    got = grouped_weighted_quantile(labels, values, weights, 4, 0.5)
    for g in range(4):
        sel = labels == g
        if not sel.any():
            assert np.isnan(got[g])
            continue
        expanded = np.sort(np.repeat(values[sel], weights[sel].astype(int)))
        # lower weighted median: the first value whose cumulative weight reaches half
        k = int(np.ceil(0.5 * len(expanded))) - 1
        assert got[g] == expanded[max(k, 0)]
