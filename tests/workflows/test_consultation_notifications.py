"""Consultation messages through the notifications capability: the consultancy's own wording, the
client's language, and the booking confirmation PDF linked from the confirmation."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from booking_support import booking_row, messages, next_hour, practice
from pypdf import PdfReader
from sqlalchemy import select
from support import poll_until

from core.db import TenantScope, scoped_session
from core.security import Keys
from core.signed_links import DownloadLinks
from core.storage import build_storage
from domain.bookings.consultation import BookingStatus, RescheduleRequest
from domain.bookings.policies import CancelledBy
from models.files import StoredFile
from models.identity import User
from models.notifications import NotificationDelivery, NotificationTemplate
from workflows.consultation import ConsultationWorkflow

DAY = timedelta(days=1)


async def _confirmed(env, sessionmaker, p):
    now = await env.get_current_time()
    booking_id, inp = await booking_row(sessionmaker, p, next_hour(now) + 3 * DAY, now=now)
    handle = await env.client.start_workflow(ConsultationWorkflow.run, inp, id=f"consultation-{booking_id}",
                                             task_queue=env.task_queue)
    env.started.append(handle)
    state = await poll_until(lambda: handle.query(ConsultationWorkflow.state),
                             lambda s: s.status == BookingStatus.CONFIRMED and "confirmed" in s.steps_notified)
    assert "confirmed" in state.steps_notified
    return booking_id, inp


async def test_the_confirmation_links_a_booking_confirmation_pdf_for_the_client(env, sessionmaker, settings):
    p = await practice(sessionmaker)
    booking_id, inp = await _confirmed(env, sessionmaker, p)
    [to_client] = await messages(sessionmaker, booking_id, "consultation.confirmed.client")
    [to_consultant] = await messages(sessionmaker, booking_id, "consultation.confirmed.consultant")
    assert "confirmation_file_id" not in to_consultant.data  # the PDF is the client's
    file_id = uuid.UUID(to_client.data["confirmation_file_id"])
    assert to_client.data["confirmation_url"] in to_client.body
    assert to_client.data["attachments"] == [
        {"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST",
         "size": len(to_client.data["ics"].encode())}]

    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [stored] = (await session.execute(select(StoredFile).where(StoredFile.id == file_id))).scalars().all()
    assert (stored.tenant_id, stored.client_id, stored.purpose) == (p.tenant_id, p.client_id, "booking_confirmation")
    pdf = await build_storage(settings).get(stored.storage_key)
    assert pdf.startswith(b"%PDF") and len(pdf) == stored.size_bytes
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Booking confirmation", "Kundli reading", "Priya Client", "Acharya Sharma", "Europe/London",
                     str(booking_id)[:8].upper(), "Free", "meet.jit.si"):
        assert expected in text, (expected, text)

    # the emailed link is signed for the client, and lives as long as the manage link
    link = urlsplit(to_client.data["confirmation_url"])
    assert link.path == f"/api/v1/files/{file_id}/content"
    grant = DownloadLinks.from_keys(Keys.from_settings(settings)).verify(parse_qs(link.query)["token"][0],
                                                                        file_id=file_id)
    assert grant.user_id == p.client_id and grant.expires_at == inp.ends_at + timedelta(days=7)


async def test_a_tenant_override_of_the_confirmation_is_used(env, sessionmaker):
    p = await practice(sessionmaker)
    async with scoped_session(sessionmaker, TenantScope.of(p.tenant_id)) as session:
        session.add(NotificationTemplate(
            tenant_id=p.tenant_id, event="consultation.confirmed.client", channel="email", locale="en",
            subject="Namaste {{ client_name }}: {{ offering_title }} is yours",
            body="See you {{ when }}. Join: {{ meeting_url }}\n"))
    booking_id, _ = await _confirmed(env, sessionmaker, p)
    [to_client] = await messages(sessionmaker, booking_id, "consultation.confirmed.client")
    assert to_client.subject == "Namaste Priya Client: Kundli reading is yours"
    assert to_client.body.startswith("See you ") and "(Europe/London)" in to_client.body
    assert "ics" in to_client.data  # the invitation still goes with it
    [to_consultant] = await messages(sessionmaker, booking_id, "consultation.confirmed.consultant")
    assert to_consultant.subject.startswith("New booking: Kundli reading")  # no override: built in
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        sources = dict((await session.execute(
            select(NotificationDelivery.event, NotificationDelivery.template_source).where(
                NotificationDelivery.request_key.like(f"consultation-{booking_id}:confirmed:%"),
                NotificationDelivery.channel == "email"))).all())
    assert sources == {"consultation.confirmed.client": "tenant", "consultation.confirmed.consultant": "builtin"}


async def test_a_hindi_reading_client_gets_the_confirmation_in_hindi(env, sessionmaker):
    p = await practice(sessionmaker)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        client = await session.get(User, p.client_id)
        assert client is not None
        client.locale = "hi-IN"
    booking_id, _ = await _confirmed(env, sessionmaker, p)
    [to_client] = await messages(sessionmaker, booking_id, "consultation.confirmed.client")
    assert to_client.subject.startswith("पक्का: Kundli reading, ")
    assert "पक्का हो गया है" in to_client.body and "(Europe/London)" in to_client.body
    assert any(day in to_client.body for day in ("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार",
                                                 "रविवार"))
    assert to_client.data["locale"] == "hi"
    [to_consultant] = await messages(sessionmaker, booking_id, "consultation.confirmed.consultant")
    assert to_consultant.subject.startswith("New booking:")  # the consultant reads English


async def test_a_reschedule_links_a_new_confirmation_for_the_new_time(env, sessionmaker, settings):
    p = await practice(sessionmaker)
    booking_id, inp = await _confirmed(env, sessionmaker, p)
    [confirmed] = await messages(sessionmaker, booking_id, "consultation.confirmed.client")
    handle = env.client.get_workflow_handle(f"consultation-{booking_id}")
    new_start = inp.starts_at + 2 * DAY
    await handle.execute_update(ConsultationWorkflow.reschedule, RescheduleRequest(
        starts_at=new_start, by=CancelledBy.CLIENT, actor_user_id=p.client_id, request_id="req-move"))
    [moved] = await poll_until(lambda: messages(sessionmaker, booking_id, "consultation.rescheduled.client"),
                               lambda found: len(found) == 1)
    first, second = uuid.UUID(confirmed.data["confirmation_file_id"]), uuid.UUID(moved.data["confirmation_file_id"])
    assert first != second and moved.data["confirmation_url"] in moved.body
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        stored = {f.id: f for f in (await session.execute(select(StoredFile).where(
            StoredFile.id.in_([first, second])))).scalars()}
    storage = build_storage(settings)
    texts = {}
    for file_id in (first, second):
        pdf = await storage.get(stored[file_id].storage_key)
        texts[file_id] = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)
    # London wall clock of each time, as the client reads it ("Mon 7 Dec 2026": the day is not zero-padded,
    # so a zero-padded "07 Dec" failed on the first nine days of a month)
    old_day, new_day = (f"{local.day} {local:%b %Y}" for local in (
        t.astimezone(ZoneInfo("Europe/London")) for t in (inp.starts_at, new_start)))
    assert old_day in texts[first] and new_day in texts[second] and new_day not in texts[first]
