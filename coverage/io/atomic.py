"""Atomic file output: write to a temporary file beside the target, then rename.

A reader never sees a half-written output, and a failed run leaves no partial file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it onto ``target``.

    Parameters
    ----------
    target : str or Path
        Final path. Its folder is created when missing.
    suffix : str, optional
        Suffix of the temporary file (default: the target's), so that drivers that
        choose a format from the extension still work.

    Yields
    ------
    Path
        Where to write. It does not exist yet.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=suffix or target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal"),
                         Path(str(tmp) + "-shm"), Path(str(tmp) + ".aux.xml")):
            if leftover.exists():
                leftover.unlink()


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``target`` atomically (``\\n`` line ends)."""
    write_bytes_atomic(target, text.encode("utf-8"))
