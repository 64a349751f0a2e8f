"""Payments through the API, as a frontend, Razorpay Checkout and Razorpay's webhooks drive them,
on real PostgreSQL, Redis, the Temporal dev server with the production worker, and the local
Razorpay reached through the production SDK adapter."""

from __future__ import annotations

import json
import logging
import uuid

from payments_support import GSTIN
from sqlalchemy import select
from support import active_consultancy, assert_problem, eventually, outbox_for, register_client, sent_message

from core.db import TenantScope, scoped_session
from core.razorpay import sign
from models.payments import GatewayWebhookEvent, Invoice, Order, Payment, PaymentSettings
from models.platform import AuditEvent
from workers.rotate_keys import rotate_encrypted_columns

WEBHOOK = "/api/v1/webhooks/razorpay"


async def shop(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    return owner, buyer


async def order_for(client, owner, buyer, *lines, **extra) -> dict:
    lines = lines or ({"kind": "product", "description": "Gemstone guide", "unit_amount": 49_900},)
    response = await client.post("/api/v1/orders", headers=owner.headers(),
                                 json={"client_id": buyer.user_id, "lines": list(lines), **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def checkout(client, buyer, order_id) -> dict:
    async def started():
        return (await client.post(f"/api/v1/orders/{order_id}/checkout", headers=buyer.headers())).status_code
    assert await eventually(started, 200) == 200  # the workflow starts right after the order's commit
    response = await client.post(f"/api/v1/orders/{order_id}/checkout", headers=buyer.headers())
    return response.json()


async def order_status(client, headers, order_id, status, timeout: float = 20) -> dict:
    async def probe():
        return (await client.get(f"/api/v1/orders/{order_id}", headers=headers)).json()["status"]
    assert await eventually(probe, status, timeout) == status
    return (await client.get(f"/api/v1/orders/{order_id}", headers=headers)).json()


async def post_delivery(client, delivery, path: str = WEBHOOK):
    return await client.post(path, content=delivery.body, headers=delivery.headers)


async def test_a_sale_to_another_state_is_invoiced_with_igst(client, sessionmaker, gateway):
    owner, buyer = await shop(client, sessionmaker)
    assert (await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "gst_mode": "exclusive", "gst_rate_bp": 1800, "gstin": GSTIN})).status_code == 200  # Maharashtra, 27
    refused = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": buyer.user_id, "place_of_supply": "99",
        "lines": [{"kind": "product", "description": "Annual report", "unit_amount": 100_000}]})
    assert_problem(refused, 422, "validation", "place_of_supply")
    assert (await client.get("/api/v1/orders", headers=owner.headers())).json()["items"] == []  # nothing made

    order = await order_for(client, owner, buyer, {"kind": "product", "description": "Annual report",
                                                   "unit_amount": 100_000}, place_of_supply="29")
    assert order["place_of_supply"] == "29" and (order["tax"], order["total"]) == (18_000, 118_000)
    info = await checkout(client, buyer, order["id"])
    paid = gateway.pay(info["gateway_order_id"])
    assert (await client.post(f"/api/v1/orders/{order['id']}/payment", headers=buyer.headers(),
                              json=paid)).status_code == 202
    await order_status(client, buyer.headers(), order["id"], "awaiting_fulfilment")
    html = (await client.get(f"/api/v1/orders/{order['id']}/invoice", headers=buyer.headers())).text
    assert "IGST 18%" in html and "₹180.00" in html and "CGST" not in html and "SGST" not in html
    assert "Place of supply: Karnataka (29)" in html


