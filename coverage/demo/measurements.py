"""Deterministic field measurements for the demo county (``data/measurements/``).

Inspectors measure at test points (committee, school, clinic, settlements) with one phone per
operator, and a drive-test team logs a few routes along the valleys. Each reading is the
model's own prediction at its place (:func:`coverage.predict.predict_coverage`, on-air sites)
plus a known per-operator bias (:data:`TRUE_OFFSET_DB`), a spatially correlated shadowing
field and independent scatter, rounded to whole dBm as phones report it. Readings below the
handset floor (-140 dBm) or where no site of the operator reaches are not recorded ("no
service"). A few test-point visits are older than a year, so that the age rule has
something to ignore.

So the calibration can be checked: :func:`coverage.evidence.calibration.fit_calibration` on this set
must recover :data:`TRUE_OFFSET_DB` (measured - predicted) within 1 dB.

:func:`generate_demo_measurements` needs the demo county on disk (it loads and predicts it:
about a minute cold, seconds with a warm site-loss cache); :func:`write_demo_measurements`
writes ``data/measurements/measurements.csv``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from coverage.config import Config
from coverage.io.writers import write_csv
from coverage.predict import predict_coverage
from coverage.schema import MEASUREMENTS
from coverage.signal import CoverageResult, sample_cells
from coverage.study import Study, load_study

__all__ = ["DEFAULT_SEED", "TRUE_OFFSET_DB", "build_measurements", "generate_demo_measurements",
           "write_demo_measurements"]

DEFAULT_SEED = 20200612
TRUE_OFFSET_DB: dict[str, float] = {"CMCC": -4.0, "CT": 3.0, "CU": -2.0}
"""The demo's known bias, measured - predicted (dB): what the calibration must recover."""

SIGMA_FIELD_DB = 4.0
FIELD_LENGTH_M = 300.0
SIGMA_IID_DB = 5.0
"""Shadowing: a smooth field (σ 4 dB, correlation length ~300 m) plus independent scatter
(σ 5 dB): about 6.4 dB in all."""

FLOOR_DBM, CEILING_DBM = -140.0, -44.0
"""LTE RSRP reporting range: readings outside it are not recorded."""

POINT_SHARE = {"committee": 0.5, "school": 0.5, "clinic": 0.5, "settlement": 0.12}
"""Share of test points of each kind the inspectors visited."""

OLD_VISIT_SHARE = 0.08
"""Share of visits in 2019 (older than a year at the 2020-10-31 inspection)."""

ROUTES = 4
ROUTE_MIN_KM, ROUTE_MAX_KM = 12.0, 25.0
ROUTE_SPACING_M = 100.0
ROUTE_COARSE = 5
"""Drive routes: least-cost paths over the DEM coarsened 5 x (flat, low ground is cheap)."""

TESTERS = ("王磊", "李娜", "张伟", "刘洋", "陈静", "赵强")
VISITS = (dt.date(2020, 4, 1), dt.date(2020, 10, 25))
OLD_VISITS = (dt.date(2019, 3, 1), dt.date(2019, 9, 30))


