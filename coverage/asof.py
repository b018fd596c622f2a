"""The state of dated records on one day (the *as-of* date): done, open, overdue.

A work item is *done* on the as-of date when its status is ``done`` and its ``done`` date
(when recorded) is not after that day; otherwise it is *open*. An open item whose due
date lies before the as-of date is *overdue* (逾期). A site with status ``planned`` or
``building`` whose ``on_air_date`` lies before the as-of date is overdue too.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

PENDING_SITE_STATUSES = ("planned", "building")


def as_date(value: object) -> dt.date | None:
    """A date from a date, timestamp or ISO string (None for missing or unreadable)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (float, complex, np.floating, np.complexfloating, np.datetime64,
                          np.timedelta64)) and pd.isna(value):     # NaN, NaT
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        parsed = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    return None if pd.isna(parsed) else parsed.date()


def resolve_as_of(value: dt.date | None) -> dt.date:
    """The as-of date of a run: the configured day, or today when none is set."""
    return value if value is not None else dt.date.today()


def works_state(frame: pd.DataFrame | None, as_of: dt.date, inspection: dt.date
                ) -> pd.DataFrame:
    """Every work item with its state on ``as_of``.

    Parameters
    ----------
    frame : DataFrame or None
        A works table (``work_id``, ``village_id``, ``status``, optional ``due``, ``done``).
    as_of : datetime.date
        The day the state is read on.
    inspection : datetime.date
        The inspection day (``on_time`` means due on or before it).

    Returns
    -------
    DataFrame
        The table plus ``due_date``, ``done_date`` (dates or None), ``is_done``,
        ``on_time`` and ``overdue`` (bool) and ``days_late`` (int, 0 unless overdue).
    """
    cols = ["work_id", "village_id", "status", "due_date", "done_date", "is_done", "on_time",
            "overdue", "days_late"]
    if frame is None or frame.empty:
        return pd.DataFrame(columns=cols)
    works = frame.copy()
    due = works["due"] if "due" in works else pd.Series(None, index=works.index)
    done = works["done"] if "done" in works else pd.Series(None, index=works.index)
    works["due_date"] = [as_date(v) for v in due]
    works["done_date"] = [as_date(v) for v in done]
    works["is_done"] = [s == "done" and (d is None or d <= as_of)
                        for s, d in zip(works["status"], works["done_date"], strict=True)]
    works["on_time"] = [d is not None and d <= inspection for d in works["due_date"]]
    works["overdue"] = [not ok and d is not None and d < as_of
                        for ok, d in zip(works["is_done"], works["due_date"], strict=True)]
    works["days_late"] = [(as_of - d).days if late else 0
                          for late, d in zip(works["overdue"], works["due_date"], strict=True)]
    return works


def pending_sites_state(sites: pd.DataFrame, as_of: dt.date, inspection: dt.date
                        ) -> pd.DataFrame:
    """Sites still to come (planned / building) with ``due_date``, ``on_time``, ``overdue``.

    A pending site without an on-air date is not committed: ``on_time`` is false.
    """
    pending = sites[sites["status"].isin(PENDING_SITE_STATUSES)].copy()
    col = pending["on_air_date"] if "on_air_date" in pending else pd.Series(
        None, index=pending.index)
    pending["due_date"] = [as_date(v) for v in col]
    pending["on_time"] = [d is not None and d <= inspection for d in pending["due_date"]]
    pending["overdue"] = [d is not None and d < as_of for d in pending["due_date"]]
    pending["days_late"] = [(as_of - d).days if d is not None and d < as_of else 0
                            for d in pending["due_date"]]
    return pending
