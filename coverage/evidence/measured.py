"""Measured beats predicted: recent field measurements decide test points and households.

:func:`measured_evidence` selects the measurements that count: taken at most
``readiness.measurement_max_age_days`` before the inspection date (later ones count too),
and after the predicted serving site at their place went on air (where that site is
planned or being built, the measurement shows the network without it, and the prediction
decides). Then

* a test point with such a measurement (by ``point_id``) is judged on it: per operator, the
  median of its readings on the latest day they were taken;
* a household sample of a group (a household cluster, or a grid cell when the study has no
  household points) within ``radius_m`` of such a measurement is judged on the nearest one;
  other samples keep the prediction.

Measured values are compared with the rule's threshold (``rule.threshold_dbm``) without
the location-reliability margin, which is for the uncertainty of a prediction. The
assessment carries each decision in words (``"measured -98 dBm (CMCC) on 2020-06-12 by
王磊"``) and measured minus predicted, for :mod:`coverage.readiness`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from coverage.evidence.compare import OUTSIDE_DEM, SUPERSEDED, compare
from coverage.grid import WorkingGrid
from coverage.signal import ANY, NO_SIGNAL_DBM, Signal
from coverage.study import Study

__all__ = ["MeasuredEvidence", "format_dbm", "measured_evidence"]


def format_dbm(value: float) -> str:
    """``-98`` or ``-97.5`` (at most one decimal, no trailing zero)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _day(value: pd.Timestamp | dt.date | str) -> str:
    return pd.Timestamp(value).date().isoformat()


_WORDS = {
    "zh": {"measured": "实测", "by": "，测试人{names}", "on": "{day}", "readings":
           "，{n}次读数中位数", "one_place": "1处", "places": "{n}处中位数",
           "near": "{where}，覆盖{share}户数，{span}", "sep": "；", "list": "、"},
    "en": {"measured": "measured ", "by": " by {names}", "on": "on {day}", "readings":
           ", median of {n} readings", "one_place": "at 1 place",
           "places": "median of {n} places", "near": "{where} near {share} of households, {span}",
           "sep": "; ", "list": ", "},
}


def _w(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["en"])


def _by(testers: list[str], lang: str = "en") -> str:
    names = [t for t in dict.fromkeys(testers) if t]
    return _w(lang)["by"].format(names=_w(lang)["list"].join(names)) if names else ""


