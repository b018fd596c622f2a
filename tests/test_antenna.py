"""3GPP sector antenna pattern."""

from __future__ import annotations

import numpy as np
import pytest

from coverage.radio.antenna import (
    OMNI,
    PatternParams,
    best_sector_db,
    horizontal_pattern_db,
    omni_pattern_db,
    sector_pattern_db,
    vertical_pattern_db,
)


def test_horizontal_pattern_points() -> None:
    assert horizontal_pattern_db(0.0) == pytest.approx(0.0)
    assert horizontal_pattern_db(32.5) == pytest.approx(-3.0)
    assert horizontal_pattern_db(-32.5) == pytest.approx(-3.0)
    assert horizontal_pattern_db(180.0) == pytest.approx(-25.0)
    assert horizontal_pattern_db(90.0) == pytest.approx(-min(12 * (90 / 65) ** 2, 25))
    # wrapping: 350 degrees off is 10 degrees off
    assert horizontal_pattern_db(350.0) == pytest.approx(horizontal_pattern_db(-10.0))


def test_vertical_pattern_and_tilt() -> None:
    assert vertical_pattern_db(6.0, tilt_deg=6.0) == pytest.approx(0.0)
    assert vertical_pattern_db(6.0 + 3.5, tilt_deg=6.0) == pytest.approx(-3.0)
    assert vertical_pattern_db(0.0, tilt_deg=6.0) == pytest.approx(-min(12 * (6 / 7) ** 2, 20))
    assert vertical_pattern_db(60.0, tilt_deg=6.0) == pytest.approx(-20.0)
    # more downtilt: less gain at the horizon, more below
    assert vertical_pattern_db(0.0, 8.0) < vertical_pattern_db(0.0, 2.0)
    assert vertical_pattern_db(8.0, 8.0) > vertical_pattern_db(8.0, 2.0)


def test_combined_pattern_floor_and_boresight() -> None:
    assert sector_pattern_db(120.0, 4.0, azimuth_deg=120.0, tilt_deg=4.0) == pytest.approx(0.0)
    assert sector_pattern_db(120.0 + 32.5, 4.0, 120.0, 4.0) == pytest.approx(-3.0)
    # back lobe and steep elevation together are limited to Am
    assert sector_pattern_db(300.0, 60.0, 120.0, 4.0) == pytest.approx(-25.0)
    params = PatternParams(h_beamwidth_deg=90.0, front_to_back_db=30.0)
    assert sector_pattern_db(45.0, 0.0, 0.0, 0.0, params) == pytest.approx(-3.0)
    assert sector_pattern_db(180.0, 0.0, 0.0, 0.0, params) == pytest.approx(-30.0)


def test_best_sector_vectorised() -> None:
    bearing = np.array([[0.0, 120.0], [250.0, 60.0]])
    theta = np.full(bearing.shape, 3.0)
    pattern, sector = best_sector_db(bearing, theta, (0.0, 120.0, 240.0), tilt_deg=3.0)
    np.testing.assert_array_equal(sector, [[0, 1], [2, 0]])
    assert pattern[0, 0] == pytest.approx(0.0)
    assert pattern[1, 1] == pytest.approx(-12 * (60 / 65) ** 2)
    assert pattern.dtype == np.float64 and sector.dtype == np.int8


def test_omni_site_uses_vertical_pattern_only() -> None:
    bearing = np.array([0.0, 90.0, 180.0, 270.0])
    theta = np.array([2.0, 2.0, 10.0, 30.0])
    pattern, sector = best_sector_db(bearing, theta, (), tilt_deg=2.0)
    np.testing.assert_array_equal(sector, OMNI)
    np.testing.assert_allclose(pattern, omni_pattern_db(theta, 2.0))
    assert pattern[0] == pattern[1] == 0.0
    assert pattern[3] == pytest.approx(-20.0)
