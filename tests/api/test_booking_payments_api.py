"""Book and pay through the API, as a frontend and Razorpay drive it: the booking's order, its
checkout, the signed webhooks, the confirmation, the cancellation's refund. Real PostgreSQL,
Redis, the Temporal dev server with the production worker and the local Razorpay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from sqlalchemy import func, select
from support import (
    SETTLE_SECONDS,
    active_consultancy,
    assert_problem,
    eventually,
    outbox_for,
    poll_until,
    register_client,
)
from temporalio.api.enums.v1 import EventType

from core.db import TenantScope, scoped_session
from core.signing import booking_link_token
from domain.bookings import links
from domain.payments.orders import order_workflow_id
from models.bookings import Booking
from models.payments import GatewayWebhookEvent, Order, Payment, Refund
from models.platform import AuditEvent

WEBHOOK = "/api/v1/webhooks/razorpay"
PRICE = 200_000


async def _paid_offering(client, sessionmaker, days_ahead: int = 4):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=PRICE, currency="INR")
    customer = await register_client(client, owner.tenant_slug)
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=days_ahead)).date())))[0]
    return owner, offering, customer, slot


async def _webhooks(client, gateway, gateway_order_id: str, event: str) -> list[str]:
    """Post Razorpay's webhooks for `event`, once Razorpay has them (a refund row is committed
    before the background step asks Razorpay for it, so the delivery can come a moment later);
    returns their event ids."""
    async def deliveries():
        return gateway.deliveries_for(gateway_order_id, event)
    found = await poll_until(deliveries, bool)
    for delivery in found:
        answer = await client.post(WEBHOOK, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200, answer.text
    return [delivery.headers["X-Razorpay-Event-Id"] for delivery in found]


async def _acted_on(sessionmaker, temporal_client, event_ids: list[str], order_id: str) -> None:
    """Wait until the stored webhook events were acted on (their signals sent to the order's
    workflow) and the workflow has handled every signal it was sent."""
    async def processed() -> bool:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            rows = (await session.execute(select(GatewayWebhookEvent.processed_at).where(
                GatewayWebhookEvent.event_id.in_(event_ids)))).scalars().all()
        return len(rows) == len(event_ids) and all(at is not None for at in rows)
    await poll_until(processed, bool)
    handle = temporal_client.get_workflow_handle(order_workflow_id(order_id))

    async def last_event() -> int:
        events = [event async for event in handle.fetch_history_events()]
        return events[-1].event_type
    await poll_until(last_event, lambda kind: kind in {EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
                                                       EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED})


async def _field(client, headers, path: str, key: str, expected, timeout: float = SETTLE_SECONDS):
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


# -- guests: paying a held booking through its signed link ----------------------------------------
BASE = "https://app.muhurta.test"


async def _guest_booking(client, owner, offering, slot, email: str = "payer@example.com") -> dict:
    made = await client.post(f"/api/v1/public/{owner.tenant_slug}/bookings", json={
        "offering_id": offering["id"], "starts_at": slot["starts_at"], "full_name": "Guest Payer", "email": email,
        "timezone": "Asia/Kolkata"})
    assert made.status_code == 201, made.text
    return made.json()


async def _pay_link(sessionmaker, email: str) -> str:
    """The pay link of the held message to `email`, as a path (the message's data carries it)."""
    async def held():
        return [m for m in await outbox_for(sessionmaker, email)
                if m.template == "consultation.held.client" and m.channel == "email"]
    [message] = await poll_until(held, bool)
    link = message.data["pay_link"]
    assert f"Pay now: {link}" in message.body and link.startswith(f"{BASE}/api/v1/booking-links/")
    assert link.endswith("/checkout")
    return str(link).removeprefix(BASE)


async def test_a_guest_books_with_a_coupon_but_not_with_store_credit(client, sessionmaker, gateway):
    owner, offering, _, slot = await _paid_offering(client, sessionmaker)
    coupon = await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "WELCOME10", "kind": "percent", "percent_bp": 1000})
    assert coupon.status_code == 201, coupon.text
    path = f"/api/v1/public/{owner.tenant_slug}/bookings"
    guest = {"offering_id": offering["id"], "starts_at": slot["starts_at"], "full_name": "Guest Saver",
             "email": "saver@example.com", "timezone": "Asia/Kolkata"}

    # store credit and package credits are an account's: refused, naming the field, nothing made
    for field in ("use_wallet", "use_credit"):
        refused = assert_problem(await client.post(path, json={**guest, field: True}), 422, "validation", field)
        assert "needs an account" in refused["detail"]
    assert_problem(await client.post(path, json={**guest, "coupon_code": "NOSUCH"}), 422, "coupon-not-applicable",
                   "coupon_code")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(Booking).where(
            Booking.offering_id == uuid.UUID(offering["id"]))) == 0

    # a coupon takes 10 % off the session's order, exactly as for a signed-in client
    made = await client.post(path, json={**guest, "coupon_code": "welcome10"})
    assert made.status_code == 201, made.text
    booking = made.json()
    assert (booking["status"], booking["can_pay"], booking["amount_due_minor"]) == ("held", True, PRICE * 9 // 10)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        order = await session.get(Order, uuid.UUID(booking["order_id"]))
        assert order is not None
        assert (order.subtotal, order.discount, order.total, order.wallet_applied, order.amount_due) == (
            PRICE, PRICE // 10, PRICE * 9 // 10, 0, PRICE * 9 // 10)


async def test_a_guest_pays_a_held_booking_with_its_signed_link(client, sessionmaker, gateway, temporal_client):
    owner, offering, _, slot = await _paid_offering(client, sessionmaker)
    booking = await _guest_booking(client, owner, offering, slot)
    assert (booking["status"], booking["can_pay"], booking["amount_due_minor"]) == ("held", True, PRICE)
    assert booking["order_id"] and booking["hold_expires_at"]

    checkout_path = await _pay_link(sessionmaker, "payer@example.com")
    manage_path = checkout_path.removesuffix("/checkout")
    shown = (await client.get(manage_path)).json()
    assert (shown["status"], shown["order_id"], shown["order_status"], shown["amount_due_minor"], shown["currency"],
            shown["can_pay"]) == ("held", booking["order_id"], "pending_payment", PRICE, "INR", True)
    # The emailed link, clicked (a GET), shows what is due rather than "method not allowed".
    assert (await client.get(checkout_path)).json() == shown

    async def checkout_status():
        return (await client.post(checkout_path)).status_code
    assert await eventually(checkout_status, 200) == 200  # the order workflow started after the commit
    first = await client.post(checkout_path, headers={"Idempotency-Key": "guest-checkout-1"})
    assert first.status_code == 200, first.text
    info = first.json()
    assert (info["order_id"], info["amount"], info["currency"]) == (booking["order_id"], PRICE, "INR")
    assert info["prefill"] == {"name": "Guest Payer", "email": "payer@example.com"} and info["key_id"]
    replayed = await client.post(checkout_path, headers={"Idempotency-Key": "guest-checkout-1"})
    assert replayed.headers.get("idempotent-replayed") == "true" and replayed.json() == info
    again = await client.post(checkout_path)  # a repeated checkout: the same Razorpay order
    assert again.json()["gateway_order_id"] == info["gateway_order_id"]

    paid = gateway.pay(info["gateway_order_id"])
    payment_path = manage_path + "/payment"
    forged = {**paid, "razorpay_signature": "0" * 64}
    assert_problem(await client.post(payment_path, json=forged), 400, "payment-signature-invalid",
                   "razorpay_signature")
    # Checkout's signed answer alone confirms the booking (no webhook is delivered here).
    verified = await client.post(payment_path, json=paid, headers={"Idempotency-Key": "guest-pay-1"})
    assert verified.status_code == 202, verified.text
    assert verified.json() == {"order_id": booking["order_id"], "status": "verifying"}
    repeat = await client.post(payment_path, json=paid, headers={"Idempotency-Key": "guest-pay-1"})
    assert repeat.status_code == 202 and repeat.headers.get("idempotent-replayed") == "true"

    async def status():
        return (await client.get(manage_path)).json()["status"]
    assert await eventually(status, "confirmed", timeout=20) == "confirmed"
    confirmed = (await client.get(manage_path)).json()
    assert (confirmed["can_pay"], confirmed["amount_due_minor"], confirmed["hold_expires_at"]) == (False, 0, None)
    assert confirmed["meeting_url"]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        order = await session.get(Order, uuid.UUID(booking["order_id"]))
        assert order is not None and order.amount_paid == PRICE
        audit = (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "payment.verified", AuditEvent.target_id == booking["order_id"]))).scalar_one()
    assert audit.details["via"] == "booking_link"
    body = assert_problem(await client.post(checkout_path), 409, "booking-not-payable")
    assert "paid" in body["detail"]
    # The webhooks that follow change nothing (one payment, one confirmation), once acted on.
    events = await _webhooks(client, gateway, info["gateway_order_id"], "payment.captured")
    await _acted_on(sessionmaker, temporal_client, events, booking["order_id"])
    assert await _field(client, owner.headers(), f"/api/v1/orders/{booking['order_id']}", "status",
                        "fulfilled") == "fulfilled"
    assert (await client.get(manage_path)).json()["status"] == "confirmed"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        order = await session.get(Order, uuid.UUID(booking["order_id"]))
        payments = (await session.execute(select(Payment).where(
            Payment.order_id == uuid.UUID(booking["order_id"])))).scalars().all()
    assert order is not None and order.amount_paid == PRICE
    assert [(p.status, p.amount) for p in payments] == [("captured", PRICE)]
    async def confirmations() -> list[str]:
        return [m.template for m in await outbox_for(sessionmaker, "payer@example.com")
                if m.template == "consultation.confirmed.client"]
    assert len(await poll_until(confirmations, bool)) == 1


