"""The API's metrics when several processes share its port (`API_WORKERS` > 1).

uvicorn starts `API_WORKERS` processes behind one port and the kernel hands each connection to
one of them, so a Prometheus scrape would read one process's counters and a different one the
next time: rates jump and requests vanish from the figures. prometheus-client's multiprocess
mode fixes that at the root: every process writes its samples to memory-mapped files in one
directory (`PROMETHEUS_MULTIPROC_DIR`) and `/metrics`, whichever process answers, merges them.

The directory must be set before any metric is created (the value class is chosen at import),
which is why `prepare_api_processes` runs in the `muhurta api` launcher before uvicorn spawns its
processes, and it must start empty (stale files from an earlier run would add old counts).
Gauges say how they merge (`livesum`: the in-flight requests and pool figures of the processes
alive now). With one process nothing changes: the default in-memory registry is read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prepare_api_processes(processes: int) -> Path | None:
    """Give the API's processes one empty directory to write their samples to.

    An operator's own `PROMETHEUS_MULTIPROC_DIR` is used (and emptied of an earlier run's files);
    otherwise a private temporary directory is made and returned, for `finish_api_processes` to
    remove when the API stops. One process: nothing to do.
    """
    if processes <= 1:
        return None
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="muhurta-api-metrics-"))
    os.environ[MULTIPROC_DIR] = str(made)
    return made


def finish_api_processes(made: Path | None) -> None:
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)


def scrape_registry() -> CollectorRegistry:
    """What `/metrics` reads: every process's samples merged, or this process's own registry."""
    if not os.environ.get(MULTIPROC_DIR):
        return REGISTRY
    merged = CollectorRegistry()
    MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return merged


def process_exiting() -> None:
    """An API process stops: its live gauges (in-flight requests, pool) leave the merged figures."""
    if os.environ.get(MULTIPROC_DIR):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
