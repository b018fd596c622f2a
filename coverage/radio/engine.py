"""Area prediction engine: the path loss from one site to every cell within a radius.

The engine casts rays from the site and walks each ray once, outwards. Every sample of a ray
is a candidate receiver; the quantities the ITU-R P.1812 delta-Bullington method needs for a
receiver are kept as running sums, running maxima and two incrementally built convex hulls,
so that each cell costs O(log n) instead of the O(n) of a profile scan (n samples on its
path), and the whole area costs O(N log n) instead of O(N n).

Geometry
--------
* Grid coordinates are fractional (row, col) with ``row == 0.0`` at the *centre* of the first
  row (the WorkingGrid convention). The site sits at its exact fractional position.
* Rays go from the site to every cell of the perimeter of the square of half-side
  ``M = ceil(radius / resolution) + 1`` cells (``8 M`` rays). Sample ``k`` of ray ``j`` lies at
  ``site + k (p_j / M)``: one row (or column) per step along the major axis, so neighbouring
  rays are less than one cell apart at every step and every cell within the radius is hit.
  The step is ``|p_j| / M`` cells (1 to sqrt 2 cells).
* Heights are sampled bilinearly from the DEM (nearest cell when a corner is nodata). A nodata
  sample keeps the last valid height on the profile (the profile goes on), but a cell over
  nodata gets NaN. A ray ends at the edge of the grid.
* **Assignment**: each cell within the radius takes its loss from exactly one sample, the one
  (over all rays) that lies nearest the cell centre (ties: the ray passing nearer the centre,
  which keeps symmetric terrain symmetric). A cheap pass (bands of rows on threads) finds
  these owners and turns them into per-ray lists (the cell each sample owns, if any), a band
  of 128 rows at a time in scratch arrays of the band (no owner array of the whole window;
  cells outside the radius or over nodata are left out there, so they stay NaN); the
  expensive loss evaluation then runs once per cell, each ray walked once outwards up to its
  last owned sample, ranges of rays on threads (the only serial work of a call is allocating
  the output and the list, and the site's own cell). The profile of a cell is therefore the
  owning ray's samples 0..k, with the receiver at the owning sample (at most ~0.7 cell from
  the cell centre); the function :func:`cell_profile` returns it. The site's own cell, which
  no sample reaches, gets free space at half a cell.

Running form of the P.1812 quantities (distances in km, heights in m, Ce = 1/ap in 1/km)
-------------------------------------------------------------------------------------------
With profile points ``(d_i, h_i)``, ``i = 0`` at the Tx, receiver at sample ``k`` (``d = d_k``,
intermediate points ``i = 1..k-1``), Tx antenna ``hts = h_0 + htg`` and Rx antenna
``hrs = h_k + hrg`` (m amsl), define the curvature-corrected height in the frame of the Tx
``g_i = h_i - 500 Ce d_i^2`` (independent of the receiver). Then, exactly,

* ``Stim = max_i (h_i + 500 Ce d_i (d - d_i) - hts) / d_i = max_i (g_i - hts) / d_i + 500 Ce d``:
  a running maximum ``A_t`` of ``(g_i - hts) / d_i`` plus a term of the receiver alone;
* ``Srim = max_i (h_i + 500 Ce d_i (d - d_i) - hrs) / (d - d_i)
  = max_i (g_i - Y_r) / (d - d_i) - 500 Ce d`` with ``Y_r = hrs - 500 Ce d^2``: the
  curvature term, written relative to the receiver, decomposes into the Tx-frame heights
  ``g_i`` and a receiver point ``(d, Y_r)``. The maximum is the tangent from that point to the
  upper convex hull of the points ``(d_i, g_i)``, found by binary search on the hull
  (O(log n)); the hull is built incrementally (monotone chain, amortised O(1) per sample);
* ``Str = (hrs - hts) / d`` directly;
* line of sight (``Stim < Str``): ``numax = max_i nu_i`` of P.1812 eq. (15) is not a running
  quantity (its Fresnel weight depends on the receiver). Two more hull queries give the
  margins ``alpha = Str - Stim`` (Tx side), ``beta`` (the same seen from the Rx) and the
  smallest clearance ``c0`` below the Tx-Rx line; every point has
  ``|nu_i| >= K max(sqrt(alpha beta), 2 c0 / d)``, ``K = sqrt(0.002 d / lambda)``, and can
  only have ``nu_i > -0.78`` (the only case where J(nu) > 0) inside a known interval of
  ``d_i``. So most line-of-sight cells need no scan (Lbull = 0 exactly) and the others scan
  only that interval. The result is exact; the cost is O(k) only for grazing paths;
* smooth-earth least-squares surface (Attachment 1, section 5.6.1): the sums ``v1``, ``v2``
  (eqs. 85-86) run over the segments 0..k, so they are running sums, and ``hst``, ``hsr``
  follow (eqs. 87-88);
* the diffraction smooth-surface heights (section 5.6.2): ``hobs = max_i H_i`` with
  ``H_i = h_i - hts - Str d_i`` is a support query of slope ``Str`` on the upper hull of the
  raw points ``(d_i, h_i)``; ``alpha_obt = max_i (h_i - hts) / d_i - Str`` is a running
  maximum; ``alpha_obr = max_i (h_i - hrs) / (d - d_i) + Str`` is a tangent query on the same
  hull. All exact. ``hstd``, ``hsrd`` follow eqs. (90)-(91);
* the zero-height Bullington loss Lbulls at the same sample positions ``d_i = i s``: its
  Tx and Rx slope functions are concave in ``d_i`` (the effective heights
  ``hts - hstd >= htg > 0``), so their maxima are at the integer neighbours of the
  continuous optimum ``sqrt(h / (500 Ce))``; its line-of-sight numax is unimodal in ``i`` and
  found by integer ternary search. Exact;
* the spherical-earth loss Ldsph and free space are closed-form per cell.

``Lb = Lbfs + Lbulla + max(Ldsph - Lbulls, 0)`` (P.1812-8 eqs. 8, 39, 42 at p = 50 %, no
clutter) with ``Lbfs = 92.4 + 20 log10 f + 10 log10(d^2 + ((hts - hrs)/1000)^2)``; the
diffraction formulas themselves come from :mod:`coverage.radio.diffraction`.
Troposcatter, ducting and the time-percentage blending of P.1812 are not added: at 50 % time
and within tens of kilometres they change Lb by well under 0.1 dB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from affine import Affine

from coverage.errors import ModelRangeError
from coverage.radio.diffraction import (
    POL_VERTICAL,
    bullington_from_slopes,
    spherical_earth_diffraction,
    wavelength_m,
)
from coverage.radio.jit import njit
from coverage.radio.threads import run_ranges

if TYPE_CHECKING:
    from collections.abc import Sequence

    from coverage.radio.models import Environment

EARTH_RADIUS_KM = 6371.0
"""Mean earth radius (km), P.1812."""

ENGINE_VERSION = "1"
"""Changes whenever the engine's numbers change (part of cache keys)."""

ModelName = Literal["p1812", "free_space", "hata"]


def effective_earth_radius_km(delta_n: float) -> float:
    """Median effective earth radius ``ae = 6371 k50`` (km), ``k50 = 157 / (157 - dN)``.

    Parameters
    ----------
    delta_n : float
        Refractivity lapse rate through the lowest 1 km (N-units/km, positive), < 157.
    """
    if not delta_n < 157.0:
        raise ModelRangeError(f"delta_n = {delta_n} N-units/km gives no effective earth radius; "
                              "Fix: use a value below 157 (45 is typical, k = 4/3 is 39.25)")
    return EARTH_RADIUS_KM * 157.0 / (157.0 - delta_n)


@dataclass(frozen=True)
class LossWindow:
    """Basic transmission loss of one site on a window of the working grid.

    Attributes
    ----------
    row0, col0 : int
        Grid row and column of the window's first cell.
    loss_db : ndarray of float32
        Loss (dB), shape (rows, cols) of the window; NaN outside the radius, outside the grid
        and over nodata.
    site_row, site_col : float
        Fractional grid position of the site (``row == 0.0`` is the centre of row 0).
    site_ground_m : float
        Ground height at the site (m amsl), bilinear from the DEM.
    model : str
        The propagation model that made it.
    """

    row0: int
    col0: int
    loss_db: np.ndarray
    site_row: float
    site_col: float
    site_ground_m: float
    model: str

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the window."""
        return self.loss_db.shape

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices of the window in the full grid."""
        rows, cols = self.loss_db.shape
        return slice(self.row0, self.row0 + rows), slice(self.col0, self.col0 + cols)


# --------------------------------------------------------------------------- numba kernels


@njit(cache=True)
def _floor(x):
    """``math.floor`` of a finite float (an int), without the C library call that the
    generic-CPU ahead-of-time build makes for it."""
    i = int(x)
    return i - 1 if i > x else i


@njit(cache=True)
def _bilinear_corners(nr, nc, r, c):
    """Corner rows, columns and weights ``(r0, c0, r1, c1, fr, fc)`` of :func:`_bilinear`."""
    r0 = _floor(r)
    c0 = _floor(c)
    r0 = min(max(r0, 0), nr - 2) if nr > 1 else 0
    c0 = min(max(c0, 0), nc - 2) if nc > 1 else 0
    r1 = min(r0 + 1, nr - 1)
    c1 = min(c0 + 1, nc - 1)
    fr = min(max(r - r0, 0.0), 1.0)
    fc = min(max(c - c0, 0.0), 1.0)
    return r0, c0, r1, c1, fr, fc


