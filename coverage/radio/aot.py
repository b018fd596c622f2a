"""Build the ahead-of-time kernels: ``python -m coverage.radio.aot [--force]``.

``make`` runs this after installing the environment. It compiles the kernels of
:data:`coverage.radio.jit.EXPORTS` with numba's ``pycc`` into the extension module
``coverage/radio/_kernels_aot`` (beside the sources; about 20 s of CPU), with the SHA-256 of
the kernel sources compiled in, so that a module built from other sources is never used
(:mod:`coverage.radio.jit`). It does nothing when the module is already up to date.

Two things differ from ``pycc``'s defaults, both to match the just-in-time dispatchers:
the exported functions release the GIL (numba's ``release_gil`` flag, which ``nogil=True``
sets for a dispatcher; ``pycc`` offers no option for it), so the thread pools run them side
by side; and the code is compiled for the generic CPU of the platform (``pycc``'s default),
so the module also runs on another machine of the same architecture.

When the module cannot be built (no C compiler, a read-only package folder, numba without
``pycc``), this prints why and exits 0: the kernels then run just in time, as before, with
the same results.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from coverage.radio import jit

HERE = Path(__file__).resolve().parent


def target_path() -> Path:
    """Where the extension module goes (its platform's file name suffix)."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return HERE / (jit.AOT_MODULE.rsplit(".", 1)[1] + suffix)


def up_to_date() -> bool:
    """Whether the built module exists and matches the current kernel sources."""
    return target_path().is_file() and jit.aot_module() is not None


def build(out_dir: Path) -> Path:
    """Compile the exported kernels into ``out_dir``; returns the module's path.

    Raises
    ------
    Exception
        Whatever numba or the C compiler raise (the caller reports it).
    """
    import numba.pycc.compiler as pycc_compiler
    from numba.core.compiler import Flags
    from numba.pycc import CC

    class _NoGilFlags(Flags):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            setattr(self, "release_gil", True)  # noqa: B010 - numba's flags are descriptors

    setattr(pycc_compiler, "Flags", _NoGilFlags)  # noqa: B010 - pycc has no option for it

    kernels = {}
    for qualname in jit.EXPORTS:
        module, func = qualname.rsplit(".", 1)
        kernels[qualname] = getattr(importlib.import_module(module), func)
    jit.compile_all()  # kernels calling kernels must see numba's dispatchers
    name = jit.AOT_MODULE.rsplit(".", 1)[1]
    cc = CC(name)
    cc.output_dir = str(out_dir)
    cc.verbose = False
    for qualname, (ret, args) in jit.EXPORTS.items():
        cc.export(jit.export_name(qualname), f"{ret}({', '.join(args)})")(
            kernels[qualname].py_func)
    number = jit.digest_number(jit.source_digest())
    scope: dict[str, Any] = {}
    exec(f"def fingerprint():\n    return {number}\n", scope)  # a constant, compiled in
    cc.export("fingerprint", "i8()")(scope["fingerprint"])
    cc.compile()
    return out_dir / target_path().name


def main(argv: list[str] | None = None) -> int:
    """Build the module unless it is up to date; never fails the caller (exit 0)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    target = target_path()
    if not args.force and up_to_date():
        print(f"ahead-of-time kernels up to date: {target.name}")
        return 0
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(dir=HERE, prefix=".aot-") as tmp:
            built = build(Path(tmp))
            built.replace(target)
    except Exception as exc:
        print(f"ahead-of-time kernels not built ({type(exc).__name__}: {exc}); the kernels "
              "will be compiled just in time by numba instead", file=sys.stderr)
        return 0
    print(f"ahead-of-time kernels built in {time.perf_counter() - t0:.0f} s: {target.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
