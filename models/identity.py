"""People, their sign-in sessions and the one-time tokens sent to them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, OptionallyTenantOwned, TimestampMixin


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"  # runs the platform; belongs to no tenant
    OWNER = "owner"                    # the consultant who owns the tenant
    CONSULTANT = "consultant"          # another consultant of the tenant
    STAFF = "staff"                    # support staff of the tenant
    CLIENT = "client"                  # buys from the tenant


ROLE_ENUM = Enum(Role, name="user_role", values_callable=lambda e: [m.value for m in e])


class User(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """A person inside one tenant (or a platform admin, tenant_id NULL).

    The same email may exist in two tenants as two unrelated users: they never see each other.
    """

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email", postgresql_nulls_not_distinct=True),
    )

    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    role: Mapped[Role] = mapped_column(ROLE_ENUM)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified_at: Mapped[datetime | None]
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(512))
    totp_enabled_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None


class AuthSession(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """One sign-in: a family of rotating refresh tokens.

    Each refresh replaces `current_token_hash`; presenting a token of this family that is not
    the current one means it was stolen and replayed, so the whole family is revoked.
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    current_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class RetiredRefreshToken(OptionallyTenantOwned, Base):
    """Refresh tokens already rotated away: seeing one again is a replay."""

    __tablename__ = "retired_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class OneTimeToken(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    __tablename__ = "one_time_tokens"
    __table_args__ = (Index("ix_one_time_tokens_user_purpose", "user_id", "purpose"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(
        Enum(TokenPurpose, name="token_purpose", values_callable=lambda e: [m.value for m in e])
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(IdMixin, OptionallyTenantOwned, Base):
    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


async def first_owner_id(session: AsyncSession, tenant_id: uuid.UUID) -> uuid.UUID | None:
    """The consultancy's first owner: who is told what only an owner can act on (its provider keys,
    a client's question on a course without a consultant)."""
    owner: uuid.UUID | None = await session.scalar(select(User.id).where(
        User.tenant_id == tenant_id, User.role == Role.OWNER).order_by(User.created_at).limit(1))
    return owner
