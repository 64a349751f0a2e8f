"""A consultancy's Razorpay account failing while a client checks out (issue #10): the account
dropping connections (unreachable), refusing the keys (401) or failing (503), as the local
Razorpay plays it for that account only. The checkout answers within its normal time with
`503 payments-unavailable` and a `Retry-After`; nothing is half-written (no gateway order
recorded, no claim left, the order still payable); another consultancy checks out meanwhile;
and once the account works again the same order checks out with one gateway order."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from support import active_consultancy, assert_problem, poll_until, register_client
from test_payments_api import order_for

from core.db import TenantScope, scoped_session
from models.payments import Order


async def _shop(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    return owner, await register_client(client, owner.tenant_slug)


async def _order(client, owner, buyer) -> str:
    return str((await order_for(client, owner, buyer))["id"])


def _creations(gateway, order_id: str) -> list[dict]:
    return [o for o in gateway.orders.values() if o["receipt"] == order_id]


@pytest.mark.parametrize("outage", ["drop", 401, 503])
async def test_a_failing_razorpay_account_is_a_prompt_503_and_nothing_half_written(
        outage, client, sessionmaker, gateway):
    owner, buyer = await _shop(client, sessionmaker)
    key_id = "rzp_test_" + uuid.uuid4().hex[:14]
    gateway.add_account(key_id, "tenant-key-secret-2", "tenant-hook-secret-2")
    saved = await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "razorpay_key_id": key_id, "razorpay_key_secret": "tenant-key-secret-2",
        "razorpay_webhook_secret": "tenant-hook-secret-2"})
    assert saved.status_code == 200, saved.text
    order_id = await _order(client, owner, buyer)
    other_owner, other_buyer = await _shop(client, sessionmaker)  # on the platform's account
    other_order = await _order(client, other_owner, other_buyer)
    gateway.outages[key_id] = outage

    async def checkout(who, order: str):
        started = time.monotonic()
        answer = await client.post(f"/api/v1/orders/{order}/checkout", headers=who.headers())
        return answer, time.monotonic() - started
    # The order's workflow starts right after its commit: wait for it to answer at all.
    await poll_until(lambda: checkout(buyer, order_id), lambda r: r[0].status_code != 404, timeout=30)

    (failed, took), (served, _), ready = await asyncio.gather(
        checkout(buyer, order_id), checkout(other_buyer, other_order), client.get("/ready"))
    assert_problem(failed, 503, "payments-unavailable")
    assert int(failed.headers["Retry-After"]) > 0
    assert took < 15, f"the checkout took {took:.1f} s"  # three quick attempts, well inside the 30 s deadline
    assert served.status_code == 200, served.text  # another consultancy is not held up
    assert served.json()["gateway_order_id"] and ready.status_code == 200

    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(Order, uuid.UUID(order_id))
    assert row is not None and row.status == "pending_payment"
    assert (row.gateway_order_id, row.gateway_key_id, row.gateway_claim, row.gateway_claimed_at) == (None,) * 4
    assert _creations(gateway, order_id) == []

    del gateway.outages[key_id]  # the account works again: the same order checks out, once
    paid_with = await client.post(f"/api/v1/orders/{order_id}/checkout", headers=buyer.headers())
    assert paid_with.status_code == 200, paid_with.text
    assert paid_with.json()["key_id"] == key_id
    assert [o["id"] for o in _creations(gateway, order_id)] == [paid_with.json()["gateway_order_id"]]
