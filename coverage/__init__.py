"""coverage-planner: rural mobile-coverage gaps, site planning and acceptance readiness.

The import name is ``coverage`` (distribution ``coverage-planner``).

Notes
-----
numba imports ``coverage`` at start-up to hook the coverage.py tool and then touches
``coverage.types``. Our package has the same import name, so numba is imported here
first, with this package hidden from ``sys.modules``: numba then sees "coverage.py not
installed", which is true (it must never be installed in this project's environment).
"""

import sys
from importlib.metadata import PackageNotFoundError, version


def _import_numba_without_us() -> None:
    """Let numba finish its coverage.py probe while our package is hidden from it."""
    if "numba.misc.coverage_support" in sys.modules:
        return
    ours = sys.modules.get(__name__)
    sys.modules[__name__] = None  # type: ignore[assignment]  # import coverage -> ImportError
    try:
        import numba.misc.coverage_support  # noqa: F401
    except ImportError:  # numba absent: nothing to protect
        pass
    finally:
        sys.modules[__name__] = ours  # type: ignore[assignment]


_import_numba_without_us()

try:
    __version__ = version("coverage-planner")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
