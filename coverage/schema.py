"""The input schema a user fills in: every layer, its columns, types and allowed values.

This module only describes; :mod:`coverage.io.validate` checks data against it and
:mod:`coverage.demo` generates data that satisfies it. Keep the three in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OPERATORS: tuple[str, ...] = ("CMCC", "CT", "CU")
"""Operator codes: China Mobile, China Telecom, China Unicom."""

POINT_KINDS: tuple[str, ...] = ("committee", "school", "clinic", "settlement")
SITE_STATUSES: tuple[str, ...] = ("on_air", "planned", "building")
BACKHAUL_KINDS: tuple[str, ...] = ("fiber", "microwave", "none")
WORK_STATUSES: tuple[str, ...] = ("planned", "in_progress", "done")
CANDIDATE_KINDS: tuple[str, ...] = ("new", "existing_tower")
CLAIM_STATUSES: tuple[str, ...] = ("claimed", "started", "on_air", "withdrawn")
"""An operator's claim (认领) of a site: 认领, 开工, 开通, 撤回."""


@dataclass(frozen=True)
class Column:
    """One column of an input layer.

    Parameters
    ----------
    name : str
        Column name as it must appear in the file.
    kind : str
        One of ``str``, ``int``, ``float``, ``bool``, ``date``, ``azimuths``.
    required : bool
        Whether the column must be present (and non-empty) in every row.
    min, max : float or None
        Inclusive numeric range, in the column's unit.
    choices : tuple of str or None
        Allowed values for a categorical column.
    unit : str
        Unit, for messages and documentation.
    """

    name: str
    kind: str = "str"
    required: bool = True
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    unit: str = ""


@dataclass(frozen=True)
class Layer:
    """One input layer (a file, or a layer of a GeoPackage).

    Parameters
    ----------
    key : str
        Short name used in code (``villages``, ``groups``, ...).
    path : str
        Default path relative to the data folder.
    layer : str or None
        Layer name inside a GeoPackage (None for single-layer files).
    geometry : str or None
        ``Polygon`` (polygons and multipolygons), ``Point`` or None (no geometry,
        e.g. a transformer table may still carry points).
    id_column : str or None
        Column whose values must be unique.
    columns : tuple of Column
        Known columns; other columns are kept and carried through.
    optional : bool
        Whether the whole layer may be absent.
    """

    key: str
    path: str
    layer: str | None
    geometry: str | None
    id_column: str | None
    columns: tuple[Column, ...] = field(default_factory=tuple)
    optional: bool = False

    @property
    def label(self) -> str:
        """How messages name the layer: ``file`` or ``file:layer``."""
        return f"{self.path}:{self.layer}" if self.layer else self.path

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


