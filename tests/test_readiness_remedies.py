"""Remedies of a coverage failure: the nearest coming site of each operator, a test point's
serving site, each with its own on-air date."""

import dataclasses
import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from test_readiness import _view, cfg_for
from toy import cell_point, toy_signal, toy_study

from coverage.assess import assess
from coverage.readiness import READY_AFTER_WORKS, evaluate


def _with_sites(study, placed):
    """``study`` plus CU sites being built: (site_id, row, col, on-air date)."""
    rows = []
    for site_id, r, c, due in placed:
        new = study.sites.iloc[[0]].copy()
        new["site_id"], new["operator"], new["band"] = site_id, "CU", "FDD900"
        new["tower_id"], new["status"], new["on_air_date"] = f"T{site_id}", "building", due
        new["geometry"] = [cell_point(r, c)]
        rows.append(new)
    sites = gpd.GeoDataFrame(pd.concat([study.sites, *rows], ignore_index=True),
                             crs=study.sites.crs)
    return dataclasses.replace(study, sites=sites)


@pytest.mark.parametrize(("near", "far"), [("N1", "N2"), ("N2", "N1")])
def test_the_nearest_coming_site_of_the_operator_is_the_remedy(near: str, far: str) -> None:
    """G4 (V2 south) is covered by CU once the sites being built are on air; its remedy
    is the CU site nearest to it, with that site's own on-air date."""
    dates = {near: dt.date(2020, 9, 1), far: dt.date(2020, 9, 20)}
    study = _with_sites(toy_study(cfg_for()), [(near, 8, 8, dates[near]),
                                               (far, 0, 0, dates[far])])
    committed = _view(study)
    res = evaluate(study, assess(study, toy_signal()), committed=committed)
    v = res.villages.set_index("village_id")
    assert v.loc["V2", "verdict"] == READY_AFTER_WORKS
    findings = res.findings[(res.findings["village_id"] == "V2")
                            & (res.findings["rule"] == "groups_covered")]
    remedies = findings["remedies"].iloc[0]
    assert f"{near} (site being built/planned, by {dates[near]:%Y-%m-%d})" in remedies
    assert far not in remedies


def test_a_test_point_names_its_serving_site_among_the_coming_ones() -> None:
    study = _with_sites(toy_study(cfg_for()), [("N1", 8, 8, dt.date(2020, 9, 1)),
                                               ("N2", 0, 0, dt.date(2020, 9, 20))])
    signal = toy_signal()
    signal.rsrp["CU"][5:, 5:] = -95.0
    signal.best_site["CU"][5:, 5:] = len(study.sites) - 1  # N2 serves the south-east
    from coverage.readiness import AfterPlan

    committed = AfterPlan(study, assess(study, signal),
                          pd.DataFrame(columns=["group_id", "site_id", "due"]))
    res = evaluate(study, assess(study, toy_signal()), committed=committed)
    points = res.findings[(res.findings["village_id"] == "V2")
                          & (res.findings["rule"] == "test_points_covered")]
    remedies = points["remedies"].iloc[0]
    assert "N2 (site being built/planned, by 2020-09-20)" in remedies
    assert "N1" not in remedies
