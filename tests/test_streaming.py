"""The tiled prediction step (grids above max_in_memory_cells): same files as whole arrays."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from coverage.cli import app
from coverage.config import Config, ModelSettings
from coverage.evidence.calibration import apply_calibration, fit_calibration
from coverage.evidence.compare import compare
from coverage.pipeline import RunResults, provenance, write_coverage_rasters
from coverage.predict import predict_coverage
from coverage.scale.streaming import CellSamples, needs_tiling, predict_to_folder
from coverage.study import Study, load_study

BIAS_DB = {"CMCC": 5.0, "CU": -4.0, "CT": 3.0}


class _Folder:
    """Stands in for the staged output folder of the whole-array writer."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, relative: str) -> Path:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.tif"))}


def _with_measurements(study: Study, n: int = 400, seed: int = 3) -> Study:
    """Readings at random covered cells: prediction + a known bias per operator + noise."""
    raw = predict_coverage(study)
    rng = np.random.default_rng(seed)
    t = study.grid.transform
    frames = []
    for op, bias in BIAS_DB.items():
        rows = rng.integers(0, study.grid.shape[0], n)
        cols = rng.integers(0, study.grid.shape[1], n)
        pred = raw.by_operator[op].rsrp[rows, cols].astype(float)
        ok = np.isfinite(pred)
        x = t.c + (cols + 0.5) * t.a
        y = t.f + (rows + 0.5) * t.e
        frames.append(gpd.GeoDataFrame(
            {"operator": op, "rsrp_dbm": np.round(pred + bias + rng.normal(0, 3, n), 1),
             "date": pd.Timestamp("2020-07-01"), "sinr_db": np.nan, "tester": "t",
             "point_id": None, "lon": 116.1, "lat": 30.8},
            geometry=gpd.points_from_xy(x, y), crs=study.grid.crs)[ok])
    meas = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=study.grid.crs)
    return dataclasses.replace(study, measurements=meas)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory) -> Study:
    from tests.conftest import make_tiny_data

    data = make_tiny_data(tmp_path_factory.mktemp("tiny") / "data")
    return load_study(data, Config())


def _whole_array_files(study: Study, coverage, folder: Path) -> dict[str, str]:
    results = RunResults(study)
    results.coverage = coverage
    write_coverage_rasters(_Folder(folder), results, provenance(study))
    return _digests(folder / "coverage")


def test_tiled_files_equal_the_whole_array_files(tiny_study, tmp_path):
    study = _with_measurements(tiny_study)
    whole = _whole_array_files(study, predict_coverage(study), tmp_path / "whole")
    streamed = predict_to_folder(study, tmp_path / "tiled", cache_dir=tmp_path / "cache",
                                 tags=provenance(study).as_dict(), tile_cells=64)
    assert len(whole) == 7 and _digests(tmp_path / "tiled") == whole
    assert streamed.run.tiles > 4 and streamed.passes == 1 and not streamed.calibrated
    # the comparison sampled from tiles equals the one on whole rasters
    expected = compare(study, predict_coverage(study))
    pd.testing.assert_frame_equal(streamed.comparison.table, expected.table)


def test_calibrated_tiles_equal_calibrated_whole_arrays(tiny_study, tmp_path):
    study = _with_measurements(tiny_study)
    study = dataclasses.replace(study, config=study.config.model_copy(update={"calibrate": True}))
    raw = predict_coverage(study)
    fit = fit_calibration(compare(study, raw))
    assert {t.operator for t in fit.terms} == set(BIAS_DB)
    for op, bias in BIAS_DB.items():
        assert fit.term(op).offset_db == pytest.approx(bias, abs=1.0)
    whole = _whole_array_files(study, apply_calibration(study, raw, fit), tmp_path / "whole")
    streamed = predict_to_folder(study, tmp_path / "tiled", cache_dir=tmp_path / "cache",
                                 tags=provenance(study).as_dict(), tile_cells=48)
    assert streamed.calibrated and streamed.passes == 2
    assert _digests(tmp_path / "tiled") == whole
    # every on-air site counted once: computed in a pass, none double-counted
    run = streamed.run
    assert run.computed_sites + run.cached_sites == raw.computed_sites + raw.cached_sites


