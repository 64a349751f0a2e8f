"""The RetentionSweep removes what is past its retention, in batches, and nothing else: fresh
rows, files something still points at, accepted invitations and the GST records (orders,
invoices, payments) nine years old all stay; abandoned checkouts go, but not an unpaid order with
a payment attempt or store credit still held; old page-view counters go, recent ones stay. Real
PostgreSQL and file storage; the workflow on the time-skipping server with the production worker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from notify_support import make_people
from sqlalchemy import func, select

from core.db import TenantScope, scoped_session
from core.storage import ObjectMissing, build_storage, tenant_key
from domain.files import FileKind
from domain.privacy.retention import GST_RETENTION_YEARS, RetentionInput, RetentionResult, SweepKind
from models.analytics import AnalyticsViewBucket
from models.files import ReportDelivery, StoredFile
from models.identity import AuthSession, OneTimeToken, Role, TokenPurpose
from models.notifications import InAppNotification, NotificationDelivery
from models.payments import Invoice, Order, OrderLine, Payment
from models.platform import IdempotencyRecord, OutboxMessage
from models.privacy import PrivacyRequest
from models.team import Invitation, InvitationStatus


@dataclass(frozen=True)
class Ages:
    """Instants relative to the test server's clock, which other tests' timers may have moved
    ahead of the wall clock: the sweep's "now" is that clock, so the seeded ages must be too."""

    now: datetime

    @property
    def old(self) -> datetime:  # past every default retention but the files'
        return self.now - timedelta(days=400)

    @property
    def ancient(self) -> datetime:
        return self.now - timedelta(days=365 * (GST_RETENTION_YEARS + 1))

    @property
    def fresh(self) -> datetime:
        return self.now - timedelta(days=1)


def _delivery(tenant_id: uuid.UUID, at: datetime, tag: str) -> NotificationDelivery:
    return NotificationDelivery(
        tenant_id=tenant_id, dedupe_key=f"{tag}:email", request_key=tag, channel="email", event="announcement",
        locale="en", recipient="priya@example.com", body="Namaste", status="delivered", provider="local",
        provider_account="local", created_at=at, updated_at=at)


def _unpaid(tenant_id: uuid.UUID, client_id: uuid.UUID, closed: datetime, **extra: Any) -> Order:
    due = 50_000 - extra.get("wallet_applied", 0)
    return Order(id=uuid.uuid4(), tenant_id=tenant_id, client_id=client_id, status="expired", currency="INR",
                 subtotal=50_000, taxable=50_000, tax=0, total=50_000, amount_due=due, gst_mode="none",
                 gst_rate_bp=0, expires_at=closed, closed_at=closed, created_at=closed, updated_at=closed, **extra)


def _file(tenant_id: uuid.UUID, client_id: uuid.UUID, at: datetime, purpose: str) -> StoredFile:
    file_id = uuid.uuid4()
    return StoredFile(id=file_id, tenant_id=tenant_id, client_id=client_id, kind=FileKind.PDF,
                      content_type="application/pdf", size_bytes=4, sha256="0" * 64, name="palm.pdf",
                      purpose=purpose, storage_backend="local",
                      storage_key=tenant_key(tenant_id, "files", str(file_id)),
                      created_at=at, updated_at=at)


