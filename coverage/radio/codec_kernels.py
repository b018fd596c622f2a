"""Compiled passes of the cache codecs: a window of path loss
(:mod:`coverage.predict.loss_codec`) and a network's rasters
(:mod:`coverage.predict.network_cache`) to the byte planes that are deflated and stored,
and back, one pass over the data each way.

The codec's numpy functions (``to_steps``, ``pack_steps``, ``from_steps``, ``unpack``) stay
the reference; these kernels give their results to the bit (tests compare them on random
windows with NaN, infinities, negative, huge values and exact half-step ties):

* :func:`encode_f8` / :func:`encode_f4` fuse ``to_steps`` (loss / step, rounded half to even
  as ``np.rint``, clipped to [1, max], 0 where not finite), ``pack_steps`` (gradient
  residual ``s[r, c] - s[r, c-1] - s[r-1, c] + s[r-1, c-1]`` modulo 2**16, zigzag-mapped,
  as two byte planes) and ``from_steps`` (the quantised loss). numpy needs a dozen passes
  and temporaries over the window for the same (about 9 ms of CPU for a demo window of
  0.85 million cells, against 4 ms here);
* :func:`decode_f8` / :func:`decode_f4` fuse ``unpack``: zigzag decoding, the cumulative
  sum down the columns, then along the rows (both modulo 2**16), and the loss of the steps.

For the network entries, exact by construction (tests round-trip them bit for bit):

* :func:`rsrp_planes` / :func:`rsrp_from_planes`: a float32 RSRP raster as its four byte
  planes (the smoothly varying high mantissa byte as its differences along the rows, which
  deflate a quarter smaller), and :func:`index_planes` / :func:`index_from_planes`: the
  serving site's indices as the byte planes of an int16 (or int32), low byte first.

They are declared with :func:`coverage.radio.jit.njit` (``nogil``, cached), compiled ahead of
time by ``make`` (:mod:`coverage.radio.aot`), and serial: a window is one site's job, and
the sites (and the network entry, on a thread of its own) already run side by side.
"""

from __future__ import annotations

import math

import numpy as np

from coverage.radio.jit import njit

_ROUND = 2.0 ** 52
"""Adding and subtracting it rounds a float64 in [0, 2**52) to an integer, half to even (in
the default rounding mode), as ``np.rint`` does: the compiled ``rint`` of the generic CPU
the ahead-of-time module targets is a call into the C library, which took half the pass."""


@njit(cache=True, nogil=True)
def _loss_of_steps(steps, step_db):
    """The loss (dB) of ``steps`` as ``from_steps`` gives it: float32 of steps * step_db
    (NaN for 0), widened again where the caller stores float64."""
    if steps == 0:
        return np.float32(np.nan)
    return np.float32(np.float64(steps) * step_db)


@njit(cache=True, nogil=True)
def _encode(loss_db, step_db, max_steps, planes, loss_out):
    """Body of :func:`encode_f8` and :func:`encode_f4` (either output dtype)."""
    rows, cols = loss_db.shape
    low = 1.5  # below: rint gives at most 1, clipped to 1
    high = np.float64(max_steps) + 0.5  # from here: rint gives more than max, clipped
    above = np.zeros(cols, np.int64)  # steps of the row above (0 above the first row)
    for r in range(rows):
        left = np.int64(0)
        above_left = np.int64(0)
        for c in range(cols):
            value = np.float64(loss_db[r, c])
            steps = np.int64(0)
            if math.isfinite(value):
                q = value / step_db
                if q < low:
                    steps = np.int64(1)
                elif q >= high:
                    steps = np.int64(max_steps)
                else:
                    steps = np.int64((q + _ROUND) - _ROUND)
            loss_out[r, c] = _loss_of_steps(steps, step_db)
            up = above[c]
            residual = (steps - left - up + above_left) & 0xFFFF
            if residual >= 0x8000:
                residual -= 0x10000  # as int16
            zigzag = ((residual << 1) ^ (residual >> 15)) & 0xFFFF
            planes[0, r, c] = np.uint8(zigzag & 0xFF)
            planes[1, r, c] = np.uint8(zigzag >> 8)
            above_left = up
            above[c] = steps
            left = steps


@njit(cache=True, nogil=True)
def encode_f8(loss_db, step_db, max_steps, planes, loss_out):
    """A loss window as its stored planes and its quantised loss, in one pass.

    Parameters
    ----------
    loss_db : ndarray of float32, shape (rows, cols)
        Path loss (dB); NaN or infinite where there is no value.
    step_db : float
        Quantum of the stored loss (dB).
    max_steps : int
        Largest number of steps (65535).
    planes : ndarray of uint8, shape (2, rows, cols)
        Out: the zigzag-mapped gradient residuals of the steps, low bytes then high bytes.
    loss_out : ndarray of float64, shape (rows, cols)
        Out: the quantised loss (dB): the float32 of steps * ``step_db`` (NaN for 0 steps),
        widened.
    """
    _encode(loss_db, step_db, max_steps, planes, loss_out)


@njit(cache=True, nogil=True)
def encode_f4(loss_db, step_db, max_steps, planes, loss_out):
    """:func:`encode_f8` with a float32 ``loss_out``."""
    _encode(loss_db, step_db, max_steps, planes, loss_out)