async def test_guest_checkout_refuses_bad_links_and_bookings_that_cannot_be_paid(
        client, sessionmaker, gateway, app_state):
    owner, offering, _, slot = await _paid_offering(client, sessionmaker)
    booking = await _guest_booking(client, owner, offering, slot, email="refused@example.com")
    checkout_path = await _pay_link(sessionmaker, "refused@example.com")
    token = checkout_path.split("/")[-2]
    row_id, tenant_id = uuid.UUID(booking["id"]), uuid.UUID(owner.tenant_id)

    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert_problem(await client.post(links.checkout_path(tampered)), 404, "invalid-link", "link_token")
    expired = booking_link_token(app_state.keys, links.MANAGE, booking_id=row_id, tenant_id=tenant_id,
                                 expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert_problem(await client.post(links.checkout_path(expired)), 410, "link-expired", "link_token")
    feedback = booking_link_token(app_state.keys, links.FEEDBACK, booking_id=row_id, tenant_id=tenant_id,
                                  expires_at=datetime.now(UTC) + timedelta(days=1))
    assert_problem(await client.post(links.checkout_path(feedback)), 404, "invalid-link", "link_token")

    # Past its hold (the row says so; the workflow's timer has not fired yet): refused.
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        held = await session.get(Booking, row_id)
        assert held is not None
        hold_ends = held.hold_expires_at
        held.hold_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    body = assert_problem(await client.post(checkout_path), 409, "booking-not-payable")
    assert "expired" in body["detail"]
    assert (await client.get(links.manage_path(token))).json()["can_pay"] is False
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        held = await session.get(Booking, row_id)
        assert held is not None
        held.hold_expires_at = hold_ends

    # Cancelled through the link: nothing to pay any more.
    cancelled = await client.post(links.manage_path(token) + "/cancel", json={})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["can_pay"]) == ("cancelled", False)
    body = assert_problem(await client.post(checkout_path), 409, "booking-not-payable")
    assert "cancelled" in body["detail"]

    # A free booking has no order.
    free_owner = await active_consultancy(client, sessionmaker)
    _, free = await bookable(client, free_owner, slug="free-one")
    free_slot = (await public_slots(client, free_owner.tenant_slug, free["id"], consultant_slug="free-one",
                                    start=str((datetime.now(UTC) + timedelta(days=5)).date())))[0]
    free_booking = await _guest_booking(client, free_owner, free, free_slot, email="free@example.com")
    assert (free_booking["status"], free_booking["order_id"], free_booking["can_pay"]) == ("confirmed", None, False)
    free_token = booking_link_token(app_state.keys, links.MANAGE, booking_id=free_booking["id"],
                                    tenant_id=free_owner.tenant_id, expires_at=datetime.now(UTC) + timedelta(days=9))
    body = assert_problem(await client.post(links.checkout_path(free_token)), 409, "booking-not-payable")
    assert "free" in body["detail"]
    assert_problem(await client.post(links.manage_path(free_token) + "/payment", json={
        "razorpay_order_id": "order_ABCDEF123456", "razorpay_payment_id": "pay_ABCDEF123456",
        "razorpay_signature": "0" * 64}), 409, "booking-not-payable")


