"""Coverage assessment: test points and village groups, per operator and for any operator.

Input is the per-operator best-server RSRP rasters on the working grid; output is typed
tables. Zonal work uses :func:`rasterio.features.rasterize`; per-group statistics are
computed with sorted, vectorised group reductions, never a Python loop over cells.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio.features import rasterize

from coverage.config import Config
from coverage.evidence.measured import MeasuredEvidence, measured_evidence
from coverage.signal import ANY, NO_SIGNAL_DBM, Signal, sample_cells, values_at
from coverage.study import Study


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    points : DataFrame
        One row per test point: point_id, village_id, group_id, kind, required, and per
        operator ``rsrp_<OP>`` (dBm), ``site_<OP>`` (serving site_id), ``covered_<OP>``;
        plus the ``ANY`` columns and ``n_operators`` covering it.
    groups : DataFrame
        One row per group: group_id, village_id, name, households, required, and per
        operator (and ANY) ``share_<OP>`` (0–1 household share covered), ``median_<OP>``
        and ``p10_<OP>`` (dBm), ``status_<OP>`` (covered / partial / uncovered).
    villages : DataFrame
        One row per village: counts of groups/points and households covered per operator.
    county : DataFrame
        One row per operator (and ANY): villages, groups and households covered, totals.
    gaps : DataFrame
        The planner's gap list: required groups not covered by any operator, with reason.
    threshold_dbm : float
        The RSRP threshold applied (margin included).
    operators : tuple of str
        Operators assessed (``ANY`` last).
    evidence : MeasuredEvidence or None
        The field measurements that decided test points and household samples (None when
        there were none); ``points`` and ``groups`` then carry the extra columns described
        in :mod:`coverage.evidence.measured`.
    """

    points: pd.DataFrame
    groups: pd.DataFrame
    villages: pd.DataFrame
    county: pd.DataFrame
    gaps: pd.DataFrame
    threshold_dbm: float
    operators: tuple[str, ...]
    evidence: MeasuredEvidence | None = None


def effective_threshold(config: Config) -> float:
    """The RSRP a place needs (dBm): the rule's threshold plus the reliability margin."""
    threshold = config.rule.threshold_dbm
    if config.rule.location_reliability is not None:
        from scipy.stats import norm  # only then: scipy.stats takes about a second to load

        threshold += float(norm.ppf(config.rule.location_reliability)) * (
            config.rule.shadowing_sigma_db)
    return threshold


def grouped_weighted_quantile(labels: np.ndarray, values: np.ndarray, weights: np.ndarray,
                              n_groups: int, q: float) -> np.ndarray:
    """Weighted quantile of ``values`` per label (lower weighted quantile), vectorised.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        Group index 0..n_groups−1 of each value.
    values, weights : ndarray, shape (n,)
        Values and non-negative weights.
    n_groups : int
        Number of groups; groups without values get NaN.
    q : float
        Quantile in [0, 1].

    Returns
    -------
    ndarray, shape (n_groups,)
    """
    out = np.full(n_groups, np.nan)
    if labels.size == 0:
        return out
    order = np.lexsort((values, labels))
    lab, val, wt = labels[order], values[order], weights[order]
    total = np.bincount(lab, weights=wt, minlength=n_groups)
    cum = np.cumsum(wt)
    start_cum = np.concatenate(([0.0], cum))[np.searchsorted(lab, np.arange(n_groups))]
    within = cum - start_cum[lab]
    target = q * total[lab]
    # first element of each group whose cumulative weight reaches the target
    hit = within >= target - 1e-12
    idx = np.flatnonzero(hit)
    first = np.full(n_groups, -1)
    groups_hit, pos = np.unique(lab[idx], return_index=True)
    first[groups_hit] = idx[pos]
    ok = first >= 0
    out[ok] = val[first[ok]]
    return out


