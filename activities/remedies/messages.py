"""What the Remedy workflow tells the client and the consultant.

Messages go through the notifications capability (`deliver_or_retry`: the reader's language,
the consultancy's wording, channel preferences, the delivery log; quiet hours hold them and the
activity is retried when they end). Dedupe key `<workflow id>:<step>`, so a retry or a replay
sends nothing twice. A reminder carries a signed link to check in on its own occurrence
(`/api/v1/remedy-links/<token>`), valid for that occurrence's window.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.notifications import Notifier, attempt_time, deliver_or_retry
from activities.remedies.programme import load_programme
from core.db import TenantScope, scoped_session
from core.observability.metrics import record_reminder
from core.security import Keys
from core.settings import Settings
from core.signing import sign
from domain.notification_templates import format_instant, language_of
from domain.notifications import NotificationRequest
from domain.remedies.programme import CHECK_IN_WINDOW, MAX_REMINDER_LEAD_SECONDS, NOTIFY, RemedyNotice
from domain.remedies.schedule import Plan, describe
from models.identity import User
from models.remedies import Remedy

CHECK_IN_LINK = "remedy-check-in"


def reminder_instant(notice: RemedyNotice) -> datetime | None:
    """The instant a reminder is for (None for every other message)."""
    at = notice.variables.get("occurrence_at") if notice.event == "remedy.reminder" else None
    return datetime.fromisoformat(str(at)) if at else None


def hold_deadline(instant: datetime | None) -> float | None:
    """When (on `time.monotonic`) a message for `instant` may leave; None if it may leave now.

    The workflow hands a reminder over `reminder_lead_seconds` before its occurrence; the message
    is prepared, then held until this deadline, so it leaves at the client's chosen time rather
    than when a burst of timers due at that instant has been worked through. Measured on this
    machine's clock, or on Temporal's when that is ahead (the time-skipping test server's runs
    days ahead). Not from when Temporal started the attempt alone: in a burst the worker may run
    an attempt seconds after that, and holding for the whole `instant - started` would add that
    backlog to the reminder's lateness (bench/remedy_reminders.py measured it: p99 4.6 s). At most
    MAX_REMINDER_LEAD_SECONDS, so a wrong instant cannot hold an activity slot for long.
    """
    if instant is None or not activity.in_activity():
        return None
    ahead = (instant - max(datetime.now(UTC), activity.info().started_time)).total_seconds()
    return time.monotonic() + min(ahead, MAX_REMINDER_LEAD_SECONDS) if ahead > 0 else None


async def hold(deadline: float | None) -> None:
    if deadline is not None and (wait := deadline - time.monotonic()) > 0:
        await asyncio.sleep(wait)


def check_in_token(keys: Keys, *, programme_id: object, tenant_id: object, occurrence_key: str,
                   expires_at: datetime) -> str:
    return sign(keys, CHECK_IN_LINK, {"r": str(programme_id), "t": str(tenant_id), "k": occurrence_key},
                expires_at=expires_at)


class RemedyMessageActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 notifier: Notifier | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.keys = Keys.from_settings(settings)
        self.notifier = notifier or Notifier(sessionmaker, settings, self.keys)

    def _base(self) -> str:
        return self.settings.public_base_url.rstrip("/")

    @activity.defn(name=NOTIFY)
    async def notify(self, notice: RemedyNotice) -> int:
        """One message (1 if some channel took it now or before, 0 if nothing was due or no one to tell)."""
        instant = reminder_instant(notice)
        deadline = hold_deadline(instant)
        async with scoped_session(self.sessionmaker, TenantScope.of(notice.ref.tenant_id)) as session:
            programme = await load_programme(session, notice.ref.programme_id, lock=False)
            recipient_id = programme.client_id if notice.audience == "client" else programme.consultant_id
            if recipient_id is None:
                return 0
            client = await session.get(User, programme.client_id)
            recipient = await session.get(User, recipient_id)
            remedy = await session.get(Remedy, programme.remedy_id)
            assert client is not None and remedy is not None
            if recipient is None:
                return 0
            language = language_of(recipient.locale)
            plan = Plan.model_validate(programme.plan)
            instructions = (remedy.instructions_hi if language == "hi" and remedy.instructions_hi
                            else remedy.instructions_en)
            url = f"{self._base()}/api/v1/remedy-programmes/{programme.id}"
            variables: dict[str, Any] = {
                "client_name": client.full_name, "remedy_title": programme.title, "instructions": instructions,
                "occurrence_at": "", "check_in_url": "", "programme_url": url, "done": programme.done,
                "counted": programme.counted, "missed": programme.missed, "best_streak": programme.best_streak,
                "schedule": describe(plan), "reason": "", **notice.variables}
            data: dict[str, Any] = {"programme_id": str(programme.id), "link": url}
            occurrence_at = notice.variables.get("occurrence_at")
            key = notice.variables.get("occurrence_key")
            if occurrence_at and key:
                at = datetime.fromisoformat(str(occurrence_at))
                variables["occurrence_at"] = format_instant(at, plan.timezone, language)
                token = check_in_token(self.keys, programme_id=programme.id, tenant_id=programme.tenant_id,
                                       occurrence_key=str(key), expires_at=at + CHECK_IN_WINDOW + timedelta(hours=1))
                variables["check_in_url"] = data["link"] = f"{self._base()}/api/v1/remedy-links/{token}"
                data["occurrence_key"] = key
            variables.pop("occurrence_key", None)
            scheduled = attempt_time()   # quiet hours are judged at the instant the reminder is for
            when = max(scheduled, instant) if scheduled is not None and instant is not None else scheduled
            request = NotificationRequest(
                dedupe_key=f"{notice.ref.workflow_id}:{notice.step}", tenant_id=programme.tenant_id,
                recipient_user_id=recipient.id, event=notice.event, variables=variables, at=when, data=data)
        # made ready ahead (recipient, channels, rendering, delivery rows), handed to the providers
        # at the instant
        outcome = await deliver_or_retry(self.notifier, request, before_sending=lambda: hold(deadline))
        if outcome.sent_on and notice.event == "remedy.reminder" and occurrence_at:
            # how long after the client's chosen time it went (muhurta_reminders_sent_late_total)
            record_reminder("remedy", datetime.fromisoformat(str(occurrence_at)), datetime.now(UTC))
        return 1 if outcome.sent_on else 0