async def test_a_guest_link_of_one_tenant_cannot_pay_or_see_another_tenants_order(client, sessionmaker, gateway,
                                                                                  app_state):
    owner_a, offering_a, _, slot_a = await _paid_offering(client, sessionmaker)
    booking_a = await _guest_booking(client, owner_a, offering_a, slot_a, email="tenant-a-guest@example.com")
    token_a = (await _pay_link(sessionmaker, "tenant-a-guest@example.com")).split("/")[-2]
    owner_b, offering_b, customer_b, slot_b = await _paid_offering(client, sessionmaker)
    booking_b = (await client.post("/api/v1/bookings", headers=customer_b.headers(), json={
        "offering_id": offering_b["id"], "starts_at": slot_b["starts_at"]})).json()
    order_b = f"/api/v1/orders/{booking_b['order_id']}"

    async def checkout_b():
        return (await client.post(f"{order_b}/checkout", headers=customer_b.headers())).status_code
    assert await eventually(checkout_b, 200) == 200
    info_b = (await client.post(f"{order_b}/checkout", headers=customer_b.headers())).json()
    paid_b = gateway.pay(info_b["gateway_order_id"])

    async def checkout_a():
        return (await client.post(links.checkout_path(token_a))).status_code
    assert await eventually(checkout_a, 200) == 200
    # Tenant B's genuine payment handed in through tenant A's link: not A's stored order id.
    assert_problem(await client.post(links.manage_path(token_a) + "/payment", json=paid_b), 400,
                   "payment-signature-invalid")
    # A link that names tenant B with tenant A's booking (even signed with our key) finds nothing.
    crossed = booking_link_token(app_state.keys, links.MANAGE, booking_id=booking_a["id"],
                                 tenant_id=owner_b.tenant_id, expires_at=datetime.now(UTC) + timedelta(days=9))
    assert_problem(await client.post(links.checkout_path(crossed)), 404, "invalid-link", "link_token")
    assert_problem(await client.get(links.manage_path(crossed)), 404, "invalid-link", "link_token")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        for order_id in (booking_a["order_id"], booking_b["order_id"]):
            order = await session.get(Order, uuid.UUID(order_id))
            assert order is not None and (order.status, order.amount_paid) == ("pending_payment", 0)


