"""Turn a :class:`~coverage.maps.core.MapSpec` into a folium map, and a map into HTML.

The only module (with :mod:`coverage.maps`) that imports folium. All layers are drawn
by a few small Leaflet elements defined here: one ``L.geoJSON`` per layer (styles,
escaped popups and tooltips travel in the features; for thousands of points a compact
table whose popups are assembled in the browser), image overlays in their own pane
below the vectors, a legend whose sections follow the layers switched on, a village
search box (IME-safe, so Chinese input works), a provenance note, and a ready flag.
Scripts and style sheets come from the CDN or from a local folder (offline maps).

For speed (issue 17): a layer's filled polygons are drawn as one canvas multi-polygon
per style, the feature under the pointer found on click and hover; the data of the
layers off on opening follows the page's script, parsed after the first view is drawn.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
from collections.abc import Iterator, Sequence

import branca.element
import folium
from branca.element import MacroElement
from folium.map import FitBounds, Layer
from folium.template import Template

from coverage.io.assets import AssetLinks, asset_links
from coverage.maps.basemaps import BaseLayer, Basemap, base_layers
from coverage.maps.core import (
    ImageLayer,
    LegendSection,
    MapSpec,
    Provenance,
    TableLayer,
    VectorLayer,
    color,
    esc,
    js_json,
)
from coverage.maps.fallback import BasemapFallback, LoadGuard
from coverage.maps.labels import labels
from coverage.maps.tools import LateTools
from coverage.maps.wedges import WEDGES_JS, page_wedges

MERGE_MIN = 1
"""The filled polygons of a layer with at least this many (and no outline-only ones) are
drawn as one multi-polygon per style (``coverage.merge``), their features found under the
pointer; its markers and lines stay one Leaflet layer each."""

PANES = {"covRaster": 350}
"""Raster overlays get a pane below the vectors (overlayPane, 400), so that they never
hide them; all vectors share one canvas there (a second canvas pane would swallow the
clicks meant for the layers below it), kept in order by ``coverage.reorder``."""

CSS = """
<style>
.cov-table th{text-align:left;padding-right:8px;font-weight:600;vertical-align:top}
.cov-table td,.cov-grid td{vertical-align:top}
.cov-grid{border-collapse:collapse;margin-top:4px;font-size:11px}
.cov-grid th,.cov-grid td{border:1px solid #ccc;padding:1px 4px;text-align:left}
.cov-title{font-weight:700;font-size:13px;margin-bottom:3px}
.cov-sub{font-weight:600;margin-top:6px}
.cov-popup ul{margin:2px 0 2px 16px;padding:0}
.cov-icon{background:none;border:none}
.cov-raster{image-rendering:pixelated;image-rendering:crisp-edges}
.cov-legend{background:#fff;padding:6px 8px;font-size:12px;line-height:16px;max-height:40vh;
 overflow-y:auto;min-width:150px}
.leaflet-control-layers-expanded{max-height:calc(100vh - 30px);overflow-y:auto}
.cov-legend-title{font-weight:700;margin-bottom:2px;cursor:pointer;user-select:none}
.cov-legend-title::after{content:" ▾";font-weight:400}
.cov-legend.cov-folded .cov-legend-title::after{content:" ▸"}
.cov-legend.cov-folded .cov-legend-section{display:none!important}
.cov-legend-head{font-weight:600;margin-top:4px}
.cov-legend-item{display:flex;align-items:center;gap:6px}
.cov-swatch{display:inline-flex;width:18px;height:14px;align-items:center;justify-content:center}
.cov-note{background:rgba(255,255,255,.85);padding:2px 6px;font-size:11px;max-width:60vw}
.cov-search{background:#fff;padding:4px}
.cov-search input{width:190px;font-size:13px;padding:2px 4px}
.cov-search ul{list-style:none;margin:2px 0 0;padding:0;max-height:240px;overflow-y:auto}
.cov-search li{padding:2px 4px;cursor:pointer}
.cov-search li:hover,.cov-search li:focus{background:#e3f2fd}
.cov-search li.cov-none{color:#888;cursor:default}
</style>
"""

HELPERS_JS = """
(function () {
  var map = %(map)s;
  var cov = window.coverage = window.coverage || {};
  cov.map = map; cov.layers = cov.layers || {}; cov.bases = cov.bases || {};
  L.control.scale({imperial: false, maxWidth: 150}).addTo(map);
  %(panes)s.forEach(function (p) { map.createPane(p[0]); map.getPane(p[0]).style.zIndex = p[1]; });
  function star(h, r) {
    var pts = [];
    for (var i = 0; i < 10; i++) {
      var a = Math.PI / 5 * i - Math.PI / 2, rr = i %% 2 ? r * 0.45 : r;
      pts.push((h + rr * Math.cos(a)).toFixed(1) + ',' + (h + rr * Math.sin(a)).toFixed(1));
    }
    return '<polygon points="' + pts.join(' ') + '"/>';
  }
  cov.shapeSvg = function (shape, size, s) {
    var w = s.weight == null ? 1 : s.weight, h = size / 2, e = size - w, body;
    var fill = shape === 'ring' ? 'none' : (s.fillColor || s.color || '#3388ff');
    if (shape === 'square') body = '<rect x="' + w + '" y="' + w + '" width="' + (size - 2 * w) +
      '" height="' + (size - 2 * w) + '"/>';
    else if (shape === 'diamond') body = '<polygon points="' + h + ',' + w + ' ' + e + ',' + h +
      ' ' + h + ',' + e + ' ' + w + ',' + h + '"/>';
    else if (shape === 'triangle') body = '<polygon points="' + h + ',' + w + ' ' + e + ',' + e +
      ' ' + w + ',' + e + '"/>';
    else if (shape === 'star') body = star(h, h - w);
    else if (shape === 'line') body = '<line x1="0" y1="' + h + '" x2="' + size + '" y2="' + h +
      '"/>';
    else if (shape === 'fill') body = '<rect x="1" y="2" width="' + (size - 2) + '" height="' +
      (size - 4) + '"/>';
    else body = '<circle cx="' + h + '" cy="' + h + '" r="' + (h - w) + '"/>';
    var op = s.fillOpacity == null ? 1 : s.fillOpacity;
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + size + '" height="' + size +
      '" viewBox="0 0 ' + size + ' ' + size + '"><g fill="' + fill + '" fill-opacity="' + op +
      '" stroke="' + (s.color || '#000000') + '" stroke-width="' + w + '"' +
      (s.dashArray ? ' stroke-dasharray="' + s.dashArray + '"' : '') + '>' + body + '</g></svg>';
  };
  cov.style = function (f) { return f.properties.style; };
  cov.point = function (f, latlng) {
    var s = f.properties.style || {}, shape = f.properties.marker || 'circle';
    if (shape === 'circle') return L.circleMarker(latlng, s);
    var size = 2 * (s.radius || 6) + 4;
    return L.marker(latlng, {keyboard: false, icon: L.divIcon({
      html: cov.shapeSvg(shape, size, s), className: 'cov-icon', iconSize: [size, size],
      iconAnchor: [size / 2, size / 2], popupAnchor: [0, -size / 2]})});
  };
  // a popup stored as data (coverage.maps.core.Popup): indices into the layer's escaped
  // strings, joined into HTML only when the popup opens
  cov.recordPopup = function (s, c) {
    var h = c[0] >= 0 ? "<div class='cov-title'>" + s[c[0]] + "</div>" : "", i, j, r = "";
    for (i = 0; i < c[1].length; i += 2)
      r += "<tr><th>" + s[c[1][i]] + "</th><td>" + s[c[1][i + 1]] + "</td></tr>";
    h += "<table class='cov-table'>" + r + "</table>";
    if (c[2].length) {
      h += "<table class='cov-grid'><tr>";
      for (i = 0; i < c[2].length; i++) h += "<th>" + s[c[2][i]] + "</th>";
      h += "</tr>";
      for (i = 0; i < c[3].length; i++) {
        h += "<tr>";
        for (j = 0; j < c[3][i].length; j++) h += "<td>" + s[c[3][i][j]] + "</td>";
        h += "</tr>";
      }
      h += "</table>";
    }
    return h;
  };
  cov.popupOptions = {maxWidth: 460, minWidth: 180, maxHeight: 380, className: 'cov-popup'};
  // popups and tooltips are bound to a feature when first needed (hover, click, search),
  // not for every feature while the page opens
  cov.ensure = function (l) {
    if (!l || l._covBound || !l.feature) return l;
    l._covBound = true;
    var f = l.feature, p = f.properties;
    if (p.popup) l.bindPopup(p.popup, cov.popupOptions);
    else if (p.pk) l.bindPopup(function () { return cov.recordPopup(f.strings, p.pk); },
                               cov.popupOptions);
    if (p.tooltip) l.bindTooltip(p.tooltip, {sticky: !!l.getBounds && !l.getRadius});
    return l;
  };
  // a layer of many polygons (the village groups) is drawn as one multi-polygon per
  // style: Leaflet builds one object per feature, which costs more than drawing them.
  // A click or a hover finds the feature under the pointer (even-odd over its projected
  // rings, as the canvas draws them) and opens its popup or tooltip; cov.find returns a
  // Piece that answers like a feature's own layer (bounds, centre, popup)
  cov.Piece = L.Class.extend({
    initialize: function (f, polys, owner) {
      this.feature = f; this._polys = polys; this._owner = owner;
    },
    getBounds: function () {
      var b = L.latLngBounds([]);
      this._polys.forEach(function (p) { b.extend(p[0]); });
      return b;
    },
    getCenter: function () {
      return L.PolyUtil.polygonCenter(this._polys[0][0], this._owner._map.options.crs);
    },
    popupHtml: function () {
      var f = this.feature, p = f.properties;
      return p.popup || (p.pk ? cov.recordPopup(f.strings, p.pk) : "");
    },
    openPopup: function (latlng) {
      var html = this.popupHtml(), map = this._owner._map;
      if (!html || !map) return this;
      this._owner._covPopup.setLatLng(latlng || this.getCenter()).setContent(html).openOn(map);
      return this;
    },
    openTooltip: function (latlng) {
      var l = this._owner, text = this.feature.properties.tooltip;
      if (!l._map) return this;
      if (!l.getTooltip()) l.bindTooltip("", {sticky: true});
      if (!text) { l.closeTooltip(); return this; }
      if (l._covShown !== this) { l._covShown = this; l.setTooltipContent(text); }
      if (!l.isTooltipOpen()) l.openTooltip(latlng || this.getCenter());
      return this;
    }
  });
  function ringLatLngs(g) {
    var polys = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
    return polys.map(function (p) { return p.map(function (r) {
      return r.map(function (c) { return L.latLng(c[1], c[0]); }); }); });
  }
  cov.merge = function (group, data) {
    var by = {};
    data.features.forEach(function (f) {
      var si = f.properties.si == null ? -1 : f.properties.si;
      (by[si] = by[si] || []).push(f);
    });
    Object.keys(by).forEach(function (si) {
      var latlngs = [], owners = [], pieces = [], poly;
      by[si].forEach(function (f) {
        var polys = ringLatLngs(f.geometry), piece;
        if (!polys.length) return;
        piece = new cov.Piece(f, polys, null);
        pieces.push(piece);
        polys.forEach(function (p) {
          latlngs.push(p);
          p.forEach(function () { owners.push(pieces.length - 1); });
        });
      });
      // a sector wedge is a symbol with no popup: it lets clicks through to the groups
      poly = L.polygon(latlngs, L.extend({}, by[si][0].properties.style || {},
                                         by[si][0].properties.wedge ? {interactive: false} : {}));
      poly._covPieces = pieces; poly._covOwners = owners;
      poly._covPopup = L.popup(cov.popupOptions);
      pieces.forEach(function (piece) { piece._owner = poly; });
      group.addLayer(poly);
    });
  };
  cov.pieceAt = function (poly, pt) {
    // the projected rings follow the order of the latlngs (outer ring, holes, next
    // polygon); a feature holds the point when an odd number of its rings do
    var rings = poly._rings || [], owners = poly._covOwners, odd = {}, k;
    for (k = 0; k < rings.length; k++) {
      var r = rings[k], c = false, b = r.length ? r[0] : null;
      if (!b) continue;
      for (var i = 0, j = r.length - 1; i < r.length; j = i++) {
        if (((r[i].y > pt.y) !== (r[j].y > pt.y)) &&
            (pt.x < (r[j].x - r[i].x) * (pt.y - r[i].y) / (r[j].y - r[i].y) + r[i].x)) c = !c;
      }
      if (c) odd[owners[k]] = !odd[owners[k]];
    }
    for (k in odd) if (odd[k]) return poly._covPieces[k];
    return null;
  };
  cov.lazy = function (group) {
    group.on("mouseover mousemove", function (e) {
      var l = e.layer, piece = l && l._covPieces && cov.pieceAt(l, e.layerPoint);
      if (piece) piece.openTooltip(e.latlng);
      else if (l && l._covPieces && l.getTooltip()) l.closeTooltip();
    });
    group.on("click", function (e) {
      var l = e.layer;
      if (l && l._covPieces) {
        var piece = cov.pieceAt(l, e.layerPoint);
        if (piece && piece.popupHtml()) { L.DomEvent.stop(e); piece.openPopup(e.latlng); }
        return;
      }
      if (!l || l._covBound) return;  // bound: its own handler has opened the popup
      cov.ensure(l);
      if (l.getPopup()) { L.DomEvent.stop(e); l.openPopup(e.latlng); }
    });
    group.on("mouseover", function (e) {
      var l = e.layer;
      if (!l || l._covBound || l._covPieces) return;
      cov.ensure(l);
      if (l.getTooltip()) l.openTooltip(e.latlng);
    });
  };
  cov.bind = function (f, layer) {
    // an outline (village boundaries) answers clicks on its line only, never inside, so
    // the groups and sites beneath it keep their popups
    if (layer.options && layer.options.fill === false && layer.getBounds && !layer.getRadius)
      layer._containsPoint = function (pt) {
        return L.Polyline.prototype._containsPoint.call(this, pt, true);
      };
  };
  cov.feed = function (layer, id, now, merged) {
    function load() {
      var el = document.getElementById(id);
      if (!el) { cov.later(load); return; }
      // shared styles and popup strings are stored once per layer (VectorLayer.geojson)
      var data = JSON.parse(el.textContent), styles = data.styles || [], strings = data.strings;
      data.features.forEach(function (f) {
        var p = f.properties;
        if (p.si != null) p.style = styles[p.si];
        if (strings) f.strings = strings;
      });
      if (merged) {  // the polygons merged, the markers and lines one layer each above
        var wedges = [], polys = [], rest = [];
        data.features.forEach(function (f) {
          (f.properties.wedge ? wedges : /Polygon$/.test(f.geometry.type) ? polys : rest
          ).push(f); });
        cov.wedges(layer, wedges);  // canvas arcs (coverage.maps.wedges)
        cov.merge(layer, {features: polys});
        if (rest.length) layer.addData({type: "FeatureCollection", features: rest});
      } else layer.addData(data);
      el.parentNode.removeChild(el);
    }
    cov.lazy(layer);
    if (now) load(); else { layer.once("add", load); layer.load = load; }
  };
  // the data of a layer off on opening follows the page's script (coverage.maps.render
  // .render), so that the first view is built before it is parsed: a layer switched on
  // earlier is filled as soon as the page is parsed
  cov.later = function (fn) {
    if (document.readyState === "loading")
      document.addEventListener("DOMContentLoaded", function () { fn(); }, {once: true});
  };
  cov.imageLayer = function (id, bounds, options) {
    var overlay = L.imageOverlay("", bounds, options);
    function read() {
      var el = document.getElementById(id);
      if (!el) return null;
      var url = JSON.parse(el.textContent);
      el.parentNode.removeChild(el);
      return url;
    }
    overlay.beforeAdd = function () {
      if (this._url) return;
      var url = read();
      if (url) this._url = url;
      else cov.later(function () { var u = read(); if (u) overlay.setUrl(u); });
    };
    return overlay;
  };
  cov.rank = cov.rank || {};
  cov.reorder = function () {
    Object.keys(cov.rank).filter(function (k) { return cov.rank[k] > 0; })
      .sort(function (a, b) { return cov.rank[a] - cov.rank[b]; })
      .forEach(function (k) { if (map.hasLayer(cov.layers[k])) cov.layers[k].bringToFront(); });
  };
  map.on("overlayadd", cov.reorder);
  // the layer list opens expanded and its height is capped by the page CSS
  // (.leaflet-control-layers-expanded); Leaflet's own expand() measures the page to cap it,
  // which forces a full layout while the page is still being built
  L.Control.Layers.include({expand: function () {
    L.DomUtil.addClass(this._container, 'leaflet-control-layers-expanded');
    this._section.style.height = null;
    this._checkDisabledLayers();
    return this;
  }});
  cov.find = function (key, id) {
    var lyr = cov.layers[key], hit = null;
    if (lyr && lyr.load) lyr.load();  // a layer not yet shown: build it first
    if (lyr && lyr.eachLayer) lyr.eachLayer(function (l) {
      if (!hit && l.feature && l.feature.properties.id === id && !l.feature.properties.wedge)
        hit = l;
      if (!hit && l._covPieces) l._covPieces.forEach(function (piece) {
        var p = piece.feature.properties;
        if (!hit && p.id === id && !p.wedge) hit = piece;
      });
    });
    return hit instanceof cov.Piece ? hit : cov.ensure(hit);
  };
  cov.open = function (key, id) {
    var lyr = cov.layers[key];
    if (!lyr) return null;
    if (!map.hasLayer(lyr)) map.addLayer(lyr);
    var l = cov.find(key, id);
    if (!l) return null;
    if (l.getBounds) map.fitBounds(l.getBounds(), {maxZoom: 14, animate: false});
    else map.setView(l.getLatLng(), Math.max(map.getZoom(), 13), {animate: false});
    l.openPopup();
    if (cov.updateLegend) cov.updateLegend();
    return l;
  };
})();
"""


ZH_FONTS_CSS = """
<style>
.leaflet-container{font-family:"Microsoft YaHei","PingFang SC","Hiragino Sans GB",
 "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif}
</style>
"""
"""Chinese pages name Chinese fonts first (Leaflet's own list has none): the browser then
lays out the layer list and the legend without a font fallback search per line (issue
17, speed), and every label is drawn in one typeface."""


class Helpers(MacroElement):
    """Page CSS and the shared JavaScript helpers (panes, markers, popups, look-ups);
    ``language`` ``"zh"`` adds :data:`ZH_FONTS_CSS`."""

    _template = Template("""
        {% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
        {% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}
    """)

    def __init__(self, map_name: str, language: str = "en"):
        super().__init__()
        self._name = "CoverageHelpers"
        self.css = CSS + (ZH_FONTS_CSS if language == "zh" else "")
        self.js = HELPERS_JS % {"map": map_name,
                                "panes": js_json([[k, v] for k, v in PANES.items()])} + WEDGES_JS


class DataElement:
    """A layer whose data travels as JSON in a ``<script type="application/json">`` beside
    the page's script: in the page's body when the layer is on at opening (``eager``),
    else after the page's script (:func:`render` appends it), so that the browser builds
    and draws the first view before it parses the data of the layers switched off."""

    data: str
    eager: str

    def get_name(self) -> str:  # branca's Element (first in the subclasses' bases)
        raise NotImplementedError

    def data_html(self) -> str:
        """The data element (``<script type="application/json" id="…-data">``)."""
        return (f'<script type="application/json" id="{self.get_name()}-data">'
                f"{self.data}</script>")


class FeatureLayer(Layer, DataElement):
    """One :class:`VectorLayer` as an ``L.geoJSON`` overlay, registered in ``coverage``."""

    _template = Template("""
        {% macro html(this, kwargs) %}{% if this.eager == "true" %}{{ this.data_html() }}{% endif %}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON(null, {
            style: coverage.style, pointToLayer: coverage.point,
            onEachFeature: coverage.bind});
        coverage.feed({{ this.get_name() }}, "{{ this.get_name() }}-data", {{ this.eager }},
                      {{ this.merged }});
        coverage.layers[{{ this.key }}] = {{ this.get_name() }};
        coverage.rank[{{ this.key }}] = {{ this.rank }};
        {% endmacro %}
    """)

    def __init__(self, layer: VectorLayer):
        super().__init__(name=layer.name, overlay=True, control=True, show=layer.show)
        self._name = "CoverageLayer"
        # the features travel as JSON beside the script (parsed faster than a script
        # literal); a layer off on opening is parsed and built only when first shown
        self.eager = "true" if layer.show else "false"
        self.key = js_json(layer.key)
        kinds = {f["geometry"]["type"].replace("Multi", "") for f in layer.features}
        self.rank = 2 if "Point" in kinds else (1 if "LineString" in kinds else 0)
        # filled polygons (village groups, sector wedges): one canvas multi-polygon per
        # style; outlines (village boundaries answer clicks on their line only) stay apart
        polys = [f for f in layer.features if f["geometry"]["type"].endswith("Polygon")]
        fills = all(f["properties"].get("style", {}).get("fill", True) is not False
                    for f in polys)
        self.merged = "true" if len(polys) >= MERGE_MIN and fills else "false"
        self.data = js_json(page_wedges(layer.geojson()))


TABLE_JS = """
(function () {
  var cov = window.coverage;
  function cell(col, i) {
    return !col.v ? col.codes[0] : (col.codes ? col.codes[col.v[i]] : col.v[i]);
  }
  cov.tablePopup = function (d, i) {
    var title = cell(d.title, i), rows = "";
    d.cols.forEach(function (col, k) {
      var v = cell(col, i);
      if (v !== "") rows += "<tr><th>" + d.labels[k] + "</th><td>" + v + "</td></tr>";
    });
    return (title ? "<div class='cov-title'>" + title + "</div>" : "") +
      "<table class='cov-table'>" + rows + "</table>";
  };
  // the table travels as JSON beside the script (element ``id``); a layer off on opening
  // is parsed and built when first shown (or looked up), like coverage.feed's layers
  cov.tableLayer = function (id, now) {
    var d = null;
    var lyr = L.geoJSON(null, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, d.styles[d.cls[f.properties.row]]);
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return cov.tablePopup(d, f.properties.row); },
                        {maxWidth: 460, minWidth: 180, maxHeight: 380, className: "cov-popup"});
      }
    });
    function load() {
      var el = document.getElementById(id);
      if (!el) { cov.later(load); return; }
      d = JSON.parse(el.textContent);
      el.parentNode.removeChild(el);
      lyr.addData({type: "FeatureCollection", features: d.ids.map(function (fid, i) {
        return {type: "Feature", properties: {id: fid, row: i},
                geometry: {type: "Point", coordinates: [d.lon[i], d.lat[i]]}};
      })});
    }
    if (now) load(); else { lyr.once("add", load); lyr.load = load; }
    return lyr;
  };
})();
"""


class TableHelpers(MacroElement):
    """``coverage.tableLayer``: builds a :class:`TableLayer` and its popups in the page.

    Added once, and only to maps that have a table layer (the others stay unchanged).
    The cells arrive HTML-escaped; popups are assembled only when opened.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "CoverageTableHelpers"
        self.js = TABLE_JS


class TableOverlayLayer(Layer, DataElement):
    """One :class:`TableLayer` as an ``L.geoJSON`` of circle markers (compact data)."""

    _template = Template("""
        {% macro html(this, kwargs) %}{% if this.eager == "true" %}{{ this.data_html() }}{% endif %}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = coverage.tableLayer("{{ this.get_name() }}-data", {{ this.eager }});
        coverage.layers[{{ this.key }}] = {{ this.get_name() }};
        coverage.rank[{{ this.key }}] = 2;
        {% endmacro %}
    """)  # noqa: E501 (the generated script keeps its lines whole)

    def __init__(self, layer: TableLayer):
        super().__init__(name=layer.name, overlay=True, control=True, show=layer.show)
        self._name = "CoverageTable"
        self.eager = "true" if layer.show else "false"
        self.key = js_json(layer.key)
        self.data = js_json(layer.payload())


class ImageOverlayLayer(Layer, DataElement):
    """One :class:`ImageLayer` as an ``L.imageOverlay`` (PNG inlined as base64).

    The image travels as JSON beside the script, read when the overlay is first shown
    (``coverage.imageLayer``), so that the overlays off on opening cost the page's script
    nothing."""

    _template = Template("""
        {% macro html(this, kwargs) %}{% if this.eager == "true" %}{{ this.data_html() }}{% endif %}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = coverage.imageLayer("{{ this.get_name() }}-data",
            {{ this.bounds }}, {opacity: {{ this.opacity }}, pane: "covRaster",
                                interactive: false, className: "cov-raster"});
        coverage.layers[{{ this.key }}] = {{ this.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, layer: ImageLayer):
        super().__init__(name=layer.name, overlay=True, control=True, show=layer.show)
        self._name = "CoverageImage"
        self.key = js_json(layer.key)
        self.eager = "true" if layer.show else "false"
        self.data = js_json("data:image/png;base64," + base64.b64encode(layer.png).decode("ascii"))
        self.bounds = js_json([list(layer.bounds[0]), list(layer.bounds[1])])
        self.opacity = js_json(float(layer.opacity))


class BaseTiles(Layer):
    """One basemap entry: a group of tile layers (empty for "no basemap")."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup({{ this.tiles }}.map(function (t) {
            return L.tileLayer(t[0], t[1]); }));
        coverage.bases[{{ this.key }}] = {{ this.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, base: BaseLayer, name: str, show: bool):
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "CoverageBase"
        self.key = js_json(base.label_key)
        self.tiles = js_json([[t.url, t.options] for t in base.tiles])


class Legend(MacroElement):
    """A legend control; each section shows while any of its layers is on the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }}, cov = window.coverage;
          var sections = {{ this.sections }}, title = {{ this.title }};
          var ctl = L.control({position: "bottomleft"});
          ctl.onAdd = function () {
            var div = L.DomUtil.create("div", "cov-legend leaflet-bar");
            div.id = "coverage-legend";
            L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
            var h = L.DomUtil.create("div", "cov-legend-title", div); h.textContent = title;
            // a click on the title folds the legend (folded on opening on a low screen)
            h.setAttribute("role", "button"); h.tabIndex = 0;
            h.setAttribute("aria-expanded", "true");
            function fold(on) {
              div.classList.toggle("cov-folded", on);
              h.setAttribute("aria-expanded", on ? "false" : "true");
            }
            L.DomEvent.on(h, "click", function () {
              fold(!div.classList.contains("cov-folded")); });
            L.DomEvent.on(h, "keydown", function (ev) {
              if (ev.key === "Enter" || ev.key === " ") {
                L.DomEvent.preventDefault(ev); fold(!div.classList.contains("cov-folded")); }
            });
            if (window.innerHeight < 600) fold(true);
            sections.forEach(function (sec) {
              var el = L.DomUtil.create("div", "cov-legend-section", div);
              el.setAttribute("data-layers", sec.layers.join(" "));
              var t = L.DomUtil.create("div", "cov-legend-head", el); t.textContent = sec.title;
              sec.items.forEach(function (it) {
                var row = L.DomUtil.create("div", "cov-legend-item", el);
                var sw = L.DomUtil.create("span", "cov-swatch", row);
                sw.innerHTML = cov.shapeSvg(it.shape, it.shape === "line" ? 18 : 14, {
                  color: it.outline || it.color, fillColor: it.color, weight:
                  it.shape === "line" ? 3 : 1, fillOpacity: it.shape === "fill" ? 0.75 : 1,
                  dashArray: it.dash ? "4 2" : null});
                var lb = L.DomUtil.create("span", "cov-legend-label", row);
                lb.textContent = it.label;
              });
              sec.el = el;
            });
            return div;
          };
          ctl.addTo(map);
          cov.updateLegend = function () {
            sections.forEach(function (sec) {
              var on = !sec.layers.length || sec.layers.some(function (k) {
                return cov.layers[k] && map.hasLayer(cov.layers[k]); });
              sec.el.style.display = on ? "" : "none";
            });
          };
          map.on("overlayadd overlayremove", cov.updateLegend);
          cov.updateLegend();
        })();
        {% endmacro %}
    """)

    def __init__(self, sections: Sequence[LegendSection], title: str):
        super().__init__()
        self._name = "CoverageLegend"
        self.title = js_json(title)
        self.sections = js_json([{
            "title": s.title, "layers": list(s.layer_keys),
            "items": [{"label": i.label, "color": color(i.color), "shape": i.shape,
                       "outline": color(i.outline) if i.outline else None, "dash": i.dash}
                      for i in s.items]} for s in sections])