def _group_samples(study: Study) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each group's households are: (group index, row, col) and weight per sample.

    Household cluster points when the study has them (weight = households); else every
    grid cell whose centre lies in the group (equal weights summing to the group's
    households); a group too small to hold a cell centre uses its representative point.
    """
    groups = study.groups
    index = pd.Series(np.arange(len(groups)), index=groups["group_id"].to_numpy())
    grid = study.grid
    if study.households is not None and len(study.households):
        hh = study.households
        gidx = index.reindex(hh["group_id"].to_numpy()).to_numpy()
        keep = ~np.isnan(gidx)
        hh = hh[keep]
        rows, cols = sample_cells(grid, hh.geometry.x.to_numpy(), hh.geometry.y.to_numpy())
        labels = gidx[keep].astype(np.int64)
        weights = hh["households"].to_numpy(float)
        have = np.zeros(len(groups), bool)
        have[labels] = True
        missing = np.flatnonzero(~have)
    else:
        labels = np.empty(0, np.int64)
        rows = cols = np.empty(0, np.int64)
        weights = np.empty(0)
        missing = np.arange(len(groups))
    if missing.size:
        sub = groups.iloc[missing]
        shapes = ((geom, int(i) + 1) for geom, i in zip(sub.geometry, missing, strict=True))
        burned = rasterize(shapes, out_shape=grid.elevation.shape, transform=grid.transform,
                           fill=0, dtype="int32")
        r, c = np.nonzero(burned)
        lab = burned[r, c].astype(np.int64) - 1
        counts = np.bincount(lab, minlength=len(groups)).astype(float)
        hh_count = groups["households"].to_numpy(float)
        w = hh_count[lab] / counts[lab]
        # groups with no cell centre inside: their representative point
        empty = missing[counts[missing] == 0]
        if empty.size:
            reps = groups.geometry.iloc[empty].representative_point()
            er, ec = sample_cells(grid, reps.x.to_numpy(), reps.y.to_numpy())
            r = np.concatenate([r, er])
            c = np.concatenate([c, ec])
            lab = np.concatenate([lab, empty])
            w = np.concatenate([w, hh_count[empty]])
        labels = np.concatenate([labels, lab])
        rows = np.concatenate([rows, r])
        cols = np.concatenate([cols, c])
        weights = np.concatenate([weights, w])
    return labels, np.stack([rows, cols]), weights


def _status(share: np.ndarray, need: float) -> np.ndarray:
    return np.where(share >= need - 1e-9, "covered", np.where(share > 0, "partial", "uncovered"))


def assess(study: Study, signal: Signal,
           measurements: MeasuredEvidence | bool = True) -> Assessment:
    """Judge every test point and group against the coverage rule.

    Parameters
    ----------
    study : Study
        Loaded inputs.
    signal : SignalGrids
        Best-server RSRP (dBm) and serving site per operator.
    measurements : MeasuredEvidence or bool
        True (default): recent field measurements in ``study.measurements`` decide where
        they exist (:func:`coverage.evidence.measured.measured_evidence`); False: predictions only;
        or the evidence to use.

    Returns
    -------
    Assessment
    """
    cfg = study.config
    threshold = effective_threshold(cfg)
    evidence = _evidence(study, signal, measurements)
    operators = tuple(op for op in cfg.operators if op in signal.rsrp)
    site_ids = study.sites["site_id"].to_numpy()
    min_hh = cfg.rule.min_required_households

    # --- test points -------------------------------------------------------
    pts = study.points
    prow, pcol = sample_cells(study.grid, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    points = pd.DataFrame({
        "point_id": pts["point_id"].to_numpy(), "village_id": pts["village_id"].to_numpy(),
        "group_id": pts["group_id"].to_numpy() if "group_id" in pts else None,
        "kind": pts["kind"].to_numpy(),
        "name": pts["name"].to_numpy() if "name" in pts else pts["point_id"].to_numpy(),
    })
    group_hh = study.groups.set_index("group_id")["households"]
    hh_of_point = points["group_id"].map(group_hh)
    points["required"] = (points["kind"] != "settlement") | (hh_of_point.fillna(min_hh) >= min_hh)
    best_any = np.full(len(points), NO_SIGNAL_DBM)
    best_any_op = np.full(len(points), "", dtype=object)
    n_ops = np.zeros(len(points), int)
    for op in operators:
        value = _rsrp_at(signal.rsrp[op], prow, pcol)
        site_idx = values_at(signal.best_site[op], prow, pcol, -1).astype(np.int64)
        points[f"rsrp_{op}"] = np.where(value > NO_SIGNAL_DBM, value, np.nan)
        serving = site_ids[np.maximum(site_idx, 0)].astype(object)
        serving[site_idx < 0] = None
        points[f"site_{op}"] = pd.Series(serving, index=points.index, dtype=object)
        covered = value >= threshold
        points[f"covered_{op}"] = covered
        n_ops += covered
        better = value > best_any
        best_any = np.where(better, value, best_any)
        best_any_op = np.where(better, op, best_any_op)
    points[f"rsrp_{ANY}"] = np.where(best_any > NO_SIGNAL_DBM, best_any, np.nan)
    points[f"operator_{ANY}"] = best_any_op
    points[f"covered_{ANY}"] = best_any >= threshold
    points["n_operators"] = n_ops
    if evidence is not None:
        points = evidence.judge_points(points, operators)

    # --- groups ------------------------------------------------------------
    grp = study.groups
    n_groups = len(grp)
    labels, rc, weights = _group_samples(study)
    groups = pd.DataFrame({
        "group_id": grp["group_id"].to_numpy(), "village_id": grp["village_id"].to_numpy(),
        "name": grp["name"].to_numpy(), "households": grp["households"].to_numpy(),
    })
    groups["required"] = groups["households"] >= min_hh
    wsum = np.bincount(labels, weights=weights, minlength=n_groups)
    wsum_safe = np.where(wsum > 0, wsum, 1.0)
    any_value = np.full(labels.shape, NO_SIGNAL_DBM)
    any_covered = np.zeros(labels.shape, bool)
    decided: dict[str, np.ndarray] = {}
    for op in [*operators, ANY]:
        if op == ANY:
            value = any_value
            covered = any_covered if evidence is not None else value >= threshold
        else:
            value = _rsrp_at(signal.rsrp[op], rc[0], rc[1])
            if evidence is not None:
                value, covered, decided[op] = evidence.judge_samples(op, study.grid, rc, value,
                                                                     threshold)
            else:
                covered = value >= threshold
            any_value = np.maximum(any_value, value)
            any_covered |= covered
        share = np.bincount(labels, weights=weights * covered, minlength=n_groups) / wsum_safe
        share = np.clip(share, 0.0, 1.0)
        groups[f"share_{op}"] = share
        med = grouped_weighted_quantile(labels, value, weights, n_groups, 0.5)
        p10 = grouped_weighted_quantile(labels, value, weights, n_groups, 0.1)
        groups[f"median_{op}"] = np.where(med > NO_SIGNAL_DBM, med, np.nan)
        groups[f"p10_{op}"] = np.where(p10 > NO_SIGNAL_DBM, p10, np.nan)
        groups[f"status_{op}"] = _status(share, cfg.rule.group_share)
    groups["n_operators"] = sum(
        (groups[f"status_{op}"] == "covered").astype(int) for op in operators)
    if evidence is not None:
        groups = evidence.summarise_groups(groups, labels, weights, decided)

    all_ops = (*operators, ANY)
    villages = _village_rollup(study, points, groups, all_ops)
    county = _county_rollup(points, groups, villages, all_ops)
    gaps = _gap_list(groups, points, threshold, cfg.language)
    return Assessment(points=points, groups=groups, villages=villages, county=county, gaps=gaps,
                      threshold_dbm=threshold, operators=all_ops, evidence=evidence)


def _evidence(study: Study, signal: Signal, measurements: MeasuredEvidence | bool
              ) -> MeasuredEvidence | None:
    if measurements is False:
        return None
    if measurements is True:
        if study.measurements is None or len(study.measurements) == 0:
            return None
        return measured_evidence(study, signal)
    return measurements


def _village_rollup(study: Study, points: pd.DataFrame, groups: pd.DataFrame,
                    operators: tuple[str, ...]) -> pd.DataFrame:
    vill = study.villages
    out = pd.DataFrame({"village_id": vill["village_id"].to_numpy(),
                        "name": vill["name"].to_numpy(), "town": vill["town"].to_numpy()})
    req_groups = groups[groups["required"]]
    req_points = points[points["required"]]
    out["groups"] = out["village_id"].map(groups.groupby("village_id").size()).fillna(0)
    out["groups_required"] = out["village_id"].map(req_groups.groupby("village_id").size()
                                                   ).fillna(0)
    out["households"] = out["village_id"].map(groups.groupby("village_id")["households"].sum()
                                              ).fillna(0)
    for op in operators:
        cov = req_groups[req_groups[f"status_{op}"] == "covered"]
        out[f"groups_covered_{op}"] = out["village_id"].map(cov.groupby("village_id").size()
                                                            ).fillna(0)
        hh = groups["households"] * groups[f"share_{op}"]
        out[f"households_covered_{op}"] = out["village_id"].map(
            hh.groupby(groups["village_id"]).sum()).fillna(0.0).round(1)
        bad_pts = req_points[~req_points[f"covered_{op}"]]
        out[f"points_uncovered_{op}"] = out["village_id"].map(
            bad_pts.groupby("village_id").size()).fillna(0)
        out[f"covered_{op}"] = ((out[f"groups_covered_{op}"] == out["groups_required"])
                                & (out[f"points_uncovered_{op}"] == 0))
    for col in out.columns:
        if col.startswith(("groups", "points_uncovered")):
            out[col] = out[col].astype(int)
    return out


def _county_rollup(points: pd.DataFrame, groups: pd.DataFrame, villages: pd.DataFrame,
                   operators: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    req = groups[groups["required"]]
    for op in operators:
        rows.append({
            "operator": op,
            "villages": len(villages),
            "villages_covered": int(villages[f"covered_{op}"].sum()),
            "groups": len(groups),
            "groups_required": len(req),
            "groups_covered": int((req[f"status_{op}"] == "covered").sum()),
            "groups_partial": int((req[f"status_{op}"] == "partial").sum()),
            "groups_uncovered": int((req[f"status_{op}"] != "covered").sum()),
            "households": int(groups["households"].sum()),
            "households_covered": float(np.round(
                (groups["households"] * groups[f"share_{op}"]).sum(), 1)),
            "points_required": int(points["required"].sum()),
            "points_covered": int((points["required"] & points[f"covered_{op}"]).sum()),
        })
    return pd.DataFrame(rows)


_GAP_WORDS = {
    "zh": {"none": "预测半径内无任何运营商基站",
           "partial": "仅{s}的户数达到{t} dBm（中位{m} dBm）",
           "weak": "最强信号{m} dBm低于{t} dBm（地形遮挡或距离过远）"},
    "en": {"none": "no site of any operator within the prediction radius",
           "partial": "only {s} of households reach {t} dBm (median {m} dBm)",
           "weak": "best signal {m} dBm is below {t} dBm (terrain shadow or distance)"},
}


def _gap_list(groups: pd.DataFrame, points: pd.DataFrame, threshold: float,
              language: str = "en") -> pd.DataFrame:
    gaps = groups[groups["required"] & (groups[f"status_{ANY}"] != "covered")].copy()
    share = gaps[f"share_{ANY}"]
    med = gaps[f"median_{ANY}"]
    w = _GAP_WORDS.get(language, _GAP_WORDS["en"])
    reason = np.where(
        med.isna(), w["none"],
        np.where(share > 0,
                 [w["partial"].format(s=f"{s:.0%}", t=f"{threshold:g}", m=f"{m:.1f}")
                  for s, m in zip(share, med.fillna(NO_SIGNAL_DBM), strict=True)],
                 [w["weak"].format(t=f"{threshold:g}", m=f"{m:.1f}")
                  for m in med.fillna(NO_SIGNAL_DBM)]))
    gaps["reason"] = reason
    keep = ["group_id", "village_id", "name", "households", f"share_{ANY}", f"median_{ANY}",
            f"p10_{ANY}", f"status_{ANY}", "reason"]
    if "measured" in gaps:
        keep.append("measured")
    return gaps[keep].reset_index(drop=True)


def group_serving_sites(study: Study, signal: Signal, top: int = 3) -> pd.DataFrame:
    """The sites that cover each group, per operator, most households first.

    For each group and operator, the serving sites (best server) of the group's household
    samples (as :func:`assess` samples them) where the RSRP reaches the coverage threshold,
    ranked by the households they cover.

    Parameters
    ----------
    study : Study
        Loaded inputs.
    signal : SignalGrids
        Best-server RSRP (dBm) and serving site per operator.
    top : int
        At most this many sites per group and operator.

    Returns
    -------
    DataFrame
        ``group_id`` and, per operator, ``sites_<OP>``: the site ids joined with ``";"``
        (empty where no site covers the group).
    """
    threshold = effective_threshold(study.config)
    labels, rc, weights = _group_samples(study)
    site_ids = study.sites["site_id"].astype(str).to_numpy()
    out = pd.DataFrame({"group_id": study.groups["group_id"].astype(str).to_numpy()})
    for op in (op for op in study.config.operators if op in signal.rsrp):
        value = _rsrp_at(signal.rsrp[op], rc[0], rc[1])
        site = values_at(signal.best_site[op], rc[0], rc[1], -1).astype(np.int64)
        keep = (value >= threshold) & (site >= 0)
        frame = pd.DataFrame({"g": labels[keep], "s": site[keep], "w": weights[keep]})
        joined = [""] * len(out)
        if len(frame):
            sums = frame.groupby(["g", "s"], sort=True)["w"].sum().reset_index()
            sums = sums.sort_values(["g", "w", "s"], ascending=[True, False, True])
            # per group its first ``top`` sites, in that order (one pass, no per-group frame)
            ranked = sums.assign(rank=sums.groupby("g", sort=False).cumcount())
            ranked = ranked[ranked["rank"] < top]
            for g, part in itertools.groupby(zip(ranked["g"].tolist(), ranked["s"].tolist(),
                                                 strict=True), key=lambda gs: gs[0]):
                joined[int(g)] = ";".join(site_ids[[s for _, s in part]])
        out[f"sites_{op}"] = joined
    return out


def _rsrp_at(raster: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """RSRP (dBm, float64) at cells, ``NO_SIGNAL_DBM`` where NaN or outside the grid (row
    -1): ``values_at(np.nan_to_num(raster, nan=NO_SIGNAL_DBM), …)`` without converting the
    whole raster."""
    out = np.full(rows.shape, NO_SIGNAL_DBM, dtype=np.float64)
    ok = rows >= 0
    out[ok] = np.nan_to_num(raster[rows[ok], cols[ok]], nan=NO_SIGNAL_DBM)
    return out


def frame_to_geo(frame: pd.DataFrame, geo: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """Attach the geometry of ``geo`` (joined on ``key``) to an assessment table."""
    geom = geo.set_index(key).geometry
    return gpd.GeoDataFrame(frame.copy(), geometry=frame[key].map(geom).to_numpy(), crs=geo.crs)
