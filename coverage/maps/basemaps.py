"""Basemap choices: OpenStreetMap by default; Tianditu (with the user's key) or AutoNavi.

Tianditu's web-mercator tiles are drawn in CGCS2000, which equals WGS84 to well under
a metre, so our WGS84 data go on it unshifted. AutoNavi (Gaode) tiles are in GCJ-02: a
map on them shifts every coordinate of our data with the published WGS84 → GCJ-02
formula (:mod:`coverage.maps.gcj02`), and offers no WGS84 basemap beside them (it
would be a few hundred metres off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coverage.errors import ConfigError

BASEMAP_KINDS = ("osm", "tianditu", "gaode", "none")
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")

OSM_ATTR = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            'contributors')
TOPO_ATTR = ('Map data: &copy; OpenStreetMap contributors, SRTM | Map style: &copy; '
             'OpenTopoMap (CC-BY-SA)')
TIANDITU_ATTR = "&copy; 天地图 (Tianditu), 国家地理信息公共服务平台"
GAODE_ATTR = "&copy; 高德地图 (AutoNavi)"


@dataclass(frozen=True)
class Basemap:
    """Which basemaps a map offers.

    Parameters
    ----------
    kind : str
        ``osm`` (OpenStreetMap and OpenTopoMap), ``tianditu`` (needs ``key``; OSM offered
        too), ``gaode`` (AutoNavi road and satellite; data shifted to GCJ-02) or
        ``none`` (无底图 first, for networks without any tile server; OSM offered too).
    key : str, optional
        The user's Tianditu key (``tk``). It is written into the HTML, as any browser
        map needs it; use a key restricted to your domain.
    """

    kind: str = "osm"
    key: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in BASEMAP_KINDS:
            raise ConfigError(f"basemap {self.kind!r} is unknown. Fix: use one of "
                              f"{', '.join(BASEMAP_KINDS)}.")
        if self.kind == "tianditu" and not self.key:
            raise ConfigError("the Tianditu basemap needs a key. Fix: get a browser key at "
                              "the Tianditu console and pass it (e.g. --tianditu-key), or use "
                              "the osm basemap.")
        if self.key is not None and not _KEY.match(self.key):
            raise ConfigError("the basemap key has characters other than letters, digits, '-' "
                              "and '_'. Fix: copy the key exactly as the console shows it.")

    @property
    def datum(self) -> str:
        """``gcj02`` for AutoNavi, else ``wgs84``."""
        return "gcj02" if self.kind == "gaode" else "wgs84"


@dataclass(frozen=True)
class TileSpec:
    """One tile source: a URL template and Leaflet TileLayer options."""

    url: str
    options: dict


@dataclass(frozen=True)
class BaseLayer:
    """One entry of the basemap radio group (several tile sources drawn together)."""

    label_key: str
    tiles: tuple[TileSpec, ...]


def _tianditu(layer: str, key: str) -> TileSpec:
    url = (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
           f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
           f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
    return TileSpec(url, {"subdomains": "01234567", "maxZoom": 18,
                          "attribution": TIANDITU_ATTR})


def base_layers(basemap: Basemap, language: str) -> list[BaseLayer]:
    """The basemap entries of a map, the default first ("no basemap" last, or first for
    ``none``)."""
    osm = BaseLayer("basemap_osm", (TileSpec("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                             {"maxZoom": 19, "attribution": OSM_ATTR}),))
    topo = BaseLayer("basemap_topo", (TileSpec(
        "https://{s}.tile.opentopomap.org/{z}/{x}/{y}.png",
        {"subdomains": "abc", "maxZoom": 17, "attribution": TOPO_ATTR}),))
    blank = BaseLayer("basemap_none", ())
    if basemap.kind == "gaode":
        lang = "zh_cn" if language == "zh" else "en"
        road = BaseLayer("basemap_gaode", (TileSpec(
            f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}", {"subdomains": "1234", "maxZoom": 18,
                                    "attribution": GAODE_ATTR}),))
        sat = BaseLayer("basemap_gaode_img", (TileSpec(
            "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
            {"subdomains": "1234", "maxZoom": 18, "attribution": GAODE_ATTR}),))
        return [road, sat, blank]
    if basemap.kind == "tianditu":
        assert basemap.key is not None
        note = "cva" if language == "zh" else "eva"
        img_note = "cia" if language == "zh" else "eia"
        vec = BaseLayer("basemap_tianditu", (_tianditu("vec", basemap.key),
                                             _tianditu(note, basemap.key)))
        img = BaseLayer("basemap_tianditu_img", (_tianditu("img", basemap.key),
                                                 _tianditu(img_note, basemap.key)))
        return [vec, img, osm, topo, blank]
    if basemap.kind == "none":
        return [blank, osm, topo]
    return [osm, topo, blank]


__all__ = ["BASEMAP_KINDS", "BaseLayer", "Basemap", "TileSpec", "base_layers"]
