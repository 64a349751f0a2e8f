"""What clients buy on their own besides sessions, courses and remedies, and session packages.

* `products`: a report (written by a consultant, delivered through ReportDelivery) or any other
  item sold once (delivered by hand). Courses and remedies keep their own catalogues.
* `session_packages`: N sessions of an offering at a package price, valid for some days.
* `package_grants`: one paid package line of a client (id = the order line's id), or one paid
  membership period (`membership_id`, models/memberships.py), with a counter of credits used
  that the database bounds (`0 <= credits_used <= credits_total`).
* `package_credit_moves`: the ledger of every grant, use, return, expiry and revocation,
  never updated; `dedupe_key` is unique, so a booking uses a credit once and gets it back once.

A credit is taken with one `UPDATE ... SET credits_used = credits_used + 1 WHERE credits_used <
credits_total` on the grant row, which PostgreSQL serialises (row lock), so two bookings racing
for the last credit cannot both get it (docs/checkout.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from domain.packages import GrantStatus, MoveKind, credit_comes_back
from models.base import Base, IdMixin, TenantOwned, TimestampMixin, utcnow


class Product(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("kind IN ('report', 'product')", name="kind"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("kind <> 'report' OR consultant_user_id IS NOT NULL", name="report_has_writer"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    consultant_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), doc="who writes a report")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SessionPackage(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "session_packages"
    __table_args__ = (
        CheckConstraint("sessions > 0", name="sessions_positive"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("valid_days > 0", name="valid_days_positive"),
        CheckConstraint("reminder_days >= 0", name="reminder_days_not_negative"),
        CheckConstraint("credit_back_min_percent BETWEEN 0 AND 100", name="credit_back_percent"),
    )

    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    sessions: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    valid_days: Mapped[int] = mapped_column(Integer)
    reminder_days: Mapped[int] = mapped_column(Integer, default=7)
    credit_back_min_percent: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PackageGrant(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "package_grants"
    __table_args__ = (
        CheckConstraint("credits_used >= 0 AND credits_used <= credits_total", name="credits_within_total"),
        CheckConstraint("status IN ('active', 'expired', 'revoked')", name="status"),
        CheckConstraint("package_id IS NOT NULL OR membership_id IS NOT NULL", name="has_source"),
        Index("ix_package_grants_client_offering", "client_id", "offering_id", "status"),
    )

    package_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("session_packages.id", ondelete="CASCADE"),
                                                         index=True)
    membership_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"),
                                                            index=True, doc="a membership period's credits")
    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    credits_total: Mapped[int] = mapped_column(Integer)
    credits_used: Mapped[int] = mapped_column(Integer, default=0)
    credit_back_min_percent: Mapped[int] = mapped_column(Integer, default=100)
    status: Mapped[str] = mapped_column(String(16), default=GrantStatus.ACTIVE.value)
    expires_at: Mapped[datetime]
    workflow_id: Mapped[str] = mapped_column(String(100), unique=True)


class PackageCreditMove(IdMixin, TenantOwned, Base):
    __tablename__ = "package_credit_moves"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        CheckConstraint("left_after >= 0", name="never_negative"),
        CheckConstraint("kind IN ('grant', 'use', 'return', 'expire', 'revoke')", name="kind"),
    )

    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("package_grants.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    delta: Mapped[int] = mapped_column(Integer)
    left_after: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def credits_left(grant: PackageGrant) -> int:
    return grant.credits_total - grant.credits_used if grant.status == GrantStatus.ACTIVE else 0


async def _move(session: AsyncSession, grant: PackageGrant, kind: MoveKind, delta: int, key: str,
                booking_id: uuid.UUID | None = None, note: str | None = None) -> PackageCreditMove:
    move = PackageCreditMove(tenant_id=grant.tenant_id, grant_id=grant.id, booking_id=booking_id, kind=kind.value,
                             delta=delta, left_after=grant.credits_total - grant.credits_used
                             if grant.status == GrantStatus.ACTIVE else 0,
                             dedupe_key=key, note=note, created_at=utcnow())
    session.add(move)
    await session.flush()
    return move


async def take_credit(session: AsyncSession, *, tenant_id: uuid.UUID, client_id: uuid.UUID,
                      offering_id: uuid.UUID, booking_id: uuid.UUID, now: datetime) -> PackageGrant | None:
    """One credit of the client's package for this offering that expires first, for this booking;
    None if they have none left. The conditional UPDATE is atomic under the row lock PostgreSQL
    takes, so the last credit goes to one booking only (the CHECK is the second line)."""
    candidates = (await session.execute(
        select(PackageGrant.id).where(
            PackageGrant.tenant_id == tenant_id, PackageGrant.client_id == client_id,
            PackageGrant.offering_id == offering_id, PackageGrant.status == GrantStatus.ACTIVE.value,
            PackageGrant.expires_at > now, PackageGrant.credits_used < PackageGrant.credits_total)
        .order_by(PackageGrant.expires_at, PackageGrant.id))).scalars().all()
    for grant_id in candidates:
        taken = (await session.execute(
            update(PackageGrant)
            .where(PackageGrant.id == grant_id, PackageGrant.status == GrantStatus.ACTIVE.value,
                   PackageGrant.expires_at > now, PackageGrant.credits_used < PackageGrant.credits_total)
            .values(credits_used=PackageGrant.credits_used + 1, updated_at=utcnow())
            .returning(PackageGrant.id))).scalar_one_or_none()
        if taken is None:
            continue  # someone else took its last credit meanwhile: try the next package
        grant = await session.get(PackageGrant, taken, populate_existing=True)
        assert grant is not None
        await _move(session, grant, MoveKind.USE, -1, f"use:{booking_id}", booking_id=booking_id)
        return grant
    return None


async def credit_used_by(session: AsyncSession, booking_id: uuid.UUID) -> PackageCreditMove | None:
    return (await session.execute(select(PackageCreditMove).where(
        PackageCreditMove.booking_id == booking_id, PackageCreditMove.kind == MoveKind.USE.value))).scalar_one_or_none()


async def lock_grant(session: AsyncSession, grant_id: uuid.UUID) -> PackageGrant | None:
    return (await session.execute(select(PackageGrant).where(PackageGrant.id == grant_id).with_for_update()
                                  .execution_options(populate_existing=True))).scalar_one_or_none()


async def give_credit_back(session: AsyncSession, booking_id: uuid.UUID, note: str) -> bool:
    """Return the credit a booking used (once; only to a grant still active). True if returned."""
    use = await credit_used_by(session, booking_id)
    if use is None:
        return False
    grant = await lock_grant(session, use.grant_id)
    if grant is None or grant.status != GrantStatus.ACTIVE or grant.expires_at <= utcnow():
        return False
    key = f"return:{booking_id}"
    if await session.scalar(select(PackageCreditMove.id).where(PackageCreditMove.dedupe_key == key)):
        return False
    grant.credits_used -= 1
    await session.flush()
    await _move(session, grant, MoveKind.RETURN, 1, key, booking_id=booking_id, note=note[:300])
    return True


async def settle_cancelled_credit(session: AsyncSession, booking_id: uuid.UUID, *, refund_percent: int,
                                  by_consultant: bool) -> bool:
    """A cancelled booking paid with a credit: give the credit back if the grant's rule says so
    (the booking's cancellation policy would refund at least `credit_back_min_percent`)."""
    use = await credit_used_by(session, booking_id)
    if use is None:
        return False
    grant = await lock_grant(session, use.grant_id)
    if grant is None or not credit_comes_back(refund_percent, grant.credit_back_min_percent,
                                              by_consultant=by_consultant):
        return False
    return await give_credit_back(session, booking_id, f"booking cancelled ({refund_percent} % refund band)")


async def close_grant(session: AsyncSession, grant_id: uuid.UUID, status: GrantStatus, note: str) -> int:
    """Expire or revoke what is left of a grant (once); returns the credits that went."""
    grant = await lock_grant(session, grant_id)
    if grant is None or grant.status != GrantStatus.ACTIVE:
        return 0
    left = grant.credits_total - grant.credits_used
    grant.status = status.value
    await session.flush()
    kind = MoveKind.EXPIRE if status == GrantStatus.EXPIRED else MoveKind.REVOKE
    await _move(session, grant, kind, -left, f"{kind.value}:{grant.id}", note=note[:300])
    return left
