"""An optional calibration of the prediction, fitted to field measurements.

* :func:`fit_calibration` (on a :class:`~coverage.evidence.compare.Comparison`) fits, per
  operator (and per band where it has enough points and
  differs from its operator), a least-squares offset, or an offset plus a slope in
  ``log10(distance)`` where enough points and a spatial cross-validation say the slope
  helps. Each operator's measurements
  are split by spatial blocks; the fit on the training blocks is checked on the held-out
  blocks (RMSE before and after), and the terms applied are refitted on every point.
* :func:`apply_calibration` adds the fitted correction to the prediction rasters;
  :func:`calibration_statement` says in words whether predictions are calibrated and with
  what (the scatter plot is :func:`coverage.output.figures.scatter_png`).

Sign conventions (dB): ``error_db = predicted - measured`` (positive: the model is
optimistic); a correction is ``measured - predicted`` and is *added* to predictions.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from affine import Affine

from coverage.evidence.compare import Comparison, _sites_frame
from coverage.signal import CoverageResult, OperatorCoverage, SiteCoverage, combine_operators
from coverage.study import Study

__all__ = [
    "CalibrationFit", "CalibrationTerm", "apply_calibration", "calibrate_tile",
    "calibration_sites", "calibration_statement", "fit_calibration",
]

FIT_MIN_PREDICTED_DBM = -120.0
"""Measurements where the model predicts less than this are compared but not fitted: near the
handset's floor (about -140 dBm) weak readings go unrecorded, which would bias the mean."""

MIN_POINTS = 20
"""Fewest measurements for an offset (per operator, or per band)."""

MIN_POINTS_SLOPE = 60
"""Fewest measurements before an offset plus distance slope is considered."""

MIN_LOG10_SPREAD = 0.1
"""Smallest standard deviation of log10(distance) for a distance slope."""

SLOPE_GAIN_DB = 0.1
"""A slope is kept only when it lowers the cross-validated RMSE by at least this (dB)."""

BAND_Z = 2.0
"""A band gets its own term only when it differs from its operator's by more than this many
(clustered) standard errors; otherwise the operator's term applies to it."""

HOLDOUT_SHARE = 0.3
HOLDOUT_BLOCK_M = 2000.0
"""Held-out share and block size (m): whole blocks are held out, so that spatially
correlated errors do not leak from the training part into the check."""

MIN_BLOCKS = 5
"""Fewer blocks than this: hold out single measurements instead (and no slope)."""

SEED = 2020
MIN_DISTANCE_KM = 0.03
"""Distances are clipped to this (about one cell) before taking log10."""


# ----------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class CalibrationTerm:
    """The correction of one operator (all bands: ``band == "*"``) or one operator band.

    ``correction_db(d) = offset_db + slope_db_per_decade * log10(d / ref_distance_km)``,
    added to predicted RSRP at distance ``d`` (km) from the serving site.
    """

    operator: str
    band: str
    model: str                  # "offset" or "offset+slope"
    offset_db: float
    slope_db_per_decade: float
    ref_distance_km: float
    n: int
    offset_se_db: float

    def correction_db(self, distance_km: np.ndarray | float) -> np.ndarray:
        """Correction (dB) at distances (km) from the serving site."""
        d = np.maximum(np.asarray(distance_km, float), MIN_DISTANCE_KM)
        if self.slope_db_per_decade == 0.0:
            return np.full(d.shape, self.offset_db)
        return self.offset_db + self.slope_db_per_decade * np.log10(d / self.ref_distance_km)

    def describe(self, language: str = "en") -> str:
        """E.g. ``+3.9 dB`` or ``+3.9 dB at 2.1 km, -4.0 dB/decade of distance``."""
        text = f"{self.offset_db:+.1f} dB"
        if self.model != "offset":
            text += (f"（{self.ref_distance_km:.1f} km 处，距离每十倍 "
                     f"{self.slope_db_per_decade:+.1f} dB）" if language == "zh" else
                     f" at {self.ref_distance_km:.1f} km, {self.slope_db_per_decade:+.1f} "
                     "dB/decade of distance")
        return text


