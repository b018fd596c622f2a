"""One rule for every text cell a table output writes: it is shown, never evaluated.

A spreadsheet program (Excel, WPS, LibreOffice) treats a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage return can hide such a
start; a tester called ``=HYPERLINK(...)`` or ``@SUM(...)`` in a CSV would be a live
formula on the office PC. Every CSV and XLSX the tool writes passes its text cells
through :func:`safe_cell` (tables through :func:`safe_table`), which prefixes such a
value with an apostrophe. Numbers are left alone: ``-3.5`` stays a number.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet evaluate (or hide) a cell's text."""


def safe_cell(value: object) -> object:
    """A value that a spreadsheet shows as text and never evaluates.

    Parameters
    ----------
    value : object
        Any cell value. Strings starting with one of :data:`FORMULA_STARTS` get a
        leading apostrophe; lists/tuples are joined with ``"; "`` and dicts written as
        ``key=value`` pairs first; everything else is returned unchanged.

    Returns
    -------
    object
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, (list, tuple)):
        return safe_cell("; ".join(str(v) for v in value))
    if isinstance(value, dict):
        return safe_cell(", ".join(f"{k}={v}" for k, v in value.items()))
    return value


def safe_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`safe_cell` applied to every text (object/string) column.

    Numeric columns are returned as they are (fast, and numbers are never formulas).
    """
    out = frame.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if pd.api.types.is_object_dtype(dtype) or isinstance(
                dtype, (pd.StringDtype, pd.CategoricalDtype)):
            out[col] = out[col].astype(object).map(safe_cell)
    return out


__all__ = ["FORMULA_STARTS", "safe_cell", "safe_table"]
