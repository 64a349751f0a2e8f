"""ConsultationWorkflow on the time-skipping server with the real activities and database:
days pass in milliseconds, nothing sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from booking_support import booking_row, load_booking, messages, next_hour, practice, sent, slot_hour, templates
from notify_support import consent
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from support import poll_until
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from core.db import TenantScope, scoped_session
from domain.bookings.consultation import (
    BookingStatus,
    CancelRequest,
    ConsultationInput,
    ConsultationState,
    FollowUp,
    Outcome,
    OutcomeRequest,
    PaymentConfirmed,
    RescheduleRequest,
    StopFollowUps,
)
from domain.bookings.ical import unfold
from domain.bookings.policies import CancelledBy
from models.bookings import Booking, RefundStatus
from models.identity import User
from models.notifications import NotificationPreference
from workers.registry import WORKFLOWS, build_activities, workflow_runner
from workflows.consultation import ConsultationWorkflow

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


async def _start(env, inp: ConsultationInput, task_queue: str | None = None) -> WorkflowHandle:
    handle = await env.client.start_workflow(
        ConsultationWorkflow.run, inp, id=f"consultation-{inp.booking_id}", task_queue=task_queue or env.task_queue)
    env.started.append(handle)
    return handle


async def _state(handle) -> ConsultationState:
    return await handle.query(ConsultationWorkflow.state)


async def _until(env, at: datetime) -> None:
    """Let the server's clock run to `at` (time-skipping: instant)."""
    now = await env.get_current_time()
    if at > now:
        await env.sleep(at - now)


async def _settled(handle, status: BookingStatus) -> ConsultationState:
    """Wait (on a condition, not on time) until the workflow reports `status` (and, if confirmed,
    its confirmation step has run)."""
    state = await poll_until(lambda: _state(handle), lambda s: s.status == status and (
        status != BookingStatus.CONFIRMED or "confirmed" in s.steps_notified))
    assert state.status == status, f"workflow stayed {state.status}"
    return state


async def _notified(handle, step: str) -> ConsultationState:
    state = await poll_until(lambda: _state(handle), lambda s: step in s.steps_notified)
    assert step in state.steps_notified, f"{step} was never notified: {state.steps_notified}"
    return state


async def _booked(env, sessionmaker, *, price_minor=0, days_ahead=3, **fields):
    p = await practice(sessionmaker, price_minor=price_minor, **fields)
    now = await env.get_current_time()
    starts = next_hour(now) + days_ahead * DAY
    booking_id, inp = await booking_row(sessionmaker, p, starts, now=now)
    return p, booking_id, inp


