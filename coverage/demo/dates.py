"""Dates of the demo's records: random days and their ISO text."""

from __future__ import annotations

import datetime as dt

import numpy as np


def random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """A uniformly random day in [start, end] (both included)."""
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def iso(d: dt.date | None) -> str | None:
    """``YYYY-MM-DD``, or None for no date."""
    return None if d is None else d.isoformat()
