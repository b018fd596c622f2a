"""What a map page does when the network does not answer: never a white page.

Two small page elements, added by :func:`coverage.maps.render.build_map`:

* :class:`LoadGuard` checks, once the page has loaded, that Leaflet and the map's own
  scripts ran (``coverage.ready``). If not — a blocked CDN, an ``assets/`` folder not
  copied with the pages — it writes a message in the run's language into the page that
  says what happened and what to run, instead of leaving it blank.
* :class:`BasemapFallback` switches to "no basemap" (无底图) when the default basemap's
  tile server does not answer (tiles fail and none arrives), and says so in a short
  notice; the vector layers stay usable either way.

Like :mod:`coverage.maps.render`, this module is part of the map package (the only one
that uses folium).
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.template import Template

from coverage.maps.core import esc, js_json

MESSAGES = {
    "zh": {
        "title": "地图脚本未能加载，地图无法显示",
        "offline": "本页从同一文件夹下的 assets/ 目录加载地图脚本，但没有找到它们。"
                   "请把整个输出文件夹（含 assets/ 子目录）一起复制；或在本机运行 "
                   "<code>make assets</code>（只需一次），再运行 "
                   "<code>coverage-planner run</code> 重新生成地图。",
        "cdn": "本页按 --cdn-maps 从互联网（CDN）加载地图脚本，而当前网络无法访问。"
               "请去掉 --cdn-maps 重新运行 <code>coverage-planner run</code>"
               "（默认离线，脚本随地图一起写入 assets/）。",
        "tables": "数据表格（tables/ 目录、readiness.xlsx、plan.csv）不受影响，可直接打开。",
        "no_tiles": "底图服务器无响应，已切换为“无底图”；可在右上角图层控件中重新选择底图。",
    },
    "en": {
        "title": "The map scripts did not load; the map cannot be shown",
        "offline": "This page loads its map scripts from the assets/ folder beside it, and "
                   "they were not found. Copy the whole output folder (with assets/); or run "
                   "<code>make assets</code> once on this machine and then "
                   "<code>coverage-planner run</code> again.",
        "cdn": "This page was written with --cdn-maps and loads its scripts from the "
               "internet (CDN), which this network cannot reach. Run "
               "<code>coverage-planner run</code> again without --cdn-maps (offline is the "
               "default: the scripts are written into assets/ with the maps).",
        "tables": "The tables (tables/, readiness.xlsx, plan.csv) are unaffected and open "
                  "directly.",
        "no_tiles": "The basemap server does not answer; switched to \u201cno basemap\u201d. "
                    "Choose another basemap in the layer control (top right).",
    },
}
"""The user-visible texts, per language (trusted: written here, not from data)."""


def messages(language: str) -> dict[str, str]:
    """The fallback texts for ``language`` (English for anything but ``"zh"``)."""
    return MESSAGES["zh" if language == "zh" else "en"]


GUARD_JS = """
<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    if (typeof L !== 'undefined' && window.coverage && window.coverage.ready === true) return;
    var box = document.createElement('div');
    box.id = 'coverage-load-error';
    box.setAttribute('role', 'alert');
    box.style.cssText = 'position:fixed;z-index:100000;top:0;left:0;right:0;bottom:0;' +
      'background:#fff;padding:32px 40px;font:16px/1.6 sans-serif;color:#222;overflow:auto';
    box.innerHTML = %(html)s;
    document.body.appendChild(box);
  }, 0);
});
</script>
"""

FALLBACK_JS = """
(function () {
  var cov = window.coverage, map = cov.map, ok = 0, bad = 0, done = false;
  var blank = cov.bases.basemap_none;
  function attach() {
    Object.keys(cov.bases).forEach(function (k) {
      var g = cov.bases[k];
      if (!map.hasLayer(g) || k === 'basemap_none') return;
      g.eachLayer(function (t) {
        t.on('tileload', function () { ok += 1; });
        t.on('tileerror', function () { bad += 1; check(); });
      });
    });
  }
  function check() {
    if (done || ok > 0 || bad < %(errors)d || !blank) return;
    done = true;
    Object.keys(cov.bases).forEach(function (k) {
      if (map.hasLayer(cov.bases[k])) map.removeLayer(cov.bases[k]);
    });
    map.addLayer(blank);  // the layer control follows (its radio buttons are redrawn)
    var note = L.control({position: 'topright'});
    note.onAdd = function () {
      var d = L.DomUtil.create('div', 'cov-note cov-tiles-note');
      d.id = 'coverage-tiles-note';
      d.textContent = %(message)s;
      return d;
    };
    note.addTo(map);
    cov.basemapFallback = true;
  }
  attach();
})();
"""


class LoadGuard(MacroElement):
    """A message instead of a white page when the map scripts fail to load.

    Parameters
    ----------
    language : str
        ``"zh"`` or ``"en"``.
    offline : bool
        Whether the page loads its scripts from ``assets/`` (else from the CDN); the
        message names the fix for that case.
    """

    _template = Template("""
        {% macro header(this, kwargs) %}{{ this.js }}{% endmacro %}
    """)

    def __init__(self, language: str, offline: bool):
        super().__init__()
        self._name = "CoverageLoadGuard"
        text = messages(language)
        body = (f"<h2>{esc(text['title'])}</h2><p>{text['offline' if offline else 'cdn']}</p>"
                f"<p>{esc(text['tables'])}</p>")
        self.js = GUARD_JS % {"html": js_json(body)}


class BasemapFallback(MacroElement):
    """Switch to "no basemap" when the default basemap's tiles all fail.

    Parameters
    ----------
    language : str
        ``"zh"`` or ``"en"``.
    blank_name : str
        The label of the "no basemap" entry in the layer control (kept for tests).
    errors : int
        Failed tiles (with none loaded) after which the map switches.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}
    """)

    def __init__(self, language: str, blank_name: str, errors: int = 4):
        super().__init__()
        self._name = "CoverageBasemapFallback"
        self.blank_name = blank_name
        self.js = FALLBACK_JS % {"errors": int(errors),
                                 "message": js_json(messages(language)["no_tiles"])}


__all__ = ["MESSAGES", "BasemapFallback", "LoadGuard", "messages"]
