"""Razorpay deliveries answered in front of Starlette's and FastAPI's layers.

A payment provider's webhook is the busiest request no person makes: Razorpay sends one per
payment, refund and subscription event, in bursts, and redelivers what was not answered in time.
Through the whole stack a delivery cost the API about 0.58 ms of CPU, and its own work (verify the
signature, store the event once, answer) was about a third of that. The rest was the framework's
layers: the error middlewares, the exit stack, the body-limit layer, routing among ~150 routes,
dependency solving for two headers, a `Request` and a `Response` (docs/performance.md, thirteenth
pass).

So the app takes a plain delivery itself, as it answers `/health`, but through the API's own
middleware, built for it in the same order as the stack's: the server span and HTTP metrics
(`api.telemetry`), the request id and access log line (`api.middleware`), the webhook rate limits
(`api.rate_limits`). Then it calls the function the route calls (`acknowledge_delivery`). An
error is answered by the app's own exception handlers, as the stack would answer it.

Anything else goes through the whole stack unchanged, and the route answers it: another method,
a query string, `Origin` (CORS), `Idempotency-Key`, a missing, repeated or over-long signature or
event id, a body of no declared length or declared over `MAX_WEBHOOK_BYTES`, a tenant id not written
as a UUID. The routes stay in the OpenAPI document. `tests/api/test_webhook_intake.py` checks that
both paths answer every case alike.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.routers.razorpay_webhooks import EVENT_ID_MAX, MAX_WEBHOOK_BYTES, SIGNATURE_MAX, acknowledge_delivery

PLATFORM_PATH = "/api/v1/webhooks/razorpay"
_TENANT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SKIPS_THE_STACK = {b"origin", b"idempotency-key"}  # CORS and replay: the stack's layers answer them
DELIVERY = "muhurta.webhook_delivery"  # scope key: the Delivery the intake took

ExceptionHandler = Callable[[Request, Any], Any]  # Starlette's: a Response, or an awaitable of one


@dataclass(frozen=True)
class RouteTemplate:
    """What `scope["route"]` names for metrics, spans and problem counters (`path_format`)."""

    path_format: str


PLATFORM_ROUTE = RouteTemplate(PLATFORM_PATH)
TENANT_ROUTE = RouteTemplate(PLATFORM_PATH + "/{tenant_id}")


@dataclass(frozen=True)
class Delivery:
    signature: str
    event_id: str | None
    tenant_id: uuid.UUID | None


def plain_delivery(scope: Scope) -> Delivery | None:
    """The delivery `scope` is, if the intake may answer it; None sends it through the stack."""
    if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(PLATFORM_PATH):
        return None
    rest = scope["path"][len(PLATFORM_PATH):]
    tenant_id = None
    if rest:
        if rest[0] != "/" or not _TENANT_ID.match(rest[1:]):
            return None
        tenant_id = uuid.UUID(rest[1:])
    if scope.get("query_string"):
        return None
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _SKIPS_THE_STACK or name in found:
            return None
        found[name] = value
    signature = found.get(b"x-razorpay-signature")
    event_id = found.get(b"x-razorpay-event-id")
    length = found.get(b"content-length", b"")  # a body sent in chunks, of no declared length: the stack's
    if not signature or len(signature) > SIGNATURE_MAX or (event_id is not None and len(event_id) > EVENT_ID_MAX):
        return None
    if not length.isdigit() or int(length) > MAX_WEBHOOK_BYTES:
        return None
    return Delivery(signature.decode("latin-1"), None if event_id is None else event_id.decode("latin-1"),
                    tenant_id)


class WebhookIntake:
    """Answers plain Razorpay deliveries through `layers` (outermost first), before the app's
    own middleware stack; see the module docstring."""

    def __init__(self, app: FastAPI, layers: Sequence[Callable[[ASGIApp], ASGIApp]]) -> None:
        self.app = app
        chain: ASGIApp = self._answer
        for layer in reversed(layers):
            chain = layer(chain)
        self._chain = chain

    async def take(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer `scope` if it is a plain delivery; False (nothing read, nothing sent) if not."""
        delivery = plain_delivery(scope)
        if delivery is None:
            return False
        scope["app"] = self.app
        scope["route"] = TENANT_ROUTE if delivery.tenant_id else PLATFORM_ROUTE
        scope[DELIVERY] = delivery
        await self._chain(scope, receive, send)
        return True

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        delivery: Delivery = scope[DELIVERY]
        body = await _body(receive)
        if body is None:
            return  # the client hung up
        client = scope.get("client")
        try:
            answer = await acknowledge_delivery(
                self.app.state, self.app.state.muhurta, body=body, signature=delivery.signature,
                event_id=delivery.event_id, tenant_id=delivery.tenant_id, ip=client[0] if client else None)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = handler(Request(scope, receive), exc)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})

    def _handler(self, exc: Exception) -> ExceptionHandler | None:
        """The app's handler for `exc`, found as Starlette finds it (the nearest class in its MRO)."""
        handlers: dict[Any, ExceptionHandler] = self.app.exception_handlers
        for kind in type(exc).__mro__:
            if kind in handlers:
                return handlers[kind]
        return None


async def _body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
