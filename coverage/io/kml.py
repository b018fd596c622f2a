"""KML writer: folders of placemarks (points, lines, polygons) for Google Earth / 2-step apps.

UTF-8 throughout (Chinese names stay readable), every text escaped, coordinates in
WGS84 longitude/latitude with 7 decimals (≈1 cm), no timestamps: the same layers give the
same bytes. The file is written atomically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry, BaseMultipartGeometry

from coverage.io.atomic import write_text_atomic

WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class KmlStyle:
    """Look of the placemarks of a folder (or of the rows naming it).

    Parameters
    ----------
    style_id : str
        Identifier (letters, digits, ``_`` and ``-``).
    color : str
        ``#rrggbb`` colour of icons, lines and polygon outlines.
    icon_scale : float
        Icon size factor.
    line_width : float
        Line width (pixels).
    fill_opacity : float
        Polygon fill opacity (0-1); 0 draws outlines only.
    icon : str
        Icon URL (Google Earth's standard push-pin style by default).
    """

    style_id: str
    color: str = "#1f77b4"
    icon_scale: float = 1.0
    line_width: float = 2.0
    fill_opacity: float = 0.3
    icon: str = "http://maps.google.com/mapfiles/kml/paddle/wht-blank.png"


@dataclass(frozen=True)
class KmlFolder:
    """One folder of placemarks: the rows of a GeoDataFrame.

    Parameters
    ----------
    name : str
        Folder name shown in the viewer.
    frame : GeoDataFrame
        Features (any CRS; reprojected to WGS84). Rows without geometry are skipped.
    name_column : str
        Column giving each placemark's name.
    fields : sequence of str
        Columns written as ExtendedData (in this order); default: every non-geometry column.
    style : KmlStyle
        Default style of the folder.
    style_column : str, optional
        Column whose value picks a style from ``styles`` (falling back to ``style``).
    styles : mapping of str to KmlStyle
        Styles by value of ``style_column``.
    """

    name: str
    frame: gpd.GeoDataFrame
    name_column: str
    fields: Sequence[str] | None = None
    style: KmlStyle = field(default_factory=lambda: KmlStyle("default"))
    style_column: str | None = None
    styles: Mapping[str, KmlStyle] = field(default_factory=dict)


def kml_color(hex_rgb: str, opacity: float = 1.0) -> str:
    """KML ``aabbggrr`` colour from ``#rrggbb`` and an opacity (0-1)."""
    h = hex_rgb.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour {hex_rgb!r} is not #rrggbb")
    alpha = max(0, min(255, round(opacity * 255)))
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}".lower()


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else format(float(value), ".10g")
    if isinstance(value, tuple | list):
        return ";".join(_fmt(v) for v in value)
    return str(value)


def _coords(seq: np.ndarray) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y in np.asarray(seq)[:, :2])


def _geometry(geom: BaseGeometry) -> str:
    kind = geom.geom_type
    if isinstance(geom, shapely.Point):
        return f"<Point><coordinates>{geom.x:.7f},{geom.y:.7f}</coordinates></Point>"
    if isinstance(geom, shapely.LineString):        # LinearRing included
        return (f"<LineString><tessellate>1</tessellate><coordinates>"
                f"{_coords(np.asarray(geom.coords))}</coordinates></LineString>")
    if isinstance(geom, shapely.Polygon):
        outer = (f"<outerBoundaryIs><LinearRing><coordinates>"
                 f"{_coords(np.asarray(geom.exterior.coords))}</coordinates></LinearRing>"
                 "</outerBoundaryIs>")
        inner = "".join(f"<innerBoundaryIs><LinearRing><coordinates>"
                        f"{_coords(np.asarray(r.coords))}</coordinates></LinearRing>"
                        "</innerBoundaryIs>" for r in geom.interiors)
        return f"<Polygon><tessellate>1</tessellate>{outer}{inner}</Polygon>"
    if isinstance(geom, BaseMultipartGeometry):     # Multi* and GeometryCollection
        parts = "".join(_geometry(g) for g in geom.geoms if not g.is_empty)
        return f"<MultiGeometry>{parts}</MultiGeometry>"
    raise ValueError(f"unsupported geometry type {kind}")


def _style_xml(style: KmlStyle) -> str:
    return (f"<Style id={quoteattr(style.style_id)}>"
            f"<IconStyle><color>{kml_color(style.color)}</color>"
            f"<scale>{style.icon_scale:g}</scale>"
            f"<Icon><href>{escape(style.icon)}</href></Icon></IconStyle>"
            f"<LineStyle><color>{kml_color(style.color)}</color>"
            f"<width>{style.line_width:g}</width></LineStyle>"
            f"<PolyStyle><color>{kml_color(style.color, style.fill_opacity)}</color>"
            f"<fill>{1 if style.fill_opacity > 0 else 0}</fill><outline>1</outline>"
            "</PolyStyle></Style>")


def kml_document(name: str, folders: Sequence[KmlFolder], description: str | None = None
                 ) -> str:
    """The KML text of a document made of ``folders`` (deterministic).

    Parameters
    ----------
    name : str
        Document name.
    folders : sequence of KmlFolder
        In display order; placemarks keep the row order of each frame.
    description : str, optional
        Document description (e.g. version, config hash, date).

    Returns
    -------
    str
        The whole document, ``\\n`` line ends.
    """
    styles: dict[str, KmlStyle] = {}
    for f in folders:
        for st in (f.style, *f.styles.values()):
            styles.setdefault(st.style_id, st)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<kml xmlns="http://www.opengis.net/kml/2.2">', "<Document>",
             f"<name>{escape(name)}</name>"]
    if description:
        lines.append(f"<description>{escape(description)}</description>")
    lines += [_style_xml(styles[k]) for k in sorted(styles)]
    for f in folders:
        lines.append(f"<Folder><name>{escape(f.name)}</name>")
        frame = f.frame
        if frame.crs is not None and len(frame):
            frame = frame.to_crs(WGS84)
        cols = list(f.fields) if f.fields is not None else [
            c for c in frame.columns if c != frame.geometry.name]
        for row_i in range(len(frame)):
            geom = frame.geometry.iloc[row_i]
            if geom is None or geom.is_empty:
                continue
            row = frame.iloc[row_i]
            style = f.style
            if f.style_column is not None:
                style = f.styles.get(_fmt(row[f.style_column]), f.style)
            data = "".join(f"<Data name={quoteattr(str(c))}><value>{escape(_fmt(row[c]))}"
                           "</value></Data>" for c in cols)
            lines.append(
                f"<Placemark><name>{escape(_fmt(row[f.name_column]))}</name>"
                f"<styleUrl>#{escape(style.style_id)}</styleUrl>"
                f"<ExtendedData>{data}</ExtendedData>{_geometry(geom)}</Placemark>")
        lines.append("</Folder>")
    lines += ["</Document>", "</kml>", ""]
    return "\n".join(lines)


def write_kml(target: str | Path, name: str, folders: Sequence[KmlFolder],
              description: str | None = None) -> None:
    """Write :func:`kml_document` to ``target`` as UTF-8, atomically."""
    write_text_atomic(target, kml_document(name, folders, description))