async def _seed(sessionmaker, storage, ages: Ages) -> dict[str, Any]:
    now, old, ancient, fresh = ages.now, ages.old, ages.ancient, ages.fresh
    people = await make_people(sessionmaker)
    t, c = people.tenant_id, people.client_id
    files = {"old_upload": _file(t, c, ancient, "upload"),
             "old_confirmation": _file(t, c, ancient, "booking_confirmation"),
             "old_referenced": _file(t, c, ancient, "upload"), "old_report": _file(t, c, ancient, "report"),
             "fresh_upload": _file(t, c, fresh, "upload")}
    archive = tenant_key(t, "privacy", f"{uuid.uuid4()}.zip")
    for stored in files.values():
        await storage.put(stored.storage_key, b"%PDF", "application/pdf")
    await storage.put(archive, b"PK", "application/zip")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        session.add_all([_delivery(t, old, f"old-{i}") for i in range(3)] + [_delivery(t, fresh, "fresh")])
        session.add_all([OutboxMessage(tenant_id=t, dedupe_key=f"o-{age}", channel="email", recipient="p@example.com",
                                       template="announcement", body="b", data={}, created_at=at, updated_at=at)
                         for age, at in (("old", old), ("fresh", fresh))])
        session.add_all([InAppNotification(tenant_id=t, dedupe_key=f"i-{age}", user_id=c, event="announcement",
                                           title="Hello", body="b", created_at=at) for age, at in (("old", old),
                                                                                                   ("fresh", fresh))])
        session.add_all([IdempotencyRecord(scope=f"user:{c}", key=age, fingerprint="f" * 64, created_at=at,
                                           updated_at=at) for age, at in (("old", now - timedelta(days=2)),
                                                                          ("fresh", now - timedelta(hours=1)))])
        session.add_all(files.values())
        await session.flush()
        session.add(ReportDelivery(id=uuid.uuid4(), tenant_id=t, client_id=c, consultant_id=people.consultant_id,
                                   title="Varshphal", due_at=ancient, workflow_id=f"report-{uuid.uuid4()}",
                                   file_id=files["old_referenced"].id))
        export = PrivacyRequest(tenant_id=t, client_id=c, kind="export", status="ready",
                                workflow_id=f"privacy-export-{uuid.uuid4()}", archive_key=archive, archive_bytes=2,
                                expires_at=now - timedelta(days=1), summary={})
        session.add(export)
        session.add_all([AuthSession(tenant_id=t, user_id=c, current_token_hash=uuid.uuid4().hex, expires_at=at)
                         for at in (old, now + timedelta(days=7))])
        session.add_all([OneTimeToken(tenant_id=t, user_id=c, purpose=TokenPurpose.VERIFY_EMAIL,
                                      token_hash=uuid.uuid4().hex, expires_at=at)
                         for at in (old, now + timedelta(days=1))])
        session.add_all([Invitation(tenant_id=t, email=f"{status.value}-{at:%Y}@example.com", role=Role.CONSULTANT,
                                    status=status, token_hash=uuid.uuid4().hex, expires_at=at)
                         for status, at in ((InvitationStatus.PENDING, old), (InvitationStatus.ACCEPTED, old),
                                            (InvitationStatus.PENDING, now + timedelta(days=3)))])
        order = Order(tenant_id=t, client_id=c, status="fulfilled", currency="INR", subtotal=100_000, taxable=100_000,
                      tax=18_000, total=118_000, amount_due=118_000, amount_paid=118_000, gst_mode="exclusive",
                      gst_rate_bp=1800, expires_at=ancient, created_at=ancient, updated_at=ancient)
        session.add(order)
        await session.flush()
        session.add(Payment(tenant_id=t, order_id=order.id, gateway_payment_id=f"pay_{uuid.uuid4().hex[:14]}",
                            gateway_order_id="order_x", status="captured", result="captured", amount=118_000,
                            currency="INR", source="webhook", created_at=ancient, updated_at=ancient))
        session.add(Invoice(tenant_id=t, order_id=order.id, series="INV", number=1, invoice_number="INV-1",
                            issued_at=ancient, currency="INR", total=118_000, tax=18_000, html="<p>INV-1</p>",
                            created_at=ancient, updated_at=ancient))
        unpaid = {"abandoned": _unpaid(t, c, old), "attempted": _unpaid(t, c, old, gateway_order_id="order_tried"),
                  "credit_held": _unpaid(t, c, old, wallet_applied=10_000, wallet_released=False),
                  "recent": _unpaid(t, c, fresh)}
        session.add_all(unpaid.values())
        await session.flush()
        session.add_all([OrderLine(tenant_id=t, order_id=o.id, position=0, kind="product", description="Gem guide",
                                   unit_amount=50_000, gross=50_000, taxable=50_000, total=50_000, status="released")
                         for o in unpaid.values()])
        session.add(Payment(tenant_id=t, order_id=unpaid["attempted"].id, gateway_payment_id="pay_failedattempt",
                            gateway_order_id="order_tried", status="failed", result="failed", amount=50_000,
                            currency="INR", source="webhook"))
        session.add_all([AnalyticsViewBucket(tenant_id=t, consultant_id=people.consultant_id, kind=kind,
                                             bucket_at=at.replace(minute=0, second=0, microsecond=0), views=3)
                         for kind in ("page", "slot") for at in (ancient, fresh)])
    return {"people": people, "files": files, "archive": archive, "export_id": export.id,
            "kept_unpaid": {unpaid[k].id for k in ("attempted", "credit_held", "recent")}, "paid": order.id}


