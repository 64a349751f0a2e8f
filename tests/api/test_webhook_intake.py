"""A Razorpay delivery is answered alike by the intake in front of the framework
(api/webhook_intake.py) and by the whole stack: the same status, headers and body, the same row
stored once, the same audit, log line, metrics and rate limits. Every request the intake must
leave alone goes through the stack and gets the route's answer.

Each case is sent to two apps over the same database: the API as it runs, and the same API with
its intake taken out (the stack alone)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select
from support import active_consultancy, assert_problem

from api.app import create_app
from api.liveness import MuhurtaAPI
from api.routers.razorpay_webhooks import MAX_WEBHOOK_BYTES
from api.state import AppState
from api.webhook_intake import WebhookIntake
from core.db import TenantScope, scoped_session
from core.observability.metrics import HTTP_DURATION, HTTP_REQUESTS, WEBHOOKS_REJECTED
from core.razorpay import platform_credentials, sign
from models.payments import GatewayWebhookEvent
from models.platform import AuditEvent

WEBHOOK = "/api/v1/webhooks/razorpay"


class Counted(WebhookIntake):
    """The API's intake, counting the requests it took (the stack answered the rest)."""

    taken = 0

    async def take(self, scope: Any, receive: Any, send: Any) -> bool:
        took = await super().take(scope, receive, send)
        type(self).taken += took
        return took


def _counted(app: MuhurtaAPI) -> MuhurtaAPI:
    assert app.webhook_intake is not None
    app.webhook_intake.__class__ = Counted
    return app


async def _closed(*apps: MuhurtaAPI) -> None:
    for app in apps:  # what the app's lifespan closes (the test transport runs no lifespan)
        for name in ("webhook_inserter", "webhook_processor"):
            made = getattr(app.state, name, None)
            if made is not None:
                await made.close()


@pytest.fixture
async def both(app_state: AppState, clean: None) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    """(the API as it runs, the same API without its intake)."""
    api, stack = _counted(create_app(state=app_state)), create_app(state=app_state)
    stack.webhook_intake = None
    async with AsyncClient(transport=ASGITransport(app=api, client=("203.0.113.41", 5000)),
                           base_url="http://testserver") as first, \
            AsyncClient(transport=ASGITransport(app=stack, client=("203.0.113.41", 5000)),
                        base_url="http://testserver") as second:
        yield first, second
    await _closed(api, stack)


def _secret(app_state: AppState) -> str:
    credentials = platform_credentials(app_state.settings)
    assert credentials is not None and credentials.webhook_secret
    return credentials.webhook_secret


def _delivery(secret: str, event_id: str, **extra: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"entity": "event", "event": "payment.failed", "id": event_id, "payload": {}}).encode()
    return body, {"Content-Type": "application/json", "X-Razorpay-Signature": sign(secret, body),
                  "X-Razorpay-Event-Id": event_id, "X-Request-ID": "req-" + event_id, **extra}


async def _chunks(body: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _answer(response: Response) -> tuple[int, str, dict[str, Any], str]:
    """What a caller sees, less the trace id (one per request), which must match its header."""
    body = response.json()
    trace = response.headers["traceresponse"].split("-")[1]
    assert body.pop("trace_id", trace) == trace
    return response.status_code, response.headers["content-type"], body, response.headers["x-request-id"]


async def _stored(sessionmaker, event_id: str) -> int:  # type: ignore[no-untyped-def]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return int((await session.execute(select(func.count()).where(
            GatewayWebhookEvent.event_id == event_id))).scalar_one())


async def _rejections(sessionmaker) -> int:  # type: ignore[no-untyped-def]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return int((await session.execute(select(func.count()).where(
            AuditEvent.action == "payment.webhook_rejected"))).scalar_one())


