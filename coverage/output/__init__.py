"""Output: what a run shows people, built from finished results.

* :mod:`coverage.output.report` — the readiness workbook, HTML report, CSV tables, headline;
* :mod:`coverage.output.plan_tables` — the plan's GeoPackage layers, CSV, KML folders and
  console lines;
* :mod:`coverage.output.figures` — the calibration scatter plot;
* :mod:`coverage.output.console` — the console summary of a run.

Output reads results and never computes them; the writers in :mod:`coverage.io` store what
it builds.
"""
