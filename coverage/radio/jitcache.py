"""Where numba keeps the compiled kernels of this package (its on-disk cache).

The kernels are compiled just in time with ``cache=True``: the first run on a machine
compiles them (tens of seconds) and stores the machine code; every later process loads it
(about a second, mostly numba building its typing and lowering tables). Ahead-of-time
compilation was rejected: numba's ``pycc`` is deprecated and cannot compile the
``parallel=True`` kernels (``prange``) that use both cores.

numba looks for a writable folder in this order: ``NUMBA_CACHE_DIR`` when set, the
``__pycache__`` beside the source (an editable or a user-writable install), then its
user-wide cache (``~/.cache/numba``, used by a read-only system install). When none of these
is writable (a read-only install run by a service account without a home), every process
would compile the kernels again; :func:`configure` then points ``NUMBA_CACHE_DIR`` at a
per-user folder in the temporary directory. It must run before numba is imported; the
package ``coverage.radio`` calls it first.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ENV = "NUMBA_CACHE_DIR"


def writable(folder: Path) -> bool:
    """Whether ``folder`` exists or can be created, and a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def user_cache_dir() -> Path:
    """numba's user-wide cache folder (``$XDG_CACHE_HOME/numba``, else ``~/.cache/numba``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "numba"


def fallback_dir() -> Path:
    """The last-resort cache folder: per user, in the temporary directory."""
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"coverage-planner-numba-{user}"


def choose_cache_dir(package_dir: Path, environ: dict[str, str] | os._Environ[str], *,
                     is_writable: Callable[[Path], bool] = writable) -> Path | None:
    """The folder to put in ``NUMBA_CACHE_DIR``, or None to leave numba's choice alone.

    Parameters
    ----------
    package_dir : Path
        Folder of the kernels' source files (their ``__pycache__`` is numba's first choice).
    environ : mapping
        The process environment (an explicit ``NUMBA_CACHE_DIR`` always wins).
    is_writable : callable
        Test of a folder (injected by the tests).
    """
    if environ.get(ENV):
        return None
    if is_writable(package_dir / "__pycache__") or is_writable(user_cache_dir()):
        return None
    return fallback_dir()


def configure() -> None:
    """Set ``NUMBA_CACHE_DIR`` when numba would find no writable cache folder.

    Does nothing once numba is imported (it reads the variable at import).
    """
    if "numba" in sys.modules:
        return
    folder = choose_cache_dir(Path(__file__).resolve().parent, os.environ)
    if folder is not None:
        os.environ[ENV] = str(folder)
