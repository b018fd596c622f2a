"""Workbook, HTML and CSV reports: right numbers, Chinese text, no injection."""

import datetime as dt
import io
import re

import pandas as pd
import pytest
from openpyxl import load_workbook
from toy import toy_signal, toy_study

from coverage.assess import assess
from coverage.config import Config
from coverage.output.report import build_workbook, csv_tables, headline, render_html
from coverage.readiness import evaluate

META = {"version": "0.1.0", "config_hash": "0a1b2c3d", "crs": "EPSG:32650",
        "generated": "2020-10-01"}


@pytest.fixture(scope="module")
def parts():
    study = toy_study(Config(readiness={"as_of": dt.date(2020, 10, 5)}))
    a = assess(study, toy_signal())
    return study, a, evaluate(study, a)


def test_headline(parts):
    h = headline(*parts)
    assert (h.villages, h.villages_covered, h.groups_covered, h.groups_uncovered) == (2, 1, 2, 1)
    assert h.households == 130 and h.households_covered == 90
    assert h.sites_per_operator == {"CMCC": 1, "CT": 1, "CU": 0}
    assert (h.hazards_found, h.hazards_fixed) == (2, 2)
    assert h.mobile_investment_wan == 45.0 and h.grid_investment_wan == 12.5


def test_workbook_reads_back(parts):
    wb = build_workbook(*parts, META)
    buf = io.BytesIO()
    wb.save(buf)
    back = load_workbook(io.BytesIO(buf.getvalue()))
    assert back.sheetnames == ["县级汇总", "行政村", "逾期事项", "未覆盖村民组", "村民组", "测试点",
                               "核查结论", "说明"]
    villages = back["行政村"]
    assert villages.freeze_panes == "B2" and villages.auto_filter.ref
    assert villages.page_setup.orientation == "landscape"
    assert str(villages.page_setup.paperSize) == str(villages.PAPERSIZE_A4)
    assert villages.print_title_rows == "$1:$1"
    head = [c.value for c in villages[1]]
    reasons = villages.cell(row=2, column=head.index("原因") + 1)
    assert reasons.alignment.wrap_text
    groups_ws = back["村民组"]
    ghead = [c.value for c in groups_ws[1]]
    assert "覆盖率_CMCC" in ghead and "中位RSRP(dBm)_任一运营商" in ghead
    assert groups_ws.cell(row=2, column=ghead.index("覆盖率_CMCC") + 1).number_format == "0%"
    assert groups_ws.cell(row=2, column=ghead.index("中位RSRP(dBm)_CMCC") + 1
                          ).number_format == "0.0"
    overdue = list(back["逾期事项"].iter_rows(values_only=True))
    assert overdue[1][:6] == ("V2", "移动网工程", "MW1", "CU", "2020-09-30", 5)
    rows = list(villages.iter_rows(values_only=True))
    header = rows[0]
    names = [r[header.index("名称")] for r in rows[1:]]
    assert names == ["石关村", "<img src=x onerror=alert(1)>"]
    groups = list(back["村民组"].iter_rows(values_only=True))
    formula_name = [r[groups[0].index("名称")] for r in groups[1:]][2]
    assert formula_name.startswith("'=")  # shown as text, never evaluated
    for ws in back.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {ws.title}!{cell.coordinate}"


def test_html_escapes_and_shows_numbers(parts):
    html = render_html(*parts, META)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "石关村" in html and "响肠镇" in html
    assert "90 / 130" in html  # households covered
    assert "工程完工后具备" in html


def test_english_labels(parts):
    study, a, r = parts
    en = study.config.model_copy(update={"language": "en"})
    import dataclasses
    html = render_html(dataclasses.replace(study, config=en), a, r, META)
    assert "Ready after works" in html and "Households covered" in html


def test_csv_tables_quote_formulas(parts):
    tables = csv_tables(parts[1], parts[2])
    assert set(tables) >= {"county.csv", "villages.csv", "groups.csv", "gaps.csv",
                           "findings.csv", "points.csv"}
    names = tables["groups.csv"]["name"].tolist()
    assert names[2].startswith("'=")


ALLOWED = {"kVA", "dBm", "dB", "km", "RSRP", "CMCC", "CT", "CU", "EPSG", "TDD", "FDD"}
HOSTILE = ("<img src=x onerror=alert(1)>", "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0")