async def test_an_order_line_names_only_a_booking_and_consultant_of_its_own_consultancy(client, sessionmaker):
    """A paid consultation line tells the booking it names that it is paid. Before this check,
    tenant B's staff could sell its own client a 10.00 order paid from the wallet, naming A's
    held 2,000.00 booking: A's booking became confirmed and paid."""
    a_owner, offering, a_customer, slot = await _paid_offering(client, sessionmaker)
    held = await client.post("/api/v1/bookings", headers=a_customer.headers(),
                             json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
    assert held.status_code == 201 and held.json()["status"] == "held", held.text
    b_owner = await active_consultancy(client, sessionmaker)
    b_customer = await register_client(client, b_owner.tenant_slug)
    credit = await client.post(f"/api/v1/clients/{b_customer.user_id}/wallet/credits", headers=b_owner.headers(),
                               json={"amount": 1_000, "note": "store credit"})
    assert credit.status_code == 201, credit.text
    for line in ({"kind": "consultation", "ref_id": held.json()["id"]},   # A's booking
                 {"kind": "consultation", "ref_id": str(uuid.uuid4())},   # nobody's
                 {"kind": "report", "ref_id": a_owner.user_id}):          # A's consultant
        refused = await client.post("/api/v1/orders", headers=b_owner.headers(), json={
            "client_id": b_customer.user_id, "use_wallet": True,
            "lines": [{"description": "Consultation", "unit_amount": 1_000, **line}]})
        assert_problem(refused, 404, "not-found", "lines.0.ref_id")
    # Within A too, a consultation line names a booking of the order's own client.
    other = await register_client(client, a_owner.tenant_slug)
    assert_problem(await client.post("/api/v1/orders", headers=a_owner.headers(), json={
        "client_id": other.user_id, "lines": [{"kind": "consultation", "description": "Consultation",
                                               "unit_amount": 1_000, "ref_id": held.json()["id"]}]}),
                   404, "not-found", "lines.0.ref_id")
    assert await _orders_of(sessionmaker, b_customer.user_id) == 0
    assert await _orders_of(sessionmaker, other.user_id) == 0
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        booking = await session.get(Booking, uuid.UUID(held.json()["id"]))
        assert booking is not None and (booking.status.value, booking.paid_at) == ("held", None)
    # The consultancy's own staff may still sell that client their held booking.
    sold = await client.post("/api/v1/orders", headers=a_owner.headers(), json={
        "client_id": a_customer.user_id, "lines": [{"kind": "consultation", "description": "Consultation",
                                                    "unit_amount": 1_000, "ref_id": held.json()["id"]}]})
    assert sold.status_code == 201, sold.text