async def test_an_order_paid_through_checkout_is_verified_fulfilled_and_invoiced(client, sessionmaker, gateway,
                                                                               temporal_client):
    owner, buyer = await shop(client, sessionmaker)
    settings = await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "gst_mode": "exclusive", "gst_rate_bp": 1800, "gstin": GSTIN, "legal_name": "Demo Jyotish LLP",
        "invoice_prefix": "DJ"})
    assert settings.status_code == 200, settings.text
    order = await order_for(client, owner, buyer, {"kind": "product", "description": "Annual report",
                                                   "unit_amount": 100_000})
    assert (order["taxable"], order["tax"], order["total"], order["amount_due"]) == (100_000, 18_000, 118_000, 118_000)
    info = await checkout(client, buyer, order["id"])
    assert info["amount"] == 118_000 and info["key_id"].startswith("rzp_test_")
    assert info["prefill"]["email"] == buyer.email
    again = await client.post(f"/api/v1/orders/{order['id']}/checkout", headers=buyer.headers())
    assert again.json()["gateway_order_id"] == info["gateway_order_id"]  # created once

    paid = gateway.pay(info["gateway_order_id"])
    gateway_deliveries = gateway.deliveries_for(info["gateway_order_id"])
    assert {d.event for d in gateway_deliveries} == {"payment.captured", "order.paid"}  # not delivered: lost
    verified = await client.post(f"/api/v1/orders/{order['id']}/payment", headers=buyer.headers(), json=paid)
    assert verified.status_code == 202, verified.text
    done = await order_status(client, buyer.headers(), order["id"], "awaiting_fulfilment")
    assert done["paid_payment_id"] == paid["razorpay_payment_id"] and done["amount_paid"] == 118_000
    assert done["invoice_number"].startswith("DJ/")

    html = await client.get(f"/api/v1/orders/{order['id']}/invoice", headers=buyer.headers())
    assert html.status_code == 200 and "Tax invoice" in html.text and GSTIN in html.text
    assert "CGST 9%" in html.text and "SGST 9%" in html.text and "IGST" not in html.text  # within Maharashtra
    pdf = await client.get(f"/api/v1/orders/{order['id']}/invoice?format=pdf", headers=buyer.headers())
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    receipt = await sent_message(sessionmaker, buyer.email, "payment_receipt")
    assert done["invoice_number"] in receipt.body
    # The report has no automatic fulfilment yet: staff deliver it by hand, and the order is fulfilled.
    line_id = done["lines"][0]["id"]
    assert done["lines"][0]["status"] == "awaiting_handler"
    # Staff may deliver it as soon as the order shows awaiting_fulfilment, even while the
    # workflow is still telling them about it.
    assert_problem(await client.post(f"/api/v1/orders/{order['id']}/lines/{line_id}/fulfilled",
                                     headers=buyer.headers(), json={"note": "sent by email"}), 403, "forbidden")
    delivered = await client.post(f"/api/v1/orders/{order['id']}/lines/{line_id}/fulfilled",
                                  headers=owner.headers(), json={"note": "report emailed as PDF"})
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "fulfilled" and delivered.json()["lines"][0]["status"] == "fulfilled"
    again = await client.post(f"/api/v1/orders/{order['id']}/lines/{line_id}/fulfilled",
                              headers=owner.headers(), json={"note": "twice"})
    assert_problem(again, 409, "workflow-rejected", "line_id")


