"""The stored precision of path loss: 0.05 dB steps, packed small for the on-disk cache.

Every loss the predictions use passes through :func:`quantise` (computed or read from the
cache alike), so a cold run and a warm run give byte-identical rasters. The step, 0.05 dB
(error at most 0.025 dB), is finer than any figure the outputs print (RSRP and margins to
0.1 dB) and far finer than the model's accuracy (several dB); it can only change a value
that lies within 0.025 dB of a threshold or of a rounding boundary.

On disk (:func:`pack`) a window is the number of steps as ``uint16`` (0 = no value, so up to
3276.75 dB), stored as differences along each row (16-bit, wrapping): the loss varies
slowly along a row, so the differences are small and compress about four times better
than the float32 values. The differences are stored as two byte planes (low bytes, then
high bytes; ``uint8``, shape ``(2, rows, cols)``): the high bytes are nearly all 0 or 255,
and apart they deflate about 8 % smaller than interleaved (the demo's cache: ~20 MB).
"""

from __future__ import annotations

import numpy as np

STEP_DB = 0.05
"""Quantum of stored path loss (dB)."""

FORMAT = "loss-u16-0.05dB-rowdiff-planes-v2"
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
    """A 2-D loss window (dB) as row differences of its steps, in two byte planes
    (``uint8``, shape ``(2, rows, cols)``: low bytes, high bytes)."""
    steps = to_steps(loss_db).astype(np.int32)
    diff = np.diff(steps, axis=-1, prepend=0).astype(np.uint16)  # modulo 2**16: exact
    return np.stack([(diff & 0xFF).astype(np.uint8), (diff >> 8).astype(np.uint8)])


def unpack(packed: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack`: the quantised loss window (dB, float32)."""
    planes = np.asarray(packed, dtype=np.uint8)
    diff = planes[0].astype(np.uint16) | (planes[1].astype(np.uint16) << 8)
    steps = np.cumsum(diff, axis=-1, dtype=np.uint16)
    return from_steps(steps)
