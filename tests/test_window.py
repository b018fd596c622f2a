"""The fused RSRP window equals the antenna-pattern and link-budget functions it fuses."""

import math

import numpy as np
import pytest

from coverage.radio.antenna import PatternParams, best_sector_db
from coverage.radio.linkbudget import rsrp_dbm
from coverage.radio.window import rsrp_window


def reference(loss, ground, cx, cy, sx, sy, hts, hrx, ae, az, tilt, p, eirp):
    dx, dy = (cx - sx)[None, :], (cy - sy)[:, None]
    dist = np.hypot(dx, dy)
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
    hrs = np.nan_to_num(ground) + hrx
    theta = np.degrees(np.arctan2(hts - hrs + dist * dist / (2 * ae), dist))
    pattern, sector = best_sector_db(bearing, theta, az, tilt, p)
    rsrp = rsrp_dbm(eirp, 0.0, pattern, 0.0, loss, 0.0)
    return rsrp, np.where(np.isfinite(rsrp), sector, -1)


@pytest.mark.parametrize("azimuths", [(), (0.0, 120.0, 240.0), (30.0,), (350.0, 10.0),
                                      (90.0, 270.0)])
def test_equals_reference(azimuths):
    rng = np.random.default_rng(7)
    n = 121
    loss = rng.uniform(80, 160, (n, n))
    loss[rng.random((n, n)) < 0.05] = np.nan
    ground = rng.uniform(100, 900, (n, n))
    ground[0, :3] = np.nan
    cx = 500_000 + 30.0 * np.arange(n)
    cy = 3_400_000 - 30.0 * np.arange(n)
    sx, sy = cx[60] + 7.0, cy[60] - 11.0
    p = PatternParams(h_beamwidth_deg=65, v_beamwidth_deg=7, front_to_back_db=25,
                      side_lobe_v_db=20)
    az = np.array(azimuths, float)
    args = (sx, sy, 640.0, 1.5, 8_494_000.0, az, 4.0, p, 30.2)
    want, want_sector = reference(loss, ground, cx, cy, *args)
    got, sector = rsrp_window(loss, ground, cx, cy, sx, sy, 640.0, 1.5, 8_494_000.0, az, 4.0,
                              65.0, 7.0, 25.0, 20.0, 30.2)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = np.isfinite(want)
    assert np.max(np.abs(got[ok] - want[ok])) < 1e-4
    # same best sector wherever the pattern is not at its floor (ties there: the first)
    assert np.mean(sector[ok] == want_sector[ok]) > 0.999
    assert math.isnan(got[~ok][0]) if (~ok).any() else True


def _window_args(n: int = 101, seed: int = 3) -> tuple:
    rng = np.random.default_rng(seed)
    loss = rng.uniform(80, 160, (n, n))
    loss[rng.random((n, n)) < 0.05] = np.nan
    ground = rng.uniform(100, 900, (n, n))
    cx = 500_000 + 30.0 * np.arange(n)
    cy = 3_400_000 - 30.0 * np.arange(n)
    az = np.array([0.0, 120.0, 240.0])
    return (loss, ground, cx, cy, cx[50] + 7.0, cy[50] - 11.0, 640.0, 1.5, 8_494_000.0, az,
            4.0, 65.0, 7.0, 25.0, 20.0, 30.2)


def test_floor_leaves_out_exactly_the_cells_certainly_below_it():
    args = _window_args()
    full, full_sector = rsrp_window(*args)
    rng = np.random.default_rng(5)
    # a floor raster larger than the window (the grid), the window at row 7, column 4
    floor = rng.uniform(-120, -60, (120, 110)).astype(np.float32)
    floor[7:40, 4:30] = -np.inf  # no site folded there yet
    got, sector = rsrp_window(*args, floor=(floor, 7, 4))
    under = floor[7:108, 4:105]
    bound = (np.float32(30.2) - args[0]).astype(np.float32)  # pattern at its 0 dB maximum
    left_out = np.isfinite(args[0]) & (np.float32(30.2 - args[0]) < under)
    assert left_out.sum() > 1000 and not left_out[:33, :26].any()
    assert np.all(full[left_out] < under[left_out])      # never the strongest there
    assert np.isnan(got[left_out]).all() and (sector[left_out] == -1).all()
    kept = ~left_out
    assert np.array_equal(got[kept], full[kept], equal_nan=True)
    assert np.array_equal(sector[kept], full_sector[kept])
    assert np.all(full[np.isfinite(full)] <= bound[np.isfinite(full)])


def test_floor_is_ignored_when_the_pattern_could_exceed_0_db():
    args = list(_window_args())
    args[13] = -3.0   # a negative front-to-back ratio: the pattern reaches +3 dB
    full, _ = rsrp_window(*args)
    floor = np.full((101, 101), -80.0, np.float32)
    got, _ = rsrp_window(*args, floor=(floor, 0, 0))
    assert np.array_equal(got, full, equal_nan=True)


def test_floor_must_hold_the_window():
    with pytest.raises(ValueError, match="floor"):
        rsrp_window(*_window_args(), floor=(np.zeros((50, 50), np.float32), 0, 0))
