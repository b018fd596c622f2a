"""Benchmark of the planning step on the demo county (issue 5).

Budget: candidate generation + candidate coverage + solve + claims + backhaul <= 120 s
with a cold prediction cache, the MILP solve alone <= 10 s, proven optimal (gap 0) or
within 1 %.

Usage::

    .venv/bin/python benchmarks/bench_plan.py [--data data] [--signal-cache DIR]

The existing network's signal (the input of the planning step, not part of the budget) is
predicted first, with the radio engine, and can be kept between runs with
``--signal-cache``. Candidate predictions always start cold. Prints one line per step and
exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_TOTAL_S = 120.0
BUDGET_SOLVE_S = 10.0
BUDGET_GAP = 0.01


def engine_rsrp_fn(study):
    """Per-site RSRP with the radio engine (used when :mod:`coverage.predict` is absent).

    Same link budget as the design: RS EPRE + gain + pattern − feeder − path loss − body
    loss, the P.1812 engine over the working DEM, sectors by the 3GPP pattern.
    """
    from coverage.plan.coverage_matrix import RsrpWindow
    from coverage.radio.antenna import PatternParams, best_sector_db
    from coverage.radio.engine import site_path_loss
    from coverage.radio.linkbudget import site_radio

    cfg = study.config
    grid = study.grid

    def fn(site):
        band = cfg.band(site["operator"], site["band"])
        az = tuple(site["azimuths"]) if isinstance(site["azimuths"], tuple | list) else ()
        radio = site_radio(band, omni=not az, power_dbm=site.get("power_dbm"),
                           gain_dbi=site.get("gain_dbi"), tilt_deg=site.get("tilt_deg"))
        x, y = site.geometry.x, site.geometry.y
        win = site_path_loss(grid.elevation, grid.transform, x, y, float(site["height_m"]),
                             band.frequency_mhz, rx_height_agl_m=cfg.rule.receiver_height_m,
                             radius_m=cfg.model.radius_km * 1000.0, delta_n=cfg.model.delta_n,
                             model=cfg.model.name)
        rows, cols = win.shape
        rr, cc = np.mgrid[win.row0:win.row0 + rows, win.col0:win.col0 + cols]
        cx, cy = grid.xy(rr, cc)
        dx, dy = cx - x, cy - y
        dist = np.maximum(np.hypot(dx, dy), 1.0)
        bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
        elev = grid.elevation[win.slices]
        dh = (win.site_ground_m + float(site["height_m"])) - (elev + cfg.rule.receiver_height_m)
        theta = np.degrees(np.arctan2(dh, dist))
        params = PatternParams(band.h_beamwidth_deg, band.v_beamwidth_deg,
                               band.front_to_back_db, band.side_lobe_v_db)
        pattern, _ = best_sector_db(bearing, theta, az, radio.tilt_deg, params)
        rsrp = (radio.rs_epre_dbm + radio.gain_dbi + pattern - radio.feeder_loss_db
                - win.loss_db - cfg.rule.body_loss_db)
        return RsrpWindow(win.row0, win.col0, rsrp.astype(np.float32))

    return fn


def rsrp_function(study):
    """The project's cached per-site prediction when available, else the engine directly."""
    try:
        from coverage import predict  # noqa: F401
    except ImportError:
        return engine_rsrp_fn(study), "engine (coverage.predict not available)"
    from coverage.plan.coverage_matrix import predict_rsrp_fn  # type: ignore[attr-defined]

    return predict_rsrp_fn(study), "coverage.predict"


