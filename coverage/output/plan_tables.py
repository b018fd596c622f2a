"""The plan's output tables: GeoPackage layers, the CSV, KML folders and a console summary.

These read a finished :class:`~coverage.plan.Plan`; they compute nothing of the plan.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.io.kml import KmlFolder, KmlStyle
from coverage.plan import Plan
from coverage.study import Study

__all__ = ["plan_csv", "plan_kml_folders", "plan_layers", "plan_summary"]


def _lonlat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    if len(gdf) == 0:
        return np.empty(0), np.empty(0)
    ll = gdf.geometry.to_crs("EPSG:4326")
    return np.round(ll.x.to_numpy(), 7), np.round(ll.y.to_numpy(), 7)


def plan_layers(plan: Plan, study: Study) -> dict[str, gpd.GeoDataFrame]:
    """GeoPackage layers of the plan (working CRS), in a fixed order.

    ``candidates`` (every candidate: source, price, options, gap groups it could cover,
    chosen), ``chosen_sites`` (one row per tower used: operators, bands, tenants, cost,
    backhaul, the gap groups it covers), ``claims`` (one point per operator claim),
    ``groups_newly_covered``, ``unreachable_groups`` (with the reason and best predicted
    RSRP), ``unfunded_groups`` (budget mode) and ``backhaul_links``.
    """
    crs = plan.candidates.crs
    cands = plan.candidates.copy()
    opts = plan.matrix.options
    per_tower = {}
    if len(opts):
        for tower, idx in opts.groupby("tower_id", sort=True).indices.items():
            cover = plan.matrix.cover_any[idx]
            groups = np.unique(cover.indices)
            per_tower[tower] = (len(idx), len(groups),
                                float(plan.matrix.groups["households"].to_numpy()[groups].sum()))
    cands["existing_operators"] = [";".join(t) for t in cands["existing_operators"]]
    cands["useful_options"] = [per_tower.get(t, (0, 0, 0.0))[0] for t in cands["tower_id"]]
    cands["gap_groups"] = [per_tower.get(t, (0, 0, 0.0))[1] for t in cands["tower_id"]]
    cands["gap_households"] = [per_tower.get(t, (0, 0, 0.0))[2] for t in cands["tower_id"]]
    chosen_ids = set(plan.claims.towers["tower_id"])
    cands["chosen"] = cands["tower_id"].isin(chosen_ids)
    cands = cands.drop(columns=["x", "y"])

    claims = plan.claims.claims
    towers = plan.claims.towers.merge(plan.backhaul.sites, on="tower_id", how="left")
    bands = claims.groupby("tower_id")["band"].agg(";".join)
    towers["bands"] = towers["tower_id"].map(bands)
    hh = claims.groupby("tower_id")["households_new"].sum()
    towers["households_new"] = towers["tower_id"].map(hh).fillna(0.0)
    served = claims.groupby("tower_id")["groups"].agg(
        lambda s: ";".join(dict.fromkeys(g for v in s for g in str(v).split(";") if g)))
    towers["groups"] = towers["tower_id"].map(served).fillna("")
    geo = plan.candidates.set_index("tower_id").geometry
    chosen = gpd.GeoDataFrame(towers, geometry=towers["tower_id"].map(geo).to_numpy(), crs=crs)
    chosen["lon"], chosen["lat"] = _lonlat(chosen)
    claim_pts = gpd.GeoDataFrame(claims.copy(), geometry=claims["tower_id"].map(geo).to_numpy(),
                                 crs=crs)

    g = plan.claims.groups
    geom = study.groups.assign(group_id=study.groups["group_id"].astype(str)).set_index(
        "group_id").geometry
    keep_new = ["group_id", "village_id", "name", "households", "covered_by", "new_operators"]
    newly = g[g["target"] & g["covered_after"]][keep_new]
    keep_bad = ["group_id", "village_id", "name", "households", "need", "best_share",
                "best_rsrp_dbm", "reach_ops", "reason"]
    unreachable = g[g["target"] & ~g["reachable"]][keep_bad]
    layers = {
        "candidates": cands,
        "chosen_sites": chosen,
        "claims": claim_pts,
        "groups_newly_covered": gpd.GeoDataFrame(
            newly.reset_index(drop=True), geometry=newly["group_id"].map(geom).to_numpy(),
            crs=study.groups.crs),
        "unreachable_groups": gpd.GeoDataFrame(
            unreachable.reset_index(drop=True),
            geometry=unreachable["group_id"].map(geom).to_numpy(), crs=study.groups.crs),
    }
    if plan.selection.mode == "budget":
        unfunded = g[g["target"] & g["reachable"] & ~g["covered_after"]][keep_bad]
        layers["unfunded_groups"] = gpd.GeoDataFrame(
            unfunded.reset_index(drop=True),
            geometry=unfunded["group_id"].map(geom).to_numpy(), crs=study.groups.crs)
    layers["backhaul_links"] = plan.backhaul.links
    return layers


def plan_csv(plan: Plan) -> pd.DataFrame:
    """One row per claim, for ``plan.csv``: where, who, which band, what it costs, what it
    covers and how it reaches fiber (sorted by tower, then operator)."""
    claims = plan.claims.claims
    towers = plan.claims.towers.set_index("tower_id")
    bh = plan.backhaul.sites.set_index("tower_id")
    cands = plan.candidates.set_index("tower_id")
    lon, lat = _lonlat(plan.candidates)
    ll = pd.DataFrame({"lon": lon, "lat": lat}, index=plan.candidates["tower_id"])
    out = pd.DataFrame({
        "tower_id": claims["tower_id"],
        "source": claims["tower_id"].map(cands["source"]),
        "kind": claims["tower_id"].map(cands["kind"]),
        "lon": claims["tower_id"].map(ll["lon"]), "lat": claims["tower_id"].map(ll["lat"]),
        "ground_m": claims["tower_id"].map(cands["ground_m"]).round(1),
        "height_m": claims["tower_id"].map(cands["height_m"]),
        "operator": claims["operator"], "band": claims["band"],
        "tenants_after": claims["tower_id"].map(towers["tenants_after"]),
        "discount": claims["tower_id"].map(towers["discount"]),
        "tower_share_wan": claims["tower_share_wan"], "equipment_wan": claims["equipment_wan"],
        "cost_wan": claims["cost_wan"], "groups": claims["groups"],
        "households_new": claims["households_new"],
        "households_operator": claims["households_operator"],
        "fiber_km": claims["fiber_km"],
        "backhaul": claims["tower_id"].map(bh["status"]),
        "backhaul_path": claims["tower_id"].map(bh["path"]),
        "reason": claims["reason"],
    })
    return out.reset_index(drop=True)


def plan_kml_folders(plan: Plan, study: Study, *,
                     layers: dict[str, gpd.GeoDataFrame] | None = None) -> list[KmlFolder]:
    """Folders for :func:`coverage.io.kml.write_kml`: chosen sites (coloured by the first
    operator, named with the operators' Chinese names), backhaul links, groups newly
    covered, unreachable groups (``layers``: :func:`plan_layers`, computed when not given)."""
    if layers is None:
        layers = plan_layers(plan, study)
    cfg = study.config
    names = {op: p.name_zh for op, p in cfg.operators.items()}
    chosen = layers["chosen_sites"].copy()
    chosen["label"] = [f"{t} " + "+".join(names.get(o, o) for o in ops.split(";") if o)
                       for t, ops in zip(chosen["tower_id"], chosen["operators"], strict=True)]
    chosen["first_operator"] = [ops.split(";")[0] if ops else "" for ops in chosen["operators"]]
    styles = {op: KmlStyle(f"site-{op}", p.color, 1.2) for op, p in cfg.operators.items()}
    links = layers["backhaul_links"].copy()
    links["label"] = [f"{a} – {b}" for a, b in zip(links["from_id"], links["to_id"],
                                                     strict=True)]
    fields_site = ["tower_id", "source", "operators", "bands", "tenants_after", "cost_wan",
                   "households_new", "status", "hops", "path", "finding", "lon", "lat"]
    folders = [
        KmlFolder("规划站址 chosen sites", chosen, "label", fields_site,
                  KmlStyle("site", "#444444", 1.2), "first_operator", styles),
        KmlFolder("微波回传 backhaul", links, "label",
                  ["from_id", "to_id", "length_km", "clearance_ratio", "serves"],
                  KmlStyle("link", "#7b1fa2", line_width=3)),
        KmlFolder("新覆盖村民组 newly covered groups", layers["groups_newly_covered"], "name",
                  ["group_id", "village_id", "households", "covered_by", "new_operators"],
                  KmlStyle("newly", "#2e7d32", fill_opacity=0.35)),
        KmlFolder("无法覆盖村民组 unreachable groups", layers["unreachable_groups"], "name",
                  ["group_id", "village_id", "households", "best_rsrp_dbm", "reason"],
                  KmlStyle("unreachable", "#c62828", fill_opacity=0.35)),
    ]
    return folders


def plan_summary(plan: Plan) -> list[str]:
    """Short console summary: sites per operator, shared towers, households, cost, gap."""
    sel, cl = plan.selection, plan.claims
    towers = cl.towers
    per_op = cl.per_operator()
    shared = int((towers["tenants_after"] >= 2).sum()) if len(towers) else 0
    new_towers = int((towers["kind"] == "new").sum()) if len(towers) else 0
    g = cl.groups
    newly = g[g["target"] & g["covered_after"]]
    unreachable = g[g["target"] & ~g["reachable"]]
    gap = sel.mip_gap
    solve_s = sum(s.seconds for s in sel.solves)
    lines = [
        f"plan: {len(towers)} sites ({new_towers} new towers, "
        f"{len(towers) - new_towers} existing), {len(cl.claims)} operator claims: "
        + (", ".join(f"{op} {n}" for op, n in per_op.items()) or "none"),
        f"plan: {shared} shared towers (2+ tenants); cost {sel.cost_wan:,.1f} 万元",
        f"plan: {len(newly)} of {int(g['target'].sum())} gap groups newly covered, "
        f"{newly['households'].sum():,.0f} households; {len(unreachable)} unreachable",
        f"plan: solver {sel.status}, gap {gap:.2%}, {solve_s:.2f} s; claims by "
        f"{cl.method} ({cl.changed} changed)",
        f"plan: backhaul {int((plan.backhaul.sites['status'] != 'none').sum())} of "
        f"{len(plan.backhaul.sites)} sites reach fiber, {plan.backhaul.stats.tree_hops} "
        f"microwave hops, {plan.backhaul.stats.tree_km:.1f} km",
    ]
    lines += [f"plan: note: {n}" for n in sel.notes]
    return lines
