"""A genuinely separate dask cluster: ``run --scheduler`` gives the serial run's bytes.

The module starts, as a planner's IT would, a ``dask scheduler`` process and a ``dask worker``
process (2 worker processes of 1 thread, the embedded workers' environment
:data:`coverage.scale.cluster.WORKER_ENV`) from this interpreter's environment, on 127.0.0.1,
learns the address from a scheduler file, and kills the whole process groups afterwards.
Skipped when dask.distributed is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("distributed")

from conftest import make_tiny_data

from coverage.cli import app
from coverage.scale.cluster import WORKER_ENV

REPO = Path(__file__).resolve().parents[1]
N_WORKERS = 2
START_TIMEOUT_S = 60.0
"""Longest wait (s) for the scheduler file and the workers before the fixture fails."""

runner = CliRunner()


def _dask_command(role: str) -> list[str]:
    """Command starting a dask ``scheduler`` or ``worker`` of this interpreter's environment."""
    module = f"distributed.cli.dask_{role}"
    if importlib.util.find_spec(module) is not None:
        return [sys.executable, "-m", module]
    script = Path(sys.executable).with_name("dask")
    if script.is_file():
        return [str(script), role]
    pytest.skip(f"neither {module} nor a `dask` script next to {sys.executable}")


def _start(cmd: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    with log.open("wb") as fh:   # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    """Terminate a process and everything in its group (the worker's nannies and children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)   # stragglers, and the leader if it hung
    proc.wait(10)


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace") if log.is_file() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address (tcp://127.0.0.1:PORT) of a separate scheduler with 2 one-thread workers."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("cluster")
    sched_file = folder / "scheduler.json"
    env = dict(os.environ, **WORKER_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        procs.append((_start(
            [*_dask_command("scheduler"), "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(sched_file), "--idle-timeout", "300s"],
            folder / "scheduler.log", env, folder), folder / "scheduler.log"))
        procs.append((_start(
            [*_dask_command("worker"), "--scheduler-file", str(sched_file),
             "--nworkers", str(N_WORKERS), "--nthreads", "1", "--host", "127.0.0.1",
             "--no-dashboard", "--memory-limit", "0", "--death-timeout", "60s",
             "--local-directory", str(folder / "workers")],
            folder / "worker.log", env, folder), folder / "worker.log"))
        deadline = time.monotonic() + START_TIMEOUT_S

        def alive() -> None:
            for proc, log in procs:
                if proc.poll() is not None:
                    pytest.fail(f"{log.stem} exited with {proc.returncode}:\n{_tail(log)}")

        address = None
        while address is None:
            alive()
            with contextlib.suppress(OSError, ValueError, KeyError):
                address = json.loads(sched_file.read_text())["address"]
            if address is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"no scheduler file after {START_TIMEOUT_S:.0f} s:\n"
                                f"{_tail(procs[0][1])}")
                time.sleep(0.1)
        with Client(address, timeout="20s") as client:
            while len(client.scheduler_info(n_workers=-1)["workers"]) < N_WORKERS:
                alive()
                if time.monotonic() > deadline:
                    pytest.fail(f"fewer than {N_WORKERS} workers connected to {address} after "
                                f"{START_TIMEOUT_S:.0f} s:\n{_tail(procs[1][1])}")
                time.sleep(0.1)
        yield address
    finally:
        for proc, _log in reversed(procs):   # workers first, then the scheduler
            _stop(proc)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny county (:func:`conftest.make_tiny_data`), shared by this module's tests."""
    return make_tiny_data(tmp_path_factory.mktemp("data"))


def _outputs(out: Path) -> dict[str, bytes]:
    """The files that must be byte-identical, by path relative to ``out``."""
    files = [*sorted((out / "coverage").glob("*.tif")), *sorted((out / "tables").glob("*.csv"))]
    files += [out / name for name in ("plan.csv", "plan.gpkg", "plan.kml", "readiness.xlsx")]
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def _finished_tasks(address: str) -> dict[str, int]:
    """Tasks the scheduler has seen finish so far, by key prefix (e.g. ``coverage-site``)."""
    from distributed import Client

    def count(dask_scheduler: Any) -> dict[str, int]:
        return {str(name): int(prefix.state_counts["memory"])
                for name, prefix in dask_scheduler.task_prefixes.items()}

    with Client(address, timeout="20s") as client:
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == N_WORKERS
        return client.run_on_scheduler(count)


TWO_OPERATORS = "[planning]\nrequired_operators = 2\n"
"""Every group needs 2 operators: the tiny county then gets a non-empty plan."""


@pytest.mark.parametrize("config", [None, TWO_OPERATORS], ids=["default", "two_operators"])
def test_remote_scheduler_run_equals_serial(scheduler_address, data, tmp_path, config):
    args = ["run", "--data", str(data), "-q"]
    if config is not None:
        (tmp_path / "coverage.toml").write_text(config, encoding="utf-8")
        args += ["--config", str(tmp_path / "coverage.toml")]
    serial, remote = tmp_path / "serial", tmp_path / "remote"
    a = runner.invoke(app, [*args, "--out", str(serial)])
    assert a.exit_code == 0, a.output
    before = _finished_tasks(scheduler_address)
    b = runner.invoke(app, [*args, "--out", str(remote), "--scheduler", scheduler_address])
    assert b.exit_code == 0, b.output
    ran = {p: n - before.get(p, 0) for p, n in _finished_tasks(scheduler_address).items()}
    want, got = _outputs(serial), _outputs(remote)
    assert sum(name.startswith("coverage/") for name in want) == 7     # 3 operators x 2 + any
    assert sum(name.startswith("tables/") for name in want) >= 1
    if config is not None:
        assert want["plan.csv"].count(b"\n") >= 2, "expected a non-empty plan"
    assert sorted(got) == sorted(want)
    differ = sorted(name for name in want if want[name] != got[name])
    assert not differ, f"remote-scheduler outputs differ from serial: {differ}"
    # this run's sites and candidate towers really were predicted on the separate workers
    assert ran.get("coverage-site", 0) >= 3 and ran.get("coverage-candidate", 0) >= 1, ran


def test_unreachable_scheduler_exits_2_with_one_line(data, tmp_path):
    with socket.socket() as sock:            # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # a refused connection is reported at once, without dask's 20 s connection timeout
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--data", str(data), "--out", str(out), "-q",
                                 "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cannot reach the dask scheduler at tcp://")
    assert "Traceback" not in result.output
    assert not out.exists()
    assert "Connection refused" in lines[0]
