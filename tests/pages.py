"""Read a written map page as its user sees it: every popup, tooltip and label as text.

Popups travel in two forms (:mod:`coverage.maps.core`): pre-rendered HTML strings
(``"popup": "…"``) and records built in the page when opened (a layer's ``strings`` and
each feature's ``pk`` indices). :func:`page_texts` renders the records exactly as the page
does (:func:`coverage.maps.core.record_popup_html`), so a check on the texts sees every
popup whichever form it travels in.
"""

from __future__ import annotations

import html as html_lib
import json
import re

from coverage.maps.core import record_popup_html

ALLOWED = {"kVA", "dBm", "dB", "km", "RSRP", "CMCC", "CT", "CU", "EPSG", "TDD", "FDD", "SINR",
           "OpenStreetMap", "OpenTopoMap", "Excel", "RMSE", "calibrate", "false"}
"""Units, operator and band codes, basemap names, and the config key the calibration note
quotes; ids (letters with digits, e.g. V012, HILL-0011:CT:FDD800) are removed first."""


def english_words(text: str) -> set[str]:
    """Latin words of two letters or more in ``text``, ids and :data:`ALLOWED` aside."""
    text = re.sub(r"[A-Za-z][\w-]*\d[\w:.-]*", "", text)
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED


def _plain(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment))


def record_popups(html: str) -> list[str]:
    """The HTML of every popup a page builds from records, as the page builds it."""
    out = []
    for m in re.finditer(r'<script type="application/json" id="[^"]+">(.*?)</script>', html,
                         re.S):
        data = json.loads(m.group(1))
        if isinstance(data, dict) and "strings" in data:
            out += [record_popup_html(data["strings"], f["properties"]["pk"])
                    for f in data["features"] if "pk" in f["properties"]]
    return out


def page_texts(html: str) -> list[str]:
    """Every popup (pre-rendered or built from records), tooltip, title and label of a
    map page, as plain text with the HTML entities resolved."""
    texts = [_plain(json.loads('"' + m.group(2) + '"'))
             for m in re.finditer(r'"(popup|tooltip|title|label)":\s*"((?:[^"\\]|\\.)*)"',
                                  html)]
    return texts + [_plain(p) for p in record_popups(html)]