@dataclass(frozen=True)
class CalibrationFit:
    """Fitted corrections and their holdout check.

    Attributes
    ----------
    terms : tuple of CalibrationTerm
        Per operator (``band == "*"``) and per band with enough measurements.
    table : DataFrame
        One row per operator (band ``*``) and per operator band measured: ``operator``,
        ``band``, ``n``, ``applied`` (``band`` or ``operator`` term, or ``none``),
        ``model``, ``offset_db``, ``slope_db_per_decade``, ``ref_distance_km``,
        ``offset_se_db`` (standard error, clustered by holdout block), ``holdout_n``,
        ``holdout_mean_error_before_db`` / ``_after_db``, ``holdout_rmse_before_db`` /
        ``_after_db`` and ``note``.
    """

    terms: tuple[CalibrationTerm, ...]
    table: pd.DataFrame

    def term(self, operator: str, band: str | None = None) -> CalibrationTerm | None:
        """The term applied to ``band`` of ``operator`` (the band's own, else the operator's)."""
        by_key = {(t.operator, t.band): t for t in self.terms}
        if band is not None and (operator, band) in by_key:
            return by_key[(operator, band)]
        return by_key.get((operator, "*"))

    def correction_db(self, operator: str, band: str | None, distance_km: np.ndarray | float
                      ) -> np.ndarray:
        """Correction (dB) for a site of ``operator``/``band`` at distances (km); 0 when none."""
        t = self.term(operator, band)
        if t is None:
            return np.zeros(np.shape(distance_km))
        return t.correction_db(distance_km)

    @property
    def operators(self) -> tuple[str, ...]:
        """Operators with a fitted term."""
        return tuple(dict.fromkeys(t.operator for t in self.terms))

    def describe(self, language: str = "en") -> str:
        """Per operator: its correction (and its bands' own), or why it has none."""
        zh = language == "zh"
        parts = []
        op_rows = self.table[self.table["band"] == "*"]
        for r in op_rows.itertuples():
            t = self.term(str(r.operator))
            if t is None:
                parts.append(f"{r.operator}：未校准（可用实测点 {r.n} 个，不足）" if zh else
                             f"{r.operator}: not calibrated ({r.note})")
                continue
            bands = [b for b in self.terms if b.operator == r.operator and b.band != "*"]
            extra = ""
            if bands:
                inner = "，".join if zh else ", ".join
                extra = (("（其中 " if zh else " (")
                         + inner(f"{b.band} {b.describe(language)}" for b in bands)
                         + ("）" if zh else ")"))
            parts.append(f"{r.operator}：{t.describe(language)}{extra}，{t.n} 个实测点" if zh
                         else f"{r.operator}: {t.describe()}{extra} from {t.n} measurements")
        return ("；" if zh else "; ").join(parts)


def _least_squares(design: np.ndarray, resid: np.ndarray, blocks: np.ndarray | None
                   ) -> tuple[np.ndarray, float]:
    """Coefficients of ``resid ≈ design @ beta`` and the standard error of ``beta[0]``.

    With ``blocks`` the error is clustered by block (sandwich estimator), so that spatially
    correlated measurements do not pass for independent ones.
    """
    beta, *_ = np.linalg.lstsq(design, resid, rcond=None)
    if len(resid) <= design.shape[1]:
        return beta, float("nan")
    bread = np.linalg.inv(design.T @ design)
    e = resid - design @ beta
    if blocks is None or len(np.unique(blocks)) < 2:
        cov = bread * float(np.sum(e ** 2) / (len(e) - design.shape[1]))
    else:
        _, inv = np.unique(blocks, return_inverse=True)
        scores = np.zeros((inv.max() + 1, design.shape[1]))
        np.add.at(scores, inv.ravel(), design * e[:, None])
        g = len(scores)
        cov = bread @ (scores.T @ scores) @ bread * (g / (g - 1))
    return beta, float(math.sqrt(max(cov[0, 0], 0.0)))


