"""NotifyWorkflow, the notify() helper and BroadcastWorkflow on the time-skipping server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fake_providers import fake_provider, twilio_error
from notify_support import consent, deliveries, make_people, outbox, own_provider_accounts, set_preferences
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

from core.db import TenantScope, scoped_session
from core.security import Keys, hash_password
from domain.notification_channels import Channel, DeliveryStatus
from domain.notifications import (
    BroadcastFilter,
    BroadcastInput,
    BroadcastStatus,
    NotificationRequest,
    broadcast_workflow_id,
    notify_workflow_id,
)
from models.identity import Role, User
from models.notifications import Broadcast, BroadcastRecipient, InAppNotification
from workers.registry import WORKFLOWS, build_activities, workflow_runner
from workflows.notifications import BroadcastWorkflow, NotifyWorkflow
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

SESSION = {"counterpart_name": "Acharya Demo", "service_name": "Kundli reading",
           "starts_at": "2026-11-28T13:00:00+00:00", "duration_minutes": 60, "join_url": "https://meet.example.com/x"}


def _window_around(now: datetime, zone: str, before: timedelta, after: timedelta) -> dict:
    """Quiet hours (local wall clock) that began `before` ago and end `after` from now."""
    local = now.astimezone(ZoneInfo(zone))
    return {"quiet_hours_start": (local - before).time().replace(second=0, microsecond=0),
            "quiet_hours_end": (local + after).time().replace(second=0, microsecond=0)}


async def _timers(handle) -> list[timedelta]:
    timers = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timers.append(event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta())
    return timers


async def _start_notify(env, request: NotificationRequest):
    handle = await env.client.start_workflow(NotifyWorkflow.run, request, id=notify_workflow_id(request.dedupe_key),
                                             task_queue=env.task_queue)
    env.started.append(handle)
    return handle


async def test_a_reminder_in_quiet_hours_waits_for_them_to_end(env, sessionmaker):
    people = await make_people(sessionmaker)
    now = await env.get_current_time()
    window = _window_around(now, "Asia/Kolkata", timedelta(hours=1), timedelta(hours=3))
    await set_preferences(sessionmaker, people.tenant_id, people.client_id, **window)
    request = NotificationRequest(dedupe_key=f"test-{uuid.uuid4().hex[:6]}:reminder", tenant_id=people.tenant_id,
                                  recipient_user_id=people.client_id, event="session_reminder", variables=SESSION)
    handle = await _start_notify(env, request)

    await env.sleep(timedelta(hours=1))
    state = await handle.query(NotifyWorkflow.state)
    assert state.status == "held" and state.held_until is not None
    assert state.held_until.astimezone(ZoneInfo("Asia/Kolkata")).time() == window["quiet_hours_end"]
    assert await outbox(sessionmaker) == [] and await deliveries(sessionmaker) == []
    description = await handle.describe()
    assert description.typed_search_attributes.get(ENTITY_STATUS) == "held"
    assert description.typed_search_attributes.get(TENANT_ID) == str(people.tenant_id)

    outcome = await handle.result()
    assert outcome.sent_on == [Channel.EMAIL, Channel.SMS, Channel.IN_APP] and not outcome.held
    [timer] = await _timers(handle)
    assert timedelta(hours=2, minutes=57) < timer <= timedelta(hours=3)
    assert {m.channel for m in await outbox(sessionmaker)} == {"email", "sms"}
    assert (await handle.query(NotifyWorkflow.state)).status == "done"


async def test_an_urgent_message_is_not_held(env, sessionmaker):
    people = await make_people(sessionmaker)
    now = await env.get_current_time()
    await set_preferences(sessionmaker, people.tenant_id, people.client_id,
                          **_window_around(now, "Asia/Kolkata", timedelta(hours=1), timedelta(hours=3)))
    request = NotificationRequest(dedupe_key=f"test-{uuid.uuid4().hex[:6]}:soon", tenant_id=people.tenant_id,
                                  recipient_user_id=people.client_id, event="session_starting_soon",
                                  variables={**SESSION, "minutes": 10})
    handle = await _start_notify(env, request)
    outcome = await handle.result()
    assert outcome.sent_on == [Channel.SMS, Channel.IN_APP]
    assert await _timers(handle) == []


async def test_a_message_that_cannot_be_sent_comes_back_in_the_outcome(env, sessionmaker):
    people = await make_people(sessionmaker)
    request = NotificationRequest(dedupe_key=f"test-{uuid.uuid4().hex[:6]}:broken", tenant_id=people.tenant_id,
                                  recipient_user_id=people.client_id, event="session_booked",
                                  variables={"service_name": "no start time"})
    outcome = await (await _start_notify(env, request)).result()
    assert outcome.failed_on == [Channel.EMAIL, Channel.IN_APP]
    assert all("undefined" in (c.error or "") for c in outcome.channels)


async def test_temporal_retries_a_provider_outage_and_sends_each_channel_once(time_skipping_env, sessionmaker,
                                                                             settings, clean):
    """Twilio answers 503 twice; Temporal retries the activity. SendGrid, which accepted the email on
    the first attempt, is never called again."""
    people = await make_people(sessionmaker)
    keys = Keys.from_settings(settings)
    await own_provider_accounts(sessionmaker, keys, people.tenant_id)
    with fake_provider("sendgrid") as sendgrid, fake_provider("twilio") as twilio:
        twilio.fail_next(twilio_error(503, 20003, "Service unavailable"), twilio_error(500, 20500, "Oops"))
        queue = f"wf-retry-{uuid.uuid4().hex[:8]}"
        worker_settings = settings.model_copy(update={
            "temporal_task_queue": queue, "sendgrid_api_host": sendgrid.url, "twilio_api_base_url": twilio.url})
        async with Worker(time_skipping_env.client, task_queue=queue, workflows=list(WORKFLOWS),
                          activities=build_activities(sessionmaker, worker_settings),
                          workflow_runner=workflow_runner()):
            request = NotificationRequest(
                dedupe_key=f"consultation-{uuid.uuid4().hex[:6]}:reminder", tenant_id=people.tenant_id,
                recipient_user_id=people.client_id, event="session_reminder", variables=SESSION,
                channels=[Channel.EMAIL, Channel.SMS], urgent=True)
            outcome = await time_skipping_env.client.execute_workflow(
                NotifyWorkflow.run, request, id=notify_workflow_id(request.dedupe_key), task_queue=queue)
    assert outcome.sent_on == [Channel.EMAIL, Channel.SMS]
    assert len(sendgrid.requests) == 1 and len(twilio.requests) == 3
    rows = {r.channel: r for r in await deliveries(sessionmaker)}
    assert rows["email"].attempts == 1 and rows["sms"].attempts == 3
    assert rows["sms"].status == DeliveryStatus.SENT.value and not rows["sms"].uncertain


# -- broadcasts -----------------------------------------------------------------------------------------------
async def _clients(sessionmaker, tenant_id, count: int) -> list[uuid.UUID]:
    async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
        users = [User(tenant_id=tenant_id, email=f"client{i}@example.com", full_name=f"Client {i}", role=Role.CLIENT,
                      timezone="Asia/Kolkata", locale="hi" if i == 0 else "en", password_hash=hash_password("x" * 12),
                      created_at=datetime.now(UTC) - timedelta(days=1))
                 for i in range(count)]
        session.add_all(users)
        await session.flush()
        return [u.id for u in users]


async def _broadcast(sessionmaker, tenant_id, flt: BroadcastFilter | None = None) -> uuid.UUID:
    """An announcement to the tenant's clients, every one of whom agreed to marketing."""
    broadcast_id = uuid.uuid4()
    async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
        clients = (await session.execute(select(User.id).where(User.role == Role.CLIENT))).scalars().all()
    for client_id in clients:
        await consent(sessionmaker, tenant_id, client_id, "marketing")
    async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
        session.add(Broadcast(id=broadcast_id, tenant_id=tenant_id, event="announcement",
                              variables={"title": "Diwali hours", "message": "We are closed on 1 November."},
                              channels=None, filter=(flt or BroadcastFilter()).model_dump(mode="json"),
                              workflow_id=broadcast_workflow_id(broadcast_id), status="running"))
    return broadcast_id


