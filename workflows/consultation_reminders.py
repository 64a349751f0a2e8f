"""ConsultationWorkflow's reminders (workflows/consultation.py): planned from the booking's time,
planned again when it moves, held past the client's quiet hours, posted under the booking's lock.

A base class of the workflow, so that the lifecycle's module stays about the lifecycle: these
steps read and change the workflow's own state, declared here for the type checker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.bookings.consultation import (
        HOLDABLE_REMINDER_MINUTES,
        QUIET_HOURS_END,
        Audience,
        BookingStatus,
        ConsultationInput,
        ConsultationRef,
        ConsultationState,
        Notify,
        PlannedReminder,
        QuietCheck,
        ReminderSent,
        describe_offset,
        planned_reminders,
        reminder_hold_until,
    )

# The activity options of the consultation's steps (the lifecycle's module uses them too).
TIMEOUT = timedelta(seconds=30)
# Steps of the lifecycle retry until the database answers again.
BACKGROUND = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
REMINDERS_WAIT_OUT_QUIET_HOURS = "reminders-wait-out-quiet-hours"  # workflow.patched id
BOTH = [Audience.CLIENT, Audience.CONSULTANT]


class ConsultationReminders:
    """The reminder steps of ConsultationWorkflow, which holds the state below."""

    _inp: ConsultationInput
    _ref: ConsultationRef
    _state: ConsultationState
    _lock: asyncio.Lock
    _moved: bool                      # wakes the reminder loop to plan again
    _quiet_hold: datetime | None      # until when a reminder last waited out quiet hours

    @property
    def _status(self) -> BookingStatus:
        return self._state.status

    if TYPE_CHECKING:
        async def _post(self, message: Notify, on_sent: Callable[[int], None] | None = None) -> None:
            """The workflow's: posts `message` to its outbox."""

    async def _remind_until_start(self) -> None:
        while self._status == BookingStatus.CONFIRMED:
            now = workflow.now()
            if now >= self._state.starts_at:
                return
            plan = planned_reminders(self._state, self._inp.reminder_offsets_minutes)
            due = plan[0] if plan else None
            deadline = due.due_at if due else self._state.starts_at
            self._moved = False
            if deadline > now:
                try:
                    await workflow.wait_condition(
                        lambda: self._moved or self._status != BookingStatus.CONFIRMED, timeout=deadline - now)
                    continue  # moved or ended: plan again
                except TimeoutError:
                    pass
            if due is not None:
                if await self._held_for_quiet_hours(due):
                    continue  # moved or ended while it waited: plan again
                await self._send_reminder(due)

    async def _held_for_quiet_hours(self, due: PlannedReminder) -> bool:
        """Wait (a timer, outside the lock) until the client's quiet hours end, for a reminder far
        enough ahead; True if the booking moved or ended meanwhile. Nearer reminders never wait.

        The client's hours decide: the consultant's reminder is about their own working day, and
        waiting for the later of two people's mornings could push the client's into their night."""
        if due.offset_minutes < HOLDABLE_REMINDER_MINUTES or not workflow.patched(REMINDERS_WAIT_OUT_QUIET_HOURS):
            return False
        check = QuietCheck(ref=self._ref, audience=[Audience.CLIENT], at=workflow.now())
        quiet_end: datetime | None = await workflow.execute_activity(
            QUIET_HOURS_END, check, result_type=datetime, start_to_close_timeout=TIMEOUT, retry_policy=BACKGROUND)
        hold = reminder_hold_until(due.offset_minutes, self._state.starts_at, quiet_end)
        if hold is None or hold <= workflow.now():
            return False
        self._moved = False
        self._quiet_hold = hold
        try:
            await workflow.wait_condition(lambda: self._moved or self._status != BookingStatus.CONFIRMED,
                                          timeout=hold - workflow.now())
            return True
        except TimeoutError:
            return False

    async def _send_reminder(self, due: PlannedReminder) -> None:
        async with self._lock:
            if self._status != BookingStatus.CONFIRMED or due.sequence != self._state.sequence:
                return  # the booking moved or ended while the timer fired: not for this time
            reminder = ReminderSent(sequence=due.sequence, offset_minutes=due.offset_minutes, due_at=due.due_at,
                                    sent_at=workflow.now(), delivered=False, skipped=self._state.reminders_paused)
            self._state.reminders.append(reminder)
            if reminder.skipped:
                return

            def delivered(sent: int) -> None:
                reminder.delivered = sent > 0

            # Posted under the lock (so it is for this time), sent after it: a reschedule never waits.
            meant_for = max(due.due_at, self._quiet_hold) if self._quiet_hold else due.due_at
            await self._post(Notify(ref=self._ref, step=f"reminder:{due.sequence}:{due.offset_minutes}",
                                    event="reminder", audience=BOTH, expected_starts_at=self._state.starts_at,
                                    variables={"offset": describe_offset(due.offset_minutes)}, due_at=meant_for),
                             delivered)
