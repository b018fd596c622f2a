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

The cache entry holds those planes deflated here (:func:`compress`: one zlib stream for both
planes, with zlib's run-length strategy ``Z_RLE``: back-references only to the previous
byte, which catches the runs of zero residuals outside the radius and in the high-byte
plane, then Huffman coding of the small residuals) and is written without a second
compression (:func:`coverage.io.cache.write_entry` still checksums it with SHA-256). On the
demo's windows this deflates about 3.5 times faster than ``numpy.savez_compressed`` (zlib's
default strategy at level 6, which searches for longer matches that these residuals rarely
have) and about 5 % smaller: on a cold county run the compression was a fifth of the time
each site spent outside the engine.

:func:`compress` and :func:`decompress` run the steps, the planes and the quantised loss in
one compiled pass each way (:mod:`coverage.radio.codec_kernels`, for float32 windows); the
numpy functions here (:func:`to_steps`, :func:`pack_steps`, :func:`from_steps`,
:func:`unpack`) are their reference, and the bytes are the same.
"""

from __future__ import annotations

import zlib

import numpy as np

from coverage.radio import codec_kernels

STEP_DB = 0.05
"""Quantum of stored path loss (dB)."""

FORMAT = "loss-u16-0.05dB-gradient-zigzag-planes-deflate-rle-v4"
"""Identifies this encoding; part of the cache key, so entries of another format are never
read as this one."""

STRATEGY = zlib.Z_RLE
"""zlib strategy of the stored planes (run-length matches and Huffman coding)."""

_NODATA = 0
_MAX_STEPS = int(np.iinfo(np.uint16).max)


def to_steps(loss_db: np.ndarray) -> np.ndarray:
    """Loss (dB, NaN = no value) as ``uint16`` steps of :data:`STEP_DB` (0 = no value).

    Losses are clipped to [0.05, 3276.75] dB (no propagation loss lies outside).
    """
    steps = np.array(loss_db, dtype=np.float64)  # one float64 temporary, worked in place
    missing = ~np.isfinite(steps)
    steps[missing] = 0.0
    np.divide(steps, STEP_DB, out=steps)
    np.rint(steps, out=steps)
    np.clip(steps, 1, _MAX_STEPS, out=steps)
    steps[missing] = _NODATA
    return steps.astype(np.uint16)


def _from_steps(steps: np.ndarray) -> np.ndarray:
    loss = steps.astype(np.float64) * STEP_DB
    return np.where(steps == _NODATA, np.nan, loss).astype(np.float32)


_LOSS_OF_STEP = _from_steps(np.arange(_MAX_STEPS + 1, dtype=np.uint16))
"""The loss of every possible step (float32, 256 kB): decoding is one table look-up."""

_LOSS_OF_STEP_F64 = _LOSS_OF_STEP.astype(np.float64)
"""The same values widened to float64 (exactly), for a caller that computes in float64."""

LossDtype = type[np.float32] | type[np.float64]


def from_steps(steps: np.ndarray, dtype: LossDtype = np.float32) -> np.ndarray:
    """``uint16`` steps back to loss (dB, float32; NaN where 0).

    With ``dtype=np.float64`` the same float32 values come widened to float64 (the RSRP
    kernel computes in float64): one look-up instead of a look-up and a conversion.
    """
    table = _LOSS_OF_STEP_F64 if dtype is np.float64 else _LOSS_OF_STEP
    return table[np.asarray(steps, dtype=np.uint16)]


def quantise(loss_db: np.ndarray) -> np.ndarray:
    """Loss (dB, float32) rounded to the stored precision (the value a cache hit returns)."""
    return from_steps(to_steps(loss_db))


def pack(loss_db: np.ndarray) -> np.ndarray:
    """A 2-D loss window (dB) as the zigzag-mapped gradient residuals of its steps, in two
    byte planes (``uint8``, shape ``(2, rows, cols)``: low bytes, high bytes)."""
    return pack_steps(to_steps(loss_db))


def pack_steps(steps: np.ndarray) -> np.ndarray:
    """:func:`pack` of a window already as ``uint16`` steps (:func:`to_steps`)."""
    # differences along the rows, then down the columns, all modulo 2**16 (exact)
    rows = np.diff(steps, axis=-1, prepend=np.uint16(0))
    residual = np.diff(rows, axis=0, prepend=np.zeros((1, rows.shape[-1]), np.uint16))
    signed = residual.view(np.int16)
    zigzag = ((signed << 1) ^ (signed >> 15)).view(np.uint16)
    return np.stack([(zigzag & 0xFF).astype(np.uint8), (zigzag >> 8).astype(np.uint8)])


def unpack(packed: np.ndarray, dtype: LossDtype = np.float32) -> np.ndarray:
    """Inverse of :func:`pack`: the quantised loss window (dB, float32 or widened to
    ``dtype``, see :func:`from_steps`)."""
    planes = np.asarray(packed, dtype=np.uint8)
    zigzag = planes[0].astype(np.uint16) | (planes[1].astype(np.uint16) << 8)
    residual = (zigzag >> 1) ^ (np.uint16(0) - (zigzag & 1))
    rows = np.cumsum(residual, axis=0, dtype=np.uint16)
    steps = np.cumsum(rows, axis=-1, dtype=np.uint16)
    return from_steps(steps, dtype)


def compress(loss_db: np.ndarray, dtype: LossDtype = np.float32
             ) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D loss window (dB) as stored, and as a read of the stored form returns it.

    Returns
    -------
    stored : ndarray of uint8, shape (n,)
        The planes of :func:`pack`, deflated (zlib, strategy :data:`STRATEGY`); the
        window's shape is not included (:func:`decompress` takes it).
    loss : ndarray of float32 (or widened to ``dtype``, see :func:`from_steps`)
        The quantised loss (dB), equal to ``decompress(stored, loss_db.shape)``.
    """
    planes, loss = _encode(loss_db, dtype)
    deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, zlib.MAX_WBITS,
                               zlib.DEF_MEM_LEVEL, STRATEGY)
    stored = np.frombuffer(deflate.compress(planes.data) + deflate.flush(), dtype=np.uint8)
    return stored, loss


