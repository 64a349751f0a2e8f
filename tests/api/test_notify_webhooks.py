"""Provider status callbacks, signed with keys the tests generate: SendGrid's ECDSA Event Webhook and
Twilio's X-Twilio-Signature. A bad signature changes nothing and is logged."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from support import active_consultancy, assert_problem, register_client
from twilio.request_validator import RequestValidator

from api.app import create_app
from api.state import AppState
from core.db import TenantScope, scoped_session
from models.notifications import NotificationDelivery, NotificationPreference

PLATFORM_TWILIO_TOKEN = "c" * 32
TENANT_TWILIO_TOKEN = "d" * 32
TWILIO_URL = "https://app.muhurta.test/api/v1/webhooks/twilio/status"


class Signer:
    """An ECDSA P-256 key pair like the one SendGrid signs its Event Webhook with."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        der = self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_key = base64.b64encode(der).decode()  # as SendGrid shows it

    def headers(self, payload: str, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp or int(time.time()))
        signature = self.private.sign((stamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
        return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": stamp, "Content-Type": "application/json"}


PLATFORM_SIGNER = Signer()


@pytest.fixture(scope="module")
async def webhook_state(api_settings, temporal_client) -> AsyncIterator[AppState]:
    settings = api_settings.model_copy(update={
        "sendgrid_webhook_public_key": PLATFORM_SIGNER.public_key,
        "twilio_account_sid": "AC" + "3" * 32, "twilio_auth_token": _secret(PLATFORM_TWILIO_TOKEN),
    })
    state = await AppState.build(settings, temporal=temporal_client)
    yield state
    await state.close()


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


@pytest.fixture
async def hooks(webhook_state, clean) -> AsyncIterator[AsyncClient]:
    app = create_app(state=webhook_state)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def _delivery(sessionmaker, tenant_id: str, user_id: str, *, provider: str, account: str,
                    message_id: str, channel: str = "email", status: str = "sent") -> NotificationDelivery:
    async with scoped_session(sessionmaker, TenantScope.of(uuid.UUID(tenant_id))) as session:
        row = NotificationDelivery(
            tenant_id=uuid.UUID(tenant_id), dedupe_key=f"test-{uuid.uuid4().hex}:{channel}", request_key="test",
            channel=channel, event="session_reminder", locale="en", user_id=uuid.UUID(user_id),
            recipient="priya@example.com", subject="s", body="b", status=status, provider=provider,
            provider_account=account, provider_message_id=message_id, attempts=1, sent_at=datetime.now(UTC))
        session.add(row)
        await session.flush()
        return row


async def _row(sessionmaker, delivery_id) -> NotificationDelivery:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(NotificationDelivery, delivery_id)
        assert row is not None
        return row


async def _people(hooks, sessionmaker):
    owner = await active_consultancy(hooks, sessionmaker)
    customer = await register_client(hooks, owner.tenant_slug)
    return owner, customer


def _events(*events: dict) -> str:
    return json.dumps(list(events))


async def test_sendgrid_events_signed_by_the_platform_update_the_log(hooks, sessionmaker, caplog):
    owner, customer = await _people(hooks, sessionmaker)
    row = await _delivery(sessionmaker, owner.tenant_id, customer.user_id, provider="sendgrid", account="platform",
                          message_id="sgid123")
    bounced_row = await _delivery(sessionmaker, owner.tenant_id, customer.user_id, provider="sendgrid",
                                  account="platform", message_id="sgid456")
    payload = _events(
        {"email": "priya@example.com", "event": "processed", "delivery_id": str(row.id),
         "sg_message_id": "sgid123.filter0001", "timestamp": 1},
        {"email": "priya@example.com", "event": "delivered", "delivery_id": str(row.id),
         "sg_message_id": "sgid123.filter0001", "timestamp": 2},
        {"email": "priya@example.com", "event": "bounce", "reason": "550 5.1.1 mailbox does not exist",
         "sg_message_id": "sgid456.filter0002", "timestamp": 3},  # matched by message id
    )
    url = "/api/v1/webhooks/sendgrid/events"

    # a forged or tampered request changes nothing
    with caplog.at_level(logging.WARNING):
        tampered = await hooks.post(url, content=payload.replace("bounce", "delivered"),
                                    headers=PLATFORM_SIGNER.headers(payload))
    assert_problem(tampered, 403, "webhook-signature-invalid", "X-Twilio-Email-Event-Webhook-Signature")
    assert "sendgrid webhook rejected" in caplog.text
    forged = await hooks.post(url, content=payload, headers=Signer().headers(payload))
    assert_problem(forged, 403, "webhook-signature-invalid")
    stale = await hooks.post(url, content=payload, headers=PLATFORM_SIGNER.headers(payload, int(time.time()) - 3600))
    assert_problem(stale, 403, "webhook-signature-invalid", "X-Twilio-Email-Event-Webhook-Timestamp")
    unsigned = await hooks.post(url, content=payload, headers={"Content-Type": "application/json"})
    assert_problem(unsigned, 403, "webhook-signature-invalid")
    assert (await _row(sessionmaker, row.id)).status == "sent"
    assert (await _row(sessionmaker, bounced_row.id)).status == "sent"

    accepted = await hooks.post(url, content=payload, headers=PLATFORM_SIGNER.headers(payload))
    assert accepted.status_code == 200 and accepted.json() == {"updated": 2}
    delivered = await _row(sessionmaker, row.id)
    assert delivered.status == "delivered" and delivered.delivered_at is not None
    bounced = await _row(sessionmaker, bounced_row.id)
    assert bounced.status == "bounced" and "mailbox does not exist" in bounced.error

    # late and repeated events never move a status back
    late = _events({"event": "delivered", "delivery_id": str(bounced_row.id), "sg_message_id": "sgid456.x"},
                   {"event": "delivered", "delivery_id": str(row.id), "sg_message_id": "sgid123.x"})
    again = await hooks.post(url, content=late, headers=PLATFORM_SIGNER.headers(late))
    assert again.json() == {"updated": 0}
    assert (await _row(sessionmaker, bounced_row.id)).status == "bounced"


async def test_an_unsubscribe_turns_the_persons_email_off(hooks, sessionmaker):
    owner, customer = await _people(hooks, sessionmaker)
    row = await _delivery(sessionmaker, owner.tenant_id, customer.user_id, provider="sendgrid", account="platform",
                          message_id="sgid789")
    payload = _events({"event": "unsubscribe", "delivery_id": str(row.id), "sg_message_id": "sgid789.f"})
    assert (await hooks.post("/api/v1/webhooks/sendgrid/events", content=payload,
                             headers=PLATFORM_SIGNER.headers(payload))).status_code == 200
    prefs = (await hooks.get("/api/v1/me/notification-preferences", headers=customer.headers())).json()
    assert prefs["email"] is False


async def test_a_tenants_own_sendgrid_account_signs_its_own_events(hooks, sessionmaker):
    owner, customer = await _people(hooks, sessionmaker)
    signer = Signer()
    configured = await hooks.patch("/api/v1/tenant/notification-settings", headers=owner.headers(), json={
        "sendgrid_api_key": "SG.own-key-123456", "email_from_address": "desk@own.example.com",
        "sendgrid_webhook_public_key": signer.public_key})
    assert configured.status_code == 200, configured.text
    own = await _delivery(sessionmaker, owner.tenant_id, customer.user_id, provider="sendgrid", account="tenant",
                          message_id="own1")
    platform_sent = await _delivery(sessionmaker, owner.tenant_id, customer.user_id, provider="sendgrid",
                                    account="platform", message_id="plat1")
    payload = _events({"event": "dropped", "reason": "Unsubscribed Address", "delivery_id": str(own.id)},
                      {"event": "delivered", "delivery_id": str(platform_sent.id)})
    url = f"/api/v1/webhooks/sendgrid/events?tenant={owner.tenant_slug}"
    # the platform's key does not speak for the tenant's account...
    assert_problem(await hooks.post(url, content=payload, headers=PLATFORM_SIGNER.headers(payload)),
                   403, "webhook-signature-invalid")
    # ... and the tenant's key only for the tenant's own account's messages
    response = await hooks.post(url, content=payload, headers=signer.headers(payload))
    assert response.json() == {"updated": 1}
    dropped = await _row(sessionmaker, own.id)
    assert dropped.status == "failed" and "Unsubscribed Address" in dropped.error
    assert (await _row(sessionmaker, platform_sent.id)).status == "sent"
    # with the platform's URL, the tenant's key is not accepted either
    assert_problem(await hooks.post("/api/v1/webhooks/sendgrid/events", content=payload,
                                    headers=signer.headers(payload)), 403, "webhook-signature-invalid")


async def test_twilio_status_callbacks_are_verified_with_the_senders_token(hooks, sessionmaker, caplog):
    owner, customer = await _people(hooks, sessionmaker)
    platform_row = await _delivery(sessionmaker, owner.tenant_id, customer.user_id, provider="twilio",
                                   account="platform", message_id="SM" + "1" * 32, channel="sms")
    params = {"MessageSid": platform_row.provider_message_id, "MessageStatus": "delivered",
              "AccountSid": "AC" + "3" * 32, "To": "+919876543210"}
    url = "/api/v1/webhooks/twilio/status"
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    good = RequestValidator(PLATFORM_TWILIO_TOKEN).compute_signature(TWILIO_URL, params)
    wrong = RequestValidator(TENANT_TWILIO_TOKEN).compute_signature(TWILIO_URL, params)
    with caplog.at_level(logging.WARNING):
        refused = await hooks.post(url, content=urlencode(params), headers={**form, "X-Twilio-Signature": wrong})
    assert_problem(refused, 403, "webhook-signature-invalid", "X-Twilio-Signature")
    assert "twilio webhook rejected" in caplog.text
    tampered = {**params, "MessageStatus": "failed"}
    assert (await hooks.post(url, content=urlencode(tampered),
                             headers={**form, "X-Twilio-Signature": good})).status_code == 403
    assert (await _row(sessionmaker, platform_row.id)).status == "sent"

    accepted = await hooks.post(url, content=urlencode(params), headers={**form, "X-Twilio-Signature": good})
    assert accepted.status_code == 200 and accepted.json() == {"updated": 1}
    assert (await _row(sessionmaker, platform_row.id)).status == "delivered"

    # a message sent through the tenant's own Twilio account is verified with the tenant's token
    assert (await hooks.patch("/api/v1/tenant/notification-settings", headers=owner.headers(), json={
        "twilio_account_sid": "AC" + "4" * 32, "twilio_auth_token": TENANT_TWILIO_TOKEN,
        "twilio_sms_from": "+15005550006"})).status_code == 200
    tenant_row = await _delivery(sessionmaker, owner.tenant_id, customer.user_id, provider="twilio",
                                 account="tenant", message_id="SM" + "2" * 32, channel="sms")
    failed = {"MessageSid": tenant_row.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30006",
              "AccountSid": "AC" + "4" * 32}
    with_platform_token = RequestValidator(PLATFORM_TWILIO_TOKEN).compute_signature(TWILIO_URL, failed)
    assert (await hooks.post(url, content=urlencode(failed),
                             headers={**form, "X-Twilio-Signature": with_platform_token})).status_code == 403
    signed = RequestValidator(TENANT_TWILIO_TOKEN).compute_signature(TWILIO_URL, failed)
    assert (await hooks.post(url, content=urlencode(failed), headers={**form, "X-Twilio-Signature": signed})).json() \
        == {"updated": 1}
    row = await _row(sessionmaker, tenant_row.id)
    assert row.status == "failed" and row.error_code == "30006"


async def test_unknown_messages_are_acknowledged_but_still_need_a_signature(hooks, sessionmaker):
    params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    unsigned = await hooks.post("/api/v1/webhooks/twilio/status", content=urlencode(params), headers=form)
    assert_problem(unsigned, 403, "webhook-signature-invalid")
    signature = RequestValidator(PLATFORM_TWILIO_TOKEN).compute_signature(TWILIO_URL, params)
    ok = await hooks.post("/api/v1/webhooks/twilio/status", content=urlencode(params),
                          headers={**form, "X-Twilio-Signature": signature})
    assert ok.json() == {"updated": 0}
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert (await session.execute(select(NotificationPreference))).all() == []


async def test_oversized_callbacks_are_refused_before_reading(hooks):
    huge = "[" + ",".join(['{"event": "delivered"}'] * 100_000) + "]"
    response = await hooks.post("/api/v1/webhooks/sendgrid/events", content=huge,
                                headers=PLATFORM_SIGNER.headers(huge))
    assert_problem(response, 413, "payload-too-large", "body")