@dataclass(frozen=True, eq=False)
class MeasuredEvidence:
    """The field measurements that decide coverage in one assessment.

    Attributes
    ----------
    reference_date : date
        Ages are counted back from it (the inspection date).
    max_age_days : int
        Older measurements are ignored.
    radius_m : float
        Reach of a measurement over household samples (m).
    threshold_dbm : float
        Coverage threshold for measured values (dBm), without reliability margin.
    used : DataFrame
        Measurements that count: ``row``, ``operator``, ``x``, ``y``, ``rsrp_dbm``,
        ``predicted_dbm`` (at the measurement's cell, NaN without prediction), ``date``,
        ``tester``, ``point_id``, ``on_grid``.
    ignored : DataFrame
        ``row``, ``operator``, ``date``, ``reason`` of measurements that do not count.
    points : DataFrame
        Per test point and operator: ``point_id``, ``operator``, ``measured_dbm``, ``date``,
        ``n`` (readings that day), ``text`` ("measured -98 dBm (CMCC) on 2020-06-12 by 王磊").
    """

    reference_date: dt.date
    max_age_days: int
    radius_m: float
    threshold_dbm: float
    used: pd.DataFrame
    ignored: pd.DataFrame
    points: pd.DataFrame
    language: str = "en"

    # ------------------------------------------------------------------ test points

    def judge_points(self, points: pd.DataFrame, operators: tuple[str, ...]) -> pd.DataFrame:
        """Test-point table with measured values deciding where they exist.

        Adds per operator ``predicted_<OP>`` (the model's value), ``measured_<OP>``,
        ``measured_delta_<OP>`` (measured - predicted, dB) and ``source_<OP>``
        (``measured``/``predicted``); ``rsrp_<OP>`` and ``covered_<OP>`` become the values
        judged. ``n_operators`` and the ``ANY`` columns are recomputed; ``measured`` holds
        the decisions in words.
        """
        out = points.copy()
        parts: list[list[tuple[str, str, str]]] = [[] for _ in range(len(out))]
        best = np.full(len(out), NO_SIGNAL_DBM)
        best_op = np.full(len(out), "", dtype=object)
        covered_any = np.zeros(len(out), bool)
        n_ops = np.zeros(len(out), int)
        for op in operators:
            ev = self.points[self.points["operator"] == op].set_index("point_id")
            measured = out["point_id"].map(ev["measured_dbm"]).to_numpy(float)
            value_text = out["point_id"].map(ev["value_text"]).to_numpy(dtype=object)
            when = out["point_id"].map(ev["when_text"]).to_numpy(dtype=object)
            is_m = np.isfinite(measured)
            predicted = out[f"rsrp_{op}"].to_numpy(float)
            out[f"predicted_{op}"] = predicted
            out[f"measured_{op}"] = measured
            out[f"measured_delta_{op}"] = np.where(
                is_m & np.isfinite(predicted), np.round(measured - predicted, 1), np.nan)
            out[f"source_{op}"] = np.where(is_m, "measured", "predicted")
            value = np.where(is_m, measured, predicted)
            out[f"rsrp_{op}"] = value
            covered = np.where(is_m, measured >= self.threshold_dbm,
                               out[f"covered_{op}"].to_numpy(bool))
            out[f"covered_{op}"] = covered
            n_ops += covered
            covered_any |= covered
            filled = np.nan_to_num(value, nan=NO_SIGNAL_DBM)
            better = filled > best
            best = np.where(better, filled, best)
            best_op = np.where(better, op, best_op)
            for i in np.flatnonzero(is_m):
                parts[i].append((op, str(value_text[i]), str(when[i])))
        out[f"rsrp_{ANY}"] = np.where(best > NO_SIGNAL_DBM, best, np.nan)
        out[f"operator_{ANY}"] = best_op
        out[f"covered_{ANY}"] = covered_any
        out["n_operators"] = n_ops
        out["measured"] = [_sentence(p, lang=self.language) for p in parts]
        return out

    # ------------------------------------------------------------------ household samples

    def judge_samples(self, operator: str, grid: WorkingGrid, rc: np.ndarray,
                      value: np.ndarray, threshold_dbm: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Household samples of one operator, judged on the nearest measurement in reach.

        Parameters
        ----------
        operator : str
        grid : WorkingGrid
        rc : ndarray of int, shape (2, n)
            Grid row and column of each sample (-1 outside the grid).
        value : ndarray
            Predicted RSRP (dBm) of each sample.
        threshold_dbm : float
            Threshold for predicted values (margin included).

        Returns
        -------
        value : ndarray
            Measured RSRP where a measurement decides, the prediction elsewhere.
        covered : ndarray of bool
        decided_by : ndarray of int
            Row in :attr:`used` of the deciding measurement, -1 where none.
        """
        decided = np.full(value.shape, -1, np.int64)
        sel = np.flatnonzero(self.used["on_grid"].to_numpy(bool)
                             & (self.used["operator"] == operator).to_numpy())
        ok = rc[0] >= 0
        if len(sel) and ok.any():
            decided[ok] = _nearest_within(self.used["x"].to_numpy(float)[sel],
                                          self.used["y"].to_numpy(float)[sel],
                                          *grid.xy(rc[0][ok], rc[1][ok]), self.radius_m, sel)
        is_m = decided >= 0
        measured = np.full(value.shape, np.nan)
        measured[is_m] = self.used["rsrp_dbm"].to_numpy(float)[decided[is_m]]
        out = np.where(is_m, measured, value)
        covered = np.where(is_m, measured >= self.threshold_dbm, value >= threshold_dbm)
        return out, covered, decided

    def summarise_groups(self, groups: pd.DataFrame, labels: np.ndarray, weights: np.ndarray,
                         decided: dict[str, np.ndarray]) -> pd.DataFrame:
        """Add ``measured_share_<OP>`` (household share judged on measurements),
        ``measured_delta_<OP>`` (median measured - predicted of the deciding measurements, dB)
        and ``measured`` (in words) to the group table."""
        out = groups.copy()
        n = len(out)
        wsum = np.bincount(labels, weights=weights, minlength=n)
        wsum = np.where(wsum > 0, wsum, 1.0)
        parts: list[list[tuple[str, str, str]]] = [[] for _ in range(n)]
        used = self.used
        for op, idx in decided.items():
            is_m = idx >= 0
            out[f"measured_share_{op}"] = np.round(
                np.bincount(labels, weights=weights * is_m, minlength=n) / wsum, 4)
            delta = np.full(n, np.nan)
            places = np.zeros(n, int)
            if is_m.any():
                pairs = pd.DataFrame({"g": labels[is_m], "m": idx[is_m]}).drop_duplicates()
                # each group's pairs in their first-seen order (a stable sort by group)
                order = np.argsort(pairs["g"].to_numpy(), kind="stable")
                g_of = pairs["g"].to_numpy()[order]
                m = used.iloc[pairs["m"].to_numpy()[order]]
                rsrp = m["rsrp_dbm"].to_numpy(float)
                diff = (m["rsrp_dbm"] - m["predicted_dbm"]).to_numpy(float)
                dates = pd.to_datetime(m["date"]).to_numpy()
                testers_all = m["tester"].to_numpy(dtype=object)
                shares = out[f"measured_share_{op}"].to_numpy()
                w = _w(self.language)
                heads, firsts = np.unique(g_of, return_index=True)
                ends = np.append(firsts[1:], len(g_of))
                for key, lo, hi in zip(heads.tolist(), firsts.tolist(), ends.tolist(),
                                       strict=True):
                    g = int(key)
                    d = diff[lo:hi]
                    d = d[np.isfinite(d)]
                    delta[g] = round(_median(d), 1) if len(d) else np.nan
                    places[g] = hi - lo
                    day = dates[lo:hi]
                    day = day[~np.isnat(day)]
                    if not len(day):
                        day = np.array([np.datetime64("NaT")])
                    first, last = _day(day.min()), _day(day.max())
                    span = first if first == last else f"{first}..{last}"
                    testers = [str(t) for t in testers_all[lo:hi] if isinstance(t, str)]
                    where = (w["one_place"] if hi - lo == 1 else
                             w["places"].format(n=hi - lo))
                    parts[g].append((op, format_dbm(_median(rsrp[lo:hi])) + " dBm",
                                     w["near"].format(where=where, share=f"{shares[g]:.0%}",
                                                      span=span)
                                     + _by(testers, self.language)))
            out[f"measured_delta_{op}"] = delta
            out[f"measured_places_{op}"] = places
        out["measured"] = [_sentence(p, sep=_w(self.language)["list"] if self.language == "zh"
                                     else ", ", lang=self.language) for p in parts]
        return out


def _nearest_within(mx: np.ndarray, my: np.ndarray, x: np.ndarray, y: np.ndarray,
                    radius_m: float, rows: np.ndarray) -> np.ndarray:
    """For each point (``x``, ``y``), ``rows`` of the nearest measurement (``mx``, ``my``)
    within ``radius_m`` (m, inclusive), -1 where none is; of measurements equally near,
    the first. A radius of 0 lets no measurement speak for a household (all -1).

    shapely's STR tree (already loaded) rather than scipy's k-d tree: importing
    ``scipy.spatial`` costs a warm run about 0.25 s, more than the queries themselves.
    """
    out = np.full(len(x), -1, np.int64)
    if not radius_m > 0:
        return out
    tree = shapely.STRtree(np.asarray(shapely.points(mx, my)))
    # the bound is inclusive; widen it by a hair against rounding in the distance
    point, measurement = tree.query_nearest(np.asarray(shapely.points(x, y)),
                                            max_distance=radius_m * (1 + 1e-9),
                                            all_matches=True)
    none = len(mx)
    first = np.full(len(x), none, np.int64)
    np.minimum.at(first, point, measurement)
    found = first < none
    out[found] = rows[first[found]]
    return out


def _median(values: np.ndarray) -> float:
    """``float(np.median(values))`` of a short 1-D array without NaN (same value, less
    overhead): the middle value, or the mean of the two middle ones."""
    v = np.sort(values)
    n = len(v)
    mid = n // 2
    return float(v[mid]) if n % 2 else float((v[mid - 1] + v[mid]) / 2.0)


def _sentence(parts: list[tuple[str, str, str]], sep: str = " ", lang: str = "en") -> str:
    """'measured -70 dBm (CMCC), -60 dBm (CT) on 2020-05-23 by 陈静' from (op, value, when)
    parts; operators measured on another occasion get their own clause."""
    by_when: dict[str, list[str]] = {}
    for op, value, when in parts:
        by_when.setdefault(when, []).append(f"{value} ({op})")
    w = _w(lang)
    if lang == "zh" and sep == " ":
        sep = "，"
    return w["sep"].join(f"{w['measured']}{w['list'].join(values)}{sep}{when}"
                         for when, values in by_when.items())


def measured_evidence(study: Study, signal: Signal, *,
                      reference_date: dt.date | None = None, max_age_days: int | None = None,
                      radius_m: float | None = None) -> MeasuredEvidence | None:
    """The measurements that decide coverage (None when the study has none).

    Parameters
    ----------
    study : Study
        With ``measurements`` (working CRS).
    signal : SignalGrids or CoverageResult
        The prediction the assessment uses (for the predicted value and serving site at
        each measurement).
    reference_date : date, optional
        Default ``config.readiness.inspection_date``.
    max_age_days : int, optional
        Default ``config.readiness.measurement_max_age_days``.
    radius_m : float, optional
        Default ``readiness.measurement_radius_m`` (m).
    """
    if study.measurements is None or len(study.measurements) == 0:
        return None
    cfg = study.config
    ref = reference_date or cfg.readiness.inspection_date
    max_age = cfg.readiness.measurement_max_age_days if max_age_days is None else max_age_days
    radius = cfg.readiness.measurement_radius_m if radius_m is None else float(radius_m)
    table = compare(study, signal).table
    age = (pd.Timestamp(ref) - pd.to_datetime(table["date"])).dt.days.to_numpy(float)
    too_old = age > max_age
    superseded = (table["status"] == SUPERSEDED).to_numpy()
    reason = np.where(superseded, table["note"].to_numpy(dtype=object),
                      np.where(too_old, f"older than {max_age} days before {ref.isoformat()}",
                               ""))
    keep = ~too_old & ~superseded
    ignored = pd.DataFrame({"row": table["row"], "operator": table["operator"],
                            "date": table["date"], "reason": reason})[~keep]
    used = pd.DataFrame({
        "row": table["row"], "operator": table["operator"], "x": table["x"], "y": table["y"],
        "rsrp_dbm": table["measured_dbm"], "predicted_dbm": table["predicted_dbm"],
        "date": table["date"], "tester": table["tester"], "point_id": table["point_id"],
        "on_grid": (table["status"] != OUTSIDE_DEM).to_numpy()
        & np.isfinite(table["x"].to_numpy(float)),
    })[keep].reset_index(drop=True)
    return MeasuredEvidence(ref, int(max_age), radius, float(cfg.rule.threshold_dbm), used,
                            ignored.reset_index(drop=True),
                            _point_evidence(used, cfg.language), cfg.language)


def _point_evidence(used: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Per (point_id, operator): the median of the readings of the latest day."""
    cols = ["point_id", "operator", "measured_dbm", "date", "n", "value_text", "when_text",
            "text"]
    at = used[used["point_id"].notna()]
    if at.empty:
        return pd.DataFrame(columns=cols)
    at = at.assign(day=pd.to_datetime(at["date"]).dt.normalize())
    latest = at.groupby(["point_id", "operator"])["day"].transform("max")
    at = at[at["day"] == latest]
    rows = []
    # the groups in sorted key order, each with its readings in table order
    codes = at.groupby(["point_id", "operator"], sort=True).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    pids = at["point_id"].to_numpy(dtype=object)[order]
    ops = at["operator"].to_numpy(dtype=object)[order]
    rsrp = at["rsrp_dbm"].to_numpy(float)[order]
    days = at["day"].to_numpy()[order]
    testers_all = at["tester"].to_numpy(dtype=object)[order]
    w = _w(lang)
    _, firsts = np.unique(codes, return_index=True)
    ends = np.append(firsts[1:], len(codes))
    for lo, hi in zip(firsts.tolist(), ends.tolist(), strict=True):
        pid, op = str(pids[lo]), str(ops[lo])
        value = _median(rsrp[lo:hi])
        day = _day(pd.Timestamp(days[lo]))
        testers = [str(t) for t in testers_all[lo:hi] if isinstance(t, str)]
        n = hi - lo
        many = w["readings"].format(n=n) if n > 1 else ""
        value_text = f"{format_dbm(value)} dBm"
        when_text = w["on"].format(day=day) + _by(testers, lang) + many
        rows.append({"point_id": pid, "operator": op, "measured_dbm": value, "date": day,
                     "n": n, "value_text": value_text, "when_text": when_text,
                     "text": _sentence([(op, value_text, when_text)], lang=lang)})
    return pd.DataFrame(rows, columns=cols)
