"""The measurement that decides a household sample: the nearest one within the radius."""

from __future__ import annotations

import numpy as np

from coverage.evidence.measured import _nearest_within


def _brute_force(mx, my, x, y, radius_m, rows):
    """Nearest measurement within the radius by comparing every pair; ties: the first."""
    d = np.hypot(x[:, None] - mx[None, :], y[:, None] - my[None, :])
    best = np.argmin(d, axis=1)                       # argmin takes the first of equals
    within = d[np.arange(len(x)), best] <= radius_m
    return np.where(within, rows[best], -1)


def test_nearest_within_the_radius_and_none_beyond():
    mx, my = np.array([0.0, 100.0]), np.array([0.0, 0.0])
    rows = np.array([7, 3])
    x = np.array([10.0, 90.0, 50.0, 400.0, 0.0])
    y = np.array([0.0, 0.0, 49.0, 0.0, 200.0])
    got = _nearest_within(mx, my, x, y, 200.0, rows)
    # (50, 49) is as near to both (the first decides); (400, 0) is 300 m from the nearest;
    # (0, 200) is exactly 200 m from the first: the radius is inclusive
    assert got.tolist() == [7, 3, 7, -1, 7]


def test_equally_near_measurements_the_first_decides():
    # two readings at one place (a tester's repeat); (50, 0) is 50 m from three places
    mx = np.array([50.0, 0.0, 0.0, 100.0])
    my = np.array([50.0, 0.0, 0.0, 0.0])
    rows = np.array([10, 11, 12, 13])
    x, y = np.array([0.0, 50.0, 50.0]), np.array([0.0, 0.0, 50.0])
    got = _nearest_within(mx, my, x, y, 80.0, rows)
    assert got.tolist() == [11, 10, 10]


def test_matches_comparing_every_pair():
    rng = np.random.default_rng(20201031)
    # on a 10 m lattice, as field positions often are: many exact ties
    mx, my = (rng.integers(0, 60, 300) * 10.0 for _ in range(2))
    x, y = (rng.integers(0, 60, 2000) * 10.0 for _ in range(2))
    rows = rng.permutation(1000)[:300]
    for radius in (5.0, 15.0, 35.0):
        np.testing.assert_array_equal(_nearest_within(mx, my, x, y, radius, rows),
                                      _brute_force(mx, my, x, y, radius, rows))
    # a radius of 0 lets no measurement decide, not even one at the very place
    assert (_nearest_within(mx, my, mx, my, 0.0, rows) == -1).all()
