"""A computed result kept as one checked cache entry, and read back while its key holds.

:func:`memoised_result` stores what ``make()`` returns as a pickle inside one entry of the
cache of :mod:`coverage.io.cache` (the entry's key and a SHA-256 checksum of its bytes are
verified on reading; an entry failing either is never used) and returns the stored result
while the caller's key is the same. The key is the caller's and must cover everything the
result is computed from (see :mod:`coverage.plan.memo` and the readiness step of
:mod:`coverage.pipeline`). Results are pickled because they hold tables, geometries and
records that have no array form; the cache lives in the run's own output folder, which only
the user writes, and an entry is unpickled only after its key and checksum are verified.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from coverage.io.cache import keep_newest, read_entry, write_entry

__all__ = ["memoised_result"]

T = TypeVar("T")


def memoised_result(cache_dir: Path | None, key: Callable[[], str], make: Callable[[], T], *,
                    keep: int = 2, store: Callable[[T], bool] | None = None) -> T:
    """The result stored under ``key()`` in ``cache_dir``, or ``make()``'s, stored there.

    Parameters
    ----------
    cache_dir : Path or None
        Folder of the entries; None computes without a memo.
    key : callable
        Returns the entry's key (a SHA-256 hex digest of everything the result depends
        on); a ``TypeError`` from it (content that cannot be digested) computes without a
        memo.
    make : callable
        Computes the result; its errors propagate and nothing is stored.
    keep : int
        Entries kept in ``cache_dir`` (the most recently used).
    store : callable, optional
        Whether a computed result is stored (default: always); one it declines, or one
        that cannot be pickled, is returned as computed.

    Returns
    -------
    object
        ``make()``'s result, or the equal one stored by an earlier run.
    """
    if cache_dir is None:
        return make()
    try:
        name = key()
    except TypeError:
        return make()
    found = read_entry(cache_dir, name)
    if found.status == "hit" and found.arrays is not None:
        result: T = pickle.loads(found.arrays["result"].tobytes())
        keep_newest(cache_dir, keep, used=name)
        return result
    result = make()
    if store is not None and not store(result):
        return result
    try:
        pickled = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return result   # a result that does not pickle is used as computed, not stored
    blob = np.frombuffer(pickled, dtype=np.uint8)
    write_entry(cache_dir, name, {"result": blob}, compress=True)
    keep_newest(cache_dir, keep, used=name)
    return result
