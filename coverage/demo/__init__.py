"""Deterministic generator of the demo county in ``data/``: a synthetic Dabie-mountain county.

:func:`build_demo_county` is pure: from a seed it returns every layer in memory (DEM, county,
towns, administrative villages, village groups, test points, household clusters, operator
sites, candidate tower locations and the grid/mobile works tables). :func:`write_demo_county`
writes them through :mod:`coverage.io` and returns each file's SHA-256, so that regenerating
gives byte-identical files.

The county imitates a real case (a mountain county of about 180 administrative villages, 71 of
which had 284 village groups without signal in 2020): settlements sit in valleys and on lower
slopes, operators built first in the towns and the main valleys, then in some side valleys,
and remote valleys were left out. :func:`screen_coverage` estimates which groups lack signal
with a cheap single-knife-edge (Bullington) link budget over the DEM, calibrated against the
project's P.1812 engine (:mod:`coverage.radio`), which gives the figures that count.

Geometry is generated in a local metric plane (see :class:`~coverage.demo.terrain_synth.GridSpec`)
and written in EPSG:4326.

Modules, in the order the generator uses them:

- :mod:`~coverage.demo.plane` — the DEM grid, local plane, CRS and conversions;
- :mod:`~coverage.demo.placement` — spaced samples, Voronoi tilings, points kept inside;
- :mod:`~coverage.demo.names`, :mod:`~coverage.demo.dates` — invented names, record dates;
- :mod:`~coverage.demo.settlements`, :mod:`~coverage.demo.points` — county, villages, groups,
  households; test points;
- :mod:`~coverage.demo.linkbudget` — the cheap knife-edge link budget;
- :mod:`~coverage.demo.network`, :mod:`~coverage.demo.sites` — how the network grew; its
  operators, masts and the sites table;
- :mod:`~coverage.demo.screening` — which groups lack signal today;
- :mod:`~coverage.demo.candidates` — candidate tower locations;
- :mod:`~coverage.demo.power_works`, :mod:`~coverage.demo.mobile_works` — the works tables;
- :mod:`~coverage.demo.layers`, :mod:`~coverage.demo.build` — the layers and the whole build;
- :mod:`~coverage.demo.results` — :class:`DemoCounty` and :class:`Screening`;
- :mod:`~coverage.demo.figures`, :mod:`~coverage.demo.readme`, :mod:`~coverage.demo.files` —
  headline figures, the README text, writing the files.
"""

from __future__ import annotations

from coverage.demo.build import DEFAULT_SEED, build_demo_county
from coverage.demo.figures import county_figures
from coverage.demo.files import write_demo_county
from coverage.demo.plane import GRID as GRID
from coverage.demo.readme import readme_text
from coverage.demo.results import DemoCounty, Screening
from coverage.demo.screening import screen_coverage

__all__ = ["DEFAULT_SEED", "DemoCounty", "Screening", "build_demo_county", "county_figures",
           "readme_text", "screen_coverage", "write_demo_county"]
