"""api.dependency_plan: each route's dependency tree walks a cached dependency once per request,
and every endpoint receives what it received before."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Security
from fastapi.dependencies.models import Dependant
from httpx import ASGITransport, AsyncClient

from api.app import create_app, warm_routes
from api.dependency_plan import prune_repeated_dependencies, prune_tree
from api.route_index import handled_routes
from core.settings import Settings


def _nodes(root: Dependant) -> list[Dependant]:
    found, pending = [], list(root.dependencies)
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(node.dependencies)
    return found


def _route(app: FastAPI, path: str, method: str) -> Any:
    found = [route for route in handled_routes(app)
             if getattr(route, "path", None) == path and method in getattr(route, "methods", ())]
    assert len(found) == 1, f"no route {method} {path}"
    return found[0]


def test_the_chart_route_walks_each_dependency_once(settings: Settings) -> None:
    app = create_app(settings)
    cut = warm_routes(app)
    assert cut > 100  # most of the API's routes share the request context
    route = _route(app, "/api/v1/astrology/chart", "POST")
    nodes = _nodes(route.dependant)
    with_children = [node.call for node in nodes if node.dependencies]
    assert len(with_children) == len(set(with_children)), "a subtree is walked twice"
    walked_before = _nodes(_route(create_app(settings), "/api/v1/astrology/chart", "POST").dependant)
    assert len(nodes) < len(walked_before)
    assert {node.call for node in nodes} == {node.call for node in walked_before}  # nothing lost
    assert prune_repeated_dependencies(app) == 0  # a second pass finds nothing left to cut
    assert app.openapi() == create_app(settings).openapi()  # every parameter still documented


# Module level: FastAPI reads these annotations (strings, with `from __future__ import
# annotations`) from the module's globals.
CALLS: list[str] = []


async def _context(request: Request) -> dict[str, str]:
    CALLS.append("context")
    return {"who": request.headers.get("x-who", "nobody")}


async def _session(ctx: Annotated[dict[str, str], Depends(_context)]) -> str:
    return "session of " + ctx["who"]


async def _tenant(ctx: Annotated[dict[str, str], Depends(_context)], s: Annotated[str, Depends(_session)]) -> str:
    return f"tenant of {ctx['who']} ({s})"


async def _thing(t: Annotated[str, Depends(_tenant)], s: Annotated[str, Depends(_session)],
                 ctx: Annotated[dict[str, str], Depends(_context)]) -> dict[str, str]:
    return {"tenant": t, "session": s, "who": ctx["who"]}


async def _principal() -> str:
    return "someone"


async def _reader(p: Annotated[str, Security(_principal, scopes=["read"])]) -> str:
    return p


async def _scoped(a: Annotated[str, Depends(_reader)], b: Annotated[str, Depends(_reader)]) -> str:
    return a + b


async def test_a_shared_dependency_runs_once_and_every_endpoint_gets_the_same() -> None:
    app = FastAPI()
    app.get("/thing")(_thing)

    async def answer() -> dict[str, Any]:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            response = await http.get("/thing", headers={"x-who": "asha"})
        return {"status": response.status_code, "body": response.json()}

    CALLS.clear()
    before = await answer()
    assert before == {"status": 200, "body": {"tenant": "tenant of asha (session of asha)",
                                              "session": "session of asha", "who": "asha"}}
    assert CALLS == ["context"]
    assert prune_repeated_dependencies(app) == 1  # the second session: its context is not walked again
    CALLS.clear()
    assert await answer() == before
    assert CALLS == ["context"]


def test_dependencies_with_security_scopes_are_left_alone() -> None:
    """Scopes are part of FastAPI's cache key: a repeat under other scopes is another entry."""
    app = FastAPI()
    app.get("/scoped")(_scoped)
    assert prune_tree(_route(app, "/scoped", "GET").dependant) == 0


def test_a_tree_sharing_a_node_object_is_left_alone() -> None:
    leaf = Dependant(call=lambda: None, name="leaf")
    middle = Dependant(call=lambda: None, name="middle", dependencies=[leaf])
    root = Dependant(call=lambda: None, dependencies=[middle, middle])
    assert prune_tree(root) == 0
    assert root.dependencies == [middle, middle]
