"""Building the demo county in memory, from a seed: the generator's steps in order.

Terrain, county outline, villages, groups, households and test points; village attributes;
the network's growth, its operators and sites; today's coverage screen; candidate locations;
the works tables; and finally the layers. Each step draws from its own random stream (one
child of the seed's :class:`numpy.random.SeedSequence`), so the same seed gives the same
county.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from coverage.config import Config
from coverage.demo.candidates import pick_candidates
from coverage.demo.claims import claim_rows, hazard_fix_dates
from coverage.demo.layers import settlement_layers
from coverage.demo.mobile_works import mobile_work_rows
from coverage.demo.network import Network, grow, tower_spots
from coverage.demo.plane import CRS, GRID, NODATA, VOID, points_gdf, rasterize, to_lonlat
from coverage.demo.points import place_test_points
from coverage.demo.power_works import (
    grid_work_rows,
    hazard_rows,
    transformer_rows,
    underpowered_villages,
)
from coverage.demo.results import DemoCounty
from coverage.demo.screening import screen
from coverage.demo.settlements import (
    Settlement,
    county_polygon,
    group_ids,
    place_groups,
    place_households,
    place_villages,
)
from coverage.demo.sites import operator_masts, site_table
from coverage.demo.terrain_synth import Terrain, synth_terrain, to_int16_dem

DEFAULT_SEED = 20201031
"""Seed of the committed demo county (the inspection date 2020-10-31)."""


def _village_attributes(rng: np.random.Generator, terrain: Terrain, s: Settlement,
                        committee_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which villages have fibre and which are poor, from their committee's remoteness.

    Returns
    -------
    fiber, poor : ndarray of bool, shape (villages,)
    """
    n_v = len(s.village_poly)
    col, row = GRID.xy_to_colrow(committee_xy[:, 0], committee_xy[:, 1])
    rc = (np.rint(row).astype(int), np.rint(col).astype(int))
    d_main, d_side = terrain.dist_main_m[rc], terrain.dist_side_m[rc]
    seat = np.zeros(n_v, dtype=bool)
    seat[s.town_seat] = True
    p_fiber = np.where(seat | (d_main < 1500.0), 0.95, np.where(d_side < 1000.0, 0.45, 0.2))
    fiber = rng.random(n_v) < p_fiber
    remote = np.clip(d_main / 8000.0, 0.0, 1.0)
    poor = (rng.random(n_v) < 0.15 + 0.45 * remote) & ~seat
    return fiber, poor


def _village_locator(s: Settlement) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving the village index of points (m), from the rasterized villages."""
    vr = rasterize(to_lonlat(np.array(s.village_poly, dtype=object)), (GRID.rows, GRID.cols),
                   GRID.transform)

    def village_at(xy: np.ndarray) -> np.ndarray:
        c, r = GRID.xy_to_colrow(xy[:, 0], xy[:, 1])
        return vr[np.rint(r).astype(int), np.rint(c).astype(int)] - 1

    return village_at


def build_demo_county(seed: int = DEFAULT_SEED) -> DemoCounty:
    """Generate the demo county (pure; the same seed gives the same county).

    Parameters
    ----------
    seed : int
        Seed of every random choice.

    Returns
    -------
    DemoCounty
    """
    cfg = Config()
    streams = np.random.SeedSequence(seed).spawn(9)
    rngs = [np.random.default_rng(ss) for ss in streams]
    terrain = synth_terrain(rngs[0], GRID)
    dem = to_int16_dem(terrain.elevation_m, NODATA, VOID)
    z = np.where(dem == NODATA, 150, dem).astype(np.float32)

    # Settlements.
    county = county_polygon(rngs[1], GRID)
    s = place_villages(rngs[2], terrain, county)
    place_groups(rngs[3], s)
    place_households(rngs[4], s)
    pt_rows, pt_xy = place_test_points(rngs[5], s)
    n_v = len(s.village_poly)
    village_hh = np.bincount(s.group_village, weights=s.group_hh, minlength=n_v).astype(int)
    gids = group_ids(s)
    committee_xy = pt_xy[np.array(pt_rows["kind"]) == "committee"]
    rng = rngs[6]
    fiber, poor = _village_attributes(rng, terrain, s, committee_xy)

    # Network and sites.
    net = Network(z, terrain, s, cfg)
    spots, spot_ground = tower_spots(s, z)
    grow(rng, net, spots, spot_ground, committee_xy[s.town_seat])
    village_at = _village_locator(s)
    loc_village = village_at(np.array([tw.xy for tw in net.towers]))
    towers = operator_masts(rng, net.towers, z, s.mask, fiber, loc_village,
                            s.village_town[loc_village])
    towers_xy = np.array([tw.xy for tw in towers])
    sites = site_table(rng, towers)
    sxy = np.column_stack(GRID.lonlat_to_xy(sites["lon"].to_numpy(), sites["lat"].to_numpy()))
    site_village = village_at(sxy)

    # Today's coverage and the candidate locations.
    screening = screen(z, sites, s.hh_xy, s.hh_group, s.hh_count, s.group_hh, s.group_village,
                       gids, cfg)
    unc = np.isin(np.array(gids), np.array(screening.uncovered_group_ids))
    candidates = pick_candidates(rngs[7], s, z, terrain, unc, towers_xy)

    # Works.
    rng = rngs[8]
    tr_rows, tr_xy, weak = transformer_rows(rng, s, village_hh)
    underpowered_villages(seed, tr_rows, weak)
    gw_rows, gw_xy = grid_work_rows(rng, n_v, weak, tr_rows, tr_xy)
    unc_villages = sorted(set(s.group_village[unc].tolist()))
    mw_rows, mw_xy = mobile_work_rows(rng, sites, site_village, unc_villages, committee_xy)
    hz_rows, hz_xy = hazard_rows(rng, s)
    hz_rows["fixed_on"] = hazard_fix_dates(seed, pd.DataFrame(hz_rows))

    layers = settlement_layers(rng, seed, s, county, village_hh, gids, fiber, poor,
                               pt_rows, pt_xy)
    return DemoCounty(
        seed=seed, dem=dem, transform=GRID.transform, crs=CRS, nodata=NODATA, **layers,
        sites=sites, candidates=candidates,
        grid_works=points_gdf(gw_rows, gw_xy), mobile_works=points_gdf(mw_rows, mw_xy),
        transformers=points_gdf(tr_rows, tr_xy), hazards=points_gdf(hz_rows, hz_xy),
        screening=screening, claims=claim_rows(seed, sites),
    )
