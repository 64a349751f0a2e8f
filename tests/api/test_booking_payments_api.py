"""Book and pay through the API, as a frontend and Razorpay drive it: the booking's order, its
checkout, the signed webhooks, the confirmation, the cancellation's refund. Real PostgreSQL,
Redis, the Temporal dev server with the production worker and the local Razorpay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, eventually, outbox_for, register_client

from core.db import TenantScope, scoped_session
from models.payments import Order, Refund

WEBHOOK = "/api/v1/webhooks/razorpay"
PRICE = 200_000


async def _paid_offering(client, sessionmaker, days_ahead: int = 4):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=PRICE, currency="INR")
    customer = await register_client(client, owner.tenant_slug)
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=days_ahead)).date())))[0]
    return owner, offering, customer, slot


async def _webhooks(client, gateway, gateway_order_id: str, event: str) -> None:
    for delivery in gateway.deliveries_for(gateway_order_id, event):
        answer = await client.post(WEBHOOK, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200, answer.text


async def _field(client, headers, path: str, key: str, expected, timeout: float = 20):
    async def probe():
        return (await client.get(path, headers=headers)).json()[key]
    return await eventually(probe, expected, timeout)


async def _orders_of(sessionmaker, client_id: str) -> int:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return int(await session.scalar(select(func.count()).select_from(Order).where(
            Order.client_id == uuid.UUID(client_id))) or 0)


async def test_book_pay_confirm_then_cancel_and_get_the_refund(client, sessionmaker, gateway, temporal_client):
    owner, offering, customer, slot = await _paid_offering(client, sessionmaker)
    body = {"offering_id": offering["id"], "starts_at": slot["starts_at"]}
    headers = customer.headers(**{"Idempotency-Key": "book-and-pay-1"})
    made = await client.post("/api/v1/bookings", headers=headers, json=body)
    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["status"] == "held" and booking["order_id"]
    # A retried POST answers the same booking, with its one order.
    again = await client.post("/api/v1/bookings", headers=headers, json=body)
    assert again.status_code == 201 and again.json()["id"] == booking["id"]
    assert again.json()["order_id"] == booking["order_id"]
    assert await _orders_of(sessionmaker, customer.user_id) == 1

    order_path = f"/api/v1/orders/{booking['order_id']}"
    order = (await client.get(order_path, headers=customer.headers())).json()
    assert (order["status"], order["total"], order["amount_due"], order["currency"]) == (
        "pending_payment", PRICE, PRICE, "INR")
    [line] = order["lines"]
    assert (line["kind"], line["ref_id"], line["total"]) == ("consultation", booking["id"], PRICE)
    assert datetime.fromisoformat(order["expires_at"]) <= datetime.fromisoformat(booking["hold_expires_at"])

    async def checkout_status():
        return (await client.post(f"{order_path}/checkout", headers=customer.headers())).status_code
    assert await eventually(checkout_status, 200) == 200  # the order workflow started after the commit
    info = (await client.post(f"{order_path}/checkout", headers=customer.headers())).json()
    assert info["amount"] == PRICE
    described = await temporal_client.get_workflow_handle(f"order-{booking['order_id']}").describe()
    assert described.search_attributes.get("TenantId") == [owner.tenant_id]

    gateway.pay(info["gateway_order_id"])
    await _webhooks(client, gateway, info["gateway_order_id"], "payment.captured")
    booking_path = f"/api/v1/bookings/{booking['id']}"
    assert await _field(client, customer.headers(), booking_path, "status", "confirmed") == "confirmed"
    assert await _field(client, customer.headers(), order_path, "status", "fulfilled") == "fulfilled"
    shown = (await client.get(booking_path, headers=customer.headers())).json()
    assert (shown["amount_paid_minor"], shown["payment_method"]) == (PRICE, "razorpay") and shown["meeting_url"]

    # Four days ahead: the default policy gives everything back, through the order.
    cancelled = await client.post(f"{booking_path}/cancel", headers=customer.headers(), json={})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["refund_due_minor"], cancelled.json()["refund_status"]) == (PRICE, "due")
    assert_problem(await client.post(f"{booking_path}/cancel", headers=customer.headers(), json={}), 409, "conflict")

    async def refunds():
        return len((await client.get(order_path, headers=owner.headers())).json()["refunds"])
    assert await eventually(refunds, 1) == 1
    await _webhooks(client, gateway, info["gateway_order_id"], "refund.processed")
    assert await _field(client, customer.headers(), booking_path, "refund_status", "refunded") == "refunded"
    assert await _field(client, customer.headers(), order_path, "status", "refunded") == "refunded"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [refund] = (await session.execute(select(Refund).where(
            Refund.order_id == uuid.UUID(booking["order_id"])))).scalars().all()
    assert (refund.amount, refund.kind, refund.key) == (PRICE, "cancellation_policy", f"cancel:{booking['id']}")

    async def refund_mail():
        return len([m for m in await outbox_for(sessionmaker, customer.email) if m.template == "refund_processed"])
    assert await eventually(refund_mail, 1) == 1


async def test_free_bookings_have_no_order_and_other_tenants_cannot_see_a_bookings_order(client, sessionmaker):
    owner, offering, customer, slot = await _paid_offering(client, sessionmaker)
    booking = (await client.post("/api/v1/bookings", headers=customer.headers(), json={
        "offering_id": offering["id"], "starts_at": slot["starts_at"]})).json()
    stranger_owner = await active_consultancy(client, sessionmaker)
    assert_problem(await client.get(f"/api/v1/orders/{booking['order_id']}", headers=stranger_owner.headers()),
                   404, "not-found", "order_id")
    other_client = await register_client(client, owner.tenant_slug)
    assert_problem(await client.get(f"/api/v1/orders/{booking['order_id']}", headers=other_client.headers()),
                   404, "not-found", "order_id")

    _, free = await bookable(client, stranger_owner, slug="free-one")
    free_client = await register_client(client, stranger_owner.tenant_slug)
    free_slot = (await public_slots(client, stranger_owner.tenant_slug, free["id"], consultant_slug="free-one",
                                    start=str((datetime.now(UTC) + timedelta(days=3)).date())))[0]
    made = await client.post("/api/v1/bookings", headers=free_client.headers(), json={
        "offering_id": free["id"], "starts_at": free_slot["starts_at"]})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "confirmed" and made.json()["order_id"] is None
    assert await _orders_of(sessionmaker, free_client.user_id) == 0
