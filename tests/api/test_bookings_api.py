"""Bookings through the API on real PostgreSQL, Redis and the Temporal dev server with a worker."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from booking_support import bookable, public_slots
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, eventually, outbox_for, poll_until, register_client
from temporalio.client import WorkflowExecutionStatus

from api.app import create_app
from core.db import TenantScope, scoped_session
from core.signing import booking_link_token
from domain.bookings import links
from domain.bookings.ical import unfold
from models.bookings import Booking, WebinarSession
from models.identity import Role, User
from models.platform import AuditEvent, PendingWorkflowStart
from workers.relay import relay_pending_starts


async def _setup(client, sessionmaker, **offering):
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering_out = await bookable(client, owner, **offering)
    customer = await register_client(client, owner.tenant_slug)
    return owner, consultant, offering_out, customer


async def _book(client, account, offering_id, starts_at, **extra):
    return await client.post("/api/v1/bookings", headers=account.headers(),
                             json={"offering_id": offering_id, "starts_at": starts_at, **extra})


async def _booking_row(sessionmaker, booking_id) -> Booking:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(Booking, uuid.UUID(booking_id))
        assert row is not None
        return row


async def _status(sessionmaker, booking_id) -> str:
    return (await _booking_row(sessionmaker, booking_id)).status.value


async def test_profile_offerings_and_slots_are_public_in_the_viewers_zone(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    hours = [{"day": d, "start": "09:00", "end": "12:00"} for d in ("monday", "tuesday", "wednesday", "thursday",
                                                                    "friday")]
    _consultant, offering = await bookable(client, owner, hours=hours, price_minor=150_000, min_notice_minutes=60)
    page = await client.get(f"/api/v1/public/{owner.tenant_slug}")
    assert page.status_code == 200
    [profile] = page.json()["consultants"]
    assert profile["slug"] == "acharya" and profile["offerings"][0]["price_minor"] == 150_000
    assert "100 % refund until 24 h before" in profile["offerings"][0]["cancellation_policy"]
    assert owner.user_id not in page.text and owner.email not in page.text and owner.tenant_id not in page.text

    slots = await public_slots(client, owner.tenant_slug, offering["id"], days=14, timezone="America/New_York")
    assert slots, "two weeks of weekday mornings have slots"
    kolkata = ZoneInfo("Asia/Kolkata")
    for slot in slots:
        starts = datetime.fromisoformat(slot["starts_at"])
        local = datetime.fromisoformat(slot["local_start"])
        assert local == starts and local.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
        on_consultant_clock = starts.astimezone(kolkata)
        assert on_consultant_clock.weekday() < 5 and 9 <= on_consultant_clock.hour <= 11  # ends by 12:00
        assert on_consultant_clock.minute in (0, 30)
    assert_problem(await client.get(f"/api/v1/public/{owner.tenant_slug}/consultants/nobody"), 404, "not-found",
                   "consultant_slug")
    assert_problem(await client.get("/api/v1/public/no-such-consultancy"), 404, "tenant-unknown", "tenant_slug")
    bad_zone = await client.get(f"/api/v1/public/{owner.tenant_slug}/consultants/acharya/offerings/"
                                f"{offering['id']}/slots", params={"timezone": "Mars/Olympus"})
    assert_problem(bad_zone, 422, "validation", "timezone")


async def test_weekly_hours_and_overrides_are_validated_and_shape_the_slots(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering = await bookable(client, owner, hours=[])
    overlapping = await client.patch(f"/api/v1/consultants/{consultant['id']}", headers=owner.headers(), json={
        "weekly_hours": [{"day": "monday", "start": "09:00", "end": "12:00"},
                         {"day": "monday", "start": "11:00", "end": "13:00"}]})
    assert_problem(overlapping, 422, "validation", "weekly_hours")
    backwards = await client.patch(f"/api/v1/consultants/{consultant['id']}", headers=owner.headers(), json={
        "weekly_hours": [{"day": "monday", "start": "12:00", "end": "09:00"}]})
    assert_problem(backwards, 422, "validation")
    assert await public_slots(client, owner.tenant_slug, offering["id"], days=14) == []
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    put = await client.put(f"/api/v1/consultants/{consultant['id']}/overrides/{day}", headers=owner.headers(),
                           json={"windows": [{"start": "10:00", "end": "12:00"}], "note": "special clinic"})
    assert put.status_code == 200, put.text
    slots = await public_slots(client, owner.tenant_slug, offering["id"], days=14)
    assert [s["local_start"][11:16] for s in slots] == ["10:00", "10:30", "11:00"]
    assert {s["local_date"] for s in slots} == {day.isoformat()}
    assert (await client.delete(f"/api/v1/consultants/{consultant['id']}/overrides/{day}",
                                headers=owner.headers())).status_code == 204
    assert await public_slots(client, owner.tenant_slug, offering["id"], days=14) == []


async def test_free_booking_is_confirmed_and_its_workflow_runs(client, sessionmaker, temporal_client):
    owner, consultant, offering, customer = await _setup(client, sessionmaker)
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=2)).date())))[0]
    made = await _book(client, customer, offering["id"], slot["starts_at"], timezone="Europe/London")
    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["status"] == "confirmed" and booking["client_id"] == customer.user_id
    assert booking["workflow_id"] == f"consultation-{booking['id']}"

    handle = temporal_client.get_workflow_handle(booking["workflow_id"])

    async def attributes():
        described = await handle.describe()
        return {k: described.search_attributes.get(k) for k in ("TenantId", "ClientId", "ConsultantId",
                                                               "EntityStatus")}
    assert await eventually(attributes, {"TenantId": [owner.tenant_id], "ClientId": [customer.user_id],
                                         "ConsultantId": [consultant["id"]], "EntityStatus": ["confirmed"]})

    async def confirmation_sent():
        return len([m for m in await outbox_for(sessionmaker, customer.email)
                    if m.template == "consultation.confirmed.client"])
    assert await eventually(confirmation_sent, 1) == 1
    [message] = [m for m in await outbox_for(sessionmaker, customer.email)
                 if m.template == "consultation.confirmed.client"]
    assert "GMT" in message.body or "BST" in message.body  # on the client's clock
    assert "METHOD:REQUEST" in unfold(message.data["ics"])
    listed = (await client.get("/api/v1/outbox", params={"recipient": customer.email,
                                                         "template": "consultation.confirmed.client"},
                               headers=owner.headers())).json()["items"]
    [invitation] = [a for a in listed[0]["attachments"] if a["content_type"].startswith("text/calendar")]
    assert invitation["filename"].endswith(".ics") and invitation["size"] > 100  # staff see what was attached

    # The booking confirmation PDF: the client opens the emailed link, and finds it among their files.
    file_id = message.data["confirmation_file_id"]
    link = urlsplit(message.data["confirmation_url"])
    pdf = await client.get(f"{link.path}?{link.query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    mine = await client.get(f"/api/v1/files/{file_id}", headers=customer.headers())
    assert mine.status_code == 200 and mine.json()["purpose"] == "booking_confirmation"
    fresh = await client.get(f"/api/v1/files/{file_id}/download-link", headers=customer.headers())
    assert fresh.status_code == 200 and (await client.get(fresh.json()["url"])).content == pdf.content
    # a client of another consultancy (or another client of this one) cannot see or fetch it
    elsewhere = await active_consultancy(client, sessionmaker)
    for stranger in (await register_client(client, elsewhere.tenant_slug),
                     await register_client(client, owner.tenant_slug)):
        assert_problem(await client.get(f"/api/v1/files/{file_id}", headers=stranger.headers()), 404, "not-found")
        assert_problem(await client.get(f"/api/v1/files/{file_id}/download-link", headers=stranger.headers()),
                       404, "not-found")
    seen = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=customer.headers())).json()
    assert seen["meeting_url"].startswith("https://meet.jit.si/")

    # the slot is gone from the public listing, and booking it again is a clear 409
    remaining = await public_slots(client, owner.tenant_slug, offering["id"], start=slot["local_date"], days=1)
    assert slot["starts_at"] not in [s["starts_at"] for s in remaining]
    other = await register_client(client, owner.tenant_slug)
    assert_problem(await _book(client, other, offering["id"], slot["starts_at"]), 409, "slot-taken", "starts_at")
    off_grid = (datetime.fromisoformat(slot["starts_at"]) + timedelta(days=1, minutes=10)).isoformat()
    assert_problem(await _book(client, other, offering["id"], off_grid), 422, "not-a-slot", "starts_at")
    # the consultancy's list, a client's list
    assert [b["id"] for b in (await client.get("/api/v1/bookings", headers=owner.headers())).json()["items"]] == [
        booking["id"]]
    assert (await client.get("/api/v1/bookings", headers=other.headers())).json()["items"] == []
    assert_problem(await client.get(f"/api/v1/bookings/{booking['id']}", headers=other.headers()), 404,
                   "not-found", "booking_id")


async def test_two_hundred_concurrent_requests_for_one_slot_make_one_booking(client, sessionmaker, app_state):
    owner, consultant, offering, _ = await _setup(client, sessionmaker)
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=5)).date())))[3]
    # 200 different clients, signed in (made directly: registering 200 through the API is slow hashing)
    async with scoped_session(sessionmaker, TenantScope.of(uuid.UUID(owner.tenant_id))) as session:
        users = [User(tenant_id=uuid.UUID(owner.tenant_id), email=f"racer{i}@example.com", full_name=f"Racer {i}",
                      role=Role.CLIENT) for i in range(200)]
        session.add_all(users)
        await session.flush()
        ids = [u.id for u in users]
    headers = []
    for user_id in ids:
        token, _ = app_state.keys.issue_access_token(user_id=user_id, tenant_id=uuid.UUID(owner.tenant_id),
                                                     role="client", session_id=uuid.uuid4(), mfa=False,
                                                     ttl=timedelta(minutes=5))
        headers.append({"Authorization": f"Bearer {token}", "X-Tenant": owner.tenant_slug})

    async def book(h: dict[str, str]):
        """As a client does: a 503 (the pool full on a loaded machine) is asked again; each
        retry of one client carries the same answer's guarantee (one booking at most)."""
        for _ in range(50):
            answer = await client.post("/api/v1/bookings", headers=h,
                                       json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
            if answer.status_code != 503:
                return answer
            assert answer.headers.get("Retry-After")
        return answer

    responses = await asyncio.gather(*[book(h) for h in headers])
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, sorted(set(statuses))
    assert statuses.count(409) == 199
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "slot-taken", "starts_at")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        live = await session.scalar(select(func.count()).select_from(Booking).where(
            Booking.consultant_id == uuid.UUID(consultant["id"])))
    assert live == 1


