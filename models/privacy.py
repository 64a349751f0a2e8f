"""Personal data: export and erasure requests, and what each client consented to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TenantOwned, TimestampMixin


class PrivacyRequest(IdMixin, TimestampMixin, TenantOwned, Base):
    """One export or erasure of a client's personal data, mirrored from its workflow for reads.

    `client_id` is kept after an erasure (the user row stays, anonymised, because invoices point
    at it); `summary` holds counts per table, never personal data.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_tenant_client", "tenant_id", "client_id"),)

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))      # export | erasure
    status: Mapped[str] = mapped_column(String(16))    # requested | running | ready | expired | done | failed
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    archive_key: Mapped[str | None] = mapped_column(String(300))
    archive_bytes: Mapped[int | None] = mapped_column(BigInteger)  # an archive with years of files passes 2 GiB
    expires_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Consent(IdMixin, TenantOwned, Base):
    """One decision of a client about one kind of consent; never updated, the latest one counts."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_tenant_user_kind", "tenant_id", "user_id", "kind", "recorded_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))      # terms | privacy | marketing | whatsapp
    version: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))    # client | staff | signup
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


async def latest_consents(session: AsyncSession, user_id: uuid.UUID, kinds: Sequence[str]) -> dict[str, bool]:
    """The latest decision per kind (a kind never decided is absent: no consent)."""
    rows = (await session.execute(
        select(Consent.kind, Consent.granted).where(Consent.user_id == user_id, Consent.kind.in_(list(kinds)))
        .order_by(Consent.recorded_at.desc()))).all()  # a handful per client: newest first, first one wins
    latest: dict[str, bool] = {}
    for kind, granted in rows:
        latest.setdefault(kind, granted)
    return latest
