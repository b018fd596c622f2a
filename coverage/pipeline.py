"""The whole run: load and validate, compute, and publish every output at once.

Core modules compute; this module sequences them and hands results to the writers in
:mod:`coverage.io`. Nothing is written before the inputs have been validated, and
outputs are published only when every step has succeeded (:class:`OutputFolder`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import shutil
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import __version__
from coverage.asof import resolve_as_of
from coverage.assess import Assessment, assess, frame_to_geo, group_serving_sites
from coverage.claims import with_claim_sites
from coverage.config import Config
from coverage.evidence.calibration import (
    CalibrationFit,
    apply_calibration,
    calibration_statement,
    fit_calibration,
)
from coverage.evidence.compare import Comparison, compare
from coverage.history import study_as_of
from coverage.io.assets import asset_files, locate_assets
from coverage.io.cache import make_key
from coverage.io.digest import content_digest, environment_digest
from coverage.io.kml import write_kml
from coverage.io.output_memo import memoised_writer
from coverage.io.outputs import OutputFolder
from coverage.io.result_memo import memoised_result
from coverage.io.side_by_side import EarlyWriters, Writer
from coverage.io.study_memo import study_key
from coverage.io.writers import write_csv, write_geotiff, write_gpkg, write_workbook
from coverage.maps import PAGES, Basemap, Provenance
from coverage.output.cells import safe_table
from coverage.output.console import closing_lines, result_lines
from coverage.output.plan_tables import plan_csv, plan_kml_folders, plan_layers
from coverage.plan import Plan, make_plan, plan_village_remedies, study_with_plan
from coverage.plan.memo import memoised_plan, plan_key
from coverage.predict.network_cache import added_sites_only, cached_network, finish_writes
from coverage.radio.threads import default_threads
from coverage.readiness import AfterPlan, Readiness, evaluate
from coverage.scale.backend import Backend
from coverage.scale.candidates import ClusterCandidateRadio
from coverage.scale.cluster import open_client
from coverage.scale.streaming import needs_tiling, predict_to_folder
from coverage.schema import SITE_STATUSES
from coverage.signal import CoverageResult, merge_coverage
from coverage.study import Study, load_study
from coverage.work_sites import with_work_sites

log = logging.getLogger(__name__)

CACHE_DIR = ".cache"
"""Per-site loss cache, inside the output folder (a run writes nothing outside --out)."""


def today() -> str:
    """The run date (ISO), honouring ``SOURCE_DATE_EPOCH`` for reproducible outputs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date().isoformat()
    return dt.date.today().isoformat()


def provenance(study: Study) -> Provenance:
    """Version, config hash, CRS, data folder name and date for every output of a run."""
    return Provenance(
        version=__version__, config_hash=study.config.config_hash(),
        crs=study.grid.crs.to_string(), data=study.data_dir.name or str(study.data_dir),
        generated=today(),
    )


STEPS = ("predict", "assess", "plan", "readiness")
"""Pipeline stages in order; ``run --until`` stops after one of them."""


@dataclass
class RunResults:
    """Everything one run computed.

    ``coverage``/``assessment`` describe the network on air today; ``after_*`` the network
    once the planned and building sites and the new plan are on air.
    """

    study: Study
    coverage: CoverageResult | None = None
    assessment: Assessment | None = None
    plan: Plan | None = None
    after_study: Study | None = None
    after_coverage: CoverageResult | None = None
    after_assessment: Assessment | None = None
    committed_assessment: Assessment | None = None
    committed_serving: pd.DataFrame | None = None
    """Sites serving each group once the committed sites are on air
    (:func:`coverage.assess.group_serving_sites`; the mobile map's group popups)."""
    readiness: Readiness | None = None
    comparison: Comparison | None = None
    calibration: CalibrationFit | None = None
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def calibration_text(self) -> str:
        """Whether predictions are calibrated, and with what (for every report)."""
        cfg = self.study.config
        return calibration_statement(self.calibration, applied=bool(
            cfg.calibrate and self.calibration is not None and self.calibration.terms),
            language=cfg.language)


ProgressFactory = Callable[[str], tuple[Callable[[int, int], None], Callable[[], None]]]
"""``factory(label) -> (update(done, total), close())``: a progress display (the CLI's)."""


