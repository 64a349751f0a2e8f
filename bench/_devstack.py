"""The layout a user runs, for the bench scripts: `muhurta dev` (embedded PostgreSQL, Redis and
Temporal, migrations, the demo data, then the worker and the API as child processes) in a
throwaway data folder on free ports, and a bare FastAPI app served the same way beside it.

Nothing here is a test fixture: figures only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.rate_limits import never_refusing  # noqa: E402
from core.embedded import free_port, port_open  # noqa: E402
from core.settings import Settings  # noqa: E402


def _ports(names: tuple[str, ...]) -> dict[str, int]:
    """Free ports, or BENCH_PORT_BASE, BENCH_PORT_BASE + 1, ... when set (a block of one's own on
    a machine shared with others)."""
    base = os.environ.get("BENCH_PORT_BASE")
    if base:
        return {name: int(base) + i for i, name in enumerate(names)}
    return {name: free_port() for name in names}


def _process_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command line, CPU seconds used so far), from /proc (Linux)."""
    table: dict[int, tuple[int, str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), command, (int(fields[11]) + int(fields[12])) / tick)
    return table


def cpu_by_part(root: int, parts: dict[str, str]) -> dict[str, float]:
    """CPU seconds used so far by the processes under `root`, summed per part: a process belongs
    to the first part whose marker is in its command line or its ancestors' (under `root`);
    the rest is "other"."""
    table = _process_table()
    totals = dict.fromkeys([*parts, "other"], 0.0)
    for pid, (_, _, used) in table.items():
        chain, at = [], pid
        while at in table and at != root:
            chain.append(table[at][1])
            at = table[at][0]
        if at != root and pid != root:
            continue
        commands = " ".join([*chain, table[root][1] if pid == root else ""])
        part = next((name for name, marker in parts.items() if marker in commands), "other")
        totals[part] += used
    return totals


@dataclass
class Dev:
    """A running `muhurta dev`: its API port, its data folder and the settings its children read."""

    api_port: int
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def settings(self) -> Settings:
        saved = dict(os.environ)
        try:
            os.environ.update(self.env)
            # what `muhurta dev` gives its children: its embedded servers' addresses
            os.environ["DATABASE_URL"] = ("postgresql+psycopg://muhurta:muhurta@127.0.0.1:"
                                          f"{self.env['DEV_POSTGRES_PORT']}/muhurta")
            os.environ["REDIS_URL"] = f"redis://127.0.0.1:{self.env['DEV_REDIS_PORT']}/0"
            os.environ["TEMPORAL_ADDRESS"] = f"127.0.0.1:{self.env['DEV_TEMPORAL_PORT']}"
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextmanager
def muhurta_dev(api_workers: int | None = None, extra_env: dict[str, str] | None = None) -> Iterator[Dev]:
    """`muhurta dev` exactly as `make dev` runs it (defaults untouched unless `api_workers` or
    `extra_env` say otherwise), stopped with Ctrl-C's signal at the end."""
    data = Path(tempfile.mkdtemp(prefix="muhurta-bench-dev-"))
    os.chmod(data, 0o755)  # the embedded PostgreSQL runs as its own user
    ports = _ports(("API_PORT", "DEV_POSTGRES_PORT", "DEV_REDIS_PORT", "DEV_TEMPORAL_PORT", "DEV_TEMPORAL_UI_PORT",
                    "RAZORPAY_LOCAL_PORT"))
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS", "API_WORKERS")}
    env.update({key: str(port) for key, port in ports.items()})
    env.update({"MUHURTA_DATA_DIR": str(data), "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['API_PORT']}",
                "XDG_RUNTIME_DIR": str(data / "run")})
    env.update(never_refusing())  # one load generator sends far more than any person
    if api_workers:
        env["API_WORKERS"] = str(api_workers)
    env.update(extra_env or {})
    log = (data / "dev.log").open("wb")
    process = subprocess.Popen([str(Path(sys.executable).parent / "muhurta"), "dev"], cwd=str(ROOT), env=env,
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, process_group=0)
    try:
        deadline = time.monotonic() + 240
        while b"Press Ctrl-C" not in (data / "dev.log").read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("muhurta dev did not start:\n" + (data / "dev.log").read_text()[-3000:])
            time.sleep(0.5)
        yield Dev(ports["API_PORT"], data, env, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        subprocess.run(["rm", "-rf", str(data)], check=False)


@dataclass
class Bare:
    port: int
    pid: int


@contextmanager
def bare_app(workers: int = 1, module: str = "_bare_app") -> Iterator[Bare]:
    """bench/_bare_app.py (or another app of bench/, `module`) under uvicorn with the API's own
    settings (uvloop, httptools, no access log), `workers` processes; yields its port and process id."""
    base = os.environ.get("BENCH_PORT_BASE")
    port = int(base) + (6 if module == "_bare_app" else 7) if base else free_port()
    process = subprocess.Popen(
        [sys.executable, "-c",
         "import uvicorn, sys; uvicorn.run(sys.argv[3] + ':app', host='127.0.0.1', port=int(sys.argv[1]), "
         "workers=int(sys.argv[2]), log_config=None, access_log=False)", str(port), str(workers), module],
        cwd=str(ROOT / "bench"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
    try:
        deadline = time.monotonic() + 60
        while not port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bare app did not start")
            time.sleep(0.2)
        time.sleep(0.5 * workers)  # every worker process listening
        yield Bare(port, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