async def test_a_delivery_is_answered_and_stored_once_whichever_path_took_it(both, app_state, sessionmaker, caplog):
    api, stack = both
    secret, taken = _secret(app_state), Counted.taken
    first, second = (f"evt_intake{uuid.uuid4().hex[:12]}" for _ in range(2))
    count = HTTP_REQUESTS.labels("POST", WEBHOOK, "2xx")
    timed = HTTP_DURATION.labels("POST", WEBHOOK)
    counted, observed = count._value.get(), sum(b.get() for b in timed._buckets)
    one, other = _delivery(secret, first), _delivery(secret, second)
    with caplog.at_level(logging.INFO, logger="muhurta.access"):
        new_here = await api.post(WEBHOOK, content=one[0], headers=one[1])
        again_there = await stack.post(WEBHOOK, content=one[0], headers=one[1])
        new_there = await stack.post(WEBHOOK, content=other[0], headers=other[1])
        again_here = await api.post(WEBHOOK, content=other[0], headers=other[1])
    assert Counted.taken == taken + 2  # the intake took the API's two, the stack answered the others
    assert new_here.status_code == 200 and new_here.headers["content-type"] == "application/json"
    assert new_here.json() == new_there.json() | {"event_id": first} == {
        "received": True, "duplicate": False, "event_id": first}
    assert again_here.json() == again_there.json() | {"event_id": second} == {
        "received": True, "duplicate": True, "event_id": second}
    for response, event_id in ((new_here, first), (again_here, second)):
        assert response.headers["x-request-id"] == "req-" + event_id
        assert len(response.headers["traceresponse"].split("-")[1]) == 32
    assert await _stored(sessionmaker, first) == await _stored(sessionmaker, second) == 1
    assert count._value.get() == counted + 4  # under the route's template, whichever path answered
    assert sum(b.get() for b in timed._buckets) == observed + 4
    logged = [r.getMessage() for r in caplog.records if r.name == "muhurta.access"]
    assert logged.count(f"POST {WEBHOOK} -> 200") == 4


async def test_errors_are_the_stacks_answers(both, app_state, sessionmaker):
    api, stack = both
    secret, taken = _secret(app_state), Counted.taken
    event_id = f"evt_forged{uuid.uuid4().hex[:12]}"
    body, headers = _delivery(secret, event_id)
    forged = {**headers, "X-Razorpay-Signature": sign("not-the-secret", body)}
    rejected = WEBHOOKS_REJECTED.labels("razorpay", "signature")
    rejections, audited = rejected._value.get(), await _rejections(sessionmaker)
    here, there = await api.post(WEBHOOK, content=body, headers=forged), await stack.post(
        WEBHOOK, content=body, headers=forged)
    assert_problem(here, 400, "webhook-signature-invalid", "X-Razorpay-Signature")
    assert _answer(here) == _answer(there)
    assert rejected._value.get() == rejections + 2 and await _rejections(sessionmaker) == audited + 2
    assert await _stored(sessionmaker, event_id) == 0

    other = await active_consultancy(api, sessionmaker)  # uses the platform's account: it has no webhooks
    to_tenant = f"{WEBHOOK}/{other.tenant_id}"
    here, there = await api.post(to_tenant, content=body, headers=headers), await stack.post(
        to_tenant, content=body, headers=headers)
    assert_problem(here, 404, "not-found", "tenant_id")
    assert _answer(here) == _answer(there)

    nul = json.dumps({"event": "payment.failed", "note": "\x00"}).replace("\\u0000", "\x00").encode()
    nul_headers = {**headers, "X-Razorpay-Signature": sign(secret, nul)}  # signed, but text cannot hold it
    here, there = await api.post(WEBHOOK, content=nul, headers=nul_headers), await stack.post(
        WEBHOOK, content=nul, headers=nul_headers)
    assert here.status_code >= 500 and _answer(here) == _answer(there)
    assert Counted.taken == taken + 3