async def test_a_booking_and_its_workflow_never_exist_one_without_the_other(app_state, client, sessionmaker,
                                                                          temporal_client):
    owner, _, offering, customer = await _setup(client, sessionmaker)
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=2)).date())))[0]
    crashed = replace(app_state, temporal=None)  # the API dies right after its commit
    async with AsyncClient(transport=ASGITransport(app=create_app(state=crashed)), base_url="http://t") as dying:
        made = await _book(dying, customer, offering["id"], slot["starts_at"])
    assert made.status_code == 201, made.text
    booking = made.json()
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        pending = (await session.execute(select(PendingWorkflowStart).where(
            PendingWorkflowStart.workflow_id == booking["workflow_id"]))).scalar_one()
    assert pending.started_at is None and pending.workflow_type == "Consultation"
    assert await relay_pending_starts(sessionmaker, temporal_client, grace=timedelta(0)) == 1
    described = await temporal_client.get_workflow_handle(booking["workflow_id"]).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.search_attributes.get("ClientId") == [customer.user_id]
    assert await relay_pending_starts(sessionmaker, temporal_client, grace=timedelta(0)) == 0

    async def confirmed_messages():
        return len([m for m in await outbox_for(sessionmaker, customer.email)
                    if m.template == "consultation.confirmed.client"])
    assert await eventually(confirmed_messages, 1) == 1


