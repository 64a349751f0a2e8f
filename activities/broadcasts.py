"""The broadcast fan-out's activities: snapshot the audience, send in batches, finish.

Mixed into NotificationActivities (activities/notifications.py), which the worker registers;
each recipient's message goes through the shared Notifier, so it is sent at most once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifier import NotificationDeferred, Notifier
from core.db import TenantScope, scoped_session
from domain.notification_channels import Channel
from domain.notifications import (
    BROADCAST_BATCH,
    BROADCAST_FINISH,
    BROADCAST_PREPARE,
    PROVIDER_UNAVAILABLE,
    BroadcastBatch,
    BroadcastBatchResult,
    BroadcastCounts,
    BroadcastFilter,
    BroadcastFinish,
    BroadcastRef,
    BroadcastStatus,
    NotificationRequest,
    RecipientStatus,
)
from models.identity import Role, User
from models.notifications import Broadcast, BroadcastRecipient


def _heartbeat(*details: Any) -> None:
    if activity.in_activity():
        activity.heartbeat(*details)


def broadcast_audience(tenant_id: uuid.UUID, created_before: datetime, flt: BroadcastFilter) -> Any:
    """The clients a broadcast goes to: active clients of the tenant who existed when it was made."""
    stmt = select(User.id).where(User.tenant_id == tenant_id, User.role == Role.CLIENT, User.is_active.is_(True),
                                 User.created_at <= created_before)
    if flt.q:
        pattern = f"%{flt.q.strip().lower()}%"
        stmt = stmt.where(or_(User.email.like(pattern), User.full_name.ilike(pattern)))
    if flt.verified is not None:
        stmt = stmt.where(User.email_verified_at.is_not(None) if flt.verified else User.email_verified_at.is_(None))
    if flt.locale:
        stmt = stmt.where(User.locale.like(f"{flt.locale}%"))
    if flt.client_ids is not None:
        stmt = stmt.where(User.id.in_(flt.client_ids))
    return stmt


async def broadcast_counts(session: AsyncSession, broadcast_id: uuid.UUID) -> tuple[BroadcastCounts, datetime | None]:
    rows = (await session.execute(
        select(BroadcastRecipient.status, func.count(), func.min(BroadcastRecipient.held_until))
        .where(BroadcastRecipient.broadcast_id == broadcast_id).group_by(BroadcastRecipient.status))).all()
    by_status = {status: (count, earliest) for status, count, earliest in rows}
    counts = BroadcastCounts(
        total=sum(count for count, _ in by_status.values()),
        **{s.value: by_status.get(s.value, (0, None))[0] for s in RecipientStatus})
    held = by_status.get(RecipientStatus.HELD.value)
    return counts, held[1] if held else None


class BroadcastActivities:
    """Broadcast activities; the class that mixes them in provides the session maker and Notifier."""

    sessionmaker: async_sessionmaker[AsyncSession]
    notifier: Notifier

    async def _broadcast(self, session: AsyncSession, broadcast_id: uuid.UUID) -> Broadcast:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise ApplicationError(f"broadcast {broadcast_id} no longer exists", non_retryable=True)
        return broadcast

    @activity.defn(name=BROADCAST_PREPARE)
    async def broadcast_prepare(self, ref: BroadcastRef) -> BroadcastCounts:
        """Snapshot the audience into broadcast_recipients (once: repeats add nobody)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            broadcast = await self._broadcast(session, ref.broadcast_id)
            audience = broadcast_audience(ref.tenant_id, broadcast.created_at,
                                          BroadcastFilter.model_validate(broadcast.filter)).subquery()
            await session.execute(
                insert(BroadcastRecipient).from_select(
                    ["broadcast_id", "tenant_id", "user_id", "status"],
                    select(literal(broadcast.id, BroadcastRecipient.broadcast_id.type),
                           literal(ref.tenant_id, BroadcastRecipient.tenant_id.type),
                           audience.c.id, literal(RecipientStatus.PENDING.value, BroadcastRecipient.status.type)),
                ).on_conflict_do_nothing())
            counts, _ = await broadcast_counts(session, broadcast.id)
            broadcast.total = counts.total
            broadcast.started_at = broadcast.started_at or datetime.now(UTC)
            broadcast.status = BroadcastStatus.RUNNING.value
            return counts

    @activity.defn(name=BROADCAST_BATCH)
    async def broadcast_batch(self, batch: BroadcastBatch) -> BroadcastBatchResult:
        """Send to the next recipients that are due (pending, or held and now past their quiet hours)."""
        scope = TenantScope.of(batch.tenant_id)
        async with scoped_session(self.sessionmaker, scope) as session:
            broadcast = await self._broadcast(session, batch.broadcast_id)
            due = list((await session.execute(
                select(BroadcastRecipient.user_id).where(
                    BroadcastRecipient.broadcast_id == batch.broadcast_id,
                    or_(BroadcastRecipient.status == RecipientStatus.PENDING.value,
                        (BroadcastRecipient.status == RecipientStatus.HELD.value)
                        & (BroadcastRecipient.held_until <= batch.at)))
                .order_by(BroadcastRecipient.user_id).limit(batch.limit))).scalars())
            event, variables, channels = broadcast.event, dict(broadcast.variables), broadcast.channels
            workflow_id = broadcast.workflow_id
        for number, user_id in enumerate(due):
            _heartbeat(number)
            request = NotificationRequest(
                dedupe_key=f"{workflow_id}:{user_id}", tenant_id=batch.tenant_id, recipient_user_id=user_id,
                event=event, variables=variables, channels=[Channel(c) for c in channels] if channels else None,
                at=batch.at)
            try:
                outcome = await self.notifier.deliver(request)
            except NotificationDeferred as exc:
                # Recipients done so far are recorded; the retry carries on from here.
                delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
                raise ApplicationError(str(exc), type=PROVIDER_UNAVAILABLE, next_retry_delay=delay) from exc
            if outcome.held_until is not None:
                status, detail = RecipientStatus.HELD, "quiet hours"
            elif outcome.sent_on:
                status, detail = RecipientStatus.SENT, ", ".join(c.value for c in outcome.sent_on)
            elif outcome.failed_on:
                status = RecipientStatus.FAILED
                detail = "; ".join(f"{c.channel.value}: {c.error}" for c in outcome.channels if c.error)
            else:
                status = RecipientStatus.SKIPPED
                detail = "; ".join(f"{c.channel.value}: {c.skipped}" for c in outcome.channels if c.skipped)
            async with scoped_session(self.sessionmaker, scope) as session:
                await session.execute(update(BroadcastRecipient).where(
                    BroadcastRecipient.broadcast_id == batch.broadcast_id, BroadcastRecipient.user_id == user_id,
                ).values(status=status.value, held_until=outcome.held_until, detail=(detail or None),
                         processed_at=datetime.now(UTC)))
        async with scoped_session(self.sessionmaker, scope) as session:
            counts, next_release = await broadcast_counts(session, batch.broadcast_id)
            broadcast = await self._broadcast(session, batch.broadcast_id)
            broadcast.sent, broadcast.skipped, broadcast.failed, broadcast.held = (
                counts.sent, counts.skipped, counts.failed, counts.held)
            waiting = counts.held and not counts.pending
            broadcast.status = (BroadcastStatus.WAITING_QUIET_HOURS if waiting else BroadcastStatus.RUNNING).value
        return BroadcastBatchResult(processed=len(due), counts=counts, next_release_at=next_release)

    @activity.defn(name=BROADCAST_FINISH)
    async def broadcast_finish(self, finish: BroadcastFinish) -> BroadcastCounts:
        async with scoped_session(self.sessionmaker, TenantScope.of(finish.tenant_id)) as session:
            broadcast = await self._broadcast(session, finish.broadcast_id)
            counts, _ = await broadcast_counts(session, finish.broadcast_id)
            broadcast.status = finish.status.value
            broadcast.finished_at = broadcast.finished_at or finish.at
            broadcast.sent, broadcast.skipped, broadcast.failed, broadcast.held = (
                counts.sent, counts.skipped, counts.failed, counts.held)
            return counts
