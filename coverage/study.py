"""The Study: every input loaded, validated and brought into one working CRS.

:func:`load_study` reads the data folder (layout and columns per :mod:`coverage.schema`),
collects every problem before failing (:class:`~coverage.errors.InputDataError`), picks the
working CRS (local UTM from the villages' extent unless ``config.model.crs`` says
otherwise), reprojects every layer and resamples the DEM once onto the working grid.
:func:`validate_data_dir` runs the same checks and returns the problems instead.

A working grid of more than ``config.model.max_in_memory_cells`` cells (a province at 30 m)
is resampled strip by strip into a ``.npy`` file (:func:`coverage.io.tiles.resample_dem_tiled`)
and mapped read-only into memory; neither it nor the source DEM is ever held whole, and the
checks on the DEM run block by block with the same messages.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from affine import Affine
from pyproj import CRS
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from pyproj.exceptions import CRSError
from rasterio.features import rasterize

from coverage.config import Config
from coverage.errors import ConfigError, InputDataError, Problem, ProblemLog
from coverage.grid import WorkingGrid
from coverage.io import readers, terrain
from coverage.io import validate as v
from coverage.io.claims import check_claim_positions, check_claims
from coverage.schema import LAYERS, Layer

__all__ = ["Study", "WorkingGrid", "choose_working_crs", "load_study", "validate_data_dir"]


@dataclass
class Study:
    """Every input of one run, validated, in the working CRS (see ``notes/study.md``)."""

    data_dir: Path
    config: Config
    grid: WorkingGrid
    villages: gpd.GeoDataFrame
    groups: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    households: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None
    grid_works: pd.DataFrame | None
    mobile_works: pd.DataFrame | None
    transformers: pd.DataFrame | None
    hazards: pd.DataFrame | None
    measurements: gpd.GeoDataFrame | None
    warnings: list[Problem] = field(default_factory=list)
    claims: pd.DataFrame | None = None


def load_study(data_dir: str | Path, config: Config, *, today: dt.date | None = None,
               dem_folder: str | Path | None = None) -> Study:
    """Load and validate the data folder.

    Parameters
    ----------
    data_dir : str or Path
        The data folder (layout of :mod:`coverage.schema`).
    config : Config
        Operators and bands (for checking), working CRS and resolution, and
        ``model.max_in_memory_cells``.
    today : date, optional
        Reference for "date in the future" checks (default: today's date).
    dem_folder : str or Path, optional
        Only used when the working grid has more than ``config.model.max_in_memory_cells``
        cells: the folder of the strip-wise resampled working DEM (``dem-tiled-*.npy``,
        reused while the source DEM, CRS and resolution are unchanged), and
        ``Study.grid.elevation`` is a read-only memmap of it. None: a new folder from
        ``tempfile.mkdtemp(prefix="coverage-dem-")``, which is not removed (the caller's).

    Returns
    -------
    Study
        With warnings in ``Study.warnings``.

    Raises
    ------
    InputDataError
        Carrying every problem (errors and warnings) when any is an error.
    ConfigError
        When ``config.model.crs`` is not a projected CRS.
    """
    study, problems = _load(Path(data_dir), config, today or dt.date.today(), dem_folder)
    if study is None or any(p.is_error for p in problems):
        raise InputDataError(problems)
    study.warnings = [p for p in problems if not p.is_error]
    return study


def validate_data_dir(data_dir: str | Path, config: Config, *, today: dt.date | None = None,
                      dem_folder: str | Path | None = None) -> list[Problem]:
    """Every problem (errors and warnings) in the data folder; never raises for bad data.

    A large working grid is resampled into ``dem_folder`` as by :func:`load_study`.
    """
    _, problems = _load(Path(data_dir), config, today or dt.date.today(), dem_folder)
    return problems


# ----------------------------------------------------------------------------------------


def choose_working_crs(config: Config,
                       lonlat_bounds: tuple[float, float, float, float] | None) -> CRS:
    """The working CRS: ``config.model.crs`` or the UTM zone of the given WGS84 extent.

    Parameters
    ----------
    config : Config
        ``model.crs`` is ``"auto"`` or anything pyproj understands (must be projected).
    lonlat_bounds : tuple
        (west, south, east, north) in degrees, of the villages; needed with ``"auto"``.

    Raises
    ------
    ConfigError
        When ``model.crs`` is unknown or not projected in metres.
    """
    if config.model.crs.strip().lower() != "auto":
        try:
            crs = CRS.from_user_input(config.model.crs)
        except CRSError as exc:
            raise ConfigError(f"model.crs = {config.model.crs!r} is not a CRS pyproj knows "
                              f"({exc}). Fix: use 'auto' or e.g. 'EPSG:32650'.") from None
        unit = crs.axis_info[0].unit_name if crs.axis_info else ""
        if not crs.is_projected or unit not in ("metre", "meter"):
            raise ConfigError(f"model.crs = {config.model.crs!r} is not a projected CRS in "
                              "metres. Fix: use 'auto' (local UTM) or a projected CRS such as "
                              "'EPSG:32650' or 'EPSG:4547'.")
        return crs
    if lonlat_bounds is None:
        raise ValueError("model.crs = 'auto' needs the extent of the villages")
    return _utm_crs(*lonlat_bounds)


@functools.lru_cache(maxsize=64)
def _utm_crs(west: float, south: float, east: float, north: float) -> CRS:
    """WGS 84 / UTM zone of the extent's centre, among the zones pyproj lists for it.

    The zone of the centre is always among them when the extent holds its centre (west <=
    east) and the centre lies where the UTM zones are defined (80° S to 84° N): the PROJ
    database is asked (~0.16 s) only otherwise."""
    zone = int(np.floor(((west + east) / 2 + 180) / 6)) % 60 + 1
    code = (32600 if (south + north) / 2 >= 0 else 32700) + zone
    if west <= east and -80.0 <= (south + north) / 2 <= 84.0:
        return CRS.from_epsg(code)
    info = query_utm_crs_info(datum_name="WGS 84",
                              area_of_interest=AreaOfInterest(west, south, east, north))
    codes = {int(i.code) for i in info}
    return CRS.from_epsg(code if code in codes or not codes else sorted(codes)[0])


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


@dataclass
class _Loaded:
    frame: pd.DataFrame
    label: str
    lonlat: bool


def _read_all(data_dir: Path, config: Config, log: ProblemLog, today: dt.date
              ) -> dict[str, _Loaded]:
    """Read every layer, check columns, values, IDs and geometries (no CRS needed)."""
    loaded: dict[str, _Loaded] = {}
    cache: dict[Path, list[str] | None] = {}
    used: set[Path] = set()
    for spec in LAYERS:
        src = readers.locate_layer(data_dir, spec, log, cache)
        if src is None:
            continue
        used.add(src.path)
        frame = readers.read_layer(src, spec, log, config)
        if frame is None:
            continue
        lonlat = bool(frame.attrs.get("lonlat_columns", False))
        has_geom = isinstance(frame, gpd.GeoDataFrame)
        label = frame.attrs.get("label") or src.label
        checked: frozenset[str] = frozenset()
        if spec.key == "measurements":
            frame, checked = v.normalise_measurements(frame, label, log, config)
        frame = v.normalise_columns(frame, spec, label, log,
                                    has_geometry=has_geom and not lonlat)
        frame = v.convert_values(frame, spec, label, log, config,
                                 quiet=checked | ({"lon", "lat"} if lonlat else frozenset()))
        v.check_future_dates(frame, spec, label, log, today)
        v.check_unique_ids(frame, spec, label, log)
        if spec.key == "sites":
            v.check_bands(frame, label, log, config)
        if has_geom:
            frame = v.check_geometries(frame, spec, label, log, coords_reported=lonlat)
        loaded[spec.key] = _Loaded(frame, label, lonlat)
    readers.unread_tables(data_dir, used, log)
    return loaded


def _lonlat_bounds(loaded: dict[str, _Loaded], dem: readers.DemSource | None
                   ) -> tuple[float, float, float, float] | None:
    for key in ("villages", "groups", "points", "sites"):
        item = loaded.get(key)
        if item is not None and isinstance(item.frame, gpd.GeoDataFrame):
            ok = v.usable(item.frame)
            if ok.any():
                geo = item.frame.loc[ok].to_crs(readers.WGS84)
                w, s, e, n = geo.total_bounds
                if np.all(np.isfinite([w, s, e, n])):
                    return float(w), float(s), float(e), float(n)
    if dem is not None:
        from rasterio.warp import transform_bounds

        return tuple(transform_bounds(dem.crs.to_wkt(), "EPSG:4326", *dem.bounds))
    return None


def _references(loaded: dict[str, _Loaded], log: ProblemLog) -> None:
    """Check every ID reference between layers whose parent layer was read."""
    links = [
        ("groups", "village_id", "villages", "village_id"),
        ("points", "village_id", "villages", "village_id"),
        ("points", "group_id", "groups", "group_id"),
        ("households", "group_id", "groups", "group_id"),
        ("grid", "village_id", "villages", "village_id"),
        ("mobile", "village_id", "villages", "village_id"),
        ("mobile", "site_id", "sites", "site_id"),
        ("transformers", "village_id", "villages", "village_id"),
        ("hazards", "village_id", "villages", "village_id"),
        ("measurements", "point_id", "points", "point_id"),
    ]
    for child, col, parent, pcol in links:
        c, p = loaded.get(child), loaded.get(parent)
        if c is None or p is None or col not in c.frame or pcol not in p.frame:
            continue
        v.check_reference(c.frame, c.label, col, p.frame[pcol], p.label, log)


_NODATA_STRIP_CELLS = 1 << 22
"""Cells rasterised at a time by :func:`_village_nodata_share` on a memory-mapped grid."""


def _village_nodata_share(villages: gpd.GeoDataFrame, grid: WorkingGrid,
                          strip_rows: int | None = None) -> np.ndarray:
    """Share of each village's grid cells without elevation (NaN for villages with none).

    ``strip_rows``: rasterise that many grid rows at a time (None: the whole grid at once).
    """
    ok = v.usable(villages)
    share = np.full(len(villages), np.nan)
    if not ok.any():
        return share
    index = np.flatnonzero(ok)
    geoms = np.asarray(villages.geometry.array, dtype=object)[ok]
    rows, cols = grid.shape
    step = rows if strip_rows is None else max(1, min(int(strip_rows), rows))
    total = np.zeros(len(villages) + 1, dtype=np.int64)
    bad = np.zeros(len(villages) + 1, dtype=np.int64)
    extent = shapely.bounds(geoms)
    ymin_all, ymax_all = extent[:, 1], extent[:, 3]
    for r0 in range(0, rows, step):
        n = min(step, rows - r0)
        transform = grid.transform if r0 == 0 else grid.transform @ Affine.translation(0, r0)
        if step < rows:  # only the villages reaching into the strip
            top = grid.transform.f - r0 * grid.resolution_m
            bottom = top - n * grid.resolution_m
            near = (ymax_all >= bottom) & (ymin_all <= top)
            if not near.any():
                continue
        else:
            near = np.ones(len(geoms), dtype=bool)
        shapes = [(g, i + 1) for i, g in zip(index[near], geoms[near], strict=True)]
        ids = rasterize(shapes, out_shape=(n, cols), transform=transform, fill=0,
                        dtype="int32")
        nan = ~np.isfinite(grid.elevation[r0:r0 + n])
        total += np.bincount(ids.ravel(), minlength=len(villages) + 1)
        bad += np.bincount(ids[nan], minlength=len(villages) + 1)
    total, bad = total[1:], bad[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, bad / np.maximum(total, 1), np.nan)
    return share


def _dem_checks(loaded: dict[str, _Loaded], dem: readers.DemSource, grid: WorkingGrid,
                log: ProblemLog) -> None:
    footprint = v.dem_footprint(dem.bounds, dem.crs, grid.crs)
    vil = loaded.get("villages")
    if vil is not None:
        strip_rows = None if dem.elevation is not None else \
            max(1, _NODATA_STRIP_CELLS // max(grid.shape[1], 1))
        _guarded(log, vil.label, v.check_dem_covers_villages, vil.frame, vil.label, footprint,
                 _village_nodata_share(vil.frame, grid, strip_rows), dem.label, log)
    for key, severity, what in (("sites", "error", "site"), ("candidates", "error", "candidate"),
                                ("measurements", "warning", "measurement")):
        item = loaded.get(key)
        if item is None or not isinstance(item.frame, gpd.GeoDataFrame):
            continue
        gdf = item.frame
        ok = v.usable(gdf)
        lon = np.full(len(gdf), np.nan)
        lat = np.full(len(gdf), np.nan)
        if ok.any():
            geo = np.asarray(gdf.geometry.to_crs(readers.WGS84).array, dtype=object)[ok]
            lon[ok], lat[ok] = shapely.get_x(geo), shapely.get_y(geo)
        if item.lonlat:
            lon = np.where(ok, gdf["lon"].to_numpy(dtype=float), lon)
            lat = np.where(ok, gdf["lat"].to_numpy(dtype=float), lat)
        swapped = np.zeros(len(gdf), dtype=bool)
        if ok.any():
            swapped[ok] = readers.dem_footprint_lonlat_contains(dem, lat[ok], lon[ok])
        x = np.full(len(gdf), np.nan)
        y = np.full(len(gdf), np.nan)
        g = np.asarray(gdf.geometry.array, dtype=object)
        x[ok], y[ok] = shapely.get_x(g[ok]), shapely.get_y(g[ok])
        nearest = grid.sample(x, y, method="nearest")
        v.check_points_on_dem(gdf, item.label, footprint, nearest, (lon, lat), swapped,
                              dem.label, log, severity=severity, what=what)


def _guarded(log: ProblemLog, label: str, check, *args) -> None:
    """Run one overlay check; a GEOS failure on odd geometry becomes a problem."""
    try:
        check(*args)
    except shapely.errors.GEOSException as exc:
        log.add(label, f"a geometry check failed ({exc})",
                "fix the layer's invalid geometries (QGIS: Vector > Geometry Tools > Check "
                "Validity) and re-run")


def _cross_checks(loaded: dict[str, _Loaded], log: ProblemLog) -> None:
    vil, grp, pts, hh = (loaded.get(k) for k in ("villages", "groups", "points", "households"))
    if vil is not None and "village_id" not in vil.frame:
        vil = None
    if grp is not None and "group_id" not in grp.frame:
        grp = None
    if vil is not None and grp is not None and "village_id" in grp.frame:
        _guarded(log, grp.label, v.check_groups_in_villages, grp.frame, vil.frame, grp.label,
                 vil.label, log)
    if vil is not None and pts is not None and "village_id" in pts.frame:
        _guarded(log, pts.label, v.check_points_in_villages, pts.frame, vil.frame,
                 None if grp is None else grp.frame, pts.label, log)
    if grp is not None and hh is not None and "group_id" in hh.frame:
        _guarded(log, hh.label, v.check_households_in_groups, hh.frame, grp.frame, hh.label,
                 log)
    sites = loaded.get("sites")
    if sites is not None and isinstance(sites.frame, gpd.GeoDataFrame):
        v.check_shared_towers(sites.frame, sites.label, log)
    grid_works, transformers = loaded.get("grid"), loaded.get("transformers")
    if grid_works is not None and transformers is not None:
        v.check_work_transformers(grid_works.frame, transformers.frame, grid_works.label,
                                  transformers.label, log)


def _claims_checks(loaded: dict[str, _Loaded], config: Config, log: ProblemLog) -> None:
    """The claims file against the operators, sites and candidates (when it was read)."""
    claims = loaded.get("claims")
    if claims is None:
        return
    sites, cands = loaded.get("sites"), loaded.get("candidates")
    check_claims(claims.frame, claims.label, None if sites is None else sites.frame,
                 "sites/sites.csv" if sites is None else sites.label,
                 None if cands is None else cands.frame,
                 "sites/candidates.csv" if cands is None else cands.label, config, log)


def _load(data_dir: Path, config: Config, today: dt.date,
          dem_folder: str | Path | None = None) -> tuple[Study | None, list[Problem]]:
    log = ProblemLog()
    if not data_dir.is_dir():
        log.add(str(data_dir), "the data folder does not exist",
                "pass the folder that holds villages/, sites/, terrain/ ...")
        return None, log.problems
    dem_path = readers.locate_dem(data_dir, log)
    dem_at = len(log.problems)  # the DEM's problems come first, as they always did
    probe_log = ProblemLog()
    described = readers.inspect_dem(dem_path, data_dir, probe_log) \
        if dem_path is not None else None
    loaded = _read_all(data_dir, config, log, today)
    large = described is not None and _is_large(loaded, described, config)
    dem_log = ProblemLog()
    if large and described is not None:
        dem_log.extend(probe_log.problems)
        dem = readers.scan_dem(described, dem_log)
    else:
        dem = readers.read_dem(dem_path, data_dir, dem_log) if dem_path is not None else None
    log.problems[dem_at:dem_at] = dem_log.problems
    bounds = _lonlat_bounds(loaded, dem)
    crs = choose_working_crs(config, bounds) if bounds is not None or \
        config.model.crs.lower() != "auto" else None
    grid = None
    if crs is not None:
        for item in loaded.values():
            if isinstance(item.frame, gpd.GeoDataFrame):
                item.frame = item.frame.to_crs(crs)
        if dem is not None and large:
            grid = _mapped_grid(dem, crs, float(config.model.resolution_m), dem_folder)
        elif dem is not None:
            elevation, transform = readers.resample_dem(dem, crs, config.model.resolution_m,
                                                        threads=config.compute.threads)
            grid = WorkingGrid(elevation, transform, crs, float(config.model.resolution_m))
    _references(loaded, log)
    _cross_checks(loaded, log)
    _claims_checks(loaded, config, log)
    if grid is not None and dem is not None:
        _dem_checks(loaded, dem, grid, log)
        claims = loaded.get("claims")
        if claims is not None:
            check_claim_positions(claims.frame, claims.label,
                                  v.dem_footprint(dem.bounds, dem.crs, grid.crs), grid.crs,
                                  dem.label, log)
        people = loaded.get("households") or loaded.get("groups")
        if people is not None:
            terrain.check_household_voids(people.frame, people.label, grid, log,
                                          config.model.fill_voids)
    problems = _dedupe(readers.user_rows(log.problems, loaded))
    if grid is None or any(p.is_error for p in problems):
        return None, problems
    return _assemble(data_dir, config, grid, loaded), problems


def _is_large(loaded: dict[str, _Loaded], dem: readers.DemSource, config: Config) -> bool:
    """Whether the working grid over the DEM has more than ``max_in_memory_cells`` cells.

    Uses the DEM's metadata only; False when the grid cannot be laid out (the in-memory
    path then reports whatever is wrong, as it always did).
    """
    try:
        bounds = _lonlat_bounds(loaded, dem)
        if bounds is None and config.model.crs.lower() == "auto":
            return False
        crs = choose_working_crs(config, bounds)
        _, rows, cols = readers.working_grid_layout(dem.crs, dem.bounds, crs,
                                                    config.model.resolution_m)
    except Exception:  # any failure: take the path that reports it
        return False
    return rows * cols > config.model.max_in_memory_cells


def _mapped_grid(dem: readers.DemSource, crs: CRS, resolution_m: float,
                 folder: str | Path | None) -> WorkingGrid:
    """The working grid resampled strip-wise into ``folder``, mapped read-only."""
    from coverage.io import tiles

    if dem.path is None:
        raise ValueError("a DEM mapped strip-wise needs its file")
    dem_file = tiles.resample_dem_tiled(dem.path, crs, resolution_m, folder)
    return WorkingGrid(tiles.open_dem(dem_file, mode="r"), dem_file.affine, crs, resolution_m)


# ----------------------------------------------------------------------------------------
# Assembling the Study (only for data without errors)


_EMPTY_BY_KIND = {"str": np.nan, "float": np.nan, "int": pd.NA, "bool": pd.NA, "date": pd.NaT,
                  "azimuths": np.nan}


def _complete(frame: pd.DataFrame, spec: Layer) -> pd.DataFrame:
    """Add absent optional columns (all missing) so that every schema column exists."""
    for col in spec.columns:
        if col.name in frame:
            continue
        if col.kind == "int":
            frame[col.name] = pd.array([pd.NA] * len(frame), dtype="Int64")
        elif col.kind == "bool":
            frame[col.name] = pd.array([pd.NA] * len(frame), dtype="boolean")
        elif col.kind == "date":
            frame[col.name] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        elif col.kind == "float":
            frame[col.name] = np.nan
        else:
            frame[col.name] = pd.Series(np.nan, index=frame.index, dtype="str")
    return frame


def _with_lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill absent lon/lat from the geometry (WGS84 degrees)."""
    if "lon" in gdf and "lat" in gdf and gdf["lon"].notna().all() and gdf["lat"].notna().all():
        return gdf
    geo = np.asarray(gdf.geometry.to_crs(readers.WGS84).array, dtype=object)
    gdf["lon"] = shapely.get_x(geo)
    gdf["lat"] = shapely.get_y(geo)
    return gdf


def _sites(gdf: gpd.GeoDataFrame, spec: Layer, grid: WorkingGrid) -> gpd.GeoDataFrame:
    gdf = _with_lonlat(_complete(gdf, spec))
    tower = gdf["tower_id"].astype(object)
    gdf["tower_id"] = pd.Series(tower.where(tower.notna(), gdf["site_id"].astype(object))
                                .to_numpy(dtype=object), index=gdf.index, dtype="str")
    gdf["status"] = gdf["status"].fillna("on_air")
    if "azimuths" not in gdf:
        gdf["azimuths"] = pd.Series([()] * len(gdf), index=gdf.index, dtype=object)
    g = np.asarray(gdf.geometry.array, dtype=object)
    gdf["ground_m"] = grid.sample(shapely.get_x(g), shapely.get_y(g))
    return gdf


def _candidates(gdf: gpd.GeoDataFrame, spec: Layer, config: Config) -> gpd.GeoDataFrame:
    gdf = _with_lonlat(_complete(gdf, spec))
    gdf["height_m"] = gdf["height_m"].fillna(config.planning.candidate_height_m)
    gdf["kind"] = gdf["kind"].fillna("new")
    return gdf


def _assemble(data_dir: Path, config: Config, grid: WorkingGrid,
              loaded: dict[str, _Loaded]) -> Study:
    from coverage.schema import LAYERS_BY_KEY

    def get(key: str) -> pd.DataFrame | None:
        item = loaded.get(key)
        if item is None:
            return None
        return _complete(item.frame, LAYERS_BY_KEY[key])

    sites = _sites(loaded["sites"].frame, LAYERS_BY_KEY["sites"], grid)
    cands = loaded.get("candidates")
    meas = get("measurements")
    return Study(
        data_dir=data_dir, config=config, grid=grid,
        villages=get("villages"), groups=get("groups"), points=get("points"),
        households=get("households"), sites=sites,
        candidates=None if cands is None else _candidates(cands.frame,
                                                          LAYERS_BY_KEY["candidates"], config),
        grid_works=get("grid"), mobile_works=get("mobile"), transformers=get("transformers"),
        hazards=get("hazards"),
        measurements=None if meas is None else _with_lonlat(meas),
        claims=get("claims"),
    )
