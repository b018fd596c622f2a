"""The dispatch meeting (调度会): progress tables, paragraph, page and workbook.

A hand-worked case on the toy study: between 2020-08-31 and 2020-09-30 China Unicom's
claimed site comes on air and covers the east half (G3, 50 households, already covered by
China Telecom; G4, 40, covered by nobody before), a grid work is finished and a hazard is
fixed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from test_report import HOSTILE, english_words
from toy import cell_point, toy_signal, toy_study

from coverage.assess import assess
from coverage.config import Config
from coverage.output.progress import (
    build_progress_workbook,
    figure_text,
    paragraph,
    render_progress_html,
)
from coverage.progress import (
    Snapshot,
    month_end,
    previous_month_end,
    progress_tables,
    trend_days,
)
from coverage.readiness import evaluate
from coverage.signal import SignalGrids

START, END, YEAR0 = dt.date(2020, 8, 31), dt.date(2020, 9, 30), dt.date(2019, 12, 31)


def _study(day: dt.date, language: str = "zh"):
    cfg = Config(language=language, readiness={"as_of": day})
    study = toy_study(cfg)
    sites = study.sites.copy()
    cu_on = day >= dt.date(2020, 9, 15)
    extra = sites.iloc[[1]].copy()
    extra["site_id"], extra["operator"], extra["band"] = "K1:CU:FDD900", "CU", "FDD900"
    extra["status"] = "on_air" if cu_on else "planned"
    extra["on_air_date"] = dt.date(2020, 9, 15) if cu_on else dt.date(2020, 9, 20)
    extra = extra.set_geometry([cell_point(5, 8)])
    sites = pd.concat([sites, extra], ignore_index=True)
    claims = pd.DataFrame({
        "claim_id": ["K1"], "operator": ["CU"], "site_id": [None], "tower_id": ["T2"],
        "candidate_id": [None], "lon": [None], "lat": [None], "band": [None],
        "claimed_on": [pd.Timestamp("2020-09-02")], "due": [pd.Timestamp("2020-09-20")],
        "status": ["on_air"], "started_on": [pd.Timestamp("2020-09-05")],
        "on_air_date": [pd.Timestamp("2020-09-15")], "note": [None]})
    grid = study.grid_works.copy()
    grid["done"] = [dt.date(2020, 9, 10)] if day >= dt.date(2020, 9, 10) else [None]
    grid["status"] = ["done"] if day >= dt.date(2020, 9, 10) else ["in_progress"]
    hazards = study.hazards.copy()
    hazards["fixed"] = [True, day >= dt.date(2020, 9, 1)]
    return dataclasses.replace(study, sites=sites, claims=claims, grid_works=grid,
                               hazards=hazards)


def _signal(cu_on: bool) -> SignalGrids:
    sig = toy_signal()
    if cu_on:
        cu = np.full((10, 10), np.nan, np.float32)
        cu[:, 5:] = -90.0
        sig.rsrp["CU"] = cu
        sig.best_site["CU"] = np.where(np.isnan(cu), -1, 2).astype(np.int32)
    return sig


def _snap(day: dt.date, language: str = "zh") -> Snapshot:
    study = _study(day, language)
    a = assess(study, _signal(day >= dt.date(2020, 9, 15)))
    return Snapshot(day, study, a, evaluate(study, a))


def _tables(language: str = "zh"):
    snaps = [_snap(d, language) for d in (YEAR0, START, END)]
    return progress_tables(snaps, {"start": START, "end": END, "year_start": YEAR0,
                                   "trend_first": START})


def test_month_ends():
    assert month_end(dt.date(2020, 2, 3)) == dt.date(2020, 2, 29)
    assert previous_month_end(dt.date(2020, 10, 15)) == dt.date(2020, 9, 30)
    assert previous_month_end(dt.date(2020, 10, 31)) == dt.date(2020, 9, 30)
    study = _study(END)
    days = trend_days(study, START, dt.date(2020, 10, 15))
    assert days[0] == dt.date(2020, 3, 31) and days[-1] == dt.date(2020, 10, 15)
    assert dt.date(2020, 9, 30) in days


def test_hand_worked_operator_progress():
    ops = _tables().operators.set_index("operator")
    cu = ops.loc["CU"]
    assert (cu["claimed"], cu["started"], cu["on_air"]) == (1, 1, 1)
    assert cu["groups_new"] == 2 and cu["households_new"] == 90  # G3 50 + G4 40
    assert ops.loc["CMCC", "groups_new"] == 0 and ops.loc["CT", "on_air"] == 0


def test_hand_worked_owners_hazards_and_trend():
    t = _tables()
    owner = t.owners.set_index("owner").loc["县供电公司"]
    assert owner["projects"] == 1 and owner["done"] == 1
    assert owner["investment_done_wan"] == 12.5
    hz = t.hazards.set_index("period")
    assert (hz.at["period", "found"], hz.at["period", "fixed"]) == (0, 1)
    assert (hz.at["total", "found"], hz.at["total", "fixed"]) == (2, 2)
    trend = t.trend.set_index("day")
    # on air before: only G4 uncovered (G3 has CT; G2, 10 households, is not required)
    assert trend.at[START, "groups_uncovered"] == 1
    assert trend.at[START, "households_uncovered"] == 40
    assert trend.at[END, "groups_uncovered"] == 0
    assert trend.at[END, "investment_done_wan"] == 12.5


def test_paragraph_figures_equal_the_workbook_totals():
    t = _tables()
    cfg = Config(language="zh")
    text = paragraph(t, cfg)
    wb = build_progress_workbook(t, cfg)
    rows = list(wb["汇总"].iter_rows(values_only=True))[1:]
    figures = [v for _k, v in rows if isinstance(v, (int, float))]
    found = re.findall(r"\d+(?:\.\d+)?", text.split("以来", 1)[1])
    assert found == [figure_text(v) for v in figures]
    fig = dict(zip(t.summary["key"], t.summary["value"], strict=True))
    assert fig["sites_new_on_air"] == 1 and fig["groups_newly_covered"] == 1
    assert fig["villages_newly_covered"] == 1 and fig["hazards_fixed"] == 2
    # each summary figure is the total of its sheet
    assert fig["grid_investment_wan"] == t.owners["investment_wan"].sum()
    assert fig["grid_projects"] == t.owners["projects"].sum()
    assert fig["hazards_found"] == t.hazards.set_index("period").at["total", "found"]


def test_same_inputs_give_identical_outputs():
    cfg = Config(language="zh")
    assert render_progress_html(_tables(), cfg) == render_progress_html(_tables(), cfg)


@pytest.mark.parametrize("language", ["zh"])
def test_chinese_progress_has_no_english_words(language):
    t = _tables(language)
    cfg = Config(language=language)
    html = render_progress_html(t, cfg)
    body = html[html.index("<body>"):]
    text = re.sub(r"<[^>]+>", " ", body)
    for bad in ("&lt;img src=x onerror=alert(1)&gt;", "=cmd|&#39; /C calc&#39;!A0"):
        text = text.replace(bad, "")
    assert not english_words(text), english_words(text)
    assert "<img src=x" not in html
    wb = build_progress_workbook(t, cfg)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str) and value not in HOSTILE:
                    assert not english_words(value), (ws.title, value)


def test_english_paragraph():
    text = paragraph(_tables("en"), Config(language="en"))
    assert text.startswith("Since the start of 2020") and "1 sites shared" in text


# ----------------------------------------------------------------------------------------
# The command on the tiny data folder: a run, then the progress page (twice)


def test_progress_command_on_a_data_folder(tiny_data, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from coverage.cli import app
    from coverage.io.writers import write_csv

    write_csv(tiny_data / "sites" / "claims.csv", pd.DataFrame({
        "claim_id": ["RL01", "RL02"], "operator": ["CT", "CMCC"], "site_id": ["", "S4"],
        "tower_id": ["T1", ""], "claimed_on": ["2020-03-01", "2020-03-05"],
        "due": ["2020-08-31", "2020-09-15"], "status": ["开通", "开工"],
        "started_on": ["2020-05-01", "2020-06-01"], "on_air_date": ["2020-09-10", ""]}))
    config = tmp_path / "c.toml"
    config.write_text('[readiness]\nas_of = 2020-09-30\n[planning]\nenabled = false\n'
                      '[model]\nresolution_m = 100.0\nradius_km = 5.0\n', encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1601424000")
    out = tmp_path / "maps"
    runner = CliRunner()
    args = ["--data", str(tiny_data), "--config", str(config), "--out", str(out), "--quiet"]
    assert runner.invoke(app, ["run", *args]).exit_code == 0
    period = ["--from", "2020-08-31", "--to", "2020-09-30"]
    first = runner.invoke(app, ["progress", *args, *period])
    assert first.exit_code == 0, first.output
    html = (out / "progress.html").read_bytes()
    book = (out / "progress.xlsx").read_bytes()
    again = runner.invoke(app, ["progress", *args, *period])
    assert again.exit_code == 0
    assert (out / "progress.html").read_bytes() == html
    assert (out / "progress.xlsx").read_bytes() == book
    wb = load_workbook(out / "progress.xlsx")
    summary = {k: v for k, v in list(wb["汇总"].iter_rows(values_only=True))[1:]}
    assert summary["认领基站(个)"] == 2  # both claims were made this year
    ops = {r[0]: r for r in list(wb["运营商进展"].iter_rows(values_only=True))[1:]}
    assert ops["中国电信"][3] == 1  # the claim on tower T1 came on air on 2020-09-10
    overdue = list(wb["逾期站点"].iter_rows(values_only=True))[1:]
    assert [(r[0], r[2], r[6]) for r in overdue] == [("中国移动", "S4", 15),
                                                     ("中国联通", "WM2", 29)]
    bad = runner.invoke(app, ["progress", *args, "--from", "2020-09-30", "--to", "2020-08-31"])
    assert bad.exit_code == 2


def _calibrated_folder(tiny_data, tmp_path, end: dt.date, *, side: int, rsrp_dbm: float):
    """Write a side x side grid of field measurements per operator (all at ``rsrp_dbm``,
    dated 2020-06-01) into ``tiny_data`` and a calibrated 100 m config with ``as_of = end``
    and no planning; returns the loaded config."""
    from coverage.config import load_config
    from coverage.io.writers import write_csv

    lon, lat = np.meshgrid(np.linspace(116.115, 116.185, side),
                           np.linspace(30.815, 30.885, side))
    write_csv(tiny_data / "measurements" / "measurements.csv", pd.DataFrame(
        [{"lon": round(x, 5), "lat": round(y, 5), "operator": op, "rsrp_dbm": rsrp_dbm,
          "date": "2020-06-01", "tester": "测试"}
         for op in ("CMCC", "CU", "CT") for x, y in zip(lon.ravel(), lat.ravel(), strict=True)]))
    config = tmp_path / "c.toml"
    config.write_text(f'calibrate = true\n[readiness]\nas_of = {end}\n[planning]\n'
                      'enabled = false\n[model]\nresolution_m = 100.0\nradius_km = 5.0\n',
                      encoding="utf-8")
    return load_config(config)


def test_past_days_are_calibrated_like_a_run_of_that_day(tiny_data, tmp_path):
    """With ``calibrate = true`` every day gets the run's calibration: the period's last day
    counts as many uncovered groups as a run with that as-of date (here field measurements
    far below the prediction, so the calibration uncovers groups)."""
    from coverage.pipeline import CACHE_DIR, Steps, compute
    from coverage.progress import compute_progress
    from coverage.study import load_study

    end = dt.date(2020, 9, 30)
    cfg = _calibrated_folder(tiny_data, tmp_path, end, side=6, rsrp_dbm=-118.0)
    out = tmp_path / "maps"
    results = compute(load_study(tiny_data, cfg), out, Steps(True))
    assert results.calibration is not None and results.calibration.terms
    g = results.assessment.groups
    run_uncovered = int((g["required"].astype(bool) & (g["status_ANY"] != "covered")).sum())

    def end_uncovered(calibrate: bool) -> int:
        study = load_study(tiny_data, cfg.model_copy(update={"calibrate": calibrate}))
        snaps, _ = compute_progress(study, dt.date(2020, 8, 31), end,
                                    out / CACHE_DIR / "sites", max_months=2)
        return int(progress_tables(snaps, {"start": dt.date(2020, 8, 31), "end": end,
                                           "year_start": dt.date(2019, 12, 31),
                                           "trend_first": dt.date(2020, 8, 31)}
                                   ).trend.iloc[-1]["groups_uncovered"])

    assert end_uncovered(True) == run_uncovered
    assert end_uncovered(False) < run_uncovered   # the calibration mattered


def test_sampled_days_equal_whole_grid_days(tiny_data, tmp_path):
    """Each site predicted once at the cells the assessments read gives every day exactly
    the figures of whole-grid best-server rasters: points, groups, verdicts and the tables
    (with claims coming on air, pending sites, field measurements and the calibration)."""
    from coverage.io.writers import write_csv
    from coverage.pipeline import CACHE_DIR, Steps, compute
    from coverage.progress import compute_progress
    from coverage.study import load_study

    write_csv(tiny_data / "sites" / "claims.csv", pd.DataFrame({
        "claim_id": ["RL01", "RL02"], "operator": ["CT", "CMCC"], "site_id": ["", "S4"],
        "tower_id": ["T1", ""], "claimed_on": ["2020-03-01", "2020-03-05"],
        "due": ["2020-08-31", "2020-09-15"], "status": ["开通", "开工"],
        "started_on": ["2020-05-01", "2020-06-01"], "on_air_date": ["2020-09-10", ""]}))
    end = dt.date(2020, 9, 30)
    cfg = _calibrated_folder(tiny_data, tmp_path, end, side=5, rsrp_dbm=-112.0)
    out = tmp_path / "maps"
    compute(load_study(tiny_data, cfg), out, Steps(True))
    study = load_study(tiny_data, cfg)
    cache = out / CACHE_DIR / "sites"
    fast, days = compute_progress(study, dt.date(2020, 8, 31), end, cache, max_months=3)
    stored = sorted((out / CACHE_DIR / "site-samples").glob("*.npz"))
    assert stored  # the sites' vectors are kept; a second run reads them
    again, _ = compute_progress(study, dt.date(2020, 8, 31), end, cache, max_months=3)
    assert sorted((out / CACHE_DIR / "site-samples").glob("*.npz")) == stored
    slow, _ = compute_progress(study, dt.date(2020, 8, 31), end, cache, max_months=3,
                               sampled=False)
    assert [s.day for s in fast] == [s.day for s in slow]
    assert len(fast) >= 4
    for a, b, c in zip(fast, slow, again, strict=True):
        pd.testing.assert_frame_equal(c.assessment.groups, a.assessment.groups)
        pd.testing.assert_frame_equal(c.assessment.points, a.assessment.points)
        pd.testing.assert_frame_equal(a.assessment.points, b.assessment.points)
        pd.testing.assert_frame_equal(a.assessment.groups, b.assessment.groups)
        pd.testing.assert_frame_equal(a.readiness.villages, b.readiness.villages)
        pd.testing.assert_frame_equal(a.readiness.findings, b.readiness.findings)
        ea, eb = a.assessment.evidence, b.assessment.evidence
        assert (ea is None) == (eb is None)
        if ea is not None and eb is not None:
            pd.testing.assert_frame_equal(ea.used, eb.used)
            pd.testing.assert_frame_equal(ea.ignored, eb.ignored)
    tf, ts = progress_tables(fast, days), progress_tables(slow, days)
    for name in ("operators", "overdue", "owners", "hazards", "changes", "trend", "summary"):
        pd.testing.assert_frame_equal(getattr(tf, name), getattr(ts, name))
    # the case is not trivial: signal at the points, and some groups covered on some day
    assert fast[-1].assessment.points["rsrp_ANY"].notna().any()
    assert any((s.assessment.groups["status_ANY"] == "covered").any() for s in fast)
    assert fast[-1].assessment.evidence is not None