async def test_free_booking_from_confirmation_to_follow_up(env, sessionmaker):
    p, booking_id, inp = await _booked(env, sessionmaker)
    await consent(sessionmaker, p.tenant_id, p.client_id, "marketing")  # the follow-up is a nudge: marketing
    handle = await _start(env, inp)
    state = await _settled(handle, BookingStatus.CONFIRMED)
    assert state.meeting_url and state.meeting_url.startswith("https://meet.jit.si/Muhurta-")
    confirmed = await messages(sessionmaker, booking_id)
    assert templates(confirmed) == ["consultation.confirmed.client", "consultation.confirmed.consultant"]
    invite = unfold(confirmed[0].data["ics"])
    assert "METHOD:REQUEST" in invite and f"UID:booking-{booking_id}@muhurta.app" in invite
    assert f"DTSTART:{inp.starts_at:%Y%m%dT%H%M%SZ}" in invite and "SEQUENCE:0" in invite
    assert confirmed[0].recipient == p.client_email and "Europe/London" in confirmed[0].body
    assert "/api/v1/booking-links/" in confirmed[0].data["manage_url"]

    await _until(env, inp.starts_at - DAY - HOUR)
    assert await messages(sessionmaker, booking_id, "consultation.reminder.client") == []
    await _until(env, inp.starts_at - DAY + HOUR)
    [day_before] = await messages(sessionmaker, booking_id, "consultation.reminder.client")
    assert "tomorrow" in day_before.subject
    await _until(env, inp.starts_at - HOUR / 2)
    reminders = await messages(sessionmaker, booking_id, "consultation.reminder.client")
    assert [r.subject for r in reminders] == ["Reminder: Kundli reading tomorrow", "Reminder: Kundli reading in 1 hour"]
    assert len(await messages(sessionmaker, booking_id, "consultation.reminder.consultant")) == 2

    await _until(env, inp.starts_at + HOUR / 2)  # the session is on: it may be completed from now
    done = await handle.execute_update(ConsultationWorkflow.record_outcome, OutcomeRequest(
        outcome=Outcome.COMPLETED, summary="Saturn transit discussed", private_notes_encrypted="gAAAA-ciphertext",
        actor_user_id=p.owner_id))
    assert done.status == BookingStatus.COMPLETED
    row = await load_booking(sessionmaker, booking_id)
    assert row.status == BookingStatus.COMPLETED and row.summary == "Saturn transit discussed"
    assert row.private_notes_encrypted == "gAAAA-ciphertext" and row.outcome_by == p.owner_id

    await _until(env, inp.starts_at + DAY + HOUR)
    [feedback] = await messages(sessionmaker, booking_id, "consultation.feedback.client")
    assert "/feedback" in feedback.data["feedback_url"]
    assert await messages(sessionmaker, booking_id, "consultation.follow_up.client") == []
    await _until(env, inp.starts_at + 91 * DAY)
    assert len(await messages(sessionmaker, booking_id, "consultation.follow_up.client")) == 1
    final = await handle.result()
    assert final.status == BookingStatus.COMPLETED
    assert final.follow_ups_sent == [FollowUp.FEEDBACK, FollowUp.FOLLOW_UP]
    assert [(r.offset_minutes, r.delivered) for r in final.reminders] == [(1440, True), (60, True)]


async def test_a_reminder_in_quiet_hours_waits_for_them_to_end_and_a_near_one_does_not(env, sessionmaker):
    p, booking_id, inp = await _booked(env, sessionmaker)
    day_before = inp.starts_at - DAY
    # The client's quiet hours: two hours either side of the day-before reminder, London wall clock.
    # The 1-hour reminder, 23 hours later, falls in the next night's quiet hours too.
    local = day_before.astimezone(ZoneInfo("Europe/London"))
    async with scoped_session(sessionmaker, TenantScope.of(p.tenant_id)) as session:
        await session.execute(update(User).where(User.id == p.client_id).values(phone="+447700900123"))
        session.add(NotificationPreference(tenant_id=p.tenant_id, user_id=p.client_id,
                                           quiet_hours_start=(local - 2 * HOUR).time(),
                                           quiet_hours_end=(local + 2 * HOUR).time()))
        # The consultant's own quiet hours end later: they do not push the client's reminder.
        theirs = day_before.astimezone(ZoneInfo("Asia/Kolkata"))
        session.add(NotificationPreference(tenant_id=p.tenant_id, user_id=p.owner_id,
                                           quiet_hours_start=(theirs - 2 * HOUR).time(),
                                           quiet_hours_end=(theirs + 5 * HOUR).time()))
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)

    await _until(env, day_before + HOUR)
    assert await messages(sessionmaker, booking_id, "consultation.reminder.client") == []  # held, by a timer
    await _until(env, day_before + 2 * HOUR + HOUR / 2)
    sent = await messages(sessionmaker, booking_id, "consultation.reminder.client")
    assert sorted(m.channel for m in sent) == ["email", "sms"]  # a client with a phone gets the SMS too
    [sms] = [m for m in sent if m.channel == "sms"]
    assert sms.recipient == "+447700900123" and "tomorrow" in sms.body and len(sms.body) <= 320
    await _until(env, inp.starts_at - HOUR / 2)
    reminders = (await _state(handle)).reminders
    # sent_at is the workflow's clock after the send activity: a few real milliseconds late
    assert [(r.offset_minutes, r.sent_at.replace(second=0, microsecond=0)) for r in reminders] == [
        (1440, day_before + 2 * HOUR),       # when the quiet hours ended
        (60, inp.starts_at - HOUR),          # urgent: at its time, quiet hours or not
    ]
    assert len(await messages(sessionmaker, booking_id, "consultation.reminder.consultant")) == 2


