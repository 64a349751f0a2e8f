"""Tenants (a consultancy) and the domains that lead to them."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin, TimestampMixin


class TenantStatus(enum.StrEnum):
    PENDING = "pending"      # signed up, waiting for a platform admin's approval
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Tenant(IdMixin, TimestampMixin, Base):
    """The registry of tenants is not itself tenant-scoped: a request must find its tenant."""

    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[TenantStatus] = mapped_column(
        Enum(TenantStatus, name="tenant_status", values_callable=lambda e: [m.value for m in e]),
        default=TenantStatus.PENDING,
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Kolkata")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Bumped by a trigger whenever one of the tenant's interpretive texts changes (migration 2800):
    # the key under which each API process keeps the tenant's texts in memory.
    texts_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    domains: Mapped[list[TenantDomain]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", lazy="selectin"
    )


class TenantDomain(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenant_domains"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    tenant: Mapped[Tenant] = relationship(back_populates="domains")
