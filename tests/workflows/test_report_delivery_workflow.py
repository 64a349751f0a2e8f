"""ReportDeliveryWorkflow on the time-skipping server: days pass in milliseconds, no sleeping."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from support import poll_until
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from core.db import TenantScope, scoped_session
from core.security import Keys
from core.signed_links import DownloadLinks
from domain.files import FileKind
from domain.report_delivery import (
    OPEN_WATCH,
    ManualDelivery,
    ReportDeliveryInput,
    ReportDeliveryState,
    ReportDeliveryStatus,
    ReportOpened,
    ReportUploaded,
    report_delivery_workflow_id,
)
from models.files import ReportDelivery, StoredFile
from models.identity import Role, User
from models.notifications import InAppNotification
from models.platform import AuditEvent, OutboxMessage
from models.tenancy import Tenant, TenantStatus
from workflows.report_delivery import ReportDeliveryWorkflow

CONSULTANT = "jyotishi@report.example.com"
CLIENT = "seeker@report.example.com"


class World:
    def __init__(self, tenant_id: uuid.UUID, consultant_id: uuid.UUID, client_id: uuid.UUID) -> None:
        self.tenant_id, self.consultant_id, self.client_id = tenant_id, consultant_id, client_id


async def _world(sessionmaker) -> World:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=f"r-{uuid.uuid4().hex[:8]}", name="Nakshatra Reports", status=TenantStatus.ACTIVE,
                        timezone="Asia/Kolkata", settings={})
        session.add(tenant)
        await session.flush()
        consultant = User(tenant_id=tenant.id, email=CONSULTANT, full_name="Jyotishi", role=Role.OWNER,
                          timezone="Asia/Kolkata")
        client = User(tenant_id=tenant.id, email=CLIENT, full_name="Seeker", role=Role.CLIENT,
                      timezone="Europe/London")
        session.add_all([consultant, client])
        await session.flush()
        return World(tenant.id, consultant.id, client.id)


async def _start(env, sessionmaker, world: World, due_in: timedelta) -> tuple[WorkflowHandle, ReportDeliveryInput]:
    now = await env.get_current_time()
    inp = ReportDeliveryInput(tenant_id=world.tenant_id, order_id=uuid.uuid4(), client_id=world.client_id,
                              consultant_id=world.consultant_id, title="Varshaphal 2027", due_at=now + due_in,
                              reference="INV-42")
    handle = await env.client.start_workflow(
        ReportDeliveryWorkflow.run, inp, id=report_delivery_workflow_id(inp.order_id), task_queue=env.task_queue)
    env.started.append(handle)
    for _ in range(200):  # the workflow's first activity records the delivery
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            if await session.get(ReportDelivery, inp.order_id) is not None:
                return handle, inp
        await asyncio.sleep(0.05)  # allowed: waiting on a condition, not for time to pass
    raise AssertionError("the delivery was never recorded")


async def _upload(sessionmaker, world: World, order_id: uuid.UUID, *, signal: WorkflowHandle | None,
                  at: datetime) -> uuid.UUID:
    """What the upload endpoint does: record the file and the delivery's upload, then signal."""
    file_id = uuid.uuid4()
    async with scoped_session(sessionmaker, TenantScope.of(world.tenant_id)) as session:
        session.add(StoredFile(id=file_id, tenant_id=world.tenant_id, client_id=world.client_id,
                               uploaded_by=world.consultant_id, kind=FileKind.PDF, content_type="application/pdf",
                               size_bytes=10, sha256="0" * 64, name="varshaphal.pdf", purpose="report",
                               storage_backend="local", storage_key=f"tenants/{world.tenant_id}/files/{file_id}.pdf"))
        await session.flush()
        delivery = await session.get(ReportDelivery, order_id)
        delivery.file_id, delivery.uploaded_at, delivery.uploaded_by = file_id, at, world.consultant_id
    if signal is not None:
        await signal.signal(ReportDeliveryWorkflow.report_uploaded,
                            ReportUploaded(file_id=file_id, uploaded_at=at, uploaded_by=world.consultant_id))
    return file_id


@dataclass
class Sent:
    channel: str
    recipient: str
    body: str
    data: dict


