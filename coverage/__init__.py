"""coverage-planner: rural mobile-coverage gaps, site planning and acceptance readiness.

The import name is ``coverage`` (distribution ``coverage-planner``).

Notes
-----
numba's ``numba.misc.coverage_support`` imports ``coverage`` to hook the coverage.py tool
and then touches ``coverage.types``. Our package has the same import name. Importing numba
eagerly here (hiding this package meanwhile) cost every command about a second, even
``--help``; instead a finder on ``sys.meta_path`` waits for that one module and runs it with
this package hidden from ``sys.modules``, whoever imports numba and whenever. numba then
sees "coverage.py not installed", which is true (it must never be installed in this
project's environment). numba itself is imported only by the modules that compile kernels.
"""

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

_NUMBA_PROBE = "numba.misc.coverage_support"


class _HidingLoader(importlib.abc.Loader):
    """Run another loader with this package hidden (``import coverage`` -> ImportError)."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self._real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        ours = sys.modules.get(__name__)
        sys.modules[__name__] = None  # type: ignore[assignment]  # import coverage -> ImportError
        try:
            self._real.exec_module(module)
        finally:
            if ours is None:
                sys.modules.pop(__name__, None)
            else:
                sys.modules[__name__] = ours


class _NumbaProbeFinder(importlib.abc.MetaPathFinder):
    """Finds numba's coverage.py probe and wraps its loader in :class:`_HidingLoader`."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _NUMBA_PROBE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _HidingLoader(spec.loader)
        return spec


if not any(isinstance(f, _NumbaProbeFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _NumbaProbeFinder())

try:
    __version__ = version("coverage-planner")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
