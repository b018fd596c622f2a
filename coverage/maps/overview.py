"""A static overview picture (PNG) for ``maps/index.html``: coverage and verdicts.

Left: the any-operator RSRP classes (the map's colour steps) with village boundaries and
groups that lack coverage outlined. Right: villages coloured by readiness verdict.
Drawn with matplotlib's Agg canvas (no pyplot state), in the working CRS. Labels are in
the config's language when a CJK font is installed, else in English.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from coverage.maps.labels import labels
from coverage.maps.layers import STATUS_COLORS, VERDICT_COLORS, VERDICTS
from coverage.maps.raster import RSRP_COLORS, classify_rsrp, rsrp_class_labels

if TYPE_CHECKING:
    from coverage.assess import Assessment
    from coverage.readiness import Readiness
    from coverage.signal import Signal
    from coverage.study import Study

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei",
             "PingFang SC")


def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese, or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    # matplotlib's font cache may predate the CJK fonts (installed later): register the
    # system's CJK font files once and look again
    for path in font_manager.findSystemFonts():
        if any(key in path for key in ("CJK", "WenQuanYi", "wqy", "SourceHanSans")):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def _any_rsrp(signal: Signal | None, max_cells: int) -> tuple[np.ndarray | None, int]:
    """The any-operator RSRP (dBm) subsampled to ≤ ``max_cells`` per side, and the stride."""
    if signal is None or not signal.rsrp:
        return None, 1
    stack = None
    for arr in signal.rsrp.values():
        a = np.asarray(arr, np.float32)
        stack = a.copy() if stack is None else np.fmax(stack, a)
    assert stack is not None
    stride = max(1, int(np.ceil(max(stack.shape) / max_cells)))
    return stack[::stride, ::stride], stride


def overview_png(study: Study, signal: Signal | None, assessment: Assessment,
                 readiness: Readiness, *,
                 dpi: int = 100, max_cells: int = 1200) -> bytes:
    """The overview picture as PNG bytes (same inputs → same bytes).

    Parameters
    ----------
    study : Study
    signal : SignalGrids or None
        RSRP per operator (dBm); None leaves the coverage panel without the raster.
    assessment : Assessment
    readiness : Readiness
    dpi : int
        Resolution; the figure is 12 × 7 inches (legends below the maps).
    max_cells : int
        The raster is subsampled to at most this many cells on its long side.

    Returns
    -------
    bytes
    """
    cfg = study.config
    font = cjk_font()
    language = cfg.language if (cfg.language != "zh" or font) else "en"
    lab = labels(language)
    import matplotlib

    with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
                                "axes.unicode_minus": False, "svg.hashsalt": "coverage"}):
        fig = Figure(figsize=(12, 7), dpi=dpi)
        FigureCanvasAgg(fig)
        ax1, ax2 = fig.subplots(1, 2, sharex=True, sharey=True)
        grid = study.grid
        xmin, ymin, xmax, ymax = grid.bounds
        any_rsrp, _ = _any_rsrp(signal, max_cells)
        if any_rsrp is not None:
            classes = classify_rsrp(any_rsrp).astype(float)
            classes[classes == 0] = np.nan
            cmap = ListedColormap(list(RSRP_COLORS))
            ax1.imshow(classes, cmap=cmap, vmin=0.5, vmax=len(RSRP_COLORS) + 0.5,
                       extent=(xmin, xmax, ymin, ymax), interpolation="nearest", alpha=0.85)
        villages = study.villages
        groups = study.groups.merge(
            assessment.groups[["group_id", "status_ANY"]], on="group_id",
            how="left")
        for status in ("partial", "uncovered"):
            sub = groups[groups["status_ANY"] == status]
            if len(sub):
                sub.boundary.plot(ax=ax1, color=STATUS_COLORS[status], linewidth=1.0)
        villages.boundary.plot(ax=ax1, color="#333333", linewidth=0.5)
        verdicts = villages.merge(readiness.villages[["village_id", "verdict"]],
                                  on="village_id", how="left")
        for v in VERDICTS:
            sub = verdicts[verdicts["verdict"] == v]
            if len(sub):
                sub.plot(ax=ax2, color=VERDICT_COLORS[v], edgecolor="#333333", linewidth=0.4)
        ax1.set_title(f"{lab['coverage']} · {lab['any_operator']}", fontsize=12)
        ax2.set_title(lab["title_readiness"], fontsize=12)
        handles1 = [Patch(color=c, label=f"{t} dBm") for t, c in
                    zip(rsrp_class_labels(), RSRP_COLORS, strict=True)]
        handles1 += [Patch(facecolor="none", edgecolor=STATUS_COLORS[s],
                           label=f"{lab['groups']}: {lab[s]}") for s in ("partial", "uncovered")]
        # legends below the maps, never over a village
        ax1.legend(handles=handles1, loc="upper center", bbox_to_anchor=(0.5, -0.01),
                   ncol=4, fontsize=7, frameon=False)
        counts = readiness.counts
        ax2.legend(handles=[Patch(color=VERDICT_COLORS[v], label=f"{lab[v]} ({counts.get(v, 0)})")
                            for v in VERDICTS], loc="upper center", bbox_to_anchor=(0.5, -0.01),
                   ncol=2, fontsize=8, frameon=False)
        # framed on the whole county (its villages), whatever part the grid covers
        vx0, vy0, vx1, vy1 = villages.total_bounds
        pad = 0.02 * max(vx1 - vx0, vy1 - vy0)
        for ax in (ax1, ax2):
            ax.set_xlim(vx0 - pad, vx1 + pad)
            ax.set_ylim(vy0 - pad, vy1 + pad)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
        county = str(cfg.county_name)
        fig.suptitle(county if (font or county.isascii()) else "", fontsize=13)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


__all__ = ["cjk_font", "overview_png"]