async def test_reschedule_moves_the_reminders_and_none_is_sent_for_the_old_time(env, sessionmaker):
    p, booking_id, inp = await _booked(env, sessionmaker)
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)
    await _until(env, inp.starts_at - 2 * DAY + HOUR)  # before the first reminder
    new_start = slot_hour(inp.starts_at + 2 * DAY + 3 * HOUR)
    moved = await handle.execute_update(ConsultationWorkflow.reschedule, RescheduleRequest(
        starts_at=new_start, by=CancelledBy.CLIENT, actor_user_id=p.client_id, request_id="req-move"))
    assert moved.starts_at == new_start and moved.sequence == 1
    row = await load_booking(sessionmaker, booking_id)
    assert (row.starts_at, row.sequence, row.reschedule_count) == (new_start, 1, 1)
    assert row.blocked.lower == new_start and row.blocked.upper == new_start + 75 * timedelta(minutes=1)
    [notice] = await sent(sessionmaker, booking_id, "consultation.rescheduled.client")
    assert "SEQUENCE:1" in unfold(notice.data["ics"]) and f"DTSTART:{new_start:%Y%m%dT%H%M%SZ}" in notice.data["ics"]

    await _until(env, inp.starts_at + HOUR)  # past both old reminder times and the old start
    assert await messages(sessionmaker, booking_id, "consultation.reminder.client") == []
    await _until(env, new_start - HOUR / 2)
    reminders = await messages(sessionmaker, booking_id, "consultation.reminder.client")
    assert len(reminders) == 2
    assert {m.data["starts_at"] for m in reminders} == {new_start.isoformat()}
    state = await _state(handle)
    assert {(r.sequence, r.offset_minutes) for r in state.reminders} == {(1, 1440), (1, 60)}


async def test_reschedule_is_validated_against_policy_and_availability(env, sessionmaker):
    p, booking_id, inp = await _booked(env, sessionmaker, reschedule_policy={"min_hours_before": 12,
                                                                            "max_reschedules": 1})
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)
    now = await env.get_current_time()
    # another client's booking makes a slot taken
    other_start = inp.starts_at + DAY
    await booking_row(sessionmaker, p, other_start, now=now)

    async def refused(starts_at, by=CancelledBy.CLIENT) -> ApplicationError:
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(ConsultationWorkflow.reschedule, RescheduleRequest(starts_at=starts_at, by=by))
        cause = info.value.cause
        assert isinstance(cause, ApplicationError)
        return cause

    assert (await refused(other_start + HOUR / 2)).type == "SlotTaken"       # overlaps with its buffer
    assert (await refused(inp.starts_at + DAY / 2 + timedelta(minutes=10))).type == "NotASlot"  # off the step
    assert "future" in (await refused(now - HOUR)).message
    assert "already the booking's time" in (await refused(inp.starts_at)).message
    assert (await load_booking(sessionmaker, booking_id)).sequence == 0
    await handle.execute_update(ConsultationWorkflow.reschedule,
                                RescheduleRequest(starts_at=inp.starts_at + 2 * DAY, by=CancelledBy.CLIENT))
    assert "most the policy allows" in (await refused(inp.starts_at + 3 * DAY)).message
    # the consultancy may still move it
    await handle.execute_update(ConsultationWorkflow.reschedule,
                                RescheduleRequest(starts_at=inp.starts_at + 3 * DAY, by=CancelledBy.CONSULTANT))
    await _until(env, inp.starts_at + 3 * DAY - 11 * HOUR)
    assert "12 h before" in (await refused(inp.starts_at + 4 * DAY)).message
    assert (await load_booking(sessionmaker, booking_id)).sequence == 2


