"""The dask cluster: an embedded LocalCluster or an existing scheduler, and its checks."""

from __future__ import annotations

import contextlib
import os
import resource
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coverage.errors import ConfigError

DEFAULT_RETRIES = 3
"""Times a failed task is re-run (a task on a killed worker is rescheduled anyway)."""

RSRP_DIR = "rsrp"
"""Sub-folder of the cache folder holding the scratch RSRP windows of a tiled run."""

DEM_DIR = "dem"
"""Sub-folder of the cache folder holding the working-DEM file."""

WORKER_ENV = {"COVERAGE_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""Environment of embedded workers: one thread each (the cluster provides the parallelism)."""

def distributed_available() -> bool:
    """True when ``dask.distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _require_distributed() -> None:
    if not distributed_available():
        raise ConfigError("--scheduler/--workers need dask.distributed, which is not installed. "
                          "Fix: pip install 'coverage-planner[dask]' (or run without them).")


@contextlib.contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None, *,
                dashboard_address: str = ":0", memory_limit: str | float = "auto",
                connect_timeout: str = "20s") -> Iterator[Any]:
    """A dask client for a run, or None for an in-process run.

    Parameters
    ----------
    scheduler : str, optional
        Address of an existing scheduler (``tcp://HOST:PORT``).
    workers : int, optional
        Start an embedded ``LocalCluster`` of this many worker processes, one thread each.
    dashboard_address : str
        Dashboard of the embedded cluster (``":0"``: any free port).
    memory_limit : str or float
        Memory limit per embedded worker (dask syntax, ``"auto"`` shares the machine's).
    connect_timeout : str
        How long to try reaching ``scheduler`` (dask syntax).

    Yields
    ------
    distributed.Client or None
        None when neither ``scheduler`` nor ``workers`` is given.

    Raises
    ------
    ConfigError
        Both given, ``workers`` < 1, distributed not installed, or the scheduler unreachable.
    """
    if scheduler and workers:
        raise ConfigError("give --scheduler or --workers, not both. Fix: --scheduler to use an "
                          "existing cluster, --workers N for one on this machine.")
    if not scheduler and not workers:
        yield None
        return
    _require_distributed()
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            _refused_fast(scheduler)
            client = Client(scheduler, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the dask scheduler at {scheduler} ({exc}). Fix: "
                              "check the address (tcp://HOST:PORT) and that `dask scheduler` "
                              "is running and reachable from here.") from None
        try:
            yield client
        finally:
            client.close()
        return
    if int(workers) < 1:  # type: ignore[arg-type]
        raise ConfigError(f"--workers {workers}: give at least 1 worker.")
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1,  # type: ignore[arg-type]
                           processes=True, dashboard_address=dashboard_address,
                           memory_limit=memory_limit, env=dict(WORKER_ENV))
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _refused_fast(address: str) -> None:
    """Raise OSError at once when nothing listens at a ``tcp://HOST:PORT`` address.

    The dask client would retry until its timeout; a refused connection or an unknown host
    is certain and is reported now. Other addresses (tls://, inproc://) are left to dask.
    """
    import socket
    from urllib.parse import urlsplit

    if not address.startswith("tcp://"):
        return
    parts = urlsplit(address)
    if parts.hostname is None or parts.port is None:
        return
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=5.0):
            pass
    except (ConnectionRefusedError, socket.gaierror) as exc:
        raise OSError(exc.strerror or str(exc)) from None
    except OSError:
        return  # slow or filtered: let dask try for its full timeout


def check_shared_folder(client: Any, folder: Path) -> None:
    """Raise :class:`ConfigError` unless every worker sees ``folder`` at the same path."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".visible-{uuid.uuid4().hex}"
    marker.write_text("ok")
    try:
        seen = client.run(os.path.isfile, str(marker))
    finally:
        marker.unlink()
    blind = sorted(addr for addr, ok in seen.items() if not ok)
    if blind:
        raise ConfigError(f"the cache folder {folder} is not visible on worker(s) "
                          f"{', '.join(blind)}. Fix: put --out on a file system every worker "
                          "mounts at the same path (e.g. NFS), or use --workers N here.")


def worker_stats(client: Any, reset_peak: bool = False) -> dict[str, dict[str, float]]:
    """Per worker: peak and current resident memory (bytes), CPU time (s) of its process.

    The peak is the process's own high-water mark (Linux ``VmHWM``; ``ru_maxrss``
    elsewhere, which may include the parent's). ``reset_peak`` restarts it (Linux), so that
    the next call reports the peak since this one.
    """
    return client.run(_process_stats, reset_peak)


def _process_stats(reset_peak: bool = False) -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = float(usage.ru_maxrss) * 1024.0
    now = float("nan")
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak = float(line.split()[1]) * 1024.0
                elif line.startswith("VmRSS:"):
                    now = float(line.split()[1]) * 1024.0
        if reset_peak:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
    return {"peak_rss_bytes": peak, "rss_bytes": now,
            "cpu_s": float(usage.ru_utime + usage.ru_stime)}
