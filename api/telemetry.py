"""The API's telemetry: one pure-ASGI middleware (a server span and the request metrics) and the
`/metrics` endpoint.

The middleware is the outermost layer, so the access log, problem+json answers and the workflows a
request starts all run inside its span. It costs one span (not recorded unless traces are
exported) and three metric updates per request; labels are the route *template*
(`/api/v1/bookings/{booking_id}`), never the raw path, so the series stay bounded.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import NOT_FOUND, problem_response
from core.observability.metrics import HTTP_DURATION, HTTP_IN_FLIGHT, HTTP_REQUESTS, status_class
from core.observability.multiprocess import scrape_registry
from core.observability.tracing import TRACER_NAME
from core.settings import Settings

UNMATCHED = "unmatched"  # any path no route answers (scanners, typos): one series, not one per path
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's full template (`/api/v1/bookings/{booking_id}`), or UNMATCHED.

    FastAPI >= 0.16x keeps the included router's own APIRoute in `scope["route"]` (its path lacks
    the `/api/v1` prefix) and the full template in its effective route context; older versions
    put a prefixed copy of the route there."""
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(effective, "path_format", None)
    if not template:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else UNMATCHED


def _headers_getter(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())
            if k in (b"traceparent", b"tracestate", b"baggage")}


class TelemetryMiddleware:
    """A SERVER span per request (continuing the caller's `traceparent`) and the HTTP metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tracer = trace.get_tracer(TRACER_NAME)
        self._children: dict[tuple[str, str, str], Any] = {}
        self._durations: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        parent = extract(_headers_getter(scope)) if any(
            k == b"traceparent" for k, _ in scope.get("headers", ())) else None
        span = self.tracer.start_span(method, context=parent, kind=SpanKind.SERVER)
        token = otel_context.attach(trace.set_span_in_context(span))
        status = 500
        started = time.perf_counter()
        HTTP_IN_FLIGHT.inc()

        ids = span.get_span_context()
        # W3C `traceresponse`: the caller learns the trace id to quote or look up (Jaeger, logs)
        traceresponse = f"00-{ids.trace_id:032x}-{ids.span_id:016x}-{ids.trace_flags:02x}".encode()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"traceresponse", traceresponse)]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            HTTP_IN_FLIGHT.dec()
            route = route_template(scope)
            self._count(method if method in METHODS else "OTHER", route, status, elapsed)
            if span.is_recording():
                span.update_name(f"{method} {route}")
                span.set_attributes({"http.request.method": method, "http.route": route,
                                     "http.response.status_code": status})
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            span.end()
            otel_context.detach(token)

    def _count(self, method: str, route: str, status: int, elapsed: float) -> None:
        # prometheus-client's .labels() takes a lock and builds a key each call: keep the children
        key = (method, route, status_class(status))
        counter = self._children.get(key)
        if counter is None:
            counter = self._children[key] = HTTP_REQUESTS.labels(*key)
        counter.inc()
        timing_key = (method, route)
        histogram = self._durations.get(timing_key)
        if histogram is None:
            histogram = self._durations[timing_key] = HTTP_DURATION.labels(*timing_key)
        histogram.observe(elapsed)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """`/metrics` is not public: the bearer METRICS_TOKEN when one is set, else loopback callers
    that did not come through a proxy (a proxied request names its real client in a header)."""
    if settings.metrics_token is not None:
        given = request.headers.get("authorization", "")
        expected = "Bearer " + settings.metrics_token.get_secret_value()
        return hmac.compare_digest(given.encode(), expected.encode())
    forwarded = any(h in request.headers for h in ("x-forwarded-for", "forwarded", "x-real-ip"))
    return not forwarded and _loopback(request.client.host if request.client else None)


def metrics_response(request: Request, settings: Settings) -> Response:
    if not metrics_allowed(request, settings):
        return problem_response(NOT_FOUND, request=request)
    return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)
