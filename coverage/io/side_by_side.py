"""Independent output writers run side by side in forked processes.

A run's outputs (map pages, workbooks, pictures, rasters, vector files) are computed from
results that are already in memory and do not depend on each other, and most of their cost is
pure-Python serialisation (folium, openpyxl, matplotlib) that holds the GIL. They are therefore
run in a small pool of *forked* processes: each child inherits the results (nothing is
pickled per call, only the writer's position and, back, the relative paths it staged), writes
its files into the run's staging folder (:class:`coverage.io.outputs.OutputFolder`), each file
atomically as before, and the parent publishes the folder only when every writer succeeded.

The bytes of every file are the same as when the writers run one after another in this
process (a writer's output depends only on its inputs), which is what happens with one
process, where ``fork`` is unavailable, or with a single writer.

An error in any writer is raised in the parent as the same exception (or, when it cannot be
carried across processes, as a :class:`RuntimeError` with the child's traceback), after the
other writers stopped; the staging folder is then removed, so the output folder is left as
it was.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import sys
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from coverage.io.outputs import OutputFolder

__all__ = ["EarlyWriters", "Writer", "run_writers"]

Writer = Callable[[OutputFolder], object]
"""Writes some outputs into the staging folder it is given (through ``staged.path`` or
``staged.write_text``, so that they are published with the run); what it returns is
ignored."""

_inherited: tuple[OutputFolder, Sequence[Writer]] | None = None
"""The staging folder and writers of the running :func:`run_writers`, which the forked
children inherit."""


def _run_one(index: int) -> tuple[bool, list[str] | bytes | str]:
    """In a child: run writer ``index``; (True, staged paths) or (False, the error).

    The error is the pickled exception, or its formatted traceback when it cannot be
    pickled.
    """
    assert _inherited is not None
    staged, writers = _inherited
    before = len(staged.written)
    try:
        writers[index](staged)
    except BaseException as exc:  # carried to the parent, which raises it
        try:
            return False, pickle.dumps(exc)
        except Exception:
            return False, "".join(traceback.format_exception(exc))
    return True, staged.written[before:]


def _raise(error: bytes | str) -> None:
    """Raise a child's error in this process."""
    if isinstance(error, bytes):
        try:
            exc = pickle.loads(error)
        except Exception:
            exc = None
        if isinstance(exc, BaseException):
            raise exc
        error = "an output writer failed (its error could not be read back)"
    raise RuntimeError(f"writing the outputs failed in a worker process:\n{error}")


def run_writers(staged: OutputFolder, writers: Sequence[Writer], *, processes: int) -> None:
    """Run ``writers`` into ``staged``, up to ``processes`` of them at a time.

    Parameters
    ----------
    staged : OutputFolder
        The run's staging folder (entered).
    writers : sequence of callables
        Independent writers, longest first for the best balance; each is called with
        ``staged``.
    processes : int
        Most writers running at once (forked processes); 1 runs them here, in order.

    Raises
    ------
    BaseException
        The first failing writer's error (in writer order), once no writer runs any more.
    """
    global _inherited
    if (processes <= 1 or len(writers) <= 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        for write in writers:
            write(staged)
        return
    _inherited = (staged, writers)
    _flush()
    try:
        with ProcessPoolExecutor(max_workers=min(processes, len(writers)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            futures: list[Future[tuple[bool, list[str] | bytes | str]]] = [
                pool.submit(_run_one, i) for i in range(len(writers))]
            outcomes = [f.result() for f in futures]
    finally:
        _inherited = None
    _collect(staged, outcomes)


def _collect(staged: OutputFolder, outcomes: Sequence[tuple[bool, list[str] | bytes | str]]
             ) -> None:
    """Raise the first failed writer's error; otherwise register every staged path here,
    so that this process publishes them with the run."""
    for ok, value in outcomes:
        if not ok:
            assert not isinstance(value, list)
            _raise(value)
    for _, value in outcomes:
        assert isinstance(value, list)
        for relative in value:
            staged.path(relative)


def _flush() -> None:
    """Flush this process's text streams, so a child never writes their buffers again."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()


def _child(send: Connection, staged: OutputFolder, writers: Sequence[Writer]) -> None:
    """In a forked child: run ``writers`` in order and send back what :func:`_run_one`
    returns."""
    global _inherited
    _inherited = (staged, [lambda s: [w(s) for w in writers]])
    send.send(_run_one(0))
    send.close()


class EarlyWriters:
    """Writers started while the run still computes, each batch in a forked child.

    A batch whose inputs are ready (the coverage rasters once the prediction is done, the
    mobile map once the plan is) is written by a child forked at that moment: it inherits
    the results computed so far and uses the second core while this process goes on with
    the next step. :meth:`finish` runs the remaining writers side by side
    (:func:`run_writers`), then waits for the children and raises the first error (children
    first, in the order started). Leaving the ``with`` block early stops every child.
    With one process (or without ``fork``) the batches wait and run in :meth:`finish`, in
    this process, in order.

    Parameters
    ----------
    staged : OutputFolder
        The run's staging folder (entered).
    processes : int
        Most processes writing at once.
    """

    def __init__(self, staged: OutputFolder, *, processes: int):
        self.staged = staged
        self.processes = processes
        self.forking = processes > 1 and "fork" in multiprocessing.get_all_start_methods()
        self.children: list[tuple[BaseProcess, Connection]] = []
        self.waiting: list[Writer] = []

    def __enter__(self) -> EarlyWriters:
        return self

    def start(self, writers: Sequence[Writer]) -> None:
        """Start ``writers`` (in order, in one child) now."""
        if not writers:
            return
        if not self.forking:
            self.waiting.extend(writers)
            return
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        _flush()
        child = context.Process(target=_child, args=(send, self.staged, list(writers)),
                                daemon=True)
        child.start()
        send.close()
        self.children.append((child, receive))

    def finish(self, writers: Sequence[Writer]) -> None:
        """Run ``writers`` side by side, then collect the early ones (see the class)."""
        _flush()
        run_writers(self.staged, [*self.waiting, *writers],
                    processes=self.processes if self.forking else 1)
        self.waiting = []
        outcomes: list[tuple[bool, list[str] | bytes | str]] = []
        for child, receive in self.children:
            try:
                outcomes.append(receive.recv())
            except EOFError:
                outcomes.append((False, "an output writer process ended without a result "
                                        f"(exit code {child.exitcode})"))
            child.join()
            receive.close()
        self.children = []
        _collect(self.staged, outcomes)

    def __exit__(self, *exc: object) -> None:
        for child, receive in self.children:   # left early: nothing is published
            child.terminate()
            child.join()
            receive.close()
        self.children = []
