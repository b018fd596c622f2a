"""Interactive maps (folium + branca), built from result objects only.

This is the only module that imports folium. Every user string shown in a popup or
tooltip is HTML-escaped here. Element ids are deterministic, so the same inputs give
byte-identical HTML.
"""

from __future__ import annotations

import contextlib
import html
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import branca.element
import folium
import geopandas as gpd
from folium.plugins import Fullscreen, MeasureControl

from coverage.study import Study

WGS84 = "EPSG:4326"

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "villages": "行政村边界", "groups": "村民组", "points": "测试点", "sites": "现网基站",
        "candidates": "候选站址", "hazards": "线路隐患", "transformers": "台区变压器",
        "village": "行政村", "town": "乡镇", "group": "村民组", "households": "户数",
        "kind": "类型", "operator": "运营商", "band": "频段", "height": "挂高(米)",
        "tower": "铁塔", "shared": "共享铁塔", "azimuths": "方位角", "status": "状态",
        "fixed": "已整改", "open": "未整改", "kva": "容量(kVA)", "kva_per_hh": "户均容量(kVA/户)",
        "generated": "生成于", "data": "数据", "config": "配置哈希", "version": "版本",
        "crs": "工作坐标系", "title_inputs": "输入数据总览", "cost": "造价(万元)",
        "committee": "村委会", "school": "学校", "clinic": "卫生室", "settlement": "自然村/居民点",
    },
    "en": {
        "villages": "Administrative villages", "groups": "Village groups", "points": "Test points",
        "sites": "Existing sites", "candidates": "Candidate sites", "hazards": "Power-line hazards",
        "transformers": "Transformers", "village": "Village", "town": "Town", "group": "Group",
        "households": "Households", "kind": "Kind", "operator": "Operator", "band": "Band",
        "height": "Height (m)", "tower": "Tower", "shared": "Shared tower", "azimuths": "Azimuths",
        "status": "Status", "fixed": "fixed", "open": "open", "kva": "Capacity (kVA)",
        "kva_per_hh": "kVA per household", "generated": "Generated", "data": "Data",
        "config": "Config hash", "version": "Version", "crs": "Working CRS",
        "title_inputs": "Input overview", "cost": "Cost (10k CNY)",
        "committee": "Village committee", "school": "School", "clinic": "Clinic",
        "settlement": "Settlement",
    },
}

POINT_COLORS = {"committee": "#6a1b9a", "school": "#f9a825", "clinic": "#00897b",
                "settlement": "#5d4037"}


@dataclass(frozen=True)
class Provenance:
    """What every output records: version, config hash, working CRS, data folder, date."""

    version: str
    config_hash: str
    crs: str
    data: str
    generated: str

    def as_dict(self) -> dict[str, str]:
        """Key/value form for file metadata."""
        return {"version": self.version, "config_hash": self.config_hash, "crs": self.crs,
                "data": self.data, "generated": self.generated}


@contextlib.contextmanager
def deterministic_ids() -> Iterator[None]:
    """Give branca/folium elements sequential ids while building one map."""
    counter = itertools.count()
    original = branca.element.Element.__dict__["_generate_id"]
    branca.element.Element._generate_id = classmethod(  # type: ignore[method-assign]
        lambda cls: f"{next(counter):012x}")
    try:
        yield
    finally:
        branca.element.Element._generate_id = original  # type: ignore[method-assign]


