"""Where numba keeps the compiled kernels of this package (its on-disk cache).

The kernels have two forms (:mod:`coverage.radio.jit`): an extension module compiled ahead
of time by ``make`` (:mod:`coverage.radio.aot`), used whenever it is built, up to date and
the arguments have its types (the one-site job), and numba's just-in-time dispatchers with
``cache=True`` for everything else, and when no C compiler was at hand. The first
just-in-time run on a machine compiles the kernels (tens of seconds) and stores the machine
code; every later process loads it (about a second, mostly numba building its typing and
lowering tables). This module is about that cache.

numba looks for a writable folder in this order: ``NUMBA_CACHE_DIR`` when set, the
``__pycache__`` beside the source (an editable or a user-writable install), then its
user-wide cache (``~/.cache/numba``, used by a read-only system install). When none of these
is writable (a read-only install run by a service account without a home), every process
would compile the kernels again; :func:`configure` then points ``NUMBA_CACHE_DIR`` at a
per-user folder in the temporary directory. It must run before numba is imported; the
package ``coverage.radio`` calls it first.

Load time in a fresh process
----------------------------
Just in time, measured on the 2-core machine (CPU seconds, so a busy machine changes them
little; wall time was 1.4-1.6 x these under a load of 3-4), for ``import numba``, the kernel
modules and the first call of the engine on a tiny grid with every kernel in the cache:

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

In all, median of 5 fresh processes: 0.72 s of CPU (0.68-0.90), 1.20 s before the BLAS
probe was skipped. The floor is numba itself (its import, its tables, and defining
dispatchers: about 0.65 s of CPU before any of our machine code runs).

Ahead of time (2026-12-03, numba 0.68.1): the same tiny first call in a fresh process takes
0.09-0.11 s of CPU (median 0.10 s of 5; the just-in-time form 0.92-1.01 s, median 0.97 s,
in the same minutes under a load of 8-10). Loading the extension module itself takes
~1 ms; most of the rest is the engine module's own imports (affine, concurrent.futures),
which a command needs anyway. numba is not imported. ``numba.pycc`` is deprecated but
still shipped; it could compile the kernels once no kernel used ``prange`` (they are serial
and ``nogil`` now; the threads are ours, :mod:`coverage.radio.threads`). Checked before
adopting it:

* build: gcc and setuptools' distutils are all it needs (both in the environment); 13-48 s
  of wall time (11-22 s of CPU), a 0.77 MB module;
* results: bit-identical to the just-in-time kernels for the N44W072 site at 10 km/90 m,
  10 km/30 m and 30 km/30 m, on 1 and 2 threads (loss, RSRP, and the written COG values,
  PNG and KML), and on synthetic rugged and smooth terrain, omni and sectors
  (tests/test_aot.py). Both are compiled by numba from the same source without fast-math;
  ``pycc`` compiles for the generic CPU, which changes no result (no FMA contraction
  without fast-math);
* the GIL: ``pycc``'s wrappers keep it by default; the build sets numba's ``release_gil``
  flag (as ``nogil=True`` does), and a thread calling the 10 km sweep then stalls the main
  thread by at most ~15 ms (a GIL-holding build: 0.90 s of a 1.07 s call);
* speed: the same per cell as the just-in-time code (30 km: 3.1-3.3 s vs 3.0-3.1 s of CPU
  on one thread, under load).

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
