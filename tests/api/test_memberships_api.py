"""A membership through the API as a frontend and Razorpay drive it: the client subscribes (one
membership per Idempotency-Key), authorises the subscription on the local Razorpay, whose signed
`subscription.*` webhooks (a redelivery included) make it active with the period's credits and
the plan's course; the client books with a membership credit, pauses, resumes and cancels (at
the period's end, then now). Real PostgreSQL, Redis, the Temporal dev server with the production
worker, the local Razorpay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from course_support import build_course
from support import active_consultancy, assert_problem, eventually, register_client

from domain.memberships import course_enrollment_id

WEBHOOK = "/api/v1/webhooks/razorpay"


async def _deliver(client, gateway, subscription_id: str, seen: set[str]) -> list[str]:
    """Post the subscription's webhooks not posted yet, as Razorpay would; returns their events."""
    events = []
    for delivery in gateway.deliveries_of(subscription_id):
        if delivery.event_id in seen:
            continue
        seen.add(delivery.event_id)
        answer = await client.post(WEBHOOK, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200 and answer.json()["duplicate"] is False, answer.text
        events.append(delivery.event)
    return events


async def test_a_client_subscribes_books_with_a_membership_credit_pauses_and_cancels(client, sessionmaker, gateway):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    course = await build_course(client, owner, price=300_000)
    plan = (await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Monthly guidance", "price_minor": 149_900, "offering_id": offering["id"],
        "credits_per_period": 2, "course_ids": [course["id"]]})).json()
    customer = await register_client(client, owner.tenant_slug)

    # Subscribe: pending until authorised; a retry with the same key is the same membership.
    headers = customer.headers(**{"Idempotency-Key": "join-monthly"})
    made = await client.post("/api/v1/me/memberships", headers=headers, json={"plan_id": plan["id"]})
    assert made.status_code == 201, made.text
    membership = made.json()
    assert (membership["status"], membership["price_minor"], membership["workflow_id"]) == (
        "pending", 149_900, f"membership-{membership['id']}")
    again = await client.post("/api/v1/me/memberships", headers=headers, json={"plan_id": plan["id"]})
    assert again.status_code == 201 and again.json()["id"] == membership["id"]
    assert_problem(await client.post("/api/v1/me/memberships", headers=customer.headers(),
                                     json={"plan_id": plan["id"]}), 409, "already-exists", "plan_id")
    path = f"/api/v1/me/memberships/{membership['id']}"

    async def checkout_status() -> int:
        return (await client.post(f"{path}/checkout", headers=customer.headers())).status_code
    assert await eventually(checkout_status, 200) == 200  # the workflow starts after the commit
    info = (await client.post(f"{path}/checkout", headers=customer.headers())).json()
    assert info["subscription_id"] in gateway.subscriptions and info["short_url"] and info["key_id"]
    [create] = [r for r in gateway.requests if r.path == "/v1/subscriptions" and r.method == "POST"
                and r.body["notes"].get("membership_id") == membership["id"]]
    assert (create.body["total_count"], create.body["quantity"]) == (120, 1)

    # The client authorises the mandate; Razorpay charges the first month and tells us (signed).
    sub = info["subscription_id"]
    gateway.authorise(sub)
    seen: set[str] = set()
    assert await _deliver(client, gateway, sub, seen) == [
        "subscription.authenticated", "subscription.activated", "subscription.charged"]
    [charged] = gateway.deliveries_of(sub, "subscription.charged")
    replay = await client.post(WEBHOOK, content=charged.body, headers=charged.headers)
    assert replay.json()["duplicate"] is True
    one = f"/api/v1/memberships/{membership['id']}"

    async def status_and_periods() -> tuple[str, int]:
        seen_now = (await client.get(one, headers=customer.headers())).json()
        return seen_now["status"], seen_now["periods_paid"]
    assert await eventually(status_and_periods, ("active", 1), 30) == ("active", 1)

    async def membership_credits() -> list[tuple[int, int]]:
        grants = (await client.get("/api/v1/session-credits", headers=customer.headers())).json()["grants"]
        return [(g["credits_total"], g["credits_left"]) for g in grants if g["membership_id"] == membership["id"]]
    assert await eventually(membership_credits, [(2, 2)]) == [(2, 2)]

    async def enrolled() -> str | None:
        return (await client.get(f"/api/v1/course-catalogue/{course['id']}", headers=customer.headers())).json()[
            "enrollment_id"]
    expected = str(course_enrollment_id(uuid.UUID(membership["id"]), uuid.UUID(course["id"])))
    assert await eventually(enrolled, expected, 30) == expected

    # A booking with a membership credit: confirmed at once, no order.
    slots = await public_slots(client, owner.tenant_slug, offering["id"],
                               start=str((datetime.now(UTC) + timedelta(days=4)).date()))
    booked = await client.post("/api/v1/bookings", headers=customer.headers(), json={
        "offering_id": offering["id"], "starts_at": slots[0]["starts_at"], "use_credit": True})
    assert booked.status_code == 201, booked.text
    assert (booked.json()["status"], booked.json()["order_id"], booked.json()["payment_method"]) == (
        "confirmed", None, "package_credit")
    assert await membership_credits() == [(2, 1)]

    # Pause and resume: answered at once, Razorpay asked after.
    paused = await client.post(f"{path}/pause", headers=customer.headers(), json={"reason": "travelling"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused", paused.text

    async def at_razorpay() -> str:
        return str(gateway.subscriptions[sub]["status"])
    assert await eventually(at_razorpay, "paused") == "paused"
    assert_problem(await client.post(f"{path}/pause", headers=customer.headers(), json={}), 409,
                   "workflow-rejected")
    resumed = await client.post(f"{path}/resume", headers=customer.headers(), json={})
    assert resumed.status_code == 200 and resumed.json()["status"] == "active", resumed.text
    assert await eventually(at_razorpay, "active") == "active"
    assert await _deliver(client, gateway, sub, seen) == ["subscription.paused", "subscription.resumed"]

    # Cancel at the period's end (the default): still active, Razorpay cancels at the cycle's end.
    later = await client.post(f"{path}/cancel", headers=customer.headers(), json={})
    assert later.status_code == 200, later.text
    assert (later.json()["status"], later.json()["cancel_at_period_end"]) == ("active", True)

    async def cancel_scheduled() -> bool:
        return bool(gateway.subscriptions[sub]["cancel_at_cycle_end"])
    assert await eventually(cancel_scheduled, True) is True
    # ...then now: access ends at once (the course), the paid period's credits stay until it ends.
    now = await client.post(f"{path}/cancel", headers=customer.headers(), json={"at_period_end": False})
    assert now.status_code == 200 and now.json()["status"] == "cancelled", now.text
    assert await eventually(at_razorpay, "cancelled") == "cancelled"

    assert await eventually(enrolled, None, 30) is None  # no live enrolment any more
    staff = (await client.get("/api/v1/memberships?status=cancelled", headers=owner.headers())).json()["items"]
    assert [m["id"] for m in staff] == [membership["id"]]


async def test_staff_cannot_subscribe_and_another_consultancys_client_cannot_reach_a_plan(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    plan = (await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Monthly guidance", "price_minor": 149_900, "offering_id": offering["id"],
        "credits_per_period": 1})).json()
    assert_problem(await client.post("/api/v1/me/memberships", headers=owner.headers(),
                                     json={"plan_id": plan["id"]}), 403, "forbidden")
    other = await active_consultancy(client, sessionmaker)
    stranger = await register_client(client, other.tenant_slug)
    assert_problem(await client.post("/api/v1/me/memberships", headers=stranger.headers(),
                                     json={"plan_id": plan["id"]}), 404, "not-found", "plan_id")
    assert_problem(await client.post("/api/v1/me/memberships", headers=stranger.headers(),
                                     json={"plan_id": None}), 422, "validation", "plan_id")
