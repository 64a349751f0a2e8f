"""Provider status callbacks: SendGrid's Event Webhook and Twilio's message status callback.

No sign-in: each request is verified by its signature (SendGrid: ECDSA over timestamp + body with
the account's verification key; Twilio: HMAC of URL + parameters with the account's auth token).
A request whose signature does not verify changes nothing, is logged and gets a 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from api.deps import State
from api.problems import PAYLOAD_TOO_LARGE, Problem
from api.schemas.notifications import WebhookAccepted
from api.services.notifications import TWILIO_WEBHOOK_PATH, handle_sendgrid_events, handle_twilio_status

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

MAX_BODY = 2_000_000  # SendGrid batches events; a few thousand per request at most


def _check_size(request: Request) -> None:
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise Problem(PAYLOAD_TOO_LARGE, f"send at most {MAX_BODY} bytes with a Content-Length", field="body")


@router.post("/sendgrid/events", response_model=WebhookAccepted)
async def sendgrid_events(
    request: Request, state: State,
    tenant: Annotated[str | None, Query(max_length=63, description="for a consultancy's own SendGrid account: "
                                                                  "its slug")] = None,
    signature: Annotated[str | None, Header(alias="X-Twilio-Email-Event-Webhook-Signature")] = None,
    timestamp: Annotated[str | None, Header(alias="X-Twilio-Email-Event-Webhook-Timestamp")] = None,
) -> WebhookAccepted:
    """Delivered, bounced, dropped, unsubscribed...: updates the delivery log (unsubscribes and
    spam reports also turn the person's email off)."""
    _check_size(request)
    raw = await request.body()
    return WebhookAccepted(updated=await handle_sendgrid_events(state, raw, signature, timestamp, tenant))


@router.post("/twilio/status", response_model=WebhookAccepted)
async def twilio_status(
    request: Request, state: State,
    signature: Annotated[str | None, Header(alias="X-Twilio-Signature")] = None,
) -> WebhookAccepted:
    """Sent, delivered, read, undelivered, failed: updates the delivery log."""
    _check_size(request)
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    # The URL Twilio signed is the one we gave it (PUBLIC_BASE_URL), whatever proxies did to the Host.
    url = state.settings.public_base_url.rstrip("/") + TWILIO_WEBHOOK_PATH
    if request.url.query:
        url += "?" + request.url.query
    return WebhookAccepted(updated=await handle_twilio_status(state, url, params, signature))