def _fit_offset(resid: np.ndarray, blocks: np.ndarray | None = None) -> tuple[float, float]:
    beta, se = _least_squares(np.ones((len(resid), 1)), resid, blocks)
    return float(beta[0]), se


def _fit_slope(resid: np.ndarray, logd: np.ndarray, ref: float,
               blocks: np.ndarray | None = None) -> tuple[float, float, float]:
    """Least squares ``resid = a + b (logd - ref)``: (a, b, se of a)."""
    design = np.column_stack([np.ones_like(logd), logd - ref])
    beta, se = _least_squares(design, resid, blocks)
    return float(beta[0]), float(beta[1]), se


def _block_keys(x: np.ndarray, y: np.ndarray, block_m: float) -> np.ndarray:
    bx = np.floor(x / block_m).astype(np.int64)
    by = np.floor(y / block_m).astype(np.int64)
    _, keys = np.unique(np.column_stack([bx, by]), axis=0, return_inverse=True)
    return keys.ravel()


def _slope_helps(resid: np.ndarray, logd: np.ndarray, blocks: np.ndarray,
                 rng: np.random.Generator, folds: int = MIN_BLOCKS) -> bool:
    """Spatial cross-validation: does a distance slope beat the offset alone?"""
    unique = np.unique(blocks)
    if len(unique) < folds or np.std(logd) < MIN_LOG10_SPREAD:
        return False
    fold_of_block = np.empty(unique.max() + 1, np.int64)
    fold_of_block[rng.permutation(unique)] = np.arange(len(unique)) % folds
    fold = fold_of_block[blocks]
    sse_off = sse_slope = 0.0
    for k in range(folds):
        test = fold == k
        train = ~test
        if train.sum() < MIN_POINTS_SLOPE // 2 or not test.any():
            return False
        r, ld = resid[train], logd[train]
        ref = float(ld.mean())
        off = r.mean()
        a, b, _ = _fit_slope(r, ld, ref)
        sse_off += float(np.sum((resid[test] - off) ** 2))
        sse_slope += float(np.sum((resid[test] - a - b * (logd[test] - ref)) ** 2))
    n = len(resid)
    return math.sqrt(sse_off / n) - math.sqrt(sse_slope / n) >= SLOPE_GAIN_DB


def _fit_term(op: str, band: str, resid: np.ndarray, logd: np.ndarray, blocks: np.ndarray,
              rng: np.random.Generator, allow_slope: bool) -> CalibrationTerm:
    ref = float(logd.mean())
    if allow_slope and len(resid) >= MIN_POINTS_SLOPE and _slope_helps(resid, logd, blocks,
                                                                       rng):
        a, b, se = _fit_slope(resid, logd, ref, blocks)
        return CalibrationTerm(op, band, "offset+slope", a, b, 10.0 ** ref, len(resid), se)
    offset, se = _fit_offset(resid, blocks)
    return CalibrationTerm(op, band, "offset", offset, 0.0, 10.0 ** ref, len(resid), se)


def _fit_operator(op: str, bands: np.ndarray, resid: np.ndarray, logd: np.ndarray,
                  blocks: np.ndarray, rng: np.random.Generator, min_points: int,
                  allow_slope: bool) -> dict[str, CalibrationTerm]:
    """The operator's term (key ``*``) and its bands' own terms where they have enough points."""
    terms: dict[str, CalibrationTerm] = {}
    if len(resid) < min_points:
        return terms
    terms["*"] = own = _fit_term(op, "*", resid, logd, blocks, rng, allow_slope)
    present = np.unique(bands)
    if len(present) > 1:
        for band in present:
            sel = bands == band
            if sel.sum() < min_points:
                continue
            t = _fit_term(op, str(band), resid[sel], logd[sel], blocks[sel], rng, allow_slope)
            ref = t.ref_distance_km
            gap = abs(float(t.correction_db(ref)) - float(own.correction_db(ref)))
            if np.isfinite(t.offset_se_db) and gap > BAND_Z * t.offset_se_db:
                terms[str(band)] = t
    return terms


