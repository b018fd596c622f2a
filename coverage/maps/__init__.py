"""Interactive maps (folium/Leaflet), built from result objects only.

Public API
----------
``mobile_map``, ``grid_map``, ``readiness_map``, ``inputs_map`` build ``folium.Map``
objects; :func:`render` gives their standalone HTML (same inputs → same bytes);
:func:`index_page` is the landing page linking the maps and the report.

Only this package imports folium. Every user string is HTML-escaped where it enters a
popup or tooltip (see :mod:`coverage.maps.layers` and :mod:`coverage.maps.measurements`);
element ids are deterministic.
With ``offline_assets="assets"`` a map loads Leaflet and its plugins from
``assets/`` beside the HTML (see :mod:`coverage.io.assets`) instead of the CDN.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from coverage.maps.basemaps import BASEMAP_KINDS, Basemap
from coverage.maps.core import MapFrame, MapSpec, Provenance, esc, popup_table

if TYPE_CHECKING:
    from coverage.maps.builders import (
        MAX_RASTER_PX,
        build_pages,
        grid_map,
        index_page,
        inputs_map,
        map_frame,
        mobile_map,
        readiness_map,
        render,
    )

PAGES = ("inputs.html", "mobile.html", "grid.html", "readiness.html", "overview.png",
         "index.html")
"""The pages :func:`build_pages` builds, in its order."""


_LAZY = frozenset({"MAX_RASTER_PX", "build_pages", "grid_map", "index_page", "inputs_map",
                   "map_frame", "mobile_map", "readiness_map", "render"})
"""The names :func:`__getattr__` takes from :mod:`coverage.maps.builders`."""


class _Package(types.ModuleType):
    """This package: loading the submodule :mod:`coverage.maps.render` must not bind it as
    the package's ``render`` (the function, as it always was: see :func:`__getattr__`)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return   # still imported and in sys.modules; the name stays the builder's
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """The builders' names (:mod:`coverage.maps.builders`), imported on first use: folium,
    its templates and matplotlib load only when a map is built."""
    if name.startswith("__") or name == "builders":
        raise AttributeError(name)
    builders = importlib.import_module("coverage.maps.builders")
    try:
        return getattr(builders, name)
    except AttributeError:
        raise AttributeError(f"module 'coverage.maps' has no attribute {name!r}") from None


__all__ = [
    "BASEMAP_KINDS",
    "MAX_RASTER_PX",
    "PAGES",
    "Basemap",
    "MapFrame",
    "MapSpec",
    "Provenance",
    "build_pages",
    "esc",
    "grid_map",
    "index_page",
    "inputs_map",
    "map_frame",
    "mobile_map",
    "popup_table",
    "readiness_map",
    "render",
]
