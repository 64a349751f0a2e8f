"""What the request path must not pay for (docs/performance.md): a thread-pool hop per dependency,
a new PostgreSQL connection per burst, a ping round trip per checkout. Correctness, not timing."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.routing import Match

import core.db
from api.app import create_app
from core.db import make_engine, pool_cap
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


async def test_the_api_opens_its_whole_pool_before_the_first_request(settings: Settings) -> None:
    """The pool keeps what it opens, so the API opens its cap at start-up: the first burst (the
    200-client booking race) pays no new connection, about 7 ms of the API's CPU each."""
    app = create_app(settings.model_copy(update={"database_pool_size": 2, "temporal_address": "127.0.0.1:9"}))
    async with app.router.lifespan_context(app):
        pool = app.state.muhurta.engine.pool
        assert pool.checkedin() == pool_cap(2) == 6 and pool.checkedout() == 0


def _first_match(app: Any, path: str, method: str, gated: bool) -> tuple[int, Match] | None:
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    partial = None
    for index, route in enumerate(app.router.routes):
        match, _ = (route.matches if gated else type(route).matches.__get__(route))(scope)
        if match == Match.FULL:
            return index, match
        if match == Match.PARTIAL and partial is None:
            partial = (index, match)
    return partial


def test_the_route_gate_picks_the_router_asking_each_would(settings: Settings) -> None:
    """api.route_index skips routers whose routes cannot match the path: every route's path, the
    same path with a wrong method (405) or a trailing slash (redirect), and an unknown path are
    matched by the same router as without the gate."""
    app = create_app(settings)
    gated = [route for route in app.router.routes if "matches" in vars(route)]
    assert len(gated) >= 20  # the API's routers are gated
    # ...from the routes' paths alone: building FastAPI's per-route state (every dependency tree,
    # about a second of CPU) is start-up's work (warm_routes), not every create_app's.
    assert all(route._effective_candidates_version is None for route in gated)
    checked = 0
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if callable(contexts) else []:
            path = re.sub(r"\{[^}]+\}", "3fa85f64-5717-4562-b3fc-2c963f66afa6", context.path)
            for method in ("GET", "POST", "PATCH", "DELETE"):
                for tried in (path, path + "/"):
                    assert _first_match(app, tried, method, True) == _first_match(app, tried, method, False), tried
                    checked += 1
    assert checked > 1000
    assert _first_match(app, "/api/v1/no-such-thing", "GET", True) is None
