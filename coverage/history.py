"""Any day in the past, reconstructed from the dated records themselves.

:func:`study_as_of` returns the study as the records say it stood at the end of a day
*D* (the run's as-of date), so that the state at any month-end is reproducible:

- **sites**: a site recorded on air with an ``on_air_date`` after *D* was not on air on
  *D*. The records do not say since when it was planned, so it is left out (absent) —
  unless a claim active on *D* names it, in which case the claim makes it a pending,
  committed site due on the claim's ``due`` (:mod:`coverage.claims`). Sites planned or
  being built stay as recorded (their planning has no date). A site on air without an
  ``on_air_date`` is taken as on air.
- **claims**: each claim's state on *D* follows its dates (:func:`coverage.claims.claim_state`).
- **works**: a work done after *D* was open on *D* (:func:`coverage.asof.works_state`
  already reads ``done`` against the as-of date).
- **hazards**: a hazard found after *D* did not exist yet; one fixed after *D*
  (``fixed_on``) was open on *D*. A hazard marked fixed without ``fixed_on`` counts as
  fixed (the date is unknown).
- **measurements** taken after *D* did not exist yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from coverage.asof import as_date
from coverage.claims import claimed_site_ids
from coverage.study import Study


def _after(values: pd.Series, day: dt.date) -> pd.Series:
    """Whether each value is a date after ``day`` (False for missing values)."""
    return pd.Series([d is not None and d > day for d in map(as_date, values)],
                     index=values.index, dtype=bool)


def study_as_of(study: Study, as_of: dt.date) -> Study:
    """``study`` as its dated records stood at the end of ``as_of`` (module docstring).

    Claimed sites are only kept here; :func:`coverage.claims.with_claim_sites` dates them.
    """
    sites = study.sites
    later = (sites["status"] == "on_air") & _after(sites["on_air_date"], as_of)
    keep = ~later | sites["site_id"].astype(str).isin(claimed_site_ids(study, as_of))
    changes: dict[str, object] = {}
    if not keep.all():
        changes["sites"] = sites[keep.to_numpy()].reset_index(drop=True)
    hz = study.hazards
    if hz is not None and len(hz):
        found_later = _after(hz["found"], as_of) if "found" in hz else \
            pd.Series(False, index=hz.index)
        fixed_later = _after(hz["fixed_on"], as_of) if "fixed_on" in hz else \
            pd.Series(False, index=hz.index)
        if found_later.any() or fixed_later.any():
            hz = hz[~found_later.to_numpy()].copy()
            fixed = hz["fixed"].astype("boolean").fillna(False).astype(bool)
            hz["fixed"] = fixed & ~fixed_later[hz.index]
            changes["hazards"] = hz.reset_index(drop=True)
    meas = study.measurements
    if meas is not None and len(meas) and "date" in meas:
        later_meas = _after(meas["date"], as_of)
        if later_meas.any():
            changes["measurements"] = meas[~later_meas.to_numpy()].reset_index(drop=True)
    return dataclasses.replace(study, **changes) if changes else study  # type: ignore[arg-type]
