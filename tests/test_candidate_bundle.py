"""A warm planning step reads every candidate option's losses from one cache entry."""

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


def _score(study, folder: Path, sites, rows, cols) -> tuple[CandidateRadio, list[np.ndarray]]:
    radio = CandidateRadio(study, folder)
    radio.prepare(sites, rows, cols)
    return radio, [radio(site, rows, cols) for _, site in sites.iterrows()]


def test_a_warm_planning_run_reads_one_bundle_with_the_same_values(tmp_path: Path) -> None:
    cfg = Config()
    cfg.model.radius_km = 1.5
    study = toy_study(cfg, grid=hill_grid())
    sites = _options(study.grid)
    rng = np.random.default_rng(5)
    rows, cols = rng.integers(0, 80, 300), rng.integers(0, 80, 300)
    cold, first = _score(study, tmp_path, sites, rows, cols)
    assert cold.computed == len(sites)
    entries = sorted(tmp_path.glob("*.npz"))
    assert len(entries) == len(sites) + 1              # one per option, and the bundle
    # only the bundle left: the warm run must not need the per-option entries
    bundle_only = tmp_path / "bundle"
    bundle_only.mkdir()
    assert cold._bundle is not None
    (tmp_path / f"{cold._bundle.key}.npz").rename(bundle_only / f"{cold._bundle.key}.npz")
    warm, second = _score(study, bundle_only, sites, rows, cols)
    assert (warm.computed, warm.cached) == (0, len(sites))
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()
    # other cells: another bundle (and other per-option entries), the same values
    other, third = _score(study, tmp_path, sites, rows[:100], cols[:100])
    assert other._bundle is not None and other._bundle.key != cold._bundle.key
    for a, b in zip(first, third, strict=True):
        np.testing.assert_array_equal(a[:100], b)


def test_a_corrupt_bundle_falls_back_to_the_options(tmp_path: Path) -> None:
    cfg = Config()
    cfg.model.radius_km = 1.5
    study = toy_study(cfg, grid=hill_grid())
    sites = _options(study.grid)
    rows, cols = np.arange(10, 70), np.arange(70, 10, -1)
    cold, first = _score(study, tmp_path, sites, rows, cols)
    assert cold._bundle is not None
    entry = tmp_path / f"{cold._bundle.key}.npz"
    entry.write_bytes(entry.read_bytes()[:200])
    warm, second = _score(study, tmp_path, sites, rows, cols)
    assert (warm.computed, warm.cached) == (0, len(sites))
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()
    assert warm._bundle is not None and warm._bundle.stored   # rewritten
