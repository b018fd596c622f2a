"""Command-line interface: parse arguments, call the core, write outputs, set the exit code.

Exit codes: 0 success, 2 bad input or configuration, 1 internal error (a bug: please
report it with ``--debug`` output). A user's mistake never shows a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from coverage.errors import CoverageError

if TYPE_CHECKING:
    from rich.console import Console

    from coverage.config import Config
    from coverage.pipeline import MapOptions


class _LazyConsole:
    """A rich ``Console`` made when first printed to: importing rich costs a command ~25 ms
    of CPU, and the one-site job prints its summary without it."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def print(self, *objects: object, **kwargs: object) -> None:
        """``rich.console.Console.print``."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        self._console.print(*objects, **kwargs)  # type: ignore[arg-type]


err_console = _LazyConsole(stderr=True)
out_console = _LazyConsole(stderr=False)

_INTERRUPTED = "interrupted; no output was left half-written."


def _whole_short_help(command: click.Command) -> str:
    """The first paragraph of a command's help, whole: its line in the group's list of
    commands (click would cut it to the terminal's width with "...")."""
    if command.short_help:
        return command.short_help
    return " ".join((command.help or "").strip().split("\n\n")[0].split())


class _Command(click.Command):
    """A command listed with the whole first paragraph of its help."""

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first paragraph of the help text (``limit``, in characters, is ignored)."""
        return _whole_short_help(self)


class _Group(click.Group):
    """A command group whose commands and subgroups are listed in the order they are
    defined, each with the whole first paragraph of its help; Ctrl-C in a command exits 130
    with one line on stderr (click's own "Aborted!" exits 1)."""

    command_class = _Command

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first paragraph of the help text (``limit``, in characters, is ignored)."""
        return _whole_short_help(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands in the order they are defined (click sorts them by name)."""
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> object:
        """Run the chosen command; a ``KeyboardInterrupt`` becomes exit code 130."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            err_console.print(_INTERRUPTED, markup=False)
            raise click.exceptions.Exit(130) from None


@click.group(cls=_Group, no_args_is_help=True, context_settings={"show_default": True})
def app() -> None:
    """coverage-planner: village-group coverage gaps, site plans and acceptance readiness."""


_PATH = click.Path(path_type=Path)
"""A path option or argument as a ``pathlib.Path``; its existence is checked by the command
(a missing file is a user's error with exit code 2 and one line, not a usage message)."""

_data_opt = click.option("--data", type=_PATH, default=Path("data"),
                         help="Data folder laid out like data/.")
_config_opt = click.option("--config", type=_PATH, default=Path("coverage.toml"),
                           help="Configuration file (TOML).")
_out_opt = click.option("--out", type=_PATH, default=Path("maps"),
                        help="Output folder; nothing is written elsewhere.")
_quiet_opt = click.option("--quiet", "-q", is_flag=True, help="No progress output.")
_debug_opt = click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
_scheduler_opt = click.option(
    "--scheduler", metavar="tcp://HOST:PORT",
    help="Run the per-site tasks on this dask scheduler (--out on a shared file system).")
_workers_opt = click.option(
    "--workers", type=click.IntRange(min=1),
    help="Start an embedded dask LocalCluster with N worker processes.")
_threads_opt = click.option(
    "--threads", type=click.IntRange(min=0),
    help="Threads predicting side by side; 0 = every CPU (default: [compute] threads of the "
    "configuration).")


class _ConsoleHandler(logging.Handler):
    """Library log records (step names, notes) on stderr, as plain text."""

    def emit(self, record: logging.LogRecord) -> None:
        err_console.print(self.format(record), markup=False)


def _show_library_log() -> None:
    """Route the library's ``coverage`` logger (INFO and above) to stderr, once."""
    logger = logging.getLogger("coverage")
    if not any(isinstance(h, _ConsoleHandler) for h in logger.handlers):
        logger.addHandler(_ConsoleHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _progress_bar(label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A transient rich progress bar: ``(update(done, total), close())``."""
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    task = bar.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar.stop


def _fail(exc: BaseException, debug: bool) -> None:
    """Report an error and exit with its code; tracebacks only for internal errors in debug."""
    if isinstance(exc, CoverageError):
        err_console.print(str(exc), markup=False)
        raise click.exceptions.Exit(exc.exit_code)
    if debug:
        raise exc
    err_console.print(
        f"internal error: {type(exc).__name__}: {exc}\n"
        "This is a bug in coverage-planner, not in your data. Re-run with --debug and report "
        "the traceback.", markup=False)
    raise click.exceptions.Exit(1)


def _blas_one_thread() -> None:
    """Start numpy's OpenBLAS with one thread, in a command that does no linear algebra.

    OpenBLAS starts a worker thread per CPU when numpy is imported: ~0.06 s of CPU for
    nothing in ``site`` and ``validate``. Only before numpy is imported (the variable is read
    then), and never over the user's own ``OPENBLAS_NUM_THREADS``.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _config_path(config: Path) -> Path | None:
    """The config file to load: the given one, or None for built-in defaults when the
    default name is absent."""
    if config == Path("coverage.toml") and not config.exists():
        return None
    return config


@app.command()
@click.argument("data_dir", type=_PATH, default=Path("data"))
@_config_opt
@_debug_opt
def validate(data_dir: Path, config: Path, debug: bool) -> None:
    """Check every input file and print every problem; exit 2 when any is an error.

    DATA_DIR: data folder to check (default: data).
    """
    _blas_one_thread()
    try:
        from coverage.config import load_config
        from coverage.study import validate_data_dir

        cfg = load_config(_config_path(config))
        with tempfile.TemporaryDirectory(prefix="coverage-validate-") as scratch:
            # a province-sized DEM is resampled into a file; nothing is left behind
            problems = validate_data_dir(data_dir, cfg, dem_folder=Path(scratch))
    except Exception as exc:
        _fail(exc, debug)
        return
    errors = [p for p in problems if p.is_error]
    for problem in problems:
        (err_console if problem.is_error else out_console).print(str(problem), markup=False)
    notes = [p for p in problems if p.severity == "note"]
    out_console.print(
        f"{data_dir}: {len(errors)} error(s), {len(problems) - len(errors) - len(notes)} "
        f"warning(s)" + (f", {len(notes)} note(s) on how files were read." if notes else "."),
        markup=False)
    if errors:
        raise click.exceptions.Exit(2)


_offline_opt = click.option(
    "--offline-maps/--cdn-maps", default=True, help="Offline (default): the map scripts are "
    "copied into <out>/assets (installed once with `make assets`); --cdn-maps loads them from "
    "the internet.")
_basemap_opt = click.option(
    "--basemap", default="osm", help="Basemap: osm, tianditu (needs a key), gaode (GCJ-02 "
    "shift applied) or none (无底图 first).")
_tianditu_opt = click.option(
    "--tianditu-key", envvar="TIANDITU_KEY", show_envvar=True,
    help="Tianditu API key for --basemap tianditu.")


_as_of_opt = click.option(
    "--as-of", help="Judge readiness on this day (YYYY-MM-DD): items due before it and not "
    "done are overdue. Default: readiness.as_of of the config, else today.")


def _with_threads(cfg: Config, threads: int | None) -> Config:
    """``cfg`` with ``compute.threads`` set from ``--threads`` (unchanged without it)."""
    if threads is None:
        return cfg
    return cfg.model_copy(update={"compute": cfg.compute.model_copy(
        update={"threads": threads})})


def _with_as_of(cfg: Config, as_of: str | None) -> Config:
    """``cfg`` with ``readiness.as_of`` set from ``--as-of`` (unchanged without it)."""
    import datetime as dt

    from coverage.errors import ConfigError

    if as_of is None:
        return cfg
    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise ConfigError(f"--as-of {as_of!r} is not a date. Fix: give it as YYYY-MM-DD, "
                          "e.g. --as-of 2020-09-15.") from None
    return cfg.model_copy(update={"readiness": cfg.readiness.model_copy(
        update={"as_of": day})})


def _map_options(offline: bool, basemap: str, key: str | None) -> MapOptions:
    from coverage.errors import ConfigError
    from coverage.maps import Basemap
    from coverage.pipeline import MapOptions

    if basemap not in ("osm", "tianditu", "gaode", "none"):
        raise ConfigError(f"--basemap {basemap!r} is not known. Fix: use osm, tianditu, gaode "
                          "or none.")
    return MapOptions(offline=offline, basemap=Basemap(kind=basemap, key=key))


@app.command()
@_data_opt
@_config_opt
@_out_opt
@_offline_opt
@_basemap_opt
@_tianditu_opt
@_scheduler_opt
@_workers_opt
@_as_of_opt
@_threads_opt
@_quiet_opt
@_debug_opt
def run(data: Path, config: Path, out: Path, offline_maps: bool, basemap: str,
        tianditu_key: str | None, scheduler: str | None, workers: int | None,
        as_of: str | None, threads: int | None, quiet: bool, debug: bool) -> None:
    """Run the whole pipeline on a data folder and write maps and reports into --out."""
    try:
        from coverage.config import load_config
        from coverage.pipeline import run_pipeline

        cfg = _with_threads(_with_as_of(load_config(_config_path(config)), as_of), threads)
        options = _map_options(offline_maps, basemap, tianditu_key)
        _show_library_log()
        summary = run_pipeline(data, cfg, out, quiet=quiet, maps=options, scheduler=scheduler,
                               workers=workers, progress=_progress_bar)
    except Exception as exc:
        _fail(exc, debug)
        return
    if not quiet:
        for line in summary:
            out_console.print(line, markup=False)


def _run_until(until: str, data: Path, config: Path, out: Path, quiet: bool, debug: bool,
               scheduler: str | None = None, workers: int | None = None
               ) -> list[str] | None:
    try:
        from coverage.config import load_config
        from coverage.pipeline import run_pipeline

        cfg = load_config(_config_path(config))
        _show_library_log()
        return run_pipeline(data, cfg, out, quiet=quiet, until=until, scheduler=scheduler,
                            workers=workers, progress=_progress_bar)
    except Exception as exc:
        _fail(exc, debug)
    return None


def _stage_options(cluster: bool) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options of a command that runs the pipeline up to one stage: --data, --config,
    --out, with ``cluster`` --scheduler and --workers, then --quiet and --debug (in that
    order in its help)."""
    options = [_data_opt, _config_opt, _out_opt,
               *([_scheduler_opt, _workers_opt] if cluster else []), _quiet_opt, _debug_opt]

    def apply(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def _print(lines: list[str] | None, quiet: bool) -> None:
    if lines and not quiet:
        for line in lines:
            out_console.print(line, markup=False)


@app.command()
@_stage_options(cluster=True)
def predict(data: Path, config: Path, out: Path, scheduler: str | None, workers: int | None,
           quiet: bool, debug: bool) -> None:
    """Predict RSRP per operator and write the coverage COG GeoTIFFs into --out/coverage."""
    _print(_run_until("predict", data, config, out, quiet, debug, scheduler, workers), quiet)


@app.command()
@_stage_options(cluster=False)
def assess(data: Path, config: Path, out: Path, quiet: bool, debug: bool) -> None:
    """Predict and assess every test point and group; print the county roll-up."""
    _print(_run_until("assess", data, config, out, quiet, debug), quiet)


@app.command()
@_stage_options(cluster=True)
def plan(data: Path, config: Path, out: Path, scheduler: str | None, workers: int | None,
        quiet: bool, debug: bool) -> None:
    """Choose new sites and operator claims; write plan.gpkg, plan.csv and plan.kml."""
    _print(_run_until("plan", data, config, out, quiet, debug, scheduler, workers), quiet)


@app.command()
@_data_opt
@_config_opt
@_out_opt
@click.option("--strict", is_flag=True,
              help="Exit 3 when any village is NOT_READY (for scripts).")
@_as_of_opt
@_quiet_opt
@_debug_opt
def readiness(data: Path, config: Path, out: Path, strict: bool, as_of: str | None,
              quiet: bool, debug: bool) -> None:
    """Run everything and print the readiness verdict per town; --strict exits 3 on NOT_READY."""
    try:
        from coverage.config import load_config
        from coverage.pipeline import run_with_results

        cfg = _with_as_of(load_config(_config_path(config)), as_of)
        _lines, results = run_with_results(data, cfg, out, quiet=True)
    except Exception as exc:
        _fail(exc, debug)
        return
    readiness = results.readiness
    assert readiness is not None                # run_with_results always judges readiness
    villages = readiness.villages
    table = villages.pivot_table(index="town", columns="verdict", values="village_id",
                                 aggfunc="count", fill_value=0)
    counts = readiness.counts
    if not quiet:
        out_console.print(table.to_string(), markup=False)
        out_console.print(f"verdicts as of {readiness.as_of.isoformat()}: "
                          + ", ".join(f"{k} {v}" for k, v in counts.items()), markup=False)
    if strict and counts.get("NOT_READY", 0) > 0:
        raise click.exceptions.Exit(3)


@app.command("demo-data")
@click.option("--out", type=_PATH, default=Path("data"),
              help="Folder to write the demo county into.")
@click.option("--seed", type=int, default=20201031, help="Random seed.")
@click.option("--measurements/--no-measurements", default=True,
              help="Also generate the field-measurement set (predicts the county: ~1 min).")
@_debug_opt
def demo_data(out: Path, seed: int, measurements: bool, debug: bool) -> None:
    """Generate the demo county (deterministic from the seed) into --out."""
    try:
        import tempfile

        from coverage.demo import build_demo_county, write_demo_county
        from coverage.demo.measurements import generate_demo_measurements, write_demo_measurements

        hashes = write_demo_county(build_demo_county(seed), out)
        if measurements:
            with tempfile.TemporaryDirectory() as cache:
                table = generate_demo_measurements(out, cache_dir=Path(cache))
            hashes.update(write_demo_measurements(table, out))
    except Exception as exc:
        _fail(exc, debug)
        return
    for rel, digest in sorted(hashes.items()):
        out_console.print(f"{digest[:16]}  {out / rel}", markup=False)


@app.command()
@click.option("--out", type=_PATH, required=True,
              help="Folder to write the templates into (laid out like data/).")
@_config_opt
@_debug_opt
def template(out: Path, config: Path, debug: bool) -> None:
    """Write the Excel input templates (Chinese headers, drop-down lists, notes sheet)."""
    try:
        from coverage.config import load_config
        from coverage.io.template import write_templates

        written = write_templates(out, load_config(_config_path(config)))
    except Exception as exc:
        _fail(exc, debug)
        return
    for path in written:
        out_console.print(str(path), markup=False)


@app.command()
@click.option("--dem", type=_PATH, required=True,
              help="DEM file, or folder of tiles (any CRS).")
@click.option("--lon", required=True, help="Longitude (degrees or DMS).")
@click.option("--lat", required=True, help="Latitude (degrees or DMS).")
@click.option("--out", type=_PATH, required=True,
              help="Folder for rsrp.tif, loss.tif, rsrp.png, rsrp.kml.")
@click.option("--height", type=float, default=30.0, help="Antenna height above ground (m).")
@click.option("--datum", default="wgs84",
              help="Coordinate system of --lon/--lat: wgs84, cgcs2000, gcj02 or bd09.")
@click.option("--band", help="OPERATOR/BAND of the configuration, e.g. CMCC/FDD900.")
@click.option("--frequency", type=float, help="Frequency (MHz); overrides the band's.")
@click.option("--radius", type=float, default=10.0, help="Radius (km).")
@click.option("--resolution", type=float, default=30.0, help="Cell size (m).")
@click.option("--azimuths", default="omni", help="Sector azimuths, e.g. 0,120,240, or omni.")
@click.option("--tilt", type=float, help="Total downtilt (degrees).")
@click.option("--data", type=_PATH,
              help="Data folder: also count its households at or above the threshold.")
@_config_opt
@_threads_opt
@_debug_opt
def site(dem: Path, lon: str, lat: str, out: Path, height: float, datum: str, band: str | None,
         frequency: float | None, radius: float, resolution: float, azimuths: str,
         tilt: float | None, data: Path | None, config: Path, threads: int | None,
         debug: bool) -> None:
    """Predict one site from a DEM: RSRP and loss COGs, PNG/KML overlay, one-line summary."""
    _blas_one_thread()
    try:
        from coverage.config import load_config
        from coverage.sitejob import make_request, run_site_job

        cfg = _with_threads(load_config(_config_path(config)), threads)
        req = make_request(cfg, dem=dem, lon=lon, lat=lat, datum=datum, height_m=height,
                           band=band, frequency_mhz=frequency, radius_km=radius,
                           resolution_m=resolution, azimuths=azimuths, tilt_deg=tilt)
        result = run_site_job(req, cfg, out, data)
    except Exception as exc:
        _fail(exc, debug)
        return
    click.echo(result.summary)  # plain text, as out_console prints it (without loading rich)


@app.command()
@_data_opt
@_config_opt
@_out_opt
@click.option("--from", "from_", help="Start of the period (YYYY-MM-DD; default the last "
              "month-end before --to).")
@click.option("--to", help="End of the period (YYYY-MM-DD; default today).")
@_quiet_opt
@_debug_opt
def progress(data: Path, config: Path, out: Path, from_: str | None, to: str | None,
             quiet: bool, debug: bool) -> None:
    """The monthly dispatch meeting (调度会): write progress.html and progress.xlsx."""
    try:
        import datetime as dt

        from coverage.config import load_config
        from coverage.errors import ConfigError
        from coverage.progress import default_period, run_progress

        cfg = load_config(_config_path(config))
        days = {}
        for name, text in (("--from", from_), ("--to", to)):
            try:
                days[name] = dt.date.fromisoformat(text) if text else None
            except ValueError:
                raise ConfigError(f"{name} {text!r} is not a date. Fix: give it as "
                                  "YYYY-MM-DD.") from None
        end = days["--to"] or dt.date.today()
        start = days["--from"] or default_period(end)[0]
        _show_library_log()
        lines = run_progress(data, cfg, out, start, end, quiet=quiet)
    except Exception as exc:
        _fail(exc, debug)
        return
    _print(lines, quiet)


@app.group("claims", cls=_Group, no_args_is_help=True)
def claims_app() -> None:
    """The operators' claims file (认领台账)."""


@claims_app.command("adopt")
@click.argument("plan_csv", type=_PATH, default=Path("maps/plan.csv"))
@click.option("--claims", type=_PATH, default=Path("data/sites/claims.csv"),
              help="The office's claims file: proposals it already claims are left out.")
@click.option("--out", type=_PATH,
              help="File to write (default: claims.proposed.csv next to plan.csv).")
@click.option("--append-to-claims", "append", is_flag=True,
              help="Append the rows to the --claims file itself (only when asked: the "
              "office's file is never changed otherwise).")
@click.option("--claimed-on",
              help="Claim date written into the rows (YYYY-MM-DD; default today).")
@click.option("--due", help="Promised on-air date (default planning.due_date, else the "
              "inspection date).")
@_config_opt
@_debug_opt
def claims_adopt(plan_csv: Path, claims: Path, out: Path | None, append: bool,
                 claimed_on: str | None, due: str | None, config: Path, debug: bool) -> None:
    """Turn the plan's proposed sites into claim rows (status 认领) for the office to confirm.

    PLAN_CSV: plan.csv of a run, the proposal (default: maps/plan.csv).
    """
    try:
        import datetime as dt

        from coverage.claims import adopt_plan
        from coverage.config import load_config
        from coverage.errors import ConfigError
        from coverage.io.claims import read_claims_table, read_plan_table, write_claims_table

        cfg = load_config(_config_path(config))
        days = {}
        for name, text in (("--claimed-on", claimed_on), ("--due", due)):
            try:
                days[name] = dt.date.fromisoformat(text) if text else None
            except ValueError:
                raise ConfigError(f"{name} {text!r} is not a date. Fix: give it as "
                                  "YYYY-MM-DD.") from None
        target = claims if append else (out or plan_csv.parent / "claims.proposed.csv")
        if not append and target.resolve() == claims.resolve():
            raise ConfigError(f"--out {target} is the office's claims file. Fix: write the "
                              "proposal elsewhere, or pass --append-to-claims to add it there.")
        plan_rows = read_plan_table(plan_csv)
        existing = read_claims_table(claims, cfg)
        rows, skipped = adopt_plan(
            plan_rows, existing, claimed_on=days["--claimed-on"] or dt.date.today(),
            due=days["--due"] or cfg.planning.due_date or cfg.readiness.inspection_date,
            language=cfg.language)
        write_claims_table(target, rows, claims if append else None)
    except Exception as exc:
        _fail(exc, debug)
        return
    zh = cfg.language == "zh"
    out_console.print((f"已写出 {target}：{len(rows)} 条待确认的认领（状态 认领）" if zh else
                       f"wrote {target}: {len(rows)} claim(s) to confirm (status claimed)")
                      + ((f"；{skipped} 个规划站点已在 {claims} 中认领" if zh else
                          f"; {skipped} proposed site(s) already claimed in {claims}")
                         if skipped else ""), markup=False)
    if not append and len(rows):
        out_console.print(f"请核对、修改后并入 {claims}（或用 --append-to-claims 直接追加）" if zh
                          else f"check and edit them, then copy them into {claims} (or use "
                          "--append-to-claims)", markup=False)


@app.command()
def version() -> None:
    """Print the version."""
    from coverage import __version__

    out_console.print(f"coverage-planner {__version__}", markup=False)


def main() -> None:
    """Console-script entry point (click's standalone mode: usage errors exit 2)."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print(_INTERRUPTED, markup=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
