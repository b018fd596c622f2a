"""progress.html and progress.xlsx: the dispatch meeting's page and workbook.

Every figure of the page is a cell of the workbook: the paragraph's figures are the rows
of the summary sheet (汇总), which are totals of the other sheets. Words come from
:data:`coverage.labels.PROGRESS_LABELS`, in ``config.language``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape
from openpyxl import Workbook

from coverage.config import Config
from coverage.labels import label, operator_name, progress_label
from coverage.output.workbook import add_sheet

SHEETS = (("summary", "sheet_summary"), ("operators", "sheet_operators"),
          ("overdue", "sheet_overdue"), ("owners", "sheet_owners"),
          ("hazards", "sheet_hazards"), ("changes", "sheet_changes"),
          ("trend", "sheet_trend"))
"""(table attribute, sheet-name label) in workbook and page order."""

NAME_COLUMNS = ("village", "town", "owner", "operator")


def figure_text(value: object) -> str:
    """A figure as the paragraph writes it: whole numbers plain, money to 0.01 万元."""
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


def _cell(value: object, column: str, config: Config) -> object:
    lang = config.language
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if column == "operator" and value in config.operators:
        return operator_name(config, str(value))
    if column in ("verdict_before", "verdict_after"):
        return label(lang, str(value))
    if column in ("rules_resolved", "rules_new") and isinstance(value, list):
        return "；".join(label(lang, f"rule_{r}") for r in value) if lang == "zh" else \
            "; ".join(label(lang, f"rule_{r}") for r in value)
    if column == "reasons" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if column == "kind":
        return progress_label(lang, str(value))
    if column == "period":
        return progress_label(lang, f"period_{value}")
    if column == "key":
        return progress_label(lang, str(value))
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def translated(frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """``frame`` with headers and values in ``config.language`` (figures unchanged)."""
    lang = config.language
    out = pd.DataFrame({progress_label(lang, str(c)): [_cell(v, str(c), config)
                                                         for v in frame[c]]
                        for c in frame.columns})
    return out


def paragraph(tables: Any, config: Config) -> str:
    """The work report's paragraph, every figure a row of the summary sheet."""
    lang = config.language
    fig = dict(zip(tables.summary["key"], tables.summary["value"], strict=True))
    ops = [operator_name(config, op) for op in config.operators]
    joined = progress_label(lang, "ops_join").join(ops)
    count = "一两三四五六七八九十"[len(ops) - 1] if 0 < len(ops) <= 10 else str(len(ops))
    operators = f"{joined}{progress_label(lang, 'ops_tail', n=count)}" if lang == "zh" \
        else joined
    return progress_label(lang, "paragraph", year=tables.end.year, operators=operators,
                          **{k: figure_text(v) for k, v in fig.items()})


def build_progress_workbook(tables: Any, config: Config) -> Workbook:
    """progress.xlsx: one formatted sheet per table (汇总 first)."""
    wb = Workbook()
    wb.remove(wb.active)
    for attr, name in SHEETS:
        frame = translated(getattr(tables, attr), config)
        add_sheet(wb, progress_label(config.language, name), frame, config, ())
    return wb


def _svg_lines(days: list[str], series: dict[str, list[float]], colors: list[str]) -> Markup:
    """A small line chart (inline SVG): one polyline per series, days on the x axis."""
    width, height, left, bottom, top = 460, 220, 56, 36, 12
    values = [v for s in series.values() for v in s]
    vmax = max([*values, 1.0])
    n = max(len(days) - 1, 1)

    def xy(i: int, v: float) -> str:
        x = left + (width - left - 10) * i / n
        y = top + (height - top - bottom) * (1 - v / vmax)
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
             f'y2="{height - bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">'
             f'{escape(figure_text(float(vmax)))}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" font-size="10" '
             f'text-anchor="end">0</text>']
    for i, day in enumerate(days):
        if i in (0, len(days) - 1) or len(days) <= 7 or i % 2 == 0:
            x = xy(i, 0).split(",")[0]
            parts.append(f'<text x="{x}" y="{height - bottom + 14}" font-size="9" '
                         f'text-anchor="middle">{escape(day[:7])}</text>')
    for k, (name, vals) in enumerate(series.items()):
        color = colors[k % len(colors)]
        pts = " ".join(xy(i, v) for i, v in enumerate(vals))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                     f'points="{pts}"/>')
        parts.append(f'<text x="{left + 6 + 110 * (k % 4)}" y="{height - 6}" font-size="10" '
                     f'fill="{color}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _charts(tables: Any, config: Config) -> list[dict[str, object]]:
    lang = config.language
    trend = tables.trend
    days = [d.isoformat() for d in trend["day"]]
    palette = ["#1565c0", "#2e7d32", "#ef6c00", "#c62828"]

    def col(name: str) -> list[float]:
        return [float(v) for v in trend[name]]

    verdicts = {progress_label(lang, c): col(c) for c in trend.columns
                if c.startswith("villages_")}
    return [
        {"title": progress_label(lang, "chart_groups"),
         "svg": _svg_lines(days, {progress_label(lang, "groups_uncovered"):
                                  col("groups_uncovered")}, palette)},
        {"title": progress_label(lang, "chart_households"),
         "svg": _svg_lines(days, {progress_label(lang, "households_uncovered"):
                                  col("households_uncovered")}, palette[1:])},
        {"title": progress_label(lang, "chart_verdicts"),
         "svg": _svg_lines(days, verdicts, ["#2e7d32", "#1565c0", "#8e24aa", "#c62828"])},
        {"title": progress_label(lang, "chart_investment"),
         "svg": _svg_lines(days, {progress_label(lang, "investment_done_wan"):
                                  col("investment_done_wan")}, palette[2:])},
    ]


def render_progress_html(tables: Any, config: Config) -> str:
    """progress.html (jinja2, autoescape on): paragraph, tables, trend charts."""
    lang = config.language
    sections = []
    for attr, name in SHEETS:
        raw = getattr(tables, attr)
        frame = translated(raw, config)
        rows = []
        for values in zip(*(frame[c] for c in frame.columns), strict=True) if len(frame) else []:
            rows.append([{"text": "" if v is None else (figure_text(v) if isinstance(v, float)
                                                         else str(v)),
                          "num": isinstance(v, (int, float)) and not isinstance(v, bool),
                          "name": c in NAME_COLUMNS}
                         for v, c in zip(values, raw.columns, strict=True)])
        sections.append({"title": progress_label(lang, name), "headers": list(frame.columns),
                         "rows": rows, "charts": _charts(tables, config) if attr == "trend"
                         else []})
    env = jinja2.Environment(loader=jinja2.PackageLoader("coverage", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    words = {"summary": progress_label(lang, "summary"), "none": progress_label(lang, "none")}
    return env.get_template("progress.html.j2").render(
        lang="zh-CN" if lang == "zh" else "en",
        title=progress_label(lang, "title", county=config.county_name,
                             start=tables.start.isoformat(), end=tables.end.isoformat()),
        period_line=progress_label(lang, "period_line", start=tables.start.isoformat(),
                                   end=tables.end.isoformat(),
                                   first=tables.trend["day"].iloc[0].isoformat()
                                   if len(tables.trend) else tables.start.isoformat()),
        paragraph=paragraph(tables, config), words=words, sections=sections)
