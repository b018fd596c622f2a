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

from coverage.importhide import hide_while_importing

hide_while_importing("numba.misc.coverage_support", __name__)

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata when first asked for (importing
    ``importlib.metadata`` costs a one-site job ~0.05 s otherwise)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("coverage-planner")
    except PackageNotFoundError:  # running from a source tree without installation
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
