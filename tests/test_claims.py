"""The operators' claims file (认领台账): validation, committed sites, adoption, as-of."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from toy import cell_point, toy_study

from coverage.claims import claim_state, with_claim_sites
from coverage.config import Config
from coverage.history import study_as_of
from coverage.io.writers import write_csv
from coverage.study import load_study, validate_data_dir

TODAY = dt.date(2020, 10, 15)

GOOD = {
    "claim_id": ["RL01", "RL02", "RL03", "RL04"],
    "operator": ["CT", "CMCC", "CU", "CU"],
    "site_id": ["", "S4", "", ""],
    "tower_id": ["T1", "", "", ""],
    "candidate_id": ["", "", "C1", ""],
    "lon": ["", "", "", "116.165"],
    "lat": ["", "", "", "30.86"],
    "band": ["", "", "1800", ""],
    "claimed_on": ["2020-03-01", "2020-03-05", "2020-04-01", "2020-04-02"],
    "due": ["2020-08-31", "2020-09-30", "2020-07-31", "2020-09-15"],
    "status": ["开通", "开工", "认领", "撤回"],
    "started_on": ["2020-05-01", "2020-06-01", "", ""],
    "on_air_date": ["2020-08-20", "", "", ""],
    "note": ["", "", "", "村民阻工"],
}


def _write(data: Path, **changes: tuple[int, object]) -> Path:
    frame = pd.DataFrame(GOOD)
    frame.loc[2, "due"] = "2020-12-31"  # row 3 is due after today (as a claim may be)
    for column, (row, value) in changes.items():
        frame.loc[row - 1, column] = value
    write_csv(data / "sites" / "claims.csv", frame)
    return data


def _errors(data: Path) -> list:
    return [p for p in validate_data_dir(data, Config(), today=TODAY) if p.is_error]


def test_a_good_claims_file_loads(tiny_data):
    study = load_study(_write(tiny_data), Config(), today=TODAY)
    assert list(study.claims["claim_id"]) == ["RL01", "RL02", "RL03", "RL04"]
    assert list(study.claims["status"]) == ["on_air", "started", "claimed", "withdrawn"]
    assert study.claims.at[2, "band"] == "FDD1800"


def test_chinese_headers_are_read(tiny_data):
    names = {"claim_id": "认领编号", "operator": "运营商", "site_id": "站点编号",
             "tower_id": "铁塔编号", "candidate_id": "候选站编号", "lon": "经度", "lat": "纬度",
             "band": "频段", "claimed_on": "认领日期", "due": "计划开通日期", "status": "状态",
             "started_on": "开工日期", "on_air_date": "开通日期", "note": "备注"}
    frame = pd.DataFrame(GOOD).rename(columns=names)
    frame["运营商"] = ["电信", "移动", "联通", "联通"]
    write_csv(tiny_data / "sites" / "claims.csv", frame)
    study = load_study(tiny_data, Config(), today=TODAY)
    assert list(study.claims["operator"]) == ["CT", "CMCC", "CU", "CU"]
    assert study.claims["due"].dt.date.iloc[0] == dt.date(2020, 8, 31)


@pytest.mark.parametrize(("column", "row", "value", "words"), [
    ("operator", 1, "CBN", "operator"),
    ("tower_id", 1, "T9", "tower_id"),
    ("site_id", 2, "S99", "site_id"),
    ("candidate_id", 3, "C7", "candidate_id"),
    ("due", 1, "2020-02-01", "due"),
    ("claim_id", 2, "RL01", "duplicate claim_id"),
    ("on_air_date", 1, "", "on_air_date"),
    ("claimed_on", 3, "2020-10-20", "after today"),
    ("started_on", 2, "2020-12-01", "after today"),
    ("lon", 4, "118.5", "研究区"),
    ("site_id", 3, "S1", "运营商"),
])
def test_each_bad_claim_gets_one_clear_error(tiny_data, column, row, value, words):
    errors = _errors(_write(tiny_data, **{column: (row, value)}))
    assert len(errors) == 1, [str(e) for e in errors]
    err = errors[0]
    assert err.file == "sites/claims.csv" and err.row == row
    assert words in str(err)


def test_a_claim_naming_nothing_is_an_error(tiny_data):
    frame = pd.DataFrame(GOOD)
    frame.loc[0, "tower_id"] = ""
    write_csv(tiny_data / "sites" / "claims.csv", frame)
    errors = _errors(tiny_data)
    assert len(errors) == 1 and errors[0].row == 1 and "未指明" in str(errors[0])


def test_bad_claims_stop_the_cli_with_exit_2(tiny_data, tmp_path):
    from click.testing import CliRunner

    from coverage.cli import app

    _write(tiny_data, due=(1, "2020-01-01"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--data", str(tiny_data), "--out", str(out),
                                      "--quiet"])
    assert result.exit_code == 2, result.output
    assert "sites/claims.csv" in result.output and not out.exists()


# ----------------------------------------------------------------------------------------
# Claims on the toy study: state on a day and the sites they commit


def _toy_claims(**cols) -> pd.DataFrame:
    base = {"claim_id": ["K1"], "operator": ["CU"], "site_id": [None], "tower_id": ["T2"],
            "candidate_id": [None], "lon": [None], "lat": [None], "band": [None],
            "claimed_on": [pd.Timestamp("2020-04-01")], "due": [pd.Timestamp("2020-08-31")],
            "status": ["claimed"], "started_on": [pd.NaT], "on_air_date": [pd.NaT],
            "note": [None]}
    base.update(cols)
    return pd.DataFrame(base)


CFG = Config(readiness={"as_of": dt.date(2020, 9, 30)})


def test_claim_state_follows_the_dates():
    claims = _toy_claims(claim_id=["A", "B", "C", "D"], operator=["CU"] * 4,
                         site_id=[None] * 4, tower_id=["T2"] * 4, candidate_id=[None] * 4,
                         lon=[None] * 4, lat=[None] * 4, band=[None] * 4,
                         claimed_on=pd.to_datetime(["2020-04-01", "2020-04-01", "2020-08-01",
                                                    "2020-04-01"]),
                         due=pd.to_datetime(["2020-06-30"] * 4),
                         status=["on_air", "started", "claimed", "withdrawn"],
                         started_on=pd.to_datetime(["2020-05-01", pd.NaT, pd.NaT, pd.NaT]),
                         on_air_date=pd.to_datetime(["2020-08-15", pd.NaT, pd.NaT, pd.NaT]),
                         note=[None] * 4)
    july = claim_state(claims, dt.date(2020, 7, 31)).set_index("claim_id")
    assert list(july["state"]) == ["started", "started", "absent", "withdrawn"]
    assert list(july["days_late"]) == [31, 31, 0, 0]
    august = claim_state(claims, dt.date(2020, 8, 31)).set_index("claim_id")
    assert list(august["state"]) == ["on_air", "started", "claimed", "withdrawn"]
    assert list(august["overdue"]) == [False, True, True, False]
    april = claim_state(claims, dt.date(2020, 4, 30)).set_index("claim_id")
    assert april.at["A", "state"] == "claimed"


def test_tower_claim_commits_a_pending_site_at_the_tower():
    study = with_claim_sites(toy_study(CFG, claims=_toy_claims()))
    new = study.sites.set_index("site_id").loc["K1:CU:FDD900"]
    assert new["status"] == "planned" and new["on_air_date"] == dt.date(2020, 8, 31)
    assert new["height_m"] == 30.0 and new.geometry.equals(cell_point(2, 5))


def test_position_claim_uses_the_planning_mast_height_and_the_claims_band():
    study = toy_study(CFG)
    ll = gpd.GeoSeries([cell_point(8, 8)], crs=study.sites.crs).to_crs("EPSG:4326")
    claims = _toy_claims(tower_id=[None], lon=[float(ll.x.iloc[0])], lat=[float(ll.y.iloc[0])],
                         band=["FDD1800"], status=["started"])
    study = with_claim_sites(dataclasses.replace(study, claims=claims))
    new = study.sites.set_index("site_id").loc["K1:CU:FDD1800"]
    assert new["status"] == "building" and new["height_m"] == CFG.planning.candidate_height_m
    assert new.geometry.distance(cell_point(8, 8)) < 0.01


def test_withdrawn_and_future_claims_commit_nothing():
    for cols in ({"status": ["withdrawn"]}, {"claimed_on": [pd.Timestamp("2020-10-05")]}):
        study = with_claim_sites(toy_study(CFG, claims=_toy_claims(**cols)))
        assert len(study.sites) == 2


def test_on_air_claim_is_on_air_from_its_date():
    claims = _toy_claims(status=["on_air"], on_air_date=[pd.Timestamp("2020-08-20")])
    sept = with_claim_sites(toy_study(CFG, claims=claims))
    assert sept.sites.set_index("site_id").at["K1:CU:FDD900", "status"] == "on_air"
    july = with_claim_sites(toy_study(CFG, claims=claims), dt.date(2020, 7, 31))
    row = july.sites.set_index("site_id").loc["K1:CU:FDD900"]
    assert row["status"] == "planned" and row["on_air_date"] == dt.date(2020, 8, 31)


# ----------------------------------------------------------------------------------------
# Any day in the past


def _dated_study():
    study = toy_study(CFG)
    sites = study.sites.copy()
    sites["on_air_date"] = [dt.date(2015, 1, 1), dt.date(2020, 8, 10)]
    hazards = pd.DataFrame({"hazard_id": ["H1", "H2", "H3"], "village_id": ["V1", "V2", "V2"],
                            "found": [dt.date(2020, 3, 1), dt.date(2020, 3, 1),
                                      dt.date(2020, 8, 5)],
                            "fixed": [True, True, False],
                            "fixed_on": [dt.date(2020, 4, 1), dt.date(2020, 8, 20), None]})
    return dataclasses.replace(study, sites=sites, hazards=hazards)


def test_a_site_on_air_in_august_is_absent_in_july():
    july = study_as_of(_dated_study(), dt.date(2020, 7, 31))
    assert list(july.sites["site_id"]) == ["S1"]
    sept = study_as_of(_dated_study(), dt.date(2020, 9, 30))
    assert list(sept.sites["site_id"]) == ["S1", "S2"]


def test_a_claimed_site_on_air_later_is_pending_before():
    study = _dated_study()
    claims = _toy_claims(operator=["CT"], site_id=["S2"], tower_id=[None], status=["on_air"],
                         on_air_date=[pd.Timestamp("2020-08-10")])
    study = dataclasses.replace(study, claims=claims)
    day = dt.date(2020, 7, 31)
    july = with_claim_sites(study_as_of(study, day), day)
    s2 = july.sites.set_index("site_id").loc["S2"]
    assert s2["status"] == "planned" and s2["on_air_date"] == dt.date(2020, 8, 31)


def test_hazards_found_or_fixed_later_are_reconstructed():
    july = study_as_of(_dated_study(), dt.date(2020, 7, 31)).hazards
    assert list(july["hazard_id"]) == ["H1", "H2"] and list(july["fixed"]) == [True, False]
    sept = study_as_of(_dated_study(), dt.date(2020, 9, 30)).hazards
    assert list(sept["fixed"]) == [True, True, False]


# ----------------------------------------------------------------------------------------
# claims adopt: the proposal as claim rows for the office to confirm


def _plan_csv(path: Path) -> Path:
    write_csv(path, pd.DataFrame({
        "tower_id": ["T1", "C1", "HILL-0001"], "source": ["existing", "user", "hill"],
        "kind": ["existing_tower", "new", "new"], "lon": [116.14, 116.13, 116.165],
        "lat": [30.875, 30.84, 30.86], "operator": ["CT", "CU", "CMCC"],
        "band": ["FDD800", "FDD1800", "FDD900"], "households_new": [120, 80, 45]}))
    return path


def _adopt(*args: str):
    from click.testing import CliRunner

    from coverage.cli import app

    return CliRunner().invoke(app, ["claims", "adopt", *args])


def test_adopt_writes_a_new_file_that_reads_back_as_claims(tiny_data, tmp_path):
    plan = _plan_csv(tmp_path / "maps" / "plan.csv")
    result = _adopt(str(plan), "--claims", str(tiny_data / "sites" / "claims.csv"),
                    "--claimed-on", "2020-04-01", "--due", "2020-09-30")
    assert result.exit_code == 0, result.output
    proposed = tmp_path / "maps" / "claims.proposed.csv"
    assert str(proposed) in result.output and "3" in result.output
    assert not (tiny_data / "sites" / "claims.csv").exists()
    rows = pd.read_csv(proposed, dtype=str, encoding="utf-8-sig")
    assert list(rows["状态"]) == ["认领"] * 3 and list(rows["运营商"]) == ["CU", "CMCC", "CT"]
    # the office confirms: the file is a valid claims file as it stands
    proposed.replace(tiny_data / "sites" / "claims.csv")
    study = load_study(tiny_data, Config(), today=TODAY)
    assert list(study.claims["status"]) == ["claimed"] * 3
    assert study.claims.set_index("claim_id").loc["RL-202004-001", "candidate_id"] == "C1"


def test_adopt_skips_claimed_proposals_and_never_overwrites_the_office_file(tiny_data,
                                                                           tmp_path):
    claims = _write(tiny_data) / "sites" / "claims.csv"
    before = claims.read_bytes()
    plan = _plan_csv(tmp_path / "plan.csv")
    refused = _adopt(str(plan), "--claims", str(claims), "--out", str(claims))
    assert refused.exit_code == 2 and claims.read_bytes() == before
    result = _adopt(str(plan), "--claims", str(claims), "--claimed-on", "2020-05-01")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "claims.proposed.csv", dtype=str, encoding="utf-8-sig")
    # RL01 already claims tower T1 for CT and RL03 candidate C1 for CU
    assert list(rows["认领编号"]) == ["RL-202005-001"] and list(rows["运营商"]) == ["CMCC"]
    assert claims.read_bytes() == before
    appended = _adopt(str(plan), "--claims", str(claims), "--append-to-claims",
                      "--claimed-on", "2020-05-01")
    assert appended.exit_code == 0, appended.output
    study = load_study(tiny_data, Config(), today=TODAY)
    assert list(study.claims["claim_id"]) == ["RL01", "RL02", "RL03", "RL04", "RL-202005-001"]


# ----------------------------------------------------------------------------------------
# The blank claims template (`coverage-planner template`)


def test_claims_template_validates_once_filled_in(tiny_data, tmp_path):
    """The office types its claims under the template's Chinese headers and status words
    (认领/开工/开通/撤回); the filled workbook is read as the claims file, example row left out."""
    import openpyxl

    from coverage.io.template import write_templates

    written = write_templates(tmp_path / "tpl", Config())
    path = tmp_path / "tpl" / "sites" / "claims.xlsx"
    assert path in written
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    headers = [c.value for c in ws[2]]
    for head in ("认领编号", "运营商", "铁塔编号", "认领日期", "计划开通日期", "状态", "开通日期"):
        assert head in headers
    example = dict(zip(headers, [c.value for c in ws[3]], strict=True))
    assert str(example["认领编号"]).startswith("示例") and example["状态"] == "开工"
    status_list = [dv.formula1 for dv in ws.data_validations.dataValidation
                   if str(dv.sqref).startswith(openpyxl.utils.get_column_letter(
                       headers.index("状态") + 1))]
    assert status_list == ['"认领,开工,开通,撤回"']
    filled = {"认领编号": "RL01", "运营商": "中国电信", "铁塔编号": "T1",
              "认领日期": "2020-03-01", "计划开通日期": "2020-08-31", "状态": "开通",
              "开工日期": "2020-05-01", "开通日期": "2020-09-10", "备注": "共享铁塔"}
    ws.append([filled.get(h) for h in headers])
    book.save(tiny_data / "sites" / "claims.xlsx")
    assert [p for p in validate_data_dir(tiny_data, Config()) if p.is_error] == []
    claims = load_study(tiny_data, Config()).claims
    assert claims is not None
    assert claims["claim_id"].tolist() == ["RL01"]
    assert claims["status"].tolist() == ["on_air"] and claims["operator"].tolist() == ["CT"]
