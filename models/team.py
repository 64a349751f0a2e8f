"""Invitations to join a consultancy's team (or the platform's admins, tenant_id NULL)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, OptionallyTenantOwned, TimestampMixin
from models.identity import ROLE_ENUM, Role


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


class Invitation(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """An emailed, signed and expiring link to join with a role.

    The link's token is signed (core.signing) and only its hash is kept: re-sending replaces
    the hash, so an older link stops working. Accepting creates the account, or links an
    existing account of the same consultancy and email (its password proves it is theirs).
    """

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_tenant_email", "tenant_id", "email"),)

    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(ROLE_ENUM)
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(InvitationStatus, name="invitation_status", values_callable=lambda e: [m.value for m in e]),
        default=InvitationStatus.PENDING,
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None]
    accepted_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
    sent_count: Mapped[int] = mapped_column(default=1)
