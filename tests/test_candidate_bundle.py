"""A warm planning step reads every candidate option's losses from one cache entry per cell set."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from coverage.config import Config
from coverage.predict.candidates import CandidateRadio
from tests.test_candidates import hill_grid
from tests.toy import UTM50, toy_study


def _options(grid) -> gpd.GeoDataFrame:
    rows = []
    for i, (r, c) in enumerate([(21.3, 22.6), (50.2, 40.7), (21.3, 22.6)]):
        x, y = grid.xy(r, c)
        for op, band in (("CU", "FDD900"), ("CT", "FDD800")):
            rows.append({"option_id": f"T{i}:{op}:{band}", "operator": op, "band": band,
                         "height_m": 35.0 if i < 2 else 40.0,
                         "geometry": Point(float(x), float(y))})
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=UTM50)


def _study_and_options() -> tuple[object, gpd.GeoDataFrame]:
    """The toy study on a hill (1.5 km radius) and its candidate options."""
    cfg = Config()
    cfg.model.radius_km = 1.5
    study = toy_study(cfg, grid=hill_grid())
    return study, _options(study.grid)


def _score(study, folder: Path, sites, rows, cols) -> tuple[CandidateRadio, list[np.ndarray]]:
    radio = CandidateRadio(study, folder)
    radio.prepare(sites, rows, cols)
    return radio, [radio(site, rows, cols) for _, site in sites.iterrows()]


def test_a_warm_planning_run_reads_one_bundle_with_the_same_values(tmp_path: Path) -> None:
    study, sites = _study_and_options()
    rng = np.random.default_rng(5)
    rows, cols = rng.integers(0, 80, 300), rng.integers(0, 80, 300)
    cold, first = _score(study, tmp_path, sites, rows, cols)
    assert cold.computed == len(sites)
    # one entry for all the prepared options, none of their own
    assert [p.name for p in tmp_path.glob("*.npz")] == [f"{cold.bundles[0].key}.npz"]
    warm, second = _score(study, tmp_path, sites, rows, cols)
    assert (warm.computed, warm.cached) == (0, len(sites))
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()
    # other cells: another bundle, the same values at the same cells
    other, third = _score(study, tmp_path, sites, rows[:100], cols[:100])
    assert other.bundles[0].key != cold.bundles[0].key
    for a, b in zip(first, third, strict=True):
        np.testing.assert_array_equal(a[:100], b)


def test_one_bundle_per_prepared_cell_set(tmp_path: Path) -> None:
    """The planning step prepares each operator's options at its own cells: one entry per
    cell set, read back warm; the values equal those of one call at all the cells."""
    study, sites = _study_and_options()
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, 80, 400), rng.integers(0, 80, 400)
    at = {"CU": np.arange(0, 400, 3), "CT": np.arange(1, 400, 2)}

    def run(folder: Path | None) -> tuple[CandidateRadio, list[np.ndarray]]:
        radio = CandidateRadio(study, folder)
        for op, k in at.items():
            radio.prepare(sites[sites["operator"] == op], rows[k], cols[k])
        values = [radio(site, rows[at[site["operator"]]], cols[at[site["operator"]]])
                  for _, site in sites.iterrows()]
        return radio, values

    cold, first = run(tmp_path)
    assert cold.computed == len(sites) and len(cold.bundles) == 2
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == sorted(
        f"{b.key}.npz" for b in cold.bundles)
    warm, second = run(tmp_path)
    assert (warm.computed, warm.cached) == (0, len(sites))
    plain = CandidateRadio(study)
    for (_, site), a, b in zip(sites.iterrows(), first, second, strict=True):
        assert a.tobytes() == b.tobytes()
        whole = plain(site, rows, cols)
        assert whole[at[site["operator"]]].tobytes() == a.tobytes()


def test_a_corrupt_bundle_is_computed_again(tmp_path: Path) -> None:
    study, sites = _study_and_options()
    rows, cols = np.arange(10, 70), np.arange(70, 10, -1)
    cold, first = _score(study, tmp_path, sites, rows, cols)
    entry = tmp_path / f"{cold.bundles[0].key}.npz"
    entry.write_bytes(entry.read_bytes()[:200])
    warm, second = _score(study, tmp_path, sites, rows, cols)
    assert (warm.computed, warm.cached) == (len(sites), 0)
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()
    assert warm.bundles[0].stored   # rewritten
    again, third = _score(study, tmp_path, sites, rows, cols)
    assert (again.computed, again.cached) == (0, len(sites))
    for a, b in zip(first, third, strict=True):
        assert a.tobytes() == b.tobytes()


def test_the_bands_of_a_tower_swept_together_give_the_same_values(tmp_path: Path,
                                                                  monkeypatch) -> None:
    """The planning step sweeps the options of a tower together (the terrain sampled once
    for all their frequencies): every value is the one the option computed alone gives, the
    bundle records them all, and a warm run reads them back without sweeping."""
    from coverage.plan.coverage_matrix import option_values
    from coverage.radio import engine

    study, _ = _study_and_options()
    rows_ = []
    for i, (r, c) in enumerate([(21.3, 22.6), (50.2, 40.7), (60.5, 18.2)]):
        x, y = study.grid.xy(r, c)
        for op, band in (("CMCC", "FDD900"), ("CMCC", "TDD2600"), ("CU", "FDD900"),
                         ("CU", "FDD1800"), ("CT", "FDD800"))[: 5 - i]:
            rows_.append({"option_id": f"T{i}:{op}:{band}", "tower_id": f"T{i}",
                          "operator": op, "band": band, "height_m": 30.0 + 5 * i,
                          "geometry": Point(float(x), float(y))})
    sites = gpd.GeoDataFrame(pd.DataFrame(rows_), geometry="geometry", crs=UTM50)
    rng = np.random.default_rng(9)
    rows, cols = rng.integers(0, 80, 500), rng.integers(0, 80, 500)
    order = np.arange(len(sites))

    alone_radio = CandidateRadio(study)
    alone = [alone_radio(site, rows, cols) for _, site in sites.iterrows()]

    sweeps: list[int] = []
    original = engine.path_loss_at_cells_bands

    def counting(*args, **kwargs):
        sweeps.append(len(args[5]))
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "path_loss_at_cells_bands", counting)
    for folder, threads in ((None, 1), (tmp_path, 2)):
        sweeps.clear()
        radio = CandidateRadio(study, folder)
        radio.prepare(sites, rows, cols)
        got = dict(option_values(radio, sites, order, rows, cols, threads=threads))
        assert sorted(sweeps) == [3, 4, 5]  # one sweep per tower, every band in it
        assert radio.computed == len(sites)
        for k, values in enumerate(alone):
            assert got[k] is not None
            np.testing.assert_array_equal(got[k], values.astype(np.float64))
    # warm: the bundle holds every option; nothing is swept
    sweeps.clear()
    warm = CandidateRadio(study, tmp_path)
    warm.prepare(sites, rows, cols)
    again = dict(option_values(warm, sites, order, rows, cols, threads=2))
    assert (warm.computed, warm.cached, sweeps) == (0, len(sites), [])
    for k, values in enumerate(alone):
        np.testing.assert_array_equal(again[k], values.astype(np.float64))
