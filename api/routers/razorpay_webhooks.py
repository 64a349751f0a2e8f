"""Razorpay's webhooks, for the platform's account and for a consultancy's own: verified, stored
once and answered at once; the order's workflow is signalled after the answer
(`api/services/payment_events.py`, docs/payments.md).

No sign-in: the signature over the raw body is the proof. One group-committing inserter and one
event processor per API process, made on first use and closed with the app (`api/app.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.datastructures import State as StarletteState

from api.deps import State
from api.problems import (
    PAYLOAD_TOO_LARGE,
    Problem,
)
from api.schemas.payments import (
    WebhookAck,
)
from api.services.payment_events import EventInserter, EventProcessor, WebhookSecrets, ingest_webhook
from api.state import AppState

router = APIRouter(tags=["payments"])

MAX_WEBHOOK_BYTES = 1_000_000
TOO_LARGE = f"a Razorpay event is at most {MAX_WEBHOOK_BYTES:,} bytes"
T = TypeVar("T")


def _per_process(holder: StarletteState, name: str, make: Callable[[], T]) -> T:
    """The API process's one `name` (app.state), made on first use; api/app.py closes them."""
    found: T | None = getattr(holder, name, None)
    if found is None:
        found = make()
        setattr(holder, name, found)
    return found


async def acknowledge_delivery(holder: StarletteState, state: AppState, *, body: bytes, signature: str,
                               event_id: str | None, tenant_id: uuid.UUID | None, ip: str | None) -> bytes:
    """Verify and store one delivery; the JSON answer (`WebhookAck`). Raises `Problem` as the
    route answers it. Shared by the route and the intake in front of the middleware
    (`api.webhook_intake`), which answer the same delivery the same way."""
    secrets = _per_process(holder, "webhook_secrets", lambda: WebhookSecrets(state.settings, state.keys))
    inserter = _per_process(holder, "webhook_inserter", lambda: EventInserter(state.sessionmaker))
    ingested = await ingest_webhook(state.sessionmaker, secrets, body=body, signature=signature, event_id=event_id,
                                    tenant_id=tenant_id, ip=ip, inserter=inserter)
    if ingested.row_id is not None and ingested.outcome is None:  # acted on after the answer
        processor = _per_process(holder, "webhook_processor",
                                 lambda: EventProcessor(state.sessionmaker, state.temporal))
        processor.submit(ingested.row_id)
    ack = WebhookAck(received=True, duplicate=ingested.row_id is None, event_id=ingested.event_id)
    return ack.model_dump_json().encode()


async def _receive(request: Request, state: AppState, signature: str, event_id: str | None,
                   tenant_id: uuid.UUID | None) -> Response:
    if int(request.headers.get("content-length") or 0) > MAX_WEBHOOK_BYTES:
        raise Problem(PAYLOAD_TOO_LARGE, TOO_LARGE, field="body")
    body = bytearray()
    async for chunk in request.stream():  # a body sent without its length is held to the limit too
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            raise Problem(PAYLOAD_TOO_LARGE, TOO_LARGE, field="body")
    answer = await acknowledge_delivery(request.app.state, state, body=bytes(body), signature=signature,
                                        event_id=event_id, tenant_id=tenant_id,
                                        ip=request.client.host if request.client else None)
    return Response(answer, media_type="application/json")


SIGNATURE_MAX = 200
EVENT_ID_MAX = 100
Signature = Annotated[str, Header(alias="X-Razorpay-Signature", min_length=1, max_length=SIGNATURE_MAX)]
EventId = Annotated[str | None, Header(alias="X-Razorpay-Event-Id", max_length=EVENT_ID_MAX)]


@router.post("/webhooks/razorpay", response_model=WebhookAck)
async def razorpay_webhook(
    request: Request, state: State, signature: Signature, event_id: EventId = None,
) -> Response:
    """Events of the platform's Razorpay account. Answers 200 once the event is verified and stored
    (a redelivery: `duplicate: true`); the order's workflow is signalled after the answer."""
    return await _receive(request, state, signature, event_id, None)


@router.post("/webhooks/razorpay/{tenant_id}", response_model=WebhookAck)
async def razorpay_tenant_webhook(
    tenant_id: uuid.UUID, request: Request, state: State, signature: Signature, event_id: EventId = None,
) -> Response:
    """Events of a consultancy's own Razorpay account (verified with its webhook secret)."""
    return await _receive(request, state, signature, event_id, tenant_id)
