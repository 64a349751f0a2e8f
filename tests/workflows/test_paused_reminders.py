"""`pause_reminders` (the support console): a booking's and a quotation's reminders falling due
while paused are skipped and recorded as such, never sent late; resumed, the next one goes.
Time-skipping server, real PostgreSQL and the local outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from booking_support import messages
from payments_support import consultancy
from temporalio.client import WorkflowUpdateFailedError
from test_consultation_workflow import DAY, HOUR, _booked, _settled, _start, _until
from test_quotation_workflow import _consultant, _messages, _send, _wait_messages
from test_quotation_workflow import _settled as _quotation_settled

from domain.bookings.consultation import BookingStatus
from domain.support import PauseReminders
from workflows.consultation import ConsultationWorkflow
from workflows.quotation import QuotationWorkflow

PAUSE = PauseReminders(paused=True, reason="the client is travelling")
RESUME = PauseReminders(paused=False, reason="back home")


async def test_a_paused_booking_skips_its_day_before_reminder_and_sends_the_next(env, sessionmaker):
    _, booking_id, inp = await _booked(env, sessionmaker)
    handle = await _start(env, inp)
    await _settled(handle, BookingStatus.CONFIRMED)
    state = await handle.execute_update(ConsultationWorkflow.pause_reminders, PAUSE)
    assert state.reminders_paused is True
    with pytest.raises(WorkflowUpdateFailedError):  # paused already
        await handle.execute_update(ConsultationWorkflow.pause_reminders, PAUSE)

    await _until(env, inp.starts_at - DAY + HOUR)
    state = await handle.query(ConsultationWorkflow.state)
    assert [(r.offset_minutes, r.skipped) for r in state.reminders] == [(1440, True)]
    assert await messages(sessionmaker, booking_id, "consultation.reminder.client") == []

    await handle.execute_update(ConsultationWorkflow.pause_reminders, RESUME)
    await _until(env, inp.starts_at - HOUR / 2)
    state = await handle.query(ConsultationWorkflow.state)
    assert [(r.offset_minutes, r.skipped) for r in state.reminders] == [(1440, True), (60, False)]
    [reminder] = await messages(sessionmaker, booking_id, "consultation.reminder.client")
    assert "in 1 hour" in (reminder.subject or "")  # the skipped one is never sent late


async def test_a_paused_quotation_skips_its_reminder(env, sessionmaker):
    shop = await consultancy(sessionmaker)
    handle = await _send(env, sessionmaker, shop, await _consultant(sessionmaker, shop), valid_days=10,
                         reminder_days=[3, 1])
    await _wait_messages(sessionmaker, "quotation.received.client")
    state = await handle.execute_update(QuotationWorkflow.pause_reminders, PAUSE)
    assert state.reminders_paused is True
    await env.sleep(timedelta(days=7, hours=1))  # past "3 days before"
    state = await _quotation_settled(handle, lambda s: len(s.reminders_sent) == 1)
    assert state.reminders_skipped == state.reminders_sent
    assert await _messages(sessionmaker, "quotation.reminder.client") == []

    await handle.execute_update(QuotationWorkflow.pause_reminders, RESUME)
    await env.sleep(timedelta(days=2))  # past "1 day before"
    state = await _quotation_settled(handle, lambda s: len(s.reminders_sent) == 2)
    assert len(state.reminders_skipped) == 1
    [reminder] = await _wait_messages(sessionmaker, "quotation.reminder.client")
    assert "1 day" in (reminder.subject or "")