class SearchBox(MacroElement):
    """Village search (substring, any script); IME-safe: waits for composition to end."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }}, cov = window.coverage;
          var index = {{ this.index }}, text = {{ this.text }};
          var ctl = L.control({position: "topleft"});
          ctl.onAdd = function () {
            var div = L.DomUtil.create("div", "cov-search leaflet-bar");
            var input = L.DomUtil.create("input", "", div);
            input.type = "search"; input.id = "coverage-search"; input.placeholder = text.search;
            input.setAttribute("aria-label", text.search); input.autocomplete = "off";
            var list = L.DomUtil.create("ul", "cov-search-results", div);
            L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
            var composing = false, hits = [];
            function choose(e) {
              list.textContent = ""; input.value = e.name; cov.open(e.layer, e.id);
            }
            function run() {
              var q = input.value.trim().toLowerCase();
              list.textContent = ""; hits = [];
              if (!q) return;
              hits = index.filter(function (e) {
                return e.name.toLowerCase().indexOf(q) >= 0 || e.id.toLowerCase() === q;
              }).slice(0, 15);
              if (!hits.length) {
                var none = L.DomUtil.create("li", "cov-none", list); none.textContent = text.none;
                return;
              }
              hits.forEach(function (e) {
                var li = L.DomUtil.create("li", "", list);
                li.textContent = e.name + (e.town ? " · " + e.town : "");
                li.tabIndex = 0;
                li.setAttribute("data-id", e.id);
                // stop here: choose() empties the list, and Leaflet, no longer finding the
                // detached item inside the search box, would treat the click as a click on
                // the map and close the popup that choose() just opened
                L.DomEvent.on(li, "click", function (ev) { L.DomEvent.stop(ev); choose(e); });
                L.DomEvent.on(li, "keydown", function (ev) { if (ev.key === "Enter") choose(e); });
              });
            }
            L.DomEvent.on(input, "compositionstart", function () { composing = true; });
            L.DomEvent.on(input, "compositionend", function () { composing = false; run(); });
            L.DomEvent.on(input, "input", function (ev) {
              if (composing || ev.isComposing) return; run(); });
            L.DomEvent.on(input, "keydown", function (ev) {
              L.DomEvent.stopPropagation(ev);
              if (ev.key === "Enter" && !ev.isComposing && !composing && hits.length)
                choose(hits[0]);
            });
            return div;
          };
          ctl.addTo(map);
        })();
        {% endmacro %}
    """)

    def __init__(self, index: list[dict], search_label: str, none_label: str):
        super().__init__()
        self._name = "CoverageSearch"
        self.index = js_json(index)
        self.text = js_json({"search": search_label, "none": none_label})