def decompress(stored: np.ndarray, shape: tuple[int, int], dtype: LossDtype = np.float32
               ) -> np.ndarray:
    """Inverse of :func:`compress`: the quantised loss window (dB, float32 or widened to
    ``dtype``) of ``shape``.

    Raises
    ------
    ValueError
        When ``stored`` does not inflate to the planes of a window of ``shape``.
    """
    try:
        raw = zlib.decompress(np.ascontiguousarray(stored, dtype=np.uint8).data)
    except zlib.error as exc:
        raise ValueError(f"stored loss does not inflate: {exc}") from exc
    rows, cols = shape
    if len(raw) != 2 * rows * cols:
        raise ValueError(f"stored loss holds {len(raw)} bytes, not the planes of a "
                         f"{rows}x{cols} window")
    # a writeable copy (the compiled kernel takes writeable arrays only): 2 bytes a cell
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(2, rows, cols).copy()
    loss = np.empty((rows, cols), np.float64 if dtype is np.float64 else np.float32)
    if dtype is np.float64:
        codec_kernels.decode_f8(planes, STEP_DB, loss)
    else:
        codec_kernels.decode_f4(planes, STEP_DB, loss)
    return loss


def _encode(loss_db: np.ndarray, dtype: LossDtype) -> tuple[np.ndarray, np.ndarray]:
    """``(pack(loss_db), quantise(loss_db))`` (the latter widened to ``dtype``), in one
    compiled pass (:mod:`coverage.radio.codec_kernels`) for a 2-D float32 window, by the
    numpy reference functions otherwise (the same values)."""
    loss_in = np.asarray(loss_db)
    if loss_in.ndim != 2 or loss_in.dtype != np.float32:
        steps = to_steps(loss_in)
        return pack_steps(steps), from_steps(steps, dtype)
    loss_in = np.require(loss_in, np.float32, ["C_CONTIGUOUS", "WRITEABLE"])
    planes = np.empty((2, *loss_in.shape), np.uint8)
    if dtype is np.float64:
        loss = np.empty(loss_in.shape, np.float64)
        codec_kernels.encode_f8(loss_in, STEP_DB, _MAX_STEPS, planes, loss)
    else:
        loss = np.empty(loss_in.shape, np.float32)
        codec_kernels.encode_f4(loss_in, STEP_DB, _MAX_STEPS, planes, loss)
    return planes, loss