def existing_signal(study, fn, cache: Path | None):
    """Best-server RSRP per operator of the existing sites (cached in ``cache``)."""
    from coverage.assess import SignalGrids

    ops = list(study.config.operators)
    if cache is not None and (cache / "signal.npz").exists():
        data = np.load(cache / "signal.npz")
        return SignalGrids(rsrp={op: data[f"rsrp_{op}"] for op in ops},
                           best_site={op: data[f"site_{op}"] for op in ops})
    shape = study.grid.shape
    rsrp = {op: np.full(shape, np.nan, np.float32) for op in ops}
    best = {op: np.full(shape, -1, np.int32) for op in ops}
    for i in range(len(study.sites)):
        site = study.sites.iloc[i]
        win = fn(site)
        op = site["operator"]
        r = win.rsrp_dbm
        sl = (slice(win.row0, win.row0 + r.shape[0]), slice(win.col0, win.col0 + r.shape[1]))
        cur = rsrp[op][sl]
        better = np.isfinite(r) & ~(r <= cur)
        cur[better] = r[better]
        best[op][sl][better] = i
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(cache / "signal.npz", **{f"rsrp_{op}": rsrp[op] for op in ops},
                 **{f"site_{op}": best[op] for op in ops})
    return SignalGrids(rsrp=rsrp, best_site=best)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--signal-cache", type=Path, default=None)
    args = parser.parse_args(argv)

    import coverage.radio  # noqa: F401  (imports numba safely first)
    from coverage.assess import assess
    from coverage.config import Config
    from coverage.plan import plan_summary
    from coverage.plan.backhaul import plan_backhaul
    from coverage.plan.candidates import generate_candidates, planning_targets
    from coverage.plan.claim import claim_sites
    from coverage.plan.coverage_matrix import coverage_matrix
    from coverage.plan.select import select_sites
    from coverage.study import load_study

    data = args.data
    if not (data / "terrain" / "dem.tif").exists():
        from coverage.demo import build_demo_county, write_demo_county

        data = Path(tempfile.mkdtemp(prefix="bench-plan-")) / "data"
        write_demo_county(build_demo_county(), data)
        print(f"demo county generated into {data}")
    config = Config()
    t = time.perf_counter()
    study = load_study(data, config)
    fn, source = rsrp_function(study)
    signal = existing_signal(study, fn, args.signal_cache)
    assessment = assess(study, signal)
    print(f"setup (not in the budget): load + existing signal ({len(study.sites)} sites) + "
          f"assess {time.perf_counter() - t:.1f} s; radio: {source}")

    timings = {}
    t0 = time.perf_counter()
    targets = planning_targets(assessment, config)
    candidates = generate_candidates(study, targets)
    timings["candidates"] = time.perf_counter() - t0
    t = time.perf_counter()
    matrix = coverage_matrix(study, signal, targets, candidates, fn)
    timings["coverage"] = time.perf_counter() - t
    t = time.perf_counter()
    selection = select_sites(matrix, candidates, config)
    timings["select"] = time.perf_counter() - t
    t = time.perf_counter()
    claims = claim_sites(selection, matrix, candidates, study)
    timings["claim"] = time.perf_counter() - t
    t = time.perf_counter()
    from coverage.plan import _chosen_for_backhaul

    backhaul = plan_backhaul(study, _chosen_for_backhaul(claims, candidates, study))
    timings["backhaul"] = time.perf_counter() - t
    total = time.perf_counter() - t0

    src = candidates["source"].value_counts().to_dict()
    print(f"targets: {len(targets.target_ids)} gap groups; candidates: {len(candidates)} "
          f"{src}; options predicted {matrix.stats['predicted']} of "
          f"{matrix.stats['options_possible']}, kept {matrix.stats['options_kept']}")
    solve_s = sum(s.seconds for s in selection.solves)
    print(f"MILP: {selection.n_variables} variables, {selection.n_constraints} constraints, "
          f"status {selection.status}, gap {selection.mip_gap:.4%}, solve {solve_s:.2f} s")
    for k, v in timings.items():
        print(f"  {k:<11} {v:7.2f} s")
    print(f"  {'total':<11} {total:7.2f} s (budget {BUDGET_TOTAL_S:g} s)")

    class _P:  # plan_summary needs only these attributes
        pass

    p = _P()
    p.selection, p.claims, p.backhaul = selection, claims, backhaul
    for line in plan_summary(p):  # type: ignore[arg-type]
        print(line)
    ok = (total <= BUDGET_TOTAL_S and solve_s <= BUDGET_SOLVE_S
          and selection.mip_gap <= BUDGET_GAP and not math.isnan(selection.mip_gap))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
