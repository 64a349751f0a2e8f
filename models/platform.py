"""Cross-cutting records: audit log, idempotency keys, the message outbox, pending workflow starts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.logging import client_ip_var, request_id_var
from models.base import Base, IdMixin, OptionallyTenantOwned, TimestampMixin, utcnow


class AuditEvent(IdMixin, OptionallyTenantOwned, Base):
    """Who did what, to what, in which tenant, when, from which request. Never updated."""

    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(index=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))


class IdempotencyRecord(TimestampMixin, Base):
    """The first answer to a POST carrying an Idempotency-Key, replayed for every repeat.

    `scope` is the caller (user id, or the tenant for anonymous calls); not tenant-guarded by
    row-level security because the middleware that reads it runs before the tenant is known.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"), Index("ix_idempotency_records_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    response_body: Mapped[str | None] = mapped_column(Text)  # Fernet-encrypted: it may carry tokens
    completed_at: Mapped[datetime | None]


class OutboxMessage(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """A message the local provider 'sent': what a real provider would have delivered.

    `dedupe_key` (workflow id + step, or the request that caused it) makes sending idempotent:
    a retried activity finds its message already here and sends nothing twice.
    """

    __tablename__ = "outbox_messages"

    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    template: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """What was attached (file name, type and size), e.g. a calendar invitation or a PDF."""
        listed: list[dict[str, Any]] = (self.data or {}).get("attachments", [])
        return listed


class PendingWorkflowStart(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """A workflow start written in the same transaction as the row it belongs to.

    The API starts the workflow right after the commit; if the process dies in between, the
    relay in the worker finds the row and starts it. Workflow ids are deterministic, so a start
    that already happened is recognised, never duplicated.
    """

    __tablename__ = "pending_workflow_starts"

    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    workflow_type: Mapped[str] = mapped_column(String(100))
    task_queue: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    search_attributes: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    memo: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)



class PendingWorkflowSignal(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """A signal to a workflow, written in the same transaction as the change it announces.

    The API sends it right after the commit; if that fails (Temporal away, the process died),
    the worker's relay sends it. A signal to a workflow that has since closed is recorded as
    such and not retried. Receivers treat a repeat as a no-op.
    """

    __tablename__ = "pending_workflow_signals"

    workflow_id: Mapped[str] = mapped_column(String(200))
    signal: Mapped[str] = mapped_column(String(100))
    payload: Mapped[Any] = mapped_column(JSONB)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

async def record_audit(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID | None,
    action: str,
    actor_user_id: uuid.UUID | None = None,
    actor_role: str | None = None,
    target_type: str | None = None,
    target_id: str | uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append an audit event (flushes; the caller's unit of work commits it)."""
    event = AuditEvent(
        tenant_id=tenant_id,
        at=utcnow(),
        actor_user_id=actor_user_id,
        actor_role=actor_role,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        details=details or {},
        request_id=request_id_var.get(),
        ip=ip or client_ip_var.get(),
    )
    session.add(event)
    await session.flush()
    return event


async def put_outbox_message(
    session: AsyncSession,
    *,
    dedupe_key: str,
    tenant_id: uuid.UUID | None,
    channel: str,
    recipient: str,
    template: str,
    body: str,
    subject: str | None = None,
    user_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Record a message once per dedupe key; False if it had been recorded before."""
    inserted = await session.execute(
        insert(OutboxMessage)
        .values(
            id=uuid.uuid4(),
            dedupe_key=dedupe_key,
            tenant_id=tenant_id,
            channel=channel,
            recipient=recipient,
            template=template,
            subject=subject,
            body=body,
            user_id=user_id,
            data=data or {},
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return inserted.first() is not None
