"""The compiled kernels' two forms: ahead-of-time (an extension module) and just-in-time (numba).

The kernel modules (:mod:`~coverage.radio.diffraction`, :mod:`~coverage.radio.engine`,
:mod:`~coverage.radio.window`, :mod:`~coverage.radio.codec_kernels`,
:mod:`~coverage.radio.fold_kernels`) decorate their kernels
with :func:`njit` from here instead of numba's. That decorator imports nothing: it wraps the
function in a :class:`Kernel`, and a kernel is compiled only when it is first called, so
importing the engine costs no numba.

A call of a kernel goes to

1. the **ahead-of-time** form, when the extension module ``coverage.radio._kernels_aot``
   exists (``make`` builds it with :mod:`coverage.radio.aot`), was built from the kernel
   sources as they are now (their SHA-256 is compiled into it), the kernel is one of
   :data:`EXPORTS` and the arguments have exactly the exported types. This is the one-site
   job's path: the extension loads in milliseconds and needs no numba at run time;
2. otherwise the **just-in-time** form: on the first such call numba is imported and every
   kernel becomes a numba dispatcher (``njit`` with the options given here, so its on-disk
   cache is the same as before; :mod:`coverage.radio.jitcache`); the names in the modules
   of :mod:`coverage.radio` are rebound to the dispatchers, so that compiled code calling
   a kernel sees numba's object. Other argument types (the county's float32 windows,
   profile kernels called from Python) always take this path.

Both forms are compiled by numba from the same source, with the same options (no fast-math,
so no reassociation or fused multiply-add), and give bit-identical results (a test compares
them on the engine's outputs). The exported functions release the GIL as the ``nogil=True``
dispatchers do, so the thread pools over rays and rows run them side by side.

Setting ``COVERAGE_KERNELS=jit`` in the environment turns the ahead-of-time form off.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ENV = "COVERAGE_KERNELS"
"""Environment variable: ``jit`` turns the ahead-of-time kernels off."""

AOT_MODULE = "coverage.radio._kernels_aot"
"""Import name of the ahead-of-time extension module."""

SOURCES: tuple[str, ...] = ("diffraction.py", "engine.py", "window.py", "codec_kernels.py",
                            "fold_kernels.py", "jit.py")
"""Files (in this folder) whose SHA-256 the extension module carries: editing one makes
the built module stale, and the kernels fall back to numba until ``make`` rebuilds it."""

EXPORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "coverage.radio.engine._bilinear": ("f8", ("f4[:,::1]", "f8", "f8")),
    "coverage.radio.engine._perimeter": ("UniTuple(f8[::1], 2)", ("i8",)),
    "coverage.radio.engine._assign_owners_rows": ("void", (
        "i8", "i8", "f8", "f8", "i8", "f8[::1]", "f8[::1]", "i8[::1]", "i8", "i8",
        "f8[:,::1]", "i4[:,::1]", "i4[:,::1]")),
    "coverage.radio.engine._owned_slots_rows": ("void", (
        "i4[:,::1]", "i4[:,::1]", "b1[:,::1]", "i8[::1]", "i8", "i8", "i4[::1]")),
    "coverage.radio.engine._window_slots_rows": ("i8", (
        "f4[:,::1]", "i8", "i8", "i8", "i8", "f8", "f8", "f8", "f8", "f8", "i8", "f8[::1]",
        "f8[::1]", "i8[::1]", "i8[::1]", "i8", "i8", "i8", "i4[::1]", "i8[::1]")),
    "coverage.radio.engine._owners_at_cells": ("void", (
        "f8", "f8", "i8", "f8[::1]", "f8[::1]", "i8[::1]", "i8[::1]", "i8[::1]", "i4[::1]",
        "i4[::1]")),
    "coverage.radio.engine._sweep_rays": ("void", (
        "f4[:,::1]", "f8", "f8", "i8", "f8[::1]", "f8[::1]", "i8[::1]", "i4[::1]", "f8", "f8",
        "f8", "f8", "f8[::1]", "i8", "f8", "i8", "i8", "f4[:,::1]")),
    "coverage.radio.window._rsrp_rows": ("void", (
        "f8[:,::1]", "f8[:,::1]", "f8[::1]", "f8[::1]", "f8", "f8", "f8", "f8", "f8",
        "f8[::1]", "f8", "f8", "f8", "f8", "f8", "f8", "f4[:,::1]", "i8", "i8", "i8", "i8",
        "i8", "f4[:,::1]", "i1[:,::1]")),
    "coverage.radio.codec_kernels.encode_f8": ("void", (
        "f4[:,::1]", "f8", "i8", "u1[:,:,::1]", "f8[:,::1]")),
    "coverage.radio.codec_kernels.encode_f4": ("void", (
        "f4[:,::1]", "f8", "i8", "u1[:,:,::1]", "f4[:,::1]")),
    "coverage.radio.codec_kernels.decode_f8": ("void", ("u1[:,:,::1]", "f8", "f8[:,::1]")),
    "coverage.radio.codec_kernels.decode_f4": ("void", ("u1[:,:,::1]", "f8", "f4[:,::1]")),
    "coverage.radio.codec_kernels.rsrp_planes": ("void", ("u4[:,::1]", "u1[:,:,::1]")),
    "coverage.radio.codec_kernels.rsrp_from_planes": ("void", (
        "u1[:,:,::1]", "u1[:,:,::1]", "u4[:,::1]")),
    "coverage.radio.codec_kernels.index_planes": ("void", ("i4[:,::1]", "u1[:,:,::1]")),
    "coverage.radio.codec_kernels.index_from_planes": ("void", ("u1[:,:,::1]", "i4[:,::1]")),
    "coverage.radio.fold_kernels.merge_best": ("void", (
        "f4[:,::1]", "i4[:,::1]", "f4[:,::1]", "i4[:,::1]", "f4[:,::1]", "i4[:,::1]")),
}
"""Kernels compiled ahead of time: ``module.name`` to (return type, argument types), in
numba's signature notation. Arrays are C-contiguous (``[:,::1]``)."""

