"""Activities of the support console: resending a logged message (workflows/support.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import Notifier
from core.db import TenantScope, scoped_session
from domain.notification_channels import Channel, DeliveryStatus
from domain.notification_events import event_spec
from domain.notifications import PROVIDER_UNAVAILABLE, NotificationRequest
from domain.support import RESEND_MESSAGE, ResendOutcome, ResendRequest
from models.notifications import NotificationDelivery


class SupportActivities:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    @activity.defn(name=RESEND_MESSAGE)
    async def resend_message(self, request: ResendRequest) -> ResendOutcome:
        """Copy the logged message (its rendered subject and body: the words the person saw) to a
        new delivery keyed by the request, and send it through the same provider path as any
        message. The copy is inserted once; a retried attempt sends the same row, never twice."""
        notifier = self.notifier
        scope = TenantScope.of(request.tenant_id)
        async with scoped_session(notifier.sessionmaker, scope) as session:
            original = await session.get(NotificationDelivery, request.delivery_id)
            if original is None or original.tenant_id != request.tenant_id:
                raise ApplicationError("the message to resend no longer exists", non_retryable=True)
            now = datetime.now(UTC)
            key = f"{request.request_key}:{original.channel}"
            await session.execute(insert(NotificationDelivery).values(
                id=uuid.uuid4(), dedupe_key=key, request_key=request.request_key, tenant_id=original.tenant_id,
                channel=original.channel, event=original.event, locale=original.locale,
                template_source=original.template_source, user_id=original.user_id, recipient=original.recipient,
                subject=original.subject, body=original.body, status=DeliveryStatus.QUEUED.value,
                provider=original.provider, provider_account=original.provider_account, attempts=0,
                uncertain=False, status_updated_at=now, created_at=now, updated_at=now,
            ).on_conflict_do_nothing(index_elements=["dedupe_key"]))
            row = (await session.execute(
                select(NotificationDelivery).where(NotificationDelivery.dedupe_key == key))).scalar_one()
        as_request = NotificationRequest(
            dedupe_key=request.request_key, tenant_id=request.tenant_id, recipient_user_id=row.user_id,
            recipient_email=row.recipient if row.user_id is None else None, event=row.event,
            channels=[Channel(row.channel)], urgent=True, respect_quiet_hours=False)
        recipient = await notifier._recipient(as_request, event_spec(row.event))
        if recipient is None or not recipient.user.is_active:
            return ResendOutcome(delivery_id=row.id, status="skipped", error="the recipient no longer exists")
        try:
            outcome = await notifier._attempt(as_request, recipient, row)
        except Exception as exc:  # provider down: Temporal retries with backoff (workflows/support.py)
            raise ApplicationError(str(exc)[:500], type=PROVIDER_UNAVAILABLE) from exc
        return ResendOutcome(delivery_id=row.id, status=outcome.status.value if outcome.status else "skipped",
                             error=outcome.error)
