"""Configuration: template equals defaults, unknown keys and bad values are clear errors."""

import datetime as dt
from pathlib import Path

import pytest

from coverage.config import Config, load_config
from coverage.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_template_is_the_defaults():
    # except the as-of date, which the demo pins (the default, today, would make its
    # outputs change every day)
    cfg = load_config(ROOT / "coverage.toml")
    assert cfg.readiness.as_of == dt.date(2020, 9, 30) and Config().readiness.as_of is None
    pinned = cfg.model_copy(update={"readiness": cfg.readiness.model_copy(
        update={"as_of": None})})
    assert pinned == Config()


def test_as_of_option_overrides_the_config():
    from coverage.cli import _with_as_of

    cfg = _with_as_of(Config(), "2020-07-01")
    assert cfg.readiness.as_of == dt.date(2020, 7, 1)
    assert _with_as_of(cfg, None) is cfg
    with pytest.raises(ConfigError, match="--as-of '2020-13-01' is not a date"):
        _with_as_of(cfg, "2020-13-01")


def test_defaults_the_planner_relies_on():
    cfg = Config()
    assert cfg.rule.threshold_dbm == -105.0
    assert cfg.rule.model_copy(update={"profile": "lenient"}).threshold_dbm == -110.0
    assert cfg.rule.receiver_height_m == 1.5
    assert cfg.rule.group_share == 0.95
    assert cfg.model.resolution_m == 30.0
    assert cfg.model.radius_km == 15.0
    assert cfg.readiness.kva_per_household_min == 2.0
    assert set(cfg.operators) == {"CMCC", "CT", "CU"}
    assert set(cfg.operators["CMCC"].bands) == {"FDD900", "TDD1900", "TDD2600"}
    assert cfg.band("CT", "FDD800").frequency_mhz == 875.0


def test_unknown_key_is_an_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[rule]\nthreshold = -100\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "rule.threshold" in str(info.value)
    assert "unknown key" in str(info.value)


def test_every_problem_reported_at_once(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('language = "fr"\n[model]\nresolution_m = -3\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "2 problem(s)" in text
    assert "language" in text and "model.resolution_m" in text


def test_not_toml_and_missing_file(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_quota_for_unknown_operator(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[planning.quotas_min]\nXX = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown operator 'XX'"):
        load_config(path)


def test_config_hash_changes_with_content():
    a = Config()
    b = Config(rule={"standard_rsrp_dbm": -100.0})
    assert a.config_hash() != b.config_hash()
    assert a.config_hash() == Config().config_hash()
    assert len(a.config_hash()) == 16
