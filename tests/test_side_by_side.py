"""Output writers side by side: same files as one after another, errors raised, nothing
published from a failed run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coverage.io.outputs import OutputFolder
from coverage.io.side_by_side import Writer, run_writers


def _writers(log: Path) -> list[Writer]:
    def text(name: str, body: str) -> Writer:
        def write(staged: OutputFolder) -> None:
            staged.write_text(name, body)
            with open(log, "a") as handle:     # which process wrote it
                handle.write(f"{os.getpid()}\n")
        return write

    def binary(staged: OutputFolder) -> None:
        with open(staged.path("sub/data.bin"), "wb") as handle:
            handle.write(bytes(range(256)) * 100)

    return [text("a.html", "<p>一</p>\n" * 1000), binary, text("tables/b.csv", "x,y\n1,2\n"),
            text("c.txt", "c")]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_side_by_side_writes_the_same_files_as_one_after_another(tmp_path: Path,
                                                                 processes: int) -> None:
    one, many = tmp_path / "one", tmp_path / "many"
    with OutputFolder(one) as staged:
        for write in _writers(tmp_path / "log1"):
            write(staged)
    with OutputFolder(many) as staged:
        run_writers(staged, _writers(tmp_path / "log2"), processes=processes)
    assert _files(many) == _files(one)
    assert set(_files(one)) == {"a.html", "sub/data.bin", "tables/b.csv", "c.txt"}
    writers = set((tmp_path / "log2").read_text().split())
    if processes > 1:
        assert str(os.getpid()) not in writers     # they ran in child processes
    else:
        assert writers == {str(os.getpid())}


class _UnpicklableError(Exception):
    def __init__(self, handle: object):
        super().__init__("cannot travel")
        self.handle = handle

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("no pickling")


@pytest.mark.parametrize("error, expected", [
    (ValueError("bad value in a writer"), ValueError),
    (_UnpicklableError(object()), RuntimeError),
])
def test_a_failing_writer_is_raised_and_nothing_is_published(
        tmp_path: Path, error: Exception, expected: type[Exception]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("from the last run")

    def fail(staged: OutputFolder) -> None:
        staged.write_text("half.txt", "written before the error")
        raise error

    with pytest.raises(expected) as caught, OutputFolder(out) as staged:
        run_writers(staged, [*_writers(tmp_path / "log"), fail], processes=2)
    if expected is RuntimeError:
        assert "_UnpicklableError" in str(caught.value)   # the child's traceback is in the message
    else:
        assert str(caught.value) == "bad value in a writer"
    assert _files(out) == {"old.txt": b"from the last run"}     # as the run found it
    assert not [p for p in out.iterdir() if p.name.startswith(".staging-")]


@pytest.mark.parametrize("processes", [1, 2])
def test_early_writers_write_what_was_ready_when_they_started(tmp_path: Path,
                                                              processes: int) -> None:
    from coverage.io.side_by_side import EarlyWriters

    state = {"stage": "coverage"}

    def snapshot(name: str) -> Writer:
        return lambda staged: staged.write_text(name, state["stage"])

    with OutputFolder(tmp_path / "out") as staged, \
            EarlyWriters(staged, processes=processes) as early:
        early.start([snapshot("early.txt"), *_writers(tmp_path / "log")[:2]])
        state["stage"] = "readiness"          # the parent goes on computing
        early.finish([snapshot("late.txt"), *_writers(tmp_path / "log")[2:]])
    files = _files(tmp_path / "out")
    assert set(files) == {"early.txt", "late.txt", "a.html", "sub/data.bin",
                          "tables/b.csv", "c.txt"}
    assert files["late.txt"] == b"readiness"
    # a forked child saw the results of its moment; in one process the batch waits
    assert files["early.txt"] == (b"coverage" if processes > 1 else b"readiness")


def test_an_early_writer_error_is_raised_and_nothing_is_published(tmp_path: Path) -> None:
    from coverage.io.side_by_side import EarlyWriters

    def fail(staged: OutputFolder) -> None:
        staged.write_text("half.txt", "x")
        raise ValueError("the early writer failed")

    out = tmp_path / "out"
    with pytest.raises(ValueError, match="the early writer failed"), \
            OutputFolder(out) as staged, EarlyWriters(staged, processes=2) as early:
        early.start([fail])
        early.finish(_writers(tmp_path / "log"))
    assert _files(out) == {}


def test_a_run_failing_while_early_writers_run_stops_them(tmp_path: Path) -> None:
    import time

    from coverage.io.side_by_side import EarlyWriters

    def slow(staged: OutputFolder) -> None:
        time.sleep(30)
        staged.write_text("never.txt", "x")

    out = tmp_path / "out"
    begun = time.perf_counter()
    with pytest.raises(KeyError), OutputFolder(out) as staged, \
            EarlyWriters(staged, processes=2) as early:
        early.start([slow])
        child = early.children[0][0]
        raise KeyError("a step of the run failed")
    assert time.perf_counter() - begun < 20       # the child was stopped, not awaited
    assert not child.is_alive()
    assert _files(out) == {}
