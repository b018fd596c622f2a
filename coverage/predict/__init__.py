"""Prediction: RSRP of sites on the working grid.

* :mod:`coverage.predict.sites` — one site: its job record, loss window (cached), RSRP window;
* :mod:`coverage.predict.network` — every site of a study folded into best-server rasters
  (in this process; :mod:`coverage.scale` runs the same site functions tile by tile and on
  dask);
* :mod:`coverage.predict.candidates` — candidate sites' RSRP at chosen cells, for planning.

The result types and the best-server rule are in :mod:`coverage.signal`.
"""

from coverage.predict.candidates import CandidateRadio, candidate_sites
from coverage.predict.network import predict_coverage
from coverage.predict.sites import (
    SITES_FILE,
    SiteJob,
    job_loss_key,
    loss_cache_key,
    make_site_job,
    mast_key,
    predict_site,
    predict_sites,
    settings_warnings,
    site_loss,
    unpredictable,
    window_rsrp,
)

__all__ = ["SITES_FILE", "CandidateRadio", "SiteJob", "candidate_sites", "job_loss_key",
           "loss_cache_key", "make_site_job", "mast_key", "predict_coverage", "predict_site",
           "predict_sites",
           "settings_warnings", "site_loss", "unpredictable", "window_rsrp"]
