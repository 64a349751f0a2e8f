"""A membership's charged period is refunded by staff through the same endpoint as any order: its
first refund starts the charge's Order workflow (update-with-start), which refunds the Razorpay
subscription payment with its idempotency key and closes a pending refund on its webhook.

Real PostgreSQL, Redis, the Temporal dev server with the production worker, the local Razorpay.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable
from membership_support import active_member, deliver, membership_state
from sqlalchemy import select, update
from support import active_consultancy, assert_problem, eventually, outbox_for, poll_until, register_client
from temporalio.client import WorkflowExecutionStatus
from test_payments_api import order_status, post_delivery

from core.db import TenantScope, scoped_session
from domain.payments.orders import order_workflow_id
from models.memberships import MembershipCharge
from models.payments import Order


async def test_a_membership_charge_is_refunded_through_razorpay_by_staff(client, sessionmaker, gateway,
                                                                         temporal_client):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    customer = await register_client(client, owner.tenant_slug)
    plan = (await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Monthly guidance", "price_minor": 100_000, "offering_id": offering["id"],
        "credits_per_period": 1})).json()
    membership, sub, seen = await active_member(client, gateway, owner, customer, plan["id"])

    async def charge_order() -> list[dict]:
        page = (await client.get(f"/api/v1/orders?client_id={customer.user_id}", headers=owner.headers())).json()
        return page["items"]
    [order] = await poll_until(charge_order, lambda items: len(items) == 1, 30)
    assert order["status"] == "fulfilled" and order["amount_paid"] == 100_000
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        payment_id = (await session.execute(select(MembershipCharge.payment_id).where(
            MembershipCharge.membership_id == uuid.UUID(membership["id"])))).scalar_one()
    assert order["paid_payment_id"] == payment_id
    path = f"/api/v1/orders/{order['id']}/refunds"

    # a client cannot; too much is refused by the workflow, naming the amount (and starts nothing to refund)
    assert_problem(await client.post(path, headers=customer.headers(), json={"amount": 100, "reason": "me"}),
                   403, "forbidden")
    assert_problem(await client.post(path, headers=owner.headers(), json={"amount": 100_001, "reason": "too much"}),
                   409, "workflow-rejected", "amount")

    # half of it, pending at Razorpay; a retry with the same Idempotency-Key is the same refund
    gateway.refund_outcome = "pending"
    headers = owner.headers(**{"Idempotency-Key": "charge-refund-1"})
    first = await client.post(path, headers=headers, json={"amount": 50_000, "reason": "a month not used"})
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["gateway_amount"]) == ("pending", 50_000)
    replay = await client.post(path, headers=headers, json={"amount": 50_000, "reason": "a month not used"})
    assert replay.status_code == 201 and replay.json()["id"] == first.json()["id"], replay.text
    [refund] = [r for r in gateway.refunds.values() if r["payment_id"] == payment_id]
    assert refund["amount"] == 50_000
    handle = temporal_client.get_workflow_handle(order_workflow_id(order["id"]))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    # Razorpay processes it; its webhook reaches the workflow the refund started
    await processed_at_razorpay(client, gateway, payment_id, refund["id"])

    async def refunded() -> int:
        return (await client.get(f"/api/v1/orders/{order['id']}", headers=owner.headers())).json()["amount_refunded"]
    assert await eventually(refunded, 50_000, 30) == 50_000

    async def told() -> list[str]:  # the client is told, as for any order's refund
        return [m.template for m in await outbox_for(sessionmaker, customer.email) if "refund" in m.template]
    assert await poll_until(told, bool, 30), "the client was not told of the refund"

    # the rest: the order is refunded; the membership goes on
    rest = await client.post(path, headers=owner.headers(), json={"amount": 50_000, "reason": "goodwill"})
    assert rest.status_code == 201 and rest.json()["status"] == "pending", rest.text
    [second] = [r for r in gateway.refunds.values() if r["payment_id"] == payment_id and r["id"] != refund["id"]]
    await processed_at_razorpay(client, gateway, payment_id, second["id"])
    done = await order_status(client, owner.headers(), order["id"], "refunded", 30)
    assert done["amount_refunded"] == 100_000
    assert sorted(r["status"] for r in done["refunds"]) == ["processed", "processed"]
    assert gateway.payments[payment_id]["amount_refunded"] == 100_000
    assert_problem(await client.post(path, headers=owner.headers(), json={"amount": 100, "reason": "more"}),
                   409, "workflow-rejected", "amount")
    assert await membership_state(client, owner, membership["id"]) == ("active", 1)

    # a charge paid more than 180 days ago is past the refund window: refused, naming the order
    gateway.renew(sub)
    assert await deliver(client, gateway, sub, seen) == ["subscription.charged"]
    [later] = [o for o in await poll_until(charge_order, lambda items: len(items) == 2, 30) if o["id"] != order["id"]]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(Order).where(Order.id == uuid.UUID(later["id"])).values(
            paid_at=datetime.now(UTC) - timedelta(days=181)))
    closed = assert_problem(await client.post(f"/api/v1/orders/{later['id']}/refunds", headers=owner.headers(),
                                              json={"amount": 100, "reason": "too late"}),
                            409, "workflow-rejected", "order_id")
    assert "180 days" in closed["detail"]


async def processed_at_razorpay(client, gateway, payment_id: str, refund_id: str) -> None:
    """Razorpay processes the refund and its `refund.processed` webhook is posted to the API."""
    gateway.settle_refund(refund_id)
    [processed] = [d for d in gateway.deliveries_for(gateway.payments[payment_id]["order_id"], "refund.processed")
                   if f'"id":"{refund_id}"' in d.body.decode()]
    assert (await post_delivery(client, processed)).status_code == 200
