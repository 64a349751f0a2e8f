"""Razorpay deliveries that arrive together are stored by one statement (group commit,
api.services.payment_events.EventInserter), each still answered only once its own row is
committed, each stored exactly once, and a row PostgreSQL refuses fails only its own request."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from api.services.payment_events import EventInserter, _Row
from core.db import TenantScope, scoped_session
from core.razorpay import platform_credentials, sign
from models.payments import GatewayWebhookEvent

WEBHOOK = "/api/v1/webhooks/razorpay"


def _delivery(secret: str, event_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": "payment.authorized", "payload": {}, "id": event_id}).encode()
    return body, {"Content-Type": "application/json", "X-Razorpay-Signature": sign(secret, body),
                  "X-Razorpay-Event-Id": event_id}


async def _stored(sessionmaker, event_ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rows = (await session.execute(select(GatewayWebhookEvent.event_id, func.count()).where(
            GatewayWebhookEvent.event_id.in_(event_ids)).group_by(GatewayWebhookEvent.event_id))).all()
    return {event_id: count for event_id, count in rows}


async def test_concurrent_deliveries_share_statements_and_are_each_stored_once(client, sessionmaker, app_state):
    credentials = platform_credentials(app_state.settings)
    assert credentials is not None and credentials.webhook_secret
    ids = [f"evt_group{uuid.uuid4().hex[:12]}" for _ in range(40)]
    # every event twice, all at once: redeliveries racing their first delivery, some in one batch
    deliveries = [_delivery(credentials.webhook_secret, event_id) for event_id in ids * 2]
    app = client._transport.app  # type: ignore[attr-defined]
    before = app.state.webhook_inserter.batches if hasattr(app.state, "webhook_inserter") else 0  # shared app
    answers = await asyncio.gather(*(client.post(WEBHOOK, content=body, headers=headers)
                                     for body, headers in deliveries))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    by_event: dict[str, list[bool]] = {}
    for answer in answers:
        by_event.setdefault(answer.json()["event_id"], []).append(answer.json()["duplicate"])
    assert {e: sorted(d) for e, d in by_event.items()} == {e: [False, True] for e in ids}
    assert await _stored(sessionmaker, ids) == dict.fromkeys(ids, 1)
    inserter: EventInserter = app.state.webhook_inserter
    assert inserter.batches - before < len(deliveries), "concurrent deliveries were not grouped"


async def test_a_row_postgresql_refuses_fails_only_its_own_delivery(sessionmaker):
    inserter = EventInserter(sessionmaker)
    good = [_Row(uuid.uuid4(), f"evt_ok{uuid.uuid4().hex[:12]}", "payment.failed", "{}", None, None)
            for _ in range(3)]
    bad = _Row(uuid.uuid4(), f"evt_nul{uuid.uuid4().hex[:12]}", "payment.failed", "{\x00}", None, None)  # refused: NUL
    results = await asyncio.gather(*(inserter.insert("", row) for row in [good[0], bad, *good[1:]]),
                                   return_exceptions=True)
    assert isinstance(results[1], Exception)
    for row, result in zip(good, [results[0], *results[2:]], strict=True):
        assert isinstance(result, dict) and result.get(row.id) is False  # stored, to act on
    assert await _stored(sessionmaker, [r.event_id for r in good]) == {r.event_id: 1 for r in good}
    assert await _stored(sessionmaker, [bad.event_id]) == {}
    with pytest.raises(DBAPIError):
        await inserter.insert("", bad)
