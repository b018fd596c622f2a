"""Compiled pass that merges two best-server rasters of one operator
(:func:`coverage.signal.merge_coverage`), in one pass over the cells.

numpy needed a dozen passes and whole-raster temporaries for the same rule (about 0.19 s
of CPU per merge of the demo's three operators, against a few hundredths here); a run
merges twice, warm or cold. The rule, to the bit as numpy applied it (a test compares them
on rasters with NaN, infinities and exact ties):

* the RSRP values compare as ``np.nan_to_num(rsrp, nan=-inf)`` does: NaN (no site) below
  every value, +inf and -inf as the largest and lowest finite float32;
* a cell takes the second raster's site when it is stronger, or exactly as strong with a
  site (index >= 0) and the first raster's site none or of a higher index.

Declared with :func:`coverage.radio.jit.njit` (``nogil``, cached) and compiled ahead of time
by ``make`` (:mod:`coverage.radio.aot`), like the other kernels.
"""

from __future__ import annotations

import numpy as np

from coverage.radio.jit import njit

_F4_MAX = np.float32(np.finfo(np.float32).max)


@njit(cache=True, nogil=True)
def _compared(value):
    """``value`` as ``np.nan_to_num(value, nan=-inf)`` makes it (float32)."""
    if value != value:
        return np.float32(-np.inf)
    if value == np.inf:
        return _F4_MAX
    if value == -np.inf:
        return -_F4_MAX
    return value


@njit(cache=True, nogil=True)
def merge_best(a_rsrp, a_site, b_rsrp, b_site, out_rsrp, out_site):
    """Best server over two rasters of one operator (see the module notes).

    Parameters
    ----------
    a_rsrp, b_rsrp : ndarray of float32, shape (rows, cols)
        Best-server RSRP (dBm; NaN where no site reaches) of the two sets of sites.
    a_site, b_site : ndarray of int32, shape (rows, cols)
        Their serving sites' indices (-1 none).
    out_rsrp : ndarray of float32, shape (rows, cols)
        Out: the merged RSRP (the value of the raster whose site is taken, unchanged).
    out_site : ndarray of int32, shape (rows, cols)
        Out: the merged serving site.
    """
    rows, cols = a_rsrp.shape
    for r in range(rows):
        for c in range(cols):
            va = _compared(a_rsrp[r, c])
            vb = _compared(b_rsrp[r, c])
            sa = a_site[r, c]
            sb = b_site[r, c]
            if vb > va or (vb == va and sb >= 0 and (sa < 0 or sb < sa)):
                out_rsrp[r, c] = b_rsrp[r, c]
                out_site[r, c] = sb
            else:
                out_rsrp[r, c] = a_rsrp[r, c]
                out_site[r, c] = sa
