"""How many threads the compiled kernels use, and the pools that run them.

The kernels are compiled with ``nogil=True`` and without numba's ``parallel=True``: every
kernel call is serial and releases the GIL, and the parallelism is chosen in Python, where
it is known which level should use the cores. A one-site job splits its sweep into ranges
of rays (:func:`run_ranges`); a county runs whole sites side by side (:func:`map_ordered`),
each site's kernels then serial. A thread that is already one of these workers always runs
its kernels serially, so the cores are never oversubscribed (threads inside threads), and
numba's threading layer (OpenMP or TBB) is never loaded.

The number of threads is, in order: the argument of a call; the process default set by
:func:`set_default_threads` (the ``--threads`` option and ``[compute] threads`` of the
configuration); the ``COVERAGE_THREADS`` environment variable; the CPUs this process may
run on (``os.sched_getaffinity``, so a ``taskset`` or a container's CPU set is honoured).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from coverage.cpus import available_cpus

ENV = "COVERAGE_THREADS"
"""Environment variable giving the default number of threads (a positive integer)."""

T = TypeVar("T")
R = TypeVar("R")

_default: int | None = None
_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def set_default_threads(threads: int | None) -> None:
    """Set the process default number of threads (None or 0: back to automatic)."""
    global _default
    if threads is not None and threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    _default = threads or None


def default_threads() -> int:
    """The number of threads a kernel call uses when it is given none (see module notes)."""
    if _default is not None:
        return _default
    text = os.environ.get(ENV, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return available_cpus()


def in_worker() -> bool:
    """True in a worker thread of :func:`run_ranges` or :func:`map_ordered`."""
    return bool(getattr(_local, "worker", False))


def resolve(threads: int | None) -> int:
    """Threads a call may use: 1 inside a worker, else ``threads`` or the default (>= 1)."""
    if in_worker():
        return 1
    return max(1, threads if threads else default_threads())


def _as_worker(fn: Callable[..., R]) -> Callable[..., R]:
    def run(*args: object) -> R:
        _local.worker = True
        try:
            return fn(*args)
        finally:
            _local.worker = False
    return run


def _shared_pool(size: int) -> ThreadPoolExecutor:
    """The process's pool for :func:`run_ranges` (grown when more threads are asked for)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < size:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="coverage-kernel")
            _pool_size = size
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def run_ranges(fn: Callable[[int, int], None], n: int, threads: int | None = None, *,
               chunks_per_thread: int = 4) -> None:
    """Call ``fn(start, stop)`` over consecutive ranges covering ``0..n``, on threads.

    ``fn`` must write disjoint results for disjoint ranges (a kernel that releases the GIL).
    With one thread (or inside a worker) it is called once, ``fn(0, n)``, in this thread.
    Otherwise ``0..n`` is cut into about ``chunks_per_thread`` ranges per thread, taken in
    turn by the threads (uneven ranges then even out); the first exception is raised.

    Parameters
    ----------
    fn : callable
        ``fn(start, stop)``.
    n : int
        Number of items.
    threads : int, optional
        Threads to use (see :func:`resolve`).
    chunks_per_thread : int
        Ranges per thread.
    """
    count = min(resolve(threads), n)
    if count <= 1:
        if n > 0:
            fn(0, n)
        return
    pieces = min(n, count * chunks_per_thread)
    bounds = [n * i // pieces for i in range(pieces + 1)]
    pool = _shared_pool(count)
    work = _as_worker(fn)
    futures = [pool.submit(work, bounds[i], bounds[i + 1]) for i in range(pieces)]
    for future in futures:
        future.result()


def map_ordered(fn: Callable[[T], R], items: Iterable[T], threads: int | None = None, *,
                ahead: int = 2) -> Generator[R, None, None]:
    """``fn(item)`` for each item on threads, yielded in the order of ``items``.

    At most ``ahead`` results per thread are computed before the caller takes them, so the
    memory held stays bounded. Inside ``fn`` the kernels run serially (:func:`resolve`).
    With one thread it is a plain ``map`` in this thread. An exception of ``fn`` is raised
    when its result is reached.

    Parameters
    ----------
    fn : callable
        Work of one item (should spend its time in code that releases the GIL).
    items : iterable
        The items, in the order the results are wanted.
    threads : int, optional
        Threads to use (see :func:`resolve`).
    ahead : int
        Results computed ahead per thread.
    """
    count = resolve(threads)
    if count <= 1:
        for item in items:
            yield fn(item)
        return
    work = _as_worker(fn)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="coverage-site") as pool:
        queue: list[Future[R]] = []
        try:
            for item in items:
                queue.append(pool.submit(work, item))
                if len(queue) >= count * ahead:
                    yield queue.pop(0).result()
            while queue:
                yield queue.pop(0).result()
        finally:
            for future in queue:
                future.cancel()