async def test_reschedule_and_cancel_through_the_api(client, sessionmaker, keys):
    owner, _, offering, customer = await _setup(client, sessionmaker)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    slots = await public_slots(client, owner.tenant_slug, offering["id"], start=str(day))
    booking = (await _book(client, customer, offering["id"], slots[0]["starts_at"])).json()
    other = await register_client(client, owner.tenant_slug)
    taken = (await _book(client, other, offering["id"], slots[8]["starts_at"])).json()

    clash = await client.post(f"/api/v1/bookings/{booking['id']}/reschedule", headers=customer.headers(),
                              json={"starts_at": taken["starts_at"]})
    assert_problem(clash, 409, "slot-taken", "starts_at")
    moved = await client.post(f"/api/v1/bookings/{booking['id']}/reschedule", headers=customer.headers(),
                              json={"starts_at": slots[4]["starts_at"]})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == datetime.fromisoformat(slots[4]["starts_at"])
    assert moved.json()["sequence"] == 1 and moved.json()["reschedule_count"] == 1
    async with scoped_session(sessionmaker, TenantScope.system()) as session:  # as a completion would leave it
        (await session.get(Booking, uuid.UUID(booking["id"]))).private_notes_encrypted = keys.encrypt("Saturn 7th")
    assert (await client.get(f"/api/v1/bookings/{booking['id']}", headers=owner.headers())).json()[
        "private_notes"] == "Saturn 7th"
    assert (await client.get(f"/api/v1/bookings/{booking['id']}", headers=customer.headers())).json()[
        "private_notes"] is None
    early = await client.post(f"/api/v1/bookings/{booking['id']}/complete", headers=owner.headers(),
                              json={"summary": "x"})
    assert_problem(early, 409, "workflow-rejected")
    assert "not started" in early.json()["detail"]
    as_client = await client.post(f"/api/v1/bookings/{booking['id']}/complete", headers=customer.headers(), json={})
    assert_problem(as_client, 403, "forbidden")
    no_reason = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=owner.headers(), json={})
    assert_problem(no_reason, 409, "workflow-rejected", "reason")
    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=customer.headers(),
                                  json={"reason": "Travelling"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancelled_by"] == "client"
    again = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=customer.headers(), json={})
    assert_problem(again, 409, "conflict")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        actions = (await session.execute(select(AuditEvent.action).where(
            AuditEvent.target_id == booking["id"]).order_by(AuditEvent.at))).scalars().all()
    assert actions == ["booking.created", "booking.rescheduled", "booking.cancelled"]


