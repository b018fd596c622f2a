"""Field measurements on the mobile map: prediction error per operator, and the rest.

Input is the frame of :meth:`coverage.evidence.compare.Comparison.error_layer` (working CRS,
one row per measurement). Rows with status ``ok`` are drawn per operator, coloured by
``error_db`` = predicted − measured (dB) in diverging steps: blue where the model
predicts too little signal, red where it predicts too much. Every other row goes to one
grey "not compared" layer that says why (status and note). Demo counties have thousands
of measurements, so the layers are :class:`~coverage.maps.core.TableLayer` objects: a
class and escaped popup cells per point instead of a style and popup HTML per feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.maps.core import LegendItem, LegendSection, MapFrame, TableLayer, fmt
from coverage.maps.labels import operator_name
from coverage.maps.layers import _text

if TYPE_CHECKING:
    from coverage.config import Config
    from coverage.study import Study

ERROR_STEPS_DB: tuple[float, ...] = (-12.0, -6.0, 6.0, 12.0)
"""Class boundaries of predicted − measured (dB): ≤ −12, −12…−6, −6…+6, +6…+12, ≥ +12."""
ERROR_COLORS: tuple[str, ...] = ("#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c")
"""Colour of each error class, most pessimistic prediction first (diverging blue–red)."""
NOT_COMPARED_COLOR = "#bdbdbd"
OK_STATUS = "ok"

Lab = Mapping[str, str]


def error_class(error_db: np.ndarray | float) -> np.ndarray:
    """Error class per value: 0 (≤ −12 dB) … 2 (within ±6 dB) … 4 (≥ +12 dB); −1 for NaN.

    Parameters
    ----------
    error_db : array_like
        Predicted − measured RSRP (dB).

    Returns
    -------
    ndarray of int8
    """
    err = np.asarray(error_db, dtype=np.float64)
    lo2, lo1, hi1, hi2 = ERROR_STEPS_DB
    with np.errstate(invalid="ignore"):
        cls = (2 + (err > hi1).astype(np.int8) + (err >= hi2) - (err < lo1)
               - (err <= lo2)).astype(np.int8)
    return np.where(np.isfinite(err), cls, -1).astype(np.int8)


def error_class_labels(lab: Lab) -> list[str]:
    """Legend labels of the error classes (dB), most pessimistic prediction first."""
    lo2, lo1, hi1, hi2 = ERROR_STEPS_DB
    return [f"≤ {lo2:+g} ({lab['err_low']})", f"{lo2:+g} … {lo1:+g}", f"{lo1:+g} … {hi1:+g}",
            f"{hi1:+g} … {hi2:+g}", f"≥ {hi2:+g} ({lab['err_high']})"]


def _style(fill: str, radius: float = 4.0) -> dict[str, object]:
    return {"radius": radius, "color": "#424242", "weight": 0.5, "fillColor": fill,
            "fillOpacity": 0.9}


def _column(table: pd.DataFrame, name: str) -> list[object]:
    """A column as a list (None throughout when it is absent)."""
    if name in table:
        return table[name].tolist()
    return [None] * len(table)


def _texts(values: list[object]) -> list[str]:
    """Display strings ('' for missing; dates as YYYY-MM-DD)."""
    return [_text(v) for v in values]


def _operators(config: Config, present: np.ndarray) -> list[str]:
    """Operators with measurements: the configured order, then any other, sorted."""
    have = set(present.tolist())
    return [op for op in config.operators if op in have] + sorted(have - set(config.operators))


def error_layers(measurements: gpd.GeoDataFrame | None, study: Study, frame: MapFrame,
                 lab: Lab, config: Config, show: bool = False
                 ) -> tuple[list[TableLayer], list[LegendSection]]:
    """Prediction error of the compared measurements per operator, and the others in grey.

    Parameters
    ----------
    measurements : GeoDataFrame or None
        :meth:`~coverage.evidence.compare.Comparison.error_layer` (points, working CRS; a frame
        without CRS is taken to be in the study's CRS). None or empty: no layers.
    study : Study
    frame : MapFrame
    lab : mapping
        Labels of the map's language.
    config : Config
    show : bool
        Whether the layers are on when the page opens.

    Returns
    -------
    layers : list of TableLayer
        ``errors_<OP>`` per operator with ``ok`` rows (popup: date, tester, operator,
        measured and predicted RSRP, error, predicted server; titled with the point id),
        then ``errors_not_compared`` when any row has another status (popup adds the
        status and the note).
    legend : list of LegendSection
    """
    if measurements is None or len(measurements) == 0:
        return [], []
    table = measurements
    if table.crs is None:
        table = table.set_crs(study.villages.crs)
    geoms = np.asarray(frame.lonlat(table.geometry, simplify=False), dtype=object)
    lon, lat = shapely.get_x(geoms), shapely.get_y(geoms)
    ops = np.array(_texts(_column(table, "operator")), dtype=object)
    status = np.array(_texts(_column(table, "status")), dtype=object)
    err = pd.to_numeric(pd.Series(_column(table, "error_db")), errors="coerce").to_numpy(float)
    cls = error_class(err)
    rows = _column(table, "row")
    ids = [str(r) if _texts([r])[0] else str(i + 1) for i, r in enumerate(rows)]
    point_ids = _texts(_column(table, "point_id"))
    titles = [p or f"#{fid}" for p, fid in zip(point_ids, ids, strict=True)]
    date, tester = _texts(_column(table, "date")), _texts(_column(table, "tester"))
    measured = [fmt(v, 1) for v in _column(table, "measured_dbm")]
    predicted = [fmt(v, 1) for v in _column(table, "predicted_dbm")]
    sites = _texts(_column(table, "site_id"))
    names = {op: operator_name(config, op) for op in set(ops.tolist())}
    compared = (status == OK_STATUS) & (cls >= 0)
    # extreme errors are drawn last, so that they stay visible where points overlap
    order = np.argsort(np.abs(cls.astype(np.int16) - 2), kind="stable")

    layers: list[TableLayer] = []
    columns = (lab["meas_date"], lab["tester"], lab["operator"], lab["measured"],
               lab["predicted"], lab["error_db"], lab["serving_site"])
    styles = tuple(_style(c) for c in ERROR_COLORS)
    for op in _operators(config, ops[compared]):
        layer = TableLayer(f"errors_{op}", f"{lab['meas_error']} · {names[op]}", columns,
                           styles, show=show)
        for i in order[compared[order] & (ops[order] == op)]:
            layer.add(lon[i], lat[i], ids[i], int(cls[i]), titles[i],
                      (date[i], tester[i], names[op], measured[i], predicted[i],
                       f"{err[i]:+.1f}", sites[i]))
        layers.append(layer)
    legend = []
    if layers:
        legend.append(LegendSection(lab["error_steps"], tuple(
            LegendItem(text, c, "circle", outline="#424242")
            for text, c in zip(error_class_labels(lab), ERROR_COLORS, strict=True)),
            tuple(layer.key for layer in layers)))

    others = np.flatnonzero(~compared)
    if len(others):
        notes = _texts(_column(table, "note"))
        layer = TableLayer("errors_not_compared", lab["not_compared"],
                           (lab["meas_date"], lab["tester"], lab["operator"], lab["measured"],
                            lab["status"], lab["reason"]),
                           (_style(NOT_COMPARED_COLOR, 3.5),), show=show)
        for i in others:
            layer.add(lon[i], lat[i], ids[i], 0, titles[i],
                      (date[i], tester[i], names[ops[i]], measured[i],
                       lab.get(status[i], status[i]), notes[i]))
        layers.append(layer)
        legend.append(LegendSection(lab["not_compared"], (LegendItem(
            lab["not_compared"], NOT_COMPARED_COLOR, "circle", outline="#424242"),),
            (layer.key,)))
    return layers, legend


__all__ = ["ERROR_COLORS", "ERROR_STEPS_DB", "NOT_COMPARED_COLOR", "error_class",
           "error_class_labels", "error_layers"]
