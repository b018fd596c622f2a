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

Load time in a fresh process (why not <= 0.3 s)
-----------------------------------------------
Measured on the 2-core machine (CPU seconds, so a busy machine changes them little; wall
time was 1.4-1.6 x these under a load of 3-4), for ``import numba``, the kernel modules
and the first call of the engine on a tiny grid with every kernel in the cache:

========================================================  ===========  ===========
part                                                      before       now
========================================================  ===========  ===========
``import numba`` (its own modules, llvmlite binding)      0.25-0.35    0.25-0.35
defining the ~30 dispatchers of ``diffraction``/``engine``  0.06-0.13    0.06-0.13
numba's typing and lowering tables and LLVM set-up
(``BaseContext.refresh``: ~250 registries, done once on
the first compile or cache load)                          0.28-0.43    0.28-0.43
``scipy.linalg`` imported by numba's BLAS probe in that
step (``numba.np.arraymath._check_blas``)                 0.28-0.38    0 (skipped)
cache index look-ups and loading the object code of the
top-level kernels                                         0.04-0.05    0.03-0.05
OpenMP threading layer and the two ``parallel=True``
kernels' first calls                                      0.10-0.15    0 (gone)
========================================================  ===========  ===========

In all, median of 5 fresh processes: 0.72 s of CPU now (0.68-0.90), 1.20 s before
(1.18-1.28); wall 0.71-0.76 s when the machine was momentarily quiet. The floor is numba
itself (its import, its tables, and defining dispatchers: about 0.65 s of CPU before any of
our machine code runs); loading our kernels is at most 0.06 s. Reaching 0.3 s would
need the kernels without numba at run time (ahead-of-time compiled into an extension
module, which is now possible because no kernel uses ``prange`` any more, but
``numba.pycc`` is deprecated, so it would mean writing them in C or Cython).

The BLAS probe: on import, ``numba.np.arraymath`` imports ``scipy.linalg`` only to learn
whether np.correlate/np.convolve may call BLAS. None of our kernels uses them (nor any
linear algebra), and a process that never otherwise needs ``scipy.linalg`` (the one-site
job) paid 0.3 s for it. :func:`configure` installs a finder that hides ``scipy.linalg``
from that one module while it is imported, unless it is imported already; numba then
uses its own loop for those two functions, and anything else still imports scipy
normally.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from coverage.importhide import hide_while_importing

ENV = "NUMBA_CACHE_DIR"

_BLAS_PROBE = "numba.np.arraymath"
_BLAS_MODULE = "scipy.linalg"


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
    """Set ``NUMBA_CACHE_DIR`` when numba would find no writable cache folder, and keep
    numba's BLAS probe from importing ``scipy.linalg`` (see the module notes).

    Does nothing once numba is imported (it reads the variable at import).
    """
    if "numba" in sys.modules:
        return
    hide_while_importing(_BLAS_PROBE, _BLAS_MODULE, unless_loaded=True)
    folder = choose_cache_dir(Path(__file__).resolve().parent, os.environ)
    if folder is not None:
        os.environ[ENV] = str(folder)
