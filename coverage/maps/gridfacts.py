"""The grid facts of each village for the grid map's village popup.

户均配变容量 (total transformer kVA / households, with done capacity works applied as in
:mod:`coverage.capacity`), open grid works (and how many of them are overdue on the as-of
date or due after the inspection) and open power-line hazards — what a dispatch meeting
asks about a village, next to its name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from coverage import capacity
from coverage.asof import resolve_as_of, works_state

if TYPE_CHECKING:
    from coverage.study import Study


def grid_facts(study: Study, lab: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """village_id → popup rows (label → text) of the village's grid facts.

    Parameters
    ----------
    study : Study
        Transformers, grid works, hazards and the readiness settings (as-of, inspection,
        ``kva_per_household_min``).
    lab : dict
        The run's label table.

    Returns
    -------
    dict
        Rows for :func:`coverage.maps.core.popup_table`, in the run's language.
    """
    cfg = study.config.readiness
    zh = study.config.language == "zh"
    need = float(cfg.kva_per_household_min)
    as_of = resolve_as_of(cfg.as_of)
    works = works_state(study.grid_works, as_of, cfg.inspection_date)
    tr = study.transformers
    hz = study.hazards
    out: dict[str, dict[str, str]] = {}
    for vid in study.villages["village_id"].astype(str):
        rows: dict[str, str] = {}
        vworks = works[works["village_id"].astype(str) == vid] if len(works) else works
        sub = tr[tr["village_id"].astype(str) == vid] if tr is not None and len(tr) else None
        if sub is not None and len(sub):
            done = vworks[vworks["is_done"].astype(bool)] if len(vworks) else vworks
            done = capacity.capacity_works(done) if len(done) else done
            if len(done):
                done = done.sort_values(["done_date", "work_id"])
            else:
                done = pd.DataFrame({"work_id": [], "category": [], "kva_after": []})
            reg, _ = capacity.apply_works(sub, done)
            avg = capacity.average(reg)
            text = "—" if math.isinf(avg) else f"{avg:.2f} {lab['kva_hh_unit']}"
            mark = "" if avg >= need - 1e-9 else f"（低于{need:g}）" if zh else f" (< {need:g})"
            rows[lab["kva_village"]] = text + mark
        if len(works):
            open_ = vworks[~vworks["is_done"].astype(bool)]
            late = int((open_["overdue"].astype(bool)).sum())
            after = int((~open_["overdue"].astype(bool) & ~open_["on_time"].astype(bool)
                         & open_["due_date"].notna()).sum())
            words = str(len(open_))
            extra = []
            if late:
                extra.append(f"{lab['overdue']} {late}")
            if after:
                extra.append(f"{lab['late_inspection']} {after}")
            if extra:
                words += f"（{'，'.join(extra)}）" if zh else f" ({', '.join(extra)})"
            rows[lab["open_works"]] = words
        if hz is not None and len(hz):
            vh = hz[hz["village_id"].astype(str) == vid]
            fixed = vh["fixed"].map(bool) if "fixed" in vh else pd.Series(False, vh.index)
            rows[lab["open_hazards"]] = f"{int((~fixed).sum())} / {len(vh)}"
        out[vid] = rows
    return out


__all__ = ["grid_facts"]
