"""Razorpay refusing a consultancy's own keys (issue #10, the payment gateway's part): the local
Razorpay answers 401/403 to that key id only. Each checkout answers a prompt 503; the refusal is
recorded on the consultancy's payment settings with Razorpay's words and shown on
GET /payments/settings; the owner is told once in-app however many checkouts fail; another
consultancy checks out meanwhile as if nothing happened; and the refusal is over when the owner
saves new keys or when a call with the same keys succeeds again. A refund refused for the keys is
held, not failed: staff are answered at once with why, and it is sent once the owner saves keys
that work (tests/workflows/test_order_refund_held.py has the backoff and the 30-day limit)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from support import active_consultancy, assert_problem, outbox_for, poll_until, register_client
from temporalio.service import RPCError, RPCStatusCode
from test_payments_api import order_for

from activities.notifier import Notifier
from activities.payments.gateway_health import GatewayKeysWatch
from core.razorpay import PLATFORM, TENANT, GatewayCredentials
from domain.payments.orders import order_workflow_id

EVENT = "payment_keys_refused"


def _key() -> str:
    return "rzp_test_" + uuid.uuid4().hex[:14]


async def _own_keys(client, gateway, owner, key_id: str | None = None) -> tuple[str, str]:
    """A Razorpay account at the local gateway, saved as the consultancy's own keys."""
    key_id, secret = key_id or _key(), f"secret-{uuid.uuid4().hex[:12]}"
    gateway.add_account(key_id, secret, f"hook-{secret}")
    saved = await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "razorpay_key_id": key_id, "razorpay_key_secret": secret, "razorpay_webhook_secret": f"hook-{secret}"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["gateway_status"] == {"state": "ok", "key_id": None, "reason": None, "since": None,
                                              "action": None}
    return key_id, secret


async def _order(client, owner, buyer) -> str:
    return str((await order_for(client, owner, buyer))["id"])


async def _checkout(client, buyer, order_id: str):
    return await client.post(f"/api/v1/orders/{order_id}/checkout", headers=buyer.headers())


async def _started(client, buyer, order_id: str):
    """The order's workflow starts right after its commit: wait for the checkout to answer at all."""
    return await poll_until(lambda: _checkout(client, buyer, order_id), lambda r: r.status_code != 404, timeout=30)


async def _running(temporal_client, order_id: str) -> None:
    """Wait for an order's workflow without checking it out."""
    handle = temporal_client.get_workflow_handle(order_workflow_id(uuid.UUID(order_id)))

    async def found() -> bool:
        try:
            await handle.describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return False
        return True
    assert await poll_until(found, bool, timeout=30)


async def _status(client, owner) -> dict:
    answer = await client.get("/api/v1/payments/settings", headers=owner.headers())
    assert answer.status_code == 200, answer.text
    status: dict = answer.json()["gateway_status"]
    return status


async def _alerts(client, owner) -> list[dict]:
    inbox = await client.get("/api/v1/me/notifications", headers=owner.headers())
    assert inbox.status_code == 200, inbox.text
    return [n for n in inbox.json()["items"] if n["event"] == EVENT]