async def _count(session, model) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_the_sweep_removes_what_expired_in_batches_and_keeps_the_rest(env, sessionmaker, settings):
    storage = build_storage(settings)
    ages = Ages(await env.get_current_time())
    seeded = await _seed(sessionmaker, storage, ages)
    with env.auto_time_skipping_disabled():  # the sweeps run at the seeded "now", not days after it
        result = await env.client.execute_workflow(
            "RetentionSweep", RetentionInput(batch_size=2), id=f"retention-{uuid.uuid4()}",
            task_queue=env.task_queue, result_type=RetentionResult)
    assert result.unfinished == []
    assert result.removed == {
        SweepKind.NOTIFICATION_DELIVERIES: 3,  # in two batches of at most 2
        SweepKind.OUTBOX_MESSAGES: 1, SweepKind.IN_APP_NOTIFICATIONS: 1, SweepKind.IDEMPOTENCY_RECORDS: 1,
        SweepKind.FILES: 2, SweepKind.EXPORT_ARCHIVES: 1, SweepKind.AUTH_SESSIONS: 1,
        SweepKind.ONE_TIME_TOKENS: 1, SweepKind.INVITATIONS: 1, SweepKind.UNPAID_ORDERS: 1,
        SweepKind.VIEW_BUCKETS: 2}

    files = seeded["files"]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        kept_files = set((await session.execute(select(StoredFile.id))).scalars())
        assert kept_files == {files[k].id for k in ("old_referenced", "old_report", "fresh_upload")}
        for model in (NotificationDelivery, OutboxMessage, InAppNotification, IdempotencyRecord, AuthSession,
                      OneTimeToken):
            assert await _count(session, model) == 1, model.__tablename__  # the fresh one
        assert set((await session.execute(select(Invitation.status))).scalars()) == {
            InvitationStatus.ACCEPTED, InvitationStatus.PENDING}
        export = await session.get(PrivacyRequest, seeded["export_id"])
        assert export is not None and (export.archive_key, export.status) == (None, "expired")
        # nine years on, the GST records are all there and still add up; of the unpaid orders only
        # the abandoned one went (with its line)
        assert set((await session.execute(select(Order.id))).scalars()) == seeded["kept_unpaid"] | {seeded["paid"]}
        assert set((await session.execute(select(OrderLine.order_id))).scalars()) == seeded["kept_unpaid"]
        paid = await session.get(Order, seeded["paid"])
        assert paid is not None and paid.total == 118_000
        buckets = set((await session.execute(select(AnalyticsViewBucket.kind, AnalyticsViewBucket.bucket_at))).all())
        assert buckets == {(kind, ages.fresh.replace(minute=0, second=0, microsecond=0)) for kind in ("page", "slot")}
        assert [(i.total, i.tax) for i in (await session.execute(select(Invoice))).scalars()] == [(118_000, 18_000)]
        assert await _count(session, Payment) == 2  # the GST record and the failed attempt
    for name, stored in files.items():
        gone = name in ("old_upload", "old_confirmation")
        try:
            await storage.get(stored.storage_key)
            assert not gone, f"{name} is still in the storage"
        except ObjectMissing:
            assert gone, f"{name} was deleted from the storage"
    try:
        await storage.get(seeded["archive"])
        raise AssertionError("the expired export archive is still in the storage")
    except ObjectMissing:
        pass

    with env.auto_time_skipping_disabled():
        again = await env.client.execute_workflow(
            "RetentionSweep", RetentionInput(), id=f"retention-{uuid.uuid4()}", task_queue=env.task_queue,
            result_type=RetentionResult)
    assert sum(again.removed.values()) == 0  # nothing twice

