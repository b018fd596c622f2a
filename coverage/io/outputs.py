"""A run's output folder: everything is staged first and published only when the run succeeds.

A failed run (bad input, an internal error, Ctrl-C) leaves the output folder as it was:
no half-written file and no mix of old and new outputs from a partial run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from coverage.io.atomic import write_text_atomic


class OutputFolder:
    """Context manager staging a run's outputs in a hidden folder inside ``out``.

    Parameters
    ----------
    out : Path
        The output folder (created on success if missing).

    Examples
    --------
    >>> with OutputFolder(Path("maps")) as staged:          # doctest: +SKIP
    ...     staged.write_text("index.html", "<html>…</html>")
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        self.staging: Path | None = None
        self.written: list[str] = []

    def __enter__(self) -> OutputFolder:
        self.out.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out))
        return self

    def path(self, relative: str) -> Path:
        """Where to write ``relative`` inside the staging folder (parents created)."""
        assert self.staging is not None, "use OutputFolder as a context manager"
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative not in self.written:
            self.written.append(relative)
        return target

    def write_text(self, relative: str, text: str) -> Path:
        """Stage a UTF-8 text file."""
        target = self.path(relative)
        write_text_atomic(target, text)
        return target

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self.staging is not None
        try:
            if exc_type is None:
                for relative in self.written:
                    source = self.staging / relative
                    if source.exists():
                        final = self.out / relative
                        final.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(source, final)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
