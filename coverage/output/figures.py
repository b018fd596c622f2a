"""Figures of a run (PNG bytes; the writers in :mod:`coverage.io` store them)."""

from __future__ import annotations

import io
import math

import numpy as np

from coverage.evidence.calibration import FIT_MIN_PREDICTED_DBM, CalibrationFit
from coverage.evidence.compare import WITHIN_DB, Comparison

__all__ = ["scatter_png"]


def scatter_png(comparison: Comparison, fit: CalibrationFit | None = None, *,
                colors: dict[str, str] | None = None, dpi: int = 100) -> bytes:
    """Measured against predicted RSRP, one panel per operator, as PNG bytes.

    Each panel shows the 1:1 line, the ±6 dB band and, with ``fit``, the operator's fitted
    offset (measured = predicted + offset). Same inputs give the same bytes.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    usable = comparison.usable
    ops = sorted(set(usable["operator"])) or ["-"]
    colors = colors or {}
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"], "axes.unicode_minus": False}):
        fig = Figure(figsize=(4.2 * len(ops), 4.4), dpi=dpi)
        FigureCanvasAgg(fig)
        axes = np.atleast_1d(fig.subplots(1, len(ops), sharex=True, sharey=True))
        lo, hi = -140.0, -40.0
        if len(usable):
            vals = np.concatenate([usable["measured_dbm"], usable["predicted_dbm"]])
            lo = max(-150.0, 10 * math.floor(np.nanmin(vals) / 10))
            hi = min(-30.0, 10 * math.ceil(np.nanmax(vals) / 10))
        line = np.array([lo, hi])
        for ax, op in zip(axes, ops, strict=True):
            sub = usable[usable["operator"] == op]
            color = colors.get(op, "#1f77b4")
            ax.fill_between(line, line - WITHIN_DB, line + WITHIN_DB, color="#dddddd",
                            label=f"±{WITHIN_DB:g} dB")
            if lo < FIT_MIN_PREDICTED_DBM < hi:
                ax.axvline(FIT_MIN_PREDICTED_DBM, color="#999999", linestyle=":",
                           linewidth=0.8, label="fitted from here on")
            ax.plot(line, line, color="#555555", linewidth=1, label="1:1")
            ax.scatter(sub["predicted_dbm"], sub["measured_dbm"], s=4, alpha=0.35,
                       color=color, linewidths=0, rasterized=True)
            term = fit.term(op) if fit is not None else None
            if term is not None:
                ax.plot(line, line + term.offset_db, color="black", linestyle="--",
                        linewidth=1, label=f"fit {term.offset_db:+.1f} dB")
            err = sub["error_db"].to_numpy(float)
            if len(err):
                ax.set_title(f"{op}: n={len(err)}, mean error {err.mean():+.1f} dB, "
                             f"RMSE {np.sqrt(np.mean(err ** 2)):.1f} dB", fontsize=9)
            else:
                ax.set_title(f"{op}: no measurements", fontsize=9)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_aspect("equal")
            ax.set_xlabel("predicted RSRP (dBm)")
            ax.grid(True, linewidth=0.3)
            ax.legend(loc="upper left", fontsize=7)
        axes[0].set_ylabel("measured RSRP (dBm)")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
