"""户均配变容量: a village's distribution-transformer capacity per household, and the grid
works that change it.

The register (台区变压器清单) may predate the works: a grid work that is done on the as-of
date and records ``kva_after`` is applied to it first. A work *adds capacity* when it
records ``kva_after`` (kVA):

- a new 台区 (category in :data:`NEW_TRANSFORMER_CATEGORIES`) adds a transformer of that
  size (its households stay counted on the existing 台区);
- any other category replaces the size of the transformer the work names in
  ``transformer_id``, or, when the works list names none, of the village's weakest
  transformer (lowest kVA per household) — the finding says so.

Works without ``kva_after`` (line works such as 线路改造, 低压线路改造) change no capacity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

NEW_TRANSFORMER_CATEGORIES = ("新增配变", "新增台区", "新建台区", "new_transformer")


@dataclass(frozen=True)
class Change:
    """One capacity work applied to a village's register.

    Attributes
    ----------
    work_id : str
    transformer_id : str
        The transformer changed (for a new 台区: the work id).
    kva_before, kva_after : float
        Size before and after (kVA; ``kva_before`` 0 for a new 台区).
    new : bool
        A new 台区 rather than an upgrade.
    named : bool
        The works list named the transformer (False: the weakest was assumed).
    """

    work_id: str
    transformer_id: str
    kva_before: float
    kva_after: float
    new: bool
    named: bool


def capacity_works(works: pd.DataFrame) -> pd.DataFrame:
    """The works that add capacity: those recording ``kva_after``."""
    if works is None or works.empty or "kva_after" not in works:
        return works.iloc[:0] if works is not None else pd.DataFrame()
    return works[pd.to_numeric(works["kva_after"], errors="coerce").notna()]


def apply_works(register: pd.DataFrame, works: pd.DataFrame
                ) -> tuple[pd.DataFrame, list[Change]]:
    """One village's register with ``works`` (capacity works, in order) applied.

    Parameters
    ----------
    register : DataFrame
        ``transformer_id``, ``kva`` (kVA), ``households`` of one village.
    works : DataFrame
        Capacity works of that village (``work_id``, ``category``, ``kva_after``, optional
        ``transformer_id``), applied in the given order.

    Returns
    -------
    register : DataFrame
        The changed copy.
    changes : list of Change
    """
    reg = register[["transformer_id", "kva", "households"]].copy().reset_index(drop=True)
    reg["kva"] = reg["kva"].astype(float)
    changes = []
    n = len(works)
    categories = works["category"].tolist() if "category" in works else [""] * n
    targets = works["transformer_id"].tolist() if "transformer_id" in works else [None] * n
    for work_id, kva_after, category, named in zip(
            works["work_id"].tolist(), works["kva_after"].tolist(), categories, targets,
            strict=True):
        after = float(kva_after)
        if str(category) in NEW_TRANSFORMER_CATEGORIES:
            # pandas-stubs types a row assignment's value as one scalar; a list is valid
            reg.loc[len(reg)] = [str(work_id), after, 0]  # type: ignore[assignment]
            changes.append(Change(str(work_id), str(work_id), 0.0, after, True, True))
            continue
        named = None if named is None or (isinstance(named, float) and np.isnan(named)) \
            else str(named)
        if named is not None and named in set(reg["transformer_id"]):
            i = int(np.flatnonzero(reg["transformer_id"].to_numpy() == named)[0])
        elif len(reg):
            ratio = reg["kva"].to_numpy(float) / np.maximum(reg["households"].to_numpy(float),
                                                             1)
            i = int(np.argmin(ratio))
            named = None
        else:
            reg.loc[len(reg)] = [str(work_id), after, 0]  # type: ignore[assignment]
            changes.append(Change(str(work_id), str(work_id), 0.0, after, True, True))
            continue
        before = float(reg["kva"].to_numpy()[i])
        reg.at[i, "kva"] = max(before, after)
        changes.append(Change(str(work_id), str(reg.at[i, "transformer_id"]), before,
                              max(before, after), False, named is not None))
    return reg, changes


def totals(kva: np.ndarray, households: np.ndarray) -> tuple[float, float]:
    """Total kVA and total households of a register's columns, missing values skipped (as
    the register's own sums skip them; households summed in their own type)."""
    return float(np.nansum(np.asarray(kva, float))), np.nansum(households)


def per_household(kva_total: float, households_total: float) -> float:
    """户均配变容量 (kVA per household) from a register's totals (inf without households)."""
    hh = float(households_total)
    return float(kva_total) / hh if hh > 0 else float("inf")


def average(register: pd.DataFrame) -> float:
    """户均配变容量 (kVA per household): total kVA / total households (inf without any)."""
    return per_household(*totals(register["kva"].to_numpy(float),
                                 register["households"].to_numpy()))


def ratios(kva: np.ndarray, households: np.ndarray) -> np.ndarray:
    """kVA per household of each transformer, for whole arrays at once.

    Parameters
    ----------
    kva : ndarray
        Transformer sizes (kVA).
    households : ndarray
        Households on each transformer.

    Returns
    -------
    ndarray
        kVA per household (kVA); inf where a transformer has no households.
    """
    hh = np.asarray(households, dtype=float)
    size = np.asarray(kva, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(hh > 0, size / np.where(hh > 0, hh, 1), np.inf)


def per_transformer(register: pd.DataFrame) -> np.ndarray:
    """kVA per household of each transformer (a transformer without households: inf)."""
    return ratios(register["kva"].to_numpy(float), register["households"].to_numpy(float))


def passes(register: pd.DataFrame, need: float, rule: str) -> bool:
    """Whether the register meets ``need`` kVA per household under ``rule``."""
    if rule == "per_transformer":
        return bool(np.all(per_transformer(register) >= need - 1e-9))
    return average(register) >= need - 1e-9


def remedy_works(register: pd.DataFrame, open_works: pd.DataFrame, need: float, rule: str,
                 inspection: dt.date) -> tuple[list[str], pd.DataFrame | None]:
    """The fewest open capacity works, in due-date order, that bring the village to ``need``.

    Only works due on or before the inspection count. Returns the work ids (empty when
    those works do not suffice) and the register once all on-time works are applied
    (None without any).
    """
    cand = capacity_works(open_works)
    cand = cand[cand["on_time"]].sort_values(["due_date", "work_id"]) if len(cand) else cand
    if cand.empty:
        return [], None
    reg = register
    used: list[str] = []
    for k in range(len(cand)):
        reg, _ = apply_works(register, cand.iloc[:k + 1])
        used.append(str(cand.iloc[k]["work_id"]))
        if passes(reg, need, rule):
            return used, reg
    return [], reg
