"""Import one module of a dependency with another module hidden from it.

Two dependencies' import-time probes cost this project dearly, and both are fixed the same
way: while the probing module runs, the module it probes is set to ``None`` in
``sys.modules`` so that importing it raises ImportError, and it is put back afterwards.

- numba's ``numba.misc.coverage_support`` imports ``coverage`` looking for coverage.py and
  finds this package instead (same import name): it must see "not installed"
  (:mod:`coverage`).
- numba's ``numba.np.arraymath`` imports ``scipy.linalg`` (0.3 s) only to learn whether
  np.correlate/np.convolve may call BLAS (:mod:`coverage.radio.jitcache`).

Standard library only: :mod:`coverage` installs its hook before anything else is imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _HidingLoader(importlib.abc.Loader):
    """Run another loader with ``hidden`` unimportable meanwhile."""

    def __init__(self, real: importlib.abc.Loader, hidden: str, unless_loaded: bool) -> None:
        self._real = real
        self._hidden = hidden
        self._unless_loaded = unless_loaded

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        present = self._hidden in sys.modules
        if present and self._unless_loaded:  # already paid for: nothing to hide
            self._real.exec_module(module)
            return
        previous = sys.modules.get(self._hidden)
        sys.modules[self._hidden] = None  # type: ignore[assignment]  # import -> ImportError
        try:
            self._real.exec_module(module)
        finally:
            if present:
                sys.modules[self._hidden] = previous  # type: ignore[assignment]
            elif sys.modules.get(self._hidden, 0) is None:
                del sys.modules[self._hidden]


class _HidingFinder(importlib.abc.MetaPathFinder):
    """Finds ``probe`` and wraps its loader in :class:`_HidingLoader`."""

    def __init__(self, probe: str, hidden: str, unless_loaded: bool) -> None:
        self.probe = probe
        self.hidden = hidden
        self.unless_loaded = unless_loaded

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.probe:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _HidingLoader(spec.loader, self.hidden, self.unless_loaded)
        return spec


def hide_while_importing(probe: str, hidden: str, *, unless_loaded: bool = False) -> None:
    """Whenever ``probe`` is imported, make ``hidden`` unimportable while it runs.

    Parameters
    ----------
    probe : str
        Full name of the module whose import is wrapped.
    hidden : str
        Full name of the module it must not import.
    unless_loaded : bool
        Leave ``hidden`` visible when it is imported already (the hiding only saves its
        import time); otherwise it is hidden even then and restored afterwards.

    Installing the same hook twice does nothing.
    """
    for finder in sys.meta_path:
        if isinstance(finder, _HidingFinder) and (finder.probe, finder.hidden) == (probe, hidden):
            return
    sys.meta_path.insert(0, _HidingFinder(probe, hidden, unless_loaded))