VILLAGES = Layer(
    "villages", "villages/villages.gpkg", "villages", "Polygon", "village_id",
    (
        Column("village_id"), Column("name"), Column("town"),
        Column("poor", "bool", required=False),
        Column("households", "int", required=False, min=0, max=100_000),
        Column("fiber", "bool", required=False),
    ),
)
GROUPS = Layer(
    "groups", "villages/villages.gpkg", "groups", "Polygon", "group_id",
    (
        Column("group_id"), Column("village_id"), Column("name"),
        Column("households", "int", min=0, max=5_000),
        Column("population", "int", required=False, min=0, max=50_000),
    ),
)
POINTS = Layer(
    "points", "villages/villages.gpkg", "points", "Point", "point_id",
    (
        Column("point_id"), Column("village_id"),
        Column("kind", choices=POINT_KINDS),
        Column("group_id", required=False),
        Column("name", required=False),
    ),
)
HOUSEHOLDS = Layer(
    "households", "villages/villages.gpkg", "households", "Point", None,
    (Column("group_id"), Column("households", "int", min=1, max=5_000)),
    optional=True,
)
SITES = Layer(
    "sites", "sites/sites.csv", None, "Point", "site_id",
    (
        Column("site_id"),
        Column("operator", choices=OPERATORS),
        Column("lon", "float", min=-180, max=180, unit="degrees"),
        Column("lat", "float", min=-90, max=90, unit="degrees"),
        Column("height_m", "float", min=1, max=150, unit="m above ground"),
        Column("band"),
        Column("tower_id", required=False),
        Column("azimuths_deg", "azimuths", required=False, unit="degrees from north"),
        Column("tilt_deg", "float", required=False, min=-10, max=30, unit="degrees down"),
        Column("power_dbm", "float", required=False, min=0, max=60, unit="dBm per port"),
        Column("gain_dbi", "float", required=False, min=-5, max=25, unit="dBi"),
        Column("status", required=False, choices=SITE_STATUSES),
        Column("on_air_date", "date", required=False),
        Column("backhaul", required=False, choices=BACKHAUL_KINDS),
    ),
)
CANDIDATES = Layer(
    "candidates", "sites/candidates.csv", None, "Point", "candidate_id",
    (
        Column("candidate_id"),
        Column("lon", "float", min=-180, max=180, unit="degrees"),
        Column("lat", "float", min=-90, max=90, unit="degrees"),
        Column("height_m", "float", required=False, min=1, max=150, unit="m above ground"),
        Column("kind", required=False, choices=CANDIDATE_KINDS),
        Column("cost", "float", required=False, min=0, max=10_000, unit="万元 (10k CNY)"),
    ),
    optional=True,
)
GRID_WORKS = Layer(
    "grid", "works/works.gpkg", "grid", None, "work_id",
    (
        Column("work_id"), Column("village_id"), Column("category"), Column("owner"),
        Column("status", choices=WORK_STATUSES),
        Column("investment_wan", "float", min=0, max=100_000, unit="万元"),
        Column("due", "date", required=False), Column("done", "date", required=False),
        Column("kva_after", "float", required=False, min=0, max=100_000, unit="kVA"),
        Column("transformer_id", required=False),
    ),
    optional=True,
)
MOBILE_WORKS = Layer(
    "mobile", "works/works.gpkg", "mobile", None, "work_id",
    (
        Column("work_id"), Column("village_id"),
        Column("operator", choices=OPERATORS),
        Column("category"),
        Column("status", choices=WORK_STATUSES),
        Column("investment_wan", "float", min=0, max=100_000, unit="万元"),
        Column("site_id", required=False),
        Column("due", "date", required=False), Column("done", "date", required=False),
    ),
    optional=True,
)
TRANSFORMERS = Layer(
    "transformers", "works/works.gpkg", "transformers", None, "transformer_id",
    (
        Column("transformer_id"), Column("village_id"),
        Column("kva", "float", min=0, max=100_000, unit="kVA"),
        Column("households", "int", min=0, max=10_000),
    ),
    optional=True,
)
HAZARDS = Layer(
    "hazards", "works/works.gpkg", "hazards", None, "hazard_id",
    (
        Column("hazard_id"), Column("village_id"),
        Column("found", "date"),
        Column("fixed", "bool"),
        Column("category", required=False),
        Column("fixed_on", "date", required=False),
    ),
    optional=True,
)
CLAIMS = Layer(
    "claims", "sites/claims.csv", None, None, "claim_id",
    (
        Column("claim_id"),
        Column("operator", choices=OPERATORS),
        Column("site_id", required=False),
        Column("tower_id", required=False),
        Column("candidate_id", required=False),
        Column("lon", "float", required=False, min=-180, max=180, unit="degrees"),
        Column("lat", "float", required=False, min=-90, max=90, unit="degrees"),
        Column("band", required=False),
        Column("claimed_on", "date"),
        Column("due", "date"),
        Column("status", choices=CLAIM_STATUSES),
        Column("started_on", "date", required=False),
        Column("on_air_date", "date", required=False),
        Column("village_id", required=False),
        Column("note", required=False),
    ),
    optional=True,
)
MEASUREMENTS = Layer(
    "measurements", "measurements/measurements.csv", None, "Point", None,
    (
        Column("lon", "float", min=-180, max=180, unit="degrees"),
        Column("lat", "float", min=-90, max=90, unit="degrees"),
        Column("operator", choices=OPERATORS),
        Column("rsrp_dbm", "float", min=-150, max=-30, unit="dBm"),
        Column("date", "date"),
        Column("sinr_db", "float", required=False, min=-30, max=50, unit="dB"),
        Column("tester", required=False),
        Column("point_id", required=False),
    ),
    optional=True,
)

DEM_PATH = "terrain/dem.tif"
"""Default DEM path relative to the data folder."""

LAYERS: tuple[Layer, ...] = (
    VILLAGES, GROUPS, POINTS, HOUSEHOLDS, SITES, CANDIDATES,
    GRID_WORKS, MOBILE_WORKS, TRANSFORMERS, HAZARDS, MEASUREMENTS, CLAIMS,
)
LAYERS_BY_KEY: dict[str, Layer] = {layer.key: layer for layer in LAYERS}
