"""Messages for our own stored channels (in-app inbox, local outbox), handed over in batches.

A stored channel's hand-over is database work only: count the attempt (locking the delivery
row), store the message, mark the row sent. One at a time that is a transaction per channel per
message, and when hundreds of messages are due at one instant (remedy reminders held until
06:00) the worker spent seconds of CPU on them after the instant (docs/remedies.md, Scale).
Hand-overs that arrive together are done in one transaction per consultancy: one UPDATE counts
and locks every row still to send, one multi-row INSERT per channel stores the messages (ON
CONFLICT on the dedupe key, as before, so a message stored by an earlier attempt is found, not
stored twice), one executemany marks them sent. A row another attempt finished first is
answered as done, as before. The batching itself (a queue per tenant, a batch of one when alone,
one by one when a batch fails) is `core.group_commit`'s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.notification_providers import OutgoingMessage, Receipt, StoredProvider
from core.db import TenantScope, scoped_session
from core.group_commit import GroupCommit
from core.observability.providers import provider_call
from domain.notification_channels import TERMINAL_STATUSES, Channel, DeliveryStatus
from domain.notifications import ChannelOutcome
from models.notifications import NotificationDelivery


@dataclass(frozen=True)
class HandOver:
    row: NotificationDelivery
    message: OutgoingMessage
    provider: StoredProvider


# What marks a delivery sent, for both paths: a provider's answer (activities/notifier.py) and a
# stored channel's hand-over (below, many rows per statement).
_MARK_SENT = (
    update(NotificationDelivery.__table__)  # type: ignore[arg-type]
    .where(NotificationDelivery.__table__.c.id == bindparam("delivery_id"))
    .values(status=bindparam("new_status"), provider_message_id=bindparam("message_id"), claimed_until=None,
            error=None, error_code=None, sent_at=bindparam("at"), delivered_at=bindparam("delivered_time"),
            status_updated_at=bindparam("at"), updated_at=bindparam("at"))
)


def _sent_status(receipt: Receipt) -> DeliveryStatus:
    return DeliveryStatus.DELIVERED if receipt.delivered else DeliveryStatus.SENT


async def mark_sent(session: AsyncSession, sent: dict[uuid.UUID, Receipt]) -> None:
    """Mark each delivery (by id) sent, or delivered, with its provider's receipt: one statement."""
    now = datetime.now(UTC)
    connection = await session.connection()
    await connection.execute(_MARK_SENT, [
        {"delivery_id": delivery_id, "message_id": receipt.provider_message_id[:100],
         "new_status": _sent_status(receipt).value, "at": now, "delivered_time": now if receipt.delivered else None}
        for delivery_id, receipt in sent.items()])


def sent_outcome(row: NotificationDelivery, receipt: Receipt) -> ChannelOutcome:
    """The outcome of a delivery `mark_sent` has just marked."""
    return ChannelOutcome(
        channel=Channel(row.channel), status=_sent_status(receipt), delivery_id=row.id, provider=row.provider,
        provider_message_id=receipt.provider_message_id[:100], error=None, already_done=False)


def outcome_of(row: NotificationDelivery, *, already_done: bool) -> ChannelOutcome:
    return ChannelOutcome(
        channel=Channel(row.channel), status=DeliveryStatus(row.status), delivery_id=row.id, provider=row.provider,
        provider_message_id=row.provider_message_id, error=row.error, already_done=already_done)


def erased_outcome(row: NotificationDelivery) -> ChannelOutcome:
    """A delivery whose row was deleted before it was handed over (its recipient erased, a
    consultancy's data removed): nothing was stored, and nothing is to be retried."""
    return ChannelOutcome(channel=Channel(row.channel), skipped="erased before it was sent", delivery_id=row.id)


class StoredHandOvers:
    """One per Notifier (so one per worker process): a group commit per tenant (`core.group_commit`)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._group: GroupCommit[uuid.UUID | None, HandOver, ChannelOutcome] = GroupCommit(self._store)

    @property
    def batches(self) -> int:   # transactions made (tests and benches read it)
        return self._group.batches

    async def hand_over(self, item: HandOver) -> ChannelOutcome:
        return await self._group.submit(item.row.tenant_id, item)

    async def _store(self, tenant: uuid.UUID | None, items: list[HandOver]) -> list[ChannelOutcome]:
        ids = [item.row.id for item in items]
        async with scoped_session(self.sessionmaker, TenantScope.of(tenant)) as session:
            counted = set((await session.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.id.in_(ids),
                       NotificationDelivery.status.not_in([s.value for s in TERMINAL_STATUSES]))
                .values(attempts=NotificationDelivery.attempts + 1)
                .returning(NotificationDelivery.id))).scalars())
            receipts: dict[uuid.UUID, Receipt] = {}
            by_provider: dict[str, list[HandOver]] = {}
            for item in items:
                if item.row.id in counted:
                    by_provider.setdefault(item.provider.name, []).append(item)
            for group in by_provider.values():
                provider = group[0].provider
                with provider_call(provider.name, group[0].row.channel, messages=len(group)):
                    stored = await provider.store_many(session, [item.message for item in group])
                receipts.update(zip([item.row.id for item in group], stored, strict=True))
            if receipts:
                await mark_sent(session, receipts)
            done_before = {row.id: row for row in (await session.execute(select(NotificationDelivery).where(
                NotificationDelivery.id.in_([i for i in ids if i not in counted])))).scalars()} \
                if len(counted) < len(ids) else {}
        return [sent_outcome(item.row, receipts[item.row.id]) if item.row.id in receipts
                else outcome_of(done_before[item.row.id], already_done=True) if item.row.id in done_before
                else erased_outcome(item.row) for item in items]