def _field(rng: np.random.Generator, shape: tuple[int, int], res_m: float) -> tuple[
        np.ndarray, int]:
    """A smooth unit-variance random field, on the grid coarsened by the returned step.

    Gaussian-filtered white noise with filter width ``FIELD_LENGTH_M / 2`` has the
    correlation ``exp(-(d / FIELD_LENGTH_M)²)``.
    """
    width_m = FIELD_LENGTH_M / 2.0
    step = max(1, round(width_m / res_m / 2.5))
    rows, cols = -(-shape[0] // step), -(-shape[1] // step)
    f = ndimage.gaussian_filter(rng.standard_normal((rows, cols)), width_m / (res_m * step),
                                mode="wrap")
    return (f / f.std()).astype(np.float32), step


def _date(rng: np.random.Generator, span: tuple[dt.date, dt.date]) -> dt.date:
    days = (span[1] - span[0]).days
    return span[0] + dt.timedelta(days=int(rng.integers(0, days + 1)))


def _route(rng: np.random.Generator, study: Study, start_xy: np.ndarray, end_xy: np.ndarray
           ) -> np.ndarray:
    """A valley-following path (x, y in m) between two places, least cost on the DEM."""
    grid = study.grid
    k = ROUTE_COARSE
    z = grid.elevation
    rows, cols = z.shape[0] // k, z.shape[1] // k
    zc = z[: rows * k, : cols * k].reshape(rows, k, cols, k).mean(axis=(1, 3))
    res = grid.resolution_m * k
    gy, gx = np.gradient(np.nan_to_num(zc, nan=0.0), res)
    slope = np.hypot(gx, gy)
    low = (zc - np.nanmin(zc)) / max(float(np.nanmax(zc) - np.nanmin(zc)), 1.0)
    cost = 1.0 + 60.0 * slope ** 2 + 2.0 * low
    ok = np.isfinite(zc)
    idx = np.arange(rows * cols).reshape(rows, cols)
    src, dst, w = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = idx[max(0, -dr): rows - max(0, dr), max(0, -dc): cols - max(0, dc)]
        b = idx[max(0, dr): rows - max(0, -dr), max(0, dc): cols - max(0, -dc)]
        a, b = a.ravel(), b.ravel()
        keep = ok.ravel()[a] & ok.ravel()[b]
        length = np.hypot(dr, dc) * res
        src.append(a[keep])
        dst.append(b[keep])
        w.append(0.5 * (cost.ravel()[a[keep]] + cost.ravel()[b[keep]]) * length)
    g = sparse.coo_matrix((np.concatenate(w), (np.concatenate(src), np.concatenate(dst))),
                          shape=(rows * cols, rows * cols)).tocsr()

    def node(xy: np.ndarray) -> int:
        r, c = grid.rowcol(xy[0], xy[1])
        return int(np.clip(int(r) // k, 0, rows - 1) * cols + np.clip(int(c) // k, 0, cols - 1))

    start, end = node(start_xy), node(end_xy)
    _, pred = csgraph.dijkstra(g, directed=False, indices=start, return_predecessors=True)
    path = [end]
    while path[-1] != start and pred[path[-1]] >= 0:
        path.append(int(pred[path[-1]]))
    cells = np.array(path[::-1])
    pr, pc = cells // cols, cells % cols
    x, y = grid.xy(pr * k + (k - 1) / 2, pc * k + (k - 1) / 2)
    line = np.column_stack([x, y])
    seg = np.hypot(*np.diff(line, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(seg)])
    at = np.arange(0.0, along[-1], ROUTE_SPACING_M)
    xs = np.interp(at, along, line[:, 0]) + rng.normal(0, 10.0, len(at))
    ys = np.interp(at, along, line[:, 1]) + rng.normal(0, 10.0, len(at))
    return np.column_stack([xs, ys])


def _route_ends(rng: np.random.Generator, study: Study) -> list[tuple[np.ndarray, np.ndarray]]:
    com = study.points[study.points["kind"] == "committee"]
    xy = np.column_stack([com.geometry.x.to_numpy(), com.geometry.y.to_numpy()])
    ends = []
    for _ in range(ROUTES):
        a = xy[rng.integers(len(xy))]
        d = np.hypot(*(xy - a).T) / 1000.0
        cand = np.flatnonzero((d >= ROUTE_MIN_KM) & (d <= ROUTE_MAX_KM))
        b = xy[rng.choice(cand)] if len(cand) else xy[int(np.argmax(d))]
        ends.append((a, b))
    return ends


def _readings(rng: np.random.Generator, study: Study, coverage: CoverageResult,
              fields: dict[str, tuple[np.ndarray, int]], places: pd.DataFrame) -> pd.DataFrame:
    """Readings per place and operator with service: prediction + bias + shadowing.

    A test-point visit made before a serving site went on air is moved after that date; a
    drive-route reading taken before its serving site went on air is left out (the model
    cannot say what the older network gave there).
    """
    to_ll = Transformer.from_crs(study.grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(places["x"].to_numpy(), places["y"].to_numpy())
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    # sample where the loader will put the rounded coordinates
    back = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(study.grid.crs)
    rows, cols = sample_cells(study.grid, back.x.to_numpy(), back.y.to_numpy())
    ok = rows >= 0
    on_air_all = pd.to_datetime(study.sites["on_air_date"], errors="coerce").to_numpy()
    pred, on_air = {}, {}
    for op in coverage.operators:
        oc = coverage.by_operator[op]
        pred[op] = np.full(len(places), np.nan)
        pred[op][ok] = oc.rsrp[rows[ok], cols[ok]]
        site = np.full(len(places), -1)
        site[ok] = oc.best_site[rows[ok], cols[ok]]
        on_air[op] = np.where(site >= 0, on_air_all[np.maximum(site, 0)],
                              np.datetime64("NaT"))
    day = pd.to_datetime(places["day"]).to_numpy().astype("M8[D]")
    visit = places["visit"].to_numpy()
    need = np.max(np.stack([_days(on_air[op]) for op in coverage.operators]), axis=0)
    late = pd.Series(need).groupby(visit).transform("max").to_numpy()
    end = int(np.datetime64(VISITS[1], "D").astype(np.int64))
    shift = (visit >= 0) & (_days(day) <= late)
    for v in np.unique(visit[shift]):
        sel = visit == v
        first = int(late[sel][0]) + 1
        day[sel] = np.datetime64(first + int(rng.integers(0, max(end - first, 0) + 1)), "D")
    stamp = np.array([pd.Timestamp(d).date().isoformat() for d in day], dtype=object)
    timed = places["time"].notna().to_numpy()
    stamp[timed] = stamp[timed] + " " + places["time"].to_numpy()[timed].astype(str)
    out = []
    for op in coverage.operators:
        field, step = fields[op]
        fr = np.clip(np.maximum(rows, 0) // step, 0, field.shape[0] - 1)
        fc = np.clip(np.maximum(cols, 0) // step, 0, field.shape[1] - 1)
        value = (pred[op] + TRUE_OFFSET_DB.get(op, 0.0) + SIGMA_FIELD_DB * field[fr, fc]
                 + rng.normal(0.0, SIGMA_IID_DB, len(places)))
        value = np.round(value)
        sinr = np.clip(0.45 * (value + 115.0) - 2.0 + rng.normal(0.0, 3.0, len(places)),
                       -10.0, 30.0)
        before = _days(day) < _days(on_air[op])
        keep = np.isfinite(value) & (value >= FLOOR_DBM) & (value <= CEILING_DBM) & ~before
        out.append(pd.DataFrame({
            "lon": lon[keep], "lat": lat[keep], "operator": op,
            "rsrp_dbm": value[keep].astype(np.int64), "sinr_db": np.round(sinr[keep], 1),
            "date": stamp[keep], "tester": places["tester"].to_numpy()[keep],
            "point_id": places["point_id"].to_numpy()[keep], "order": places.index[keep]}))
    return pd.concat(out, ignore_index=True)


def _days(stamps: np.ndarray) -> np.ndarray:
    """Days since 1970 as float, -inf for NaT."""
    d = np.asarray(stamps).astype("M8[D]")
    return np.where(np.isnat(d), -np.inf, d.astype(np.int64).astype(float))


def _point_visits(rng: np.random.Generator, study: Study) -> pd.DataFrame:
    pts = study.points.sort_values("point_id").reset_index(drop=True)
    share = pts["kind"].map(POINT_SHARE).fillna(0.0).to_numpy()
    chosen = pts[rng.random(len(pts)) < share]
    rows = []
    for k, r in enumerate(chosen.itertuples()):
        old = rng.random() < OLD_VISIT_SHARE
        day = _date(rng, OLD_VISITS if old else VISITS)
        tester = TESTERS[int(rng.integers(len(TESTERS)))]
        for _ in range(int(rng.integers(1, 4))):  # 1-3 readings per visit
            jitter = rng.normal(0.0, 3.0, 2)
            rows.append({"x": r.geometry.x + jitter[0], "y": r.geometry.y + jitter[1],
                         "day": day, "time": None, "visit": k, "tester": tester,
                         "point_id": r.point_id})
    return pd.DataFrame(rows)


def _route_visits(rng: np.random.Generator, study: Study) -> pd.DataFrame:
    frames = []
    for k, (a, b) in enumerate(_route_ends(rng, study)):
        xy = _route(rng, study, a, b)
        day = _date(rng, VISITS)
        start = dt.datetime.combine(day, dt.time(9, 0)) + dt.timedelta(minutes=int(
            rng.integers(0, 90)))
        times = [(start + dt.timedelta(seconds=12 * i)).time().isoformat()
                 for i in range(len(xy))]
        frames.append(pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "day": day, "time": times,
                                    "visit": -1, "tester": f"路测{k + 1}组",
                                    "point_id": None}))
    return pd.concat(frames, ignore_index=True)


def build_measurements(study: Study, coverage: CoverageResult, seed: int = DEFAULT_SEED
                       ) -> pd.DataFrame:
    """The demo measurement table (schema columns), deterministic from ``seed``.

    Parameters
    ----------
    study : Study
        The demo county.
    coverage : CoverageResult
        Its prediction (on-air sites, uncalibrated).
    seed : int

    Returns
    -------
    DataFrame
        ``lon``, ``lat`` (WGS84, 6 decimals), ``operator``, ``rsrp_dbm`` (whole dBm),
        ``date`` (``YYYY-MM-DD``; drive routes with the time of day), ``sinr_db`` (dB),
        ``tester``, ``point_id`` (test-point visits only); sorted by date.
    """
    rng = np.random.default_rng(seed)
    fields = {op: _field(rng, study.grid.shape, study.grid.resolution_m)
              for op in coverage.operators}
    places = pd.concat([_point_visits(rng, study), _route_visits(rng, study)],
                       ignore_index=True)
    table = _readings(rng, study, coverage, fields, places)
    table = table.sort_values(["date", "order", "operator"], kind="stable")
    cols = [c.name for c in MEASUREMENTS.columns]
    return table[cols].reset_index(drop=True)


def generate_demo_measurements(data_dir: Path, config: Config | None = None, *,
                               seed: int = DEFAULT_SEED, cache_dir: Path | None = None
                               ) -> pd.DataFrame:
    """Load the demo county in ``data_dir``, predict it and build its measurements."""
    config = config or Config()
    study = load_study(data_dir, config)
    coverage = predict_coverage(study, cache_dir=cache_dir)
    return build_measurements(study, coverage, seed)


def write_demo_measurements(table: pd.DataFrame, data_dir: Path) -> dict[str, str]:
    """Write ``measurements/measurements.csv`` under ``data_dir``; return its SHA-256."""
    target = Path(data_dir) / MEASUREMENTS.path
    write_csv(target, table, float_format=None)
    return {MEASUREMENTS.path: hashlib.sha256(target.read_bytes()).hexdigest()}
