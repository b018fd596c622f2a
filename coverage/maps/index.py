"""``maps/index.html``: one page linking the maps and the report, with the headline figures
and a static overview picture. Plain HTML (jinja2 with autoescape), no scripts, no CDN.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import jinja2
import markupsafe

from coverage.maps.core import Provenance
from coverage.maps.labels import labels, operator_name
from coverage.output.plan_section import CSS as PLAN_CSS

if TYPE_CHECKING:
    from coverage.config import Config
    from coverage.output.report import Headline

_HREF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")

TEXT = {
    "zh": {"villages": "行政村", "villages_covered": "已覆盖行政村", "groups": "村民组",
           "groups_required": "需验收村民组",
           "groups_covered": "已覆盖村民组", "groups_uncovered": "未覆盖村民组(含部分覆盖)",
           "as_of": "统计截至", "overdue": "逾期事项",
           "households": "户数", "households_covered": "已覆盖户数", "sites": "现网基站",
           "shared_towers": "共享铁塔", "grid_investment": "电网投资(万元)",
           "mobile_investment": "移动网投资(万元)", "hazards": "线路隐患(已整改/排查)",
           "verdicts": "验收准备", "mobile.html": "移动网络覆盖与建设地图",
           "grid.html": "农网改造与线路隐患地图", "readiness.html": "行政村验收准备地图",
           "report.html": "核查报告", "readiness.xlsx": "验收准备表(Excel)",
           "progress.html": "调度会进展",
           "inputs.html": "输入数据总览地图", "figures": "主要指标", "overview_alt":
           "覆盖与验收准备总览图"},
    "en": {"villages": "Villages", "villages_covered": "Villages covered", "groups": "Groups",
           "groups_required": "Groups required",
           "groups_covered": "Groups covered", "groups_uncovered":
           "Groups uncovered (partial included)", "as_of": "As of", "overdue": "Overdue items",
           "households": "Households", "households_covered": "Households covered",
           "sites": "Existing sites", "shared_towers": "Shared towers",
           "grid_investment": "Grid investment (10k CNY)",
           "mobile_investment": "Mobile investment (10k CNY)",
           "hazards": "Hazards (fixed / found)", "verdicts": "Readiness",
           "mobile.html": "Mobile coverage and works map", "grid.html": "Grid works map",
           "readiness.html": "Village readiness map", "report.html": "Report",
           "readiness.xlsx": "Readiness workbook (Excel)", "inputs.html": "Input overview map",
           "progress.html": "Dispatch meeting progress",
           "figures": "Headline figures", "overview_alt": "Overview of coverage and readiness"},
}

TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ county }} · {{ lab.title_index }}</title>
<style>
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;
 color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 12px}
ul.links{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:10px}
ul.links a{display:block;padding:8px 14px;border:1px solid #1565c0;border-radius:4px;
 color:#1565c0;text-decoration:none}
ul.links a:hover{background:#e3f2fd}
table.figures{border-collapse:collapse;margin:8px 0 16px}
table.figures th,table.figures td{border:1px solid #ccc;padding:4px 10px;text-align:left}
table.figures td{text-align:right}
img.overview{max-width:100%;border:1px solid #ccc}
.note{color:#666;font-size:12px;margin-top:12px}
.READY{color:#2e7d32}.READY_AFTER_WORKS{color:#b28704}.READY_IF_PLAN_BUILT{color:#5b3fd9}
.NOT_READY{color:#c62828}
{{ plan_css }}</style>
</head>
<body>
<h1>{{ county }} · {{ lab.title_index }}</h1>
<ul class="links">
{% for href, label in links %}<li><a href="{{ href }}">{{ label }}</a></li>
{% endfor %}</ul>
<h2>{{ t.figures }}</h2>
<table class="figures">
{% for label, value in figures %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}{% for code, label, n in verdicts %}<tr><th class="{{ code }}">{{ t.verdicts }} ·
{{ label }}</th><td>{{ n }}</td></tr>
{% endfor %}</table>
{% if plan %}{{ plan }}{% endif %}
{% if overview %}<h2>{{ lab.overview }}</h2>
<img class="overview" alt="{{ t.overview_alt }}" src="data:image/png;base64,{{ overview }}">
{% endif %}
<p class="note">{{ lab.generated }} {{ prov.generated }} · {{ lab.data }} {{ prov.data }} ·
{{ lab.config }} {{ prov.config_hash }} · {{ lab.version }} {{ prov.version }} ·
{{ lab.crs }} {{ prov.crs }}</p>
</body>
</html>
"""

