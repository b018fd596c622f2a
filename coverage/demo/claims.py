"""The demo county's dated records of 2020: the operators' claims and the hazards' fix dates.

Claims (``sites/claims.csv``): every site that came on air from March 2020 on was claimed
in spring (认领), started, and put on air (开通) — some after their promised day; every site
being built is claimed and started (开工), some already overdue on 2020-09-30; every
planned site is claimed (认领) for the autumn, and one claim was withdrawn (撤回). Hazards
that are fixed get the day they were fixed (``fixed_on``).

A generator of its own (seeded from the county's seed) draws these, so the rest of the
county is exactly as before.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from coverage.demo.dates import iso, random_date

CLAIMS_FROM = dt.date(2020, 3, 1)
"""Sites on air from this day on were claimed by their operator."""

SPRING = (dt.date(2020, 3, 1), dt.date(2020, 5, 31))
"""The season of the claims (认领)."""


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, 16])


def claim_rows(seed: int, sites: pd.DataFrame) -> pd.DataFrame:
    """The claims file of the demo county (statuses written as the office writes them)."""
    rng = _rng(seed)
    rows: list[tuple[object, ...]] = []
    on = sites[(sites["status"] == "on_air") & (sites["on_air_date"].astype(str)
                                                 >= CLAIMS_FROM.isoformat())]
    for s in on.sort_values(["on_air_date", "site_id"]).itertuples():
        on_air = dt.date.fromisoformat(str(s.on_air_date))
        claimed = min(random_date(rng, *SPRING), on_air - dt.timedelta(days=40))
        started = claimed + dt.timedelta(days=int(rng.integers(10, 30)))
        late = bool(rng.random() < 0.35)
        due = on_air - dt.timedelta(days=int(rng.integers(12, 45))) if late else \
            on_air + dt.timedelta(days=int(rng.integers(0, 20)))
        due = max(due, claimed + dt.timedelta(days=30))
        rows.append((s.site_id, s.operator, claimed, due, "开通", started, on_air,
                     "晚于承诺日期开通" if on_air > due else ""))
    pending = sites[sites["status"].isin(["building", "planned"])]
    for s in pending.sort_values("site_id").itertuples():
        claimed = random_date(rng, *SPRING)
        if s.status == "building":
            started = random_date(rng, dt.date(2020, 6, 1), dt.date(2020, 7, 31))
            due = random_date(rng, dt.date(2020, 7, 20), dt.date(2020, 10, 25))
            rows.append((s.site_id, s.operator, claimed, due, "开工", started, None,
                         "村民阻工" if due < dt.date(2020, 9, 1) else ""))
        else:
            due = random_date(rng, dt.date(2020, 10, 10), dt.date(2020, 12, 31))
            rows.append((s.site_id, s.operator, claimed, due, "认领", None, None, ""))
    frame = pd.DataFrame(rows, columns=["site_id", "operator", "claimed_on", "due", "status",
                                        "started_on", "on_air_date", "note"])
    frame = frame.sort_values(["claimed_on", "site_id"], kind="stable").reset_index(drop=True)
    planned = np.flatnonzero((frame["status"] == "认领").to_numpy())
    if len(planned):
        i = int(planned[int(rng.integers(len(planned)))])
        frame.loc[i, "status"], frame.loc[i, "note"] = "撤回", "站址协调未果，运营商撤回"
    frame.insert(0, "claim_id", [f"RL2020-{i + 1:03d}" for i in range(len(frame))])
    for col in ("claimed_on", "due", "started_on", "on_air_date"):
        frame[col] = [iso(d) for d in frame[col]]
    return frame[["claim_id", "operator", "site_id", "claimed_on", "due", "status",
                  "started_on", "on_air_date", "note"]]


def hazard_fix_dates(seed: int, hazards: pd.DataFrame) -> list[str | None]:
    """The day each fixed hazard was fixed (None for open ones), by 2020-09-30."""
    rng = np.random.default_rng([seed, 16, 1])
    out: list[str | None] = []
    for found, fixed in zip(hazards["found"], hazards["fixed"], strict=True):
        if not fixed:
            out.append(None)
            continue
        day = dt.date.fromisoformat(str(found)) + dt.timedelta(days=int(rng.integers(5, 60)))
        out.append(iso(min(day, dt.date(2020, 9, 30))))
    return out