@njit(cache=True)
def _bilinear_mix(z00, z01, z10, z11, fr, fc):
    """Bilinear mix of four corner heights (float32) with weights ``fr``, ``fc``."""
    return (z00 * (1.0 - fc) + z01 * fc) * (1.0 - fr) + (z10 * (1.0 - fc) + z11 * fc) * fr


@njit(cache=True)
def _nearest_cell(nr, nc, r, c):
    """Row and column of the cell nearest the fractional (r, c), inside the grid."""
    return min(max(_floor(r + 0.5), 0), nr - 1), min(max(_floor(c + 0.5), 0), nc - 1)


@njit(cache=True)
def _bilinear(elev, r, c):
    """Bilinear height at fractional (r, c); nearest cell when a corner is NaN.

    The arithmetic lives in scalar helpers that the ray sweep calls as well (reading the
    DEM itself): a kernel call that takes an array costs two atomic reference-count updates,
    and the DEM is shared by every thread.
    """
    nr, nc = elev.shape
    r0, c0, r1, c1, fr, fc = _bilinear_corners(nr, nc, r, c)
    z = _bilinear_mix(elev[r0, c0], elev[r0, c1], elev[r1, c0], elev[r1, c1], fr, fc)
    if np.isnan(z):
        ri, ci = _nearest_cell(nr, nc, r, c)
        return np.float64(elev[ri, ci])
    return z


@njit(cache=True)
def _perimeter(m):
    """Offsets (rows, cols) of the 8 m cells on the perimeter of a square of half-side m."""
    n = 8 * m
    pr = np.empty(n, np.float64)
    pc = np.empty(n, np.float64)
    j = 0
    for t in range(-m, m):
        pr[j] = -m
        pc[j] = t
        j += 1
    for t in range(-m, m):
        pr[j] = t
        pc[j] = m
        j += 1
    for t in range(-m, m):
        pr[j] = m
        pc[j] = -t
        j += 1
    for t in range(-m, m):
        pr[j] = -t
        pc[j] = -m
        j += 1
    return pr, pc


@njit(cache=True, nogil=True)
def _assign_owners_rows(nwr, nwc, srw, scw, m, pr, pc, kmax, r_lo, r_hi, best, own_ray,
                        own_k):
    """For every window cell of rows ``r_lo..r_hi-1``, the (ray, sample) whose sample lies
    nearest the cell centre (into ``own_ray``, ``own_k``; ``best`` is scratch), arrays of
    the whole window (:func:`_assign_owners_band`)."""
    _assign_owners_band(nwr, nwc, srw, scw, m, pr, pc, kmax, r_lo, r_hi, 0, best, own_ray,
                        own_k)


@njit(cache=True)
def _assign_owners_band(nwr, nwc, srw, scw, m, pr, pc, kmax, r_lo, r_hi, r_off, best,
                        own_ray, own_k):
    """For every window cell of rows ``r_lo..r_hi-1``, the (ray, sample) whose sample lies
    nearest the cell centre, into row ``ri - r_off`` of ``own_ray``, ``own_k`` (``best``,
    the squared distance (cell^2) of the owner so far, starts at +inf and ``own_ray`` at
    -1).

    Ties (up to rounding, 1e-9 cell^2) go to the ray passing nearer the cell centre (a
    mirror-symmetric rule, so symmetric terrain gives symmetric results), then to the first
    ray. Every cell sees the same samples in the same order whatever the band of rows, so
    bands computed apart (on threads) give exactly the result of the whole window at once:
    a ray moves monotonically away from the site, so the samples before it enters the band
    and after it leaves it are skipped without changing anything. The arrays are
    C-contiguous with ``nwc`` columns.
    """
    best_f = best.reshape(-1)
    ray_f = own_ray.reshape(-1)
    k_f = own_k.reshape(-1)
    for j in range(pr.shape[0]):
        ur = pr[j] / m
        uc = pc[j] / m
        k0 = 1
        if ur > 0.0:
            k0 = max(1, math.floor((r_lo - 0.5 - srw) / ur) - 1)
        elif ur < 0.0:
            k0 = max(1, math.floor((r_hi - 0.5 - srw) / ur) - 1)
        for k in range(k0, kmax[j] + 1):
            r = srw + k * ur
            c = scw + k * uc
            ri = _floor(r + 0.5)
            ci = _floor(c + 0.5)
            if ri < 0 or ri >= nwr or ci < 0 or ci >= nwc:
                break
            if ri < r_lo or ri >= r_hi:
                if (ur > 0.0 and ri >= r_hi) or (ur < 0.0 and ri < r_lo) or ur == 0.0:
                    break  # past the band (or a row ray outside it): nothing more here
                continue
            q = (ri - r_off) * nwc + ci  # flat index in the band (one index, not two)
            dd = (r - ri) * (r - ri) + (c - ci) * (c - ci)
            b = best_f[q]
            if dd < b - 1e-9:
                best_f[q] = dd
                ray_f[q] = j
                k_f[q] = k
            elif dd <= b + 1e-9:  # a tie up to rounding
                o = ray_f[q]
                if _ray_offset(ri - srw, ci - scw, pr[j], pc[j]) < _ray_offset(
                        ri - srw, ci - scw, pr[o], pc[o]) - 1e-9:
                    best_f[q] = min(dd, b)
                    ray_f[q] = j
                    k_f[q] = k


@njit(cache=True, nogil=True)
def _window_slots_rows(elev, row0, col0, nwr, nwc, sr, sc, srw, scw, rc, m, pr, pc, kmax,
                       base, r_lo, r_hi, band, slot, near):
    """The sweep's per-ray cell lists for the window rows ``r_lo..r_hi-1``, straight from
    the owners of :func:`_assign_owners_band` (bands of ``band`` rows at a time, in
    scratch arrays of that many rows, so no array of the whole window is needed).

    ``slot[base[j] + k]`` becomes the flat window index of the cell that sample ``k`` of
    ray ``j`` owns, for the cells within the radius (``rc`` cells, the test of
    :func:`inside_radius`) over data (``elev`` is the whole grid, the window starting at
    ``row0, col0``; ``sr, sc`` the site's grid position, ``srw, scw`` its window position).
    The flat indices of such cells that no sample owns (the site's own cell) go into
    ``near``; returns their count (which may exceed ``near``'s size: then only the first
    fit).
    """
    nb = max(1, min(band, r_hi - r_lo))
    best = np.empty((nb, nwc), np.float64)
    own_ray = np.empty((nb, nwc), np.int32)
    own_k = np.empty((nb, nwc), np.int32)
    rc2 = rc * rc
    n_near = 0
    for b_lo in range(r_lo, r_hi, nb):
        b_hi = min(b_lo + nb, r_hi)
        best[:, :] = np.inf
        own_ray[:, :] = -1
        _assign_owners_band(nwr, nwc, srw, scw, m, pr, pc, kmax, b_lo, b_hi, b_lo, best,
                            own_ray, own_k)
        for ri in range(b_lo, b_hi):
            rr = np.float64(row0 + ri) - sr
            rr2 = rr * rr
            if not rr2 <= rc2:
                continue  # rr2 + cc2 >= rr2 in floating point too
            # the cells within the radius form one run of the row: look only around it
            half = math.sqrt(rc2 - rr2)
            c_lo = max(0, _floor(sc - half) - 2 - col0)
            c_hi = min(nwc, _floor(sc + half) + 3 - col0)
            bi = ri - b_lo
            for ci in range(c_lo, c_hi):
                cc = np.float64(col0 + ci) - sc
                if rr2 + cc * cc <= rc2 and not np.isnan(elev[row0 + ri, col0 + ci]):
                    j = own_ray[bi, ci]
                    if j >= 0:
                        slot[base[j] + own_k[bi, ci]] = ri * nwc + ci
                    else:
                        if n_near < near.shape[0]:
                            near[n_near] = ri * nwc + ci
                        n_near += 1
    return n_near


