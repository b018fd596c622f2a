"""The whole run: load and validate, compute, and publish every output at once.

Core modules compute; this module sequences them and hands results to the writers in
:mod:`coverage.io`. Nothing is written before the inputs have been validated, and
outputs are published only when every step has succeeded.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from coverage import __version__
from coverage.config import Config
from coverage.io.outputs import OutputFolder
from coverage.maps import Provenance, inputs_map, render
from coverage.study import Study, load_study


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


def run_pipeline(data_dir: Path, config: Config, out_dir: Path, quiet: bool = False
                 ) -> list[str]:
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

    Returns
    -------
    list of str
        Summary lines for the console.

    Raises
    ------
    InputDataError
        With every problem of the inputs; nothing is written then.
    """
    study = load_study(Path(data_dir), config)
    prov = provenance(study)
    summary = [f"loaded {len(study.villages)} villages, {len(study.groups)} groups, "
               f"{len(study.sites)} sites; working CRS {prov.crs}, "
               f"grid {study.grid.elevation.shape[1]}×{study.grid.elevation.shape[0]} "
               f"at {study.grid.resolution_m:g} m"]
    summary += [str(w) for w in study.warnings]
    with OutputFolder(Path(out_dir)) as staged:
        staged.write_text("inputs.html", render(inputs_map(study, prov)))
    summary.append(f"wrote {Path(out_dir) / 'inputs.html'}")
    return summary