def english_words(text: str) -> set[str]:
    """ASCII words in ``text`` other than ids (letters with digits), units and operator
    codes."""
    text = re.sub(r"[A-Za-z][A-Za-z_]*\d[\w:.-]*", "", text)  # ids such as V012, CU-TW1
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED


def test_chinese_workbook_has_no_english_words(parts):
    wb = build_workbook(*parts, META)
    for ws in wb.worksheets:
        head = [c.value for c in ws[1]]
        for row in ws.iter_rows(values_only=True):
            for col, value in zip(head, row, strict=False):
                if col == "规则编号":  # the rule id stays in its own column, for machines
                    continue
                if isinstance(value, str) and value not in HOSTILE:
                    if ws.title == "说明" and value in META.values():
                        continue
                    assert not english_words(value), (ws.title, value)


def test_chinese_report_has_no_english_words(parts):
    html = render_html(*parts, META)
    body = html[html.index("<body>"):]
    text = re.sub(r"<[^>]+>", " ", body)
    for bad in ("&lt;img src=x onerror=alert(1)&gt;", "=cmd|&#39; /C calc&#39;!A0"):
        text = text.replace(bad, "")
    assert not english_words(text), english_words(text)


def test_headline_county_table_and_workbook_agree(parts):
    a = parts[1]
    h = headline(*parts)
    county = a.county.set_index("operator").loc["ANY"]
    assert h.groups_required == county["groups_required"]
    assert h.groups_uncovered == county["groups_uncovered"] == h.groups_required - \
        h.groups_covered
    html = render_html(*parts, META)
    assert f"{h.groups_covered} / {h.groups_required}" in html
    assert f"{h.hazards_fixed} / {h.hazards_found}" in html


# ------------------------------------------------------------ spreadsheet formula injection

FORMULA_VALUES = ("=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1")


def test_every_formula_start_is_shown_as_text_and_numbers_stay_numbers():
    from coverage.output.cells import FORMULA_STARTS, safe_cell, safe_table

    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}
    table = pd.DataFrame({"tester": list(FORMULA_VALUES), "rsrp_dbm": [-101.5] * 6,
                          "note": pd.array(["张三", "=x", None, "a", "-", "@"],
                                           dtype="string")})
    safe = safe_table(table)
    assert list(safe["tester"]) == ["'" + v for v in FORMULA_VALUES]
    assert list(safe["note"][:2]) == ["张三", "'=x"] and safe["note"][5] == "'@"
    assert safe["rsrp_dbm"].tolist() == [-101.5] * 6  # numbers untouched
    assert table["tester"][0] == "=1+1"  # the input is not changed
    assert safe_cell(["=a", "b"]) == "'=a; b" and safe_cell(-3) == -3


def test_every_csv_the_run_writes_passes_through_the_escaping():
    # one function for every table output: each write_csv of the pipeline gets a frame
    # that went through safe_table (csv_tables applies it itself)
    import ast
    import inspect

    from coverage import pipeline

    tree = ast.parse(inspect.getsource(pipeline))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", None) == "write_csv"]
    assert len(calls) >= 5
    for call in calls:
        frame = call.args[1]
        ok = (isinstance(frame, ast.Call) and getattr(frame.func, "id", None) == "safe_table") \
            or ast.unparse(frame) == "table"  # the loop over csv_tables(...)
        assert ok, ast.unparse(call)


def test_csv_tables_escape_every_text_cell():
    study = toy_study()
    a = assess(study, toy_signal())
    r = evaluate(study, a)
    for name, frame in csv_tables(a, r).items():
        for col in frame.columns:
            for v in frame[col]:
                assert not (isinstance(v, str) and v.startswith(
                    ("=", "+", "-", "@", "\t", "\r"))), (name, col, v)


# ----------------------------------------------------------------------------------------
# The workbook's sheets are built a column at a time: the same file as cell by cell


