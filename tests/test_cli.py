"""The command line: exit codes, messages, nothing written on failure, nothing outside --out."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage import cli
from coverage.cli import app

runner = CliRunner()


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_validate_clean_data(tiny_data):
    result = runner.invoke(app, ["validate", str(tiny_data)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_validate_reports_errors_with_exit_2(tiny_data):
    sites = tiny_data / "sites" / "sites.csv"
    text = sites.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("operator")] = "XYZ"
    sites.write_text("\n".join([text[0], ",".join(row), *text[2:]]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tiny_data)])
    assert result.exit_code == 2
    assert "sites/sites.csv, row 1, column 'operator'" in result.output
    assert "XYZ" in result.output


def test_bad_config_exit_2_and_nothing_written(tiny_data, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[model]\nresolution = 30\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--data", str(tiny_data), "--config", str(cfg),
                                 "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert "model.resolution" in result.output and "unknown key" in result.output
    assert not out.exists() or files_under(out) == []


def test_internal_error_exit_1_without_traceback(tiny_data, tmp_path, monkeypatch):
    import coverage.pipeline

    def boom(*_a, **_k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(coverage.pipeline, "run_pipeline", boom)
    result = runner.invoke(app, ["run", "--data", str(tiny_data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "internal error: RuntimeError: kaboom" in result.output
    assert "Traceback" not in result.output


def test_version():
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and "coverage-planner" in result.output


def test_main_is_the_console_script():
    assert callable(cli.main)


@pytest.mark.parametrize("missing", ["data", "config"])
def test_missing_paths_exit_2(tmp_path, missing):
    args = ["run", "--out", str(tmp_path / "o"), "--quiet"]
    if missing == "data":
        args += ["--data", str(tmp_path / "nope")]
    else:
        args += ["--config", str(tmp_path / "nope.toml")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output


def test_readiness_strict_exit_3_and_table(tiny_data, tmp_path):
    out = tmp_path / "o"
    result = runner.invoke(app, ["readiness", "--data", str(tiny_data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "verdicts as of 2020-09-30: READY" in result.output and "town" in result.output
    strict = runner.invoke(app, ["readiness", "--data", str(tiny_data), "--out", str(out),
                                 "--strict", "--quiet"])
    # the tiny county has a NOT_READY village (an uncovered group nothing will cure)
    assert strict.exit_code == 3


def test_subcommands_stop_after_their_step(tiny_data, tmp_path):
    out = tmp_path / "p"
    result = runner.invoke(app, ["predict", "--data", str(tiny_data), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "coverage" / "rsrp_any.tif").is_file()
    assert not (out / "report.html").exists()
    result = runner.invoke(app, ["plan", "--data", str(tiny_data), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "plan.gpkg").is_file() and (out / "plan.kml").is_file()


def test_run_on_a_local_cluster_equals_serial(tiny_data, tmp_path):
    pytest.importorskip("distributed")
    serial, cluster = tmp_path / "serial", tmp_path / "cluster"
    a = runner.invoke(app, ["run", "--data", str(tiny_data), "--out", str(serial), "-q"])
    b = runner.invoke(app, ["run", "--data", str(tiny_data), "--out", str(cluster), "-q",
                            "--workers", "2"])
    assert a.exit_code == 0 and b.exit_code == 0, b.output
    for name in ["coverage/rsrp_any.tif", "coverage/best_site_CT.tif", "plan.csv",
                 "tables/groups.csv"]:
        assert (serial / name).read_bytes() == (cluster / name).read_bytes(), name
