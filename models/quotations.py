"""Quotations: the offer, its versions and lines, views of its link, and the per-consultancy number.

Every table is tenant-owned (row-level security). `quotations` holds the current state the API
reads (status, validity, views, the order made on acceptance); the Quotation workflow's
activities write its changes. `quotation_versions` keeps every issued version with its own
figures (a revision never changes what the client was shown before); `issued_at` is NULL for a
draft and for a revision the workflow has not issued yet.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TenantOwned, TimestampMixin


class Quotation(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "quotations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("views >= 0", name="views_not_negative"),
        CheckConstraint("current_version >= 1", name="version_positive"),
        CheckConstraint("status IN ('draft', 'sent', 'viewed', 'accepted', 'paid', 'rejected', 'expired', "
                        "'withdrawn', 'lapsed')", name="status"),
        Index("ix_quotations_open_expiry", "tenant_id", "expires_at", postgresql_where=text(
            "status IN ('sent', 'viewed')")),
    )

    number: Mapped[int] = mapped_column(Integer)
    consultant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultants.id", ondelete="RESTRICT"), index=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    client_name: Mapped[str] = mapped_column(String(200))
    client_email: Mapped[str] = mapped_column(String(320))
    client_phone: Mapped[str | None] = mapped_column(String(32))
    client_timezone: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    validity_days: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None]
    reminder_days: Mapped[list[int]] = mapped_column(JSONB, default=list)
    sent_at: Mapped[datetime | None]
    views: Mapped[int] = mapped_column(Integer, default=0)
    first_viewed_at: Mapped[datetime | None]
    last_viewed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None]
    workflow_id: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class QuotationVersion(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "quotation_versions"
    __table_args__ = (
        UniqueConstraint("quotation_id", "version"),
        CheckConstraint("subtotal >= 0 AND discount >= 0 AND tax >= 0 AND total >= 0", name="amounts_not_negative"),
        CheckConstraint("discount_kind IN ('none', 'percent', 'amount')", name="discount_kind"),
        CheckConstraint("discount_value >= 0", name="discount_not_negative"),
    )

    quotation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotations.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    discount_kind: Mapped[str] = mapped_column(String(8), default="none")
    discount_value: Mapped[int] = mapped_column(BigInteger, default=0)
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    taxable: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    gst_mode: Mapped[str] = mapped_column(String(16), default="none")
    gst_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    attachment_file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class QuotationLine(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "quotation_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("unit_amount >= 0", name="amount_not_negative"),
        CheckConstraint("kind IN ('offering', 'custom', 'report', 'course')", name="kind"),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotation_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(300))
    offering_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("offerings.id", ondelete="SET NULL"))
    ref_id: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    gross: Mapped[int] = mapped_column(BigInteger, default=0)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


class QuotationView(IdMixin, TenantOwned, Base):
    """One opening of the quotation's link (or a signed-in client's view)."""

    __tablename__ = "quotation_views"

    quotation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotations.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    viewed_at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(16))  # link, account
    user_agent: Mapped[str | None] = mapped_column(String(300))


class QuotationCounter(Base):
    """The last quote number of a consultancy: taken with the quotation in one transaction
    (INSERT .. ON CONFLICT DO UPDATE locks the row), so numbers are sequential and never reused."""

    __tablename__ = "quotation_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)

