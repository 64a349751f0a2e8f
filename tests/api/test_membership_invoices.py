"""Every charged period of a membership is a paid order with a GST invoice, numbered in the
consultancy's one series after its ordinary orders' invoices; a `subscription.charged` replayed by
Razorpay under another event id invoices nothing more.

Real PostgreSQL, Redis, the Temporal dev server with the production worker, the local Razorpay.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable
from membership_support import WEBHOOK, active_member, deliver, membership_state
from payments_support import GSTIN
from sqlalchemy import select
from support import Account, active_consultancy, eventually, register_client
from test_payments_api import checkout, order_for, order_status

from activities.membership_invoices import invoice_missing_charges
from core.db import TenantScope, scoped_session
from models.memberships import MembershipCharge
from models.payments import GatewayWebhookEvent, Invoice, Order, OrderLine, Payment


async def _invoices(sessionmaker, client_id: str) -> list[tuple[Invoice, Order, OrderLine, Payment]]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rows = (await session.execute(
            select(Invoice, Order, OrderLine, Payment).join(Order, Order.id == Invoice.order_id)
            .join(OrderLine, OrderLine.order_id == Order.id).join(Payment, Payment.order_id == Order.id)
            .where(Order.client_id == uuid.UUID(client_id)).order_by(Invoice.number))).all()
        session.expunge_all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_each_charged_period_is_invoiced_once_in_the_tenants_series(client, sessionmaker, gateway):
    owner = await active_consultancy_with_gst(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    customer = await register_client(client, owner.tenant_slug)
    # an ordinary order first: the memberships' invoices follow it in the same series
    order = await order_for(client, owner, customer, {"kind": "product", "description": "Annual report",
                                                      "unit_amount": 50_000})
    paid = gateway.pay((await checkout(client, customer, order["id"]))["gateway_order_id"])
    assert (await client.post(f"/api/v1/orders/{order['id']}/payment", headers=customer.headers(),
                              json=paid)).status_code == 202
    await order_status(client, customer.headers(), order["id"], "awaiting_fulfilment")

    plan = (await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Monthly guidance", "price_minor": 100_000, "offering_id": offering["id"],
        "credits_per_period": 1})).json()
    membership, sub, seen = await active_member(client, gateway, owner, customer, plan["id"])
    # GST exclusive: Razorpay's plan charges the price plus 18%
    assert gateway.plans[gateway.subscriptions[sub]["plan_id"]]["item"]["amount"] == 118_000

    # Two renewals, the first one's charge replayed by Razorpay under another event id.
    gateway.renew(sub)
    assert await deliver(client, gateway, sub, seen) == ["subscription.charged"]
    replayed = gateway.deliveries_of(sub, "subscription.charged")[-1]
    again = await client.post(WEBHOOK, content=replayed.body,
                              headers={**replayed.headers, "X-Razorpay-Event-Id": f"{replayed.event_id}-again"})
    assert again.status_code == 200 and again.json()["duplicate"] is False, again.text

    async def replay_outcome() -> str | None:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            return (await session.execute(select(GatewayWebhookEvent.outcome).where(
                GatewayWebhookEvent.event_id == f"{replayed.event_id}-again"))).scalar_one()
    # the replay reaches the workflow before the next renewal does (its signals are taken in order)
    assert await eventually(replay_outcome, f"signalled {membership['workflow_id']}", 30) == \
        f"signalled {membership['workflow_id']}"
    gateway.renew(sub)
    assert await deliver(client, gateway, sub, seen) == ["subscription.charged"]

    async def periods() -> tuple[str, int]:
        return await membership_state(client, owner, membership["id"])
    assert await eventually(periods, ("active", 3), 30) == ("active", 3)

    async def invoiced() -> int:
        return len(await _invoices(sessionmaker, customer.user_id))
    assert await eventually(invoiced, 4, 30) == 4  # the order's, then one per charged period
    [first, *periods_invoiced] = await _invoices(sessionmaker, customer.user_id)
    assert first[1].id == uuid.UUID(order["id"])
    charged = [d for d in gateway.deliveries_of(sub, "subscription.charged") if d.event_id in seen]
    payment_ids = [gateway_payment_id(d.body) for d in charged]
    assert len(set(payment_ids)) == 3
    series = first[0].series
    assert [i.number for i, *_ in [first, *periods_invoiced]] == [1, 2, 3, 4]
    for invoice, paid_order, line, payment in periods_invoiced:
        assert invoice.series == series and invoice.invoice_number == f"{series}/{invoice.number:05d}"
        assert (invoice.total, invoice.tax, invoice.gstin) == (118_000, 18_000, GSTIN)
        assert (paid_order.status, paid_order.taxable, paid_order.tax, paid_order.total, paid_order.amount_paid) == (
            "fulfilled", 100_000, 18_000, 118_000, 118_000)
        assert (line.kind, line.unit_amount, line.taxable, line.tax, line.total, line.ref_id) == (
            "membership", 100_000, 100_000, 18_000, 118_000, membership["id"])
        assert (payment.status, payment.amount, payment.gateway_order_id) == ("captured", 118_000, sub)
        assert "CGST 9%" in invoice.html and "SGST 9%" in invoice.html and "₹90.00" in invoice.html
    assert [p.gateway_payment_id for *_, p in periods_invoiced] == payment_ids

    # The client sees them among their orders, with the invoice, like any order.
    mine = (await client.get("/api/v1/orders", headers=customer.headers())).json()["items"]
    assert sorted(o["total"] for o in mine) == [59_000, 118_000, 118_000, 118_000]
    html = await client.get(f"/api/v1/orders/{periods_invoiced[0][1].id}/invoice", headers=customer.headers())
    assert html.status_code == 200 and periods_invoiced[0][0].invoice_number in html.text


async def test_charges_recorded_before_invoicing_are_invoiced_once_by_the_backfill(client, sessionmaker, gateway):
    owner = await active_consultancy_with_gst(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    customer = await register_client(client, owner.tenant_slug)
    plan = (await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Monthly guidance", "price_minor": 100_000, "offering_id": offering["id"],
        "credits_per_period": 1})).json()
    membership, sub, _ = await active_member(client, gateway, owner, customer, plan["id"])

    async def invoiced() -> int:
        return len(await _invoices(sessionmaker, customer.user_id))
    assert await eventually(invoiced, 1, 30) == 1

    # the month before, charged before invoices existed: a charge row, no order, no invoice
    earlier = f"pay_old{uuid.uuid4().hex[:10]}"
    charged_at = datetime.now(UTC) - timedelta(days=40)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        session.add(MembershipCharge(
            tenant_id=uuid.UUID(owner.tenant_id), membership_id=uuid.UUID(membership["id"]), payment_id=earlier,
            amount=118_000, currency="INR", period_start=charged_at, period_end=charged_at + timedelta(days=30),
            charged_at=charged_at))
    issued = await invoice_missing_charges(sessionmaker)
    assert len(issued) == 1
    assert await invoice_missing_charges(sessionmaker) == []  # run again: nothing more

    [first, backfilled] = sorted(await _invoices(sessionmaker, customer.user_id), key=lambda row: row[0].number)
    invoice, order, line, payment = backfilled
    assert invoice.invoice_number == issued[0] and invoice.series == first[0].series
    assert invoice.number == first[0].number + 1  # the same gap-free series
    assert (invoice.total, invoice.tax, invoice.gstin) == (118_000, 18_000, GSTIN)
    assert (order.status, order.total, order.amount_paid, order.paid_at, order.paid_payment_id) == (
        "fulfilled", 118_000, 118_000, charged_at, earlier)
    assert (line.kind, line.ref_id, line.total) == ("membership", membership["id"], 118_000)
    assert (payment.gateway_payment_id, payment.status, payment.gateway_order_id) == (earlier, "captured", sub)
    mine = (await client.get("/api/v1/orders", headers=customer.headers())).json()["items"]
    assert sorted(o["paid_payment_id"] for o in mine) == sorted([earlier, first[1].paid_payment_id])


def gateway_payment_id(body: bytes) -> str:
    return str(json.loads(body)["payload"]["payment"]["entity"]["id"])


async def active_consultancy_with_gst(client, sessionmaker) -> Account:
    owner = await active_consultancy(client, sessionmaker)
    assert (await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "gst_mode": "exclusive", "gst_rate_bp": 1800, "gstin": GSTIN, "legal_name": "Demo Jyotish LLP"})
            ).status_code == 200
    return owner
