"""A prefix gate in front of each included router, so that a request is matched against the
routes that could match it, not against every route of every router before it.

FastAPI 0.16x matches a request by asking each included router in turn, and each router asks
each of its routes (a regular expression and two writes to the scope per route): ~150 routes in
29 routers cost 0.17 ms for a Razorpay webhook, whose router comes late, and 0.13 ms for the
slot listing (docs/performance.md). A route's path can only match a request whose path starts
with the route's literal beginning (everything before its first `{parameter}`); a router none of
whose routes' beginnings the path starts with is skipped without asking it.

Only routers made of plain API routes are gated (no mounts, websockets, nested routers or
frontend groups, whose matching is not a literal prefix); a router whose routes changed after
the gate was set (FastAPI counts changes) is asked as before. Redirects for a missing or extra
trailing slash and 405s still work: they ask `matches` with the path they try, and a router
that could match it is not skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope


def handled_routes(app: FastAPI) -> Iterator[Any]:
    """Every route that answers requests, the included routers' effective routes among them,
    which FastAPI builds (with their dependency trees) on the way."""
    pending: list[Any] = list(app.router.routes)
    while pending:
        route = pending.pop()
        build = getattr(route, "effective_candidates", None)
        if not callable(build):
            yield route
            continue
        pending.extend(build())
        low = getattr(route, "effective_low_priority_routes", None)
        if callable(low):
            low()


def literal_prefix(path: str) -> str:
    return path.split("{", 1)[0]


def gate_included_routers(app: FastAPI) -> int:
    """Put the prefix gate in front of every included router it applies to; returns how many."""
    gated = 0
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        router = getattr(route, "original_router", None)
        if not callable(contexts) or router is None:
            continue
        if any(not isinstance(r, APIRoute) for r in router.routes) or getattr(router, "_low_priority_routes", None):
            continue
        found = _paths(route, router, contexts)
        paths = [path for path in found if isinstance(path, str) and path]
        if not paths or len(paths) != len(found):
            continue
        _install(route, router, tuple(sorted({literal_prefix(path) for path in paths})))
        gated += 1
    return gated


def _paths(route: Any, router: Any, contexts: Any) -> list[object]:
    """The router's effective paths. From the include's prefix and each route's own path when
    FastAPI keeps them (cheap); otherwise from FastAPI's effective route contexts, whose first
    building also builds every route's dependency tree: about a second of CPU for this app,
    paid on every `create_app` (each API test's app) where a request pays it lazily per router
    and production at start-up (`api.app.warm_routes`)."""
    include = getattr(route, "include_context", None)
    path_for = getattr(include, "path_for", None)
    if callable(path_for):
        return [path_for(r) for r in router.routes]
    return [getattr(context, "path", None) for context in contexts()]


def _install(route: Any, router: Any, prefixes: tuple[str, ...]) -> None:
    matches = type(route).matches.__get__(route)  # the class's own, whatever was installed before
    version = router._routes_version

    def gated(scope: Scope) -> tuple[Match, Scope]:
        if (scope["type"] == "http" and router._routes_version == version
                and not get_route_path(scope).startswith(prefixes)):
            return Match.NONE, {}
        return matches(scope)  # type: ignore[no-any-return]

    route.matches = gated
