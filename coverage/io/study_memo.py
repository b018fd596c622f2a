"""The validated study of a data folder, kept as one checked cache entry between runs.

Loading the demo county (reading its GeoPackages and tables, validating every row, resampling
the DEM to the working grid) costs ~1.3 s of a warm run's ~5 s; the loaded study pickles to
~13 MB and reads back in ~0.1 s. :func:`study_key` names everything a load reads: the bytes
of every file of the data folder, the folder's path, the whole configuration, the date the
"in the future" checks compare against, the package's files and the installed libraries
(:func:`coverage.io.digest.environment_digest`). The entry is stored and verified by
:func:`coverage.io.result_memo.memoised_result` (its key and a SHA-256 checksum of its
bytes), and only a load that succeeded is stored: rejected inputs are validated again by
every run and report every problem as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from coverage.io.cache import make_key
from coverage.io.digest import environment_digest

if TYPE_CHECKING:
    from coverage.config import Config

__all__ = ["STUDY_FORMAT", "study_key"]

STUDY_FORMAT = 1
"""Version of the stored study; raise it when its meaning changes without a code change."""

_INDIRECT = (".vrt", ".ovr", ".aux.xml")
"""Files that may name other files (outside the folder): a folder holding one is not
memoised, as the key could not cover what it points to."""


def _folder_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (symbolic links followed), by relative path.

    Raises
    ------
    TypeError
        When a file may refer to files outside the folder (:data:`_INDIRECT`) or cannot
        be read.
    """
    files: dict[str, str] = {}
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs.sort()
        for name in sorted(names):
            if name.lower().endswith(_INDIRECT):
                raise TypeError(f"{name} may refer to files outside the data folder")
            path = Path(root) / name
            try:
                with path.open("rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
            except OSError as exc:  # the load reports it (or does not need the file)
                raise TypeError(f"cannot read {path}") from exc
            files[path.relative_to(folder).as_posix()] = digest
    return files


def study_key(data_dir: Path, config: Config, today: dt.date) -> str:
    """SHA-256 key of the study loaded from ``data_dir`` with ``config`` on ``today``.

    Parameters
    ----------
    data_dir : Path
        The data folder (every file below it enters the key by its bytes).
    config : Config
        The configuration, all of it (the study holds it).
    today : datetime.date
        Reference date of the load's "date in the future" checks.

    Returns
    -------
    str
        64-digit hex digest.

    Raises
    ------
    TypeError
        When the folder holds a file that may refer to others outside it (a VRT, GDAL
        side-car files) or one that cannot be read:
        :func:`coverage.io.result_memo.memoised_result` then loads without a memo.
    """
    return make_key({
        "format": STUDY_FORMAT,
        "environment": environment_digest(),
        "data_dir": [str(data_dir), str(data_dir.resolve())],
        "files": _folder_digest(data_dir),
        "config": config.model_dump(mode="json"),
        "today": today.isoformat(),
    })
