"""Output writers memoised: the same inputs give the same bytes, so they are not made again.

Writing a run's outputs (the map pages, workbooks, pictures, rasters, vector files) costs
seconds of pure serialisation, and a writer's bytes depend only on what it renders (the
outputs are deterministic: a cold and a warm run agree to the byte). :func:`memoised_writer`
wraps a writer and records, under the writer's key, the relative paths and SHA-256 digests of
the files it staged (one small entry of :mod:`coverage.io.cache`, whose key and checksum are
verified on reading). A later run with the same key reuses the files the last run published
in the output folder, each only when its bytes still have the recorded digest (a file edited,
replaced or removed since is made again: the writer runs); nothing else is stored, so the
memo adds a few kilobytes to the cache.

The key is the caller's, and must cover *everything* the writer renders: the caller (the
pipeline) derives it from the content of the results the writer is given
(:func:`coverage.io.digest.content_digest`), the provenance and map options, and what the
writer reads besides them (:func:`coverage.io.digest.environment_digest`: the package's
files, installed library versions, environment, fonts; and the offline map assets).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from coverage.io.cache import keep_newest, read_entry, write_entry
from coverage.io.outputs import OutputFolder

__all__ = ["KEEP_ENTRIES", "memoised_writer"]

KEEP_ENTRIES = 2
"""Entries kept per writer (the most recently used)."""

_FILES = "files"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _reuse(staged: OutputFolder, published: Path, files: list[list[str]]) -> bool:
    """Stage the published files of ``files`` ([relative path, digest]) when every one
    still has its digest; False (nothing staged) otherwise."""
    sources = [published / relative for relative, _ in files]
    if not all(p.is_file() and _sha256(p) == digest
               for p, (_, digest) in zip(sources, files, strict=True)):
        return False
    for source, (relative, _) in zip(sources, files, strict=True):
        shutil.copyfile(source, staged.path(relative))
    return True


def memoised_writer(cache_dir: Path, published: Path, key: str | Callable[[], str],
                    writer: Callable[[OutputFolder], object]) -> Callable[[OutputFolder], None]:
    """``writer``, reusing the files it published last time with the same ``key``.

    Parameters
    ----------
    cache_dir : Path
        The writer's own cache folder (e.g. ``<out>/.cache/outputs/<writer>``).
    published : Path
        The output folder the staged files are published into.
    key : str or callable
        SHA-256 hex digest of everything the writer renders (see the module docstring), or
        a function returning it, called when the writer runs (in the process that runs
        it); a ``TypeError`` from it (content that cannot be digested) runs the writer
        without a memo.
    writer : callable
        Stages files into the :class:`OutputFolder` it is given.

    Returns
    -------
    callable
        A writer staging the same files with the same bytes.
    """
    def write(staged: OutputFolder) -> None:
        try:
            name = key if isinstance(key, str) else key()
        except TypeError:
            writer(staged)
            return
        found = read_entry(cache_dir, name)
        if found.status == "hit" and found.arrays is not None:
            files = json.loads(found.arrays[_FILES].tobytes().decode("utf-8"))
            if _reuse(staged, published, files):
                keep_newest(cache_dir, KEEP_ENTRIES, used=name)
                return
        before = len(staged.written)
        writer(staged)
        names = staged.written[before:]
        paths = [staged.path(relative) for relative in names]
        if not all(p.is_file() for p in paths):   # a registered file not written: no memo
            return
        record = [[relative, _sha256(p)] for relative, p in zip(names, paths, strict=True)]
        write_entry(cache_dir, name, {_FILES: np.frombuffer(
            json.dumps(record).encode("utf-8"), dtype=np.uint8)})
        keep_newest(cache_dir, KEEP_ENTRIES, used=name)

    return write