async def _paid_and_confirmed(env, sessionmaker, handle, inp, amount=150_000):
    await handle.signal(ConsultationWorkflow.payment_confirmed, PaymentConfirmed(
        amount_minor=amount, currency="INR", method="razorpay", reference="pay_123",
        paid_at=await env.get_current_time()))
    return await _settled(handle, BookingStatus.CONFIRMED)


@pytest.mark.parametrize(("hours_before", "by", "percent"), [
    (48, CancelledBy.CLIENT, 100),
    (10, CancelledBy.CLIENT, 50),
    (2, CancelledBy.CLIENT, 0),
    (2, CancelledBy.CONSULTANT, 100),
])
async def test_cancel_applies_the_policy_band_and_records_the_refund_due(env, sessionmaker, hours_before, by,
                                                                         percent):
    p, booking_id, inp = await _booked(env, sessionmaker, price_minor=150_000)
    handle = await _start(env, inp)
    assert (await _state(handle)).status == BookingStatus.HELD
    state = await _paid_and_confirmed(env, sessionmaker, handle, inp)
    assert state.paid
    await _until(env, inp.starts_at - hours_before * HOUR)
    reminded = len(await messages(sessionmaker, booking_id, "consultation.reminder.client"))
    reason = "Travelling" if by == CancelledBy.CLIENT else "Consultant unwell"
    result = await handle.execute_update(ConsultationWorkflow.cancel, CancelRequest(
        by=by, reason=reason, actor_user_id=p.client_id if by == CancelledBy.CLIENT else p.owner_id))
    assert result.status == BookingStatus.CANCELLED and result.refund_percent == percent
    row = await load_booking(sessionmaker, booking_id)
    assert row.status == BookingStatus.CANCELLED and row.cancelled_by == by.value
    assert row.refund_due_minor == 150_000 * percent // 100
    assert row.refund_status == (RefundStatus.DUE if percent else RefundStatus.NONE)
    assert row.amount_paid_minor == 150_000 and row.payment_reference == "pay_123"
    [told] = await sent(sessionmaker, booking_id, "consultation.cancelled.client")
    assert reason in told.body
    ics = unfold(told.data["ics"])
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics and "SEQUENCE:1" in ics
    assert (await handle.result()).status == BookingStatus.CANCELLED
    await _until(env, inp.starts_at + HOUR)
    assert len(await messages(sessionmaker, booking_id, "consultation.reminder.client")) == reminded  # none after
    # the slot is free again: the database accepts another booking over it
    await booking_row(sessionmaker, p, inp.starts_at + 10 * DAY, now=await env.get_current_time())


async def test_cancel_and_outcome_are_refused_when_they_make_no_sense(env, sessionmaker):
    _p, _booking_id, inp = await _booked(env, sessionmaker)
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(ConsultationWorkflow.cancel, CancelRequest(by=CancelledBy.CONSULTANT, reason=" "))
    assert info.value.cause.details == ({"field": "reason"},)
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await handle.execute_update(ConsultationWorkflow.record_outcome, OutcomeRequest(outcome=Outcome.NO_SHOW))
    assert "not started" in str(early.value.cause)
    await _until(env, inp.starts_at + HOUR / 4)
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await handle.execute_update(ConsultationWorkflow.cancel, CancelRequest(by=CancelledBy.CLIENT))
    assert "has started" in str(late.value.cause)


async def test_no_show(env, sessionmaker):
    p, booking_id, inp = await _booked(env, sessionmaker, follow_up_days=None)
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)
    await _until(env, inp.starts_at + HOUR / 4)
    state = await handle.execute_update(ConsultationWorkflow.record_outcome,
                                        OutcomeRequest(outcome=Outcome.NO_SHOW, actor_user_id=p.owner_id))
    assert state.status == BookingStatus.NO_SHOW
    assert (await handle.result()).status == BookingStatus.NO_SHOW
    row = await load_booking(sessionmaker, booking_id)
    assert row.status == BookingStatus.NO_SHOW and row.no_show_at is not None
    assert len(await messages(sessionmaker, booking_id, "consultation.no_show.client")) == 1
    assert await messages(sessionmaker, booking_id, "consultation.feedback.client") == []


