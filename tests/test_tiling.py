"""Tile layout, site-to-tile assignment, tiled prediction in this process, tiled COGs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from coverage import predict
from coverage.io import tiles as tio
from coverage.io.writers import write_geotiff
from coverage.radio import engine
from coverage.scale.cogs import predict_to_cogs
from coverage.scale.runners import predict_on_cluster
from coverage.scale.tiling import (
    halo_cells,
    site_windows,
    sites_per_tile,
    tile_layout,
    worker_memory_bytes,
)
from coverage.signal import CoverageResult
from tests.test_predict import SITES, make_grid, make_study


def test_layout_covers_every_cell_once():
    tiles = tile_layout((130, 77), 32)
    count = np.zeros((130, 77), int)
    for t in tiles:
        count[t.slices] += 1
    assert (count == 1).all()
    assert [t.index for t in tiles] == list(range(len(tiles))) and len(tiles) == 5 * 3
    assert (tiles[-1].nrows, tiles[-1].ncols) == (130 - 128, 77 - 64)
    rows, cols = tiles[4].halo(10, (130, 77))
    assert (rows.start, rows.stop, cols.start, cols.stop) == (22, 74, 22, 74)
    assert halo_cells(15000.0, 30.0) == 503
    with pytest.raises(ValueError):
        tile_layout((10, 10), 0)


def test_site_windows_are_the_engines():
    rng = np.random.default_rng(5)
    shape, transform = (90, 70), Affine(30.0, 0, 500000.0, 0, -30.0, 3402700.0)
    x = transform.c + rng.uniform(-600, 70 * 30 + 600, 300)
    y = transform.f - rng.uniform(-600, 90 * 30 + 600, 300)
    x[:3] = transform.c + np.array([0.0, 15.0, 70 * 30.0])      # edges and a cell centre
    y[:3] = transform.f - np.array([0.0, 15.0, 90 * 30.0])
    got = site_windows(shape, transform, x, y, 450.0)
    for k in range(len(x)):
        lay = engine._layout(shape, transform, float(x[k]), float(y[k]), 450.0)
        if lay.nrows and lay.ncols:
            assert tuple(got[k]) == (lay.row0, lay.row0 + lay.nrows, lay.col0,
                                     lay.col0 + lay.ncols)
        else:
            assert got[k, 1] <= got[k, 0] or got[k, 3] <= got[k, 2]


def test_sites_per_tile_lists_every_site_that_reaches_the_core():
    windows = np.array([[0, 10, 0, 10], [10, 20, 30, 40], [5, 5, 0, 10], [31, 40, 31, 40]])
    tiles = tile_layout((40, 40), 20)
    per = sites_per_tile(tiles, windows, margin=0)
    assert [p.tolist() for p in per] == [[0], [1], [], [3]]
    per = sites_per_tile(tiles, windows)                     # default: one cell of margin
    assert [p.tolist() for p in per] == [[0], [1], [], [1, 3]]


def assert_same_coverage(a: CoverageResult, b: CoverageResult) -> None:
    for op in a.operators:
        assert a.by_operator[op].rsrp.tobytes() == b.by_operator[op].rsrp.tobytes()
        assert a.by_operator[op].best_site.tobytes() == b.by_operator[op].best_site.tobytes()
    assert a.any_rsrp.tobytes() == b.any_rsrp.tobytes()
    assert a.any_operator.tobytes() == b.any_operator.tobytes()
    assert [str(w) for w in a.warnings] == [str(w) for w in b.warnings]


EDGE_SITES = [
    *SITES,
    # CMCC sites straddling the tile edge at row/col 64 (tiles of 64 cells), overlapping A/B
    {"site_id": "E", "operator": "CMCC", "band": "FDD900", "height_m": 25.0, "row": 63,
     "col": 64},
    {"site_id": "F", "operator": "CU", "band": "FDD1800", "height_m": 35.0, "row": 64.4,
     "col": 127.6, "azimuths": (45.0, 200.0)},
    {"site_id": "G", "operator": "CMCC", "band": "NOPE", "height_m": 30.0, "row": 5, "col": 5},
    {"site_id": "H", "operator": "CT", "band": "FDD800", "height_m": 30.0, "row": 170,
     "col": 10},
]


def test_tile_edges_change_no_cell(tmp_path):
    study = make_study(EDGE_SITES, radius_km=2.0)
    whole = predict.predict_coverage(study, cache_dir=tmp_path / "serial")
    assert len(whole.warnings) == 2            # the unknown band and the site off the DEM
    assert np.isfinite(whole.by_operator["CMCC"].rsrp[40:90, 40:90]).all()
    for cells in (64, 37, 1000):
        tiled = predict_on_cluster(study, tile_cells=cells, cache_dir=tmp_path / f"t{cells}")
        assert_same_coverage(whole, tiled)
        assert (tiled.computed_sites, tiled.cached_sites) == (5, 0)
    assert not list((tmp_path / "t64" / "rsrp").glob("*.npz"))   # scratch dropped
    again = predict_on_cluster(study, tile_cells=64, cache_dir=tmp_path / "t64")
    assert (again.computed_sites, again.cached_sites) == (0, 5)
    assert_same_coverage(whole, again)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tiled_cogs_equal_whole_array_files(tmp_path):
    study = make_study(EDGE_SITES, radius_km=2.0)
    whole = predict.predict_coverage(study)
    tags = {"version": "test", "config_hash": "abc"}
    run = predict_to_cogs(study, tmp_path / "tiled", tags=tags, tile_cells=48)
    assert run.tiles == 16 and run.computed_sites == 5 and len(run.warnings) == 2
    crs = whole.crs.to_wkt()
    for op, oc in whole.by_operator.items():
        write_geotiff(tmp_path / f"rsrp_{op}.tif", oc.rsrp, whole.transform, crs,
                      float("nan"), dict(tags, operator=op, unit="dBm"))
        write_geotiff(tmp_path / f"best_site_{op}.tif", oc.best_site, whole.transform, crs, -1,
                      dict(tags, operator=op, meaning="row of sites table, -1 none"))
        for name in (f"rsrp_{op}.tif", f"best_site_{op}.tif"):
            assert _digest(tmp_path / "tiled" / name) == _digest(tmp_path / name)
    write_geotiff(tmp_path / "rsrp_any.tif", whole.any_rsrp, whole.transform, crs,
                  float("nan"), dict(tags, operator="any", unit="dBm"))
    assert _digest(tmp_path / "tiled" / "rsrp_any.tif") == _digest(tmp_path / "rsrp_any.tif")
    assert sorted(p.name for p in (tmp_path / "tiled").iterdir()) == sorted(
        [f"rsrp_{op}.tif" for op in whole.operators]
        + [f"best_site_{op}.tif" for op in whole.operators] + ["rsrp_any.tif"])


def test_tiled_writer_publishes_nothing_on_failure(tmp_path):
    target = tmp_path / "x.tif"
    with pytest.raises(RuntimeError), tio.TiledRasterWriter(
            target, (10, 10), np.float32, Affine(30, 0, 0, 0, -30, 300), "EPSG:32650",
            float("nan")) as writer:
        writer.write(np.zeros((5, 10), np.float32), 0, 0)
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with tio.TiledRasterWriter(target, (10, 10), np.int32, Affine(30, 0, 0, 0, -30, 300),
                               "EPSG:32650", -1) as writer, pytest.raises(ValueError):
        writer.write(np.zeros((5, 11), np.int32), 0, 0)


def test_raster_set_converts_side_by_side_and_publishes_all_or_nothing(tmp_path):
    t = Affine(30, 0, 0, 0, -30, 300)
    values = np.arange(100, dtype=np.float32).reshape(10, 10)
    with pytest.raises(RuntimeError), tio.TiledRasterSet() as rasters:
        a = rasters.add(tio.TiledRasterWriter(tmp_path / "a.tif", (10, 10), np.float32, t,
                                              "EPSG:32650", float("nan")))
        a.write(values, 0, 0)
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with tio.TiledRasterSet(threads=3) as rasters:
        for name in ("a", "b", "c"):
            w = rasters.add(tio.TiledRasterWriter(tmp_path / f"{name}.tif", (10, 10),
                                                  np.float32, t, "EPSG:32650", float("nan")))
            w.write(values[:4], 0, 0)
            w.write(values[4:], 4, 0)
    write_geotiff(tmp_path / "whole.tif", values, t, "EPSG:32650", float("nan"))
    digests = {p.name: _digest(p) for p in tmp_path.iterdir()}
    assert sorted(digests) == ["a.tif", "b.tif", "c.tif", "whole.tif"]   # no leftovers
    assert digests["a.tif"] == digests["b.tif"] == digests["c.tif"] == digests["whole.tif"]


def test_dem_file_round_trip(tmp_path):
    grid = make_grid()
    dem = tio.write_dem_file(grid, tmp_path)
    again = tio.write_dem_file(grid, tmp_path)
    assert dem == again and len(list(tmp_path.iterdir())) == 1
    mapped = tio.open_grid(dem)
    assert mapped.elevation.tobytes() == grid.elevation.tobytes()
    assert mapped.transform == grid.transform and mapped.crs == grid.crs
    assert tio.write_dem_file(mapped, tmp_path / "other") == dem   # a mapped grid is reused
    window = tio.read_dem_window(dem, slice(10, 20), slice(30, 35))
    np.testing.assert_array_equal(window, grid.elevation[10:20, 30:35])
    x, y = grid.xy(80.2, 79.6)
    a = engine.site_path_loss(grid.elevation, grid.transform, float(x), float(y), 30.0, 900.0,
                              radius_m=1500.0)
    b = engine.site_path_loss(mapped.elevation, mapped.transform, float(x), float(y), 30.0,
                              900.0, radius_m=1500.0)
    assert a.loss_db.tobytes() == b.loss_db.tobytes()


def test_tiled_resampling_matches_the_whole_one(tmp_path):
    from conftest import tiny_dem
    from pyproj import CRS

    from coverage.errors import ProblemLog
    from coverage.io import readers

    dem, transform = tiny_dem()
    path = tmp_path / "dem.tif"
    write_geotiff(path, dem, transform, "EPSG:4326", -9999.0, cog=False)
    crs = CRS.from_epsg(32650)
    source = readers.read_dem(path, tmp_path, ProblemLog())
    whole, whole_transform = readers.resample_dem(source, crs, 30.0)
    dem_file = tio.resample_dem_tiled(path, crs, 30.0, tmp_path / "out", strip_rows=37)
    tiled = tio.open_dem(dem_file)
    assert tiled.shape == whole.shape and dem_file.affine == whole_transform
    both = np.isfinite(whole) & np.isfinite(tiled)
    assert both.mean() > 0.9 and (np.isfinite(whole) != np.isfinite(tiled)).mean() < 0.002
    assert np.abs(tiled[both] - whole[both]).max() < 0.5


def test_memory_bound_is_independent_of_the_region():
    assert worker_memory_bytes(2048, 15000.0, 30.0) == 29 * 2048**2   # the any-operator task
    assert worker_memory_bytes(1024, 15000.0, 30.0) == 80 * 1002**2   # a site's window
    assert worker_memory_bytes(1024, 15000.0, 30.0) < 2**27