@pytest.mark.parametrize("case", [
    "no signature", "signature too long", "event id too long", "body too large", "tenant id not a uuid",
    "query string", "idempotency key", "browser origin", "signature twice", "body in chunks",
    "body in chunks over the limit",
])
async def test_what_the_intake_leaves_alone_gets_the_routes_answer(both, app_state, case):
    api, stack = both
    secret, taken = _secret(app_state), Counted.taken
    event_id = f"evt_alone{uuid.uuid4().hex[:12]}"
    body, headers = _delivery(secret, event_id)
    path, extra_headers = WEBHOOK, list(headers.items())
    if case == "no signature":
        extra_headers = [(k, v) for k, v in extra_headers if k != "X-Razorpay-Signature"]
    elif case == "signature too long":
        extra_headers.append(("X-Razorpay-Signature", "f" * 201))
        extra_headers = [(k, v) for k, v in extra_headers if k != "X-Razorpay-Signature" or len(v) > 200]
    elif case == "event id too long":
        extra_headers = [(k, "e" * 101 if k == "X-Razorpay-Event-Id" else v) for k, v in extra_headers]
    elif case == "body too large":
        body = b" " * (MAX_WEBHOOK_BYTES + 1)
    elif case == "tenant id not a uuid":
        path = f"{WEBHOOK}/{uuid.uuid4().hex}"  # no dashes: FastAPI reads it; the intake takes only the usual form
    elif case == "query string":
        path = f"{WEBHOOK}?source=razorpay"
    elif case == "idempotency key":
        extra_headers.append(("Idempotency-Key", "key-" + event_id))
    elif case == "browser origin":
        extra_headers.append(("Origin", "https://example.org"))
    elif case == "signature twice":
        extra_headers.append(("X-Razorpay-Signature", "0" * 64))
    elif case == "body in chunks over the limit":
        body = b" " * (MAX_WEBHOOK_BYTES + 1)

    def content() -> Any:  # a body of no declared length is sent in chunks (Transfer-Encoding)
        return _chunks(body) if case.startswith("body in chunks") else body

    here = await api.post(path, content=content(), headers=extra_headers)
    there = await stack.post(path, content=content(), headers=extra_headers)
    assert Counted.taken == taken, "the intake took a request it must leave to the stack"
    assert here.status_code == there.status_code
    assert here.headers["content-type"] == there.headers["content-type"]
    if here.status_code == 200:  # the route answered it; the stack saw the first as stored
        assert here.json() == {"received": True, "duplicate": False, "event_id": here.json()["event_id"]}
        assert there.json()["duplicate"] is True or case == "idempotency key"
    else:
        assert _answer(here) == _answer(there)
    if case.endswith("over the limit") or case == "body too large":  # in chunks: held to it as it arrives
        assert_problem(here, 413, "payload-too-large", "body")
    if case == "idempotency key":
        replay = await api.post(path, content=body, headers=extra_headers)
        assert replay.headers.get("idempotent-replayed") == "true" and replay.json() == here.json()
    if case == "browser origin":
        assert "access-control-allow-origin" in here.headers or not app_state.settings.cors_origins


async def test_the_intake_keeps_the_webhook_rate_limit(app_state, clean):
    limited = app_state.settings.model_copy(update={"rate_limit_webhook_per_ip": 2})
    app = create_app(state=app_state, settings=limited)
    assert app.webhook_intake is not None
    secret = _secret(app_state)
    address = f"198.51.100.{uuid.uuid4().int % 200 + 20}"
    try:
        async with AsyncClient(transport=ASGITransport(app=app, client=(address, 5000)),
                               base_url="http://testserver") as http:
            answers = []
            for _ in range(3):
                body, headers = _delivery(secret, f"evt_limit{uuid.uuid4().hex[:12]}")
                answers.append(await http.post(WEBHOOK, content=body, headers=headers))
    finally:
        await _closed(app)
    assert [a.status_code for a in answers] == [200, 200, 429]
    problem = assert_problem(answers[2], 429, "rate-limited")
    assert "from your address" in problem["detail"] and answers[2].headers["retry-after"]
