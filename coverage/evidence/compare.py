"""Field measurements against predictions.

:func:`compare` pairs every measurement with the predicted RSRP of the same operator in the
grid cell it was taken in, and the band and distance of the predicted serving site;
:func:`error_stats` gives count, mean error, RMSE, standard deviation and the share within
±6 dB per operator and band.

Sign convention (dB): ``error_db = predicted - measured`` (positive: the model is optimistic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from coverage.errors import Problem, ProblemLog
from coverage.io.validate import log_rows
from coverage.schema import MEASUREMENTS
from coverage.signal import Signal, sample_cells
from coverage.study import Study

__all__ = ["Comparison", "compare", "error_stats", "measurement_cells"]

OK, OUTSIDE_DEM, NO_PREDICTION, SUPERSEDED = "ok", "outside_dem", "no_prediction", "superseded"
"""Status of a compared measurement; only ``ok`` rows enter the statistics and the fit."""

WITHIN_DB = 6.0
"""Half-width (dB) of the "within" share of :func:`error_stats`."""



@dataclass(frozen=True)
class Comparison:
    """Measured against predicted RSRP, one row per measurement.

    Attributes
    ----------
    table : DataFrame
        ``row`` (1-based in the measurements file), ``point_id``, ``operator``, ``date``,
        ``tester``, ``lon``, ``lat``, ``x``, ``y`` (m, working CRS), ``measured_dbm``,
        ``predicted_dbm``, ``error_db`` (predicted - measured), ``band``, ``site_id`` and
        ``distance_km`` of the predicted serving site, ``sinr_db``, ``status`` (``ok``,
        ``outside_dem``, ``no_prediction`` or ``superseded``: taken before the predicted
        serving site went on air, or that site is not on air yet) and ``note``.
    stats : DataFrame
        :func:`error_stats` of the ``ok`` rows.
    crs : pyproj.CRS
        CRS of ``x``/``y``.
    warnings : list of Problem
        Measurements that could not be compared, and why.
    """

    table: pd.DataFrame
    stats: pd.DataFrame
    crs: CRS
    warnings: list[Problem] = field(default_factory=list)

    @property
    def usable(self) -> pd.DataFrame:
        """The rows that enter statistics (status ``ok``)."""
        return self.table[self.table["status"] == OK]

    def error_layer(self) -> gpd.GeoDataFrame:
        """The table as points (working CRS), for the error map and the GeoPackage."""
        t = self.table.copy()
        t["date"] = pd.to_datetime(t["date"]).dt.strftime("%Y-%m-%d")
        return gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(t["x"], t["y"]), crs=self.crs)


def _sites_frame(study: Study) -> pd.DataFrame:
    sites = study.sites.reset_index(drop=True)
    g = np.asarray(sites.geometry.array, dtype=object)
    return pd.DataFrame({
        "site_id": sites["site_id"].astype(str).to_numpy(),
        "band": sites["band"].astype(str).to_numpy(),
        "x": np.array([p.x for p in g], float), "y": np.array([p.y for p in g], float),
        "on_air": pd.to_datetime(sites.get("on_air_date"), errors="coerce").to_numpy()
        if "on_air_date" in sites else np.full(len(sites), np.datetime64("NaT"), "M8[ns]"),
        "status": sites["status"].fillna("on_air").astype(str).to_numpy()
        if "status" in sites else np.full(len(sites), "on_air", dtype=object),
    })


def _text(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, None, dtype=object)
    return np.array([None if (v is None or (isinstance(v, float) and math.isnan(v)))
                     else str(v) for v in series], dtype=object)


def compare(study: Study, coverage: Signal,
            measurements: gpd.GeoDataFrame | None = None) -> Comparison:
    """Pair each measurement with the predicted RSRP of its operator at its place.

    Parameters
    ----------
    study : Study
        Grid, sites and (by default) the measurements.
    coverage : CoverageResult or SignalGrids
        Predicted best-server RSRP (dBm) and serving site per operator (raw or calibrated).
    measurements : GeoDataFrame, optional
        Defaults to ``study.measurements`` (working CRS, schema columns).

    Returns
    -------
    Comparison
        Measurements off the DEM, beyond every site of their operator, or taken before the
        predicted serving site went on air are kept in the table with their status and
        reported as warnings; they never stop the run.
    """
    meas = study.measurements if measurements is None else measurements
    crs = study.grid.crs
    if meas is None or len(meas) == 0:
        return Comparison(_empty_table(), error_stats(_empty_table()), crs)
    meas = meas.reset_index(drop=True)
    n = len(meas)
    x, y, rows, cols = measurement_cells(study, meas)
    inside = rows >= 0
    ground = np.full(n, np.nan)
    ground[inside] = study.grid.elevation[rows[inside], cols[inside]]
    on_dem = inside & np.isfinite(ground)
    ops = meas["operator"].astype(str).to_numpy()
    predicted = np.full(n, np.nan)
    site_idx = np.full(n, -1, np.int64)
    rsrp, best = coverage.rsrp, coverage.best_site
    for op in np.unique(ops):
        sel = (ops == op) & on_dem
        if op not in rsrp or not sel.any():
            continue
        predicted[sel] = rsrp[op][rows[sel], cols[sel]]
        site_idx[sel] = best[op][rows[sel], cols[sel]]
    sites = _sites_frame(study)
    has_site = site_idx >= 0
    safe = np.maximum(site_idx, 0)
    none = np.array(None, dtype=object)
    band = np.where(has_site, sites["band"].to_numpy()[safe], none).astype(object)
    site_id = np.where(has_site, sites["site_id"].to_numpy()[safe], none).astype(object)
    dist_km = np.where(has_site, np.hypot(x - sites["x"].to_numpy()[safe],
                                          y - sites["y"].to_numpy()[safe]) / 1000.0, np.nan)
    date = pd.to_datetime(meas["date"], errors="coerce").to_numpy()
    on_air = sites["on_air"].to_numpy()[safe]
    pending = has_site & (sites["status"].to_numpy()[safe] != "on_air")
    with np.errstate(invalid="ignore"):
        superseded = pending | (has_site & ~pd.isna(on_air) & ~pd.isna(date) & (date < on_air))
    status = np.full(n, OK, dtype=object)
    status[~np.isfinite(predicted)] = NO_PREDICTION
    status[superseded] = SUPERSEDED
    status[~on_dem] = OUTSIDE_DEM
    measured = meas["rsrp_dbm"].to_numpy(float)
    table = pd.DataFrame({
        "row": np.arange(1, n + 1), "point_id": _text(meas.get("point_id"), n),
        "operator": ops, "date": date, "tester": _text(meas.get("tester"), n),
        "lon": meas["lon"].to_numpy(float) if "lon" in meas else np.full(n, np.nan),
        "lat": meas["lat"].to_numpy(float) if "lat" in meas else np.full(n, np.nan),
        "x": x, "y": y, "measured_dbm": measured,
        "predicted_dbm": np.round(predicted, 2), "error_db": np.round(predicted - measured, 2),
        "band": band, "site_id": site_id, "distance_km": np.round(dist_km, 3),
        "sinr_db": meas["sinr_db"].to_numpy(float) if "sinr_db" in meas else np.nan,
        "status": status,
    })
    table["note"] = _notes(table, on_air, inside, pending)
    warnings = _status_warnings(table)
    return Comparison(table, error_stats(table[table["status"] == OK]), crs, warnings)


def _empty_table() -> pd.DataFrame:
    cols: dict[str, str | type[object]] = {
            "row": "int64", "point_id": object, "operator": object, "date": "M8[ns]",
            "tester": object, "lon": float, "lat": float, "x": float, "y": float,
            "measured_dbm": float, "predicted_dbm": float, "error_db": float,
            "band": object, "site_id": object, "distance_km": float, "sinr_db": float,
            "status": object, "note": object}
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in cols.items()})


def _notes(table: pd.DataFrame, on_air: np.ndarray, inside: np.ndarray, pending: np.ndarray
           ) -> list[str]:
    notes = []
    for i, r in enumerate(table.itertuples()):
        if r.status == OUTSIDE_DEM:
            notes.append("outside the DEM" if not inside[i] else "over DEM nodata")
        elif r.status == NO_PREDICTION:
            notes.append(f"no {r.operator} site predicted to reach this place")
        elif r.status == SUPERSEDED and pending[i]:
            notes.append(f"now served by {r.site_id}, not yet on air")
        elif r.status == SUPERSEDED:
            notes.append(f"taken before {r.site_id} went on air "
                         f"({pd.Timestamp(on_air[i]).date().isoformat()})")
        else:
            notes.append("")
    return notes


def _status_warnings(table: pd.DataFrame) -> list[Problem]:
    log = ProblemLog()
    label = MEASUREMENTS.path
    values = pd.Series([f"{o} {m:g} dBm" for o, m in zip(table["operator"],
                                                          table["measured_dbm"], strict=True)])
    for status, message, fix in (
        (OUTSIDE_DEM, "measurement outside the DEM (or over nodata): not compared",
         "check its coordinates, or use a DEM that covers it"),
        (NO_PREDICTION, "measurement where no site of its operator is predicted to reach "
         "(far from every site, or the site is missing from sites.csv): not compared",
         "check the operator and coordinates, or add the serving site to sites.csv"),
        (SUPERSEDED, "measurement taken before its predicted serving site went on air (or "
         "that site is not on air yet): not compared",
         "measure again once the site is on air"),
    ):
        idx = np.flatnonzero((table["status"] == status).to_numpy())
        if len(idx):
            log_rows(log, label, idx, None, values, message, fix, severity="warning")
    return log.problems


def error_stats(table: pd.DataFrame, within_db: float = WITHIN_DB) -> pd.DataFrame:
    """Prediction error per operator and band, per operator (band ``all``) and overall.

    Parameters
    ----------
    table : DataFrame
        Rows with ``operator``, ``band`` and ``error_db`` (predicted - measured, dB).
    within_db : float
        Half-width of the ``within`` share (dB).

    Returns
    -------
    DataFrame
        ``operator``, ``band``, ``n``, ``mean_error_db``, ``rmse_db``, ``std_db``
        (population, so that rmse² = mean² + std²) and ``within_6db`` (share 0-1).
    """
    rows = []

    def one(op: str, band: str, err: np.ndarray) -> None:
        err = err[np.isfinite(err)]
        if not len(err):
            return
        rows.append({"operator": op, "band": band, "n": len(err),
                     "mean_error_db": round(float(err.mean()), 2),
                     "rmse_db": round(float(np.sqrt(np.mean(err ** 2))), 2),
                     "std_db": round(float(err.std()), 2),
                     "within_6db": round(float(np.mean(np.abs(err) <= within_db)), 3)})

    if len(table):
        for (op, band), sub in table.groupby(["operator", "band"], sort=True):
            one(str(op), str(band), sub["error_db"].to_numpy(float))
        for op, sub in table.groupby("operator", sort=True):
            one(str(op), "all", sub["error_db"].to_numpy(float))
        one("all", "all", table["error_db"].to_numpy(float))
    return pd.DataFrame(rows, columns=["operator", "band", "n", "mean_error_db", "rmse_db",
                                       "std_db", "within_6db"])


def measurement_cells(study: Study, measurements: gpd.GeoDataFrame
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions (m, working CRS; NaN without geometry) and grid cells of measurements.

    Returns
    -------
    x, y : ndarray of float
    rows, cols : ndarray of int
        The cell holding each measurement; -1 outside the grid or without geometry.
    """
    g = np.asarray(measurements.geometry.array, dtype=object)
    x = np.array([np.nan if p is None or p.is_empty else p.x for p in g], float)
    y = np.array([np.nan if p is None or p.is_empty else p.y for p in g], float)
    rows, cols = sample_cells(study.grid, np.nan_to_num(x, nan=-1e12),
                              np.nan_to_num(y, nan=-1e12))
    return x, y, rows, cols
