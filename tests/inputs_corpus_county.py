"""A small county cut from the demo county (data/), for the input-corpus tests.

One town's villages with their groups, points and households, the sites, candidates and
measurements within 4 km of them, the works of those villages and the DEM over that
extent: a valid data folder that validates in a second or two, from which
``tests/test_inputs_corpus.py`` builds its variants (nothing binary is committed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from rasterio.windows import from_bounds

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
TOWN_VILLAGES = 6
"""Villages kept (the first of one town)."""
MARGIN_DEG = 0.04
"""Margin around the kept villages (degrees, about 4 km)."""


def build_small_county(out: Path) -> Path:
    """Write the small county into ``out`` (a data folder) and return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    vil = gpd.read_file(DATA / "villages/villages.gpkg", layer="villages")
    town = vil["town"].iloc[0]
    vil = vil[vil["town"] == town].head(TOWN_VILLAGES)
    ids = set(vil["village_id"])
    w, s, e, n = vil.total_bounds
    w, s, e, n = w - MARGIN_DEG, s - MARGIN_DEG, e + MARGIN_DEG, n + MARGIN_DEG
    (out / "villages").mkdir(exist_ok=True)
    target = out / "villages/villages.gpkg"
    for layer in ("villages", "groups", "points", "households"):
        frame = gpd.read_file(DATA / "villages/villages.gpkg", layer=layer)
        if layer == "villages":
            frame = vil
        elif layer == "households":
            groups = gpd.read_file(target, layer="groups")
            frame = frame[frame["group_id"].isin(set(groups["group_id"]))]
        else:
            frame = frame[frame["village_id"].isin(ids)]
        pyogrio.write_dataframe(frame, target, layer=layer, driver="GPKG")
    (out / "works").mkdir(exist_ok=True)
    for layer in ("grid", "mobile", "transformers", "hazards"):
        frame = gpd.read_file(DATA / "works/works.gpkg", layer=layer)
        frame = frame[frame["village_id"].isin(ids)]
        if layer == "mobile":
            frame = frame.assign(site_id=None)
        pyogrio.write_dataframe(frame, out / "works/works.gpkg", layer=layer, driver="GPKG")
    (out / "sites").mkdir(exist_ok=True)
    for name in ("sites", "candidates"):
        table = pd.read_csv(DATA / f"sites/{name}.csv", dtype=str, keep_default_na=False)
        lon, lat = table["lon"].astype(float), table["lat"].astype(float)
        keep = (lon > w) & (lon < e) & (lat > s) & (lat < n)
        table[keep].to_csv(out / f"sites/{name}.csv", index=False)
    (out / "measurements").mkdir(exist_ok=True)
    table = pd.read_csv(DATA / "measurements/measurements.csv", dtype=str,
                        keep_default_na=False)
    lon, lat = table["lon"].astype(float), table["lat"].astype(float)
    points = set(gpd.read_file(target, layer="points")["point_id"])
    keep = (lon > w) & (lon < e) & (lat > s) & (lat < n) & (
        (table["point_id"] == "") | table["point_id"].isin(points))
    table[keep].to_csv(out / "measurements/measurements.csv", index=False)
    (out / "terrain").mkdir(exist_ok=True)
    with rasterio.open(DATA / "terrain/dem.tif") as src:
        win = from_bounds(w, s, e, n, src.transform).round_offsets().round_lengths()
        profile = dict(src.profile, width=int(win.width), height=int(win.height),
                       transform=src.window_transform(win), tiled=False)
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
        data = src.read(1, window=win)
    with rasterio.open(out / "terrain/dem.tif", "w", **profile) as dst:
        dst.write(data, 1)
    return out


def copy_county(template: Path, dest: Path) -> Path:
    """A fresh copy of the small county at ``dest``."""
    shutil.copytree(template, dest)
    return dest


def sites_table(data: Path) -> pd.DataFrame:
    """The sites CSV as text."""
    return pd.read_csv(data / "sites/sites.csv", dtype=str, keep_default_na=False)


def first_row_index(frame: pd.DataFrame, column: str, value: str) -> int:
    """Index of the first row whose ``column`` equals ``value``."""
    return int(np.flatnonzero(frame[column].to_numpy() == value)[0])