def _apply_terms(terms: dict[str, CalibrationTerm], bands: np.ndarray, dist_km: np.ndarray
                 ) -> np.ndarray:
    out = np.zeros(len(bands))
    for band in np.unique(bands):
        sel = bands == band
        t = terms.get(str(band), terms.get("*"))
        if t is not None:
            out[sel] = t.correction_db(dist_km[sel])
    return out


def _holdout_mask(blocks: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    unique = np.unique(blocks)
    if len(unique) >= MIN_BLOCKS:
        n_hold = max(1, round(share * len(unique)))
        held = rng.permutation(unique)[:n_hold]
        return np.isin(blocks, held)
    n = len(blocks)
    mask = np.zeros(n, bool)
    mask[rng.permutation(n)[: round(share * n)]] = True
    return mask


def _rmse(err: np.ndarray) -> float:
    return round(float(np.sqrt(np.mean(err ** 2))), 2) if len(err) else float("nan")


def _mean(err: np.ndarray) -> float:
    return round(float(err.mean()), 2) if len(err) else float("nan")


def fit_calibration(comparison: Comparison, *, min_points: int = MIN_POINTS,
                    allow_slope: bool = True, holdout_share: float = HOLDOUT_SHARE,
                    block_m: float = HOLDOUT_BLOCK_M, seed: int = SEED,
                    min_predicted_dbm: float = FIT_MIN_PREDICTED_DBM) -> CalibrationFit:
    """Fit per-operator (and per-band) corrections by least squares, with a holdout check.

    Parameters
    ----------
    comparison : Comparison
        From :func:`compare` on the *uncalibrated* prediction.
    min_points : int
        Fewest measurements for an operator's (or a band's own) term.
    allow_slope : bool
        Consider an offset plus a slope in log10(distance) (chosen by spatial
        cross-validation on the training part).
    holdout_share : float
        Share of spatial blocks held out for the check (0 disables it).
    block_m : float
        Side of the square blocks (m).
    seed : int
        Seed of the block split (the fit is deterministic).
    min_predicted_dbm : float
        Only measurements where the prediction is at least this (dBm) are fitted.

    Returns
    -------
    CalibrationFit
        Terms fitted on every usable measurement; the table reports the RMSE and mean error
        on the held-out blocks before and after a fit on the other blocks.
    """
    usable = comparison.usable
    usable = usable[usable["predicted_dbm"] >= min_predicted_dbm]
    all_terms: list[CalibrationTerm] = []
    rows: list[dict] = []
    ops = sorted(set(comparison.table["operator"]))
    for k, op in enumerate(ops):
        sub = usable[usable["operator"] == op]
        bands = sub["band"].astype(str).to_numpy()
        resid = -sub["error_db"].to_numpy(float)
        dist = sub["distance_km"].to_numpy(float)
        logd = np.log10(np.maximum(dist, MIN_DISTANCE_KM))
        blocks = _block_keys(sub["x"].to_numpy(float), sub["y"].to_numpy(float), block_m)
        final = _fit_operator(op, bands, resid, logd, blocks,
                              np.random.default_rng([seed, k, 1]), min_points, allow_slope)
        hold = (_holdout_mask(blocks, np.random.default_rng([seed, k, 0]), holdout_share)
                if holdout_share > 0 and final else np.zeros(len(sub), bool))
        train = ~hold
        trained = (_fit_operator(op, bands[train], resid[train], logd[train], blocks[train],
                                 np.random.default_rng([seed, k, 2]), min_points, allow_slope)
                   if hold.any() else {})
        after_err = np.full(len(sub), np.nan)
        if trained:
            after_err = -(resid - _apply_terms(trained, bands, dist))
        before_err = -resid
        all_terms.extend(final.values())
        for band in ["*", *sorted(set(bands))]:
            sel = np.ones(len(sub), bool) if band == "*" else bands == band
            t = final.get(band) or (final.get("*") if band != "*" else None)
            applied = ("none" if t is None else ("band" if t.band == band and band != "*"
                                                 else "operator"))
            h = sel & hold & np.isfinite(after_err)
            note = ""
            if not final:
                note = (f"{int(sel.sum())} usable measurements, {min_points} needed"
                        if band == "*" else "")
            elif band == "*" and not trained:
                note = "too few measurements for a holdout check"
            rows.append({
                "operator": op, "band": band, "n": int(sel.sum()), "applied": applied,
                "model": "" if t is None else t.model,
                "offset_db": np.nan if t is None else round(t.offset_db, 2),
                "slope_db_per_decade": np.nan if t is None else round(t.slope_db_per_decade, 2),
                "ref_distance_km": np.nan if t is None else round(t.ref_distance_km, 3),
                "offset_se_db": np.nan if t is None else round(t.offset_se_db, 2),
                "holdout_n": int(h.sum()),
                "holdout_mean_error_before_db": _mean(before_err[h]),
                "holdout_mean_error_after_db": _mean(after_err[h]),
                "holdout_rmse_before_db": _rmse(before_err[h]),
                "holdout_rmse_after_db": _rmse(after_err[h]),
                "note": note,
            })
    return CalibrationFit(tuple(all_terms), pd.DataFrame(rows, columns=_FIT_COLUMNS))


_FIT_COLUMNS = ["operator", "band", "n", "applied", "model", "offset_db", "slope_db_per_decade",
                "ref_distance_km", "offset_se_db", "holdout_n", "holdout_mean_error_before_db",
                "holdout_mean_error_after_db", "holdout_rmse_before_db",
                "holdout_rmse_after_db", "note"]


# ----------------------------------------------------------------------------- apply


def apply_calibration(study: Study, coverage: CoverageResult, fit: CalibrationFit
                      ) -> CoverageResult:
    """Predictions with the fitted corrections added.

    Each cell gets the correction of its serving site's operator and band at its distance
    from that site (the best server is not re-chosen: corrections differ little between
    an operator's bands). Kept per-site windows are corrected the same way. Operators
    without a term are unchanged.

    Returns
    -------
    CoverageResult
        A new result; ``coverage`` is not modified.
    """
    sites = _sites_frame(study)
    t = coverage.transform
    by_operator = {}
    for op, oc in coverage.by_operator.items():
        if fit.term(op) is None:
            by_operator[op] = oc
            continue
        rsrp = calibrate_tile(fit, op, sites, t, 0, 0, oc.rsrp, oc.best_site)
        by_operator[op] = OperatorCoverage(op, rsrp, oc.best_site)
    if coverage.operators:
        any_rsrp, any_operator = combine_operators([by_operator[op].rsrp
                                                    for op in coverage.operators])
    else:
        any_rsrp, any_operator = coverage.any_rsrp, coverage.any_operator
    windows = tuple(_calibrated_window(w, fit, sites, t) for w in coverage.sites)
    return dataclasses.replace(coverage, by_operator=by_operator, any_rsrp=any_rsrp,
                               any_operator=any_operator, sites=windows)


def calibration_sites(study: Study) -> pd.DataFrame:
    """The site table :func:`calibrate_tile` needs (site_id, band, x, y, ...), in site order."""
    return _sites_frame(study)


def calibrate_tile(fit: CalibrationFit, operator: str, sites: pd.DataFrame, transform: Affine,
                   row0: int, col0: int, rsrp: np.ndarray, best_site: np.ndarray) -> np.ndarray:
    """One operator's best-server RSRP over a block of the grid, with its corrections added.

    Cell by cell the same arithmetic as :func:`apply_calibration`, so a grid corrected tile
    by tile equals the grid corrected at once, bit for bit.

    Parameters
    ----------
    fit : CalibrationFit
        The corrections.
    operator : str
        Operator of ``rsrp``.
    sites : DataFrame
        :func:`calibration_sites` of the study.
    transform : Affine
        The working grid's transform.
    row0, col0 : int
        Grid row and column of the block's first cell.
    rsrp : ndarray, float32 (rows, cols)
        Raw best-server RSRP (dBm), NaN where no site reaches.
    best_site : ndarray, int32 (rows, cols)
        Serving site (row of ``sites``), -1 for none.

    Returns
    -------
    ndarray, float32
        A new array (``rsrp`` unchanged when the operator has no term).
    """
    out = np.array(rsrp, dtype=np.float32, copy=True)
    if fit.term(operator) is None:
        return out
    valid = (best_site >= 0) & np.isfinite(out)
    r, c = np.nonzero(valid)
    s = best_site[r, c]
    t = transform
    cx = t.c + (c + col0 + 0.5) * t.a
    cy = t.f + (r + row0 + 0.5) * t.e
    dist = np.hypot(cx - sites["x"].to_numpy()[s], cy - sites["y"].to_numpy()[s]) / 1000.0
    corr = _correction_by_site(fit, operator, sites, s, dist)
    out[r, c] = (out[r, c] + corr).astype(np.float32)
    return out


def _correction_by_site(fit: CalibrationFit, op: str, sites: pd.DataFrame, s: np.ndarray,
                        dist: np.ndarray) -> np.ndarray:
    corr = np.zeros(len(s))
    bands = sites["band"].to_numpy()[s]
    for band in np.unique(bands):
        sel = bands == band
        corr[sel] = fit.correction_db(op, str(band), dist[sel])
    return corr


def _calibrated_window(w: SiteCoverage, fit: CalibrationFit, sites: pd.DataFrame, t
                       ) -> SiteCoverage:
    term = fit.term(w.operator, str(sites["band"].iloc[w.site_index]))
    if term is None:
        return w
    rows, cols = w.rsrp_dbm.shape
    cx = t.c + (np.arange(w.col0, w.col0 + cols) + 0.5) * t.a
    cy = t.f + (np.arange(w.row0, w.row0 + rows) + 0.5) * t.e
    dist = np.hypot(cx[None, :] - sites["x"].iloc[w.site_index],
                    cy[:, None] - sites["y"].iloc[w.site_index]) / 1000.0
    rsrp = (w.rsrp_dbm + term.correction_db(dist)).astype(np.float32)
    return dataclasses.replace(w, rsrp_dbm=rsrp)


# ----------------------------------------------------------------------------- words


def calibration_statement(fit: CalibrationFit | None, applied: bool,
                          language: str = "en") -> str:
    """Whether predictions are calibrated and with what, in one sentence or two.

    Parameters
    ----------
    fit : CalibrationFit or None
        None when there are no field measurements.
    applied : bool
        Whether :func:`apply_calibration` was used for this run's predictions.
    language : str
        ``zh`` or ``en``.
    """
    zh = language == "zh"
    if fit is None:
        return ("预测未校准：没有实测数据。" if zh
                else "Predictions are not calibrated: there are no field measurements.")
    if not fit.terms:
        return ("预测未校准：实测数据不足以拟合校准（" if zh else
                "Predictions are not calibrated: too few field measurements to fit a "
                "calibration (") + fit.describe(language) + ("）。" if zh else ").")
    ops = fit.table[fit.table["band"] == "*"]
    check = ("；" if zh else "; ").join(
        f"{op} {before:.1f} → {after:.1f} dB"
        for op, before, after in zip(ops["operator"].tolist(),
                                     ops["holdout_rmse_before_db"].tolist(),
                                     ops["holdout_rmse_after_db"].to_numpy(float).tolist(),
                                     strict=True) if np.isfinite(after))
    if applied:
        head = ("预测已用实测数据校准：" if zh
                else "Predictions are calibrated with field measurements: ")
    else:
        head = ("预测未校准（calibrate = false）；拟合结果（未应用）：" if zh
                else "Predictions are not calibrated (calibrate = false); fitted but not "
                "applied: ")
    tail = ""
    if check:
        tail = (f"。留出检验 RMSE（校准前 → 后）：{check}。" if zh
                else f". Holdout RMSE (before → after): {check}.")
    return head + fit.describe(language) + tail
