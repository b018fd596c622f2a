"""Loading a working grid larger than ``model.max_in_memory_cells``: strip-wise, memory-mapped.

The tiny data folder is loaded twice, once as always (in memory) and once with a limit of
1000 cells, which forces the large path: the source DEM is scanned block by block and
resampled strip by strip into a ``.npy`` file that the grid maps read-only. Both must give
the same grid, the same site heights and the same problems.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEM_NODATA, make_tiny_data, tiny_dem, tiny_layers

from coverage.config import Config, ModelSettings
from coverage.errors import InputDataError, ProblemLog
from coverage.io import readers
from coverage.io.writers import write_csv, write_geotiff
from coverage.study import _village_nodata_share, load_study, validate_data_dir

pytestmark = pytest.mark.filterwarnings(
    "ignore:Column names longer than 10:UserWarning",
    "ignore:Normalized/laundered field name:RuntimeWarning",
)

SMALL = Config()
LARGE = Config(model=ModelSettings(max_in_memory_cells=1000))
TILED = "dem-tiled-*.npy"


def _write_dem(data: Path, dem: np.ndarray, nodata: float | None = DEM_NODATA) -> Path:
    path = data / "terrain" / "dem.tif"
    _, transform = tiny_dem()
    write_geotiff(path, dem, transform, "EPSG:4326", nodata, cog=False)
    return path


def _messages(problems) -> list[str]:
    return [str(p) for p in problems]


def test_large_grid_is_a_readonly_memmap_equal_to_the_in_memory_grid(tiny_data, tmp_path):
    small = load_study(tiny_data, SMALL)
    large = load_study(tiny_data, LARGE, dem_folder=tmp_path / "dem")
    a, b = small.grid.elevation, large.grid.elevation
    assert type(a) is np.ndarray                       # default path unchanged
    assert isinstance(b, np.memmap) and not b.flags.writeable
    assert Path(b.filename).parent == tmp_path / "dem" and Path(b.filename).match(TILED)
    assert b.shape == a.shape == (373, 323) and b.dtype == np.float32
    assert large.grid.transform == small.grid.transform and large.grid.crs == small.grid.crs
    assert large.grid.resolution_m == small.grid.resolution_m == 30.0
    nan_a, nan_b = ~np.isfinite(a), ~np.isfinite(b)
    assert nan_a.sum() > 1000                          # the DEM's nodata block and edges
    assert (nan_a != nan_b).sum() <= 5                 # GDAL may differ at the border
    both = ~nan_a & ~nan_b
    assert np.abs(np.asarray(b)[both] - a[both]).max() < 0.5
    np.testing.assert_allclose(large.sites["ground_m"], small.sites["ground_m"], atol=0.5)
    assert np.isfinite(large.sites["ground_m"]).all()
    assert _messages(large.warnings) == _messages(small.warnings)
    # the grid helpers work on the memmap
    x, y = large.grid.xy(100, 200)
    assert large.grid.sample(x, y, "nearest")[0] == pytest.approx(float(b[100, 200]))
    r, c = large.grid.rowcol(x, y)
    assert (float(r), float(c)) == (100.0, 200.0)


def test_resampled_file_is_reused_until_the_source_changes(tiny_data, tmp_path):
    folder = tmp_path / "dem"
    first = Path(load_study(tiny_data, LARGE, dem_folder=folder).grid.elevation.filename)
    stamp = first.stat().st_mtime_ns
    second = Path(load_study(tiny_data, LARGE, dem_folder=folder).grid.elevation.filename)
    assert second == first and first.stat().st_mtime_ns == stamp
    assert sorted(folder.glob(TILED)) == [first]       # nothing else written

    dem, _ = tiny_dem()
    lifted = np.where(dem == DEM_NODATA, dem, dem + 10.0).astype(np.float32)
    path = _write_dem(tiny_data, lifted)
    st = path.stat()                                   # a later time, whatever the clock
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    before = np.load(first)
    third = load_study(tiny_data, LARGE, dem_folder=folder).grid.elevation
    assert Path(third.filename) != first
    assert sorted(folder.glob(TILED)) == [Path(third.filename)]   # the stale one is pruned
    ok = np.isfinite(before) & np.isfinite(third)
    np.testing.assert_allclose(np.asarray(third)[ok], before[ok] + 10.0, atol=1e-3)


def test_default_dem_folder_is_a_fresh_temporary_folder(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    elevation = load_study(tiny_data, LARGE).grid.elevation
    folder = Path(elevation.filename).parent
    assert folder.parent == tmp_path and folder.name.startswith("coverage-dem-")


def test_bad_points_give_the_same_problems_in_both_paths(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    sites = tiny_layers()["sites"]
    sites.loc[4, "lon"] = 116.25                       # S5 east of the DEM
    write_csv(data / "sites" / "sites.csv", sites)
    cands = tiny_layers()["candidates"]
    cands.loc[1, ["lon", "lat"]] = [116.195, 30.895]   # C2 over the nodata block
    write_csv(data / "sites" / "candidates.csv", cands)
    small = validate_data_dir(data, SMALL)
    large = validate_data_dir(data, LARGE, dem_folder=tmp_path / "dem")
    assert len(list((tmp_path / "dem").glob(TILED))) == 1     # the large path was taken
    assert _messages(large) == _messages(small)
    text = " | ".join(_messages(small))
    assert "site lies outside the DEM" in text
    assert "candidate lies over DEM nodata" in text
    with pytest.raises(InputDataError):
        load_study(data, LARGE, dem_folder=tmp_path / "dem")


def test_unflagged_voids_warn_and_village_nodata_share_in_both_paths(tmp_path):
    data = make_tiny_data(tmp_path / "data")
    dem, _ = tiny_dem()
    dem[dem == DEM_NODATA] = np.nan
    dem[40:70, 30:60] = -32768.0                       # a void inside village V1, unflagged
    _write_dem(data, dem, nodata=None)
    small = validate_data_dir(data, SMALL)
    large = validate_data_dir(data, LARGE, dem_folder=tmp_path / "dem")
    assert len(list((tmp_path / "dem").glob(TILED))) == 1
    assert _messages(large) == _messages(small)
    text = " | ".join(_messages(small))
    assert "900 DEM cells at or below -1000 m treated as nodata" in text
    assert "has nodata over part of this village" in text
    # the voids are NaN in the resampled grids, not a blend of -32768 and the terrain
    a = load_study(data, SMALL).grid.elevation
    b = load_study(data, LARGE, dem_folder=tmp_path / "dem").grid.elevation
    assert np.nanmin(b) > 300.0 and np.nanmin(a) > 300.0
    assert (np.isfinite(a) != np.isfinite(b)).sum() <= 5


def test_scan_dem_counts_like_read_dem_whatever_the_block(tmp_path):
    dem, _ = tiny_dem()
    dem[5:9, 100:107] = -32768.0
    path = _write_dem(tmp_path, dem)
    whole, scanned = ProblemLog(), ProblemLog()
    readers.read_dem(path, tmp_path, whole)
    described = readers.inspect_dem(path, tmp_path, scanned)
    assert described.elevation is None and described.shape == (200, 200)
    assert described.bounds == readers.read_dem(path, tmp_path, ProblemLog()).bounds
    assert readers.scan_dem(described, scanned, block_cells=1000) is described
    assert _messages(scanned.problems) == _messages(whole.problems)
    assert "28 DEM cells" in _messages(whole.problems)[0]

    nothing = _write_dem(tmp_path / "empty", np.full((200, 200), -9999.0, np.float32))
    a, b = ProblemLog(), ProblemLog()
    assert readers.read_dem(nothing, tmp_path, a) is None
    assert readers.scan_dem(readers.inspect_dem(nothing, tmp_path, b), b, 1000) is None
    assert _messages(a.problems) == _messages(b.problems) != []


@pytest.mark.parametrize("case", ["empty", "no_crs"])
def test_unusable_dem_gives_the_same_errors(tmp_path, case):
    data = make_tiny_data(tmp_path / "data")
    path = data / "terrain" / "dem.tif"
    if case == "empty":
        path.write_bytes(b"")
    else:
        dem, transform = tiny_dem()
        write_geotiff(path, dem, transform, None, DEM_NODATA, cog=False)
    small = validate_data_dir(data, SMALL)
    large = validate_data_dir(data, LARGE, dem_folder=tmp_path / "dem")
    assert _messages(large) == _messages(small)
    assert any("DEM" in m for m in _messages(small))
    assert not (tmp_path / "dem").exists()


def test_village_nodata_share_strip_by_strip_equals_whole(tiny_data):
    study = load_study(tiny_data, SMALL)
    grid = study.grid
    elevation = grid.elevation.copy()
    elevation[50:200, 40:90] = np.nan                  # a hole across several strips
    holed = type(grid)(elevation, grid.transform, grid.crs, grid.resolution_m)
    whole = _village_nodata_share(study.villages, holed)
    assert whole[0] > 0.05
    for rows in (1, 7, 100, 10_000):
        np.testing.assert_array_equal(_village_nodata_share(study.villages, holed, rows),
                                      whole)
    missing = study.villages.copy()
    missing.loc[1, "geometry"] = None
    share = _village_nodata_share(missing, holed, 7)
    assert np.isnan(share[1]) and share[0] == whole[0]


def test_study_layers_are_unchanged_by_the_large_path(tiny_data, tmp_path):
    small = load_study(tiny_data, SMALL)
    large = load_study(tiny_data, LARGE, dem_folder=tmp_path / "dem")
    for name in ("villages", "groups", "points", "households", "candidates", "grid_works",
                 "mobile_works", "transformers", "hazards"):
        pd.testing.assert_frame_equal(getattr(large, name), getattr(small, name))
    pd.testing.assert_frame_equal(large.sites.drop(columns="ground_m"),
                                  small.sites.drop(columns="ground_m"))