def _sheet_cell_by_cell(wb, title, frame, config, operators):
    """The sheet as it was built before (every value through ``_value``, every cell styled
    on its own): the reference the column-at-a-time sheet must equal byte for byte."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from coverage.output import workbook as book

    ws = wb.create_sheet(title)
    heads = [book.header(str(c), config, operators) for c in frame.columns]
    ws.append(heads)
    bases = [book.split_column(str(c), operators)[0] for c in frame.columns]
    for row in frame.itertuples(index=False):
        ws.append([book._value(v, b, config.language, config)
                   for v, b in zip(row, bases, strict=True)])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = ws.cell(row=2, column=2)
    ws.auto_filter.ref = ws.dimensions
    for i, col in enumerate(frame.columns, start=1):
        base = bases[i - 1]
        letter = get_column_letter(i)
        if base in book.WIDE:
            width = 70.0
        else:
            longest = max([len(str(v)) for v in frame[col].head(300)] + [0])
            width = min(28.0, max(8.0, len(heads[i - 1]) * 1.8, longest * 1.2 + 2))
        ws.column_dimensions[letter].width = width
        fmt = {"share": "0%", "measured_share": "0%", "households_covered": "#,##0"}.get(
            base, "0.0" if base in book.DBM and pd.api.types.is_numeric_dtype(frame[col])
            else None)
        for cell in ws[letter][1:]:
            if fmt:
                cell.number_format = fmt
            cell.alignment = Alignment(wrap_text=True, vertical="top") if base in book.WIDE \
                else Alignment(vertical="top")
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    return ws


def _xlsx_bytes(wb, tmp_path, name):
    from coverage.io.writers import write_workbook

    write_workbook(tmp_path / name, wb, timestamp="2020-10-01T00:00:00Z")
    return (tmp_path / name).read_bytes()


def test_workbook_is_the_same_as_styled_cell_by_cell(parts, tmp_path, monkeypatch):
    from coverage.output import workbook as book

    fast = _xlsx_bytes(build_workbook(*parts, META), tmp_path, "fast.xlsx")
    monkeypatch.setattr(book, "add_sheet", _sheet_cell_by_cell)
    slow = _xlsx_bytes(build_workbook(*parts, META), tmp_path, "slow.xlsx")
    assert fast == slow


ODD = pd.DataFrame({
    "name": ["=SUM(A1)", None, "石关村"], "share_CMCC": [0.5, float("nan"), 1.0],
    "median_ANY": [-90.25, -101.0, float("nan")], "covered_CT": [True, False, True],
    "households": pd.array([3, None, 5], dtype="Int64"), "ok": pd.array(
        [True, None, False], dtype="boolean"), "reasons": [["a", "b"], [], ["-x"]],
    "message": [{"k": 1}, "plain", "+1"], "status": ["covered", "partial", "uncovered"],
    "operator": ["CMCC", "ANY", "XX"], "households_covered": [1200, 0, 7],
    "count": pd.array([1, 2, 3], dtype="uint8"), "text": pd.array(["x", None, "@y"],
                                                                  dtype="string"),
    "day": [dt.date(2020, 9, 30), None, dt.date(2020, 10, 1)]})


@pytest.mark.parametrize("frame", [ODD, ODD.iloc[:1], ODD.iloc[:0], ODD[["name"]],
                                   ODD[["name"]].iloc[:0], ODD.iloc[:0, :0]],
                         ids=["odd", "one_row", "no_row", "one_column",
                              "one_column_no_row", "empty"])
def test_sheet_is_the_same_as_styled_cell_by_cell(frame, tmp_path):
    from openpyxl import Workbook

    from coverage.output.workbook import add_sheet

    config, ops = Config(language="zh"), ("CMCC", "CT", "ANY")
    books = []
    for make in (add_sheet, _sheet_cell_by_cell):
        wb = Workbook()
        wb.remove(wb.active)
        make(wb, "表", frame, config, ops)
        make(wb, "again", frame, config, ops)  # the styles of a second sheet reuse the first's
        books.append(_xlsx_bytes(wb, tmp_path, f"{make.__name__}.xlsx"))
    assert books[0] == books[1]


def test_workbook_bytes_are_reproducible(parts, tmp_path):
    import zipfile

    first = _xlsx_bytes(build_workbook(*parts, META), tmp_path, "a.xlsx")
    assert _xlsx_bytes(build_workbook(*parts, META), tmp_path, "b.xlsx") == first
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        infos = z.infolist()
        core = z.read("docProps/core.xml").decode()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert core.count("2020-10-01T00:00:00Z") == 2  # created and modified


def test_workbook_leaves_the_garbage_collector_as_it_found_it(parts, tmp_path):
    import gc

    from coverage.io.writers import cycle_collection_paused

    assert gc.isenabled()
    _xlsx_bytes(build_workbook(*parts, META), tmp_path, "a.xlsx")  # paused inside, then on
    assert gc.isenabled()
    with pytest.raises(KeyError), cycle_collection_paused():
        assert not gc.isenabled()
        raise KeyError
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collection_paused():
            pass
        assert not gc.isenabled()  # a caller's pause is kept
    finally:
        gc.enable()
