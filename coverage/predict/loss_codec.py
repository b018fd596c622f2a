"""The stored precision of path loss: 0.05 dB steps, packed small for the on-disk cache.

Every loss the predictions use passes through :func:`quantise` (computed or read from the
cache alike), so a cold run and a warm run give byte-identical rasters. The step, 0.05 dB
(error at most 0.025 dB), is finer than any figure the outputs print (RSRP and margins to
0.1 dB) and far finer than the model's accuracy (several dB); it can only change a value
that lies within 0.025 dB of a threshold or of a rounding boundary.

On disk (:func:`pack`) a window is the number of steps as ``uint16`` (0 = no value, so up to
3276.75 dB), stored as its gradient residual: each step less the plane through its left,
upper and upper-left neighbours (``a + b - c``, i.e. the row differences differenced again
down the columns), in 16-bit arithmetic that wraps, so the round trip is exact whatever the
values. The loss varies slowly in both directions, so the residuals are small numbers of
either sign; they are zigzag-mapped (0, -1, 1, -2, ... to 0, 1, 2, 3, ...) so that small
residuals of either sign have a high byte of 0, and stored as two byte planes (low bytes,
then high bytes; ``uint8``, shape ``(2, rows, cols)``). The demo's per-site cache deflates
about 16 % smaller than with the row differences alone of the previous format (wrapping,
not zigzag-mapped), and decoding is two cumulative sums.
"""

from __future__ import annotations

import numpy as np

STEP_DB = 0.05
"""Quantum of stored path loss (dB)."""

FORMAT = "loss-u16-0.05dB-gradient-zigzag-planes-v3"
"""Identifies this encoding; part of the cache key, so entries of another format are never
read as this one."""

_NODATA = 0
_MAX_STEPS = np.iinfo(np.uint16).max


def to_steps(loss_db: np.ndarray) -> np.ndarray:
    """Loss (dB, NaN = no value) as ``uint16`` steps of :data:`STEP_DB` (0 = no value).

    Losses are clipped to [0.05, 3276.75] dB (no propagation loss lies outside).
    """
    loss = np.asarray(loss_db, dtype=np.float64)
    finite = np.isfinite(loss)
    steps = np.clip(np.rint(np.where(finite, loss, 0.0) / STEP_DB), 1, _MAX_STEPS)
    return np.where(finite, steps, _NODATA).astype(np.uint16)


def _from_steps(steps: np.ndarray) -> np.ndarray:
    loss = steps.astype(np.float64) * STEP_DB
    return np.where(steps == _NODATA, np.nan, loss).astype(np.float32)


_LOSS_OF_STEP = _from_steps(np.arange(_MAX_STEPS + 1, dtype=np.uint16))
"""The loss of every possible step (float32, 256 kB): decoding is one table look-up."""


def from_steps(steps: np.ndarray) -> np.ndarray:
    """``uint16`` steps back to loss (dB, float32; NaN where 0)."""
    return _LOSS_OF_STEP[np.asarray(steps, dtype=np.uint16)]


def quantise(loss_db: np.ndarray) -> np.ndarray:
    """Loss (dB, float32) rounded to the stored precision (the value a cache hit returns)."""
    return from_steps(to_steps(loss_db))


def pack(loss_db: np.ndarray) -> np.ndarray:
    """A 2-D loss window (dB) as the zigzag-mapped gradient residuals of its steps, in two
    byte planes (``uint8``, shape ``(2, rows, cols)``: low bytes, high bytes)."""
    steps = to_steps(loss_db)
    # differences along the rows, then down the columns, all modulo 2**16 (exact)
    rows = np.diff(steps, axis=-1, prepend=np.uint16(0))
    residual = np.diff(rows, axis=0, prepend=np.zeros((1, rows.shape[-1]), np.uint16))
    signed = residual.view(np.int16)
    zigzag = ((signed << 1) ^ (signed >> 15)).view(np.uint16)
    return np.stack([(zigzag & 0xFF).astype(np.uint8), (zigzag >> 8).astype(np.uint8)])


def unpack(packed: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack`: the quantised loss window (dB, float32)."""
    planes = np.asarray(packed, dtype=np.uint8)
    zigzag = planes[0].astype(np.uint16) | (planes[1].astype(np.uint16) << 8)
    residual = (zigzag >> 1) ^ (np.uint16(0) - (zigzag & 1))
    rows = np.cumsum(residual, axis=0, dtype=np.uint16)
    steps = np.cumsum(rows, axis=-1, dtype=np.uint16)
    return from_steps(steps)
