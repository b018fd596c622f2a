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

import numpy as np
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

    Notes
    -----
    The tables are split by village once (row positions per village); a village whose
    register no done capacity work changes has its average from the register's columns,
    the others go through :func:`coverage.capacity.apply_works`. The texts are those of a
    village-by-village selection.
    """
    cfg = study.config.readiness
    zh = study.config.language == "zh"
    need = float(cfg.kva_per_household_min)
    as_of = resolve_as_of(cfg.as_of)
    works = works_state(study.grid_works, as_of, cfg.inspection_date)
    tr = study.transformers
    hz = study.hazards
    none = np.empty(0, np.int64)
    have_works = bool(len(works))
    if have_works:
        work_rows = _rows_by_village(works)
        is_done = works["is_done"].astype(bool).to_numpy()
        overdue = works["overdue"].astype(bool).to_numpy()
        after_inspection = (~overdue & ~works["on_time"].astype(bool).to_numpy()
                            & works["due_date"].notna().to_numpy())
        changes = is_done & (pd.to_numeric(works["kva_after"], errors="coerce").notna()
                             .to_numpy() if "kva_after" in works else False)
    register = tr if tr is not None else pd.DataFrame()
    have_register = bool(len(register))
    if have_register:
        register_rows = _rows_by_village(register)
        kva = register["kva"].to_numpy(float)
        households = register["households"].to_numpy()
    have_hazards = hz is not None and bool(len(hz))
    if have_hazards:
        assert hz is not None
        hazard_rows = _rows_by_village(hz)
        fixed = (hz["fixed"].map(bool).to_numpy(bool) if "fixed" in hz
                 else np.zeros(len(hz), bool))
    out: dict[str, dict[str, str]] = {}
    for vid in study.villages["village_id"].astype(str):
        rows: dict[str, str] = {}
        wpos = work_rows.get(vid, none) if have_works else none
        tpos = register_rows.get(vid, none) if have_register else none
        if len(tpos):
            if len(wpos) and changes[wpos].any():
                avg = _average_after_works(register.iloc[tpos], works.iloc[wpos])
            else:  # the register as it is
                avg = capacity.per_household(*capacity.totals(kva[tpos], households[tpos]))
            text = "—" if math.isinf(avg) else f"{avg:.2f} {lab['kva_hh_unit']}"
            mark = "" if avg >= need - 1e-9 else f"（低于{need:g}）" if zh else f" (< {need:g})"
            rows[lab["kva_village"]] = text + mark
        if have_works:
            open_ = wpos[~is_done[wpos]]
            late = int(overdue[open_].sum())
            after = int(after_inspection[open_].sum())
            words = str(len(open_))
            extra = []
            if late:
                extra.append(f"{lab['overdue']} {late}")
            if after:
                extra.append(f"{lab['late_inspection']} {after}")
            if extra:
                words += f"（{'，'.join(extra)}）" if zh else f" ({', '.join(extra)})"
            rows[lab["open_works"]] = words
        if have_hazards:
            hpos = hazard_rows.get(vid, none)
            rows[lab["open_hazards"]] = f"{int((~fixed[hpos]).sum())} / {len(hpos)}"
        out[vid] = rows
    return out


def _rows_by_village(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row positions (ascending) of ``frame`` per village id (as text)."""
    keys = frame["village_id"].astype(str).to_numpy()
    groups = pd.Series(keys).groupby(keys, sort=False).indices
    return {str(k): np.asarray(v, np.int64) for k, v in groups.items()}


def _average_after_works(register: pd.DataFrame, works: pd.DataFrame) -> float:
    """户均配变容量 of one village's register with its done capacity works applied."""
    done = capacity.capacity_works(works[works["is_done"].astype(bool)])
    reg, _ = capacity.apply_works(register, done.sort_values(["done_date", "work_id"]))
    return capacity.average(reg)


__all__ = ["grid_facts"]
