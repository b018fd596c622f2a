"""A content-addressed on-disk cache of numpy arrays (one ``.npz`` file per entry).

An entry is named by its key (a SHA-256 hex digest the caller derives from everything the
cached result depends on). Each file also stores its key and a SHA-256 checksum of its
arrays, and is written atomically; on reading, a file that cannot be parsed, lacks the
checksum, fails it, or holds another key is reported (``"corrupt"`` or ``"stale"``) and
never used, so the caller recomputes and overwrites it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from coverage.io.atomic import atomic_path

_KEY = "__cache_key__"
_SUM = "__cache_checksum__"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

Status = Literal["hit", "missing", "corrupt", "stale"]


@dataclass(frozen=True)
class CacheLookup:
    """Result of :func:`read_entry`.

    Attributes
    ----------
    status : {"hit", "missing", "corrupt", "stale"}
        ``hit``: ``arrays`` is valid; otherwise ``arrays`` is None.
    arrays : dict of str to ndarray or None
        The stored arrays (without the bookkeeping entries).
    """

    status: Status
    arrays: dict[str, np.ndarray] | None = None


def make_key(parts: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of the canonical JSON of ``parts`` (sorted keys, no whitespace)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      default=str)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def array_digest(array: np.ndarray) -> str:
    """SHA-256 hex digest of an array's dtype, shape and bytes (C order)."""
    arr = np.ascontiguousarray(array)
    h = hashlib.sha256()
    h.update(f"{arr.dtype.str}{arr.shape}".encode("ascii"))
    if arr.size:  # memoryview.cast fails on an empty array; it has no bytes to hash anyway
        h.update(arr.data.cast("B"))
    return h.hexdigest()


def checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the sorted names, dtypes, shapes and bytes of ``arrays``."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode("utf-8"))
        h.update(array_digest(np.asarray(arrays[name])).encode("ascii"))
    return h.hexdigest()


def entry_path(cache_dir: str | Path, key: str) -> Path:
    """File of the entry ``key`` in ``cache_dir``."""
    if not _HEX64.match(key):
        raise ValueError(f"cache key must be a 64-digit lower-case hex SHA-256, got {key!r}")
    return Path(cache_dir) / f"{key}.npz"


def write_entry(cache_dir: str | Path, key: str,
                arrays: Mapping[str, np.ndarray | np.generic], *,
                compress: bool = False) -> Path:
    """Store ``arrays`` under ``key`` atomically (replacing any previous file).

    Parameters
    ----------
    cache_dir : str or Path
        Cache folder (created when missing).
    key : str
        SHA-256 hex digest naming the entry, see :func:`make_key`.
    arrays : mapping of str to ndarray
        Numeric arrays to store (no object arrays).
    compress : bool
        Deflate the arrays in the file (``numpy.savez_compressed``); reading needs no flag.
        A caller that compresses its own arrays (with a method that suits them) leaves it
        off: the arrays are then stored as they are.

    Returns
    -------
    Path
        The entry's file.
    """
    path = entry_path(cache_dir, key)
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    if _KEY in payload or _SUM in payload:
        raise ValueError(f"array names {_KEY!r} and {_SUM!r} are reserved")
    total = checksum(payload)
    entries: dict[str, Any] = {**payload, _KEY: np.array(key), _SUM: np.array(total)}
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        save = np.savez_compressed if compress else np.savez
        save(fh, **entries)
    return path


def read_entry(cache_dir: str | Path, key: str) -> CacheLookup:
    """Load the entry ``key``, verified.

    Returns
    -------
    CacheLookup
        ``hit`` with the arrays; ``missing`` (no file); ``corrupt`` (unreadable, truncated,
        missing bookkeeping or checksum mismatch); ``stale`` (the file holds another key).
    """
    path = entry_path(cache_dir, key)
    if not path.is_file():
        return CacheLookup("missing")
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {name: npz[name] for name in npz.files}
    except Exception:  # any unreadable file is a cache miss, never an error
        return CacheLookup("corrupt")
    stored_key = data.pop(_KEY, None)
    stored_sum = data.pop(_SUM, None)
    if stored_key is None or stored_sum is None:
        return CacheLookup("corrupt")
    if str(stored_key) != key:
        return CacheLookup("stale")
    if str(stored_sum) != checksum(data):
        return CacheLookup("corrupt")
    return CacheLookup("hit", data)


def keep_newest(cache_dir: str | Path, keep: int, *,
                used: str | Iterable[str] | None = None) -> list[Path]:
    """Bound a cache folder to its ``keep`` most recently used entries.

    Parameters
    ----------
    cache_dir : str or Path
        Cache folder (nothing happens when it does not exist).
    keep : int
        Entries to keep (at least 1).
    used : str or iterable of str, optional
        Key(s) of entries just read or written: they are marked as the most recently used
        (their modification time set to now) before the oldest entries are removed.

    Returns
    -------
    list of Path
        The entries removed.
    """
    folder = Path(cache_dir)
    if not folder.is_dir():
        return []
    for key in ([used] if isinstance(used, str) else used or ()):
        if entry_path(folder, key).is_file():
            os.utime(entry_path(folder, key))
    entries = [p for p in folder.glob("*.npz") if _HEX64.match(p.stem)]
    entries.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    removed = []
    for path in entries[max(1, keep):]:
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
