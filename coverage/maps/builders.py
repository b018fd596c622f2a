"""The maps' builders: folium maps and the run's pages (see :mod:`coverage.maps`).

This module imports folium; :mod:`coverage.maps` loads it on the first use of one of its
names, so that a process that only needs the light names (:class:`Provenance`,
:class:`Basemap`, :data:`PAGES`) never pays for folium and its templates.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd

from coverage.io.assets import asset_links
from coverage.maps import PAGES
from coverage.maps.basemaps import Basemap
from coverage.maps.core import MapFrame, MapSpec, Provenance
from coverage.maps.index import index_page
from coverage.maps.render import build_map, deterministic_ids, render
from coverage.maps.specs import grid_spec, inputs_spec, mobile_spec, readiness_spec

if TYPE_CHECKING:
    from coverage.assess import Assessment
    from coverage.readiness import Readiness
    from coverage.signal import CoverageResult, Signal, SignalGrids
    from coverage.study import Study

MAX_RASTER_PX = 1500
"""Longest side of an RSRP overlay (pixels); keeps each map small and quick to open."""
SIMPLIFY_M = 20.0
"""Polygon simplification tolerance (working-CRS metres)."""


def map_frame(basemap: Basemap | None = None, simplify_m: float = SIMPLIFY_M) -> MapFrame:
    """The coordinate frame for maps on ``basemap`` (GCJ-02 for AutoNavi, else WGS84)."""
    return MapFrame(datum=(basemap or Basemap()).datum, simplify_m=simplify_m)


def _finish(spec: MapSpec, provenance: Provenance, basemap: Basemap | None,
            offline_assets: str | None) -> folium.Map:
    return build_map(spec, provenance, basemap, asset_links(offline_assets, spec.language))


def mobile_map(study: Study, signal: Signal | None, assessment: Assessment,
               provenance: Provenance, *,
               plan: gpd.GeoDataFrame | None = None, backhaul: gpd.GeoDataFrame | None = None,
               offline_assets: str | None = None, basemap: Basemap | None = None,
               max_px: int = MAX_RASTER_PX, measurements: gpd.GeoDataFrame | None = None,
               after_signal: SignalGrids | CoverageResult | None = None,
               committed_serving: pd.DataFrame | None = None) -> folium.Map:
    """The mobile-work map (``maps/mobile.html``).

    Parameters
    ----------
    study : Study
    signal : SignalGrids or None
        Best-server RSRP per operator (dBm); None leaves out the coverage overlays.
    assessment : Assessment
    provenance : Provenance
    plan : GeoDataFrame, optional
        Chosen sites (Point), e.g. ``plan_layers(plan, study)["chosen_sites"]``: an id
        (``site_id``, ``tower_id`` or ``candidate_id``), ``operators`` (";"-joined or a
        sequence, claiming operator first) or ``operator``, ``cost_wan``; optional kind or
        source, bands, height_m, households_new, backhaul status and finding.
    backhaul : GeoDataFrame, optional
        Backhaul links (LineString), e.g. ``plan_layers(plan, study)["backhaul_links"]``:
        ``from_id``/``to_id`` (or from/to), ``kind`` (fiber/microwave; else taken from
        ``new``), ``length_km``, ``clearance_ratio``.
    offline_assets : str, optional
        Folder (relative to the HTML) holding the scripts; None uses the CDN.
    basemap : Basemap, optional
        OpenStreetMap by default.
    max_px : int
        Longest side of each RSRP overlay in pixels.
    measurements : GeoDataFrame, optional
        Field measurements compared with the prediction,
        :meth:`coverage.evidence.compare.Comparison.error_layer` (points, working CRS): adds one
        layer per operator coloured by ``error_db`` (predicted − measured, dB) and a grey
        layer of the measurements not compared, with the reason. Off on opening.
    after_signal : SignalGrids or CoverageResult, optional
        Best-server RSRP per operator once the plan is built (dBm), on the study grid:
        adds the "any operator after the plan" overlay (off on opening).
    committed_serving : DataFrame, optional
        The sites serving each group once the claimed, planned and building sites are on
        air (:func:`coverage.assess.group_serving_sites` of the committed network): the
        popup of a group not covered today names the pending site that will cover it
        (:func:`coverage.maps.layers.claimed_cover`).

    Returns
    -------
    folium.Map
        Without ``measurements`` and ``after_signal`` the page is the same, byte for byte,
        as before they existed.
    """
    frame = map_frame(basemap)
    with deterministic_ids():
        spec = mobile_spec(study, signal, assessment, frame, plan, backhaul, max_px,
                           measurements=measurements, after_signal=after_signal,
                           committed_serving=committed_serving)
        return _finish(spec, provenance, basemap, offline_assets)


def grid_map(study: Study, provenance: Provenance, offline_assets: str | None = None,
             basemap: Basemap | None = None) -> folium.Map:
    """The grid (power) work map (``maps/grid.html``): works, transformers, hazards."""
    frame = map_frame(basemap)
    with deterministic_ids():
        return _finish(grid_spec(study, frame), provenance, basemap, offline_assets)


def readiness_map(study: Study, readiness: Readiness, provenance: Provenance, *,
                  offline_assets: str | None = None, basemap: Basemap | None = None
                  ) -> folium.Map:
    """The readiness map (``maps/readiness.html``): verdicts, findings, village search."""
    frame = map_frame(basemap)
    with deterministic_ids():
        return _finish(readiness_spec(study, readiness, frame), provenance, basemap,
                       offline_assets)


def inputs_map(study: Study, provenance: Provenance, offline_assets: str | None = None,
               basemap: Basemap | None = None) -> folium.Map:
    """The first map of a run: every input layer, to check the data by eye."""
    frame = map_frame(basemap)
    with deterministic_ids():
        return _finish(inputs_spec(study, frame), provenance, basemap, offline_assets)




def build_pages(study: Study, signal: Signal | None, assessment: Assessment,
                readiness: Readiness,
                provenance: Provenance, *, plan: gpd.GeoDataFrame | None = None,
                backhaul: gpd.GeoDataFrame | None = None, offline_assets: str | None = None,
                basemap: Basemap | None = None, links: Mapping[str, str] | None = None,
                measurements: gpd.GeoDataFrame | None = None,
                after_signal: SignalGrids | CoverageResult | None = None,
                plan_html: str | None = None,
                committed_serving: pd.DataFrame | None = None,
                only: Collection[str] | None = None,
                ) -> dict[str, str | bytes]:
    """Every map page of a run, as file name → content (nothing is written here).

    ``measurements``, ``after_signal`` and ``committed_serving`` go to :func:`mobile_map`
    (see there);
    ``plan_html`` (the 建设方案 section) to :func:`index_page`. ``only`` builds just those
    of the pages below (``index.html`` and ``overview.png`` come together); each page is
    the same as when all are built.

    Returns
    -------
    dict
        ``inputs.html``, ``mobile.html``, ``grid.html``, ``readiness.html``,
        ``index.html`` (str, UTF-8 HTML) and ``overview.png`` (bytes). With
        ``offline_assets="assets"`` the caller also copies the assets into
        ``assets/`` beside them (:func:`coverage.io.assets.asset_files`).
    """
    from coverage.maps.overview import overview_png
    from coverage.output.report import headline

    wanted = set(PAGES if only is None else only)
    pages: dict[str, str | bytes] = {}
    if "inputs.html" in wanted:
        pages["inputs.html"] = render(inputs_map(study, provenance, offline_assets, basemap))
    if "mobile.html" in wanted:
        pages["mobile.html"] = render(mobile_map(
            study, signal, assessment, provenance, plan=plan, backhaul=backhaul,
            offline_assets=offline_assets, basemap=basemap, measurements=measurements,
            after_signal=after_signal, committed_serving=committed_serving))
    if "grid.html" in wanted:
        pages["grid.html"] = render(grid_map(study, provenance, offline_assets, basemap))
    if "readiness.html" in wanted:
        pages["readiness.html"] = render(readiness_map(study, readiness, provenance,
                                                       offline_assets=offline_assets,
                                                       basemap=basemap))
    if not wanted & {"overview.png", "index.html"}:
        return pages
    png = overview_png(study, signal, assessment, readiness)
    pages["overview.png"] = png
    pages["index.html"] = index_page(study.config,
                                     headline(study, assessment, readiness),
                                     provenance, links, png, plan_html=plan_html)
    return pages


# the names coverage.maps takes from here on first use (its _LAZY); the package lists the rest
__all__ = [
    "MAX_RASTER_PX",
    "build_pages",
    "grid_map",
    "index_page",
    "inputs_map",
    "map_frame",
    "mobile_map",
    "readiness_map",
    "render",
]
