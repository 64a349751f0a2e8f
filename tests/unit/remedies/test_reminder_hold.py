"""A reminder handed over ahead of its instant is held until the instant, and never for long."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment

from activities.remedies.messages import hold, hold_deadline, reminder_instant
from domain.remedies.programme import MAX_REMINDER_LEAD_SECONDS, RemedyNotice, RemedyRef

STARTED = datetime(2027, 1, 9, 0, 29, 50, tzinfo=UTC)   # Temporal's clock (time-skipping: ahead of ours)


def _notice(event: str, at: datetime) -> RemedyNotice:
    ref = RemedyRef(workflow_id="remedy-x", tenant_id=uuid.uuid4(), programme_id=uuid.uuid4())
    return RemedyNotice(ref=ref, step="reminder:k", event=event,
                        variables={"occurrence_key": "2027-01-09T06:00", "occurrence_at": at.isoformat()})


def _in_activity(fn, *args, started: datetime = STARTED):  # type: ignore[no-untyped-def]
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, started_time=started)
    return env.run(fn, *args)


def test_only_a_reminder_is_held() -> None:
    at = STARTED + timedelta(seconds=10)
    assert reminder_instant(_notice("remedy.reminder", at)) == at
    assert reminder_instant(_notice("remedy.nudge", at)) is None


async def test_a_reminder_handed_over_ahead_leaves_at_its_instant() -> None:
    async def held() -> float:
        began = time.monotonic()
        await hold(hold_deadline(STARTED + timedelta(seconds=0.3)))
        return time.monotonic() - began

    assert await _in_activity(held) >= 0.3


def test_a_reminder_already_due_is_not_held_and_none_is_held_long() -> None:
    assert _in_activity(hold_deadline, STARTED) is None
    assert _in_activity(hold_deadline, STARTED - timedelta(seconds=5)) is None
    deadline = _in_activity(hold_deadline, STARTED + timedelta(days=1))   # a wrong instant
    assert deadline is not None and deadline - time.monotonic() <= MAX_REMINDER_LEAD_SECONDS
    assert hold_deadline(STARTED + timedelta(days=1)) is None   # outside an activity: nothing to hold for


def test_an_attempt_run_late_is_not_held_for_its_backlog_too() -> None:
    """In a burst the worker may run an attempt seconds after Temporal started it: the hold counts
    from now, so the backlog is not added to the reminder's lateness."""
    now = datetime.now(UTC)
    deadline = _in_activity(hold_deadline, now + timedelta(seconds=0.5), started=now - timedelta(seconds=4))
    assert deadline is not None and deadline - time.monotonic() <= 0.5
    assert _in_activity(hold_deadline, now - timedelta(seconds=1), started=now - timedelta(seconds=4)) is None