async def test_consultant_is_asked_when_no_outcome_is_recorded(env, sessionmaker):
    p, booking_id, inp = await _booked(env, sessionmaker)
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)
    await _until(env, inp.ends_at + HOUR)
    assert await messages(sessionmaker, booking_id, "consultation.outcome_needed.consultant") == []
    await _until(env, inp.ends_at + 2 * HOUR + timedelta(minutes=5))  # the 2 h grace is over
    [ask] = await messages(sessionmaker, booking_id, "consultation.outcome_needed.consultant")
    assert ask.recipient == p.owner_email
    await _until(env, inp.ends_at + 10 * DAY)
    assert len(await messages(sessionmaker, booking_id, "consultation.outcome_needed.consultant")) == 3  # then quiet
    state = await handle.execute_update(ConsultationWorkflow.record_outcome,
                                        OutcomeRequest(outcome=Outcome.COMPLETED, summary="late note"))
    assert state.status == BookingStatus.COMPLETED and state.outcome_asks == 3
    await handle.execute_update(ConsultationWorkflow.stop_follow_ups, StopFollowUps())
    assert (await handle.result()).follow_ups_sent == []


async def test_hold_expires_on_its_own_and_frees_the_slot(env, sessionmaker):
    p, booking_id, inp = await _booked(env, sessionmaker, price_minor=99_900)
    handle = await _start(env, inp)
    await _notified(handle, "held")
    [held] = await messages(sessionmaker, booking_id, "consultation.held.client")
    assert "Complete the payment" in held.body
    # while held, the database refuses another booking over the same time
    now = await env.get_current_time()
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        await booking_row(sessionmaker, p, inp.starts_at, now=now)
    await env.sleep(timedelta(minutes=16))
    final = await handle.result()
    assert final.status == BookingStatus.ABANDONED
    assert (await load_booking(sessionmaker, booking_id)).status == BookingStatus.ABANDONED
    assert len(await messages(sessionmaker, booking_id, "consultation.hold_expired.client")) == 1
    await booking_row(sessionmaker, p, inp.starts_at, now=await env.get_current_time())  # free again


async def test_payment_recorded_in_the_database_wins_over_a_lost_signal(env, sessionmaker):
    """Staff marked it paid (paid_at written) but the signal never arrived: expiry confirms it."""
    p, booking_id, inp = await _booked(env, sessionmaker, price_minor=50_000)
    async with scoped_session(sessionmaker, TenantScope.of(p.tenant_id)) as session:
        row = await session.get(Booking, booking_id)
        row.paid_at, row.amount_paid_minor, row.payment_method = datetime.now(UTC), 50_000, "cash"
    handle = await _start(env, inp)
    await env.sleep(timedelta(minutes=16))
    state = await _settled(handle, BookingStatus.CONFIRMED)
    assert state.paid and state.meeting_url
    assert (await load_booking(sessionmaker, booking_id)).status == BookingStatus.CONFIRMED


