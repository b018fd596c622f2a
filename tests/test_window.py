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
