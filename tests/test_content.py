"""The content comparison used for files committed from another machine must still catch
real differences (tests/content.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from content import (
    assert_csv_equal,
    assert_raster_equal,
    assert_text_equal,
    assert_vector_file_equal,
    numbers_agree,
)


def test_printed_numbers_agree_within_their_last_digit_only():
    assert numbers_agree("116.293207", "116.293208")
    assert not numbers_agree("116.293207", "116.293209")
    assert numbers_agree("-62", "-62")
    assert not numbers_agree("-62", "-63.5")
    assert not numbers_agree("CMCC", "CT")
    assert numbers_agree("1e-3", "1.0e-3")


def test_csv_differences_beyond_printed_precision_fail(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    a.write_text("id,lon,name\nS1,116.430139,甲\n", encoding="utf-8")
    b.write_text("id,lon,name\nS1,116.430140,甲\n", encoding="utf-8")
    c.write_text("id,lon,name\nS1,116.430150,甲\n", encoding="utf-8")
    assert_csv_equal(a, b)
    with pytest.raises(AssertionError, match="lon"):
        assert_csv_equal(a, c)


def test_text_compares_numbers_by_precision(tmp_path):
    a, b, c = tmp_path / "a.md", tmp_path / "b.md", tmp_path / "c.md"
    a.write_text("area 1708.7 km²\n", encoding="utf-8")
    b.write_text("area 1708.8 km²\n", encoding="utf-8")
    c.write_text("area 1709.7 km²\n", encoding="utf-8")
    assert_text_equal(a, b)
    with pytest.raises(AssertionError):
        assert_text_equal(a, c)


def _gpkg(path, dx_deg: float, name: str = "村") -> None:
    frame = gpd.GeoDataFrame({"village_id": ["V1"], "name": [name]},
                             geometry=[shapely.box(116.0 + dx_deg, 30.0, 116.1, 30.1)],
                             crs="EPSG:4326")
    frame.to_file(path, layer="villages", driver="GPKG")


def test_geometries_within_a_micrometre_are_equal_and_a_millimetre_is_not(tmp_path):
    _gpkg(tmp_path / "a.gpkg", 0.0)
    _gpkg(tmp_path / "b.gpkg", 1e-14)
    _gpkg(tmp_path / "c.gpkg", 1e-3 / 111_320)
    _gpkg(tmp_path / "d.gpkg", 0.0, name="乡")
    assert_vector_file_equal(tmp_path / "a.gpkg", tmp_path / "b.gpkg")
    with pytest.raises(AssertionError, match="geometries differ"):
        assert_vector_file_equal(tmp_path / "a.gpkg", tmp_path / "c.gpkg")
    with pytest.raises(AssertionError, match="name"):
        assert_vector_file_equal(tmp_path / "a.gpkg", tmp_path / "d.gpkg")


def test_raster_values_are_compared_within_the_stated_tolerance(tmp_path):
    z = np.arange(16, dtype=np.int16).reshape(4, 4)
    profile = dict(driver="GTiff", width=4, height=4, count=1, dtype="int16", nodata=-32768,
                   crs="EPSG:4326", transform=Affine(0.1, 0, 116, 0, -0.1, 31))
    for name, add in (("a", 0), ("b", 1), ("c", 2)):
        with rasterio.open(tmp_path / f"{name}.tif", "w", **profile) as ds:
            ds.write(z + add, 1)
    assert_raster_equal(tmp_path / "a.tif", tmp_path / "b.tif", atol=1)
    with pytest.raises(AssertionError, match="differs by"):
        assert_raster_equal(tmp_path / "a.tif", tmp_path / "c.tif", atol=1)
