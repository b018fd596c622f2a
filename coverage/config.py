"""Configuration: one pydantic model, loaded from ``coverage.toml``; unknown keys are errors.

Every number carries its unit in its name. :func:`load_config` turns every
validation failure into one :class:`~coverage.errors.ConfigError` listing each problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coverage.errors import ConfigError


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class BandProfile(StrictModel):
    """Radio defaults for one operator band (a site's own columns override them)."""

    frequency_mhz: float = Field(gt=30, le=6000, description="downlink centre frequency (MHz)")
    bandwidth_mhz: float = Field(gt=0, le=100, description="carrier bandwidth (MHz)")
    duplex: Literal["FDD", "TDD"] = "FDD"
    port_power_dbm: float = Field(43.0, ge=0, le=60, description="power per antenna port (dBm)")
    rs_boost_db: float = Field(3.0, ge=0, le=6, description="reference-signal power boost (dB)")
    antenna_gain_dbi: float = Field(17.0, ge=-5, le=25, description="sector antenna gain (dBi)")
    omni_gain_dbi: float = Field(11.0, ge=-5, le=20, description="omni antenna gain (dBi)")
    feeder_loss_db: float = Field(2.0, ge=0, le=20, description="feeder and connector loss (dB)")
    h_beamwidth_deg: float = Field(65.0, gt=0, le=360, description="horizontal 3 dB beamwidth")
    v_beamwidth_deg: float = Field(7.0, gt=0, le=90, description="vertical 3 dB beamwidth")
    electrical_tilt_deg: float = Field(3.0, ge=-10, le=20, description="electrical downtilt")
    front_to_back_db: float = Field(25.0, ge=0, le=60, description="3GPP Am (dB)")
    side_lobe_v_db: float = Field(20.0, ge=0, le=60, description="3GPP SLAv (dB)")
    microwave_hop_km: float = Field(15.0, ge=0, le=100, description="max backhaul hop (km)")


class OperatorProfile(StrictModel):
    """One operator: display names, map colour and band profiles keyed by band name."""

    name_zh: str
    name_en: str
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    bands: dict[str, BandProfile]


def _default_operators() -> dict[str, OperatorProfile]:
    return {
        "CMCC": OperatorProfile(
            name_zh="中国移动", name_en="China Mobile", color="#0085d0",
            bands={
                "FDD900": BandProfile(frequency_mhz=947.5, bandwidth_mhz=10, duplex="FDD"),
                "TDD1900": BandProfile(frequency_mhz=1900.0, bandwidth_mhz=20, duplex="TDD"),
                "TDD2600": BandProfile(frequency_mhz=2605.0, bandwidth_mhz=20, duplex="TDD"),
            },
        ),
        "CT": OperatorProfile(
            name_zh="中国电信", name_en="China Telecom", color="#2e7d32",
            bands={"FDD800": BandProfile(frequency_mhz=875.0, bandwidth_mhz=10, duplex="FDD")},
        ),
        "CU": OperatorProfile(
            name_zh="中国联通", name_en="China Unicom", color="#e60012",
            bands={
                "FDD900": BandProfile(frequency_mhz=957.5, bandwidth_mhz=5, duplex="FDD"),
                "FDD1800": BandProfile(frequency_mhz=1850.0, bandwidth_mhz=20, duplex="FDD"),
            },
        ),
    }


class CoverageRule(StrictModel):
    """When a place counts as covered."""

    profile: Literal["standard", "lenient"] = "standard"
    standard_rsrp_dbm: float = Field(-105.0, ge=-140, le=-60)
    lenient_rsrp_dbm: float = Field(-110.0, ge=-140, le=-60)
    receiver_height_m: float = Field(1.5, gt=0, le=30)
    body_loss_db: float = Field(0.0, ge=0, le=20)
    location_reliability: float | None = Field(
        None, gt=0.5, lt=1.0, description="e.g. 0.9 adds a 1.2816 σ margin (10.3 dB at σ 8 dB)"
    )
    shadowing_sigma_db: float = Field(8.0, ge=0, le=20)
    group_share: float = Field(0.95, gt=0, le=1, description="household share a group needs")
    min_required_households: int = Field(20, ge=0, description="smaller groups: not required")

    @property
    def threshold_dbm(self) -> float:
        """The RSRP threshold in force (dBm)."""
        return self.standard_rsrp_dbm if self.profile == "standard" else self.lenient_rsrp_dbm


class ModelSettings(StrictModel):
    """Propagation model and the working grid."""

    name: Literal["p1812", "free_space", "hata"] = "p1812"
    radius_km: float = Field(15.0, gt=0, le=200)
    resolution_m: float = Field(30.0, ge=5, le=1000)
    crs: str = Field("auto", description="'auto' (local UTM) or any CRS pyproj understands")
    delta_n: float = Field(39.25, ge=0, le=200, description="ΔN (N-units/km); 39.25 gives k = 4/3")
    n0: float = Field(325.0, ge=200, le=450, description="sea-level surface refractivity")
    time_percent: float = Field(50.0, ge=1, le=50)
    location_percent: float = Field(50.0, ge=1, le=99)
    clutter_height_m: float = Field(0.0, ge=0, le=50, description="representative clutter (m)")
    hata_environment: Literal["urban", "suburban", "open"] = "open"
    fill_voids: bool = Field(
        False, description="interpolate DEM voids under households instead of refusing")
    max_in_memory_cells: int = Field(
        40_000_000, ge=1,
        description="larger working grids are resampled strip-wise into a file and "
                    "predicted tile by tile (a province at 30 m)")


class PlanningSettings(StrictModel):
    """Site selection and operator claims."""

    mode: Literal["cover_all", "budget"] = "cover_all"
    budget_wan: float | None = Field(None, ge=0)
    max_new_sites: int | None = Field(None, ge=0)
    required_operators: int = Field(1, ge=1, le=3)
    new_tower_cost_wan: float = Field(60.0, ge=0)
    tenant_cost_wan: float = Field(25.0, ge=0, description="equipment per operator per site")
    two_tenant_discount: float = Field(0.30, ge=0, lt=1)
    three_tenant_discount: float = Field(0.40, ge=0, lt=1)
    candidate_height_m: float = Field(35.0, ge=5, le=100)
    hill_search_km: float = Field(5.0, ge=0, le=50)
    hill_spacing_m: float = Field(1500.0, ge=100)
    max_slope_deg: float = Field(30.0, ge=0, le=80)
    quotas_min: dict[str, int] = Field(default_factory=dict)
    quotas_max: dict[str, int] = Field(default_factory=dict)
    time_limit_s: float = Field(60.0, gt=0)
    mip_gap: float = Field(0.0, ge=0, le=0.2)
    enabled: bool = Field(True, description="plan new sites inside `run`")
    due_date: dt.date | None = Field(
        None, description="on-air date of planned sites; None = the inspection date")


class ReadinessSettings(StrictModel):
    """Acceptance rules per administrative village."""

    inspection_date: dt.date = dt.date(2020, 10, 31)
    as_of: dt.date | None = Field(
        None, description="the day the readiness is judged on (overdue items are due before "
        "it and not done); None = today")
    rules: list[str] = Field(
        default_factory=lambda: [
            "test_points_covered", "groups_covered", "transformer_capacity",
            "grid_works_done", "no_open_hazards", "fiber", "mobile_works_done",
        ]
    )
    operators_required: int = Field(1, ge=1, le=3)
    universal_service_rule: bool = False
    universal_service_radius_km: float = Field(5.0, gt=0)
    kva_per_household_min: float = Field(2.0, ge=0)
    kva_rule: Literal["village_average", "per_transformer"] = Field(
        "village_average", description="户均配变容量 of the whole village (total kVA / "
        "households), or every single transformer")
    measurement_max_age_days: int = Field(365, ge=0)
    measurement_margin_db: float = Field(
        12.0, ge=0, description="warn where measured and predicted differ by more (dB)")
    measurement_radius_m: float = Field(
        200.0, ge=0, description="how far a measurement speaks for nearby households (m)")


class ComputeSettings(StrictModel):
    """How a run uses the machine (never changes a result)."""

    threads: int = Field(
        0, ge=0, le=1024, description="sites predicted side by side (and threads of a one-site "
        "sweep); 0 = every CPU this process may run on")


class LayerInputs(StrictModel):
    """How one input layer's file is to be read (``[inputs.<layer>]``)."""

    coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = Field(
        "wgs84", description="datum of lon/lat: gcj02 = Gaode/Tencent maps, bd09 = Baidu maps")
    sheet: str | None = Field(None, description="the Excel sheet to read (default: the only "
                              "sheet, or the one named after the layer)")


INPUT_LAYERS: tuple[str, ...] = (
    "villages", "groups", "points", "households", "sites", "candidates", "grid", "mobile",
    "transformers", "hazards", "measurements", "claims")
"""Layer keys allowed under ``[inputs]`` (those of :mod:`coverage.schema`)."""


class Config(StrictModel):
    """The whole configuration of one run."""

    language: Literal["zh", "en"] = "zh"
    county_name: str = "示范县"
    model: ModelSettings = Field(default_factory=ModelSettings)
    rule: CoverageRule = Field(default_factory=CoverageRule)
    operators: dict[str, OperatorProfile] = Field(default_factory=_default_operators)
    planning: PlanningSettings = Field(default_factory=PlanningSettings)
    readiness: ReadinessSettings = Field(default_factory=ReadinessSettings)
    calibrate: bool = False
    inputs: dict[str, LayerInputs] = Field(default_factory=dict)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)

    @model_validator(mode="after")
    def _check_operators(self) -> Config:
        for layer in self.inputs:
            if layer not in INPUT_LAYERS:
                raise ValueError(f"inputs.{layer}: unknown layer; known: {', '.join(INPUT_LAYERS)}")
        known = set(self.operators)
        for name, quotas in (("quotas_min", self.planning.quotas_min),
                             ("quotas_max", self.planning.quotas_max)):
            for op in quotas:
                if op not in known:
                    raise ValueError(f"planning.{name} names unknown operator {op!r}; "
                                     f"known: {sorted(known)}")
        return self

    def band(self, operator: str, band: str) -> BandProfile:
        """The profile of ``band`` of ``operator`` (KeyError when unknown)."""
        return self.operators[operator].bands[band]

    def config_hash(self) -> str:
        """SHA-256 (first 16 hex digits) of the canonical JSON of this configuration."""
        dump = self.model_dump(mode="json")
        # settings added later leave the hash of configurations that do not use them as it was
        if not dump["inputs"]:
            del dump["inputs"]
        if not dump["model"]["fill_voids"]:
            del dump["model"]["fill_voids"]
        del dump["compute"]  # how the machine is used changes no result
        blob = json.dumps(dump, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def load_config(path: str | Path | None) -> Config:
    """Load and validate a configuration file.

    Parameters
    ----------
    path : str, Path or None
        A TOML file; None gives the defaults.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or any key is unknown or out of range;
        the message lists every problem with its key path and what to do.
    """
    if path is None:
        return Config()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found. Fix: pass --config with an existing "
                          "file, or copy coverage.toml from the project root.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax "
                          "at the line shown.") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            if err["type"] == "extra_forbidden":
                msg = "unknown key; Fix: remove it or check its spelling against coverage.toml"
            else:
                msg = f"{err['msg']}; Fix: give a valid value"
            value = err.get("input")
            shown = "" if isinstance(value, dict) else f" (value: {value!r})"
            lines.append(f"{path}: {where}{shown}: {msg}")
        raise ConfigError(f"{len(lines)} problem(s) in the configuration:\n" + "\n".join(lines)
                          ) from None
