"""Each route's dependency tree with its repeats cut: a dependency solved once per request is
walked once per request.

FastAPI solves a dependency's whole subtree before it looks the dependency up in the request's
cache. Our routes share a few dependencies (the request context under the tenant, the scoped
session and the permission check; the session under the context and the scoped session), so a
chart request walked 23 nodes of which 9 were distinct, each walk costing a recursive call, four
parameter extractions and a cache key (docs/performance.md, eleventh pass).

Every occurrence of a cached dependency after its first in solving order (depth first, a node
after its children, as `fastapi.dependencies.utils.solve_dependencies` goes) is replaced by a
copy without children or parameters: FastAPI then finds it in the cache, as it did before, and
nothing under it is walked again. What each endpoint receives is unchanged.

A repeat is cut only when FastAPI's own cache would have answered it: `use_cache` set, no
security scopes anywhere under it (scopes are part of FastAPI's cache key), and the same
computed scope ("function" or "request"). A tree in which one node object appears twice, or
that FastAPI built some other way, is left as it is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant, _get_computed_scope, _uses_scopes

from api.route_index import handled_routes

CacheKey = tuple[Any, str]


def _key(node: Dependant) -> CacheKey | None:
    """FastAPI's cache key for `node` when FastAPI caches it without scopes; else None."""
    if not node.use_cache or node.call is None or _uses_scopes(dependant=node):
        return None
    return node.call, _get_computed_scope(dependant=node) or ""


def _bare(node: Dependant) -> Dependant:
    """`node` as FastAPI needs it when the answer is already in the request's cache."""
    return dataclasses.replace(node, path_params=[], query_params=[], header_params=[], cookie_params=[],
                               body_params=[], dependencies=[], request_param_name=None,
                               websocket_param_name=None, http_connection_param_name=None,
                               response_param_name=None, background_tasks_param_name=None,
                               security_scopes_param_name=None)


def _shared_nodes(root: Dependant) -> bool:
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        pending.extend(node.dependencies)
    return False


def prune_tree(root: Dependant) -> int:
    """Cut the repeats under `root` in place; returns how many were cut."""
    if _shared_nodes(root):
        return 0
    solved: set[CacheKey] = set()

    def walk(node: Dependant) -> int:
        cut = 0
        for index, child in enumerate(node.dependencies):
            key = _key(child)
            if key is not None and key in solved:
                if child.dependencies or child.body_params:
                    node.dependencies[index] = _bare(child)
                    cut += 1
                continue
            cut += walk(child)
            if key is not None:
                solved.add(key)
        return cut

    return walk(root)


def prune_repeated_dependencies(app: FastAPI) -> int:
    """Cut the repeats of every route that answers requests, building the included routers'
    effective routes on the way (`api.app.warm_routes` calls it); returns how many were cut."""
    cut = 0
    for route in handled_routes(app):
        dependant = getattr(route, "dependant", None)
        if isinstance(dependant, Dependant):
            cut += prune_tree(dependant)
    return cut
