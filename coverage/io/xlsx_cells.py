"""A quicker way for openpyxl to write the common cells of a worksheet, byte for byte the same.

openpyxl (without lxml) writes every cell by building an ElementTree element and running it
through et_xmlfile's namespace-aware serialiser: about 30 µs a cell, most of the time of
saving the readiness workbook (~140,000 cells). The cells a report holds are nearly all plain
text, finite numbers or empty styled cells, whose XML is fixed by their coordinate, style id,
type and value. :func:`fast_cells` writes those as the same text directly and leaves every
other cell (formulas, dates, rich text, hyperlinks, other number types) to openpyxl.

The text is what ``openpyxl.cell._writer.etree_write_cell`` gives (openpyxl 3.1): attributes
``r``, ``s`` (styled cells), ``t`` in that order; strings inline (``inlineStr``) with
``xml:space="preserve"`` when they start or end with white space around other text;
numbers as ``"%.16g"``; text escaped as ElementTree escapes it (``&``, ``<``, ``>``).
``tests/test_io.py`` compares whole workbooks saved both ways.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["fast_cells"]


def _escape(text: str) -> str:
    """Character data escaped as ElementTree's serialiser escapes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _make_writer(original: Callable[..., None]) -> Callable[..., None]:
    """A ``write_cell(xf, worksheet, cell, styled)`` that writes the common cells itself."""

    def write_cell(xf: Any, worksheet: Any, cell: Any, styled: bool | None = None) -> None:
        value = cell._value
        kind = cell.data_type
        if cell._hyperlink is not None:
            original(xf, worksheet, cell, styled)
            return
        if value is None or (type(value) is str and value == ""):
            if kind not in ("n", "s"):
                original(xf, worksheet, cell, styled)
                return
            body = None
        elif kind == "s" and type(value) is str:
            stripped = value.strip()
            space = ' xml:space="preserve"' if stripped and stripped != value else ""
            body = f"<is><t{space}>{_escape(value)}</t></is>"
        elif kind == "n" and type(value) in (int, float) and math.isfinite(value):
            body = f"<v>{'%.16g' % value}</v>"  # noqa: UP031 (openpyxl's format)
        else:
            original(xf, worksheet, cell, styled)
            return
        style = f' s="{cell.style_id}"' if styled else ""
        t = "inlineStr" if kind == "s" else kind
        if body is None:
            xf._file(f'<c r="{cell.coordinate}"{style} t="{t}" />')
        else:
            xf._file(f'<c r="{cell.coordinate}"{style} t="{t}">{body}</c>')

    return write_cell


@contextmanager
def fast_cells() -> Iterator[None]:
    """Within the block, openpyxl saves common cells through the quicker writer.

    Does nothing when openpyxl writes through lxml (another serialiser, other bytes) or its
    writer is not the one this module reproduces.
    """
    from openpyxl.cell import _writer as cell_writer
    from openpyxl.worksheet import _writer as sheet_writer

    original = sheet_writer.write_cell
    if original is not cell_writer.etree_write_cell:
        yield
        return
    sheet_writer.write_cell = _make_writer(original)  # type: ignore[assignment]
    try:
        yield
    finally:
        sheet_writer.write_cell = original
