"""`GET /health` answered in front of the middleware stack.

`/health` says only that the process is up: load balancers and orchestrators call it every few
seconds, on every process. Answered by the full stack it cost more than twice what the framework
alone costs (a server span, an access log line, the request-id, rate-limit and idempotency
layers, routing, the dependency that refuses NUL characters): about 0.13 ms of CPU per probe on
a 2-core machine, for an answer that never changes. It also made liveness depend on every layer:
a bug in the rate limiter would have failed the probe and had the process restarted.

So the app answers a probe itself, before its middleware, with exactly what the route answers
(`{"status": "ok"}`, `X-Request-ID` echoed or made), still counted in the request metrics
(`muhurta_http_requests_total{route="/health"}` and the duration histogram), but kept out of the
access log and the traces, where probes would drown the requests people make. A request carrying
`Origin` (a browser) goes through the whole stack, so CORS answers it as before; so does any
other method, which gets the router's 405. The route itself stays in the OpenAPI document.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from api.middleware import request_id_of
from core.observability.metrics import HTTP_DURATION, HTTP_REQUESTS

if TYPE_CHECKING:
    from api.webhook_intake import WebhookIntake

LIVENESS_PATH = "/health"
_BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


def is_probe(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["path"] != LIVENESS_PATH or scope["method"] != "GET":
        return False
    return not any(name == b"origin" for name, _ in scope.get("headers", ()))


class MuhurtaAPI(FastAPI):
    """FastAPI, with liveness probes answered before the middleware (see the module docstring)
    and plain Razorpay deliveries taken by `webhook_intake` through the API's own layers only."""

    def __init__(self, *args: Any, count_probes: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.webhook_intake: WebhookIntake | None = None  # api.webhook_intake, set by create_app
        self._probe_count = HTTP_REQUESTS.labels("GET", LIVENESS_PATH, "2xx") if count_probes else None
        self._probe_duration = HTTP_DURATION.labels("GET", LIVENESS_PATH) if count_probes else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_probe(scope):
            if self.webhook_intake is None or not await self.webhook_intake.take(scope, receive, send):
                await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HEADERS, (b"x-request-id", request_id_of(scope).encode())]})
        await send({"type": "http.response.body", "body": _BODY})
        if self._probe_count is not None and self._probe_duration is not None:
            self._probe_count.inc()
            self._probe_duration.observe(time.perf_counter() - started)