def test_cell_samples_answer_only_for_sampled_cells():
    samples = CellSamples((10, 10), np.array([1, 5, 5]), np.array([2, 7, 7]), np.float32,
                          np.nan)
    block = np.arange(100, dtype=np.float32).reshape(10, 10)
    samples.fill(0, 0, block[:6, :5])           # covers (1, 2) only
    assert samples[np.array([1]), np.array([2])][0] == 12.0
    assert np.isnan(samples[np.array([5]), np.array([7])][0])
    samples.fill(4, 5, block[4:, 5:])
    assert samples[np.array([5, 1]), np.array([7, 2])].tolist() == [57.0, 12.0]
    with pytest.raises(KeyError):
        samples[np.array([0]), np.array([0])]


def test_predict_command_streams_large_grids(tmp_path):
    from tests.conftest import make_tiny_data

    data = make_tiny_data(tmp_path / "data")
    small = tmp_path / "small.toml"
    # the same settings as coverage.toml (the defaults and the demo's as-of date)
    small.write_text("[model]\nmax_in_memory_cells = 1000\n[readiness]\nas_of = 2020-09-30\n",
                     encoding="utf-8")
    runner = CliRunner()
    big, tiled = tmp_path / "big", tmp_path / "tiled"
    a = runner.invoke(app, ["predict", "--data", str(data), "--out", str(big)])
    b = runner.invoke(app, ["predict", "--data", str(data), "--out", str(tiled),
                            "--config", str(small)])
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    assert "tile by tile" in b.output and "tile by tile" not in a.output
    assert (tiled / "inputs.html").is_file()
    names = sorted(p.name for p in (tiled / "coverage").glob("*.tif"))
    assert names == sorted(p.name for p in (big / "coverage").glob("*.tif")) and len(names) == 7
    assert not list(tiled.glob(".staging-*"))
    assert needs_tiling(load_study(data, Config(model=ModelSettings(max_in_memory_cells=1000))))


def test_large_grid_run_maps_the_dem_in_the_cache_and_a_rejected_one_leaves_nothing(tmp_path):
    from tests.conftest import make_tiny_data

    data = make_tiny_data(tmp_path / "data")
    small = tmp_path / "small.toml"
    # the same settings as coverage.toml (the defaults and the demo's as-of date)
    small.write_text("[model]\nmax_in_memory_cells = 1000\n[readiness]\nas_of = 2020-09-30\n",
                     encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "out"
    ok = runner.invoke(app, ["predict", "--data", str(data), "--out", str(out), "-q",
                             "--config", str(small)])
    assert ok.exit_code == 0, ok.output
    assert len(list((out / ".cache" / "dem").glob("dem-tiled-*.npy"))) == 1
    sites = (data / "sites" / "sites.csv").read_text(encoding="utf-8-sig")
    (data / "sites" / "sites.csv").write_text(sites.replace("116.17,30.83", "117.9,30.83"),
                                              encoding="utf-8")
    fresh = tmp_path / "fresh"
    bad = runner.invoke(app, ["predict", "--data", str(data), "--out", str(fresh), "-q",
                              "--config", str(small)])
    assert bad.exit_code == 2, bad.output
    assert "S3" in bad.output or "row 3" in bad.output
    assert not fresh.exists()


def test_full_run_on_the_mapped_dem_gives_the_in_memory_results(tmp_path):
    """`run` above the threshold (DEM mapped from the cache) equals the in-memory run.

    Only the provenance differs (the config hash covers max_in_memory_cells), so rasters are
    compared by value and the tables byte for byte.
    """
    import rasterio

    from tests.conftest import make_tiny_data

    data = make_tiny_data(tmp_path / "data")
    small = tmp_path / "small.toml"
    # the same settings as coverage.toml (the defaults and the demo's as-of date)
    small.write_text("[model]\nmax_in_memory_cells = 1000\n[readiness]\nas_of = 2020-09-30\n",
                     encoding="utf-8")
    runner = CliRunner()
    a, b = tmp_path / "a", tmp_path / "b"
    ra = runner.invoke(app, ["run", "--data", str(data), "--out", str(a), "-q"])
    rb = runner.invoke(app, ["run", "--data", str(data), "--out", str(b), "--config",
                             str(small)])
    assert ra.exit_code == 0 and rb.exit_code == 0, rb.output
    assert "above model.max_in_memory_cells" in rb.output
    for name in ("rsrp_any", "rsrp_CMCC", "best_site_CU"):
        with rasterio.open(a / "coverage" / f"{name}.tif") as x, \
                rasterio.open(b / "coverage" / f"{name}.tif") as y:
            assert np.array_equal(x.read(1), y.read(1), equal_nan=True), name
    for name in ["plan.csv", *sorted(p.name for p in (a / "tables").glob("*.csv"))]:
        rel = name if name == "plan.csv" else f"tables/{name}"
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