async def test_a_worker_restart_in_the_middle_changes_nothing(time_skipping_env, sessionmaker, settings, clean):
    env = time_skipping_env
    queue = f"wf-restart-{uuid.uuid4().hex[:8]}"
    worker_settings = settings.model_copy(update={"temporal_task_queue": queue})

    def worker() -> Worker:
        return Worker(env.client, task_queue=queue, workflows=list(WORKFLOWS),
                      activities=build_activities(sessionmaker, worker_settings), workflow_runner=workflow_runner(),
                      max_cached_workflows=0)

    p = await practice(sessionmaker)
    now = await env.get_current_time()
    booking_id, inp = await booking_row(sessionmaker, p, next_hour(now) + 3 * DAY, now=now)
    async with worker():
        handle = await env.client.start_workflow(ConsultationWorkflow.run, inp, id=f"consultation-{booking_id}",
                                                 task_queue=queue)
        await _settled(handle, BookingStatus.CONFIRMED)
    # The first worker is gone. Nearly two days pass with nobody polling, up to just before the
    # day-before reminder's timer (the time-skipping server will not skip past a timer that has
    # fired while no worker can run its task; the dev server would simply run it late).
    try:
        await _until(env, inp.starts_at - DAY - HOUR)
        assert await messages(sessionmaker, booking_id, "consultation.reminder.client") == []
        async with worker():  # a new worker (no cache) replays the history and carries on
            await _until(env, inp.starts_at - DAY + HOUR)
            assert "reminder:0:1440" in (await _state(handle)).steps_notified
            await _until(env, inp.starts_at - HOUR / 2)
            assert len(await messages(sessionmaker, booking_id, "consultation.reminder.client")) == 2
            await _until(env, inp.starts_at + HOUR / 4)
            await handle.execute_update(ConsultationWorkflow.record_outcome,
                                        OutcomeRequest(outcome=Outcome.NO_SHOW))
            assert (await handle.result()).status == BookingStatus.NO_SHOW
    finally:
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")
    sent = templates(await messages(sessionmaker, booking_id))
    assert sent.count("consultation.confirmed.client") == 1 and sent.count("consultation.reminder.client") == 2


async def test_two_changes_at_once_one_is_applied_the_other_refused_or_after(env, sessionmaker):
    _p, booking_id, inp = await _booked(env, sessionmaker)
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)
    outcomes = await asyncio.gather(
        handle.execute_update(ConsultationWorkflow.cancel, CancelRequest(by=CancelledBy.CLIENT)),
        handle.execute_update(ConsultationWorkflow.reschedule,
                              RescheduleRequest(starts_at=inp.starts_at + DAY, by=CancelledBy.CLIENT)),
        return_exceptions=True,
    )
    applied = [o for o in outcomes if isinstance(o, ConsultationState)]
    assert applied, outcomes
    refused = [o for o in outcomes if not isinstance(o, ConsultationState)]
    # a refusal is the workflow's own answer (its validator or handler), never a timeout or a crash
    assert all(isinstance(o, WorkflowUpdateFailedError) and isinstance(o.cause, ApplicationError)
               for o in refused), outcomes
    final = await _state(handle)
    row = await load_booking(sessionmaker, booking_id)
    assert row.status == final.status and row.starts_at == final.starts_at and row.sequence == final.sequence


async def test_support_extends_a_hold_and_the_workflow_waits_until_the_new_time(env, sessionmaker):
    """`extend_hold` (support, with a reason: the API writes the row, then signals) moves the hold
    timer; a timer that fires while the row is already later (the signal still on its way) does
    not release the slot either."""
    p, booking_id, inp = await _booked(env, sessionmaker, price_minor=99_900)
    handle = await _start(env, inp)
    await _notified(handle, "held")
    assert inp.hold_expires_at is not None
    later = inp.hold_expires_at + timedelta(minutes=30)
    async with scoped_session(sessionmaker, TenantScope.of(p.tenant_id)) as session:
        await session.execute(update(Booking).where(Booking.id == booking_id).values(hold_expires_at=later))
    # the original time passes before the signal comes: the database says "held longer"
    await env.sleep(timedelta(minutes=16))
    assert (await _state(handle)).status == BookingStatus.HELD
    await handle.signal(ConsultationWorkflow.extend_hold, later)
    assert (await _state(handle)).hold_expires_at == later
    await _until(env, later - timedelta(minutes=1))
    assert (await _state(handle)).status == BookingStatus.HELD
    assert await messages(sessionmaker, booking_id, "consultation.hold_expired.client") == []
    await _until(env, later + timedelta(minutes=1))
    final = await handle.result()
    assert final.status == BookingStatus.ABANDONED
    assert (await load_booking(sessionmaker, booking_id)).status == BookingStatus.ABANDONED
    # an extension of a booking that is no longer held changes nothing
    assert final.hold_expires_at == later
