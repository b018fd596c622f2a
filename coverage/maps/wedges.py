"""Sector wedges drawn as canvas arcs (issue 17, speed).

A wedge (:func:`coverage.maps.layers.sites_layers`) is a symbol: the site, nine points
along its arc and the site again, in the layer as a polygon. The page does not need
the nine: :func:`page_wedges` keeps the site and the arc's two ends (the ring
``[site, start, end, site]``), and the page's ``coverage.Wedges`` draws every wedge of
a style as one canvas path of true arcs (centre and radius taken from those three
points once projected, so the direction, the length and a GCJ-02 shift are the
polygon's). For the demo's ~630 wedges that is a third of the vertices the first view
used to project, and no Leaflet polygon at all. Wedges take no clicks (they let them
through to the village groups beneath).
"""

from __future__ import annotations

WEDGES_JS = """
(function () {
  var cov = window.coverage;
  // every wedge of one style: [[site], [arc start], [arc end], [site]] as [lon, lat]
  cov.Wedges = L.Path.extend({
    options: {interactive: false, fill: true},  // filled like the polygons they replace
    initialize: function (rings, options) {
      L.setOptions(this, options);
      this._wedges = rings;
    },
    getBounds: function () {
      var b = L.latLngBounds([]);
      this._wedges.forEach(function (r) {
        for (var i = 0; i < 3; i++) b.extend([r[i][1], r[i][0]]); });
      return b;
    },
    _project: function () {
      var map = this._map, out = [], b = new L.Bounds(), pad = this._clickTolerance();
      this._wedges.forEach(function (r) {
        var c = map.latLngToLayerPoint([r[0][1], r[0][0]]),
            s = map.latLngToLayerPoint([r[1][1], r[1][0]]),
            e = map.latLngToLayerPoint([r[2][1], r[2][0]]), d = c.distanceTo(s) + pad;
        out.push([c, c.distanceTo(s), Math.atan2(s.y - c.y, s.x - c.x),
                  Math.atan2(e.y - c.y, e.x - c.x)]);
        b.extend([c.x - d, c.y - d]); b.extend([c.x + d, c.y + d]);
      });
      this._arcs = out; this._pxBounds = b;
    },
    _update: function () { if (this._map) this._updatePath(); },
    _empty: function () { return !this._arcs.length; },
    _updatePath: function () {
      var r = this._renderer;
      if (!r._drawing || this._empty()) return;
      var ctx = r._ctx;
      ctx.beginPath();
      this._arcs.forEach(function (a) {  // clockwise on the screen, as the azimuths run
        ctx.moveTo(a[0].x, a[0].y);
        ctx.arc(a[0].x, a[0].y, a[1], a[2], a[3], false);
        ctx.closePath();
      });
      r._fillStroke(ctx, this);
    }
  });
  cov.wedges = function (group, features) {
    var by = {};
    features.forEach(function (f) {
      (by[f.properties.si] = by[f.properties.si] || []).push(f); });
    Object.keys(by).forEach(function (si) {
      group.addLayer(new cov.Wedges(by[si].map(function (f) {
        return f.geometry.coordinates[0]; }),
        L.extend({}, by[si][0].properties.style || {}, {interactive: false})));
    });
  };
})();
"""


def page_wedges(collection: dict) -> dict:
    """The layer's page form (:meth:`VectorLayer.geojson`) with each wedge's ring cut to
    ``[site, arc start, arc end, site]``; other features unchanged.

    Parameters
    ----------
    collection : dict
        A compact FeatureCollection; wedges carry ``properties.wedge`` and a ring that
        starts at the site and runs along the arc (:func:`coverage.maps.layers._wedge`).

    Returns
    -------
    dict
        The same collection (a new one only when it holds wedges).
    """
    if not any(f["properties"].get("wedge") for f in collection["features"]):
        return collection
    features = []
    for f in collection["features"]:
        if f["properties"].get("wedge"):
            ring = f["geometry"]["coordinates"][0]
            f = {**f, "geometry": {"type": "Polygon",
                                   "coordinates": [[ring[0], ring[1], ring[-2], ring[0]]]}}
        features.append(f)
    return {**collection, "features": features}


__all__ = ["WEDGES_JS", "page_wedges"]