def esc(value: object) -> str:
    """HTML-escape any value for a popup or tooltip (None and NaN become an empty string)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return html.escape(str(value), quote=True)


def popup_table(rows: Mapping[str, object]) -> str:
    """A small two-column HTML table; labels and values are escaped."""
    cells = "".join(f"<tr><th style='text-align:left;padding-right:6px'>{esc(k)}</th>"
                    f"<td>{esc(v)}</td></tr>" for k, v in rows.items())
    return f"<table>{cells}</table>"


def base_map(study: Study, provenance: Provenance, title: str) -> folium.Map:
    """A map fitted to the villages, with basemaps, fullscreen, scale, measure and a note."""
    villages = study.villages.to_crs(WGS84)
    xmin, ymin, xmax, ymax = villages.total_bounds
    fmap = folium.Map(location=[(ymin + ymax) / 2, (xmin + xmax) / 2], zoom_start=10,
                      tiles=None, control_scale=True, prefer_canvas=True)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    Fullscreen().add_to(fmap)
    MeasureControl(primary_length_unit="kilometers").add_to(fmap)
    lab = LABELS[study.config.language]
    note = (f"<div style='position:fixed;bottom:8px;left:8px;z-index:9999;background:white;"
            f"padding:4px 8px;font-size:11px;border:1px solid #999'>"
            f"<b>{esc(title)}</b> · {esc(lab['generated'])} {esc(provenance.generated)} · "
            f"{esc(lab['data'])} {esc(provenance.data)} · {esc(lab['config'])} "
            f"{esc(provenance.config_hash)} · {esc(lab['version'])} {esc(provenance.version)} · "
            f"{esc(lab['crs'])} {esc(provenance.crs)}</div>")
    fmap.get_root().html.add_child(branca.element.Element(note))
    return fmap


def _polygons(frame: gpd.GeoDataFrame, fields: Mapping[str, str], tolerance_m: float,
              ) -> gpd.GeoDataFrame:
    """Simplify in the working CRS, keep ``fields`` (escaped strings), reproject to WGS84."""
    out = gpd.GeoDataFrame(
        {label: frame[col].map(esc) for col, label in fields.items()},
        geometry=frame.geometry.simplify(tolerance_m, preserve_topology=True),
        crs=frame.crs,
    )
    return out.to_crs(WGS84)


def add_villages(fmap: folium.Map, study: Study, show: bool = True) -> None:
    """Village boundaries with name and town tooltips."""
    lab = LABELS[study.config.language]
    frame = _polygons(study.villages, {"name": lab["village"], "town": lab["town"]}, 30.0)
    folium.GeoJson(
        frame, name=lab["villages"], show=show,
        style_function=lambda _f: {"color": "#333333", "weight": 1.2, "fillOpacity": 0.0},
        tooltip=folium.GeoJsonTooltip(fields=[lab["village"], lab["town"]]),
    ).add_to(fmap)


def add_groups(fmap: folium.Map, study: Study, show: bool = False) -> None:
    """Village-group polygons with name and households."""
    lab = LABELS[study.config.language]
    frame = _polygons(study.groups, {"name": lab["group"], "households": lab["households"]}, 30.0)
    folium.GeoJson(
        frame, name=lab["groups"], show=show,
        style_function=lambda _f: {"color": "#888888", "weight": 0.5, "fillOpacity": 0.05},
        tooltip=folium.GeoJsonTooltip(fields=[lab["group"], lab["households"]]),
    ).add_to(fmap)


def add_points(fmap: folium.Map, study: Study, show: bool = False) -> None:
    """Test points coloured by kind."""
    lab = LABELS[study.config.language]
    layer = folium.FeatureGroup(name=lab["points"], show=show)
    pts = study.points.to_crs(WGS84)
    for row in pts.itertuples():
        kind = str(row.kind)
        name = getattr(row, "name", "") or row.point_id
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x], radius=4, color=POINT_COLORS.get(kind, "#000"),
            fill=True, fill_opacity=0.9, weight=1,
            tooltip=f"{esc(lab.get(kind, kind))}: {esc(name)}",
        ).add_to(layer)
    layer.add_to(fmap)


def add_sites(fmap: folium.Map, study: Study, show: bool = True) -> None:
    """Existing sites, one layer per operator, shared towers outlined in black."""
    lab = LABELS[study.config.language]
    sites = study.sites.to_crs(WGS84)
    tenants = sites.groupby("tower_id")["operator"].nunique()
    for op, profile in study.config.operators.items():
        name = profile.name_zh if study.config.language == "zh" else profile.name_en
        layer = folium.FeatureGroup(name=f"{lab['sites']} · {name}", show=show)
        for row in sites[sites["operator"] == op].itertuples():
            shared = tenants.get(row.tower_id, 1) > 1
            azimuths = ";".join(f"{a:g}" for a in row.azimuths) or "omni"
            popup = popup_table({
                "site_id": row.site_id, lab["operator"]: name, lab["band"]: row.band,
                lab["height"]: f"{row.height_m:g}", lab["azimuths"]: azimuths,
                lab["tower"]: row.tower_id, lab["status"]: row.status,
            })
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x], radius=6 if shared else 5,
                color="#000000" if shared else profile.color, weight=2 if shared else 1,
                fill=True, fill_color=profile.color, fill_opacity=0.9,
                popup=folium.Popup(popup, max_width=320),
                tooltip=f"{esc(name)} {esc(row.site_id)}" + (f" ({esc(lab['shared'])})"
                                                            if shared else ""),
            ).add_to(layer)
        layer.add_to(fmap)


def add_candidates(fmap: folium.Map, study: Study, show: bool = False) -> None:
    """User-listed candidate tower locations."""
    if study.candidates is None or study.candidates.empty:
        return
    lab = LABELS[study.config.language]
    layer = folium.FeatureGroup(name=lab["candidates"], show=show)
    for row in study.candidates.to_crs(WGS84).itertuples():
        cost = getattr(row, "cost", None)
        folium.RegularPolygonMarker(
            [row.geometry.y, row.geometry.x], number_of_sides=3, radius=6, color="#555555",
            fill=True, fill_color="#ffffff", fill_opacity=0.8,
            tooltip=f"{esc(row.candidate_id)} {esc(getattr(row, 'kind', ''))} "
                    f"{esc(lab['cost'])}: {esc(cost)}",
        ).add_to(layer)
    layer.add_to(fmap)


def add_hazards(fmap: folium.Map, study: Study, show: bool = False) -> None:
    """Power-line hazards, open in red and fixed in grey (only those with a location)."""
    frame = study.hazards
    if frame is None or frame.empty or not isinstance(frame, gpd.GeoDataFrame):
        return
    lab = LABELS[study.config.language]
    layer = folium.FeatureGroup(name=lab["hazards"], show=show)
    for row in frame.to_crs(WGS84).itertuples():
        if row.geometry is None or row.geometry.is_empty:
            continue
        fixed = bool(row.fixed)
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x], radius=5, color="#777777" if fixed else "#d32f2f",
            fill=True, fill_opacity=0.9,
            tooltip=f"{esc(row.hazard_id)}: {esc(lab['fixed'] if fixed else lab['open'])}",
        ).add_to(layer)
    layer.add_to(fmap)


def inputs_map(study: Study, provenance: Provenance) -> folium.Map:
    """The first map of a run: every input layer, to check the data by eye.

    Parameters
    ----------
    study : Study
        Loaded and validated inputs.
    provenance : Provenance
        Version, config hash, CRS, data folder and date shown on the map.

    Returns
    -------
    folium.Map
    """
    lab = LABELS[study.config.language]
    with deterministic_ids():
        fmap = base_map(study, provenance, lab["title_inputs"])
        add_villages(fmap, study)
        add_groups(fmap, study)
        add_points(fmap, study)
        add_sites(fmap, study)
        add_candidates(fmap, study)
        add_hazards(fmap, study)
        folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def render(fmap: folium.Map) -> str:
    """The map's standalone HTML, with deterministic element ids."""
    with deterministic_ids():
        return fmap.get_root().render()


__all__ = ["Provenance", "esc", "inputs_map", "popup_table", "render"]
