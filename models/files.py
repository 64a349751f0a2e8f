"""Documents: stored files (their bytes live in the file storage) and report deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, String, Text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from domain.files import FileKind
from domain.report_delivery import ReportDeliveryStatus
from models.base import Base, IdMixin, TenantOwned, TimestampMixin


class StoredFile(IdMixin, TimestampMixin, TenantOwned, Base):
    """An uploaded (or generated) file of a tenant. `storage_key` is built from ids only.

    `client_id` is the client the file belongs to (their upload, or a report for them): that
    client may fetch it; the tenant's staff may fetch every file of the tenant.
    """

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_tenant_client", "tenant_id", "client_id"),)

    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[FileKind] = mapped_column(
        Enum(FileKind, name="file_kind", values_callable=lambda e: [m.value for m in e]))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), doc="display name, sanitised; never used as a key")
    purpose: Mapped[str] = mapped_column(String(32), default="upload")
    storage_backend: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)


class ReportDelivery(TimestampMixin, TenantOwned, Base):
    """The database's mirror of a ReportDeliveryWorkflow (`report-<id>`), for reads.

    `id` is the order (or order line) that sold the report. The workflow's activities keep
    `status` and the dates current; the API reads them without asking Temporal.
    """

    __tablename__ = "report_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    consultant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    status: Mapped[ReportDeliveryStatus] = mapped_column(
        Enum(ReportDeliveryStatus, name="report_delivery_status", values_callable=lambda e: [m.value for m in e]),
        default=ReportDeliveryStatus.AWAITING_UPLOAD, index=True,
    )
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"), index=True)
    uploaded_at: Mapped[datetime | None]
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    delivered_at: Mapped[datetime | None]
    delivered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    delivery_note: Mapped[str | None] = mapped_column(Text)
    first_opened_at: Mapped[datetime | None]
    due_soon_alert_at: Mapped[datetime | None]
    overdue_alert_at: Mapped[datetime | None]


async def record_first_open(session: AsyncSession, delivery_id: uuid.UUID, at: datetime) -> bool:
    """Set first_opened_at unless set; True if this call was the first open."""
    result = await session.execute(
        update(ReportDelivery)
        .where(ReportDelivery.id == delivery_id, ReportDelivery.first_opened_at.is_(None))
        .values(first_opened_at=at)
        .returning(ReportDelivery.id)
    )
    return result.first() is not None
