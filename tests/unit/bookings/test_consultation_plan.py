"""Which reminders are still due: offsets after the time was agreed, none twice, none for an old time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.bookings.consultation import (
    BookingStatus,
    ConsultationState,
    ReminderSent,
    describe_offset,
    planned_reminders,
)

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def state(**changes) -> ConsultationState:
    base = dict(booking_id=uuid.uuid4(), status=BookingStatus.CONFIRMED, starts_at=START,
                ends_at=START + timedelta(hours=1), schedule_set_at=START - timedelta(days=3))
    base.update(changes)
    return ConsultationState(**base)


def test_default_offsets_in_order():
    plan = planned_reminders(state(), [60, 1440])
    assert [(p.offset_minutes, p.due_at) for p in plan] == [
        (1440, START - timedelta(days=1)), (60, START - timedelta(hours=1))]


def test_booked_late_skips_reminders_already_past():
    plan = planned_reminders(state(schedule_set_at=START - timedelta(hours=3)), [1440, 60])
    assert [p.offset_minutes for p in plan] == [60]
    assert planned_reminders(state(schedule_set_at=START - timedelta(minutes=30)), [1440, 60]) == []


def test_sent_reminders_count_only_for_their_sequence():
    sent = ReminderSent(sequence=0, offset_minutes=1440, due_at=START - timedelta(days=1),
                        sent_at=START - timedelta(days=1), delivered=True)
    assert [p.offset_minutes for p in planned_reminders(state(reminders=[sent]), [1440, 60])] == [60]
    moved = state(reminders=[sent], sequence=1, starts_at=START + timedelta(days=2),
                  schedule_set_at=START - timedelta(hours=20))
    assert [(p.sequence, p.offset_minutes) for p in planned_reminders(moved, [1440, 60])] == [(1, 1440), (1, 60)]


def test_offsets_read_well():
    assert [describe_offset(m) for m in (1440, 2880, 60, 120, 30)] == [
        "tomorrow", "in 2 days", "in 1 hour", "in 2 hours", "in 30 minutes"]
