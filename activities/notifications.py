"""Notifications for workflows: the send activity, and the helpers other capabilities' activities use.

How a message is sent at most once per (dedupe key, channel) is told in activities/notifier.py
(the Notifier); the broadcast fan-out's activities are in activities/broadcasts.py and mixed
into NotificationActivities here, which the worker registers. Activity names come from
domain.notifications and do not depend on where the code lives.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.broadcasts import BroadcastActivities, broadcast_audience, broadcast_counts
from activities.notification_providers import ProviderFactory
from activities.notifier import NotificationDeferred, Notifier, preferences_of
from core.security import Keys
from core.settings import Settings
from domain.notification_channels import DeliveryStatus
from domain.notification_events import UnknownEvent
from domain.notifications import (
    NOTIFICATION_REJECTED,
    PROVIDER_UNAVAILABLE,
    SEND_NOTIFICATION,
    NotificationOutcome,
    NotificationRequest,
)

__all__ = ["QUIET_HOURS", "NotificationActivities", "NotificationDeferred", "Notifier", "attempt_time",
           "broadcast_audience", "broadcast_counts", "deliver_or_retry", "preferences_of", "rejection"]

log = logging.getLogger(__name__)


def rejection(outcome: NotificationOutcome) -> ApplicationError:
    failures = "; ".join(f"{c.channel.value}: {c.error}" for c in outcome.channels
                         if c.status in (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED))
    return ApplicationError(f"{outcome.event} could not be sent ({failures})", outcome.model_dump(mode="json"),
                            type=NOTIFICATION_REJECTED, non_retryable=True)


QUIET_HOURS = "QuietHours"  # ApplicationError.type: held by the reader's quiet hours, retried when they end


def attempt_time() -> datetime | None:
    """When this activity attempt was scheduled (Temporal's clock, so right on the time-skipping
    test server), to judge quiet hours at; None outside an activity (the wall clock then)."""
    return activity.info().current_attempt_scheduled_time if activity.in_activity() else None


async def deliver_or_retry(notifier: Notifier, request: NotificationRequest, *,
                           before_sending: Callable[[], Awaitable[None]] | None = None) -> NotificationOutcome:
    """`Notifier.deliver` for an activity that sends by itself rather than through `notify()`.

    Provider outages become a retryable `ProviderUnavailable`; a message held by quiet hours a
    retryable `QuietHours` whose `next_retry_delay` is when they end, so the activity's retry
    sends it then (channels already sent are not sent again). Permanent failures are in the
    outcome (`failed_on`) and the delivery log, never raised: one bad address must not stop a
    workflow. Use with a retry policy without a small `maximum_attempts`. `before_sending`: see
    `Notifier.deliver`.
    """
    try:
        outcome = await notifier.deliver(request, before_sending=before_sending)
    except NotificationDeferred as exc:
        delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        raise ApplicationError(str(exc), type=PROVIDER_UNAVAILABLE, next_retry_delay=delay) from exc
    except UnknownEvent as exc:
        raise ApplicationError(str(exc), type=NOTIFICATION_REJECTED, non_retryable=True) from exc
    if outcome.held_until is not None:
        now = request.at or datetime.now(UTC)
        raise ApplicationError(f"{request.dedupe_key}: held by quiet hours until {outcome.held_until.isoformat()}",
                               type=QUIET_HOURS, next_retry_delay=max(outcome.held_until - now, timedelta(seconds=1)))
    if outcome.failed_on:
        log.warning("notification %s (%s) failed on %s", request.dedupe_key, request.event,
                    ", ".join(c.value for c in outcome.failed_on))
    return outcome


class NotificationActivities(BroadcastActivities):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, keys: Keys | None = None,
                 providers: ProviderFactory | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.notifier = Notifier(sessionmaker, settings, keys or Keys.from_settings(settings), providers)

    @activity.defn(name=SEND_NOTIFICATION)
    async def send(self, request: NotificationRequest) -> NotificationOutcome:
        """Send one notification (see activities/notifier.py); the contract is in domain.notifications."""
        try:
            outcome = await self.notifier.deliver(request)
        except UnknownEvent as exc:
            raise ApplicationError(str(exc), type=NOTIFICATION_REJECTED, non_retryable=True) from exc
        except NotificationDeferred as exc:
            delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
            raise ApplicationError(str(exc), type=PROVIDER_UNAVAILABLE, next_retry_delay=delay) from exc
        if outcome.failed_on:
            raise rejection(outcome)
        return outcome
