"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp

from api.dependency_plan import prune_repeated_dependencies
from api.input_guard import refuse_nul_characters
from api.liveness import MuhurtaAPI
from api.middleware import IdempotencyMiddleware, ProblemCORSMiddleware, RequestIdMiddleware
from api.problems import install_problem_handlers
from api.rate_limits import RateLimitMiddleware
from api.route_index import gate_included_routers
from api.routers import (
    admin,
    analytics,
    astrology,
    astrology_content,
    auth,
    bookings,
    checkout,
    clients,
    consultants,
    course_cohorts,
    course_discussions,
    course_enrollments,
    course_lessons,
    course_public,
    courses,
    files,
    health,
    me,
    memberships,
    my_memberships,
    notifications,
    offerings,
    payments,
    platform_admin,
    privacy,
    public,
    quotation_links,
    quotations,
    razorpay_webhooks,
    records,
    remedies,
    remedy_programmes,
    reports,
    support,
    team,
    tenant,
    webhooks,
)
from api.state import AppState
from api.telemetry import TelemetryMiddleware, metrics_response
from api.tenant_directory import DIRECTORY
from api.webhook_intake import WebhookIntake
from core.db import pool_cap
from core.observability.multiprocess import process_exiting
from core.settings import Settings, get_settings

API_PREFIX = "/api/v1"

DESCRIPTION = """
Muhurta's REST API for web and mobile frontends.

* Name the consultancy with the `X-Tenant` header (its slug), its subdomain or a custom domain.
* Authenticate with `Authorization: Bearer <access token>` from `POST /api/v1/auth/login`.
* Errors are `application/problem+json` with a stable `type` (documented at that path).
* Every POST accepts an `Idempotency-Key` header: repeats within 24 hours return the first
  answer and do nothing again.
* Lists are cursor-paginated: `?limit=&cursor=&sort=`; follow `next_cursor`.
"""


def freeze_startup_heap() -> None:
    """Move everything loaded at start-up (modules, gazetteers, pools) out of the garbage
    collector's sight: a full collection then scans only what requests create, instead of
    pausing ~100 ms over objects that live as long as the process (bench/slots_bench.py)."""
    gc.collect()
    gc.freeze()


def warm_routes(app: FastAPI) -> int:
    """Build FastAPI's per-route state (signatures, dependency trees, the effective routes of
    each included router) now rather than on the first request to each router: built lazily, it
    took a sixth of the API's time during a burst of bookings on a freshly started server
    (docs/performance.md). Only FastAPI's own lazily-built caches are touched; nothing if this
    FastAPI version builds them otherwise. The walk that builds them (`handled_routes`) is the
    one that cuts each tree's repeated dependencies (`api.dependency_plan`); returns how many."""
    return prune_repeated_dependencies(app)


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """Build the app. Tests pass a ready `state`; otherwise it is built at start-up."""
    settings = settings or (state.settings if state else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = state is None
        app.state.muhurta = state or await AppState.build(settings)
        warm_routes(app)
        if owned:
            await app.state.muhurta.open_connections(pool_cap(settings.database_pool_size))
            if settings.tenant_directory:
                DIRECTORY.start(settings.database_url)
        freeze_startup_heap()
        try:
            yield
        finally:
            inserter = getattr(app.state, "webhook_inserter", None)
            if inserter is not None:  # deliveries being stored are answered before the pool closes
                await inserter.close()
            processor = getattr(app.state, "webhook_processor", None)
            if processor is not None:  # stored webhook events left in its queue go to the relay
                await processor.close()
            if owned:
                await DIRECTORY.stop()
                await app.state.muhurta.close()
                process_exiting()

    app = MuhurtaAPI(title="Muhurta API", version="1.0", description=DESCRIPTION, lifespan=lifespan,
                     docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
                     dependencies=[Depends(refuse_nul_characters)],
                     # FastAPI's own telemetry would add a second server span, one span per dependency,
                     # endpoint and serialization, and its own metrics, beside api/telemetry.py's
                     # (which the docs, dashboards and alerts use): a third of /health's time.
                     telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
                     count_probes=settings.telemetry_enabled)
    if state is not None:
        app.state.muhurta = state
    install_problem_handlers(app)
    app.add_middleware(IdempotencyMiddleware, state_getter=lambda: app.state.muhurta)
    app.add_middleware(RateLimitMiddleware, state_getter=lambda: app.state.muhurta, settings=settings)
    if settings.cors_origins:
        app.add_middleware(ProblemCORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"], expose_headers=["X-Request-ID", "traceresponse"])
    app.add_middleware(RequestIdMiddleware)
    if settings.telemetry_enabled:
        install_telemetry(app, settings)
    app.webhook_intake = WebhookIntake(app, own_layers(app, settings))

    app.include_router(health.router)
    for module in (auth, me, tenant, clients, records, astrology, astrology_content, files, reports, consultants,
                   offerings, bookings, public, payments, notifications, webhooks, admin, quotations, quotation_links,
                   platform_admin, team, support, courses, course_cohorts, course_enrollments, course_lessons,
                   course_discussions, course_public, privacy, analytics):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(remedies.router, prefix=API_PREFIX)
    app.include_router(remedy_programmes.router, prefix=API_PREFIX)
    app.include_router(remedy_programmes.links, prefix=API_PREFIX)
    app.include_router(checkout.router, prefix=API_PREFIX)
    app.include_router(razorpay_webhooks.router, prefix=API_PREFIX)
    app.include_router(memberships.router, prefix=API_PREFIX)
    app.include_router(my_memberships.router, prefix=API_PREFIX)
    declare_idempotency_key(app)
    gate_included_routers(app)
    return app


def own_layers(app: FastAPI, settings: Settings) -> list[Callable[[ASGIApp], ASGIApp]]:
    """The API's own middleware a plain webhook delivery goes through (api.webhook_intake), in the
    stack's order: telemetry, request id and access log, rate limits. CORS and idempotency are
    left out because the intake takes no request with `Origin` or `Idempotency-Key`."""
    layers: list[Callable[[ASGIApp], ASGIApp]] = [TelemetryMiddleware] if settings.telemetry_enabled else []
    layers.append(RequestIdMiddleware)
    layers.append(partial(RateLimitMiddleware, state_getter=lambda: app.state.muhurta, settings=settings))
    return layers


def install_telemetry(app: FastAPI, settings: Settings) -> None:
    """Traces and metrics (docs/observability.md): the outermost middleware, and /metrics kept out
    of the OpenAPI document (it is for Prometheus, not for frontends)."""
    from core.observability.tracing import setup_tracing

    setup_tracing(settings, "muhurta-api")
    app.add_middleware(TelemetryMiddleware)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return metrics_response(request, settings)


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Any unique string (a UUID): a repeat of this POST within 24 hours returns the first answer "
                   "(`Idempotent-Replayed: true`) and does nothing again.",
}


def declare_idempotency_key(app: FastAPI) -> None:
    """Every POST honours Idempotency-Key (IdempotencyMiddleware); say so in each operation of
    the OpenAPI document, where generated clients and people reading /docs look for it."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for item in schema.get("paths", {}).values():
                post = item.get("post")
                if post is None:
                    continue
                parameters = post.setdefault("parameters", [])
                if not any(p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key"
                           for p in parameters):
                    parameters.append(IDEMPOTENCY_KEY_PARAMETER)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
