"""Sites that the mobile works list builds join the committed network, dated by the work."""

import datetime as dt

import geopandas as gpd
from toy import cell_point, toy_study

from coverage.config import Config
from coverage.work_sites import with_work_sites

CFG = Config(readiness={"as_of": dt.date(2020, 8, 1)})


def _works(site_id=None, status="in_progress"):
    study = toy_study(CFG)
    works = gpd.GeoDataFrame(study.mobile_works.assign(site_id=[site_id], status=[status]),
                             geometry=[cell_point(8, 8)], crs=study.sites.crs)
    return toy_study(CFG, mobile_works=works)


def test_new_site_work_with_a_position_adds_a_planned_site():
    study = with_work_sites(_works())
    new = study.sites.set_index("site_id").loc["MW1:CU:FDD900"]
    assert new["status"] == "planned" and new["on_air_date"] == dt.date(2020, 9, 30)
    assert new["height_m"] == CFG.planning.candidate_height_m and new["ground_m"] == 200.0
    assert new.geometry.equals(cell_point(8, 8))


def test_work_naming_a_site_dates_it():
    study = toy_study(CFG)
    sites = study.sites.copy()
    sites.loc[1, "status"] = "building"
    base = _works(site_id="S2")
    import dataclasses

    study = with_work_sites(dataclasses.replace(base, sites=sites))
    s2 = study.sites.set_index("site_id").loc["S2"]
    assert s2["on_air_date"] == dt.date(2020, 9, 30)
    assert len(study.sites) == 2  # no new site: the work names an existing one


def test_done_work_builds_nothing():
    study = with_work_sites(_works(status="done"))
    assert len(study.sites) == 2