async def _messages(sessionmaker, event: str) -> list[Sent]:
    """The event's email (the local outbox) and in-app messages (the inbox), email first."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        emails = (await session.execute(select(OutboxMessage).where(OutboxMessage.template == event))).scalars()
        in_app = await session.execute(
            select(InAppNotification, User.email).join(User, User.id == InAppNotification.user_id)
            .where(InAppNotification.event == event))
        return ([Sent(m.channel, m.recipient, m.body, m.data) for m in emails]
                + [Sent("in_app", email, n.body, {"link": n.link}) for n, email in in_app.all()])


async def _row(sessionmaker, order_id: uuid.UUID) -> ReportDelivery:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(ReportDelivery, order_id)
        assert row is not None
        return row


async def _state(handle) -> ReportDeliveryState:
    return await handle.query(ReportDeliveryWorkflow.state)


async def _until(handle, status: ReportDeliveryStatus) -> ReportDeliveryState:
    """Query until the workflow reaches `status` (it runs its activities in real time)."""
    for _ in range(200):
        state = await _state(handle)
        if state.status == status:
            return state
        await asyncio.sleep(0.05)  # allowed: waiting on a condition, not for time to pass
    raise AssertionError(f"still {state.status}, not {status}")


async def _status_attribute(handle) -> str:
    described = await handle.describe()
    values = {k.name: v for k, v in described.typed_search_attributes}
    return str(values["EntityStatus"])


async def test_late_upload_end_to_end_alerts_once_each_then_delivers_and_records_the_first_open(env, sessionmaker,
                                                                                                  settings):
    world = await _world(sessionmaker)
    handle, inp = await _start(env, sessionmaker, world, due_in=timedelta(days=3))
    row = await _row(sessionmaker, inp.order_id)  # the workflow made its row (no API in between)
    assert row.status == ReportDeliveryStatus.AWAITING_UPLOAD and row.reference == "INV-42"

    # Nothing until a day before the due date.
    await env.sleep(timedelta(days=2) - timedelta(hours=1))
    assert await _messages(sessionmaker, "report_due_soon") == []
    await env.sleep(timedelta(hours=2))
    # Messages leave in the background once the step is recorded (the outbox): wait for them.
    due_soon = await poll_until(lambda: _messages(sessionmaker, "report_due_soon"), lambda m: len(m) >= 2)
    assert [(m.channel, m.recipient) for m in due_soon] == [("email", CONSULTANT), ("in_app", CONSULTANT)]
    assert "Varshaphal 2027" in due_soon[0].body and "Seeker" in due_soon[0].body and "IST" in due_soon[0].body
    state = await _state(handle)
    assert state.status == ReportDeliveryStatus.AWAITING_UPLOAD and state.due_soon_alert_at is not None
    assert (await _row(sessionmaker, inp.order_id)).due_soon_alert_at is not None

    # The due date passes without a report: overdue, once.
    await env.sleep(timedelta(days=1))
    overdue = await poll_until(lambda: _messages(sessionmaker, "report_overdue"), lambda m: len(m) >= 2)
    assert [(m.channel, m.recipient) for m in overdue] == [("email", CONSULTANT), ("in_app", CONSULTANT)]
    assert (await _state(handle)).status == ReportDeliveryStatus.OVERDUE
    assert (await _row(sessionmaker, inp.order_id)).status == ReportDeliveryStatus.OVERDUE
    assert await _status_attribute(handle) == "overdue"
    await env.sleep(timedelta(days=4))
    assert len(await _messages(sessionmaker, "report_due_soon")) == 2  # still one email and one in-app
    assert len(await _messages(sessionmaker, "report_overdue")) == 2

    # The late upload is delivered at once: email with a signed link, and in-app.
    uploaded_at = await env.get_current_time()
    file_id = await _upload(sessionmaker, world, inp.order_id, signal=handle, at=uploaded_at)
    state = await _until(handle, ReportDeliveryStatus.DELIVERED)
    assert state.file_id == file_id and state.delivered_at is not None
    email, in_app = await poll_until(lambda: _messages(sessionmaker, "report_delivered"), lambda m: len(m) >= 2)
    assert (email.channel, email.recipient, in_app.channel) == ("email", CLIENT, "in_app")
    assert email.data["link"] in email.body and "Nakshatra Reports" in email.body
    link = urlsplit(email.data["link"])
    assert link.path == f"/api/v1/files/{file_id}/content"
    grant = DownloadLinks.from_keys(Keys.from_settings(settings)).verify(
        parse_qs(link.query)["token"][0], file_id=file_id, now=uploaded_at)
    assert grant.user_id == world.client_id and grant.tenant_id == world.tenant_id
    assert grant.expires_at - uploaded_at > timedelta(days=6)
    row = await _row(sessionmaker, inp.order_id)
    assert row.status == ReportDeliveryStatus.DELIVERED and row.delivered_at is not None
    assert await _status_attribute(handle) == "delivered"

    # The client opens it twice: the first open is recorded, once.
    first = await env.get_current_time()
    await handle.signal(ReportDeliveryWorkflow.report_opened, ReportOpened(file_id=file_id, at=first))
    await handle.signal(ReportDeliveryWorkflow.report_opened,
                        ReportOpened(file_id=file_id, at=first + timedelta(hours=5)))
    state = await _until(handle, ReportDeliveryStatus.OPENED)
    assert state.first_opened_at == first
    final = await handle.result()  # the workflow ends once the first open is recorded
    assert final.status == ReportDeliveryStatus.OPENED and final.first_opened_at == first
    row = await _row(sessionmaker, inp.order_id)
    assert row.status == ReportDeliveryStatus.OPENED and row.first_opened_at == first
    # nothing was sent twice along the way
    assert len(await _messages(sessionmaker, "report_delivered")) == 2  # one email, one in-app
    assert len(await _messages(sessionmaker, "report_due_soon")) == 2
    assert len(await _messages(sessionmaker, "report_overdue")) == 2


async def test_an_upload_in_time_sends_no_alert(env, sessionmaker):
    world = await _world(sessionmaker)
    handle, inp = await _start(env, sessionmaker, world, due_in=timedelta(days=5))
    await env.sleep(timedelta(days=1))
    await _upload(sessionmaker, world, inp.order_id, signal=handle, at=await env.get_current_time())
    await _until(handle, ReportDeliveryStatus.DELIVERED)
    await env.sleep(timedelta(days=10))
    assert await _messages(sessionmaker, "report_due_soon") == []
    assert await _messages(sessionmaker, "report_overdue") == []
    assert [m.channel for m in await _messages(sessionmaker, "report_delivered")] == ["email", "in_app"]


async def test_unopened_report_ends_the_workflow_after_the_watch(env, sessionmaker):
    world = await _world(sessionmaker)
    handle, inp = await _start(env, sessionmaker, world, due_in=timedelta(days=5))
    await _upload(sessionmaker, world, inp.order_id, signal=handle, at=await env.get_current_time())
    await _until(handle, ReportDeliveryStatus.DELIVERED)
    await env.sleep(OPEN_WATCH + timedelta(days=1))
    final = await handle.result()
    assert final.status == ReportDeliveryStatus.DELIVERED and final.first_opened_at is None


async def test_an_upload_whose_signal_was_lost_is_found_and_delivered(env, sessionmaker):
    """The upload endpoint's signal is best effort: the alert activity re-reads the database."""
    world = await _world(sessionmaker)
    handle, inp = await _start(env, sessionmaker, world, due_in=timedelta(days=2))
    file_id = await _upload(sessionmaker, world, inp.order_id, signal=None, at=await env.get_current_time())
    await env.sleep(timedelta(days=1, hours=1))  # the due-soon alert comes due
    state = await _until(handle, ReportDeliveryStatus.DELIVERED)
    assert state.file_id == file_id
    assert await _messages(sessionmaker, "report_due_soon") == []
    delivered = await poll_until(lambda: _messages(sessionmaker, "report_delivered"), lambda m: len(m) >= 2)
    assert [m.channel for m in delivered] == ["email", "in_app"]


