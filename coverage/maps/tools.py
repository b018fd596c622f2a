"""The map tools the first view does not need (full screen, distance and area measuring),
loaded once the first frame with every layer is drawn.

Their scripts and style sheets used to sit in the page's head: the browser fetched and
ran them before it parsed the page's own script, on the path to the first view (issue
17, speed). Now :class:`LateTools` appends them to the head after the first frame
(``coverage.afterPaint``, run by the ready flag) and adds the two controls, in the same
places and with the same options, once both scripts are in; ``coverage.toolsReady`` is
then true (``coverage.toolsMs``: when). A tool whose script fails to load is left out;
the map itself keeps working (the page's load guard only concerns Leaflet itself).
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.template import Template

from coverage.io.assets import AssetLinks
from coverage.maps.core import js_json

TOOLS_JS = """
(function () {
  var cov = window.coverage, map = cov.map, files = %(files)s, text = %(text)s;
  function addTools() {
    if (L.control.fullscreen)
      L.control.fullscreen({position: "topleft", title: text.full, titleCancel: text.exit,
                            forceSeparateButton: false}).addTo(map);
    if (L.Control.Measure) {
      // leaflet-measure 3.1 with Leaflet >= 1.8: the capture marker must not pan the map
      // when it takes the focus (it would jump at the first click)
      L.Control.Measure.include({
        _setCaptureMarkerIcon: function () {
          this._captureMarker.options.autoPanOnFocus = false;
          this._captureMarker.setIcon(L.divIcon({iconSize: this._map.getSize().multiplyBy(2)}));
        }
      });
      map.addControl(new L.Control.Measure({
        position: "topleft", primaryLengthUnit: "kilometers", secondaryLengthUnit: "meters",
        primaryAreaUnit: "hectares", secondaryAreaUnit: "sqmeters"}));
    }
    cov.toolsReady = true;
    cov.toolsMs = performance.now();
  }
  function loadTools() {
    var head = document.head, left = files.js.length;
    files.css.forEach(function (href) {
      var link = document.createElement("link");
      link.rel = "stylesheet"; link.href = href; head.appendChild(link);
    });
    files.js.forEach(function (src) {
      var s = document.createElement("script");
      s.src = src; s.async = false;  // in order, as in the head
      s.onload = s.onerror = function () { left -= 1; if (!left) addTools(); };
      head.appendChild(s);
    });
  }
  (cov.afterPaint = cov.afterPaint || []).push(loadTools);
})();
"""


class LateTools(MacroElement):
    """The full-screen button and the measuring tool, loaded after the first frame.

    Parameters
    ----------
    links : AssetLinks
        Where the plugins' scripts and style sheets are (CDN or ``assets/``).
    language : str
        ``"zh"`` gives Chinese button titles.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}
    """)

    def __init__(self, links: AssetLinks, language: str):
        super().__init__()
        self._name = "CoverageTools"
        self.files = {"js": [links.fullscreen_js, links.measure_js],
                      "css": [links.fullscreen_css, links.measure_css]}
        zh = language == "zh"
        text = {"full": "全屏" if zh else "Full screen",
                "exit": "退出全屏" if zh else "Exit full screen"}
        self.js = TOOLS_JS % {"files": js_json(self.files), "text": js_json(text)}


__all__ = ["TOOLS_JS", "LateTools"]