def _assign_owners(nwr: int, nwc: int, srw: float, scw: float, m: int, pr: np.ndarray,
                   pc: np.ndarray, kmax: np.ndarray, threads: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """For every window cell, the (ray, sample) whose sample lies nearest the cell centre.

    Bands of rows go to ``threads`` threads (:func:`_assign_owners_rows`); the result does
    not depend on the split. ``own_ray`` is -1 where no sample lies.
    """
    best = np.full((nwr, nwc), np.inf, np.float64)
    own_ray = np.full((nwr, nwc), -1, np.int32)
    own_k = np.zeros((nwr, nwc), np.int32)

    def band(r_lo: int, r_hi: int) -> None:
        _assign_owners_rows(nwr, nwc, srw, scw, m, pr, pc, kmax, r_lo, r_hi, best, own_ray,
                            own_k)

    run_ranges(band, nwr, threads, chunks_per_thread=1)
    return own_ray, own_k


@njit(cache=True)
def _perimeter_index(m, pr, pc):
    """Index j in :func:`_perimeter`'s order of the perimeter offset (pr, pc) (-1 if none)."""
    if pr == -m and pc < m:
        return pc + m
    if pc == m and pr < m:
        return 3 * m + pr
    if pr == m and pc > -m:
        return 5 * m - pc
    if pc == -m and pr > -m:
        return 7 * m - pr
    return -1


@njit(cache=True)
def _cell_candidate(srw, scw, m, pr, pc, kmax, ri, ci, a, b, k, cj, ck, cd, n):
    """Append the sample k of the ray at perimeter offset (a, b) to the candidates of the
    cell (ri, ci) when it exists and rounds to that cell, with the arithmetic of
    :func:`_assign_owners_rows`; returns the new count."""
    j = _perimeter_index(m, a, b)
    if j < 0 or pr[j] != a or pc[j] != b or k < 1 or k > kmax[j]:
        return n
    ur = pr[j] / m
    uc = pc[j] / m
    r = srw + k * ur
    c = scw + k * uc
    if math.floor(r + 0.5) != ri or math.floor(c + 0.5) != ci:
        return n
    cj[n] = j
    ck[n] = k
    cd[n] = (r - ri) * (r - ri) + (c - ci) * (c - ci)
    return n + 1


@njit(cache=True, nogil=True)
def _owners_at_cells(srw, scw, m, pr, pc, kmax, wr, wc, own_ray, own_k):
    """The owner (ray, sample) of each window cell ``(wr[i], wc[i])`` only, equal to the one
    :func:`_assign_owners_rows` gives it (into ``own_ray[i]``, ``own_k[i]``; -1 where no
    sample lies).

    A ray advances exactly one cell per sample along its major axis (its perimeter offset
    has ``|pr| == m`` or ``|pc| == m``), so the samples that round to a cell are found
    directly: for the rays of each major axis, the sample index from the cell's offset
    along that axis, and the rays whose minor offset at that sample rounds to the cell.
    They are then taken in the full pass's order (ray, then sample) under its rule (nearest
    sample centre, ties to the ray passing nearer the cell centre, then the first ray).
    Samples before the window's edge are all inside it (a ray moves monotonically away from
    the site, which is inside the window), so the full pass's stop at the edge never hides
    a sample of a cell inside the window.
    """
    cap = 12 * (2 * m + 3)
    cj = np.empty(cap, np.int64)
    ck = np.empty(cap, np.int64)
    cd = np.empty(cap, np.float64)
    order = np.empty(cap, np.int64)
    for i in range(wr.shape[0]):
        ri = wr[i]
        ci = wc[i]
        n = 0
        for axis in range(2):
            for s in (-1, 1):
                along = (ri - srw) if axis == 0 else (ci - scw)
                kc = math.floor(s * along + 0.5)
                for k in range(kc - 1, kc + 2):
                    if k < 1 or k > m:
                        continue
                    u = (s * m) / m  # the major step of these rays, as the full pass has it
                    if axis == 0 and math.floor(srw + k * u + 0.5) != ri:
                        continue
                    if axis == 1 and math.floor(scw + k * u + 0.5) != ci:
                        continue
                    across = (ci - scw) if axis == 0 else (ri - srw)
                    lo = max(-m, math.floor((across - 0.5) * m / k) - 1)
                    hi = min(m, math.ceil((across + 0.5) * m / k) + 1)
                    for p in range(lo, hi + 1):
                        if axis == 0:
                            n = _cell_candidate(srw, scw, m, pr, pc, kmax, ri, ci, s * m, p,
                                                k, cj, ck, cd, n)
                        elif -m < p < m:  # the corners are rays of the row axis
                            n = _cell_candidate(srw, scw, m, pr, pc, kmax, ri, ci, p, s * m,
                                                k, cj, ck, cd, n)
        # the full pass's order: by ray, then by sample (insertion sort: n is small)
        for q in range(n):
            order[q] = q
        for q in range(1, n):
            v = order[q]
            t = q - 1
            while t >= 0 and (cj[order[t]] > cj[v]
                              or (cj[order[t]] == cj[v] and ck[order[t]] > ck[v])):
                order[t + 1] = order[t]
                t -= 1
            order[t + 1] = v
        best = np.inf
        o = -1
        ko = 0
        for q in range(n):
            j = cj[order[q]]
            dd = cd[order[q]]
            if dd < best - 1e-9:
                best = dd
                o = j
                ko = ck[order[q]]
            elif dd <= best + 1e-9 and _ray_offset(ri - srw, ci - scw, pr[j], pc[j]) < (
                    _ray_offset(ri - srw, ci - scw, pr[o], pc[o]) - 1e-9):  # a tie
                best = min(dd, best)
                o = j
                ko = ck[order[q]]
        own_ray[i] = o
        own_k[i] = ko


@njit(cache=True)
def _ray_offset(dr, dc, pr, pc):
    """Distance (cells) of the point (dr, dc) from the line through 0 and (pr, pc)."""
    return abs(dr * pc - dc * pr) / math.sqrt(pr * pr + pc * pc)


@njit(cache=True)
def _sample_ray(elev, sr, sc, ur, uc, kmax, h0, h, nodata):
    """Heights of samples 0..kmax of one ray into ``h``; returns the last sample inside.

    ``h[0] = h0`` (the site). A NaN sample keeps the previous height and sets ``nodata``.
    """
    nr, nc = elev.shape
    h[0] = h0
    nodata[0] = False
    last = 0
    for k in range(1, kmax + 1):
        r = sr + k * ur
        c = sc + k * uc
        if r < -0.5 or c < -0.5 or r > nr - 0.5 or c > nc - 0.5:
            break
        z = _bilinear(elev, r, c)
        if np.isnan(z):
            h[k] = h[k - 1]
            nodata[k] = True
        else:
            h[k] = z
            nodata[k] = False
        last = k
    return last


# Rows of a ray's work array (one array per ray rather than seven: every kernel call that
# takes an array costs two atomic reference-count updates, and the hot loop makes several
# calls per sample): distances d_i (km), heights h_i and g_i (m), then the vertices
# (x, y) of the upper hulls of the points (d_i, g_i) and (d_i, h_i), and the largest g_i of
# each block of _BLOCK samples (entry i >> _BLOCK_BITS, for the line-of-sight scan).
_D, _H, _G, _GX, _GY, _HX, _HY, _GB = 0, 1, 2, 3, 4, 5, 6, 7
_WORK_ROWS = 8
_BLOCK_BITS = 3
_BLOCK = 1 << _BLOCK_BITS


@njit(cache=True)
def _hull_tangent(w, xr, n, x, y):
    """Index of the vertex of the hull in rows ``xr, xr + 1`` of ``w`` maximising
    ``(hy - y) / (x - hx)`` for a point right of the hull."""
    yr = xr + 1
    lo = 0
    hi = n - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if (w[yr, mid + 1] - w[yr, mid]) * (x - w[xr, mid]) <= (y - w[yr, mid]) * (
                w[xr, mid + 1] - w[xr, mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _hull_support(w, xr, n, slope):
    """Index of the vertex of the hull in rows ``xr, xr + 1`` of ``w`` maximising
    ``hy - slope * hx``."""
    yr = xr + 1
    lo = 0
    hi = n - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if w[yr, mid + 1] - w[yr, mid] <= slope * (w[xr, mid + 1] - w[xr, mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _los_numax(w, k, dt, hts, yr, lam, alpha, beta, c0):
    """Largest diffraction parameter numax (eq. 15) of a line-of-sight path, when > -0.78.

    ``w`` is the ray's work array (distances in row :data:`_D`, heights ``g`` in row
    :data:`_G`). In the Tx frame, every intermediate point lies below the Tx-Rx line
    ``L`` by ``-c_i >= max(alpha d_i, beta (d - d_i), c0)`` where ``alpha = Str - Stim``,
    ``beta`` is the same margin seen from the Rx and ``c0`` the smallest clearance (all from
    hull queries). Hence ``|nu_i| >= K max(sqrt(alpha beta), 2 c0 / d)`` with
    ``K = sqrt(0.002 d / lambda)``, and ``|nu_i| < 0.78`` only for ``d_i`` in an interval.
    When the bound already reaches 0.78, J(nu) = 0 for every point and -inf is returned;
    otherwise the points of that interval are scanned, so the result is exact whenever it
    matters (J > 0); -inf also stands for "every point has nu <= -0.78".
    """
    kk = math.sqrt(0.002 * dt / lam)
    if kk * max(math.sqrt(alpha * beta), 2.0 * c0 / dt) >= 0.78:
        return -np.inf
    s = w[_D, 1]
    q1 = (0.78 / (alpha * kk)) ** 2
    q2 = (0.78 / (beta * kk)) ** 2
    xhi = dt * q1 / (1.0 + q1)
    xlo = dt / (1.0 + q2)
    ilo = max(1, int(xlo / s))
    ihi = min(k - 1, int(xhi / s) + 1)
    slope = (yr - hts) / dt
    # nu_i = c_i K_i, K_i = sqrt(0.002 d / (lambda d_i (d - d_i))) >= sqrt(0.008 / (lambda d))
    # (d_i (d - d_i) <= d^2 / 4): a point below the line (c_i < 0) has nu_i <= c_i kmin, and
    # kmin is lowered by far more than any rounding, so a point whose bound is below the
    # running maximum, or below -0.78 (J = 0 there, as for any numax <= -0.78), cannot change
    # the loss and needs no square root
    kmin = math.sqrt(0.008 / (lam * dt)) * (1.0 - 1e-9)
    numax = -np.inf
    i = ilo
    while i <= ihi:
        if i & (_BLOCK - 1) == 0 and i + _BLOCK - 1 <= ihi:
            # a whole block: its points have c_i <= cb (rounding is monotone, so the
            # computed c_i too), and when cb passes the test below every point does
            dx = w[_D, i] if slope >= 0.0 else w[_D, i + _BLOCK - 1]
            cb = w[_GB, i >> _BLOCK_BITS] - hts - slope * dx
            if cb < 0.0 and cb * kmin < max(numax, -0.78):
                i += _BLOCK
                continue
        di = w[_D, i]
        ci = w[_G, i] - hts - slope * di
        if not (ci < 0.0 and ci * kmin < max(numax, -0.78)):
            nu = ci * math.sqrt(0.002 * dt / (lam * di * (dt - di)))
            numax = max(numax, nu)
        i += 1
    return numax


@njit(cache=True)
def _smooth_nu(i, s, dt, hte, hre, ce, lam):
    di = i * s
    dr = dt - di
    return (500.0 * ce * di * dr - (hte * dr + hre * di) / dt) * math.sqrt(
        0.002 * dt / (lam * di * dr))


@njit(cache=True)
def _smooth_bullington(k, s, dt, hte, hre, ce, lam):
    """Bullington loss of the zero-height profile sampled at ``d_i = i s``, i = 1..k-1."""
    if k < 2:
        return 0.0
    c5 = 500.0 * ce
    # Tx slope: (c5 d_i (dt - d_i) - hte) / d_i, concave in d_i, optimum d_i = sqrt(hte / c5)
    xi = math.sqrt(hte / c5) / s
    stim = -np.inf
    for t in range(2):
        i = min(max(math.floor(xi) + t, 1), k - 1)
        di = i * s
        stim = max(stim, (c5 * di * (dt - di) - hte) / di)
    # Rx slope: (c5 d_i (dt - d_i) - hre) / (dt - d_i), optimum dt - d_i = sqrt(hre / c5)
    xr = k - math.sqrt(hre / c5) / s
    srim = -np.inf
    for t in range(2):
        i = min(max(math.floor(xr) + t, 1), k - 1)
        di = i * s
        srim = max(srim, (c5 * di * (dt - di) - hre) / (dt - di))
    str_ = (hre - hte) / dt
    numax = np.nan
    if stim < str_:
        # line of sight: the clearance c(x) = c5 x (dt - x) - L(x) is concave, its largest
        # value c_max at the integer neighbours of its continuous optimum; |nu| is bounded
        # below as in _los_numax, so usually no search is needed
        xc = (0.5 * dt - (hre - hte) / (2.0 * c5 * dt)) / s
        cmax = -np.inf
        for t in range(2):
            i = min(max(math.floor(xc) + t, 1), k - 1)
            di = i * s
            cmax = max(cmax, c5 * di * (dt - di) - (hte * (dt - di) + hre * di) / dt)
        alpha = str_ - stim
        beta = -(srim + str_)
        kk = math.sqrt(0.002 * dt / lam)
        if kk * max(math.sqrt(alpha * beta), -2.0 * cmax / dt) >= 0.78:
            numax = -np.inf
        else:
            q1 = (0.78 / (alpha * kk)) ** 2
            q2 = (0.78 / (beta * kk)) ** 2
            lo = max(1, int(dt / (1.0 + q2) / s))
            hi = min(k - 1, int(dt * q1 / (1.0 + q1) / s) + 1)
            while hi - lo > 2:
                m1 = lo + (hi - lo) // 3
                m2 = hi - (hi - lo) // 3
                if _smooth_nu(m1, s, dt, hte, hre, ce, lam) < _smooth_nu(m2, s, dt, hte, hre,
                                                                          ce, lam):
                    lo = m1 + 1
                else:
                    hi = m2
            numax = -np.inf
            for i in range(lo, hi + 1):
                numax = max(numax, _smooth_nu(i, s, dt, hte, hre, ce, lam))
    return bullington_from_slopes(stim, srim, str_, dt, hte, hre, lam, numax)


@njit(cache=True)
def _smooth_earth_clear(dt, hte, hre, ap, lam):
    """Whether :func:`spherical_earth_diffraction` (omega 0) returns 0 for this path, proved
    without its trigonometry; False when the cheap bound cannot tell.

    Inside the marginal line-of-sight distance (eq. 22, computed exactly as there) Ldsph is
    0 when the smallest clearance ``hse`` (eq. 23) exceeds ``hreq`` (eq. 25). ``hse`` is the
    clearance ``c(x) = hte + (hre - hte) x / d - 500 x (d - x) / ap`` of the ray over the
    smooth earth at ``x = dse1``, and ``dse1`` (eq. 24) lies in [0, d] for positive heights
    (its cubic root ``b`` satisfies ``|b| <= 1`` whenever ``|c| <= 1``, eq. 24d). ``c`` is
    a convex parabola, so ``hse >= c(x*)`` with ``x*`` its minimum clamped to [0, d]; and
    ``dse1 dse2 <= d^2 / 4`` gives ``hreq <= 17.456 sqrt(d lambda / 4)``. When the first
    bound exceeds the second by far more than any rounding (relative 1e-9 of the heights
    involved), the recommendation's own arithmetic takes the ``hse > hreq`` branch: the
    result is the same to the last bit, without the arccos, cos and cube roots.
    """
    # dt < dlos, first without square roots: sqrt(a) + sqrt(b) >= sqrt(a + b), and the
    # bound is lowered far beyond rounding (hte, hre > 0: the antennas are above ground)
    if not dt * dt < 0.002 * ap * (hte + hre) * (1.0 - 1e-9):
        dlos = np.sqrt(2.0 * ap) * (np.sqrt(0.001 * hte) + np.sqrt(0.001 * hre))
        if not dt < dlos:
            return False
    c5 = 500.0 / ap
    x = min(max(0.5 * dt - (hre - hte) / (2.0 * c5 * dt), 0.0), dt)
    cmin = hte + (hre - hte) * x / dt - c5 * x * (dt - x)
    hreq = 17.456 * math.sqrt(0.25 * dt * lam)
    tol = 1e-9 * (hte + hre + c5 * dt * dt + hreq)
    return cmin - tol > hreq + tol


@njit(cache=True)
def _receiver_losses(w, k, ng, nh, a_t, b_t, v1, v2, hts, hrg, ce, ap, lams, f_ghz, lfs0s,
                     pol, step_km, out, cell):
    """Basic transmission loss (dB) to a receiver at sample k, at every frequency.

    ``w`` is the ray's work array (rows :data:`_D` ... :data:`_HY`), ``ng`` and ``nh`` the
    sizes of its hulls. The geometry of the profile (hull tangents, the smooth-earth surface
    and its heights) is found once; the frequency-dependent terms are evaluated per
    frequency ``f_ghz[i]`` (wavelength ``lams[i]`` m, ``lfs0s[i] = 92.4 + 20 log10 f``) into
    ``out[i, cell]``, each with exactly the operations of a single-frequency evaluation.
    """
    dt = w[_D, k]
    hk = w[_H, k]
    h0 = w[_H, 0]
    hrs = hk + hrg
    str_ = (hrs - hts) / dt
    c5 = 500.0 * ce
    # Bullington geometry of the actual profile (section 4.3.1)
    los = False
    stim = 0.0
    yr = 0.0
    beta = 0.0
    c0 = 0.0
    srim = 0.0
    if ng > 0:
        stim = a_t + c5 * dt
        yr = hrs - c5 * dt * dt
        if stim < str_:  # line of sight
            los = True
            q = _hull_tangent(w, _GX, ng, dt, yr)
            beta = (hts - yr) / dt - (w[_GY, q] - yr) / (dt - w[_GX, q])
            slope = (yr - hts) / dt
            q = _hull_support(w, _GX, ng, slope)
            c0 = hts + slope * w[_GX, q] - w[_GY, q]
        else:
            q = _hull_tangent(w, _GX, ng, dt, yr)
            srim = (w[_GY, q] - yr) / (dt - w[_GX, q]) - c5 * dt
    # smooth-earth surface (Attachment 1, 5.6.1) and diffraction heights (5.6.2)
    hst = (2.0 * v1 * dt - v2) / (dt * dt)
    hsr = (v2 - v1 * dt) / (dt * dt)
    hstp = hst
    hsrp = hsr
    if nh > 0:
        q = _hull_support(w, _HX, nh, str_)
        hobs = w[_HY, q] - hts - str_ * w[_HX, q]
        if hobs > 0.0:
            aobt = b_t - str_
            q = _hull_tangent(w, _HX, nh, dt, hrs)
            aobr = (w[_HY, q] - hrs) / (dt - w[_HX, q]) + str_
            hstp = hst - hobs * aobt / (aobt + aobr)
            hsrp = hsr - hobs * aobr / (aobt + aobr)
    hstd = h0 if hstp >= h0 else hstp
    hsrd = hk if hsrp > hk else hsrp
    hte = hts - hstd
    hre = hrs - hsrd
    dh = (hts - hrs) / 1000.0
    spread = 10.0 * math.log10(dt * dt + dh * dh)
    for i in range(lams.shape[0]):
        lam = lams[i]
        if ng == 0:
            lbulla = 0.0
        elif los:
            numax = _los_numax(w, k, dt, hts, yr, lam, str_ - stim, beta, c0)
            lbulla = bullington_from_slopes(stim, 0.0, str_, dt, hts, hrs, lam, numax)
        else:
            lbulla = bullington_from_slopes(stim, srim, str_, dt, hts, hrs, lam, np.nan)
        if _smooth_earth_clear(dt, hte, hre, ap, lam):
            # Ldsph is 0 exactly and Lbulls >= 0, so max(Ldsph - Lbulls, 0) is 0 exactly
            ld = lbulla + 0.0
        else:
            ldsph = spherical_earth_diffraction(dt, hte, hre, ap, f_ghz[i], 0.0, pol)
            if ldsph == 0.0:  # as above (Lbulls >= 0)
                ld = lbulla + 0.0
            else:
                lbulls = _smooth_bullington(k, step_km, dt, hte, hre, ce, lam)
                ld = lbulla + max(ldsph - lbulls, 0.0)
        out[i, cell] = lfs0s[i] + spread + ld


@njit(cache=True, nogil=True)
def _owned_slots_rows(own_ray, own_k, mask, base, r_lo, r_hi, slot):
    """Per-ray lists of the cells to evaluate, rows ``r_lo..r_hi-1`` of the window.

    ``slot[base[j] + k]`` becomes the flat window index of the cell that sample ``k`` of
    ray ``j`` owns, where that cell is in ``mask`` (``slot`` starts at -1). A sample owns at
    most one cell, so bands of rows write disjoint entries and may run side by side. The
    sweep then reads its cells in ray order (sequentially) instead of testing the owner
    arrays at every sample.
    """
    nwc = own_ray.shape[1]
    for ri in range(r_lo, r_hi):
        for ci in range(nwc):
            j = own_ray[ri, ci]
            if j >= 0 and mask[ri, ci]:
                slot[base[j] + own_k[ri, ci]] = ri * nwc + ci


def _owned_slots(own_ray: np.ndarray, own_k: np.ndarray, mask: np.ndarray,
                 reach: np.ndarray, threads: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The sweep's per-ray cell lists (:func:`_owned_slots_rows`): ``(base, slot)``.

    ``base[j]`` is the offset of ray ``j``'s samples ``0..reach[j]`` in ``slot`` (int64,
    ``len(reach) + 1`` entries); ``reach[j]`` must be at least the largest sample of ray
    ``j`` owning a cell of ``mask``, and the sweep walks no farther.
    """
    base = np.zeros(reach.shape[0] + 1, np.int64)
    np.cumsum(reach + 1, out=base[1:])
    slot = np.full(int(base[-1]), -1, np.int32)

    def band(r_lo: int, r_hi: int) -> None:
        _owned_slots_rows(own_ray, own_k, mask, base, r_lo, r_hi, slot)

    run_ranges(band, own_ray.shape[0], threads, chunks_per_thread=1)
    return base, slot


_SLOT_BAND_ROWS = 128
"""Rows of a band of :func:`_window_slots_rows`: its scratch arrays are small, and each
band costs a look at every ray (128 rows: fastest measured on 30 km at 30 m)."""


def _window_slots(elevation: np.ndarray, lay: _Layout, radius_cells: float,
                  threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sweep's per-ray cell lists of the whole window, for the cells within the radius
    over data, and the flat window indices of such cells that no sample owns.

    Equal to :func:`_assign_owners` then :func:`_owned_slots` with the radius and data
    mask, without their arrays of the whole window: bands of rows on threads
    (:func:`_window_slots_rows`); the result does not depend on the split.

    Returns
    -------
    (ndarray of int64, ndarray of int32, ndarray of int64)
        ``base`` and ``slot`` as :func:`_owned_slots` (``reach`` = ``lay.kmax``), and the
        cells that no sample owns (flat window indices, ascending).
    """
    base = np.zeros(lay.kmax.shape[0] + 1, np.int64)
    np.cumsum(lay.kmax + 1, out=base[1:])
    slot = np.full(int(base[-1]), -1, np.int32)
    srw, scw = lay.site_row - lay.row0, lay.site_col - lay.col0
    found: dict[int, np.ndarray] = {}

    def band(r_lo: int, r_hi: int) -> None:
        near = np.empty(16, np.int64)
        n = _window_slots_rows(elevation, lay.row0, lay.col0, lay.nrows, lay.ncols,
                               lay.site_row, lay.site_col, srw, scw, radius_cells, lay.m,
                               lay.pr, lay.pc, lay.kmax, base, r_lo, r_hi, _SLOT_BAND_ROWS,
                               slot, near)
        if n > near.size:  # never in practice (the site's own cell): once more, all of them
            near = np.empty(n, np.int64)
            _window_slots_rows(elevation, lay.row0, lay.col0, lay.nrows, lay.ncols,
                               lay.site_row, lay.site_col, srw, scw, radius_cells, lay.m,
                               lay.pr, lay.pc, lay.kmax, base, r_lo, r_hi, _SLOT_BAND_ROWS,
                               slot, near)
        found[r_lo] = near[:n]

    run_ranges(band, lay.nrows, threads)
    near = np.concatenate([found[k] for k in sorted(found)]) if found else np.empty(0, np.int64)
    return base, slot, near


@njit(cache=True)
def _sweep_ray(j, elev, sr, sc, m, pr, pc, base, slot, h0, htg, hrg, ap, f_ghz, lams, lfs0s,
               pol, res_km, out):
    """Walk ray j outwards, evaluating the cells it owns (see module notes).

    The ray is sampled, its running quantities updated and its cells evaluated in one pass
    that ends at the last sample owning a cell (``slot``, :func:`_owned_slots`); each cell
    at every frequency ``f_ghz[i]`` into row ``i`` of ``out`` (:func:`_receiver_losses`).
    """
    b = base[j]
    last = base[j + 1] - b - 1
    while last > 0 and slot[b + last] < 0:
        last -= 1
    if last == 0:
        return
    ur = pr[j] / m
    uc = pc[j] / m
    nr, nc = elev.shape
    step_km = math.sqrt(pr[j] * pr[j] + pc[j] * pc[j]) / m * res_km
    ce = 1.0 / ap
    hts = h0 + htg
    w = np.empty((_WORK_ROWS, last + 1), np.float64)
    w[_H, 0] = h0
    w[_D, 0] = 0 * step_km
    w[_G, 0] = w[_H, 0] - 500.0 * ce * w[_D, 0] * w[_D, 0]
    w[_GB, 0] = w[_G, 0]
    ng = 0
    nh = 0
    a_t = -np.inf
    b_t = -np.inf
    v1 = 0.0
    v2 = 0.0
    h_prev = h0
    d_prev = w[_D, 0]
    for k in range(1, last + 1):
        r = sr + k * ur
        c = sc + k * uc
        if r < -0.5 or c < -0.5 or r > nr - 0.5 or c > nc - 0.5:
            break  # the edge of the grid (an owned sample never lies beyond it)
        # _bilinear, with the DEM read here (see there)
        r0, c0, r1, c1, fr, fc = _bilinear_corners(nr, nc, r, c)
        z = _bilinear_mix(elev[r0, c0], elev[r0, c1], elev[r1, c0], elev[r1, c1], fr, fc)
        if np.isnan(z):
            ri, ci = _nearest_cell(nr, nc, r, c)
            z = np.float64(elev[ri, ci])
        nodata = np.isnan(z)  # the sample keeps the previous height; its cell gets NaN
        hk = h_prev if nodata else z
        dk = k * step_km
        gk = hk - 500.0 * ce * dk * dk
        w[_H, k] = hk
        w[_D, k] = dk
        w[_G, k] = gk
        kb = k >> _BLOCK_BITS
        w[_GB, kb] = gk if k & (_BLOCK - 1) == 0 else max(w[_GB, kb], gk)
        dd = dk - d_prev
        v1 += dd * (hk + h_prev)
        v2 += dd * (hk * (2.0 * dk + d_prev) + h_prev * (dk + 2.0 * d_prev))
        cell = slot[b + k]
        if cell >= 0 and not nodata:
            _receiver_losses(w, k, ng, nh, a_t, b_t, v1, v2, hts, hrg, ce, ap, lams, f_ghz,
                             lfs0s, pol, step_km, out, cell)
        a_t = max(a_t, (gk - hts) / dk)
        b_t = max(b_t, (hk - hts) / dk)
        # the sample onto both hulls (monotone chain; written out here, as a call taking the
        # work array would cost two reference-count updates per sample)
        while ng >= 2:
            ax = w[_GX, ng - 2]
            ay = w[_GY, ng - 2]
            bx = w[_GX, ng - 1]
            by = w[_GY, ng - 1]
            if (bx - ax) * (gk - by) - (by - ay) * (dk - bx) >= 0.0:
                ng -= 1
            else:
                break
        w[_GX, ng] = dk
        w[_GY, ng] = gk
        ng += 1
        while nh >= 2:
            ax = w[_HX, nh - 2]
            ay = w[_HY, nh - 2]
            bx = w[_HX, nh - 1]
            by = w[_HY, nh - 1]
            if (bx - ax) * (hk - by) - (by - ay) * (dk - bx) >= 0.0:
                nh -= 1
            else:
                break
        w[_HX, nh] = dk
        w[_HY, nh] = hk
        nh += 1
        h_prev = hk
        d_prev = dk


@njit(cache=True, nogil=True)
def _sweep_rays(elev, sr, sc, m, pr, pc, base, slot, h0, htg, hrg, ap, f_ghz, pol, res_km, j0,
                j1, out):
    """Rays ``j0..j1-1`` (serial, without the GIL), at the frequencies ``f_ghz`` (GHz) into
    the rows of ``out`` (one flat window per frequency). A cell is owned by one ray, so
    disjoint ray ranges write disjoint cells of ``out`` and may run on threads side by
    side."""
    nf = f_ghz.shape[0]
    lams = np.empty(nf, np.float64)
    lfs0s = np.empty(nf, np.float64)
    for i in range(nf):
        lams[i] = wavelength_m(f_ghz[i])
        lfs0s[i] = 92.4 + 20.0 * math.log10(f_ghz[i])
    for j in range(j0, j1):
        _sweep_ray(j, elev, sr, sc, m, pr, pc, base, slot, h0, htg, hrg, ap, f_ghz, lams,
                   lfs0s, pol, res_km, out)


def _sweep(elev: np.ndarray, sr: float, sc: float, m: int, pr: np.ndarray, pc: np.ndarray,
           base: np.ndarray, slot: np.ndarray, h0: float, htg: float, hrg: float, ap: float,
           f_ghz: np.ndarray, pol: int, res_km: float, out: np.ndarray,
           threads: int | None = None) -> None:
    """Every ray of the layout into ``out`` (shape (frequencies, window rows, window
    columns); ``f_ghz`` float64 GHz, one per frequency): ranges of rays (azimuth sectors) on
    threads, sixteen per thread taken in turn (rays differ in cost with the terrain, and the
    last range of a thread should be short)."""
    flat = out.reshape(out.shape[0], -1)

    def rays(j0: int, j1: int) -> None:
        _sweep_rays(elev, sr, sc, m, pr, pc, base, slot, h0, htg, hrg, ap, f_ghz, pol, res_km,
                    j0, j1, flat)

    run_ranges(rays, pr.shape[0], threads, chunks_per_thread=16)


# --------------------------------------------------------------------------- Python API


@dataclass(frozen=True)
class _Layout:
    """Window and ray layout of one site (internal)."""

    row0: int
    col0: int
    nrows: int
    ncols: int
    site_row: float
    site_col: float
    m: int
    pr: np.ndarray
    pc: np.ndarray
    kmax: np.ndarray
    inside: np.ndarray


def _site_rowcol(transform: Affine, x: float, y: float) -> tuple[float, float]:
    col = (x - transform.c) / transform.a
    row = (y - transform.f) / transform.e
    return float(row) - 0.5, float(col) - 0.5


def _layout(shape: tuple[int, int], transform: Affine, site_x: float, site_y: float,
            radius_m: float, *, inside: bool = True) -> _Layout:
    """The window and rays of a site; ``inside`` False leaves the window's radius mask
    empty (shape (0, 0)) for a caller that tests its own cells (:func:`inside_radius`)."""
    res = float(transform.a)
    if not (res > 0 and abs(abs(transform.e) - res) < 1e-9 * res and transform.b == 0
            and transform.d == 0 and transform.e < 0):
        raise ValueError("the grid must be north-up with square pixels (transform.a == -e)")
    if not radius_m > 0:
        raise ValueError(f"radius_m must be positive, got {radius_m}")
    sr, sc = _site_rowcol(transform, site_x, site_y)
    nr, nc = shape
    rc = radius_m / res
    row0 = max(0, math.ceil(sr - rc))
    row1 = min(nr - 1, math.floor(sr + rc))
    col0 = max(0, math.ceil(sc - rc))
    col1 = min(nc - 1, math.floor(sc + rc))
    nrows = max(0, row1 - row0 + 1)
    ncols = max(0, col1 - col0 + 1)
    if inside:
        mask = inside_radius(np.arange(row0, row0 + nrows)[:, None],
                             np.arange(col0, col0 + ncols)[None, :], sr, sc, rc)
    else:
        mask = np.zeros((0, 0), bool)
    m = math.ceil(rc) + 1
    pr, pc = _perimeter(m)
    length = np.sqrt(pr * pr + pc * pc) / m  # cells per step
    kmax = np.minimum(np.floor((rc + 1.0) / length), m).astype(np.int64)
    return _Layout(row0, col0, nrows, ncols, sr, sc, m, pr, pc, kmax, mask)


def inside_radius(rows: np.ndarray, cols: np.ndarray, site_row: float, site_col: float,
                  radius_cells: float) -> np.ndarray:
    """Whether grid cells lie within the radius (cells) of the site (broadcast)."""
    rr = np.asarray(rows, dtype=np.float64) - site_row
    cc = np.asarray(cols, dtype=np.float64) - site_col
    return rr * rr + cc * cc <= radius_cells * radius_cells


def _window_distance_m(lay: _Layout, res: float) -> np.ndarray:
    rr = np.arange(lay.row0, lay.row0 + lay.nrows, dtype=np.float64)[:, None] - lay.site_row
    cc = np.arange(lay.col0, lay.col0 + lay.ncols, dtype=np.float64)[None, :] - lay.site_col
    return np.sqrt(rr * rr + cc * cc) * res


def site_ground_m(elevation: np.ndarray, transform: Affine, x: float, y: float) -> float:
    """Ground height (m amsl) at (x, y), bilinear; NaN over nodata or outside the grid."""
    sr, sc = _site_rowcol(transform, x, y)
    nr, nc = elevation.shape
    if sr < -0.5 or sc < -0.5 or sr > nr - 0.5 or sc > nc - 0.5:
        return float("nan")
    return float(_bilinear(np.ascontiguousarray(elevation), sr, sc))


def influence_window(shape: tuple[int, int], transform: Affine, site_x: float, site_y: float,
                     radius_m: float) -> tuple[slice, slice]:
    """Grid rows and columns whose elevation can affect :func:`site_path_loss`.

    The square of half-side ``radius + 3`` cells around the site (rays sample up to one cell
    beyond the radius and interpolate between neighbours), clipped to the grid; for cache
    keys.
    """
    sr, sc = _site_rowcol(transform, site_x, site_y)
    reach = math.ceil(radius_m / float(transform.a)) + 3
    r, c = math.floor(sr), math.floor(sc)
    rows = slice(min(max(0, r - reach), shape[0]), max(0, min(shape[0], r + reach + 2)))
    cols = slice(min(max(0, c - reach), shape[1]), max(0, min(shape[1], c + reach + 2)))
    return rows, cols


def site_path_loss(elevation: np.ndarray, transform: Affine, site_x: float, site_y: float,
                   tx_height_agl_m: float, f_mhz: float, *, rx_height_agl_m: float = 1.5,
                   radius_m: float = 15000.0, delta_n: float = 45.0,
                   model: ModelName = "p1812", pol: int = POL_VERTICAL,
                   hata_environment: Environment = "open",
                   threads: int | None = None) -> LossWindow:
    """Basic transmission loss from one site to every cell within ``radius_m``.

    One frequency of :func:`site_path_loss_bands` (see there for the parameters).
    """
    return site_path_loss_bands(elevation, transform, site_x, site_y, tx_height_agl_m,
                                (f_mhz,), rx_height_agl_m=rx_height_agl_m, radius_m=radius_m,
                                delta_n=delta_n, model=model, pol=pol,
                                hata_environment=hata_environment, threads=threads)[0]


def _check_frequencies(f_mhz: Sequence[float]) -> None:
    if len(f_mhz) == 0:
        raise ValueError("at least one frequency is needed")
    for f in f_mhz:
        if not 30.0 <= f <= 6000.0:
            raise ModelRangeError(f"frequency {f} MHz is outside 30-6000 MHz; "
                                  "Fix: give a band frequency within that range")


def site_path_loss_bands(elevation: np.ndarray, transform: Affine, site_x: float,
                         site_y: float, tx_height_agl_m: float, f_mhz: Sequence[float], *,
                         rx_height_agl_m: float = 1.5, radius_m: float = 15000.0,
                         delta_n: float = 45.0, model: ModelName = "p1812",
                         pol: int = POL_VERTICAL, hata_environment: Environment = "open",
                         threads: int | None = None) -> list[LossWindow]:
    """Basic transmission loss from one site to every cell within ``radius_m``, at several
    frequencies (the bands of one mast) in one sweep.

    The terrain of every ray is sampled and its hulls built once; only the
    frequency-dependent terms are evaluated per frequency. Each window is bit for bit the
    one a sweep at its frequency alone gives.

    Parameters
    ----------
    elevation : ndarray of float32, shape (rows, cols)
        Working-grid DEM (m amsl), NaN for nodata.
    transform : affine.Affine
        North-up grid transform with square pixels (metres).
    site_x, site_y : float
        Site position in the grid CRS (m).
    tx_height_agl_m : float
        Antenna height above ground (m).
    f_mhz : sequence of float
        Frequencies (MHz), at least one.
    rx_height_agl_m : float
        Receiver height above ground (m), default 1.5.
    radius_m : float
        Cells whose centre is farther than this from the site get NaN (m), default 15 km.
    delta_n : float
        Refractivity lapse rate (N-units/km): ``ae = 6371 * 157 / (157 - delta_n)`` km, used
        as ap (50 % time).
    model : {"p1812", "free_space", "hata"}
        ``"p1812"``: free space plus delta-Bullington terrain diffraction (the engine);
        ``"free_space"`` (P.525) and ``"hata"`` (screening, no terrain): closed-form on the
        site-cell distance.
    pol : int
        0 horizontal, 1 vertical (default) polarisation, for the spherical-earth term.
    hata_environment : str
        ``"urban"``, ``"suburban"`` or ``"open"`` (Hata only).
    threads : int, optional
        Threads sharing the sweep, each a range of rays (an azimuth sector); default the
        process default of :mod:`coverage.radio.threads`. The result does not depend on it.

    Returns
    -------
    list of LossWindow
        Per frequency, in the order given: loss (dB, float32) on the window of the grid
        that holds the circle.

    Raises
    ------
    ModelRangeError
        The site is outside the grid or over nodata (terrain model), an antenna height is
        not positive, or a frequency is outside 30 MHz - 6 GHz.
    """
    elevation = np.ascontiguousarray(elevation, dtype=np.float32)
    _check_frequencies(f_mhz)
    if not (tx_height_agl_m > 0.0 and rx_height_agl_m > 0.0):
        raise ModelRangeError(f"antenna heights must be above ground (got Tx "
                              f"{tx_height_agl_m} m, Rx {rx_height_agl_m} m); Fix: give "
                              "positive heights")
    lay = _layout(elevation.shape, transform, site_x, site_y, radius_m,
                  inside=model != "p1812")
    res = float(transform.a)
    h0 = site_ground_m(elevation, transform, site_x, site_y)
    if model == "p1812" and math.isnan(h0):
        raise ModelRangeError(
            f"site at ({site_x:.1f}, {site_y:.1f}) is outside the DEM or over nodata; "
            "Fix: extend the DEM to cover every site, or use model 'free_space'/'hata'")
    nf = len(f_mhz)
    out = np.full((nf, lay.nrows, lay.ncols), np.nan, np.float32)

    def windows(loss: np.ndarray) -> list[LossWindow]:
        return [LossWindow(lay.row0, lay.col0, band, lay.site_row, lay.site_col, h0, model)
                for band in loss]

    if lay.nrows == 0 or lay.ncols == 0:
        return windows(out)
    win_elev = elevation[lay.row0:lay.row0 + lay.nrows, lay.col0:lay.col0 + lay.ncols]
    if model != "p1812":
        for i, f in enumerate(f_mhz):
            out[i] = _closed_form_loss(lay, res, win_elev, h0, tx_height_agl_m,
                                       rx_height_agl_m, f, model, hata_environment)
        out[:, ~lay.inside | np.isnan(win_elev)] = np.nan
        return windows(out)
    ap = effective_earth_radius_km(delta_n)
    # only the cells within the radius over data are evaluated: the others stay NaN
    base, slot, near = _window_slots(elevation, lay, radius_m / res, threads)
    f_ghz = np.array([f / 1000.0 for f in f_mhz], np.float64)
    _sweep(elevation, lay.site_row, lay.site_col, lay.m, lay.pr, lay.pc, base, slot, h0,
           float(tx_height_agl_m), float(rx_height_agl_m), ap, f_ghz, int(pol),
           res / 1000.0, out, threads)
    if near.size:  # the site's own cell (no sample of any ray): free space at >= half a cell
        wr, wc = np.divmod(near, lay.ncols)
        rr = (wr + lay.row0).astype(np.float64) - lay.site_row
        cc = (wc + lay.col0).astype(np.float64) - lay.site_col
        d_km = np.maximum(np.sqrt(rr * rr + cc * cc) * res, 0.5 * res) / 1000.0
        dh_km = (h0 + tx_height_agl_m - win_elev[wr, wc] - rx_height_agl_m) / 1000.0
        for i, f in enumerate(f_mhz):
            out[i, wr, wc] = _own_cell_loss_db(f, d_km, dh_km)
    return windows(out)


def _closed_form_loss(lay: _Layout, res: float, win_elev: np.ndarray, h0: float,
                      htg: float, hrg: float, f_mhz: float, model: str,
                      environment: Environment) -> np.ndarray:
    """Free space or Hata on the site-cell distance (no terrain).

    Free space uses the slant distance when the site's ground height is known. Hata is
    evaluated with the distance clipped to its 1-20 km range and the base height clamped to
    30-200 m; beyond 20 km its own distance slope ``(44.9 - 6.55 log10 hb) log10(d / 20)`` is
    extrapolated (screening only).
    """
    from coverage.radio import models

    dist_km = np.maximum(_window_distance_m(lay, res), 1.0) / 1000.0
    if model == "free_space":
        dh_km = np.zeros_like(dist_km) if math.isnan(h0) else np.nan_to_num(
            (h0 + htg - (win_elev + hrg)) / 1000.0)
        loss = models.free_space_loss(f_mhz, np.sqrt(dist_km * dist_km + dh_km * dh_km))
    elif model == "hata":
        lo, hi = models.HATA_RANGES["d_km"]
        hb = min(max(htg, models.HATA_RANGES["hb_m"][0]), models.HATA_RANGES["hb_m"][1])
        loss = models.hata_loss(f_mhz, np.clip(dist_km, lo, hi), hb, hrg, environment)
        loss = loss + (44.9 - 6.55 * math.log10(hb)) * np.log10(np.maximum(dist_km / hi, 1.0))
    else:
        raise ValueError(f"unknown model {model!r}; choose p1812, free_space or hata")
    return np.asarray(loss, dtype=np.float32)


def _own_cell_loss_db(f_mhz: float, d_km: np.ndarray, dh_km: np.ndarray) -> np.ndarray:
    """Free-space loss (dB) of the site's own cell, which no ray sample reaches."""
    return 92.4 + 20.0 * math.log10(f_mhz / 1000.0) + 10.0 * np.log10(
        d_km * d_km + dh_km * dh_km)


@dataclass(frozen=True)
class CellLayout:
    """Ray layout, cell owners and evaluation mask of a site position for chosen cells.

    Built by :func:`path_loss_at_cells` and reusable between frequencies (bands) of one
    position and set of cells; treat as opaque.
    """

    key: tuple
    lay: _Layout
    own_ray: np.ndarray
    own_k: np.ndarray
    base: np.ndarray
    slot: np.ndarray
    ok: np.ndarray
    wr: np.ndarray
    wc: np.ndarray
    sel: np.ndarray
    near: np.ndarray
    elev: np.ndarray
    any: bool


def cell_layout(elevation: np.ndarray, transform: Affine, site_x: float, site_y: float,
                radius_m: float, rows: np.ndarray, cols: np.ndarray,
                previous: CellLayout | None = None, threads: int | None = None
                ) -> CellLayout:
    """The :class:`CellLayout` of a site position and cells (``previous`` when it matches)."""
    key = (site_x, site_y, radius_m, hash(rows.tobytes()), hash(cols.tobytes()))
    if previous is not None and previous.key == key:
        return previous
    lay = _layout(elevation.shape, transform, site_x, site_y, radius_m, inside=False)
    wr, wc = rows - lay.row0, cols - lay.col0
    ok = (wr >= 0) & (wr < lay.nrows) & (wc >= 0) & (wc < lay.ncols)
    wr, wc = wr[ok].astype(np.int64), wc[ok].astype(np.int64)
    cell_elev = elevation[rows[ok], cols[ok]]
    sel = inside_radius(rows[ok], cols[ok], lay.site_row, lay.site_col,
                        radius_m / float(transform.a)) & np.isfinite(cell_elev)
    mask = np.zeros((lay.nrows, lay.ncols), bool)
    mask[wr[sel], wc[sel]] = True
    # owners of the requested cells only (the sweep looks at no other cell)
    owner = np.full(wr.shape, -1, np.int32)
    owner_k = np.zeros(wr.shape, np.int32)
    sr_, sc_ = np.ascontiguousarray(wr[sel]), np.ascontiguousarray(wc[sel])
    sel_ray = np.empty(sr_.shape, np.int32)
    sel_k = np.empty(sr_.shape, np.int32)
    _owners_at_cells(lay.site_row - lay.row0, lay.site_col - lay.col0, lay.m, lay.pr, lay.pc,
                     lay.kmax, sr_, sc_, sel_ray, sel_k)
    owner[sel], owner_k[sel] = sel_ray, sel_k
    own_ray = np.full((lay.nrows, lay.ncols), -1, np.int32)
    own_k = np.zeros((lay.nrows, lay.ncols), np.int32)
    own_ray[wr, wc] = owner
    own_k[wr, wc] = owner_k
    # each ray is walked only as far as the farthest requested cell it owns: a cell's
    # loss depends on the samples 0..k of its ray only
    reach = np.zeros_like(lay.kmax)
    walk = sel & (owner >= 0)
    np.maximum.at(reach, owner[walk], own_k[wr[walk], wc[walk]])
    base, slot = _owned_slots(own_ray, own_k, mask, reach, threads)
    return CellLayout(key, lay, own_ray, own_k, base, slot, ok, wr, wc, sel, owner < 0,
                      cell_elev.astype(np.float64), bool(sel.any()))


def path_loss_at_cells(elevation: np.ndarray, transform: Affine, site_x: float, site_y: float,
                       tx_height_agl_m: float, f_mhz: float, rows: np.ndarray,
                       cols: np.ndarray, *, rx_height_agl_m: float = 1.5,
                       radius_m: float = 15000.0, delta_n: float = 45.0,
                       model: ModelName = "p1812", pol: int = POL_VERTICAL,
                       hata_environment: Environment = "open",
                       layout: CellLayout | None = None, threads: int | None = None
                       ) -> tuple[np.ndarray, float, CellLayout | None]:
    """Basic transmission loss from one site at chosen grid cells only.

    One frequency of :func:`path_loss_at_cells_bands` (see there for the parameters).

    Returns
    -------
    (ndarray of float32, float, CellLayout or None)
        Loss (dB; NaN unreached) per requested cell, the site's ground height (m amsl), and
        the layout to pass to the next call (None for the closed-form models).
    """
    losses, h0, t = path_loss_at_cells_bands(
        elevation, transform, site_x, site_y, tx_height_agl_m, (f_mhz,), rows, cols,
        rx_height_agl_m=rx_height_agl_m, radius_m=radius_m, delta_n=delta_n, model=model,
        pol=pol, hata_environment=hata_environment, layout=layout, threads=threads)
    return losses[0], h0, t


def _path_loss_at_cells_closed_form(elevation: np.ndarray, transform: Affine, site_x: float,
                                    site_y: float, tx_height_agl_m: float, f_mhz: float,
                                    rows: np.ndarray, cols: np.ndarray, *,
                                    rx_height_agl_m: float, radius_m: float, delta_n: float,
                                    model: ModelName, pol: int,
                                    hata_environment: Environment, threads: int | None
                                    ) -> tuple[np.ndarray, float]:
    """A closed-form model at chosen cells: the window of :func:`site_path_loss`, picked."""
    win = site_path_loss(elevation, transform, site_x, site_y, tx_height_agl_m, f_mhz,
                         rx_height_agl_m=rx_height_agl_m, radius_m=radius_m, delta_n=delta_n,
                         model=model, pol=pol, hata_environment=hata_environment,
                         threads=threads)
    h, w = win.loss_db.shape
    loss = np.full(rows.shape, np.nan, np.float32)
    ok = (rows >= win.row0) & (rows < win.row0 + h) & (cols >= win.col0) & (
        cols < win.col0 + w)
    loss[ok] = win.loss_db[rows[ok] - win.row0, cols[ok] - win.col0]
    return loss, win.site_ground_m


def path_loss_at_cells_bands(elevation: np.ndarray, transform: Affine, site_x: float,
                             site_y: float, tx_height_agl_m: float, f_mhz: Sequence[float],
                             rows: np.ndarray, cols: np.ndarray, *,
                             rx_height_agl_m: float = 1.5, radius_m: float = 15000.0,
                             delta_n: float = 45.0, model: ModelName = "p1812",
                             pol: int = POL_VERTICAL, hata_environment: Environment = "open",
                             layout: CellLayout | None = None, threads: int | None = None
                             ) -> tuple[list[np.ndarray], float, CellLayout | None]:
    """Basic transmission loss from one site at chosen grid cells only, at several
    frequencies (the bands of one mast) in one sweep.

    Each requested cell gets exactly the value :func:`site_path_loss` gives it at each
    frequency. For the terrain model the sweep runs with its evaluation mask restricted to
    the requested cells, and each ray is walked only up to the farthest requested cell it
    owns (a cell's profile is its owning ray's samples up to that cell); the terrain is
    sampled once for all frequencies. The closed-form models evaluate the window and pick
    the cells.

    Parameters
    ----------
    elevation : ndarray of float32, shape (rows, cols)
        Working-grid DEM (m amsl), NaN for nodata (C-contiguous float32).
    transform : affine.Affine
        North-up grid transform with square pixels (metres).
    site_x, site_y : float
        Site position in the grid CRS (m).
    tx_height_agl_m : float
        Antenna height above ground (m).
    f_mhz : sequence of float
        Frequencies (MHz), at least one.
    rows, cols : ndarray of int
        The grid cells wanted.
    rx_height_agl_m, radius_m, delta_n, model, pol, hata_environment
        As :func:`site_path_loss`.
    layout : CellLayout, optional
        The layout of an earlier call (another band of the same tower and cells): reused
        when it matches.
    threads : int, optional
        Threads sharing the sweep, as :func:`site_path_loss`.

    Returns
    -------
    (list of ndarray of float32, float, CellLayout or None)
        Per frequency, in the order given, the loss (dB; NaN unreached) per requested cell;
        the site's ground height (m amsl); and the layout to pass to the next call (None for
        the closed-form models).

    Raises
    ------
    ModelRangeError
        As :func:`site_path_loss`.
    """
    if model != "p1812":
        losses = []
        h0 = math.nan
        for f in f_mhz:
            loss, h0 = _path_loss_at_cells_closed_form(
                elevation, transform, site_x, site_y, tx_height_agl_m, f, rows, cols,
                rx_height_agl_m=rx_height_agl_m, radius_m=radius_m, delta_n=delta_n,
                model=model, pol=pol, hata_environment=hata_environment, threads=threads)
            losses.append(loss)
        if not losses:
            raise ValueError("at least one frequency is needed")
        return losses, h0, layout
    htg, hrg = tx_height_agl_m, rx_height_agl_m
    if len(f_mhz) == 0:
        raise ValueError("at least one frequency is needed")
    for f in f_mhz:
        if not 30.0 <= f <= 6000.0 or not (htg > 0 and hrg > 0):
            raise ModelRangeError(f"candidate at ({site_x:.1f}, {site_y:.1f}): frequency {f} "
                                  "MHz or antenna height out of range")
    res = float(transform.a)
    h0 = site_ground_m(elevation, transform, site_x, site_y)
    if math.isnan(h0):
        raise ModelRangeError(f"candidate at ({site_x:.1f}, {site_y:.1f}) is outside the DEM "
                              "or over nodata")
    t = cell_layout(elevation, transform, site_x, site_y, radius_m, rows, cols, layout,
                    threads)
    lay = t.lay
    nf = len(f_mhz)
    loss = np.full((nf, rows.shape[0]), np.nan, np.float32)
    if t.any:
        out = np.full((nf, lay.nrows, lay.ncols), np.nan, np.float32)
        ap = effective_earth_radius_km(delta_n)
        f_ghz = np.array([f / 1000.0 for f in f_mhz], np.float64)
        _sweep(elevation, lay.site_row, lay.site_col, lay.m, lay.pr, lay.pc, t.base, t.slot, h0,
               float(htg), float(hrg), ap, f_ghz, int(pol), res / 1000.0, out, threads)
        sel = t.sel                      # requested cells within the radius
        wr, wc = t.wr[sel], t.wc[sel]
        near = t.near[sel]
        if near.any():   # the site's own cell: free space at >= half a cell
            d_km = np.maximum(np.hypot(wr[near] + lay.row0 - lay.site_row,
                                       wc[near] + lay.col0 - lay.site_col) * res,
                              0.5 * res) / 1000.0
            dh_km = (h0 + htg - t.elev[sel][near] - hrg) / 1000.0
        dest = np.flatnonzero(t.ok)[sel]
        for i, f in enumerate(f_mhz):
            vals = out[i, wr, wc]
            if near.any():
                vals[near] = _own_cell_loss_db(f, d_km, dh_km)
            loss[i, dest] = vals
    return list(loss), h0, t


def cell_profile(elevation: np.ndarray, transform: Affine, site_x: float, site_y: float,
                 row: int, col: int, radius_m: float = 15000.0) -> tuple[np.ndarray, np.ndarray]:
    """The terrain profile the engine uses for one cell (for checks and debugging).

    Parameters
    ----------
    elevation, transform, site_x, site_y, radius_m
        As for :func:`site_path_loss`.
    row, col : int
        Grid cell.

    Returns
    -------
    d_km : ndarray of float64
        Distances from the site (km), ``d_km[0] == 0``; the last point is the receiver.
    h_m : ndarray of float64
        Heights (m amsl) of the samples (nodata samples hold the previous height).

    Raises
    ------
    ValueError
        The cell is not within the radius or no ray reaches it.
    """
    elevation = np.ascontiguousarray(elevation, dtype=np.float32)
    lay = _layout(elevation.shape, transform, site_x, site_y, radius_m)
    wr, wc = row - lay.row0, col - lay.col0
    if not (0 <= wr < lay.nrows and 0 <= wc < lay.ncols and lay.inside[wr, wc]):
        raise ValueError(f"cell ({row}, {col}) is not within the radius")
    own_ray, own_k = _assign_owners(lay.nrows, lay.ncols, lay.site_row - lay.row0,
                                    lay.site_col - lay.col0, lay.m, lay.pr, lay.pc, lay.kmax)
    j, k = int(own_ray[wr, wc]), int(own_k[wr, wc])
    if j < 0:
        raise ValueError(f"no ray reaches cell ({row}, {col})")
    h0 = site_ground_m(elevation, transform, site_x, site_y)
    h = np.empty(k + 1, np.float64)
    nodata = np.empty(k + 1, np.bool_)
    last = _sample_ray(elevation, lay.site_row, lay.site_col, lay.pr[j] / lay.m,
                       lay.pc[j] / lay.m, k, h0, h, nodata)
    pj, cj = float(lay.pr[j]), float(lay.pc[j])
    step_km = math.sqrt(pj * pj + cj * cj) / lay.m * (float(transform.a) / 1000.0)
    d = np.arange(last + 1, dtype=np.float64) * step_km
    return d, h[:last + 1]