async def test_the_same_webhook_ten_times_fulfils_once(client, sessionmaker, gateway):
    owner, buyer = await shop(client, sessionmaker)
    order = await order_for(client, owner, buyer)
    info = await checkout(client, buyer, order["id"])
    gateway.pay(info["gateway_order_id"])
    [captured] = gateway.deliveries_for(info["gateway_order_id"], "payment.captured")
    [order_paid] = gateway.deliveries_for(info["gateway_order_id"], "order.paid")
    answers = [await post_delivery(client, captured) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert [a.json()["duplicate"] for a in answers] == [False] + [True] * 9
    assert (await post_delivery(client, order_paid)).json()["duplicate"] is False
    await order_status(client, owner.headers(), order["id"], "awaiting_fulfilment")

    async def processed():
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            rows = (await session.execute(select(GatewayWebhookEvent))).scalars().all()
            return all(r.processed_at is not None for r in rows)
    assert await eventually(processed, True)

    async def receipts() -> int:  # the receipt is emailed after the payment is recorded, in the background
        return len([m for m in await outbox_for(sessionmaker, buyer.email) if m.template == "payment_receipt"])
    assert await eventually(receipts, 1) == 1
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        events = (await session.execute(select(GatewayWebhookEvent))).scalars().all()
        payments = (await session.execute(select(Payment).where(Payment.order_id == uuid.UUID(order["id"])))).all()
        invoices = (await session.execute(select(Invoice).where(Invoice.order_id == uuid.UUID(order["id"])))).all()
    assert sorted(e.event for e in events) == ["order.paid", "payment.captured"]
    assert len(payments) == 1 and len(invoices) == 1


async def test_a_webhook_with_a_bad_signature_changes_nothing_and_is_logged(client, sessionmaker, gateway, caplog):
    owner, buyer = await shop(client, sessionmaker)
    order = await order_for(client, owner, buyer)
    info = await checkout(client, buyer, order["id"])
    gateway.pay(info["gateway_order_id"])
    [captured] = gateway.deliveries_for(info["gateway_order_id"], "payment.captured")
    forged = json.loads(captured.body)
    forged["payload"]["payment"]["entity"]["amount"] = 1
    body = json.dumps(forged).encode()
    headers = {**captured.headers, "X-Razorpay-Event-Id": "evt_forged000001"}
    with caplog.at_level(logging.WARNING):
        bad = await client.post(WEBHOOK, content=body, headers=headers)
        resigned_wrongly = await client.post(WEBHOOK, content=body, headers={
            **headers, "X-Razorpay-Signature": sign("not-the-secret", body)})
    assert_problem(bad, 400, "webhook-signature-invalid", "X-Razorpay-Signature")
    assert_problem(resigned_wrongly, 400, "webhook-signature-invalid")
    assert any("bad signature" in r.getMessage() for r in caplog.records)
    assert_problem(await client.post(WEBHOOK, content=body), 422, "validation", "X-Razorpay-Signature")

    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert (await session.execute(select(GatewayWebhookEvent))).all() == []
        stored = await session.get(Order, uuid.UUID(order["id"]))
        rejected = (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "payment.webhook_rejected"))).scalars().all()
    assert stored.status == "pending_payment" and stored.paid_payment_id is None
    assert len(rejected) == 2 and rejected[0].ip == "203.0.113.7"


async def test_checkout_verification_checks_the_stored_order_id(client, sessionmaker, gateway):
    owner, buyer = await shop(client, sessionmaker)
    order = await order_for(client, owner, buyer)
    other = await order_for(client, owner, buyer)
    info = await checkout(client, buyer, order["id"])
    other_info = await checkout(client, buyer, other["id"])
    paid_other = gateway.pay(other_info["gateway_order_id"])
    # A genuine signature, but for another order: presented against this one, it is refused.
    replayed = await client.post(f"/api/v1/orders/{order['id']}/payment", headers=buyer.headers(), json=paid_other)
    assert_problem(replayed, 400, "payment-signature-invalid", "razorpay_signature")
    # Claiming this order's id with the other payment's signature fails too.
    claimed = await client.post(f"/api/v1/orders/{order['id']}/payment", headers=buyer.headers(),
                                json={**paid_other, "razorpay_order_id": info["gateway_order_id"]})
    assert_problem(claimed, 400, "payment-signature-invalid")
    tampered = {**paid_other, "razorpay_signature": "0" * 64}
    assert_problem(await client.post(f"/api/v1/orders/{other['id']}/payment", headers=buyer.headers(),
                                     json=tampered), 400, "payment-signature-invalid")
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers())).json()["status"] == \
        "pending_payment"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        audits = (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "payment.signature_rejected"))).scalars().all()
    assert len(audits) == 3
    # Another client of the same consultancy cannot even see the order.
    stranger = await register_client(client, owner.tenant_slug)
    assert_problem(await client.post(f"/api/v1/orders/{other['id']}/payment", headers=stranger.headers(),
                                     json=paid_other), 404, "not-found", "order_id")