async def test_a_due_date_already_past_alerts_overdue_at_once(env, sessionmaker):
    world = await _world(sessionmaker)
    handle, _ = await _start(env, sessionmaker, world, due_in=-timedelta(hours=2))
    await _until(handle, ReportDeliveryStatus.OVERDUE)
    assert await _messages(sessionmaker, "report_due_soon") == []
    assert len(await poll_until(lambda: _messages(sessionmaker, "report_overdue"), lambda m: len(m) >= 2)) == 2


async def test_delivered_by_hand_is_recorded_audited_and_final(env, sessionmaker):
    world = await _world(sessionmaker)
    handle, inp = await _start(env, sessionmaker, world, due_in=timedelta(days=3))
    await _until(handle, ReportDeliveryStatus.AWAITING_UPLOAD)
    manual = ManualDelivery(actor_user_id=world.consultant_id, actor_role="owner", note="printed, given at the session",
                            request_id="req-by-hand")
    state = await handle.execute_update(ReportDeliveryWorkflow.mark_delivered_by_hand, manual)
    assert state.status == ReportDeliveryStatus.DELIVERED_BY_HAND and state.delivered_by == world.consultant_id
    row = await _row(sessionmaker, inp.order_id)
    assert row.status == ReportDeliveryStatus.DELIVERED_BY_HAND and row.delivery_note == manual.note
    assert row.delivered_by == world.consultant_id
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [audit] = (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "report.delivered_by_hand"))).scalars().all()
    assert audit.actor_user_id == world.consultant_id and audit.request_id == "req-by-hand"
    assert audit.target_id == str(inp.order_id) and audit.tenant_id == world.tenant_id
    assert (await handle.result()).status == ReportDeliveryStatus.DELIVERED_BY_HAND
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(ReportDeliveryWorkflow.mark_delivered_by_hand, manual)
    await env.sleep(timedelta(days=5))
    assert await _messages(sessionmaker, "report_overdue") == []