_DTYPES = {"f4": np.float32, "f8": np.float64, "i1": np.int8, "i4": np.int32,
           "i8": np.int64, "b1": np.bool_, "u1": np.uint8, "u4": np.uint32}


def export_name(qualname: str) -> str:
    """Name of a kernel in the extension module (``engine__sweep_rays``)."""
    module, name = qualname.rsplit(".", 1)
    return f"{module.rsplit('.', 1)[1]}_{name}"


def source_digest() -> str:
    """SHA-256 (hex) of the kernel sources (:data:`SOURCES`) and the export table."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in SOURCES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    return h.hexdigest()


def digest_number(digest: str) -> int:
    """The first 60 bits of a digest, as the extension module returns it."""
    return int(digest[:15], 16)


def _matcher(types: tuple[str, ...]) -> Callable[[tuple[Any, ...]], bool]:
    """A test that a call's arguments have exactly ``types`` (so both forms see the same)."""
    checks: list[Callable[[Any], bool]] = []
    for t in types:
        if "[" in t:
            dtype = np.dtype(_DTYPES[t[:2]])
            ndim = t.count(",") + 1

            def array(a: Any, dtype: np.dtype[Any] = dtype, ndim: int = ndim) -> bool:
                return (type(a) is np.ndarray and a.dtype == dtype and a.ndim == ndim
                        and a.flags.c_contiguous and a.flags.writeable)
            checks.append(array)
        elif t == "f8":
            checks.append(lambda a: type(a) is float or type(a) is np.float64)
        else:  # "i8"
            checks.append(lambda a: type(a) is int or type(a) is np.int64)

    def match(args: tuple[Any, ...]) -> bool:
        return len(args) == len(checks) and all(ok(a) for ok, a in zip(checks, args,
                                                                       strict=True))
    return match


_lock = threading.RLock()
_kernels: list[Kernel] = []
_aot: ModuleType | bool | None = False  # False: not looked for yet


def aot_module() -> ModuleType | None:
    """The ahead-of-time extension module, or None (not built, stale, or turned off)."""
    global _aot
    if _aot is False:
        with _lock:
            if _aot is False:
                _aot = _load_aot()
    return _aot if isinstance(_aot, ModuleType) else None


def _load_aot() -> ModuleType | None:
    if os.environ.get(ENV, "").strip().lower() == "jit":
        return None
    try:
        mod = importlib.import_module(AOT_MODULE)
    except ImportError:
        return None
    try:
        fresh = int(mod.fingerprint()) == digest_number(source_digest())
    except (AttributeError, OSError, ValueError):
        fresh = False
    return mod if fresh else None


def compile_all() -> None:
    """Make every kernel not yet compiled a numba dispatcher, and rebind the names of the
    :mod:`coverage.radio` modules to the dispatchers.

    A kernel gets its dispatcher only after every name is rebound, so a thread that finds
    a dispatcher never compiles code that would still see a :class:`Kernel`. Kernels of a
    module imported later are compiled by the next call.
    """
    with _lock:
        pending = [k for k in _kernels if k.dispatcher is None]
        if not pending:
            return
        import numba

        made = {id(k): numba.njit(**k.options)(k.py_func) for k in pending}
        for modname, module in list(sys.modules.items()):
            if not modname.startswith("coverage.radio.") or module is None:
                continue
            for name, value in list(vars(module).items()):
                if isinstance(value, Kernel) and id(value) in made:
                    setattr(module, name, made[id(value)])
        for k in pending:
            k.dispatcher = made[id(k)]


class Kernel:
    """A kernel not compiled yet: calls go to the ahead-of-time or the numba form.

    Attributes
    ----------
    py_func : callable
        The Python function.
    options : dict
        numba's ``njit`` options.
    dispatcher : numba dispatcher or None
        The just-in-time form, once made.
    """

    def __init__(self, func: Callable[..., Any], options: dict[str, Any]) -> None:
        self.py_func = func
        self.options = options
        self.dispatcher: Any = None
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__module__ = func.__module__
        self.__doc__ = func.__doc__
        qualname = f"{func.__module__}.{func.__name__}"
        spec = EXPORTS.get(qualname)
        self._export = export_name(qualname) if spec is not None else None
        self._match = _matcher(spec[1]) if spec is not None else None
        self._aot_func: Any = False  # False: not looked up yet

    def _aot(self) -> Any:
        if self._aot_func is False:
            mod = aot_module() if self._export is not None else None
            self._aot_func = (getattr(mod, self._export, None)
                              if mod is not None and self._export is not None else None)
        return self._aot_func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._match is not None and not kwargs and self._match(args):
            func = self._aot()
            if func is not None:
                return func(*args)
        if self.dispatcher is None:
            compile_all()
        return self.dispatcher(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<kernel {self.__module__}.{self.__qualname__}>"


def njit(func: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Declare a kernel (numba's ``njit`` options); used as ``@njit`` or ``@njit(...)``."""
    def wrap(f: Callable[..., Any]) -> Kernel:
        k = Kernel(f, options)
        _kernels.append(k)
        return k
    return wrap(func) if func is not None else wrap
