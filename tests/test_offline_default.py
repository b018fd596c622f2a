"""Maps are offline by default: without the installed assets `run` stops before any work
with one message naming the fix, and writes nothing; ``--cdn-maps`` needs no assets."""

from pathlib import Path

from click.testing import CliRunner

from coverage.cli import app
from coverage.pipeline import MapOptions

ROOT = Path(__file__).resolve().parents[1]


def test_map_options_are_offline_by_default():
    assert MapOptions().offline is True


def test_run_without_installed_assets_names_the_fix_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("COVERAGE_PLANNER_ASSETS", str(tmp_path / "no-assets"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--data", str(ROOT / "data"), "--config",
                                      str(ROOT / "coverage.toml"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "make assets" in text and "--cdn-maps" in text
    assert not out.exists() or not any(out.iterdir())
