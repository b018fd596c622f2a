"""Candidates (user list, shareable towers, hill sites) and the candidate coverage matrix."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import Point, box

from coverage.assess import assess
from coverage.config import Config
from coverage.grid import WorkingGrid
from coverage.plan.candidates import (
    generate_candidates,
    hill_sites,
    planning_targets,
    slope_deg,
    thin_by_spacing,
)
from coverage.plan.coverage_matrix import coverage_matrix
from coverage.predict.candidates import (
    CandidateRadio,
    RsrpWindow,
    candidate_sites,
    useful_bands,
    window_rsrp_at,
)
from coverage.signal import SignalGrids
from tests.toy import RES, UTM50, X0, Y0, cell_box, cell_point, toy_signal, toy_study

CELL = 50.0
"""Cell size of the hill test grid (m)."""


def hill_grid() -> WorkingGrid:
    """80 x 80 cells of 50 m: gentle hill A (160 m) at (20, 20), B (150 m) 350 m east of
    it at (20, 27), C (180 m) far away at (70, 70), a one-cell spike D at (35, 10)."""
    r, c = np.mgrid[0:80, 0:80].astype(float)

    def hill(r0, c0, h, s):
        return h * np.exp(-((r - r0) ** 2 + (c - c0) ** 2) / (2 * s * s))

    z = 100.0 + hill(20, 20, 60, 2) + hill(20, 27, 50, 2) + hill(70, 70, 80, 3)
    z[35, 10] += 200.0                                   # a spike: far too steep to build on
    return WorkingGrid(elevation=z.astype(np.float32),
                       transform=Affine(CELL, 0, X0, 0, -CELL, Y0), crs=UTM50,
                       resolution_m=CELL)


def cells(r0, r1, c0, c1):
    return box(X0 + c0 * CELL, Y0 - r1 * CELL, X0 + c1 * CELL, Y0 - r0 * CELL)


def test_slope_of_a_plane():
    z = np.add.outer(np.zeros(5), np.arange(5) * 10.0)   # rises 10 m per 10 m cell: 45 deg
    assert slope_deg(z, 10.0)[2, 2] == pytest.approx(45.0)


def test_thinning_keeps_higher_and_respects_spacing():
    x = np.array([0.0, 100.0, 250.0, 1000.0])
    y = np.zeros(4)
    kept = thin_by_spacing(x, y, np.array([5.0, 9.0, 1.0, 2.0]), 200.0)
    assert kept.tolist() == [1, 3]                       # 0 is within 200 m of 1, 2 is too
    kept = thin_by_spacing(x, y, np.array([5.0, 9.0, 1.0, 2.0]), 150.0)
    assert kept.tolist() == [1, 2, 3]                    # exactly 150 m apart is allowed


def test_hill_sites_near_gaps_not_steep_and_thinned():
    grid = hill_grid()
    gap = gpd.GeoDataFrame({"group_id": ["G1"]}, geometry=[cells(28, 40, 5, 30)], crs=UTM50)
    planning = Config().planning
    planning.hill_spacing_m = 500.0
    planning.hill_search_km = 1.0
    planning.max_slope_deg = 30.0
    hills = hill_sites(grid, gap, planning)
    rc = [grid.rowcol(x, y) for x, y in zip(hills["x"], hills["y"], strict=True)]
    rc = [(round(float(r)), round(float(c))) for r, c in rc]
    assert rc == [(20, 20)]                    # B thinned (350 m from A), C far, D too steep
    row = hills.iloc[0]
    assert row["tower_id"] == "HILL-0001" and row["source"] == "hill"
    assert row["price_wan"] == 60.0 and row["height_m"] == 35.0
    assert row["gap_distance_m"] == pytest.approx(8 * CELL)
    planning.max_slope_deg = 80.0
    rc2 = {(round(float(r)), round(float(c)))
           for r, c in (grid.rowcol(x, y) for x, y in zip(*hill_sites(grid, gap, planning)[
               ["x", "y"]].to_numpy().T, strict=True))}
    assert (35, 10) in rc2                      # the spike is kept once steep sites are allowed
    planning.hill_spacing_m = 250.0
    planning.max_slope_deg = 30.0
    rc3 = {(round(float(r)), round(float(c)))
           for r, c in (grid.rowcol(x, y) for x, y in zip(*hill_sites(grid, gap, planning)[
               ["x", "y"]].to_numpy().T, strict=True))}
    assert {(20, 20), (20, 27)} <= rc3         # 350 m apart: both kept at 250 m spacing


def test_flat_terrain_gives_no_hills():
    grid = dataclasses.replace(hill_grid(), elevation=np.full((80, 80), 50.0, np.float32))
    gap = gpd.GeoDataFrame({"group_id": ["G1"]}, geometry=[cells(28, 40, 5, 30)], crs=UTM50)
    assert hill_sites(grid, gap, Config().planning).empty


def test_targets_any_and_two_operators():
    study = toy_study()
    a = assess(study, toy_signal())
    t1 = planning_targets(a, study.config)
    assert t1.target_ids == ["G4"]                       # G2 (10 hh) is not required
    cfg = Config()
    cfg.planning.required_operators = 2
    t2 = planning_targets(a, cfg)
    # G1: CMCC + CT cover it; G3: CT only; G4: none
    assert dict(zip(t2.groups["group_id"], t2.groups["need"], strict=True)) == {
        "G1": 0, "G3": 1, "G4": 2}


def test_generate_candidates_union_and_merge():
    cfg = Config()
    cfg.planning.hill_spacing_m = 300.0
    study = toy_study(cfg)
    # a third tower carrying all three operators: nothing can be added to it
    sites = study.sites
    extra = sites.iloc[[0, 0, 0]].copy()
    extra["site_id"] = ["S3", "S4", "S5"]
    extra["operator"] = ["CMCC", "CT", "CU"]
    extra["tower_id"] = "T9"
    extra = extra.set_geometry([cell_point(9, 9)] * 3)
    sites = gpd.GeoDataFrame(pd.concat([sites, extra], ignore_index=True), crs=UTM50)
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["C2", "C1"], "kind": ["existing_tower", "new"],
         "cost": [np.nan, np.nan], "height_m": [np.nan, 40.0]},
        geometry=[cell_point(2, 5), cell_point(8, 8)], crs=UTM50)   # C2 sits on tower T2
    elev = np.full((10, 10), 200.0, np.float32)
    elev[7, 7] = 260.0                                              # a hill in G4
    grid = dataclasses.replace(study.grid, elevation=elev)
    study = dataclasses.replace(study, sites=sites, candidates=cands, grid=grid)
    targets = planning_targets(assess(study, toy_signal()), cfg)
    out = generate_candidates(study, targets)
    assert out["tower_id"].tolist() == ["C1", "C2", "T1", "HILL-0001"]
    assert out["source"].tolist() == ["user", "user", "existing", "hill"]
    by = out.set_index("tower_id")
    assert by.at["C1", "price_wan"] == 60.0 and by.at["C1", "height_m"] == 40.0
    assert by.at["C2", "price_wan"] == 0.0
    assert by.at["C2", "existing_operators"] == ("CT",)             # merged with T2
    assert by.at["C2", "backhaul"] == "fiber"
    assert by.at["T1", "existing_operators"] == ("CMCC",)
    assert "T9" not in by.index and "T2" not in by.index
    assert by.at["HILL-0001", "ground_m"] == 260.0
    assert out.crs == UTM50


def test_useful_bands_default_config():
    cfg = Config()
    assert useful_bands(cfg, "CMCC") == ["FDD900"]
    assert useful_bands(cfg, "CU") == ["FDD900"]
    assert useful_bands(cfg, "CT") == ["FDD800"]
    assert useful_bands(cfg, "CMCC", prune_dominated=False) == ["FDD900", "TDD1900",
                                                                 "TDD2600"]
    cfg.operators["CMCC"].bands["TDD1900"].port_power_dbm = 60.0   # now not dominated
    assert useful_bands(cfg, "CMCC") == ["FDD900", "TDD1900"]


def partial_signal() -> SignalGrids:
    """CT covers rows 5-6 of the east half (40 % of G4); nothing else in G4."""
    base = toy_signal()
    ct = base.rsrp["CT"].copy()
    ct[5:7, 5:] = -100.0
    return SignalGrids(rsrp={**base.rsrp, "CT": ct}, best_site=base.best_site)


def window_fn(calls: list, cover_rows: dict[str, tuple[int, int]]):
    """RSRP -90 dBm on the given rows of the east half for an operator, -130 elsewhere."""
    @window_rsrp_at
    def fn(site):
        calls.append(site["site_id"])
        val = np.full((10, 6), -130.0, np.float32)      # window: all rows, cols 4-9
        r0, r1 = cover_rows.get(site["operator"], (0, 0))
        val[r0:r1, 1:] = -90.0
        val[0, 0] = np.nan
        return RsrpWindow(0, 4, val)
    return fn


def test_matrix_partial_completion_and_rules():
    cfg = Config()
    cands = gpd.GeoDataFrame(
        {"tower_id": ["H1"], "source": ["hill"], "kind": ["new"], "x": [0.0], "y": [0.0],
         "ground_m": [200.0], "height_m": [35.0], "price_wan": [60.0],
         "existing_operators": [()], "backhaul": ["none"]},
        geometry=[cell_point(7, 7)], crs=UTM50)
    cands["x"], cands["y"] = cands.geometry.x, cands.geometry.y
    study = toy_study(cfg)
    sig = partial_signal()
    a = assess(study, sig)
    assert a.groups.set_index("group_id").at["G4", "share_ANY"] == pytest.approx(0.4)
    targets = planning_targets(a, cfg)
    calls: list = []
    # CMCC's candidate covers rows 7-9 (60 %): with CT's 40 % the group is complete for ANY,
    # but not for CMCC itself. CU's covers rows 5-9: G4 complete for CU and for ANY.
    m = coverage_matrix(study, sig, targets, cands,
                        window_fn(calls, {"CMCC": (7, 10), "CU": (5, 10)}))
    assert calls == ["H1:CMCC:FDD900", "H1:CT:FDD800", "H1:CU:FDD900"]
    opts = m.options.set_index("option_id")
    gid = m.groups["group_id"].tolist()
    cover_any = {o: {gid[j] for j in m.covers(i)} for i, o in enumerate(m.options["option_id"])}
    cover_op = {o: {gid[j] for j in m.covers(i, by_operator=True)}
                for i, o in enumerate(m.options["option_id"])}
    assert cover_any == {"H1:CMCC:FDD900": {"G4"}, "H1:CU:FDD900": {"G4"}}
    assert cover_op == {"H1:CMCC:FDD900": set(), "H1:CU:FDD900": {"G4"}}
    assert opts.at["H1:CU:FDD900", "households_any"] == 40.0
    g = m.groups.set_index("group_id")
    assert g.at["G4", "best_share"] == pytest.approx(1.0)
    assert g.at["G4", "reach_ops"] == "CU"
    assert g.at["G4", "best_rsrp_dbm"] == pytest.approx(-90.0)
    assert m.threshold_dbm == -105.0
    assert len(m.sites) == 3 and set(m.sites["status"]) == {"planned"}


def test_matrix_skips_candidates_out_of_range():
    cfg = Config()
    cfg.model.radius_km = 1.0
    far = Point(X0 + 20 * RES, Y0 - 20 * RES)           # ~1.4 km from the nearest open cell
    cands = gpd.GeoDataFrame(
        {"tower_id": ["FAR"], "source": ["user"], "kind": ["new"], "x": [far.x],
         "y": [far.y], "ground_m": [200.0], "height_m": [35.0], "price_wan": [60.0],
         "existing_operators": [()], "backhaul": ["none"]}, geometry=[far], crs=UTM50)
    study = toy_study(cfg)
    sig = toy_signal()
    calls: list = []
    m = coverage_matrix(study, sig, planning_targets(assess(study, sig), cfg), cands,
                        window_fn(calls, {}))
    assert calls == [] and m.options.empty
    assert m.stats.predicted == 0 and m.stats.options_possible == 3
    un = m.groups.set_index("group_id")
    assert np.isnan(un.at["G4", "best_rsrp_dbm"]) or un.at["G4", "best_rsrp_dbm"] < -105


def test_candidate_sites_are_site_rows():
    p = cell_box(0, 1, 0, 1).centroid
    cands = gpd.GeoDataFrame(
        {"tower_id": ["T1"], "x": [p.x], "y": [p.y], "ground_m": [200.0], "height_m": [30.0],
         "price_wan": [0.0], "existing_operators": [("CMCC",)]}, geometry=[p], crs=UTM50)
    sites = candidate_sites(cands, Config())
    assert sites["site_id"].tolist() == ["T1:CT:FDD800", "T1:CU:FDD900"]
    assert sites["azimuths"].tolist() == [(), ()]
    assert sites["tower_id"].tolist() == ["T1", "T1"]
    assert sites["lon"].between(116, 118).all()


@pytest.mark.parametrize("model", ["p1812", "free_space"])
def test_candidate_radio_equals_full_prediction(model, tmp_path):
    from coverage.predict import site_loss, window_rsrp
    from coverage.radio.antenna import PatternParams
    from coverage.radio.linkbudget import site_radio

    cfg = Config()
    cfg.model.radius_km = 1.5
    cfg.model.name = model
    grid = hill_grid()
    study = toy_study(cfg, grid=grid)
    x, y = grid.xy(21.3, 22.6)
    site = pd.Series({"operator": "CU", "band": "FDD900", "height_m": 35.0,
                      "geometry": Point(float(x), float(y))})
    rng = np.random.default_rng(3)
    rows = np.concatenate([rng.integers(0, 80, 400), [21, 0]])
    cols = np.concatenate([rng.integers(0, 80, 400), [23, 79]])    # + the site's own cell
    radio = CandidateRadio(study, tmp_path)
    got = radio(site, rows, cols)
    band = cfg.band("CU", "FDD900")
    win, _ = site_loss(grid, float(x), float(y), height_m=35.0, f_mhz=band.frequency_mhz,
                       model=cfg.model, rx_height_m=1.5)
    full, _ = window_rsrp(grid, win, float(x), float(y), height_m=35.0, azimuths=(),
                          radio=site_radio(band, omni=True),
                          pattern=PatternParams(band.h_beamwidth_deg, band.v_beamwidth_deg,
                                                band.front_to_back_db, band.side_lobe_v_db),
                          rx_height_m=1.5, body_loss_db=0.0, delta_n=cfg.model.delta_n)
    expect = window_rsrp_at(lambda s: RsrpWindow(win.row0, win.col0, full))(site, rows, cols)
    assert np.isfinite(expect).sum() > 50 and np.isnan(expect).sum() > 50
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expect))
    np.testing.assert_allclose(got[np.isfinite(got)], expect[np.isfinite(expect)], atol=1e-4)
    again = CandidateRadio(study, tmp_path)
    np.testing.assert_array_equal(again(site, rows, cols), got)
    assert (radio.computed, again.computed, again.cached) == (1, 0, 1)


class WeakNorthForCT:
    """Stand-in for field measurements: CT measured too weak over the north half."""

    def judge_samples(self, op, grid, rc, value, threshold):
        covered = value >= threshold
        if op == "CT":
            covered = covered & ~((rc[0] >= 0) & (rc[0] < 5))
        return value, covered, np.full(value.shape, -1)


def test_matrix_follows_measured_evidence():
    cfg = Config()
    study = toy_study(cfg)
    sig = toy_signal()
    targets = planning_targets(assess(study, sig), cfg)
    g = targets.groups
    g.loc[g["group_id"] == "G3", ["need", "target", "covered_any"]] = [1, True, False]
    cands = gpd.GeoDataFrame(
        {"tower_id": ["H1"], "source": ["hill"], "kind": ["new"], "x": [0.0], "y": [0.0],
         "ground_m": [200.0], "height_m": [35.0], "price_wan": [60.0],
         "existing_operators": [()], "backhaul": ["none"]},
        geometry=[cell_point(2, 7)], crs=UTM50)
    cands["x"], cands["y"] = cands.geometry.x, cands.geometry.y
    fn = window_fn([], {"CU": (0, 5)})
    with_m = coverage_matrix(study, sig, targets, cands, fn, evidence=WeakNorthForCT())
    without = coverage_matrix(study, sig, targets, cands, fn)
    gid = with_m.groups["group_id"].tolist()
    assert {gid[j] for j in with_m.covers(0)} == {"G3"}          # measured gap is closable
    assert without.cover_any.nnz == 0                           # predicted: G3 has signal


def test_matrix_asks_only_cells_an_operator_could_gain_and_equals_all_cells(tmp_path):
    """The radio is asked only at the cells of household samples some operator could still
    gain; the matrix (options, groups, covers, best RSRP) equals that of a radio whose values
    come from all the cells at once."""
    cfg = Config()
    cfg.model.radius_km = 3.0
    grid = hill_grid()
    study = toy_study(cfg, grid=grid)
    cmcc = np.full(grid.shape, -120.0, np.float32)
    cmcc[:, :10] = -90.0
    cmcc[:5, :] = -90.0
    ct = np.full(grid.shape, np.nan, np.float32)
    ct[:10, :] = -100.0
    cu = np.full(grid.shape, np.nan, np.float32)
    cu[:5, :] = -95.0                               # all three cover rows 0-4: not asked
    rsrp = {"CMCC": cmcc, "CT": ct, "CU": cu}
    sig = SignalGrids(rsrp=rsrp, best_site={op: np.where(np.isnan(v), -1, 0).astype(np.int32)
                                            for op, v in rsrp.items()})
    targets = planning_targets(assess(study, sig), cfg)
    cands = gpd.GeoDataFrame(
        {"tower_id": [f"H{k}" for k in range(4)], "source": "hill", "kind": "new",
         "ground_m": 200.0, "height_m": [35.0, 30.0, 40.0, 25.0], "price_wan": 60.0,
         "existing_operators": [(), ("CMCC",), (), ()], "backhaul": "none"},
        geometry=[cell_point(r, c) for r, c in [(7, 7), (2, 8), (8, 2), (5, 5)]], crs=UTM50)
    cands["x"], cands["y"] = cands.geometry.x, cands.geometry.y
    every_r, every_c = (a.ravel() for a in np.mgrid[0:80, 0:80])
    whole = CandidateRadio(study)
    asked: list[int] = []

    def from_all_cells(site, rows, cols):
        asked.append(len(rows))
        return whole(site, every_r, every_c)[rows * 80 + cols]

    fast = coverage_matrix(study, sig, targets, cands, cache_dir=tmp_path)
    ref = coverage_matrix(study, sig, targets, cands, from_all_cells)
    assert len(fast.options) > 0 and fast.stats.computed == fast.stats.predicted
    assert 0 < max(asked) < fast.stats.cells          # some household cells are not asked
    assert fast.options.equals(ref.options)
    assert fast.groups.equals(ref.groups)
    assert (fast.cover_any != ref.cover_any).nnz == 0
    assert (fast.cover_op != ref.cover_op).nnz == 0
    again = coverage_matrix(study, sig, targets, cands, cache_dir=tmp_path)
    assert (again.stats.computed, again.stats.cached) == (0, fast.stats.predicted)
    assert again.options.equals(fast.options) and again.groups.equals(fast.groups)
