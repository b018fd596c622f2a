"""WGS84 ↔ GCJ-02 for the Gaode basemap: the transform lives in :mod:`coverage.io.chinacoords`."""

from __future__ import annotations

from coverage.io.chinacoords import gcj02_to_wgs84, in_china, shift_coords, wgs84_to_gcj02

__all__ = ["gcj02_to_wgs84", "in_china", "shift_coords", "wgs84_to_gcj02"]
