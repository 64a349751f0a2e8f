"""What the request path must not pay for (docs/performance.md): a thread-pool hop per dependency,
a new PostgreSQL connection per burst, a ping round trip per checkout. Correctness, not timing."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import text

import core.db
from api.app import create_app
from core.db import make_engine
from core.settings import Settings


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's lazily included routers
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _sync_calls(dependant: Any, found: set[str]) -> set[str]:
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
            found.add(f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', call)}")
        _sync_calls(sub, found)
    return found


def test_no_endpoint_or_dependency_runs_in_the_thread_pool(settings: Settings) -> None:
    """FastAPI runs a plain `def` endpoint or dependency in a worker thread: two thread switches
    per call (get_state cost 6 % of a webhook's time). Every one of ours is `async def`."""
    routes = list(_routes(create_app(settings).routes))
    assert len(routes) > 50  # the walk reached the included routers
    sync: set[str] = set()
    for route in routes:
        if not inspect.iscoroutinefunction(route.endpoint):
            sync.add(f"endpoint {route.path}")
        _sync_calls(route.dependant, sync)
    assert sync == set(), sync


async def test_the_pool_keeps_its_connections_and_pings_only_idle_ones(settings: Settings, monkeypatch: Any) -> None:
    engine = make_engine(settings.database_url, 1)  # up to 3 connections, as 1 + 2 overflow allowed
    try:
        holding = asyncio.Semaphore(0)  # released once per connection held

        async def backend_pid(hold: asyncio.Event | None = None) -> int:
            async with engine.connect() as connection:
                pid = int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                if hold is not None:
                    holding.release()
                    await hold.wait()
                return pid

        release = asyncio.Event()
        burst = [asyncio.create_task(backend_pid(release)) for _ in range(3)]
        for _ in burst:  # all three hold a connection at once: the pool had to open three
            await holding.acquire()
        assert engine.pool.checkedout() == 3  # type: ignore[attr-defined]
        release.set()
        first = set(await asyncio.gather(*burst))
        assert len(first) == 3
        # A burst above the base size opened connections; they are kept, not closed on return.
        assert engine.pool.checkedin() == 3  # type: ignore[attr-defined]
        again = {await backend_pid() for _ in range(3)}
        assert again <= first

        # A connection that died while idle is replaced before anyone uses it.
        victim = next(iter(again))
        killer = make_engine(settings.database_url, 1)
        async with killer.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
            await other.commit()
        await killer.dispose()
        monkeypatch.setattr(core.db, "PING_AFTER_IDLE_SECONDS", 0.0)
        survivors = {await backend_pid() for _ in range(6)}
        assert victim not in survivors
    finally:
        await engine.dispose()
