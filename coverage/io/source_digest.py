"""A digest of the package's own source, for cache entries whose meaning is the code itself.

The per-site loss cache names its engine version explicitly
(:data:`coverage.radio.engine.ENGINE_VERSION`). An entry that holds a *composed* result (the
link budget, the antenna pattern and the best-server rule applied to many sites) depends on
more code than that, so it is keyed on the source of the modules that compute it as well:
any edit of them makes the entry unreachable, and a stale result is never read.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def source_digest(*parts: str) -> str:
    """SHA-256 hex digest of the source files of ``parts`` of the package.

    Parameters
    ----------
    *parts : str
        Paths relative to the package folder: a module file (``"signal.py"``) or a
        subpackage folder (``"radio"``, every ``.py`` file below it, sorted by path).

    Returns
    -------
    str
        The digest of the files' relative paths and bytes (``"missing"`` recorded for a
        part that does not exist, so the digest still changes when one appears).
    """
    h = hashlib.sha256()
    for part in parts:
        target = _PACKAGE / part
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for path in files:
            h.update(path.relative_to(_PACKAGE).as_posix().encode("utf-8"))
            h.update(b"\0")
            h.update(path.read_bytes() if path.is_file() else b"missing")
            h.update(b"\0")
    return h.hexdigest()