async def test_by_hand_is_refused_once_delivered(env, sessionmaker):
    world = await _world(sessionmaker)
    handle, inp = await _start(env, sessionmaker, world, due_in=timedelta(days=3))
    await _upload(sessionmaker, world, inp.order_id, signal=handle, at=await env.get_current_time())
    await _until(handle, ReportDeliveryStatus.DELIVERED)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ReportDeliveryWorkflow.mark_delivered_by_hand,
                                    ManualDelivery(actor_user_id=world.consultant_id, actor_role="owner"))
    assert "already delivered" in str(refused.value.cause)
    assert (await _row(sessionmaker, inp.order_id)).status == ReportDeliveryStatus.DELIVERED


async def test_delivery_activities_are_idempotent_when_retried(env, sessionmaker, settings):
    from activities.report_delivery import ReportDeliveryActivities
    from domain.report_delivery import ConsultantAlert, DeliverReport, RecordOpened, ReportRef

    world = await _world(sessionmaker)
    handle, inp = await _start(env, sessionmaker, world, due_in=timedelta(days=30))
    await _until(handle, ReportDeliveryStatus.AWAITING_UPLOAD)
    await handle.terminate("the test drives the activities itself")
    activities = ReportDeliveryActivities(sessionmaker, settings)
    ref = ReportRef(workflow_id=report_delivery_workflow_id(inp.order_id), tenant_id=world.tenant_id,
                    order_id=inp.order_id)
    now = await env.get_current_time()
    assert (await activities.alert_consultant(ConsultantAlert(ref=ref, kind="due_soon", at=now))).sent
    assert not (await activities.alert_consultant(ConsultantAlert(ref=ref, kind="due_soon", at=now))).sent
    file_id = await _upload(sessionmaker, world, inp.order_id, signal=None, at=now)
    first = await activities.deliver(DeliverReport(ref=ref, file_id=file_id, at=now))
    again = await activities.deliver(DeliverReport(ref=ref, file_id=file_id, at=now + timedelta(minutes=5)))
    assert first == again
    assert [m.channel for m in await _messages(sessionmaker, "report_delivered")] == ["email", "in_app"]
    assert await activities.record_opened(RecordOpened(ref=ref, at=now))
    assert not await activities.record_opened(RecordOpened(ref=ref, at=now + timedelta(hours=1)))
    row = await _row(sessionmaker, inp.order_id)
    assert row.first_opened_at == now and row.status == ReportDeliveryStatus.OPENED
    assert await activities.ensure_delivery(inp) == "opened"  # a repeated start changes nothing
