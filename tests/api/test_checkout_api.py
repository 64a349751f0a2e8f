"""Clients buy on their own, through the API as a frontend and Razorpay drive it: a cart with a
course and a session package (coupon, wallet first, Razorpay for the rest, one order per
Idempotency-Key), then bookings paid with a package credit and with a coupon and the wallet, a
cancellation that gives the credit back, two bookings racing for the last credit, and bad input.
Real PostgreSQL, Redis, the Temporal dev server with the production worker, the local Razorpay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from course_support import build_course
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, eventually, register_client

from core.db import TenantScope, scoped_session
from models.catalogue import PackageCreditMove, PackageGrant
from models.payments import Order

WEBHOOK = "/api/v1/webhooks/razorpay"
SESSION = 200_000
COURSE = 300_000
PACKAGE = 450_000


async def _shop(client, sessionmaker, *, sessions: int = 3):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=SESSION, currency="INR")
    package = await client.post("/api/v1/session-packages", headers=owner.headers(), json={
        "offering_id": offering["id"], "title": f"{sessions} kundli readings", "sessions": sessions,
        "price_minor": PACKAGE, "valid_days": 30, "reminder_days": 7})
    assert package.status_code == 201, package.text
    customer = await register_client(client, owner.tenant_slug)
    slots = await public_slots(client, owner.tenant_slug, offering["id"],
                               start=str((datetime.now(UTC) + timedelta(days=4)).date()))
    return owner, offering, package.json(), customer, slots


async def _pay(client, gateway, customer, order_id: str) -> None:
    path = f"/api/v1/orders/{order_id}"

    async def checkout_status():
        return (await client.post(f"{path}/checkout", headers=customer.headers())).status_code
    assert await eventually(checkout_status, 200) == 200  # the workflow starts after the commit
    info = (await client.post(f"{path}/checkout", headers=customer.headers())).json()
    gateway.pay(info["gateway_order_id"])
    for delivery in gateway.deliveries_for(info["gateway_order_id"], "payment.captured"):
        assert (await client.post(WEBHOOK, content=delivery.body, headers=delivery.headers)).status_code == 200


async def _field(client, headers, path: str, key: str, expected):
    async def probe():
        return (await client.get(path, headers=headers)).json()[key]
    return await eventually(probe, expected, 30)


async def _credits(client, customer) -> list[dict]:
    answer = await client.get("/api/v1/session-credits", headers=customer.headers())
    assert answer.status_code == 200, answer.text
    grants: list[dict] = answer.json()["grants"]
    return grants


async def test_a_client_buys_a_course_and_a_package_then_books_with_a_credit_and_with_a_coupon(
        client, sessionmaker, gateway, temporal_client):
    owner, offering, package, customer, slots = await _shop(client, sessionmaker)
    course = await build_course(client, owner, price=COURSE)
    coupon = await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "WELCOME10", "kind": "percent", "percent_bp": 1000})
    assert coupon.status_code == 201, coupon.text
    credit = await client.post(f"/api/v1/clients/{customer.user_id}/wallet/credits", headers=owner.headers(),
                               json={"amount": 50_000, "note": "welcome gift"})
    assert credit.status_code == 201, credit.text

    # The cart: priced from the catalogue, 10 % off, the wallet first, the rest through Razorpay.
    cart = {"items": [{"kind": "course", "ref_id": course["id"]}, {"kind": "package", "ref_id": package["id"]}],
            "coupon_code": "welcome10"}
    headers = customer.headers(**{"Idempotency-Key": "cart-1"})
    made = await client.post("/api/v1/checkout", headers=headers, json=cart)
    assert made.status_code == 201, made.text
    order = made.json()["order"]
    total = (COURSE + PACKAGE) * 9 // 10
    assert (order["total"], order["discount"], order["wallet_applied"], order["amount_due"], order["coupon_code"]) == (
        total, (COURSE + PACKAGE) // 10, 50_000, total - 50_000, "WELCOME10")
    assert [line["kind"] for line in order["lines"]] == ["enrollment", "package"]
    again = await client.post("/api/v1/checkout", headers=headers, json=cart)  # a retry: the same order
    assert again.status_code == 201 and again.json()["order"]["id"] == order["id"]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(Order).where(
            Order.client_id == uuid.UUID(customer.user_id))) == 1

    await _pay(client, gateway, customer, order["id"])
    order_path = f"/api/v1/orders/{order['id']}"
    assert await _field(client, customer.headers(), order_path, "status", "fulfilled") == "fulfilled"
    catalogue_path = f"/api/v1/course-catalogue/{course['id']}"
    enrolled = await _field(client, customer.headers(), catalogue_path, "enrollment_id", order["lines"][0]["id"])
    assert enrolled == order["lines"][0]["id"]  # enrolled by the paid line (its id is the line's)

    async def granted():
        return [(g["credits_total"], g["credits_left"], g["status"]) for g in await _credits(client, customer)]
    assert await eventually(granted, [(3, 3, "active")]) == [(3, 3, "active")]
    [grant] = await _credits(client, customer)
    assert grant["order_id"] == order["id"] and grant["workflow_id"] == f"package-{order['lines'][1]['id']}"
    running = await temporal_client.get_workflow_handle(grant["workflow_id"]).describe()
    assert running.search_attributes.get("TenantId") == [owner.tenant_id]

    # A booking with a credit: confirmed at once, no order; the ledger shows the use.
    with_credit = await client.post("/api/v1/bookings", headers=customer.headers(), json={
        "offering_id": offering["id"], "starts_at": slots[0]["starts_at"], "use_credit": True})
    assert with_credit.status_code == 201, with_credit.text
    booked = with_credit.json()
    assert (booked["status"], booked["order_id"], booked["price_minor"], booked["payment_method"]) == (
        "confirmed", None, 0, "package_credit")
    [grant] = await _credits(client, customer)
    assert (grant["credits_left"], [m["kind"] for m in grant["moves"]]) == (2, ["grant", "use"])

    # A booking with a coupon and the wallet: the wallet (topped up) pays all, so it is confirmed
    # without Razorpay.
    await client.post(f"/api/v1/clients/{customer.user_id}/wallet/credits", headers=owner.headers(),
                      json={"amount": SESSION, "note": "top-up"})
    with_coupon = await client.post("/api/v1/bookings", headers=customer.headers(), json={
        "offering_id": offering["id"], "starts_at": slots[4]["starts_at"], "coupon_code": "WELCOME10",
        "use_wallet": True})
    assert with_coupon.status_code == 201, with_coupon.text
    coupon_booking = with_coupon.json()
    paid = (await client.get(f"/api/v1/orders/{coupon_booking['order_id']}", headers=customer.headers())).json()
    assert (paid["discount"], paid["total"], paid["wallet_applied"], paid["amount_due"]) == (
        SESSION // 10, SESSION * 9 // 10, SESSION * 9 // 10, 0)
    path = f"/api/v1/bookings/{coupon_booking['id']}"
    assert await _field(client, customer.headers(), path, "status", "confirmed") == "confirmed"
    wallet = (await client.get("/api/v1/wallet", headers=customer.headers())).json()
    assert wallet["balance"] == SESSION - SESSION * 9 // 10

    # Four days ahead the policy refunds in full: cancelling the credit's booking gives it back, once.
    cancelled = await client.post(f"/api/v1/bookings/{booked['id']}/cancel", headers=customer.headers(), json={})
    assert cancelled.status_code == 200, cancelled.text
    [grant] = await _credits(client, customer)
    assert (grant["credits_left"], [m["kind"] for m in grant["moves"]]) == (3, ["grant", "use", "return"])


async def test_two_bookings_racing_for_the_last_credit_get_one_and_a_refund_revokes_the_rest(
        client, sessionmaker, gateway, temporal_client):
    owner, offering, package, customer, slots = await _shop(client, sessionmaker, sessions=2)
    made = await client.post("/api/v1/checkout", headers=customer.headers(), json={
        "items": [{"kind": "package", "ref_id": package["id"]}], "use_wallet": False})
    assert made.status_code == 201, made.text
    order_id = made.json()["order"]["id"]
    await _pay(client, gateway, customer, order_id)

    async def left():
        return [g["credits_left"] for g in await _credits(client, customer)]
    assert await eventually(left, [2]) == [2]
    first = await client.post("/api/v1/bookings", headers=customer.headers(), json={
        "offering_id": offering["id"], "starts_at": slots[0]["starts_at"], "use_credit": True})
    assert first.status_code == 201, first.text
    answers = await asyncio.gather(*[client.post("/api/v1/bookings", headers=customer.headers(), json={
        "offering_id": offering["id"], "starts_at": slot["starts_at"], "use_credit": True})
        for slot in (slots[4], slots[8])])
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert_problem(next(a for a in answers if a.status_code == 409), 409, "no-package-credit", "use_credit")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        grant = (await session.execute(select(PackageGrant).where(
            PackageGrant.client_id == uuid.UUID(customer.user_id)))).scalar_one()
        uses = await session.scalar(select(func.count()).select_from(PackageCreditMove).where(
            PackageCreditMove.grant_id == grant.id, PackageCreditMove.kind == "use"))
    assert (grant.credits_used, uses) == (2, 2)

    # The package refunded in full: the workflow is told, the grant revoked (nothing left to book).
    await client.post(f"/api/v1/bookings/{first.json()['id']}/cancel", headers=customer.headers(), json={})
    refund = await client.post(f"/api/v1/orders/{order_id}/refunds", headers=owner.headers(),
                               json={"amount": PACKAGE, "reason": "changed their mind"})
    assert refund.status_code == 201, refund.text
    info = (await client.get(f"/api/v1/orders/{order_id}", headers=owner.headers())).json()
    for delivery in gateway.deliveries_for(info["gateway_order_id"], "refund.processed"):
        assert (await client.post(WEBHOOK, content=delivery.body, headers=delivery.headers)).status_code == 200

    async def status():
        return [(g["status"], g["credits_left"]) for g in await _credits(client, customer)]
    assert await eventually(status, [("revoked", 0)]) == [("revoked", 0)]
    state = await temporal_client.get_workflow_handle(grant.workflow_id).result()
    assert state["status"] == "revoked"


async def test_bad_input_is_a_problem_naming_the_field_and_other_tenants_stay_out(client, sessionmaker):
    owner, offering, package, customer, slots = await _shop(client, sessionmaker)
    h = customer.headers()
    assert_problem(await client.post("/api/v1/checkout", headers=h, json={
        "items": [{"kind": "course", "ref_id": str(uuid.uuid4())}]}), 404, "not-found", "items.0.ref_id")
    assert_problem(await client.post("/api/v1/checkout", headers=h, json={
        "items": [{"kind": "package", "ref_id": package["id"], "quantity": 2}]}), 422, "validation",
        "items.0.quantity")
    assert_problem(await client.post("/api/v1/checkout", headers=h, json={
        "items": [{"kind": "package", "ref_id": package["id"]}, {"kind": "package", "ref_id": package["id"]}]}),
        422, "validation", "items.1.ref_id")
    assert_problem(await client.post("/api/v1/checkout", headers=h, json={"items": []}), 422, "validation", "items")
    assert_problem(await client.post("/api/v1/checkout", headers=h, json={
        "items": [{"kind": "package", "ref_id": package["id"]}], "coupon_code": "NOSUCH"}),
        422, "coupon-not-applicable", "coupon_code")
    assert_problem(await client.post("/api/v1/checkout", headers=owner.headers(), json={
        "items": [{"kind": "package", "ref_id": package["id"]}]}), 403, "forbidden")
    assert_problem(await client.post("/api/v1/bookings", headers=h, json={
        "offering_id": offering["id"], "starts_at": slots[0]["starts_at"], "use_credit": True}),
        409, "no-package-credit", "use_credit")
    assert_problem(await client.post("/api/v1/bookings", headers=h, json={
        "offering_id": offering["id"], "starts_at": slots[0]["starts_at"], "use_credit": True,
        "coupon_code": "WELCOME10"}), 422, "validation", "coupon_code")
    assert_problem(await client.post("/api/v1/session-packages", headers=owner.headers(), json={
        "offering_id": offering["id"], "title": "Five", "sessions": 5, "price_minor": "100000",
        "valid_days": 30}), 422, "validation", "price_minor")
    assert_problem(await client.post("/api/v1/session-packages", headers=owner.headers(), json={
        "offering_id": offering["id"], "title": "Five", "sessions": 5, "price_minor": 100_000,
        "valid_days": 30, "reminder_days": 30}), 422, "validation", "reminder_days")
    assert_problem(await client.post("/api/v1/products", headers=owner.headers(), json={
        "kind": "report", "title": "Annual forecast", "price_minor": 150_000}), 422, "validation",
        "consultant_user_id")
    assert_problem(await client.post("/api/v1/session-packages", headers=owner.headers(), json={
        "offering_id": offering["id"], "title": None, "sessions": 5, "price_minor": 100_000,
        "valid_days": 30}), 422, "validation", "title")
    # Nothing was made by any of it.
    assert await _credits(client, customer) == []
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(Order).where(
            Order.client_id == uuid.UUID(customer.user_id))) == 0

    stranger = await active_consultancy(client, sessionmaker)
    stranger_client = await register_client(client, stranger.tenant_slug)
    assert_problem(await client.get(f"/api/v1/session-packages/{package['id']}", headers=stranger.headers()),
                   404, "not-found", "package_id")
    assert_problem(await client.post("/api/v1/checkout", headers=stranger_client.headers(), json={
        "items": [{"kind": "package", "ref_id": package["id"]}]}), 404, "not-found", "items.0.ref_id")
    assert_problem(await client.get("/api/v1/session-credits", headers=stranger.headers(),
                                    params={"client_id": customer.user_id}), 404, "not-found", "client_id")
