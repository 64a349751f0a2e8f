"""`muhurta dev`: the whole product on one machine, from pip-installed parts only.

Starts PostgreSQL, Redis and the Temporal dev server (each unless its address is given in the
environment), migrates, seeds the demo, then runs a worker and the API as child processes.
Ctrl-C stops everything; children die with us even if we are killed.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from types import FrameType

from core.embedded import ChildServer, EmbeddedPostgres, EmbeddedRedis, EmbeddedTemporal, port_open
from core.settings import Settings
from workflows.search_attributes import SEARCH_ATTRIBUTES


def _busy(port: int, what: str) -> None:
    if port_open(port):
        raise SystemExit(
            f"port {port} ({what}) is in use: is another `make dev` running? Stop it, or point "
            f"the matching *_URL/ADDRESS variable at a running server."
        )


def run_dev(settings: Settings) -> int:
    from workers.cli import _seed, migrate_database

    data = settings.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data / "run"))
    env = dict(os.environ)
    env.setdefault("LOG_JSON", "false")
    stack: list[object] = []
    started: list[ChildServer] = []

    def stop_all(*_: object) -> None:
        for child in reversed(started):
            child.stop()
        for server in reversed(stack):
            server.stop()  # type: ignore[attr-defined]

    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if "DATABASE_URL" not in os.environ:
            _busy(settings.dev_postgres_port, "PostgreSQL")
            pg = EmbeddedPostgres(data / "postgres", settings.dev_postgres_port)
            pg.start()
            stack.append(pg)
            env["DATABASE_URL"] = pg.ensure_database("muhurta", "muhurta", "muhurta")
            print(f"postgres   127.0.0.1:{pg.port} (data in {pg.pgdata})", flush=True)
        if "REDIS_URL" not in os.environ:
            _busy(settings.dev_redis_port, "Redis")
            redis = EmbeddedRedis(data / "redis", settings.dev_redis_port)
            redis.start()
            stack.append(redis)
            env["REDIS_URL"] = redis.url
            print(f"redis      {redis.url}", flush=True)
        if "TEMPORAL_ADDRESS" not in os.environ:
            _busy(settings.dev_temporal_port, "Temporal")
            temporal = EmbeddedTemporal(data / "temporal", settings.dev_temporal_port, settings.dev_temporal_ui_port,
                                        namespace=settings.temporal_namespace,
                                        search_attributes=SEARCH_ATTRIBUTES)
            temporal.start()
            stack.append(temporal)
            env["TEMPORAL_ADDRESS"] = temporal.address
            env["TEMPORAL_UI_URL"] = f"http://127.0.0.1:{settings.dev_temporal_ui_port}"
            print(f"temporal   {temporal.address}, UI {env['TEMPORAL_UI_URL']}", flush=True)

        os.environ.update(env)
        dev_settings = Settings()
        migrate_database(dev_settings.database_url)
        print("migrations applied", flush=True)
        import asyncio

        if not any(isinstance(server, EmbeddedTemporal) for server in stack):
            from workers.cli import register_search_attributes

            asyncio.run(register_search_attributes(dev_settings))
        asyncio.run(_seed(dev_settings))

        python = sys.executable
        names = ["worker", "api"]
        if not dev_settings.razorpay_key_id:
            from core.razorpay import platform_credentials

            _busy(dev_settings.razorpay_local_port, "the local Razorpay gateway")
            platform_credentials(dev_settings)  # the development keys, made once before any child reads them
            names.insert(0, "razorpay-local")
        for name in names:
            # uvicorn stops cleanly on SIGTERM; on SIGINT it re-raises KeyboardInterrupt once stopped
            child = ChildServer(name, [python, "-m", "workers.cli", name], log_file=None, env=env,
                                stop_signal=signal.SIGTERM if name == "api" else signal.SIGINT)
            child.start()
            started.append(child)
        _wait_for_api(dev_settings.api_port, started)
        base = f"http://{dev_settings.api_host}:{dev_settings.api_port}"
        razorpay = "" if dev_settings.razorpay_key_id else (
            f"  Razorpay     local gateway http://127.0.0.1:{dev_settings.razorpay_local_port} (no keys needed)\n")
        metrics = "" if not dev_settings.telemetry_enabled else (
            f"  metrics      {base}/metrics (API), "
            + (f"http://{dev_settings.worker_metrics_host}:{dev_settings.worker_metrics_port}/metrics (worker)\n"
               if dev_settings.worker_metrics_port else "none for the worker\n"))
        print(
            "\nMuhurta is running:\n"
            f"  API docs     {base}/docs\n"
            f"  readiness    {base}/ready\n"
            f"{metrics}"
            f"  Temporal UI  {dev_settings.temporal_ui_url}\n"
            f"{razorpay}"
            f"  data folder  {data}\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        while not stopping:
            for child in started:
                if not child.alive():
                    print(f"{child.name} exited; stopping", file=sys.stderr)
                    stopping = True
            time.sleep(0.3)
        return 0
    finally:
        print("stopping...", flush=True)
        stop_all()
        print("stopped", flush=True)


def _wait_for_api(port: int, children: list[ChildServer], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        for child in children:
            if not child.alive():
                raise SystemExit(f"{child.name} exited during start-up")
        time.sleep(0.2)
    raise SystemExit("the API did not start within a minute")


