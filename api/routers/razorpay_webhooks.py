"""Razorpay's webhooks, for the platform's account and for a consultancy's own: verified, stored
once and answered at once; the order's workflow is signalled after the answer
(`api/services/payment_events.py`, docs/payments.md).

No sign-in: the signature over the raw body is the proof. One group-committing inserter and one
event processor per API process, made on first use and closed with the app (`api/app.py`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from api.deps import State
from api.problems import (
    VALIDATION,
    Problem,
)
from api.schemas.payments import (
    WebhookAck,
)
from api.services.payment_events import EventInserter, EventProcessor, WebhookSecrets, ingest_webhook

router = APIRouter(tags=["payments"])

MAX_WEBHOOK_BYTES = 1_000_000


def _secrets(request: Request, state: State) -> WebhookSecrets:
    secrets: WebhookSecrets | None = getattr(request.app.state, "webhook_secrets", None)
    if secrets is None:
        secrets = WebhookSecrets(state.settings, state.keys)
        request.app.state.webhook_secrets = secrets
    return secrets


def _processor(request: Request, state: State) -> EventProcessor:
    processor: EventProcessor | None = getattr(request.app.state, "webhook_processor", None)
    if processor is None:
        processor = EventProcessor(state.sessionmaker, state.temporal)
        request.app.state.webhook_processor = processor
    return processor


def _inserter(request: Request, state: State) -> EventInserter:
    inserter: EventInserter | None = getattr(request.app.state, "webhook_inserter", None)
    if inserter is None:
        inserter = EventInserter(state.sessionmaker)
        request.app.state.webhook_inserter = inserter
    return inserter


async def _receive(request: Request, state: State, signature: str, event_id: str | None,
                   tenant_id: uuid.UUID | None) -> Response:
    if int(request.headers.get("content-length") or 0) > MAX_WEBHOOK_BYTES:
        raise Problem(VALIDATION, "the body is too large for a Razorpay event", field="body")
    body = await request.body()
    ingested = await ingest_webhook(state.sessionmaker, _secrets(request, state), body=body, signature=signature,
                                    event_id=event_id, tenant_id=tenant_id,
                                    ip=request.client.host if request.client else None,
                                    inserter=_inserter(request, state))
    if ingested.row_id is not None:
        _processor(request, state).submit(ingested.row_id)  # acted on after the answer
    ack = WebhookAck(received=True, duplicate=ingested.row_id is None, event_id=ingested.event_id)
    return Response(ack.model_dump_json(), media_type="application/json")


Signature = Annotated[str, Header(alias="X-Razorpay-Signature", min_length=1, max_length=200)]
EventId = Annotated[str | None, Header(alias="X-Razorpay-Event-Id", max_length=100)]


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
