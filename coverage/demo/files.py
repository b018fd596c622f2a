"""Writing the demo county's files under a data folder (through :mod:`coverage.io`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from coverage.demo.readme import readme_text
from coverage.demo.results import DemoCounty
from coverage.io.atomic import write_text_atomic
from coverage.io.writers import write_csv, write_geotiff, write_gpkg

FILES = ("README.md", "sites/candidates.csv", "sites/claims.csv", "sites/sites.csv",
         "terrain/dem.tif",
         "villages/villages.gpkg", "works/works.gpkg")
"""The files written, relative to the data folder (``/`` separated)."""


def write_demo_county(county: DemoCounty, out_dir: Path) -> dict[str, str]:
    """Write the demo county's files under ``out_dir`` (through :mod:`coverage.io`).

    Parameters
    ----------
    county : DemoCounty
        From :func:`~coverage.demo.build_demo_county`.
    out_dir : Path
        The data folder (created when missing); existing files are replaced atomically.

    Returns
    -------
    dict of str to str
        Relative path (``/`` separated) to the SHA-256 of the written file.
    """
    out_dir = Path(out_dir)
    meta = {"generator": "coverage.demo", "seed": str(county.seed), "crs": county.crs,
            "synthetic": "true"}
    write_geotiff(out_dir / "terrain" / "dem.tif", county.dem, county.transform, county.crs,
                  county.nodata, tags=meta, cog=False)
    write_gpkg(out_dir / "villages" / "villages.gpkg", {
        "villages": county.villages, "groups": county.groups, "points": county.points,
        "households": county.households, "towns": county.towns, "county": county.county,
    }, metadata=meta)
    write_csv(out_dir / "sites" / "sites.csv", county.sites)
    write_csv(out_dir / "sites" / "candidates.csv", county.candidates)
    if county.claims is not None:
        write_csv(out_dir / "sites" / "claims.csv", county.claims)
    write_gpkg(out_dir / "works" / "works.gpkg", {
        "grid": county.grid_works, "mobile": county.mobile_works,
        "transformers": county.transformers, "hazards": county.hazards,
    }, metadata=meta)
    write_text_atomic(out_dir / "README.md", readme_text(county))
    return {rel: hashlib.sha256((out_dir / rel).read_bytes()).hexdigest() for rel in FILES}
