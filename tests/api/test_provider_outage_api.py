"""Issue #10's outage, as a consultancy lived it: it saved its own SendGrid key while SendGrid could
not be reached (127.0.0.1:9 in tests). Cancelling a booking and delivering an order line by hand
still answer, 50 requests at once during the outage all answer, `/ready` stays green, no pooled
connection is left checked out, the delivery log says why, and the owner is told once in-app."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from sqlalchemy import select
from support import active_consultancy, eventually, poll_until, register_client

from core.db import TenantScope, scoped_session
from models.notifications import InAppNotification


async def _owner_alerts(sessionmaker, owner) -> list[InAppNotification]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(InAppNotification).where(
            InAppNotification.user_id == owner.user_id, InAppNotification.event == "provider_failing"))).scalars())


async def test_an_unreachable_email_provider_holds_no_request_and_the_api_stays_ready(
        client, sessionmaker, gateway, app_state):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner)
    customer = await register_client(client, owner.tenant_slug)
    saved = await client.patch("/api/v1/tenant/notification-settings", headers=owner.headers(), json={
        "sendgrid_api_key": "SG.unreachable-key", "email_from_address": "desk@outage.example.com"})
    assert saved.status_code == 200, saved.text

    # Bookings: made (its confirmation email fails) and cancelled (its email fails too): both answer.
    slots = await public_slots(client, owner.tenant_slug, offering["id"],
                               start=str((datetime.now(UTC) + timedelta(days=3)).date()))
    bookings = []
    for slot in slots[::4][:3]:  # two hours apart: a session and its buffer never overlap the next
        made = await client.post("/api/v1/bookings", headers=customer.headers(),
                                 json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
        assert made.status_code == 201, made.text
        bookings.append(made.json())
    cancelled = await client.post(f"/api/v1/bookings/{bookings[0]['id']}/cancel", headers=customer.headers(),
                                  json={"reason": "Travelling"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    # An order paid through checkout: its receipt and staff notice fail; delivering by hand answers.
    order = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": customer.user_id, "lines": [{"kind": "product", "description": "Gemstone guide",
                                                  "unit_amount": 49_900}]})
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]

    async def checkout():
        return await client.post(f"/api/v1/orders/{order_id}/checkout", headers=customer.headers())
    info = (await poll_until(checkout, lambda r: r.status_code == 200, timeout=30)).json()
    paid = gateway.pay(info["gateway_order_id"])
    verified = await client.post(f"/api/v1/orders/{order_id}/payment", headers=customer.headers(), json=paid)
    assert verified.status_code == 202, verified.text

    async def status():
        return (await client.get(f"/api/v1/orders/{order_id}", headers=owner.headers())).json()["status"]
    assert await eventually(status, "awaiting_fulfilment", 30) == "awaiting_fulfilment"
    line_id = (await client.get(f"/api/v1/orders/{order_id}", headers=owner.headers())).json()["lines"][0]["id"]
    delivered = await client.post(f"/api/v1/orders/{order_id}/lines/{line_id}/fulfilled", headers=owner.headers(),
                                  json={"note": "handed over"})
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "fulfilled"

    # Fifty requests at once while the provider is still down, cancellations among them.
    async def one(n: int):
        if n in (1, 2):
            return await client.post(f"/api/v1/bookings/{bookings[n]['id']}/cancel", headers=customer.headers(),
                                     json={"reason": "Plans changed"})
        if n % 10 == 0:
            return await client.get("/ready")
        if n % 2:
            return await client.get(f"/api/v1/bookings/{bookings[n % 3]['id']}", headers=owner.headers())
        return await client.get(f"/api/v1/orders/{order_id}", headers=owner.headers())
    answers = await asyncio.gather(*(one(n) for n in range(50)))
    assert [a.status_code for a in answers if a.status_code >= 300] == [], [a.text for a in answers
                                                                            if a.status_code >= 300]
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert app_state.engine.pool.checkedout() == 0  # no request kept a connection

    # The delivery log says why; the owner is told once, in-app.
    async def failing_rows():
        page = (await client.get("/api/v1/notifications/deliveries", headers=owner.headers(),
                                 params={"channel": "email"})).json()["items"]
        return [d for d in page if d["provider"] == "sendgrid" and "SendGrid unreachable" in (d["error"] or "")]
    # every email of this story (three) has failed by now, and the owner was still told once
    await poll_until(failing_rows, lambda rows: len(rows) >= 3, timeout=30)
    assert len(await poll_until(lambda: _owner_alerts(sessionmaker, owner), bool, timeout=60)) == 1