async def test_paid_booking_is_held_marked_paid_offline_then_refunded_in_full_by_the_consultant(
    client, sessionmaker
):
    owner, _, offering, customer = await _setup(client, sessionmaker, price_minor=200_000, currency="INR")
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=4)).date())))[0]
    booking = (await _book(client, customer, offering["id"], slot["starts_at"])).json()
    assert booking["status"] == "held" and booking["hold_expires_at"]
    assert_problem(await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=customer.headers(),
                                     json={"amount_minor": 200_000, "method": "cash"}), 403, "forbidden")
    paid = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=owner.headers(),
                             json={"amount_minor": 200_000, "method": "upi", "reference": "UPI-881"})
    assert paid.status_code == 202, paid.text
    assert paid.json()["payment_method"] == "offline-upi"
    assert await eventually(lambda: _status(sessionmaker, booking["id"]), "confirmed") == "confirmed"
    twice = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=owner.headers(),
                              json={"amount_minor": 200_000, "method": "upi"})
    assert_problem(twice, 409, "conflict")
    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=owner.headers(),
                                  json={"reason": "Consultant travelling"})
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["refund_percent"], body["refund_due_minor"], body["refund_status"]) == (100, 200_000, "due")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        audit = (await session.execute(
            select(AuditEvent).where(AuditEvent.action == "booking.marked_paid"))).scalar_one()
    assert audit.actor_user_id == uuid.UUID(owner.user_id) and audit.details["reference"] == "UPI-881"


