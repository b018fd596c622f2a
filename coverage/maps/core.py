"""What every map is made of, as plain data: layers of features, legends, provenance.

Nothing here imports folium. Layer builders (:mod:`coverage.maps.layers`,
:mod:`coverage.maps.measurements`) return :class:`MapSpec` objects whose features carry
their style, an escaped popup and an escaped tooltip (or, for thousands of points, a
class and escaped popup cells: :class:`TableLayer`); :mod:`coverage.maps.render` turns a
spec into a folium map. Tests can therefore check a layer's features, colours and
escaping without a browser.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from coverage.maps.gcj02 import shift_coords

WGS84 = "EPSG:4326"
DATUMS = ("wgs84", "gcj02")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


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


def esc(value: object) -> str:
    """HTML-escape any value for a popup or tooltip (None and NaN become an empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, np.floating) and np.isnan(value):
        return ""
    return html.escape(str(value), quote=True)


def popup_table(rows: Mapping[str, object], title: object | None = None) -> str:
    """A small two-column HTML table; the title, labels and values are escaped."""
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows.items())
    head = f"<div class='cov-title'>{esc(title)}</div>" if title is not None else ""
    return f"{head}<table class='cov-table'>{cells}</table>"


def grid_table(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """An HTML table with a header row; every cell is escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f"<table class='cov-grid'><tr>{head}</tr>{body}</table>"


@dataclass(frozen=True)
class Popup:
    """A popup as data: a title, label/value rows and an optional table (plain text).

    A :class:`VectorLayer` stores such popups compactly (every distinct string once per
    layer, escaped; each feature a few indices: :meth:`VectorLayer.geojson`) and the
    page builds the HTML when the popup is opened (``coverage.recordPopup``), the same
    HTML as :meth:`html`. Rows whose value is empty are left out.

    Parameters
    ----------
    title : str
        Bold first line ('' for none).
    rows : tuple of (str, str)
        Label and value of each row of the two-column table.
    head : tuple of str
        Header of the table below (none when empty).
    cells : tuple of tuple of str
        Its rows, each as long as ``head``.
    """

    title: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    head: tuple[str, ...] = ()
    cells: tuple[tuple[str, ...], ...] = ()

    def html(self) -> str:
        """The popup's HTML (every string escaped), as the page builds it."""
        shown = {k: v for k, v in self.rows if v != ""}
        out = popup_table(shown, title=self.title if self.title else None)
        if self.head:
            out += grid_table(self.head, self.cells)
        return out

    def encode(self, intern: Callable[[str], int]) -> list:
        """``[title, [label, value, …], [head …], [[cell …] …]]`` as indices of ``intern``
        (title −1 when none; rows with an empty value left out)."""
        flat: list[int] = []
        for k, v in self.rows:
            if v != "":
                flat += [intern(k), intern(v)]
        return [intern(self.title) if self.title else -1, flat,
                [intern(h) for h in self.head],
                [[intern(c) for c in row] for row in self.cells]]


def record_popup_html(strings: Sequence[str], code: Sequence) -> str:
    """The HTML the page builds from a compact popup (:meth:`Popup.encode`).

    ``strings`` are the layer's escaped strings; this mirrors ``coverage.recordPopup``
    (tests use it to read the popups of a written page).
    """
    title, flat, head, cells = code
    rows = "".join(f"<tr><th>{strings[flat[i]]}</th><td>{strings[flat[i + 1]]}</td></tr>"
                   for i in range(0, len(flat), 2))
    out = (f"<div class='cov-title'>{strings[title]}</div>" if title >= 0 else "") + \
        f"<table class='cov-table'>{rows}</table>"
    if head:
        out += ("<table class='cov-grid'><tr>" + "".join(f"<th>{strings[h]}</th>" for h in head)
                + "</tr>" + "".join("<tr>" + "".join(f"<td>{strings[c]}</td>" for c in row)
                                    + "</tr>" for row in cells) + "</table>")
    return out


def js_json(value: object) -> str:
    """JSON safe to embed in a ``<script>`` element.

    Inside a script element only ``</`` (which could close it) and ``<!--`` (which
    changes how the browser looks for the end) matter; both are written with JSON
    escapes, as are U+2028/U+2029. Everything else stays readable and compact.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def color(value: str) -> str:
    """Check a colour is ``#rrggbb`` (it goes unescaped into SVG and styles)."""
    if not _COLOR.match(value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return value.lower()


def fmt(value: object, digits: int = 1, unit: str = "") -> str:
    """A number for a popup ('' for missing), with ``digits`` decimals and a unit."""
    if value is None:
        return ""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return ""
    return f"{number:.{digits}f}{unit}"


def pct(value: object) -> str:
    """A 0–1 share as a percentage ('' for missing)."""
    return fmt(None if value is None else float(value) * 100.0, 0, " %")  # type: ignore


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class MapFrame:
    """How working-CRS geometries become map coordinates.

    Parameters
    ----------
    datum : str
        ``wgs84`` (OpenStreetMap, Tianditu) or ``gcj02`` (AutoNavi/Gaode: every
        coordinate is shifted with :func:`coverage.maps.gcj02.wgs84_to_gcj02`).
    simplify_m : float
        Douglas-Peucker tolerance for polygons and lines, in working-CRS metres.
    decimals : int
        Decimal places kept in longitude/latitude (5 ≈ 1 m, below what a map shows at
        street zoom; each further decimal adds a tenth to the size of every shape).
    """

    datum: str = "wgs84"
    simplify_m: float = 20.0
    decimals: int = 5

    def __post_init__(self) -> None:
        if self.datum not in DATUMS:
            raise ValueError(f"datum must be one of {DATUMS}, not {self.datum!r}")

    def lonlat(self, geoms: gpd.GeoSeries, simplify: bool = True
               ) -> list[BaseGeometry | None]:
        """Geometries (any CRS) as shapely geometries in map longitude/latitude."""
        series = geoms
        if simplify and self.simplify_m > 0 and series.crs is not None and \
                series.crs.is_projected:
            series = series.simplify(self.simplify_m, preserve_topology=True)
        if series.crs is not None and not series.crs.equals(WGS84):
            series = series.to_crs(WGS84)
        arr = np.asarray(series.to_numpy(), dtype=object)
        if self.datum == "gcj02":
            arr = shapely.transform(arr, shift_coords)
        digits = self.decimals
        arr = shapely.transform(arr, lambda c: np.round(c, digits))
        return list(arr)


@dataclass
class VectorLayer:
    """One switchable vector layer: GeoJSON features with style, popup and tooltip.

    Each feature's ``properties`` holds ``id`` (the record's id), ``style`` (Leaflet
    path options), ``marker`` (points: circle, square, diamond, triangle, star or ring),
    ``popup`` and ``tooltip`` (HTML with every user string escaped). A popup given as a
    :class:`Popup` travels as data instead (see :meth:`geojson`) and is built in the page
    when opened; :meth:`by_id` gives its HTML all the same.
    """

    key: str
    name: str
    features: list[dict] = field(default_factory=list)
    show: bool = True
    records: dict[int, Popup] = field(default_factory=dict)
    """Feature index → its popup record (features whose popup is a :class:`Popup`)."""

    def add(self, geometry: BaseGeometry | None, fid: object, style: Mapping[str, object],
            popup: str | Popup = "", tooltip: str = "", marker: str | None = None,
            **extra: object) -> None:
        """Append one feature (geometry in map lon/lat)."""
        if geometry is None or shapely.is_empty(geometry):
            return
        props: dict[str, object] = {"id": str(fid), "style": dict(style)}
        if marker is not None:
            props["marker"] = marker
        if isinstance(popup, Popup):
            self.records[len(self.features)] = popup
        elif popup:
            props["popup"] = popup
        if tooltip:
            props["tooltip"] = tooltip
        props.update(extra)
        self.features.append({"type": "Feature", "geometry": mapping(geometry),
                              "properties": props})

    def by_id(self) -> dict[str, dict]:
        """Feature properties by id (for tests and look-ups), with every popup as HTML."""
        out: dict[str, dict] = {}
        for i, f in enumerate(self.features):
            props = f["properties"]
            if i in self.records:
                props = {**props, "popup": self.records[i].html()}
            out[props["id"]] = props
        return out

    def geojson(self) -> dict:
        """The layer as a GeoJSON FeatureCollection, in the compact form the page reads.

        Two foreign members of the collection hold what features share: ``styles`` lists
        each distinct style once (a feature's ``properties.si`` is its index there, in
        place of ``style``), and ``strings`` every distinct escaped string of the popup
        records (a feature's ``properties.pk`` holds its :meth:`Popup.encode` indices).
        """
        strings: dict[str, int] = {}
        known: dict[str, int] = {}     # each raw text escaped once (labels repeat a lot)
        styles: dict[str, int] = {}
        style_list: list[dict] = []

        def intern(text: str) -> int:
            index = known.get(text)
            if index is None:
                index = known[text] = strings.setdefault(esc(text), len(strings))
            return index

        features = []
        for i, f in enumerate(self.features):
            props = dict(f["properties"])
            style = props.pop("style")
            key = json.dumps(style, sort_keys=True)
            if key not in styles:
                styles[key] = len(style_list)
                style_list.append(style)
            props["si"] = styles[key]
            if i in self.records:
                props["pk"] = self.records[i].encode(intern)
            features.append({"type": "Feature", "geometry": f["geometry"], "properties": props})
        out: dict = {"type": "FeatureCollection", "styles": style_list}
        if strings:
            out["strings"] = list(strings)
        out["features"] = features
        return out


@dataclass
class ImageLayer:
    """One switchable raster overlay: a PNG over a lon/lat box (south, west, north, east)."""

    key: str
    name: str
    png: bytes
    bounds: tuple[tuple[float, float], tuple[float, float]]
    show: bool = False
    opacity: float = 0.65


@dataclass
class TableLayer:
    """Many points drawn in a few styles, with popups assembled in the browser.

    For thousands of points (field measurements) a style and a popup per feature would
    make the page several megabytes. Here each point carries only its class (an index
    into ``styles``) and its popup cells; the browser draws one ``L.geoJSON`` layer of
    circle markers and builds a popup when one is opened. Titles and cells are
    HTML-escaped in :meth:`add` (labels in :meth:`payload`): the browser only joins them.

    Parameters
    ----------
    key, name : str
        Layer key and the name shown in the layer control.
    columns : tuple of str
        Popup row labels (plain text); a point's empty cells are left out of its popup.
    styles : tuple of dict
        Leaflet circle-marker options of each class.
    show : bool
        Shown when the page opens.
    """

    key: str
    name: str
    columns: tuple[str, ...]
    styles: tuple[Mapping[str, object], ...]
    show: bool = False
    ids: list[str] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    cells: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.cells:
            self.cells = [[] for _ in self.columns]

    def add(self, lon: float, lat: float, fid: object, cls: int, title: object,
            values: Sequence[object]) -> None:
        """Append one point (map lon/lat) of class ``cls``; skipped when not finite."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return
        if not 0 <= cls < len(self.styles) or len(values) != len(self.columns):
            raise ValueError(f"class {cls} or {len(values)} cells do not fit layer {self.key}")
        self.ids.append(str(fid))
        self.lon.append(float(lon))
        self.lat.append(float(lat))
        self.classes.append(int(cls))
        self.titles.append(esc(title))
        for column, value in zip(self.cells, values, strict=True):
            column.append(esc(value))

    def __len__(self) -> int:
        return len(self.ids)

    def records(self) -> dict[str, dict]:
        """id → ``class``, ``style``, ``title`` and the escaped cell of every column."""
        out: dict[str, dict] = {}
        for i, fid in enumerate(self.ids):
            rec: dict = {"class": self.classes[i], "style": dict(self.styles[self.classes[i]]),
                         "title": self.titles[i]}
            rec.update({label: self.cells[k][i] for k, label in enumerate(self.columns)})
            out[fid] = rec
        return out

    def payload(self) -> dict:
        """The compact JSON form the page reads (see ``coverage.tableLayer``).

        A column of one value is stored once (``codes``); one with few distinct values
        once per value (``codes``) with an index per point (``v``); any other column as
        one string per point (``v``).
        """
        return {"labels": [esc(c) for c in self.columns],
                "styles": [dict(s) for s in self.styles], "ids": self.ids, "lon": self.lon,
                "lat": self.lat, "cls": self.classes, "title": _encode(self.titles),
                "cols": [_encode(c) for c in self.cells]}


def _encode(values: list[str]) -> dict:
    """``{"codes": [the value]}`` when all are equal, ``{"codes": distinct values, "v":
    index per value}`` when few differ, else ``{"v": values}``."""
    codes: dict[str, int] = {}
    for v in values:
        codes.setdefault(v, len(codes))
    if len(codes) == 1:
        return {"codes": list(codes)}
    if 2 * len(codes) > len(values):
        return {"v": list(values)}
    return {"codes": list(codes), "v": [codes[v] for v in values]}


@dataclass(frozen=True)
class LegendItem:
    """One swatch of a legend: a fill, a point marker shape or a line."""

    label: str
    color: str
    shape: str = "fill"   # fill, circle, square, diamond, triangle, star, ring, line
    outline: str | None = None
    dash: bool = False


@dataclass(frozen=True)
class LegendSection:
    """A titled block of the legend, shown while any of ``layer_keys`` is on the map."""

    title: str
    items: tuple[LegendItem, ...]
    layer_keys: tuple[str, ...]


@dataclass
class MapSpec:
    """Everything one map page shows, before it becomes folium objects."""

    title: str
    language: str
    bounds: tuple[tuple[float, float], tuple[float, float]]
    layers: list[VectorLayer | ImageLayer | TableLayer] = field(default_factory=list)
    legend: list[LegendSection] = field(default_factory=list)
    search: list[dict] | None = None
    datum: str = "wgs84"

    def layer(self, key: str) -> VectorLayer | ImageLayer | TableLayer:
        """The layer with ``key`` (KeyError when absent)."""
        for layer in self.layers:
            if layer.key == key:
                return layer
        raise KeyError(key)

    def layer_keys(self) -> list[str]:
        """Layer keys in drawing order."""
        return [layer.key for layer in self.layers]


__all__ = ["DATUMS", "WGS84", "ImageLayer", "LegendItem", "LegendSection", "MapFrame",
           "MapSpec", "Popup", "Provenance", "TableLayer", "VectorLayer", "color", "esc",
           "fmt", "grid_table", "js_json", "pct", "popup_table", "record_popup_html"]
