"""Tables as offices keep them: Excel workbooks (.xlsx, .xls) and CSV in any common encoding.

:func:`read_table` returns every cell as text (None where blank), with the header row found
under any title rows, full-width characters normalised (NFKC) and trailing empty rows
dropped, plus the Excel row number of every data row so that messages name the row the
user sees. Which sheet is read: the one named in the configuration (``[inputs.<layer>]
sheet``), the one named after the layer, or the only sheet whose header matches the layer.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from coverage.errors import ProblemLog
from coverage.io import vocab
from coverage.schema import Layer

TABLE_EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx", ".xls")
"""Extensions read as tables."""

HEADER_SEARCH_ROWS = 20
"""Rows searched for the header (title rows above it are skipped)."""

SHEET_NAMES: dict[str, tuple[str, ...]] = {
    "villages": ("行政村", "村"), "groups": ("村民组", "组"), "points": ("测试点", "点位"),
    "households": ("农户", "住户"), "sites": ("基站", "站点", "站点台账", "基站台账"),
    "candidates": ("候选站", "候选站址", "候选点"),
    "grid": ("电网", "电网工程", "电网项目", "配网工程"),
    "mobile": ("通信", "通信工程", "基站工程", "移动通信工程"),
    "transformers": ("台区", "变压器", "配变"), "hazards": ("隐患", "线路隐患"),
    "measurements": ("测试", "测试数据", "路测", "拨测"),
    "claims": ("认领台账", "认领", "认领表"),
}
"""Sheet names read as each layer (besides the layer key itself)."""

EXAMPLE_PREFIX = "示例-"
"""Template example rows carry a value starting with this; they are not data."""

SCI_ID = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
"""An ID Excel turned into scientific notation (``3.40829E+15``)."""

TRUNCATED_ID = re.compile(r"^\d{6,}0{5,}$")
"""A long numeric ID ending in zeros: what a scientific-notation ID becomes when saved again
(``3408290000000000``); an error when it occurs more than once in the column."""


@dataclass
class Table:
    """A table as read: text cells and where each row came from.

    Attributes
    ----------
    frame : DataFrame
        Text cells (object dtype, None where blank), header names as written (NFKC).
    label : str
        How messages name it: ``file`` or ``file[工作表 名称]``.
    rows : ndarray of int
        The row number the user sees (Excel row, or CSV line) of every data row.
    """

    frame: pd.DataFrame
    label: str
    rows: np.ndarray


def decode_text(raw: bytes, label: str, log: ProblemLog) -> str | None:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GBK/GB18030 (noted)."""
    if b"\x00" in raw[:4096]:
        log.add(label, "not a text CSV file (it contains binary data)",
                "export the table as CSV (UTF-8) or Excel (.xlsx), or give the file the "
                "extension of its real format")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        log.add(label, "the CSV is neither UTF-8 nor GBK text",
                "save the table as 'CSV UTF-8' and try again")
        return None
    log.add(label, "CSV 为 GBK/GB18030 编码，已按此读取", "无需处理；另存为 CSV UTF-8 更稳妥",
            severity="note")
    return text


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not np.isfinite(v):
            return None
        return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d") if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    text = vocab.normalise_text(str(v))
    return text or None


def _sheets_xlsx(path: Path) -> dict[str, list[list[object]]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
                for ws in book.worksheets}
    finally:
        book.close()


def _sheets_xls(path: Path) -> dict[str, list[list[object]]]:
    import xlrd

    book = xlrd.open_workbook(str(path))
    out: dict[str, list[list[object]]] = {}
    for sheet in book.sheets():
        rows = []
        for r in range(sheet.nrows):
            row: list[object] = []
            for c in range(sheet.ncols):
                cell = sheet.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    row.append(bool(cell.value))
                else:
                    row.append(cell.value)
            rows.append(row)
        out[sheet.name] = rows
    return out