@pytest.mark.parametrize("refusal", [401, 403])
async def test_refused_keys_are_recorded_shown_and_told_once_and_another_tenant_is_untouched(
        refusal, client, sessionmaker, gateway, temporal_client):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    key_id, _ = await _own_keys(client, gateway, owner)
    other = await active_consultancy(client, sessionmaker)  # its own, working keys
    other_buyer = await register_client(client, other.tenant_slug)
    other_key, _ = await _own_keys(client, gateway, other)
    orders = [await _order(client, owner, buyer) for _ in range(3)]
    other_orders = [await _order(client, other, other_buyer) for _ in range(3)]
    gateway.outages[key_id] = refusal

    for order_id in orders + other_orders:
        await _running(temporal_client, order_id)
    # Several failing checkouts at once, the other consultancy's beside them.
    answers = await asyncio.gather(*(_checkout(client, buyer, o) for o in orders),
                                   *(_checkout(client, other_buyer, o) for o in other_orders))
    for failed in answers[:3]:
        body = assert_problem(failed, 503, "payments-unavailable")
        assert "payment settings" in body["detail"] and int(failed.headers["Retry-After"]) > 0
    for served in answers[3:]:
        assert served.status_code == 200, served.text
        assert served.json()["key_id"] == other_key

    # Recorded on the settings, in Razorpay's words, and shown to the owner's screen.
    status = await poll_until(lambda: _status(client, owner), lambda s: s["state"] == "keys_refused", timeout=30)
    assert status["state"] == "keys_refused" and status["key_id"] == key_id
    assert f"HTTP {refusal}" in status["reason"] and "Authentication failed" in status["reason"]
    assert status["since"] and "PUT /payments/settings" in status["action"]
    assert (await _status(client, other))["state"] == "ok"

    # Told once, in-app, with what to do; more failing checkouts tell nothing new.
    [alert] = await poll_until(lambda: _alerts(client, owner), bool, timeout=30)
    assert key_id in alert["body"] and f"HTTP {refusal}" in alert["body"]
    assert "payment settings" in alert["body"] and alert["link"].endswith("/api/v1/payments/settings")
    again = await asyncio.gather(*(_checkout(client, buyer, o) for o in orders))
    assert [a.status_code for a in again] == [503, 503, 503]
    assert len(await _alerts(client, owner)) == 1
    assert (await _status(client, owner))["since"] == status["since"]  # the same refusal, still
    assert await _alerts(client, other) == []

    # The owner saves new keys: the refusal is over at once, and the orders check out with them.
    new_key, _ = await _own_keys(client, gateway, owner)
    assert (await _status(client, owner))["state"] == "ok"
    paid_with = await _checkout(client, buyer, orders[0])
    assert paid_with.status_code == 200, paid_with.text
    assert paid_with.json()["key_id"] == new_key
    assert (await _status(client, owner))["state"] == "ok" and len(await _alerts(client, owner)) == 1


async def test_a_refusal_is_over_when_the_same_keys_work_again_and_a_new_one_is_told_anew(
        client, sessionmaker, gateway):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    key_id, _ = await _own_keys(client, gateway, owner)
    first, second = await _order(client, owner, buyer), await _order(client, owner, buyer)
    gateway.outages[key_id] = 401
    assert_problem(await _started(client, buyer, first), 503, "payments-unavailable")
    assert (await _status(client, owner))["state"] == "keys_refused"
    assert len(await poll_until(lambda: _alerts(client, owner), bool, timeout=30)) == 1

    del gateway.outages[key_id]  # fixed at Razorpay's end (say, the account was re-activated)
    worked = await _checkout(client, buyer, first)
    assert worked.status_code == 200 and worked.json()["key_id"] == key_id, worked.text
    assert (await _status(client, owner))["state"] == "ok"

    gateway.outages[key_id] = 403  # refused again later: a new refusal, and the owner is told again
    assert_problem(await _started(client, buyer, second), 503, "payments-unavailable")
    status = await _status(client, owner)
    assert status["state"] == "keys_refused" and "HTTP 403" in status["reason"]
    assert len(await poll_until(lambda: _alerts(client, owner), lambda a: len(a) == 2, timeout=30)) == 2


async def test_a_late_refusal_of_replaced_keys_or_of_the_platforms_keys_marks_nothing(
        client, sessionmaker, gateway, app_state):
    owner = await active_consultancy(client, sessionmaker)
    old_key, old_secret = await _own_keys(client, gateway, owner)
    await _own_keys(client, gateway, owner)  # the owner saved other keys while a call was out
    watch = GatewayKeysWatch(app_state.sessionmaker, app_state.keys,
                             Notifier(app_state.sessionmaker, app_state.settings, app_state.keys))
    tenant_id = uuid.UUID(owner.tenant_id)
    stale = GatewayCredentials(key_id=old_key, key_secret=old_secret, webhook_secret="", base_url="",
                               account=TENANT)
    await watch.refused(tenant_id, stale, "HTTP 401: Authentication failed")
    platform = GatewayCredentials(key_id="rzp_test_platform0001", key_secret="x", webhook_secret="", base_url="",
                                  account=PLATFORM)
    await watch.refused(tenant_id, platform, "HTTP 401: Authentication failed")
    assert (await _status(client, owner))["state"] == "ok"
    assert await _alerts(client, owner) == []


async def _order_view(client, who, order_id: str) -> dict:
    answer = await client.get(f"/api/v1/orders/{order_id}", headers=who.headers())
    assert answer.status_code == 200, answer.text
    view: dict = answer.json()
    return view