def _no_progress(_label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    return (lambda _d, _t: None), (lambda: None)


class Steps:
    """Times named steps; logs each step's start and shows progress unless quiet.

    Step names are logged at INFO on the ``coverage.pipeline`` logger; the CLI shows them.
    """

    def __init__(self, quiet: bool, backend: Backend | None = None,
                 progress: ProgressFactory | None = None):
        self.quiet = quiet
        self.backend = backend or Backend()  # where site predictions run
        self.timings: dict[str, float] = {}
        self._progress = progress or _no_progress
        self.digests: dict[int, tuple[object, str]] = {}
        """Content digests of the run's tables and arrays, shared by its memo keys
        (:func:`coverage.io.digest.content_digest`)."""
        self.prefetched: tuple[Study, tuple[str, ...], CoverageResult] | None = None
        """A network predicted ahead of its step: (study, statuses, raw result)
        (see :func:`_predict`)."""

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        if not self.quiet:
            log.info("· %s …", name)
        yield
        self.timings[name] = time.perf_counter() - start

    def progress(self, label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
        """A ``progress(done, total)`` callback and a closer (no-ops when quiet)."""
        if self.quiet:
            return _no_progress(label)
        return self._progress(label)


PENDING = tuple(status for status in SITE_STATUSES if status != "on_air")
"""Site statuses of the network still to come (planned, building)."""


def _predict(study: Study, out_dir: Path, steps: Steps, statuses: tuple[str, ...], *,
             network: bool = True, along: tuple[str, ...] = ()) -> CoverageResult:
    """The raw (uncalibrated) prediction of the study's sites of ``statuses``.

    With ``network`` the composed rasters are cached as one entry as well
    (:mod:`coverage.predict.network_cache`): the networks on air and committed, and the
    plan's added sites, keyed on every site job, so a changed plan makes a new entry.

    With ``along`` (statuses of a network a later step predicts), when this network's sites
    have to be predicted, that network's sites are predicted in the same pass over the
    sites and kept for the later :func:`_predict` of the same study and statuses (exactly
    the result it would compute; one pass keeps both cores busy to the end).
    """
    sites_cache = out_dir / CACHE_DIR / "sites"

    def predict() -> CoverageResult:
        kept = steps.prefetched
        if kept is not None and kept[0] is study and kept[1] == statuses:
            steps.prefetched = None
            return kept[2]
        if not along:
            return steps.backend.predict(study, cache_dir=sites_cache, statuses=statuses,
                                         progress=update)
        result, later = steps.backend.predict_networks(study, [statuses, along],
                                                       cache_dir=sites_cache, progress=update)
        steps.prefetched = (study, along, later)
        return result

    update, close = steps.progress("sites")
    try:  # the entry is written while the run goes on (compute waits for it at its end)
        return cached_network(
            study, statuses, out_dir / CACHE_DIR / "network" if network else None,
            predict, progress=update, background=True)
    finally:
        close()


def _calibrated(study: Study, raw: CoverageResult, fit: CalibrationFit | None
                ) -> CoverageResult:
    """``raw`` with the fitted corrections when the config asks for them."""
    if fit is not None and study.config.calibrate and fit.terms:
        return apply_calibration(study, raw, fit)
    return raw


@dataclass(frozen=True)
class Scenario:
    """One state of the network and what it gives.

    A run looks at three: the sites *on air* today, the network once the sites being built
    or planned are *committed*, and the network *after the plan*. Each later scenario's raw
    prediction is the earlier one's merged with its added sites (best server is a max over
    sites, so this equals predicting all of them at once).

    Attributes
    ----------
    name : str
        ``"on air"``, ``"committed"`` or ``"after the plan"``.
    study : Study
        The study whose sites make up this network.
    raw : CoverageResult
        Uncalibrated best-server prediction.
    coverage : CoverageResult
        The prediction with the calibration applied when the config asks for it.
    assessment : Assessment or None
        Groups and test points assessed on ``coverage`` (None when not assessed).
    """

    name: str
    study: Study
    raw: CoverageResult
    coverage: CoverageResult
    assessment: Assessment | None = None


def _scenario(name: str, study: Study, raw: CoverageResult, fit: CalibrationFit | None, *,
              assessed: bool = True) -> Scenario:
    """The scenario of ``raw``: calibrated, and assessed unless ``assessed`` is False."""
    coverage = _calibrated(study, raw, fit)
    return Scenario(name, study, raw, coverage, assess(study, coverage) if assessed else None)


def compute(study: Study, out_dir: Path, steps: Steps, until: str = "readiness", *,
            ready: Callable[[str, RunResults], None] | None = None) -> RunResults:
    """Predict, assess, plan and judge readiness, stopping after ``until`` (see STEPS).

    ``ready(stage, results)``, when given, is called once the results of a stage are in:
    ``"coverage"`` (the network on air predicted) and ``"plan"`` (the network after the
    plan assessed); the results of later steps are not there yet.
    """
    if until not in STEPS:
        raise ValueError(f"unknown step {until!r}")
    stop = STEPS.index(until)
    cfg = study.config
    # the records as they stood on the as-of date; claims and the sites that the mobile
    # works build are committed sites: dated and predicted
    day = resolve_as_of(cfg.readiness.as_of)
    study = with_work_sites(with_claim_sites(study_as_of(study, day), day))
    results = RunResults(study)
    # the sites still to come, when a later step predicts them, are predicted along with the
    # ones on air (in process: one pass over the sites, the threads busy to the end)
    pending_later = (stop >= 3 or (stop >= 2 and cfg.planning.enabled)) and bool(
        study.sites["status"].isin(PENDING).any())
    along = PENDING if pending_later and not steps.backend.on_cluster else ()
    with steps.step("predict coverage (sites on air)"):
        raw = _predict(study, out_dir, steps, ("on_air",), along=along)
    if study.measurements is not None and len(study.measurements):
        with steps.step("compare with field measurements"):
            results.comparison = compare(study, raw)
            results.calibration = fit_calibration(results.comparison)
    fit = results.calibration
    on_air = _scenario("on air", study, raw, fit, assessed=False)
    results.coverage = on_air.coverage
    if ready is not None:
        ready("coverage", results)
    if stop < 1:
        finish_writes()
        return results
    with steps.step("assess groups and test points"):
        results.assessment = assess(study, results.coverage)
    if stop >= 2 and cfg.planning.enabled:
        with steps.step("predict sites being built or planned"):
            # best server is a max over sites: add the pending ones to the on-air result
            committed = _scenario("committed", study, merge_coverage(
                on_air.raw, _predict(study, out_dir, steps, PENDING)), fit)
            results.committed_assessment = committed.assessment
            results.committed_serving = group_serving_sites(study, committed.coverage)
            steps.prefetched = None  # unused when the network cache had the entry
        with steps.step("plan new sites"):
            update, close = steps.progress("candidates")
            try:
                radio = None
                if steps.backend.client is not None:
                    radio = ClusterCandidateRadio(study, steps.backend.client,
                                                  out_dir / CACHE_DIR / "candidates")
                assert committed.assessment is not None
                gaps = committed.assessment
                results.plan = memoised_plan(
                    out_dir / CACHE_DIR / "plan",
                    lambda: plan_key(study, committed.coverage, gaps,
                                     "local" if radio is None else type(radio).__name__,
                                     steps.digests),
                    lambda: make_plan(study, committed.coverage, gaps,
                                      radio, cache_dir=out_dir / CACHE_DIR / "candidates",
                                      progress=update))
            finally:
                close()
        with steps.step("predict the network after the plan"):
            due = cfg.planning.due_date or cfg.readiness.inspection_date
            after_study = study_with_plan(study, results.plan, due)
            # committed.raw holds the pending sites already: predict the plan's sites only
            after_plan = _scenario("after the plan", after_study, merge_coverage(
                committed.raw, _predict(added_sites_only(after_study, len(study.sites)),
                                        out_dir, steps, PENDING)), fit)
            results.after_study = after_plan.study
            results.after_coverage = after_plan.coverage
            results.after_assessment = after_plan.assessment
        if ready is not None:
            ready("plan", results)
    if stop < 3:
        finish_writes()
        return results
    if results.committed_assessment is None and (study.sites["status"].isin(PENDING)).any():
        with steps.step("predict sites being built or planned"):
            committed = _scenario("committed", study, merge_coverage(
                on_air.raw, _predict(study, out_dir, steps, PENDING)), fit)
            results.committed_assessment = committed.assessment
            results.committed_serving = group_serving_sites(study, committed.coverage)
            steps.prefetched = None  # unused when the network cache had the entry
    with steps.step("readiness"):
        after = None
        if (results.after_assessment is not None and results.plan is not None
                and results.after_study is not None):
            due = cfg.planning.due_date or cfg.readiness.inspection_date
            after = AfterPlan(results.after_study, results.after_assessment,
                              plan_village_remedies(results.plan, due))
        committed_view = None
        if results.committed_assessment is not None:
            committed_view = AfterPlan(study, results.committed_assessment,
                                       pd.DataFrame(columns=["group_id", "site_id", "due"]))
        assessment = results.assessment
        results.readiness = memoised_result(
            out_dir / CACHE_DIR / "readiness",
            lambda: _readiness_key(study, assessment, after, committed_view, steps.digests),
            lambda: evaluate(study, assessment, after=after, committed=committed_view))
    finish_writes()
    return results


def _readiness_key(study: Study, assessment: Assessment | None, after: AfterPlan | None,
                   committed: AfterPlan | None, seen: dict[int, tuple[object, str]]) -> str:
    """Memo key of the readiness verdicts: the content of everything
    :func:`coverage.readiness.evaluate` reads, the as-of day and the environment."""
    return make_key({
        "format": "readiness-v1",
        "as_of": resolve_as_of(study.config.readiness.as_of).isoformat(),
        "inputs": content_digest([study, assessment, after, committed], seen=seen),
        "environment": environment_digest(),
    })


def write_coverage_rasters(staged: OutputFolder, results: RunResults, prov: Provenance) -> None:
    """COG GeoTIFFs: best-server RSRP and site per operator, and any-operator RSRP."""
    cov = results.coverage
    assert cov is not None
    tags = prov.as_dict()
    crs = cov.crs.to_wkt()
    for op, oc in cov.by_operator.items():
        write_geotiff(staged.path(f"coverage/rsrp_{op}.tif"), oc.rsrp.astype(np.float32),
                      cov.transform, crs, float("nan"), dict(tags, operator=op, unit="dBm"))
        write_geotiff(staged.path(f"coverage/best_site_{op}.tif"), oc.best_site.astype(np.int32),
                      cov.transform, crs, -1, dict(tags, operator=op,
                                                   meaning="row of sites table, -1 none"))
    write_geotiff(staged.path("coverage/rsrp_any.tif"), cov.any_rsrp.astype(np.float32),
                  cov.transform, crs, float("nan"), dict(tags, operator="any", unit="dBm"))


def write_readiness_workbook(staged: OutputFolder, results: RunResults, prov: Provenance
                             ) -> None:
    """readiness.xlsx."""
    from coverage.output.workbook import build_workbook

    study, a, r = results.study, results.assessment, results.readiness
    assert a is not None and r is not None
    meta = dict(prov.as_dict(), calibration=results.calibration_text)
    write_workbook(staged.path("readiness.xlsx"), build_workbook(study, a, r, meta),
                   timestamp=f"{prov.generated}T00:00:00Z")


def write_report_files(staged: OutputFolder, results: RunResults, prov: Provenance) -> None:
    """HTML report, CSV tables, calibration scatter and the assessment GeoPackage."""
    from coverage.output.figures import scatter_png
    from coverage.output.plan_section import plan_html
    from coverage.output.report import csv_tables, render_html

    study, a, r = results.study, results.assessment, results.readiness
    assert a is not None and r is not None
    meta = dict(prov.as_dict(), calibration=results.calibration_text)
    staged.write_text("report.html", render_html(study, a, r, meta,
                                                 plan_html=plan_html(results.plan, study)))
    if results.comparison is not None:
        cmp, fit = results.comparison, results.calibration
        write_csv(staged.path("tables/measurements.csv"), safe_table(cmp.table), bom=True)
        write_csv(staged.path("tables/calibration_stats.csv"), safe_table(cmp.stats),
                  bom=True)
        if fit is not None:
            write_csv(staged.path("tables/calibration.csv"), safe_table(fit.table), bom=True)
        colors = {op: p.color for op, p in study.config.operators.items()}
        with open(staged.path("calibration.png"), "wb") as handle:
            handle.write(scatter_png(cmp, fit, colors=colors))
    for name, table in csv_tables(a, r).items():
        write_csv(staged.path(f"tables/{name}"), table, bom=True)
    villages = r.villages.assign(reasons=r.villages["reasons"].map(" | ".join))
    layers = {
        "villages": frame_to_geo(villages.merge(a.villages.drop(columns=["name", "town"]),
                                                on="village_id"), study.villages, "village_id"),
        "groups": frame_to_geo(a.groups, study.groups, "group_id"),
        "points": frame_to_geo(a.points, study.points, "point_id"),
        "gaps": frame_to_geo(a.gaps, study.groups, "group_id"),
    }
    if results.comparison is not None:
        layers["measurements"] = results.comparison.error_layer()
    write_gpkg(staged.path("assessment.gpkg"),
               {k: _gpkg_safe(v) for k, v in layers.items()}, meta)


def write_plan(staged: OutputFolder, results: RunResults, prov: Provenance, *,
               layers: dict[str, gpd.GeoDataFrame] | None = None) -> None:
    """plan.gpkg (every plan layer), plan.csv and plan.kml (``layers``: the plan's
    :func:`~coverage.output.plan_tables.plan_layers`, computed when not given)."""
    plan, study = results.plan, results.study
    assert plan is not None
    meta = prov.as_dict()
    if layers is None:
        layers = plan_layers(plan, study)
    write_gpkg(staged.path("plan.gpkg"), {k: _gpkg_safe(v) for k, v in layers.items()}, meta)
    write_csv(staged.path("plan.csv"), safe_table(plan_csv(plan)), bom=True)
    note = " · ".join(f"{k} {v}" for k, v in meta.items())
    write_kml(staged.path("plan.kml"), f"{study.config.county_name} plan",
              plan_kml_folders(plan, study, layers=layers), note)


def _gpkg_safe(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Object columns holding lists/dicts/None become text (GeoPackage has no such types)."""
    out = frame.copy()
    for col in out.columns:
        if col != "geometry" and out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if v is None else str(v))
    return out


@dataclass(frozen=True)
class MapOptions:
    """How the interactive maps are built.

    Parameters
    ----------
    offline : bool
        Serve every script and style sheet from ``<out>/assets/`` (copied from the
        folder ``make assets`` installs), the default; False loads them from a CDN
        (``--cdn-maps``).
    basemap : Basemap or None
        Basemap choice (OpenStreetMap when None).
    """

    offline: bool = True
    basemap: Basemap | None = None


def write_maps(staged: OutputFolder, results: RunResults, prov: Provenance,
               options: MapOptions, *,
               layers: dict[str, gpd.GeoDataFrame] | None = None,
               only: Collection[str] | None = None) -> list[str]:
    """The interactive maps, index page and overview picture (and offline assets).

    ``only`` writes just those pages (see :func:`coverage.maps.build_pages`).
    """
    from coverage.maps import build_pages
    from coverage.output.plan_section import plan_html

    a, r = results.assessment, results.readiness
    assert a is not None and r is not None
    chosen = backhaul = None
    if results.plan is not None:
        if layers is None:
            layers = plan_layers(results.plan, results.study)
        chosen, backhaul = layers["chosen_sites"], layers["backhaul_links"]
    pages = build_pages(results.study, results.coverage, a, r, prov, plan=chosen,
                        backhaul=backhaul,
                        offline_assets="assets" if options.offline else None,
                        basemap=options.basemap,
                        measurements=(results.comparison.error_layer()
                                      if results.comparison is not None else None),
                        after_signal=results.after_coverage,
                        committed_serving=results.committed_serving,
                        plan_html=plan_html(results.plan, results.study), only=only)
    for name, content in pages.items():
        if isinstance(content, bytes):
            with open(staged.path(name), "wb") as handle:
                handle.write(content)
        else:
            staged.write_text(name, content)
    if options.offline:
        for rel, data in asset_files().items():
            with open(staged.path(f"assets/{rel}"), "wb") as handle:
                handle.write(data)
    return sorted(pages)


PlanLayerMemo = dict[int, tuple[object, dict[str, "gpd.GeoDataFrame"]]]
"""The plan's map layers by the plan object's id (with the object, to check it is the
same): computed once in a run, which asks for them when the plan is made and again for the
last writers."""


def _plan_layers_once(plan: Plan, study: Study, memo: PlanLayerMemo | None
                      ) -> dict[str, gpd.GeoDataFrame]:
    """:func:`~coverage.output.plan_tables.plan_layers` of ``plan``, from ``memo`` when it
    holds this plan's (about 0.13 s of CPU each time otherwise)."""
    if memo is None:
        return plan_layers(plan, study)
    found = memo.get(id(plan))
    if found is not None and found[0] is plan:
        return found[1]
    layers = plan_layers(plan, study)
    memo[id(plan)] = (plan, layers)
    return layers


def _writers(results: RunResults, prov: Provenance, maps: MapOptions,
             stage: str | None = None, started: Collection[str] = (),
             loaded: Study | None = None, layer_memo: PlanLayerMemo | None = None
             ) -> dict[str, Writer]:
    """The run's independent output writers by name, the longest first (see
    :func:`~coverage.io.side_by_side.run_writers`), but those ``started`` already; with
    ``stage`` (see :func:`compute`), the writers of a whole run whose inputs that stage
    completes. A run that stops early maps the inputs as ``loaded``. The plan's map layers
    are computed once per ``layer_memo`` (one per run)."""
    study = results.study
    offline = "assets" if maps.offline else None
    if stage == "coverage":
        return {"rasters": lambda staged: write_coverage_rasters(staged, results, prov),
                "inputs": lambda staged: _write_page(staged, "inputs", study, prov, offline,
                                                     maps.basemap),
                "grid": lambda staged: _write_page(staged, "grid", study, prov, offline,
                                                   maps.basemap)}
    layers = None if results.plan is None else _plan_layers_once(results.plan, study,
                                                                 layer_memo)
    plan = {} if results.plan is None else {
        "plan": lambda staged: write_plan(staged, results, prov, layers=layers)}
    mobile = {"mobile": lambda staged: write_mobile_map(staged, results, prov, maps,
                                                        layers=layers)}
    if stage == "plan":
        return {**mobile, **plan}
    rasters = {"rasters": lambda staged: write_coverage_rasters(staged, results, prov)}
    if results.assessment is None or results.readiness is None:
        return {**rasters,
                "inputs": lambda staged: _write_page(staged, "inputs", loaded or study, prov),
                **plan}
    early = {f"{name}.html" for name in ("mobile", "inputs", "grid") if name in started}
    pages = [p for p in PAGES if p != "mobile.html" and p not in early]
    writers = {
        "workbook": lambda staged: write_readiness_workbook(staged, results, prov),
        **mobile,
        "pages": lambda staged: write_maps(staged, results, prov, maps, layers=layers,
                                           only=pages),
        **rasters,
        "reports": lambda staged: write_report_files(staged, results, prov),
        **plan,
    }
    return {name: w for name, w in writers.items() if name not in started}


RESULTS_NOT_RENDERED = ("timings_s", "computed_sites", "cached_sites")
"""Fields of the results that no output renders (step timings, how many site predictions
came from the cache): left out of the writers' memo keys, so a warm run after a cold one
reuses their outputs."""


def _memoised(writers: dict[str, Writer], results: RunResults, prov: Provenance,
              maps: MapOptions, out_dir: Path, context: object, *, now: bool = False,
              seen: dict[int, tuple[object, str]] | None = None) -> dict[str, Writer]:
    """``writers`` memoised in ``<out>/.cache/outputs`` (:mod:`coverage.io.output_memo`).

    Each key holds the writer's name, ``context`` (the stage, the writers started early,
    the study of a run stopped early), the content of ``results`` as the writers see it,
    the provenance and map options, the offline assets and the environment digest.
    :func:`_results_key` computes the shared part once, in the process that first needs
    it: a forked early writer computes it beside the run; with ``now`` (the writers of
    :meth:`EarlyWriters.finish`) this process computes it at once, and the writers inherit it.
    """
    shared = _results_key(results, prov, maps, context, {} if seen is None else seen)
    if now:
        with contextlib.suppress(TypeError):   # undigestable: the writers run without memo
            shared()
    return {name: memoised_writer(
        out_dir / CACHE_DIR / "outputs" / name, out_dir,
        functools.partial(_writer_key, name, shared), writer)
        for name, writer in writers.items()}


def _writer_key(name: str, shared: Callable[[], str]) -> str:
    return make_key({"writer": name, "shared": shared()})


def _results_key(results: RunResults, prov: Provenance, maps: MapOptions, context: object,
                 seen: dict[int, tuple[object, str]]) -> Callable[[], str]:
    """The part of every writer's memo key that :func:`_memoised` describes (cached)."""
    @functools.cache
    def shared() -> str:
        return make_key({
            "format": "outputs-v1",
            "context": content_digest(context),
            "results": content_digest(results, skip=RESULTS_NOT_RENDERED, seen=seen),
            "provenance": prov.as_dict(),
            "maps": content_digest(maps),
            "assets": content_digest(asset_files()) if maps.offline else None,
            "environment": environment_digest(),
        })
    return shared


def _write_page(staged: OutputFolder, page: str, study: Study, prov: Provenance,
                offline: str | None = None, basemap: Basemap | None = None) -> None:
    """``inputs.html`` or ``grid.html`` (the maps of the study alone)."""
    from coverage.maps import grid_map, inputs_map, render

    build = inputs_map if page == "inputs" else grid_map
    staged.write_text(f"{page}.html", render(build(study, prov, offline, basemap)))


def write_mobile_map(staged: OutputFolder, results: RunResults, prov: Provenance,
                     options: MapOptions, *,
                     layers: dict[str, gpd.GeoDataFrame] | None = None) -> None:
    """mobile.html alone, as :func:`write_maps` writes it; it needs no readiness, so a run
    starts it as soon as the network after the plan is assessed."""
    from coverage.maps import mobile_map, render

    assert results.assessment is not None
    chosen = backhaul = None
    if layers is not None:
        chosen, backhaul = layers["chosen_sites"], layers["backhaul_links"]
    staged.write_text("mobile.html", render(mobile_map(
        results.study, results.coverage, results.assessment, prov, plan=chosen,
        backhaul=backhaul, offline_assets="assets" if options.offline else None,
        basemap=options.basemap,
        measurements=(results.comparison.error_layer()
                      if results.comparison is not None else None),
        after_signal=results.after_coverage, committed_serving=results.committed_serving)))


def _load_into(data_dir: Path, config: Config, out_dir: Path) -> Study:
    """Load the study; a working DEM too large for memory is resampled into the cache.

    When the inputs are rejected, whatever the load created under ``out_dir`` is removed,
    so a failed run leaves the output folder as it found it.
    """
    dem_folder = out_dir / CACHE_DIR / "dem"
    made = _missing(out_dir, out_dir / CACHE_DIR, dem_folder)
    today = dt.date.today()
    try:
        # a warm run reads the validated study back (its key: every input file's bytes);
        # a grid resampled into the cache folder is a memory map, not stored
        return memoised_result(
            out_dir / CACHE_DIR / "study", lambda: study_key(data_dir, config, today),
            lambda: load_study(data_dir, config, today=today, dem_folder=dem_folder),
            keep=1, store=lambda study: not isinstance(study.grid.elevation, np.memmap))
    except BaseException:
        _remove_made(made)
        raise


def _missing(*folders: Path) -> list[Path]:
    """The folders among ``folders`` (outermost first) that do not exist yet."""
    return [folder for folder in folders if not folder.exists()]


def _remove_made(made: list[Path]) -> None:
    """Remove the outermost folder of ``made`` that exists (and so all of them)."""
    for folder in made:   # outermost first: removing it removes the rest
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
            break


WHOLE_RUN_BYTES_PER_CELL = 110
"""Peak memory of a whole `run` per grid cell (bytes): three coverage sets (on air, committed,
after the plan) of 29 B per cell, the working DEM and step temporaries. Measured on the demo
county at 30 m and 60 m: 108 bytes per added cell (docs/scaling.md)."""


def _predict_tiled(study: Study, out_dir: Path, steps: Steps, prov: Provenance,
                   summary: list[str]) -> tuple[list[str], RunResults]:
    """The ``predict`` step of a grid above ``max_in_memory_cells``: tiles straight to COGs."""
    results = RunResults(study)
    with OutputFolder(out_dir) as staged:
        for op in study.config.operators:   # registered: written by the tiled writers
            staged.path(f"coverage/rsrp_{op}.tif")
            staged.path(f"coverage/best_site_{op}.tif")
        folder = staged.path("coverage/rsrp_any.tif").parent
        with steps.step("predict coverage tile by tile (sites on air)"):
            update, close = steps.progress("sites")
            try:
                streamed = predict_to_folder(study, folder,
                                             cache_dir=out_dir / CACHE_DIR / "sites",
                                             client=steps.backend.client, tags=prov.as_dict(),
                                             progress=update)
            finally:
                close()
        with steps.step("write outputs"):
            _write_page(staged, "inputs", study, prov)
    steps.backend = Backend()
    run = streamed.run
    results.comparison, results.calibration = streamed.comparison, streamed.calibration
    summary += [str(w) for w in run.warnings]
    summary.append(f"predicted {run.computed_sites + run.cached_sites} sites "
                   f"({run.computed_sites} computed, {run.cached_sites} from cache) tile by tile: "
                   f"{run.tiles} tiles, {streamed.passes} pass(es), rasters written as they "
                   "finished")
    summary.append(results.calibration_text)
    summary += closing_lines(steps.timings, out_dir)
    return summary, results


def run_pipeline(data_dir: Path, config: Config, out_dir: Path, *, quiet: bool = False,
                 until: str = "readiness", maps: MapOptions | None = None,
                 scheduler: str | None = None, workers: int | None = None,
                 progress: ProgressFactory | None = None) -> list[str]:
    """Run every step and return the console summary (see :func:`run_with_results`)."""
    return run_with_results(data_dir, config, out_dir, quiet=quiet, until=until, maps=maps,
                            scheduler=scheduler, workers=workers, progress=progress)[0]


def run_with_results(data_dir: Path, config: Config, out_dir: Path, *, quiet: bool = False,
                     until: str = "readiness", maps: MapOptions | None = None,
                     scheduler: str | None = None, workers: int | None = None,
                     progress: ProgressFactory | None = None
                     ) -> tuple[list[str], RunResults]:
    """Run every step on ``data_dir`` and write the outputs into ``out_dir``.

    Parameters
    ----------
    data_dir : Path
        Folder laid out like ``data/``.
    config : Config
        The run's configuration.
    out_dir : Path
        Output folder; nothing is written outside it.
    quiet : bool
        Suppress progress output.
    until : str
        Last step: ``predict``, ``assess``, ``plan`` or ``readiness`` (everything).
    maps : MapOptions, optional
        Offline assets and basemap.
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://HOST:PORT``) for the per-site tasks.
    workers : int, optional
        Start an embedded dask LocalCluster with this many single-threaded processes.
        With neither, everything runs in this process.
    progress : callable, optional
        ``progress(label) -> (update, close)``: how to show per-site progress (the CLI
        passes a progress bar); none by default.

    Returns
    -------
    list of str
        Summary lines for the console.
    RunResults
        Everything computed.

    Raises
    ------
    InputDataError
        With every problem of the inputs; nothing is written then.
    """
    out_dir = Path(out_dir)
    maps = maps or MapOptions()
    if maps.offline:
        locate_assets()  # fail before any work when the offline assets are missing
    steps = Steps(quiet, progress=progress)
    made = _missing(out_dir, out_dir / CACHE_DIR)
    with steps.step("load and validate inputs"):
        study = _load_into(Path(data_dir), config, out_dir)
    prov = provenance(study)
    summary = [f"loaded {len(study.villages)} villages, {len(study.groups)} groups, "
               f"{len(study.sites)} sites; working CRS {prov.crs}, "
               f"grid {study.grid.shape[1]}×{study.grid.shape[0]} "
               f"at {study.grid.resolution_m:g} m"]
    summary += [str(w) for w in study.warnings]
    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(open_client(scheduler, workers))
        except BaseException:   # no cluster: the folder as it was found (the study memo)
            _remove_made(made)
            raise
        steps.backend = Backend(client)
        if client is not None:
            summary.append(f"dask: {len(client.scheduler_info().get('workers', {}))} workers, "
                           f"dashboard {client.dashboard_link}")
        if until == "predict" and needs_tiling(study):
            return _predict_tiled(study, out_dir, steps, prov, summary)
        if needs_tiling(study):
            rows, cols = study.grid.shape
            summary.append(
                f"the grid has {rows * cols / 1e6:.0f} M cells (above model.max_in_memory_cells): "
                f"assessment and planning hold whole-grid rasters, about "
                f"{rows * cols * WHOLE_RUN_BYTES_PER_CELL / 2**30:.1f} GiB; "
                "`coverage-planner predict` writes the rasters tile by tile")
        # no forked writers beside a dask client (its threads could hold locks at the fork)
        processes = default_threads() if client is None else 1
        with OutputFolder(out_dir) as staged, EarlyWriters(staged, processes=processes) as early:
            started: set[str] = set()
            layer_memo: PlanLayerMemo = {}

            def ready(stage: str, results: RunResults) -> None:
                if until == "readiness":   # every output is written: start what can be
                    writers = _writers(results, prov, maps, stage=stage,
                                       layer_memo=layer_memo)
                    started.update(writers)
                    early.start(list(_memoised(writers, results, prov, maps, out_dir,
                                               stage).values()))

            results = compute(study, out_dir, steps, until, ready=ready)
            steps.backend = Backend()
            cov = results.coverage
            assert cov is not None
            summary += [str(w) for w in cov.warnings]
            summary.append(f"predicted {cov.computed_sites + cov.cached_sites} sites "
                           f"({cov.computed_sites} computed, {cov.cached_sites} from cache)")
            with steps.step("write outputs"):
                last = _memoised(_writers(results, prov, maps, started=started, loaded=study,
                                          layer_memo=layer_memo),
                                 results, prov, maps, out_dir,
                                 ["finish", sorted(started), study if until != "readiness"
                                  else None], now=True, seen=steps.digests)
                early.finish(list(last.values()))
    summary += result_lines(results.study, assessment=results.assessment,
                            calibration_text=results.calibration_text, plan=results.plan,
                            after_assessment=results.after_assessment,
                            readiness=results.readiness)
    summary += closing_lines(steps.timings, out_dir)
    return summary, results