async def _start_broadcast(env, broadcast_id, tenant_id, **extra):
    handle = await env.client.start_workflow(
        BroadcastWorkflow.run, BroadcastInput(broadcast_id=broadcast_id, tenant_id=tenant_id, **extra),
        id=broadcast_workflow_id(broadcast_id), task_queue=env.task_queue,
        search_attributes=None)
    env.started.append(handle)
    return handle


async def test_a_broadcast_fans_out_in_batches_across_runs_and_waits_for_quiet_hours(env, sessionmaker):
    people = await make_people(sessionmaker)
    clients = await _clients(sessionmaker, people.tenant_id, 5)
    now = await env.get_current_time()
    await set_preferences(sessionmaker, people.tenant_id, clients[1], announcements=False)
    await set_preferences(sessionmaker, people.tenant_id, clients[2],
                          **_window_around(now, "Asia/Kolkata", timedelta(hours=1), timedelta(hours=5)))
    broadcast_id = await _broadcast(sessionmaker, people.tenant_id)
    handle = await _start_broadcast(env, broadcast_id, people.tenant_id, batch_size=2, batches_per_run=2)

    await env.sleep(timedelta(hours=1))
    progress = await handle.query(BroadcastWorkflow.progress)
    assert progress.status == BroadcastStatus.WAITING_QUIET_HOURS
    assert progress.counts.held == 1 and progress.counts.pending == 0
    description = await env.client.get_workflow_handle(handle.id).describe()
    assert description.typed_search_attributes.get(ENTITY_STATUS) == "waiting_quiet_hours"
    assert "waiting for quiet hours" in (await description.memo())["progress"]

    final = await handle.result()
    # the workflow's clients (2 from make_people, who joined before, plus 5) minus nobody
    total = final.counts.total
    assert total == 7  # make_people's two clients and the five above
    assert final.status == BroadcastStatus.COMPLETED
    assert (final.counts.sent, final.counts.skipped, final.counts.failed, final.counts.held) == (total - 1, 1, 0, 0)
    assert final.runs >= 2  # continued as new after two batches
    memo = await (await env.client.get_workflow_handle(handle.id).describe()).memo()
    assert memo["progress"] == f"{total}/{total} done: {total - 1} sent, 1 skipped, 0 failed"

    async with scoped_session(sessionmaker, TenantScope.of(people.tenant_id)) as session:
        row = await session.get(Broadcast, broadcast_id)
        assert (row.status, row.total, row.sent, row.skipped) == ("completed", total, total - 1, 1)
        recipients = {r.user_id: r for r in (await session.execute(select(BroadcastRecipient))).scalars()}
        inbox = (await session.execute(select(InAppNotification.user_id, InAppNotification.title))).all()
    assert recipients[clients[1]].status == "skipped" and recipients[clients[1]].detail.endswith("announcements")
    assert recipients[clients[2]].status == "sent"
    assert len(inbox) == total - 1 and {t for _, t in inbox} == {"Diwali hours"}
    emails = [m for m in await outbox(sessionmaker) if m.channel == "email"]
    assert len(emails) == total - 1
    hindi = next(m for m in emails if m.recipient == "client0@example.com")
    assert hindi.body.startswith("नमस्ते Client 0")


async def test_a_broadcast_can_be_cancelled_while_it_waits(env, sessionmaker):
    people = await make_people(sessionmaker)
    [only] = await _clients(sessionmaker, people.tenant_id, 1)
    now = await env.get_current_time()
    await set_preferences(sessionmaker, people.tenant_id, only,
                          **_window_around(now, "Asia/Kolkata", timedelta(hours=1), timedelta(hours=5)))
    broadcast_id = await _broadcast(sessionmaker, people.tenant_id, BroadcastFilter(client_ids=[only]))
    handle = await _start_broadcast(env, broadcast_id, people.tenant_id)
    await env.sleep(timedelta(minutes=30))
    await handle.signal(BroadcastWorkflow.cancel)
    final = await handle.result()
    assert final.status == BroadcastStatus.CANCELLED and final.counts.held == 1 and final.counts.sent == 0
    assert await outbox(sessionmaker) == []