async def test_a_refund_refused_for_the_keys_is_held_shown_and_sent_once_when_the_owner_saves_keys(
        client, sessionmaker, gateway):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    key_id, _ = await _own_keys(client, gateway, owner)
    order_id = await _order(client, owner, buyer)
    info = (await _started(client, buyer, order_id)).json()
    paid = gateway.pay(info["gateway_order_id"])
    assert (await client.post(f"/api/v1/orders/{order_id}/payment", headers=buyer.headers(),
                              json=paid)).status_code == 202
    await poll_until(lambda: _order_view(client, owner, order_id), lambda v: v["status"] == "awaiting_fulfilment",
                     timeout=30)

    # The consultancy rotated its secret at Razorpay but not here: Razorpay answers 401 to the saved keys.
    new_secret = f"rotated-{uuid.uuid4().hex[:12]}"
    gateway.add_account(key_id, new_secret, f"hook-{new_secret}")
    path = f"/api/v1/orders/{order_id}/refunds"
    headers = owner.headers(**{"Idempotency-Key": f"refund-{uuid.uuid4().hex[:8]}"})
    asked = {"amount": 20_000, "reason": "the guide was not what they wanted"}
    held = await client.post(path, headers=headers, json=asked)
    assert held.status_code == 201, held.text
    refund = held.json()
    assert refund["status"] == "held" and refund["processed_at"] is None and refund["gateway_refund_id"] is None
    assert f"Razorpay refuses this consultancy's keys ({key_id})" in refund["held_reason"]
    assert "HTTP 401" in refund["held_reason"]
    assert datetime.fromisoformat(refund["held_until"]) - datetime.fromisoformat(refund["held_since"]) \
        == timedelta(days=30)
    assert "PUT /payments/settings" in refund["held_action"]
    again = await client.post(path, headers=headers, json=asked)  # a retry: the same held refund
    assert (again.status_code, again.json()["id"], again.json()["status"]) == (201, refund["id"], "held")
    view = await _order_view(client, owner, order_id)
    assert [(r["id"], r["status"], r["held_reason"]) for r in view["refunds"]] == [
        (refund["id"], "held", refund["held_reason"])]
    assert view["amount_refunded"] == 0
    assert (await _status(client, owner))["state"] == "keys_refused"
    assert [r for r in gateway.refunds.values() if r["payment_id"] == paid["razorpay_payment_id"]] == []

    # The owner saves the new secret: the refund is sent at once (no waiting on the hourly retry), once.
    saved = await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "razorpay_key_id": key_id, "razorpay_key_secret": new_secret,
        "razorpay_webhook_secret": f"hook-{new_secret}"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["gateway_status"]["state"] == "ok"
    sent = await poll_until(lambda: _order_view(client, owner, order_id),
                            lambda v: v["refunds"][0]["status"] != "held", timeout=30)
    assert sent["refunds"][0]["status"] == "pending" and sent["refunds"][0]["held_reason"] is None
    [at_razorpay] = [r for r in gateway.refunds.values() if r["payment_id"] == paid["razorpay_payment_id"]]
    assert at_razorpay["amount"] == 20_000 and at_razorpay["notes"]["refund_id"] == refund["id"]
    accepted = [r for r in gateway.requests if r.method == "POST" and r.key_id  # this payment's only: the
                and r.path.endswith(f"/{paid['razorpay_payment_id']}/refund")]  # fake is shared by the tests
    assert len(accepted) == 1  # Razorpay took one refund request; the refused ones carried no accepted key
    for delivery in gateway.deliveries_for(info["gateway_order_id"], "refund.processed"):
        answer = await client.post(f"/api/v1/webhooks/razorpay/{owner.tenant_id}", content=delivery.body,
                                   headers=delivery.headers)
        assert answer.status_code == 200, answer.text
    done = await poll_until(lambda: _order_view(client, owner, order_id), lambda v: v["amount_refunded"] == 20_000,
                            timeout=30)
    assert [r["status"] for r in done["refunds"]] == ["processed"]

    async def refund_mail() -> list:
        return [m for m in await outbox_for(sessionmaker, buyer.email) if m.template == "refund_processed"]
    assert len(await poll_until(refund_mail, bool, timeout=30)) == 1
    again = await client.post(path, headers=headers, json=asked)  # a late retry: the same refund, nothing sent
    assert again.json()["id"] == refund["id"]
    assert len([r for r in gateway.refunds.values() if r["payment_id"] == paid["razorpay_payment_id"]]) == 1
    assert len(await refund_mail()) == 1