class Note(MacroElement):
    """The provenance note (title · generated · data · config hash · version · CRS)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var parts = {{ this.parts }}, ctl = L.control({position: "bottomleft"});
          ctl.onAdd = function () {
            var d = L.DomUtil.create("div", "cov-note"); d.id = "coverage-note";
            var b = L.DomUtil.create("b", "", d); b.textContent = parts[0];
            var s = L.DomUtil.create("span", "", d);
            s.textContent = " · " + parts.slice(1).join(" · ");
            return d;
          };
          ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, parts: Sequence[str]):
        super().__init__()
        self._name = "CoverageNote"
        self.parts = js_json(list(parts))


class ReadyFlag(MacroElement):
    """Sets ``coverage.ready`` (and the time it took) once every script above has run;
    after the first frame, ``coverage.paintedMs``, then runs ``coverage.afterPaint``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.coverage.reorder();
        window.coverage.ready = true;
        window.coverage.readyMs = (window.performance && performance.now) ? performance.now() : 0;
        // and once the first frame with every layer has been drawn (benchmarks)
        // then the tools the first view does not need (coverage.maps.tools) are loaded
        requestAnimationFrame(function () { setTimeout(function () {
          window.coverage.paintedMs = performance.now();
          (window.coverage.afterPaint || []).forEach(function (fn) { fn(); }); }, 0); });
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "CoverageReady"