async def test_guest_books_without_an_account_and_uses_the_signed_link(client, sessionmaker, app_state):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, intake_form=[
        {"name": "birth_date", "label": "Date of birth", "type": "date", "required": True},
        {"name": "birth_place", "label": "Place of birth", "type": "text", "required": True}])
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=3)).date())))[0]
    url = f"/api/v1/public/{owner.tenant_slug}/bookings"
    guest = {"offering_id": offering["id"], "starts_at": slot["starts_at"], "full_name": "Guest Person",
             "email": "Guest@Example.com", "timezone": "Asia/Kolkata"}
    missing = await client.post(url, json={**guest, "intake": {"birth_date": "1990-04-01"}})
    assert_problem(missing, 422, "validation", "intake.birth_place")
    made = await client.post(url, json={**guest, "intake": {"birth_date": "1990-04-01", "birth_place": "Pune"}})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "confirmed" and "link" not in made.text

    async def manage_url():
        found = [m for m in await outbox_for(sessionmaker, "guest@example.com")
                 if m.template == "consultation.confirmed.client"]
        return found[0].data["manage_url"] if found else None
    link = await poll_until(manage_url, bool)
    assert link and "/api/v1/booking-links/" in link
    path = link.split("https://app.muhurta.test", 1)[1]
    viewed = await client.get(path)
    assert viewed.status_code == 200 and viewed.json()["can_cancel"] and viewed.json()["can_reschedule"]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert_problem(await client.get(tampered), 404, "invalid-link", "link_token")
    row = await _booking_row(sessionmaker, made.json()["id"])
    expired = booking_link_token(app_state.keys, links.MANAGE, booking_id=row.id, tenant_id=row.tenant_id,
                                 expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert_problem(await client.get(links.manage_path(expired)), 410, "link-expired", "link_token")
    assert row.intake == {"birth_date": "1990-04-01", "birth_place": "Pune"}

    shown = viewed.json()
    later = (await public_slots(client, shown["tenant_slug"], shown["offering_id"], shown["consultant_slug"],
                                start=slot["local_date"], days=2))[-1]
    moved = await client.post(path + "/reschedule", json={"starts_at": later["starts_at"]})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == datetime.fromisoformat(later["starts_at"])

    async def rescheduled_notice():
        return len([m for m in await outbox_for(sessionmaker, "guest@example.com")
                    if m.template == "consultation.rescheduled.client"])
    assert await eventually(rescheduled_notice, 1) == 1
    cancelled = await client.post(path + "/cancel", json={"reason": "Plans changed"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and not cancelled.json()["can_cancel"]
    feedback_token = booking_link_token(app_state.keys, links.FEEDBACK, booking_id=row.id, tenant_id=row.tenant_id,
                                        expires_at=datetime.now(UTC) + timedelta(days=1))
    assert_problem(await client.post(links.feedback_path(feedback_token), json={"rating": 5}), 409, "conflict")
    assert_problem(await client.post(links.feedback_path(path.rsplit("/", 1)[1]), json={"rating": 5}), 404,
                   "invalid-link")  # a manage link is not a feedback link


async def test_calendar_feed_at_a_secret_address(client, sessionmaker):
    owner, consultant, offering, customer = await _setup(client, sessionmaker)
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=2)).date())))[0]
    booking = (await _book(client, customer, offering["id"], slot["starts_at"])).json()
    feed = (await client.get(f"/api/v1/consultants/{consultant['id']}/calendar-feed", headers=owner.headers())).json()
    path = feed["url"].split("https://app.muhurta.test", 1)[1]
    response = await client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    lines = unfold(response.text)
    assert "METHOD:PUBLISH" in lines and f"UID:booking-{booking['id']}@muhurta.app" in lines
    assert "SUMMARY:Kundli reading with Client Person" in lines
    rotated = await client.post(f"/api/v1/consultants/{consultant['id']}/calendar-feed/rotate",
                                headers=owner.headers())
    assert rotated.json()["url"] != feed["url"]
    assert_problem(await client.get(path), 404, "invalid-link", "feed_token")
    assert (await client.get(rotated.json()["url"].split("https://app.muhurta.test", 1)[1])).status_code == 200