async def test_money_is_never_a_float(client, sessionmaker):
    owner, buyer = await shop(client, sessionmaker)
    for amount in (499.5, 499.0, "49900"):
        response = await client.post("/api/v1/orders", headers=owner.headers(), json={
            "client_id": buyer.user_id, "lines": [{"kind": "product", "description": "x", "unit_amount": amount}]})
        assert_problem(response, 422, "validation", "lines.0.unit_amount")
    too_small = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": buyer.user_id, "lines": [{"kind": "product", "description": "x", "unit_amount": 50}]})
    assert_problem(too_small, 422, "validation", "lines")
    no_booking = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": buyer.user_id, "lines": [{"kind": "consultation", "description": "x", "unit_amount": 5000}]})
    assert_problem(no_booking, 422, "validation")


async def test_staff_refund_is_validated_by_the_workflow_and_closed_by_its_webhook(client, sessionmaker, gateway):
    owner, buyer = await shop(client, sessionmaker)
    gateway.refund_outcome = "pending"
    order = await order_for(client, owner, buyer)
    info = await checkout(client, buyer, order["id"])
    paid = gateway.pay(info["gateway_order_id"])
    await client.post(f"/api/v1/orders/{order['id']}/payment", headers=buyer.headers(), json=paid)
    await order_status(client, owner.headers(), order["id"], "awaiting_fulfilment")

    too_much = await client.post(f"/api/v1/orders/{order['id']}/refunds", headers=owner.headers(),
                                 json={"amount": 50_000, "reason": "client unhappy"})
    assert_problem(too_much, 409, "workflow-rejected", "amount")
    assert_problem(await client.post(f"/api/v1/orders/{order['id']}/refunds", headers=buyer.headers(),
                                     json={"amount": 100, "reason": "me"}), 403, "forbidden")
    headers = owner.headers(**{"Idempotency-Key": "refund-1"})
    first = await client.post(f"/api/v1/orders/{order['id']}/refunds", headers=headers,
                              json={"amount": 20_000, "reason": "half a session"})
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "pending" and first.json()["gateway_amount"] == 20_000
    replay = await client.post(f"/api/v1/orders/{order['id']}/refunds", headers=headers,
                               json={"amount": 20_000, "reason": "half a session"})
    assert replay.json()["id"] == first.json()["id"]
    [refund] = [r for r in gateway.refunds.values() if r["payment_id"] == paid["razorpay_payment_id"]]
    gateway.settle_refund(refund["id"])
    [processed] = gateway.deliveries_for(info["gateway_order_id"], "refund.processed")
    assert (await post_delivery(client, processed)).status_code == 200

    async def refunded():
        return (await client.get(f"/api/v1/orders/{order['id']}", headers=owner.headers())).json()["amount_refunded"]
    assert await eventually(refunded, 20_000) == 20_000
    view = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers())).json()
    assert [r["status"] for r in view["refunds"]] == ["processed"]