def _header_score(row: Sequence[str | None], layer: str, known: list[str]) -> int:
    table = vocab.header_aliases(layer)
    for name in known:
        table.setdefault(vocab.norm_key(name), name)
    for names in (vocab.GCJ_HEADERS, vocab.BD_HEADERS):
        for target, aliases in names.items():
            for a in aliases:
                table.setdefault(vocab.norm_key(a), target)
    keys = {"geometry", "wkt", "x", "y", "mnc", "rsrp"}
    return sum(1 for c in row if c is not None and (vocab.norm_key(c) in table
                                                   or vocab.norm_key(c) in keys))


def _grid_text(rows: list[list[object]]) -> list[list[str | None]]:
    return [[_cell_text(v) for v in r] for r in rows]


def list_sheets(path: Path) -> list[str] | None:
    """Sheet names of a workbook, or None when it cannot be opened."""
    try:
        return list((_sheets_xls(path) if path.suffix.lower() == ".xls"
                     else _sheets_xlsx(path)).keys())
    except Exception:  # any reader failure: not a readable workbook
        return None


def sheet_for_layer(sheets: list[str], layer: str) -> str | None:
    """The sheet named after ``layer`` (its key or a Chinese name), if any."""
    names = {vocab.norm_key(layer)} | {vocab.norm_key(n) for n in SHEET_NAMES.get(layer, ())}
    return next((s for s in sheets if vocab.norm_key(s) in names), None)


def read_table(path: Path, label: str, spec: Layer, log: ProblemLog, *,
               sheet: str | None = None) -> Table | None:
    """Read a CSV or Excel table as text cells; None (with problems logged) when unusable.

    Parameters
    ----------
    path : Path
        The file.
    label : str
        Its path relative to the data folder.
    spec : Layer
        The layer it holds (for finding the header and the sheet).
    log : ProblemLog
        Receives the problems.
    sheet : str, optional
        The sheet to read (an error when absent).
    """
    ext = path.suffix.lower()
    known = [c.name for c in spec.columns]
    if ext == ".csv":
        text = decode_text(path.read_bytes(), label, log)
        if text is None:
            return None
        if not text.strip():
            log.add(label, "the file is empty (no header, no rows)",
                    f"export the {spec.key} table again into {label}")
            return None
        try:
            raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None,
                              skip_blank_lines=False)
        except pd.errors.ParserError as exc:
            # A title row above the header has fewer fields; retry after it.
            lines = text.splitlines()
            start = next((i for i, ln in enumerate(lines[:HEADER_SEARCH_ROWS])
                          if _header_score(ln.split(","), spec.key, known) >= 2), None)
            if start is None:
                log.add(label, f"not a well-formed CSV table ({exc})".replace("\n", " "),
                        "check quoting and that every row has as many fields as the header")
                return None
            raw = pd.read_csv(io.StringIO("\n".join(lines[start:])), dtype=str,
                              keep_default_na=False, header=None, skip_blank_lines=False)
            raw.index = raw.index + start
        grid = [[None if v is None or str(v).strip() == "" else vocab.normalise_text(str(v))
                 for v in r] for r in raw.itertuples(index=False)]
        numbers = [int(i) + 1 for i in raw.index]
        return _frame_from_grid(grid, numbers, label, spec, log, csv=True)
    try:
        sheets = _sheets_xls(path) if ext == ".xls" else _sheets_xlsx(path)
    except Exception as exc:  # openpyxl/xlrd raise many kinds for damaged files
        log.add(label, f"无法作为 Excel 文件读取（{type(exc).__name__}: {exc}）",
                "请在 Excel/WPS 中打开并另存为 .xlsx 后重试")
        return None
    names = list(sheets)
    if sheet is not None:
        if sheet not in sheets:
            log.add(label, f"工作簿中没有名为 '{sheet}' 的工作表（现有：{'、'.join(names)}）",
                    f"在配置 [inputs.{spec.key}] sheet 中填写现有工作表名")
            return None
        chosen = sheet
    else:
        found = sheet_for_layer(names, spec.key)
        if found is not None:
            chosen = found
        else:
            filled = [n for n in names if any(any(v is not None and str(v).strip() != ""
                                                  for v in r) for r in sheets[n])]
            if len(filled) == 1:
                chosen = filled[0]
            else:
                scores = {n: max((_header_score(r, spec.key, known) for r in
                                  _grid_text(sheets[n][:HEADER_SEARCH_ROWS])), default=0)
                          for n in filled}
                good = [n for n in filled if scores[n] >= 2]
                if len(good) == 1:
                    chosen = good[0]
                else:
                    log.add(label, f"工作簿有多个工作表（{'、'.join(names)}），无法确定哪一个是 "
                            f"{spec.key} 表", f"在配置中写明 [inputs.{spec.key}] sheet = "
                            "\"工作表名\"，或只保留一个工作表")
                    return None
    where = f"{label}[工作表 {chosen}]" if len(names) > 1 or sheet else label
    grid = _grid_text(sheets[chosen])
    return _frame_from_grid(grid, list(range(1, len(grid) + 1)), where, spec, log, csv=False)