async def test_webinar_seats_cannot_be_oversold(client, sessionmaker):
    owner, consultant, one_to_one, _ = await _setup(client, sessionmaker)
    webinar = (await client.post("/api/v1/offerings", headers=owner.headers(), json={
        "consultant_id": consultant["id"], "kind": "webinar", "title": "Saturn return webinar",
        "duration_minutes": 90, "capacity": 3, "min_notice_minutes": 0})).json()
    assert_problem(await client.post("/api/v1/offerings", headers=owner.headers(), json={
        "consultant_id": consultant["id"], "kind": "webinar", "title": "No seats", "duration_minutes": 60}),
        422, "validation", "capacity")
    at = (datetime.now(UTC) + timedelta(days=6)).replace(hour=12, minute=0, second=0, microsecond=0)
    made = await client.post(f"/api/v1/offerings/{webinar['id']}/webinar-sessions", headers=owner.headers(),
                             json={"starts_at": at.isoformat()})
    assert made.status_code == 201, made.text
    session_id = made.json()["id"]
    # the webinar takes the consultant's time: no 1:1 slot over it
    day_slots = await public_slots(client, owner.tenant_slug, one_to_one["id"], start=str(at.date()), days=1,
                                   timezone="UTC")
    assert not [s for s in day_slots if at - timedelta(hours=1) < datetime.fromisoformat(s["starts_at"])
                < at + timedelta(minutes=90)]
    listed = await public_slots(client, owner.tenant_slug, webinar["id"], start=str(at.date()), days=1,
                                timezone="UTC")
    assert [(s["webinar_session_id"], s["seats_left"]) for s in listed] == [(session_id, 3)]

    clients = [await register_client(client, owner.tenant_slug) for _ in range(5)]
    responses = await asyncio.gather(*[
        client.post("/api/v1/bookings", headers=c.headers(),
                    json={"offering_id": webinar["id"], "webinar_session_id": session_id}) for c in clients])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 201, 201, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "sold-out", "webinar_session_id")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        seats = (await session.get(WebinarSession, uuid.UUID(session_id))).seats_taken
    assert seats == 3
    booked = [r.json()["id"] for r in responses if r.status_code == 201]

    async def one_room_for_all_seats() -> bool:
        urls = {(await _booking_row(sessionmaker, b)).meeting_url for b in booked}
        return len(urls) == 1 and None not in urls
    assert await eventually(one_room_for_all_seats, True)
    first = next(r.json() for r in responses if r.status_code == 201)
    seat_holder = clients[[r.status_code for r in responses].index(201)]
    cancelled = await client.post(f"/api/v1/bookings/{first['id']}/cancel", headers=seat_holder.headers(), json={})
    assert cancelled.status_code == 200, cancelled.text
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert (await session.get(WebinarSession, uuid.UUID(session_id))).seats_taken == 2
    overlapping = await client.post(f"/api/v1/offerings/{webinar['id']}/webinar-sessions", headers=owner.headers(),
                                    json={"starts_at": (at + timedelta(minutes=30)).isoformat()})
    assert_problem(overlapping, 409, "slot-taken", "starts_at")
    # a 1:1 session cannot be booked over the webinar, nor a webinar scheduled over a 1:1 booking
    assert_problem(await _book(client, clients[0], one_to_one["id"], at.isoformat()), 409, "slot-taken",
                   "starts_at")
    later = datetime.fromisoformat(day_slots[-1]["starts_at"])
    assert (await _book(client, clients[0], one_to_one["id"], later.isoformat())).status_code == 201
    over_booking = await client.post(f"/api/v1/offerings/{webinar['id']}/webinar-sessions", headers=owner.headers(),
                                     json={"starts_at": (later - timedelta(minutes=30)).isoformat()})
    assert_problem(over_booking, 409, "slot-taken", "starts_at")


async def test_consultants_manage_only_their_own(client, sessionmaker):
    owner, consultant, offering, customer = await _setup(client, sessionmaker)
    assert_problem(await client.post("/api/v1/offerings", headers=customer.headers(), json={
        "consultant_id": consultant["id"], "title": "x", "duration_minutes": 30}), 403, "forbidden")
    assert_problem(await client.post("/api/v1/consultants", headers=owner.headers(), json={
        "slug": "another", "display_name": "Again", "timezone": "Asia/Kolkata"}), 409, "already-exists", "user_id")
    listed = (await client.get("/api/v1/offerings", headers=customer.headers())).json()["items"]
    assert [o["id"] for o in listed] == [offering["id"]]
