"""coverage-planner: rural mobile-coverage gaps, site planning and acceptance readiness.

The import name is ``coverage`` (distribution ``coverage-planner``).

Notes
-----
numba's ``numba.misc.coverage_support`` imports ``coverage`` to hook the coverage.py tool
and then touches ``coverage.types``. Our package has the same import name. Importing numba
eagerly here (hiding this package meanwhile) cost every command about a second, even
``--help``; instead a hook (:mod:`coverage.importhide`) waits for that one module and runs it with
this package hidden from ``sys.modules``, whoever imports numba and whenever. numba then
sees "coverage.py not installed", which is true (it must never be installed in this
project's environment). numba itself is imported only by the modules that compile kernels.
"""

from importlib.metadata import PackageNotFoundError, version

from coverage.importhide import hide_while_importing

hide_while_importing("numba.misc.coverage_support", __name__)

try:
    __version__ = version("coverage-planner")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