async def test_a_tenants_own_razorpay_keys_are_encrypted_and_used(client, sessionmaker, gateway, app_state):
    owner, buyer = await shop(client, sessionmaker)
    key_id, secret, hook_secret = "rzp_test_" + uuid.uuid4().hex[:14], "tenant-key-secret-1", "tenant-hook-secret-1"
    gateway.add_account(key_id, secret, hook_secret)
    saved = await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "razorpay_key_id": key_id, "razorpay_key_secret": secret, "razorpay_webhook_secret": hook_secret})
    assert saved.status_code == 200, saved.text
    assert saved.json()["own_razorpay_account"] is True and secret not in saved.text and hook_secret not in saved.text
    assert saved.json()["webhook_url"].endswith(f"/webhooks/razorpay/{owner.tenant_id}")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = (await session.execute(select(PaymentSettings))).scalar_one()
    assert row.razorpay_key_secret_encrypted != secret and app_state.keys.decrypt(row.razorpay_key_secret_encrypted) \
        == secret

    order = await order_for(client, owner, buyer)
    info = await checkout(client, buyer, order["id"])
    assert info["key_id"] == key_id and gateway.owner[info["gateway_order_id"]] == key_id
    gateway.pay(info["gateway_order_id"])
    [captured] = gateway.deliveries_for(info["gateway_order_id"], "payment.captured")
    # The platform's endpoint does not accept the tenant account's events, the tenant's does.
    assert_problem(await post_delivery(client, captured), 400, "webhook-signature-invalid")
    other = await active_consultancy(client, sessionmaker)  # uses the platform's account: nothing to receive
    assert_problem(await post_delivery(client, captured, f"{WEBHOOK}/{other.tenant_id}"), 404, "not-found", "tenant_id")
    accepted = await post_delivery(client, captured, f"{WEBHOOK}/{owner.tenant_id}")
    assert accepted.status_code == 200, accepted.text
    await order_status(client, owner.headers(), order["id"], "awaiting_fulfilment")
    # An event of the tenant's account that asks nothing of us is stored settled, as the tenant's row.
    elsewhere = b'{"entity":"event","event":"payment.captured","payload":{"payment":{"entity":{' \
                b'"id":"pay_other1","order_id":"order_notours0001","status":"captured"}}}}'
    ignored = await client.post(f"{WEBHOOK}/{owner.tenant_id}", content=elsewhere, headers={
        "X-Razorpay-Signature": sign(hook_secret, elsewhere), "X-Razorpay-Event-Id": "evt_tenant_notours"})
    assert ignored.status_code == 200, ignored.text

    async def stored(scope: TenantScope) -> list[tuple[uuid.UUID | None, bool, str | None]]:
        async with scoped_session(sessionmaker, scope) as session:
            return [(e.tenant_id, e.processed_at is not None, e.outcome) for e in (await session.execute(
                select(GatewayWebhookEvent).where(GatewayWebhookEvent.event_id == "evt_tenant_notours"))).scalars()]
    assert await stored(TenantScope.of(uuid.UUID(owner.tenant_id))) == [
        (uuid.UUID(owner.tenant_id), True, "ignored: not an order of ours")]
    assert await stored(TenantScope.of(uuid.UUID(other.tenant_id))) == []  # not another consultancy's
    assert await rotate_encrypted_columns(sessionmaker, app_state.keys) >= 2  # the keys rotate with the rest


async def test_payment_settings_are_checked(client, sessionmaker):
    owner, buyer = await shop(client, sessionmaker)
    no_gstin = await client.put("/api/v1/payments/settings", headers=owner.headers(), json={"gst_mode": "inclusive"})
    assert_problem(no_gstin, 422, "validation")
    typo = await client.put("/api/v1/payments/settings", headers=owner.headers(),
                            json={"gst_mode": "inclusive", "gstin": GSTIN[:-1] + "X"})
    assert_problem(typo, 422, "validation", "gstin")
    half_keys = await client.put("/api/v1/payments/settings", headers=owner.headers(),
                                 json={"razorpay_key_id": "rzp_test_abcdef123"})
    assert_problem(half_keys, 422, "validation")
    assert_problem(await client.get("/api/v1/payments/settings", headers=buyer.headers()), 403, "forbidden")


async def test_staff_cancel_an_unpaid_order(client, sessionmaker, gateway):
    owner, buyer = await shop(client, sessionmaker)
    order = await order_for(client, owner, buyer)
    await checkout(client, buyer, order["id"])
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=owner.headers(),
                                  json={"reason": "client changed their mind"})
    assert cancelled.status_code == 202, cancelled.text
    await order_status(client, owner.headers(), order["id"], "cancelled")
    assert_problem(await client.post(f"/api/v1/orders/{order['id']}/checkout", headers=buyer.headers()),
                   409, "order-not-payable")
    mine = (await client.get("/api/v1/orders", headers=buyer.headers())).json()["items"]
    assert [o["id"] for o in mine] == [order["id"]]
