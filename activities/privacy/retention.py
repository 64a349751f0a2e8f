"""The retention sweep's one activity: remove one bounded batch of one kind of expired data.

Each batch is a short transaction of its own (rows picked `FOR UPDATE SKIP LOCKED`, so a request
touching a row at that moment is not waited for: the row goes tomorrow). Storage objects (files,
export archives) are deleted before their rows and outside any transaction; a missing object is
fine, so a retried batch redoes its work harmlessly. domain/privacy/retention.py says what goes
when, and what is never swept.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, exists, func, not_, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.db import TenantScope, scoped_session
from core.settings import Settings
from core.storage import FileStorage, ObjectMissing, build_storage
from domain.housekeeping import IDEMPOTENCY_KEEP
from domain.payments.orders import CLOSED_UNPAID
from domain.privacy.requests import PrivacyKind, PrivacyStatus
from domain.privacy.retention import NEVER_SWEPT, SWEEP_BATCH, SWEPT_FILE_PURPOSES, SweepBatch, SweepKind, days
from models import Base
from models.analytics import AnalyticsViewBucket
from models.files import StoredFile
from models.identity import AuthSession, OneTimeToken
from models.notifications import InAppNotification, NotificationDelivery
from models.payments import Invoice, Order, Payment, Refund
from models.platform import IdempotencyRecord, OutboxMessage
from models.privacy import PrivacyRequest
from models.team import Invitation, InvitationStatus

log = logging.getLogger(__name__)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def unreferenced_file() -> Any:
    """No row of any table points at the file (a report, a lesson, a certificate, a photo...)."""
    files = StoredFile.__table__
    clauses = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is files and table is not files:
                clauses.append(not_(exists().where(fk.parent == files.c.id)))
    return and_(*clauses)


def abandoned_checkout(cutoff: datetime) -> Any:
    """An order nobody paid: closed unpaid (expired, cancelled) before `cutoff`, with no payment,
    invoice or refund recorded and any store credit it held given back. Such an order is no tax or
    payment record; anything that was paid is never swept."""
    return and_(Order.status.in_([s.value for s in CLOSED_UNPAID]), Order.paid_at.is_(None), Order.amount_paid == 0,
                Order.amount_refunded == 0, or_(Order.wallet_applied == 0, Order.wallet_released.is_(True)),
                func.coalesce(Order.closed_at, Order.expires_at) < cutoff,
                not_(exists().where(Payment.order_id == Order.id)), not_(exists().where(Invoice.order_id == Order.id)),
                not_(exists().where(Refund.order_id == Order.id)))


class RetentionActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 storage: FileStorage | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.storage = storage or build_storage(settings)

    @activity.defn(name=SWEEP_BATCH)
    async def sweep_batch(self, batch: SweepBatch) -> int:
        """Remove at most `batch.limit` expired rows of `batch.kind`; how many went."""
        if batch.kind == SweepKind.FILES:
            return await self._files(batch)
        if batch.kind == SweepKind.EXPORT_ARCHIVES:
            return await self._archives(batch)
        if batch.kind == SweepKind.UNPAID_ORDERS:
            return await self._unpaid_orders(batch)
        rule = self._rule(batch.kind, batch.at)
        if rule is None:
            return 0
        table, condition, order = rule
        if table.name in NEVER_SWEPT:  # a rule written by mistake must not reach the GST records
            raise ValueError(f"{table.name} is never swept")
        return await self._delete_batch(table, condition, order, batch.limit)

    async def _delete_batch(self, table: Table, condition: Any, order: Any, limit: int) -> int:
        """Delete at most `limit` rows matching `condition`, oldest first, skipping locked ones."""
        pk = list(table.primary_key.columns)
        picked = select(*pk).where(condition).order_by(order).limit(limit).with_for_update(skip_locked=True)
        chosen = tuple_(*pk).in_(picked) if len(pk) > 1 else pk[0].in_(picked.scalar_subquery())
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            result = await session.execute(delete(table).where(chosen))
        return int(getattr(result, "rowcount", 0) or 0)

    async def _unpaid_orders(self, batch: SweepBatch) -> int:
        """Abandoned checkouts (their lines and coupon uses go with them; a booking, quotation or
        wallet entry that named one keeps its own row)."""
        period = days(self.settings.retention_checkout_days)
        if period is None:
            return 0
        return await self._delete_batch(_table(Order), abandoned_checkout(batch.at - period),
                                        func.coalesce(Order.closed_at, Order.expires_at), batch.limit)

    def _rule(self, kind: SweepKind, at: datetime) -> tuple[Table, Any, Any] | None:
        """The table, the condition of an expired row, and the order batches take them in."""
        messages = days(self.settings.retention_messages_days)
        grace = days(self.settings.retention_access_grace_days)
        if kind == SweepKind.IDEMPOTENCY_RECORDS:
            t: Any = IdempotencyRecord
            return _table(t), t.created_at < at - IDEMPOTENCY_KEEP, t.created_at
        if kind in (SweepKind.NOTIFICATION_DELIVERIES, SweepKind.OUTBOX_MESSAGES, SweepKind.IN_APP_NOTIFICATIONS):
            if messages is None:
                return None
            t = {SweepKind.NOTIFICATION_DELIVERIES: NotificationDelivery, SweepKind.OUTBOX_MESSAGES: OutboxMessage,
                 SweepKind.IN_APP_NOTIFICATIONS: InAppNotification}[kind]
            return _table(t), t.created_at < at - messages, t.created_at
        if kind == SweepKind.VIEW_BUCKETS:
            views = days(self.settings.retention_analytics_views_days)
            if views is None:
                return None
            return (_table(AnalyticsViewBucket), AnalyticsViewBucket.bucket_at < at - views,
                    AnalyticsViewBucket.bucket_at)
        if grace is None:
            return None
        cutoff = at - grace
        if kind == SweepKind.AUTH_SESSIONS:
            return (_table(AuthSession), or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff),
                    AuthSession.expires_at)
        if kind == SweepKind.ONE_TIME_TOKENS:
            return (_table(OneTimeToken), or_(OneTimeToken.expires_at < cutoff, OneTimeToken.used_at < cutoff),
                    OneTimeToken.expires_at)
        if kind == SweepKind.INVITATIONS:  # accepted ones stay: the record of who joined, invited by whom
            return (_table(Invitation), and_(Invitation.status != InvitationStatus.ACCEPTED, or_(
                Invitation.expires_at < cutoff, Invitation.revoked_at < cutoff)), Invitation.expires_at)
        raise ValueError(f"no retention rule for {kind}")

    async def _files(self, batch: SweepBatch) -> int:
        period = days(self.settings.retention_files_days)
        if period is None:
            return 0
        expired = and_(StoredFile.purpose.in_(SWEPT_FILE_PURPOSES), StoredFile.created_at < batch.at - period,
                       unreferenced_file())
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            rows = (await session.execute(select(StoredFile.id, StoredFile.storage_key).where(expired)
                                          .order_by(StoredFile.created_at).limit(batch.limit))).all()
        for _id, key in rows:
            await self._delete_object(key)
        if not rows:
            return 0
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            result = await session.execute(delete(StoredFile).where(
                StoredFile.id.in_([row_id for row_id, _ in rows]), expired))
        return int(getattr(result, "rowcount", 0) or 0)

    async def _archives(self, batch: SweepBatch) -> int:
        """Export archives past their expiry whose workflow did not delete them (it was stopped)."""
        expired = and_(PrivacyRequest.kind == PrivacyKind.EXPORT.value, PrivacyRequest.archive_key.is_not(None),
                       PrivacyRequest.expires_at < batch.at)
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            rows = (await session.execute(select(PrivacyRequest.id, PrivacyRequest.archive_key).where(expired)
                                          .order_by(PrivacyRequest.expires_at).limit(batch.limit))).all()
        for _id, key in rows:
            await self._delete_object(key)
        if not rows:
            return 0
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            result = await session.execute(update(PrivacyRequest).where(
                PrivacyRequest.id.in_([row_id for row_id, _ in rows]), expired).values(
                archive_key=None, status=case((PrivacyRequest.status == PrivacyStatus.READY.value,
                                               PrivacyStatus.EXPIRED.value), else_=PrivacyRequest.status)))
        return int(getattr(result, "rowcount", 0) or 0)

    async def _delete_object(self, key: str | None) -> None:
        if not key:
            return
        with contextlib.suppress(ObjectMissing):
            await self.storage.delete(key)