DEFAULT_LINKS = ("mobile.html", "grid.html", "readiness.html", "inputs.html", "report.html",
                 "readiness.xlsx", "progress.html")
"""The page's buttons; the plan's files are linked from its 建设方案 section."""


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def index_page(config: Config, headline: Headline, provenance: Provenance,
               links: Mapping[str, str] | None = None, overview_png: bytes | None = None,
               *, plan_html: str | None = None) -> str:
    """The landing page's HTML.

    Parameters
    ----------
    config : Config
        For the language, the county name and operator names.
    headline : Headline
        County figures (:func:`coverage.output.report.headline`).
    provenance : Provenance
    links : mapping of str to str, optional
        Relative file name → label, in order; default: the maps, the report and the
        workbook with labels in the config's language.
    overview_png : bytes, optional
        The overview picture (:func:`coverage.maps.overview.overview_png`), inlined.
    plan_html : str, optional
        The 建设方案 section (:func:`coverage.output.plan_section.plan_html`, already
        escaped), shown after the headline figures.

    Returns
    -------
    str
        HTML; every value is escaped by jinja2.

    Raises
    ------
    ValueError
        A link is not a plain relative file name.
    """
    lang = config.language
    lab = labels(lang)
    t = TEXT.get(lang, TEXT["en"])
    if links is None:
        links = {href: t[href] for href in DEFAULT_LINKS}
    for href in links:
        if not _HREF.match(href) or ".." in href:
            raise ValueError(f"index link {href!r} is not a plain relative file name")
    h = headline
    sites = ", ".join(f"{operator_name(config, op)} {n}"
                      for op, n in h.sites_per_operator.items())
    figures = [
        (t["villages"], _num(h.villages)),
        (t["villages_covered"], _num(h.villages_covered)),
        (t["groups"], _num(h.groups)),
        (t["groups_required"], _num(h.groups_required)),
        (t["groups_covered"], f"{_num(h.groups_covered)} / {_num(h.groups_required)}"),
        (t["groups_uncovered"], _num(h.groups_uncovered)),
        (t["households"], _num(h.households)),
        (t["households_covered"], _num(h.households_covered)),
        (t["sites"], sites),
        (t["shared_towers"], _num(h.shared_towers)),
        (t["grid_investment"], _num(h.grid_investment_wan, 1)),
        (t["mobile_investment"], _num(h.mobile_investment_wan, 1)),
        (t["hazards"], f"{h.hazards_fixed} / {h.hazards_found}"),
        (f"{t['overdue']}（{t['as_of']} {h.as_of}）" if lang == "zh"
         else f"{t['overdue']} ({t['as_of']} {h.as_of})", _num(h.overdue)),
    ]
    verdicts = [(code, lab[code], n) for code, n in h.verdicts.items()]
    env = jinja2.Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
    return env.from_string(TEMPLATE).render(
        lang=lang, county=config.county_name, lab=lab, t=t,
        links=list(links.items()), figures=figures, verdicts=verdicts,
        overview=base64.b64encode(overview_png).decode("ascii") if overview_png else None,
        prov=provenance, plan=markupsafe.Markup(plan_html) if plan_html else None,
        plan_css=markupsafe.Markup(PLAN_CSS) if plan_html else "")


__all__ = ["DEFAULT_LINKS", "index_page"]
