"""What the instrumentation costs: API throughput with it off and on, in the same run. Prints
figures; asserts nothing.

Three builds of the same app over one embedded PostgreSQL and Redis, driven in-process over ASGI
(no network in between, so the relative cost is the largest it can look):
  off       TELEMETRY_ENABLED=false: no middleware, an uninstrumented engine and pool
  on        the production default without a collector: metrics, pool timing, a span per
            request and per SQL statement created but not recorded (trace ids still flow)
  recorded  the same with every trace recorded and batched to an exporter that drops them
            (what OTEL_EXPORTER_OTLP_ENDPOINT costs, less the network)
Rounds alternate (off, on, recorded, off, ...) so that drift on a busy machine hits all alike.
Two requests: the public consultancy page (two queries, JSON) and /health (no I/O: the
middleware's cost against almost nothing).

    .venv/bin/python bench/observability_overhead.py [--quick]
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="muhurta-xdg-"))

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 7
REQUESTS = 300 if QUICK else 1500  # per build, per round, per path
IN_FLIGHT = 20


class Dropping:
    """A span exporter that keeps nothing (the cost of recording and batching, not of a network)."""

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


async def drive(http: Any, path: str, count: int) -> float:
    """Requests per second for `count` GETs of `path`, IN_FLIGHT at a time."""
    remaining = count

    async def one_client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            response = await http.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(IN_FLIGHT)))
    return count / (time.perf_counter() - started)


async def run() -> None:
    from cryptography.fernet import Fernet
    from httpx import ASGITransport, AsyncClient
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from api.app import create_app, freeze_startup_heap
    from api.rate_limits import never_refusing
    from api.state import AppState
    from core.db import TenantScope, make_engine, make_sessionmaker, scoped_session
    from core.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
    from core.observability import tracing
    from core.redis import make_redis
    from core.security import Keys
    from core.settings import Settings
    from models.tenancy import Tenant, TenantStatus
    from workers.cli import migrate_database

    root = Path(tempfile.mkdtemp(prefix="muhurta-bench-"))
    postgres = EmbeddedPostgres(root / "pg", free_port())
    redis = EmbeddedRedis(root / "redis", free_port(), persistent=False)
    postgres.start()
    redis.start()
    states: list[AppState] = []
    try:
        url = postgres.ensure_database("bench", "bench", "bench")
        migrate_database(url)
        base = {"MUHURTA_ENV": "test", "MUHURTA_DATA_DIR": str(root / "data"), "DATABASE_URL": url,
                "REDIS_URL": redis.url, "JWT_SECRET": "bench-" + "x" * 40,
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "LOG_JSON": False, "LOG_LEVEL": "WARNING",
                **never_refusing()}
        builds: dict[str, Any] = {}
        for name, enabled in (("off", False), ("on", True)):
            settings = Settings.model_validate({**base, "TELEMETRY_ENABLED": enabled})
            engine = make_engine(url, IN_FLIGHT, observed="bench" if enabled else None)
            state = AppState(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                             redis=make_redis(redis.url), temporal=None, keys=Keys.from_settings(settings))
            states.append(state)
            builds[name] = create_app(settings, state=state)
        async with scoped_session(states[0].sessionmaker, TenantScope.system()) as session:
            session.add(Tenant(slug="bench", name="Bench", status=TenantStatus.ACTIVE, timezone="Asia/Kolkata",
                               settings={}))
        freeze_startup_heap()
        paths = ("/api/v1/public/bench", "/health")
        figures: dict[tuple[str, str], list[float]] = {}
        clients = {name: AsyncClient(transport=ASGITransport(app=app), base_url="http://bench")
                   for name, app in builds.items()}
        processor = BatchSpanProcessor(Dropping())  # type: ignore[arg-type]
        tracing.record_spans(processor, ratio=0.0)  # attached once; the ratio decides per round
        for name in builds:  # warm-up: connections opened, routes and metric children made
            for path in paths:
                await drive(clients[name], path, 200)
        for _ in range(ROUNDS):
            for build in ("off", "on", "recorded"):
                tracing.set_sample_ratio(1.0 if build == "recorded" else 0.0)
                client = clients["off" if build == "off" else "on"]
                for path in paths:
                    figures.setdefault((build, path), []).append(await drive(client, path, REQUESTS))
        tracing.set_sample_ratio(0.0)
        for client in clients.values():
            await client.aclose()

        print(f"\n{IN_FLIGHT} requests in flight, {ROUNDS} alternating rounds of {REQUESTS} per build and path; "
              "median requests/s (best):")
        for path in paths:
            off = statistics.median(figures[("off", path)])
            print(f"  GET {path}")
            for build in ("off", "on", "recorded"):
                samples = figures[(build, path)]
                rate = statistics.median(samples)
                cost = "" if build == "off" else f"   cost {100 * (1 - rate / off):5.1f} %"
                print(f"    {build:9} {rate:8.0f}/s  (best {max(samples):6.0f}){cost}")
    finally:
        for state in states:
            await state.close()
        redis.stop()
        postgres.stop()


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at start")
    asyncio.run(run())
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
