"""The one-site job (``coverage-planner site``): a candidate's coverage from a DEM alone.

Modules
-------
request
    The job's parameters, checked (one clear message per problem).
job
    Working grid, path loss, RSRP, the overlay image and the one-line summary.
"""

from coverage.sitejob.job import SiteResult, run_site_job
from coverage.sitejob.request import SiteRequest, make_request

__all__ = ["SiteRequest", "SiteResult", "make_request", "run_site_job"]