def _frame_from_grid(grid: list[list[str | None]], numbers: list[int], label: str,
                     spec: Layer, log: ProblemLog, csv: bool) -> Table | None:
    known = [c.name for c in spec.columns]
    head = None
    best = 0
    for i, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        score = _header_score(row, spec.key, known)
        if score > best:
            head, best = i, score
        if score >= max(2, min(len(known), 4)):
            head = i
            break
    if head is None or best < 2:
        head = next((i for i, r in enumerate(grid) if any(v is not None for v in r)), None)
    if head is None:
        log.add(label, "表格为空（没有表头也没有数据行）", f"请填入 {spec.key} 表的表头和数据")
        return None
    header_row = grid[head]
    width = max(len(r) for r in grid)
    header = [(header_row[j] if j < len(header_row) else None) for j in range(width)]
    keep = [j for j, h in enumerate(header) if h is not None]
    names = [str(header[j]).strip() for j in keep]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        log.add(label, f"表头有重复的列名：{'、'.join(dup)}（第 {numbers[head]} 行）",
                "每个列名只能出现一次：删除或改名重复的列")
        return None
    body = grid[head + 1:]
    data = [[(r[j] if j < len(r) else None) for j in keep] for r in body]
    frame = pd.DataFrame(data, columns=names, dtype=object)
    rows = np.array(numbers[head + 1:], dtype=int)
    blank = vocab.trim_blank_rows(frame)
    # cells outside the header (e.g. notes to the right) are ignored; blank rows dropped
    frame = frame.loc[~blank].reset_index(drop=True)
    rows = rows[~blank]
    example = np.array([any(isinstance(v, str) and v.startswith(EXAMPLE_PREFIX) for v in r)
                        for r in frame.itertuples(index=False)], dtype=bool)
    if example.any():
        frame = frame.loc[~example].reset_index(drop=True)
        rows = rows[~example]
        log.add(label, f"跳过 {int(example.sum())} 行示例（编号以“{EXAMPLE_PREFIX}”开头）",
                "无需处理", severity="note")
    if head > 0:
        log.add(label, f"表头在第 {numbers[head]} 行（其上 {head} 行为标题，已跳过）",
                "无需处理", severity="note")
    return Table(frame, label, rows)


def check_excel_damage(table: Table, spec: Layer, log: ProblemLog) -> None:
    """IDs that Excel turned into scientific notation: an error naming the fix."""
    for col in table.frame.columns:
        if not (col == spec.id_column or col.endswith("_id")):
            continue
        values = table.frame[col].to_numpy(dtype=object)
        counts = pd.Series(values, dtype=object).value_counts()
        bad = [i for i, v in enumerate(values) if isinstance(v, str) and (
            SCI_ID.match(v) or (TRUNCATED_ID.match(v) and counts.get(v, 0) > 1))]
        for i in bad[:20]:
            log.add(table.label, "编号被 Excel 改成了科学计数法，原编号已丢失末几位",
                    f"在原始表中将 '{col}' 列设置为“文本”格式后重新输入/导出编号（不要用 Excel "
                    "直接打开 CSV 再保存）", row=i + 1, column=col, value=values[i])
