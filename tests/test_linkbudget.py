"""Downlink link budget: RS EPRE, RSRP and the location-reliability margin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coverage.config import BandProfile
from coverage.radio.linkbudget import (
    reliability_margin_db,
    resource_blocks,
    rs_epre_dbm,
    rsrp_dbm,
    site_radio,
)


@pytest.mark.parametrize(("bw", "n_rb"), [(1.4, 6), (3, 15), (5, 25), (10, 50), (15, 75),
                                          (20, 100)])
def test_resource_blocks(bw: float, n_rb: int) -> None:
    assert resource_blocks(bw) == n_rb


def test_rs_epre_worked_example() -> None:
    # 43 dBm per port over 1200 subcarriers (20 MHz) with a 3 dB boost
    assert rs_epre_dbm(43.0, 20.0, 3.0) == pytest.approx(43 - 10 * math.log10(1200) + 3)
    assert rs_epre_dbm(43.0, 20.0, 3.0) == pytest.approx(15.2, abs=0.02)
    assert rs_epre_dbm(43.0, 10.0, 0.0) == pytest.approx(15.22, abs=0.01)


def test_rsrp_worked_example() -> None:
    # 15.21 dBm + 17 dBi - 3 dB pattern - 2 dB feeder - 130 dB path loss = -102.79 dBm
    rsrp = rsrp_dbm(rs_epre_dbm(43.0, 20.0, 3.0), 17.0, -3.0, 2.0, np.array([130.0, np.nan]))
    assert rsrp[0] == pytest.approx(-102.79, abs=0.01)
    assert np.isnan(rsrp[1])
    assert rsrp_dbm(15.0, 17.0, 0.0, 2.0, 130.0, body_loss_db=3.0, margin_db=10.0) == (
        pytest.approx(-113.0))


def test_reliability_margin() -> None:
    assert reliability_margin_db(0.9, 8.0) == pytest.approx(10.25, abs=0.01)
    assert reliability_margin_db(None, 8.0) == 0.0
    assert reliability_margin_db(0.5, 8.0) == pytest.approx(0.0)


def test_site_radio_defaults_and_overrides() -> None:
    band = BandProfile(frequency_mhz=947.5, bandwidth_mhz=10)
    sector = site_radio(band, omni=False)
    assert sector.gain_dbi == 17.0 and sector.tilt_deg == 3.0
    assert sector.rs_epre_dbm == pytest.approx(rs_epre_dbm(43.0, 10.0, 3.0))
    omni = site_radio(band, omni=True, power_dbm=float("nan"))
    assert omni.gain_dbi == 11.0 and omni.omni
    own = site_radio(band, omni=False, power_dbm=40.0, gain_dbi=15.0, tilt_deg=6.0)
    assert (own.gain_dbi, own.tilt_deg) == (15.0, 6.0)
    assert own.rs_epre_dbm == pytest.approx(rs_epre_dbm(40.0, 10.0, 3.0))