@njit(cache=True, nogil=True)
def _decode(planes, step_db, loss_out):
    """Body of :func:`decode_f8` and :func:`decode_f4` (any table and output dtype)."""
    rows, cols = loss_out.shape
    column = np.zeros(cols, np.int64)  # residuals summed down each column (mod 2**16)
    for r in range(rows):
        steps = np.int64(0)
        for c in range(cols):
            zigzag = np.int64(planes[0, r, c]) | (np.int64(planes[1, r, c]) << 8)
            residual = ((zigzag >> 1) ^ (-(zigzag & 1))) & 0xFFFF
            total = (column[c] + residual) & 0xFFFF
            column[c] = total
            steps = (steps + total) & 0xFFFF
            loss_out[r, c] = _loss_of_steps(steps, step_db)


@njit(cache=True, nogil=True)
def decode_f8(planes, step_db, loss_out):
    """Stored planes back to the quantised loss, in one pass (inverse of :func:`encode_f8`).

    Parameters
    ----------
    planes : ndarray of uint8, shape (2, rows, cols)
        Low and high bytes of the zigzag-mapped gradient residuals.
    step_db : float
        Quantum of the stored loss (dB).
    loss_out : ndarray of float64, shape (rows, cols)
        Out: the loss (dB), as :func:`encode_f8` gives it.
    """
    _decode(planes, step_db, loss_out)


@njit(cache=True, nogil=True)
def decode_f4(planes, step_db, loss_out):
    """:func:`decode_f8` with a float32 ``loss_out``."""
    _decode(planes, step_db, loss_out)


@njit(cache=True, nogil=True)
def rsrp_planes(bits, planes):
    """A float32 raster's bytes as the planes of the network cache, in one pass.

    Parameters
    ----------
    bits : ndarray of uint32, shape (rows, cols)
        The raster's IEEE 754 bits (a float32 raster viewed as uint32).
    planes : ndarray of uint8, shape (4, rows, cols)
        Out: bytes 0 and 1 (the low mantissa bytes), byte 2 as its differences along the
        rows (modulo 256; the high mantissa bits vary smoothly), byte 3 (sign, exponent).
    """
    rows, cols = bits.shape
    for r in range(rows):
        left = np.int64(0)
        for c in range(cols):
            value = np.int64(bits[r, c])
            third = (value >> 16) & 0xFF
            planes[0, r, c] = np.uint8(value & 0xFF)
            planes[1, r, c] = np.uint8((value >> 8) & 0xFF)
            planes[2, r, c] = np.uint8((third - left) & 0xFF)
            planes[3, r, c] = np.uint8((value >> 24) & 0xFF)
            left = third


@njit(cache=True, nogil=True)
def rsrp_from_planes(low, high, bits):
    """Inverse of :func:`rsrp_planes`, given its planes ``[:2]`` and ``[2:]``.

    Parameters
    ----------
    low, high : ndarray of uint8, shape (2, rows, cols)
        The planes.
    bits : ndarray of uint32, shape (rows, cols)
        Out: the raster's bits (view it as float32).
    """
    rows, cols = bits.shape
    for r in range(rows):
        third = np.int64(0)
        for c in range(cols):
            third = (third + np.int64(high[0, r, c])) & 0xFF
            bits[r, c] = np.uint32(np.int64(low[0, r, c]) | (np.int64(low[1, r, c]) << 8)
                                   | (third << 16) | (np.int64(high[1, r, c]) << 24))


@njit(cache=True, nogil=True)
def index_planes(values, planes):
    """An int32 raster as the byte planes of its two's complement in ``planes.shape[0]``
    bytes (low byte first), in one pass; the values must fit in that width.

    Parameters
    ----------
    values : ndarray of int32, shape (rows, cols)
        The raster (site indices, -1 for none).
    planes : ndarray of uint8, shape (width, rows, cols)
        Out: the planes (width 2 or 4).
    """
    rows, cols = values.shape
    if planes.shape[0] == 2:
        for r in range(rows):
            for c in range(cols):
                value = values[r, c]
                planes[0, r, c] = np.uint8(value & 0xFF)
                planes[1, r, c] = np.uint8((value >> 8) & 0xFF)
        return
    for r in range(rows):
        for c in range(cols):
            value = values[r, c]
            planes[0, r, c] = np.uint8(value & 0xFF)
            planes[1, r, c] = np.uint8((value >> 8) & 0xFF)
            planes[2, r, c] = np.uint8((value >> 16) & 0xFF)
            planes[3, r, c] = np.uint8((value >> 24) & 0xFF)


@njit(cache=True, nogil=True)
def index_from_planes(planes, values):
    """Inverse of :func:`index_planes` (sign-extended from ``planes.shape[0]`` bytes).

    Parameters
    ----------
    planes : ndarray of uint8, shape (width, rows, cols)
        The planes (width 2 or 4).
    values : ndarray of int32, shape (rows, cols)
        Out: the raster.
    """
    rows, cols = values.shape
    if planes.shape[0] == 2:
        for r in range(rows):
            for c in range(cols):
                value = np.int32(planes[0, r, c]) | (np.int32(planes[1, r, c]) << 8)
                values[r, c] = value - ((value & 0x8000) << 1)  # sign of 16 bits
        return
    for r in range(rows):
        for c in range(cols):
            values[r, c] = (np.int32(planes[0, r, c]) | (np.int32(planes[1, r, c]) << 8)
                            | (np.int32(planes[2, r, c]) << 16)
                            | (np.int32(planes[3, r, c]) << 24))
