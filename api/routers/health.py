"""/health (the process is up) and /ready (PostgreSQL, Redis and Temporal answer)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import State
from api.problems import NOT_FOUND, PROBLEM_TYPES, Problem

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, probe: Any) -> tuple[str, str]:
    """"up", or "down" with the kind of failure; the whole message (which can name hosts) goes
    to the log only, since /ready answers anyone."""
    try:
        await asyncio.wait_for(probe, timeout=3)
    except Exception as exc:  # any failure means "not ready"
        log.warning("readiness: %s is down: %s: %s", name, type(exc).__name__, exc)
        return name, f"down: {type(exc).__name__}"
    return name, "up"


@router.get("/ready")
async def ready(state: State) -> JSONResponse:
    async def postgres() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        await state.redis.ping()

    async def temporal() -> None:
        if state.temporal is None:
            raise ConnectionError("not connected")
        await state.temporal.service_client.check_health()

    results = dict(await asyncio.gather(
        _check("postgres", postgres()), _check("redis", redis()), _check("temporal", temporal())))
    ok = all(v == "up" for v in results.values())
    return JSONResponse({"status": "ready" if ok else "not ready", "checks": results},
                        status_code=200 if ok else 503)


@router.get("/problems", include_in_schema=False)
async def problem_types() -> list[dict[str, Any]]:
    return [{"type": f"/problems/{p.slug}", "status": p.status, "title": p.title,
             "description": p.description} for p in PROBLEM_TYPES.values()]


@router.get("/problems/{slug}", include_in_schema=False)
async def problem_type_doc(slug: str) -> JSONResponse:
    entry = PROBLEM_TYPES.get(slug)
    if entry is None:
        raise Problem(NOT_FOUND, f"no problem type is called '{slug}'; GET /problems lists them all", field="slug")
    return JSONResponse({"type": f"/problems/{entry.slug}", "status": entry.status,
                         "title": entry.title, "description": entry.description})