# --------------------------------------------------------------------------- assembling


@contextlib.contextmanager
def deterministic_ids(prefix: str = "") -> Iterator[None]:
    """Give branca/folium elements sequential ids (``prefix`` + hex) while in the block."""
    counter = itertools.count()
    original = branca.element.Element.__dict__["_generate_id"]
    branca.element.Element._generate_id = classmethod(  # type: ignore[assignment]
        lambda cls: f"{prefix}{next(counter):08x}")
    try:
        yield
    finally:
        branca.element.Element._generate_id = original  # type: ignore[method-assign]


def note_parts(title: str, provenance: Provenance, language: str, datum: str) -> list[str]:
    """The provenance note's parts: title first."""
    lab = labels(language)
    parts = [title, f"{lab['generated']} {provenance.generated}",
             f"{lab['data']} {provenance.data}",
             f"{lab['config']} {provenance.config_hash}", f"{lab['version']} {provenance.version}",
             f"{lab['crs']} {provenance.crs}"]
    if datum == "gcj02":
        parts.append(f"{lab['datum']} GCJ-02")
    return parts


def build_map(spec: MapSpec, provenance: Provenance, basemap: Basemap | None = None,
              links: AssetLinks | None = None) -> folium.Map:
    """A folium map for ``spec`` (call inside :func:`deterministic_ids`).

    Parameters
    ----------
    spec : MapSpec
        Layers, legend and search index; its ``datum`` must match the basemap's.
    provenance : Provenance
        Shown in the note at the bottom left.
    basemap : Basemap, optional
        Default OpenStreetMap.
    links : AssetLinks, optional
        Script and style-sheet URLs; default the CDN.
    """
    basemap = basemap or Basemap()
    if basemap.datum != spec.datum:
        raise ValueError(f"map spec built for {spec.datum}, basemap needs {basemap.datum}")
    lab = labels(spec.language)
    links = links or asset_links(None, spec.language)
    (south, west), (north, east) = spec.bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10,
                      tiles=None, control_scale=False, prefer_canvas=True)
    fmap.default_js = [("leaflet", links.leaflet_js)]
    fmap.default_css = [("leaflet_css", links.leaflet_css)]
    root = fmap.get_root()
    root.title = esc(spec.title)  # type: ignore[attr-defined]
    # without animation: an animated first zoom would project and draw every layer twice
    fit = FitBounds([[south, west], [north, east]])
    fit.options["animate"] = False
    fmap.add_child(fit)
    fmap.add_child(Helpers(fmap.get_name(), spec.language))
    if any(isinstance(layer, TableLayer) for layer in spec.layers):
        fmap.add_child(TableHelpers())
    for i, base in enumerate(base_layers(basemap, spec.language)):
        fmap.add_child(BaseTiles(base, lab[base.label_key], show=i == 0))
    for layer in spec.layers:
        if isinstance(layer, ImageLayer):
            fmap.add_child(ImageOverlayLayer(layer))
        elif isinstance(layer, TableLayer):
            fmap.add_child(TableOverlayLayer(layer))
        else:
            fmap.add_child(FeatureLayer(layer))
    # full screen and measuring: loaded after the first frame, off the path to it
    fmap.add_child(LateTools(links, spec.language))
    # bottom-left stacks upwards: scale, then the note, then the legend
    fmap.add_child(Note(note_parts(spec.title, provenance, spec.language, spec.datum)))
    if spec.legend:
        fmap.add_child(Legend(spec.legend, lab["legend"]))
    if spec.search is not None:
        fmap.add_child(SearchBox(spec.search, lab["search"], lab["no_match"]))
    fmap.add_child(folium.LayerControl(position="topright", collapsed=False))
    fmap.add_child(LoadGuard(spec.language, links.offline))
    fmap.add_child(BasemapFallback(spec.language, lab["basemap_none"]))
    fmap.add_child(ReadyFlag())
    return fmap


def render(fmap: folium.Map) -> str:
    """The map's standalone HTML; ids created while rendering are deterministic too.

    The data of the layers off on opening (:class:`DataElement`) follows the page's
    script, at the end of the document: the first view is ready and drawn while the
    browser still parses them (the page's script fills such a layer once the document is
    parsed if it is switched on earlier).
    """
    with deterministic_ids("r"):
        html = fmap.get_root().render()
    tail = "".join(child.data_html() + "\n" for child in fmap._children.values()
                   if isinstance(child, DataElement) and child.eager != "true")
    end = html.rindex("</html>")
    return html[:end] + tail + html[end:]


__all__ = ["BaseTiles", "DataElement", "FeatureLayer", "Helpers", "ImageOverlayLayer", "Legend",
           "Note", "ReadyFlag", "SearchBox", "TableHelpers", "TableOverlayLayer", "build_map",
           "deterministic_ids", "note_parts", "render"]
