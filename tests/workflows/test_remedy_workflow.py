"""RemedyWorkflow on the time-skipping server: weeks of a programme pass in seconds, no sleeping."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from support import poll_until
from temporalio.client import WorkflowHandle, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.db import TenantScope, scoped_session
from domain.remedies.programme import (
    ChangeTimes,
    CheckIn,
    CheckInStatus,
    Extend,
    Pause,
    ProgrammeStatus,
    RemedyInput,
    RemedyState,
    Resume,
    Stop,
    remedy_workflow_id,
)
from domain.remedies.schedule import Plan, Schedule, ScheduleKind, local_instant
from models.identity import Role, User
from models.platform import AuditEvent, OutboxMessage
from models.remedies import Remedy, RemedyCheckIn, RemedyProgramme
from models.tenancy import Tenant, TenantStatus
from workers.registry import workflow_runner
from workflows.remedy import RemedyWorkflow

HISTORIES = Path(__file__).parent / "histories"
CLIENT_EMAIL = "seeker@remedy.example.com"
CONSULTANT_EMAIL = "acharya@remedy.example.com"


class World:
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    consultant_id: uuid.UUID
    remedy_id: uuid.UUID


async def _world(sessionmaker, zone: str) -> World:
    world = World()
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=f"r-{uuid.uuid4().hex[:8]}", name="Shani Remedies", status=TenantStatus.ACTIVE,
                        timezone=zone, settings={})
        session.add(tenant)
        await session.flush()
        client = User(tenant_id=tenant.id, email=CLIENT_EMAIL, full_name="Seeker", role=Role.CLIENT, timezone=zone)
        consultant = User(tenant_id=tenant.id, email=CONSULTANT_EMAIL, full_name="Acharya", role=Role.OWNER,
                          timezone="Asia/Kolkata")
        session.add_all([client, consultant])
        await session.flush()
        remedy = Remedy(tenant_id=tenant.id, kind="mantra", title="Shani mantra", instructions_en="Chant 108 times.",
                        instructions_hi="108 बार जप करें।", default_schedule={"kind": "daily", "times": ["07:00"]},
                        default_duration_days=40, created_by=consultant.id)
        session.add(remedy)
        await session.flush()
        world.tenant_id, world.client_id, world.consultant_id, world.remedy_id = (
            tenant.id, client.id, consultant.id, remedy.id)
    return world


async def _assign(env, sessionmaker, world: World, plan: Plan, **extra: object) -> WorkflowHandle:
    """What the API does when a consultant assigns a remedy: the row, then the workflow."""
    programme_id = uuid.uuid4()
    async with scoped_session(sessionmaker, TenantScope.of(world.tenant_id)) as session:
        session.add(RemedyProgramme(
            id=programme_id, tenant_id=world.tenant_id, remedy_id=world.remedy_id, client_id=world.client_id,
            consultant_id=world.consultant_id, source="direct", title="Shani mantra", status="active",
            plan=plan.model_dump(mode="json"), timezone=plan.timezone, start_date=plan.start_date,
            end_date=plan.end_date, workflow_id=remedy_workflow_id(programme_id), counted=0, done=0, skipped=0,
            missed=0, streak=0, best_streak=0))
    handle = await env.client.start_workflow(
        RemedyWorkflow.run, RemedyInput(programme_id=programme_id, tenant_id=world.tenant_id,
                                        client_id=world.client_id, consultant_id=world.consultant_id, plan=plan,
                                        **extra),
        id=remedy_workflow_id(programme_id), task_queue=env.task_queue)
    env.started.append(handle)
    await _settled(handle, lambda s: s.plan is not None and (s.upcoming is not None or s.status != "active"))
    return handle


async def _refused(call, words: str) -> None:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await call
    assert words in str(refused.value.cause), refused.value.cause


async def _settled(handle: WorkflowHandle, done, timeout: float = 20.0) -> RemedyState:
    state = await poll_until(lambda: handle.query(RemedyWorkflow.state), done, timeout)
    assert done(state), state
    return state


async def _until(env, instant: datetime) -> None:
    now = await env.get_current_time()
    if instant > now:
        await env.sleep(instant - now)


async def _templates(sessionmaker, recipient: str) -> list[str]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(OutboxMessage.template).where(
            OutboxMessage.recipient == recipient, OutboxMessage.channel == "email").order_by(
            OutboxMessage.created_at))).scalars())


async def _row(sessionmaker, handle: WorkflowHandle) -> RemedyProgramme:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        found = await session.get(RemedyProgramme, uuid.UUID(handle.id.removeprefix("remedy-")))
        assert found is not None
        return found


async def _check_ins(sessionmaker, handle: WorkflowHandle) -> dict[str, tuple[str, datetime]]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rows = (await session.execute(select(RemedyCheckIn).where(
            RemedyCheckIn.programme_id == uuid.UUID(handle.id.removeprefix("remedy-"))))).scalars()
        return {r.occurrence_key: (r.status, r.occurrence_at) for r in rows}


async def test_a_daily_mantra_across_the_spring_dst_change(env, sessionmaker):
    """07:00 in New York, 5 days around 14 March 2027: done, three missed (nudge, consultant told
    once), done again; a repeated check-in counts once; the reminders follow the wall clock."""
    zone = "America/New_York"
    world = await _world(sessionmaker, zone)
    plan = Plan(schedule=Schedule(times=[time(7)]), timezone=zone, start_date=date(2027, 3, 12), duration_days=5)
    handle = await _assign(env, sessionmaker, world, plan)
    state = await handle.query(RemedyWorkflow.state)
    assert state.upcoming is not None and state.upcoming.key == "2027-03-12T07:00"
    await poll_until(lambda: _templates(sessionmaker, CLIENT_EMAIL), lambda t: "remedy.assigned" in t)

    await _until(env, datetime(2027, 3, 12, 12, 5, tzinfo=ZoneInfo("UTC")))  # 07:05 EST
    await _settled(handle, lambda s: s.current is not None)
    first = await handle.execute_update(RemedyWorkflow.check_in, CheckIn(note="108 done"))
    assert (first.occurrence_key, first.counted_now, first.state.done, first.state.streak) == (
        "2027-03-12T07:00", True, 1, 1)
    again = await handle.execute_update(RemedyWorkflow.check_in, CheckIn(occurrence_key="2027-03-12T07:00",
                                                                          status=CheckInStatus.SKIPPED))
    assert (again.counted_now, again.status, again.state.done, again.state.skipped) == (False, "done", 1, 0)
    assert (await _row(sessionmaker, handle)).done == 1   # the row was written before the answer

    # 13th, 14th (the change: 07:00 EDT is 11:00 UTC) and 15th go by without a check-in
    await _until(env, datetime(2027, 3, 16, 11, 5, tzinfo=ZoneInfo("UTC")))  # 07:05 EDT on the 16th
    state = await _settled(handle, lambda s: s.missed == 3 and s.current is not None)
    assert (state.missed_in_a_row, state.nudges, state.consultant_told, state.streak) == (3, 1, True, 0)
    rows = await _check_ins(sessionmaker, handle)
    assert rows["2027-03-13T07:00"] == ("missed", datetime(2027, 3, 13, 12, 0, tzinfo=ZoneInfo("UTC")))
    assert rows["2027-03-14T07:00"] == ("missed", datetime(2027, 3, 14, 11, 0, tzinfo=ZoneInfo("UTC")))
    await _refused(handle.execute_update(RemedyWorkflow.check_in, CheckIn(occurrence_key="2027-03-14T07:00")),
                   "has closed")
    last = await handle.execute_update(RemedyWorkflow.check_in, CheckIn())
    assert (last.occurrence_key, last.state.done, last.state.missed_in_a_row) == ("2027-03-16T07:00", 2, 0)

    await env.sleep(timedelta(days=1, hours=1))   # the last window closes: complete
    state = await _settled(handle, lambda s: s.status == ProgrammeStatus.COMPLETED)
    assert (state.counted, state.done, state.missed, state.reminders) == (5, 2, 3, 5)
    row = await _row(sessionmaker, handle)
    assert (row.status, row.done, row.missed, row.next_occurrence_at) == ("completed", 2, 3, None)
    client = await poll_until(lambda: _templates(sessionmaker, CLIENT_EMAIL), lambda t: "remedy.feedback" in t)
    assert client.count("remedy.reminder") == 5 and client.count("remedy.nudge") == 1
    assert "remedy.completed" in client
    consultant = await poll_until(lambda: _templates(sessionmaker, CONSULTANT_EMAIL),
                                  lambda t: "remedy.completed_consultant" in t)
    assert consultant.count("remedy.missed") == 1
    history = await handle.fetch_history()
    await _replayer().replay_workflow(history)
    if os.environ.get("MUHURTA_RECORD_HISTORIES"):   # refresh the recorded history (after a deliberate change)
        (HISTORIES / "remedy-dst-v2.json").write_text(history.to_json())


def _replayer() -> Replayer:
    return Replayer(workflows=[RemedyWorkflow], data_converter=pydantic_data_converter,
                    workflow_runner=workflow_runner())


@pytest.mark.parametrize("recorded", sorted(p.name for p in HISTORIES.glob("remedy-*.json")))
async def test_recorded_histories_still_replay(recorded):
    """Histories recorded by earlier versions replay on today's code: a change that would break
    running programmes fails here (guard it with workflow.patched)."""
    text = (HISTORIES / recorded).read_text()
    await _replayer().replay_workflow(WorkflowHistory.from_json("remedy-recorded", text))


async def test_pause_resume_change_times_extend_and_stop_move_the_reminders(env, sessionmaker):
    zone = "Asia/Kolkata"
    kolkata = ZoneInfo(zone)
    world = await _world(sessionmaker, zone)
    tomorrow = (await env.get_current_time()).astimezone(kolkata).date() + timedelta(days=1)
    plan = Plan(schedule=Schedule(times=[time(8)]), timezone=zone, start_date=tomorrow, duration_days=10)
    handle = await _assign(env, sessionmaker, world, plan)

    moved = await handle.execute_update(RemedyWorkflow.change_times, ChangeTimes(times=[time(6, 30)]))
    assert moved.upcoming is not None and moved.upcoming.at == local_instant(tomorrow, time(6, 30), kolkata)
    assert (await _row(sessionmaker, handle)).next_occurrence_key == f"{tomorrow}T06:30"

    paused = await handle.execute_update(RemedyWorkflow.pause, Pause(reason="travelling"))
    assert paused.status == ProgrammeStatus.PAUSED
    await _refused(handle.execute_update(RemedyWorkflow.pause, Pause()), "not active")
    await env.sleep(timedelta(days=3))
    state = await handle.query(RemedyWorkflow.state)
    assert (state.counted, state.reminders) == (0, 0)   # paused occurrences are skipped, not missed
    resumed = await handle.execute_update(RemedyWorkflow.resume, Resume())
    assert resumed.status == ProgrammeStatus.ACTIVE and resumed.plan is not None
    assert resumed.plan.end_date == tomorrow + timedelta(days=9 + 3)   # lengthened by the pause
    assert resumed.upcoming is not None and resumed.upcoming.at > await env.get_current_time()

    await _refused(handle.execute_update(RemedyWorkflow.extend, Extend(occurrences=3)), "by days")
    extended = await handle.execute_update(RemedyWorkflow.extend, Extend(days=2))
    assert extended.plan is not None and extended.plan.end_date == tomorrow + timedelta(days=14)

    # an early check-in on the occurrence's own day: counted on it, and its reminder is not sent
    due = resumed.upcoming
    await _until(env, due.at - timedelta(minutes=20))
    early = await handle.execute_update(RemedyWorkflow.check_in, CheckIn())
    assert (early.occurrence_key, early.counted_now, early.state.counted) == (due.key, True, 1)
    await _until(env, due.at + timedelta(minutes=5))
    state = await handle.query(RemedyWorkflow.state)
    assert state.reminders == 0 and state.done == 1

    stopped = await handle.execute_update(RemedyWorkflow.stop, Stop(reason="the consultant changed the remedy"))
    assert stopped.status == ProgrammeStatus.STOPPED and stopped.upcoming is None
    await handle.result()
    row = await _row(sessionmaker, handle)
    assert (row.status, row.ended_reason, row.next_occurrence_at) == ("stopped", "the consultant changed the remedy",
                                                                      None)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        actions = list((await session.execute(select(AuditEvent.action).where(
            AuditEvent.target_id == str(row.id)).order_by(AuditEvent.at))).scalars())
    assert actions == ["remedy.times_changed", "remedy.paused", "remedy.resumed", "remedy.extended",
                       "remedy.stopped"]


async def test_an_occurrence_comes_ahead_and_its_reminder_is_held_until_its_instant(env, sessionmaker):
    """With a lead, the occurrence comes (and the one before it closes) `lead` before its instant:
    its reminder is handed over then, to be held until the instant (the hold itself:
    tests/unit/remedies/test_reminder_hold.py), so a burst due at one instant leaves on time."""
    zone = "Asia/Kolkata"
    world = await _world(sessionmaker, zone)
    tomorrow = (await env.get_current_time()).astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    plan = Plan(schedule=Schedule(times=[time(6)]), timezone=zone, start_date=tomorrow, duration_days=2)
    lead = timedelta(seconds=5)
    handle = await _assign(env, sessionmaker, world, plan, reminder_lead_seconds=5)
    first = (await handle.query(RemedyWorkflow.state)).upcoming
    assert first is not None

    await _until(env, first.at - timedelta(seconds=4))
    state = await _settled(handle, lambda s: s.current is not None)
    assert state.current is not None and (state.current.key, state.reminders) == (first.key, 1)
    events = (await handle.fetch_history()).events
    woke = [(i, e.event_time.ToDatetime(tzinfo=UTC)) for i, e in enumerate(events) if e.HasField(
        "timer_fired_event_attributes")]
    notified = [i for i, e in enumerate(events)
                if e.activity_task_scheduled_event_attributes.activity_type.name == "remedies.notify"]
    assert first.at - lead <= woke[-1][1] < first.at  # the occurrence came `lead` ahead of its instant
    assert notified[-1] > woke[-1][0]                 # and handed its reminder over then
    await poll_until(lambda: _templates(sessionmaker, CLIENT_EMAIL), lambda t: "remedy.reminder" in t, 60)

    # no check-in: when the next occurrence comes ahead, this one closes with it, counted missed
    second = state.upcoming
    assert second is not None
    await _until(env, second.at - timedelta(seconds=4))
    state = await _settled(handle, lambda s: s.current is not None and s.current.key == second.key)
    assert (state.counted, state.missed, state.reminders) == (2, 1, 2)
    assert (await _check_ins(sessionmaker, handle))[first.key] == ("missed", first.at)


async def test_a_year_of_saturdays_continues_as_new_and_replays(env, sessionmaker):
    """365 days of a Saturday donation, ten occurrences per run: the state crosses every run."""
    zone = "Europe/London"
    world = await _world(sessionmaker, zone)
    start = (await env.get_current_time()).astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    plan = Plan(schedule=Schedule(kind=ScheduleKind.WEEKDAYS, times=[time(9)], weekdays=["sat"]), timezone=zone,
                start_date=start, duration_days=365)
    handle = await _assign(env, sessionmaker, world, plan, occurrences_per_run=10, nudge_after_missed=30)
    first_run = (await handle.describe()).run_id

    await env.sleep(timedelta(days=200))
    state = await _settled(handle, lambda s: s.runs >= 3)
    assert state.counted >= 28
    # a check-in in a later run counts on the carried state: at the next Saturday, whatever the day today
    upcoming = state.upcoming
    assert upcoming is not None
    await _until(env, upcoming.at + timedelta(minutes=5))
    await _settled(handle, lambda s: s.current is not None and s.current.key == upcoming.key)
    answer = await handle.execute_update(RemedyWorkflow.check_in, CheckIn())
    assert answer.counted_now and answer.state.done == 1

    await env.sleep(timedelta(days=170))
    state = await _settled(handle, lambda s: s.status == ProgrammeStatus.COMPLETED)
    saturdays = sum(1 for d in range(365) if (start + timedelta(days=d)).weekday() == 5)
    assert state.counted == saturdays and state.done + state.missed == saturdays and state.runs >= 5
    assert state.done == 1
    history = await env.client.get_workflow_handle(handle.id, run_id=first_run).fetch_history()
    assert len(history.events) < 400   # bounded: one run holds ten occurrences
    replayer = _replayer()
    await replayer.replay_workflow(history)
    await replayer.replay_workflow(await handle.fetch_history())


async def test_a_paid_remedy_line_starts_its_programme_and_a_refund_stops_it(env, sessionmaker, gateway):
    from payments_support import consultancy, new_order, payment_reports

    from domain.payments.orders import OrderStatus, RefundRequest, order_workflow_id
    from domain.payments.pricing import LineIn, LineKind
    from workflows.orders import OrderWorkflow

    shop = await consultancy(sessionmaker)
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        remedy = Remedy(tenant_id=shop.tenant_id, kind="donation", title="Saturday donation",
                        instructions_en="Give black sesame on Saturdays.", price_minor=51_000, created_by=shop.owner_id,
                        default_schedule={"kind": "weekdays", "times": ["09:00"], "weekdays": ["sat"]},
                        default_duration_days=49)
        session.add(remedy)
        await session.flush()
        remedy_id = remedy.id
    inp = await new_order(sessionmaker, shop, [LineIn(kind=LineKind.REMEDY, description="Saturday donation",
                                                      unit_amount=51_000, ref_id=str(remedy_id),
                                                      offering_id=str(remedy_id))])
    order = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                            task_queue=env.task_queue)
    env.started.append(order)
    info = await order.execute_update(OrderWorkflow.checkout)
    gateway.pay(info.gateway_order_id)
    for report in payment_reports(gateway, info.gateway_order_id, "payment.captured"):
        await order.signal(OrderWorkflow.payment_captured, report)
    line_id = inp.lines[0].line_id
    programme = env.client.get_workflow_handle(remedy_workflow_id(line_id))
    env.started.append(programme)
    state = await poll_until(lambda: _safe_state(programme), lambda s: s is not None and s.upcoming is not None, 20)
    assert state.plan is not None and state.plan.schedule.weekdays == ["sat"] and state.plan.duration_days == 49
    assert state.upcoming is not None and state.upcoming.local_date.weekday() == 5
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(RemedyProgramme, line_id)
        assert row is not None and (row.source, row.order_id, row.consultant_id) == ("order", inp.order_id,
                                                                                       shop.owner_id)
    await poll_until(lambda: order.query(OrderWorkflow.state), lambda s: s.status == OrderStatus.FULFILLED)

    await order.execute_update(OrderWorkflow.refund, RefundRequest(amount=51_000, reason="changed their mind",
                                                                   key=f"refund-all-{inp.order_id}"))
    refund = next(r for r in gateway.refunds.values() if r["notes"].get("order_id") == str(inp.order_id))
    gateway.settle_refund(refund["id"])
    for report in payment_reports(gateway, info.gateway_order_id, "refund.processed"):
        await order.signal(OrderWorkflow.refund_settled, report)
    await _settled(programme, lambda s: s.status == ProgrammeStatus.STOPPED)
    assert (await _row(sessionmaker, programme)).ended_reason == "the order was refunded"


async def _safe_state(handle: WorkflowHandle) -> RemedyState | None:
    from temporalio.service import RPCError
    try:
        return await handle.query(RemedyWorkflow.state)
    except RPCError:
        return None  # not started yet
