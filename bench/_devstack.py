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
    ports = {name: free_port() for name in ("API_PORT", "DEV_POSTGRES_PORT", "DEV_REDIS_PORT", "DEV_TEMPORAL_PORT",
                                            "DEV_TEMPORAL_UI_PORT", "RAZORPAY_LOCAL_PORT")}
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


@contextmanager
def bare_app(workers: int = 1) -> Iterator[int]:
    """bench/_bare_app.py under uvicorn with the API's own settings (uvloop, httptools, no access
    log), `workers` processes; yields its port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c",
         "import uvicorn, sys; uvicorn.run('_bare_app:app', host='127.0.0.1', port=int(sys.argv[1]), "
         "workers=int(sys.argv[2]), log_config=None, access_log=False)", str(port), str(workers)],
        cwd=str(ROOT / "bench"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
    try:
        deadline = time.monotonic() + 60
        while not port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bare app did not start")
            time.sleep(0.2)
        time.sleep(0.5 * workers)  # every worker process listening
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
