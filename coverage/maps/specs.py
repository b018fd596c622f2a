"""What each map page shows, as a :class:`~coverage.maps.core.MapSpec` (no folium here).

* :func:`mobile_spec` — RSRP overlays (today, and for any operator after the plan), sites
  and wedges, shared towers, groups by status, test points, field measurements coloured
  by prediction error, chosen sites with claims and cost, backhaul links, mobile works.
* :func:`grid_spec` — grid works by status, transformers by kVA per household, hazards,
  village boundaries.
* :func:`readiness_spec` — villages by verdict with findings, and a search index.
* :func:`inputs_spec` — every input layer, to check the data by eye.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from coverage.assess import group_serving_sites
from coverage.maps import layers as lay
from coverage.maps.core import LegendSection, MapFrame, MapSpec, Popup
from coverage.maps.gridfacts import grid_facts
from coverage.maps.labels import labels
from coverage.maps.measurements import error_layers

if TYPE_CHECKING:
    from coverage.assess import Assessment
    from coverage.maps.core import ImageLayer, TableLayer, VectorLayer
    from coverage.readiness import Readiness
    from coverage.signal import CoverageResult, Signal, SignalGrids
    from coverage.study import Study

    Layer = VectorLayer | ImageLayer | TableLayer


def map_bounds(study: Study, frame: MapFrame
               ) -> tuple[tuple[float, float], tuple[float, float]]:
    """((south, west), (north, east)) of the villages in map coordinates."""
    vill = study.villages
    geoms = frame.lonlat(gpd.GeoSeries([vill.geometry.union_all().envelope], crs=vill.crs),
                         simplify=False)
    box = geoms[0]
    assert box is not None                  # the envelope of the villages
    xmin, ymin, xmax, ymax = box.bounds
    return ((ymin, xmin), (ymax, xmax))


def _add(spec: MapSpec, layer: Layer | Sequence[Layer] | None, legend: object) -> None:
    if layer is None:
        return
    if isinstance(layer, Sequence):
        spec.layers.extend(layer)
    else:
        spec.layers.append(layer)
    if isinstance(legend, list):
        spec.legend.extend(legend)
    elif isinstance(legend, LegendSection):
        spec.legend.append(legend)


def mobile_spec(study: Study, signal: Signal | None, assessment: Assessment, frame: MapFrame,
                plan: gpd.GeoDataFrame | None = None,
                backhaul: gpd.GeoDataFrame | None = None, max_px: int = 1500, *,
                measurements: gpd.GeoDataFrame | None = None,
                after_signal: SignalGrids | CoverageResult | None = None,
                committed_serving: pd.DataFrame | None = None) -> MapSpec:
    """The mobile-work map: coverage, sites, groups, test points, plan and mobile works.

    ``measurements`` (:meth:`coverage.evidence.compare.Comparison.error_layer`, working CRS) adds
    the prediction-error layers; ``after_signal`` (RSRP once the plan is built, same grid)
    adds the any-operator-after-the-plan overlay. Both layers are off on opening.
    ``committed_serving`` (the sites serving each group once the committed sites are on
    air) names, in the popup of a group not covered today, the claimed or building site
    that will cover it.
    """
    cfg = study.config
    lab = labels(cfg.language)
    spec = MapSpec(lab["title_mobile"], cfg.language, map_bounds(study, frame),
                   datum=frame.datum)
    if signal is not None or after_signal is not None:
        _add(spec, *lay.rsrp_layers(study, signal, frame, lab, cfg, max_px,
                                    after=after_signal))
    serving = group_serving_sites(study, signal) if signal is not None else None
    _add(spec, *lay.groups_layer(study, assessment, frame, lab, cfg, show=True,
                                 serving=serving, planned=lay.planned_cover(plan, cfg),
                                 claimed=lay.claimed_cover(study, assessment,
                                                           committed_serving)))
    _add(spec, lay.villages_layer(study, frame, lab, show=True), lay.villages_legend(lab))
    _add(spec, *lay.sites_layers(study, frame, lab, cfg, show=True))
    _add(spec, *lay.candidates_layer(study, frame, lab, show=False))
    _add(spec, *lay.plan_layer(plan, study, frame, lab, cfg, show=True))
    _add(spec, *lay.backhaul_layer(backhaul, study, frame, lab, show=True))
    _add(spec, *lay.points_layer(study, assessment, frame, lab, cfg, show=False))
    _add(spec, *error_layers(measurements, study, frame, lab, cfg, show=False))
    _add(spec, *lay.works_layers(study, study.mobile_works, "mobile", frame, lab,
                               cfg, show=False))
    return spec


def grid_spec(study: Study, frame: MapFrame) -> MapSpec:
    """The grid-work map: works by status, transformers, hazards, village boundaries."""
    cfg = study.config
    lab = labels(cfg.language)
    spec = MapSpec(lab["title_grid"], cfg.language, map_bounds(study, frame), datum=frame.datum)
    _add(spec, lay.villages_layer(study, frame, lab, show=True,
                                  facts=grid_facts(study, lab)), lay.villages_legend(lab))
    _add(spec, *lay.works_layers(study, study.grid_works, "grid", frame, lab, cfg,
                               show=True))
    _add(spec, *lay.transformers_layer(study, frame, lab, cfg, show=True))
    _add(spec, *lay.hazards_layers(study, frame, lab, show=True))
    return spec


def readiness_spec(study: Study, readiness: Readiness, frame: MapFrame) -> MapSpec:
    """The readiness map: villages by verdict, findings in popups, a search index."""
    cfg = study.config
    lab = labels(cfg.language)
    spec = MapSpec(lab["title_readiness"], cfg.language, map_bounds(study, frame),
                   datum=frame.datum)
    layers, legend, search = lay.verdict_layers(study, readiness, frame, lab, show=True)
    _add(spec, layers, legend)
    spec.search = search
    return spec


def inputs_spec(study: Study, frame: MapFrame) -> MapSpec:
    """Every input layer on one map, to check the data by eye."""
    cfg = study.config
    lab = labels(cfg.language)
    spec = MapSpec(lab["title_inputs"], cfg.language, map_bounds(study, frame),
                   datum=frame.datum)
    _add(spec, lay.villages_layer(study, frame, lab, show=True), lay.villages_legend(lab))
    groups = study.groups
    layer = lay.VectorLayer("groups", lab["groups_plain"], show=False)
    names = lay.village_names(study)
    for geom, rec in zip(frame.lonlat(groups.geometry), lay._records(groups), strict=True):
        layer.add(geom, rec["group_id"], {"color": "#888888", "weight": 0.6,
                                          "fillColor": "#888888", "fillOpacity": 0.05},
                  popup=Popup(lay._text(rec.get("name")), (
                      (lab["village"], names.get(str(rec["village_id"]), "")),
                      (lab["households"], lay._text(rec.get("households"))))),
                  tooltip=lay.esc(lay._text(rec.get("name"))))
    _add(spec, layer, LegendSection(lab["groups_plain"], (
        lay.LegendItem(lab["group"], "#888888", outline="#888888"),), ("groups",)))
    _add(spec, *lay.sites_layers(study, frame, lab, cfg, show=True))
    _add(spec, *lay.candidates_layer(study, frame, lab, show=False))
    _add(spec, *lay.hazards_layers(study, frame, lab, show=False))
    return spec


__all__ = ["grid_spec", "inputs_spec", "map_bounds", "mobile_spec", "readiness_spec"]
