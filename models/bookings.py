"""Consultants, their offerings and availability, webinar sessions and bookings.

Two guarantees live in PostgreSQL itself, whatever the application does:

* `ex_bookings_no_overlap`: two live (held or confirmed) 1:1 bookings of one consultant never
  share an instant of their blocked ranges (session plus buffers). An exclusion constraint over
  (consultant_id WITH =, blocked WITH &&), GiST with btree_gist for the uuid equality.
* `ck_webinar_sessions_seats_within_capacity`: a webinar session's seat counter never exceeds its
  capacity; taking a seat is `seats_taken = seats_taken + 1`, which the CHECK refuses beyond it.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    CompoundSelect,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    bindparam,
    func,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE, ExcludeConstraint, Range
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from domain.bookings.consultation import LIVE_STATUSES, BookingStatus
from domain.bookings.slots import WEEKDAYS, Availability, Busy, SlotRules, Window, check_windows, local_date, zone
from models.base import Base, IdMixin, TenantOwned, TimestampMixin


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in enum_cls]


class OfferingKind(enum.StrEnum):
    ONE_TO_ONE = "one_to_one"
    WEBINAR = "webinar"


class WebinarStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RefundStatus(enum.StrEnum):
    NONE = "none"
    DUE = "due"            # recorded here; the payments capability carries it out
    REFUNDED = "refunded"


BOOKING_STATUS = Enum(BookingStatus, name="booking_status", values_callable=_values)
LIVE_BOOKING = "status IN ('held', 'confirmed')"


class Consultant(IdMixin, TimestampMixin, TenantOwned, Base):
    """A person of the consultancy who takes bookings, with their public profile and hours."""

    __tablename__ = "consultants"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    slug: Mapped[str] = mapped_column(String(63))
    display_name: Mapped[str] = mapped_column(String(200))
    headline: Mapped[str | None] = mapped_column(String(300))
    bio: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    # [{"day": "monday", "start": "09:00", "end": "13:00"}, ...] in `timezone`
    weekly_hours: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_feed_version: Mapped[int] = mapped_column(Integer, default=1)
    # what a public page shows besides the bio (docs/team.md, "Consultant profiles")
    photo_file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    specialities: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    experience_years: Mapped[int | None] = mapped_column(Integer)
    # [{"label": "Instagram", "url": "https://instagram.com/..."}, ...]
    social_links: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))


class AvailabilityOverride(IdMixin, TimestampMixin, TenantOwned, Base):
    """Other hours on one local date; no windows means a day off."""

    __tablename__ = "availability_overrides"
    __table_args__ = (UniqueConstraint("consultant_id", "on_date"),)

    consultant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultants.id", ondelete="CASCADE"), index=True)
    on_date: Mapped[date] = mapped_column(Date)
    windows: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    note: Mapped[str | None] = mapped_column(String(300))


class Offering(IdMixin, TimestampMixin, TenantOwned, Base):
    """What a consultant sells: a 1:1 session or a webinar, with its rules and policies."""

    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="positive_duration"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("kind <> 'webinar' OR capacity > 0", name="webinar_has_capacity"),
    )

    consultant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[OfferingKind] = mapped_column(Enum(OfferingKind, name="offering_kind", values_callable=_values))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    slot_interval_minutes: Mapped[int] = mapped_column(Integer, default=30)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=240)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)
    meeting_provider: Mapped[str] = mapped_column(String(32), default="jitsi")
    intake_form: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    cancellation_policy: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reschedule_policy: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reminder_offsets_minutes: Mapped[list[int]] = mapped_column(JSONB, default=list)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    completion_grace_hours: Mapped[int] = mapped_column(Integer, default=2)
    follow_up_days: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class WebinarSession(IdMixin, TimestampMixin, TenantOwned, Base):
    """One scheduled run of a webinar offering; seats are a counter bounded by a CHECK."""

    __tablename__ = "webinar_sessions"
    __table_args__ = (
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        ExcludeConstraint(
            ("consultant_id", "="), ("blocked", "&&"),
            name="ex_webinar_sessions_no_overlap", using="gist", where=text("status = 'scheduled'"),
        ),
    )

    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    consultant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultants.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[WebinarStatus] = mapped_column(
        Enum(WebinarStatus, name="webinar_status", values_callable=_values), default=WebinarStatus.SCHEDULED)


class Booking(IdMixin, TimestampMixin, TenantOwned, Base):
    """A client's booking of an offering: a 1:1 session (blocked range) or a webinar seat."""

    __tablename__ = "bookings"
    __table_args__ = (
        ExcludeConstraint(
            ("consultant_id", "="), ("blocked", "&&"),
            name="ex_bookings_no_overlap", using="gist",
            where=text(f"{LIVE_BOOKING} AND blocked IS NOT NULL"),
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("(webinar_session_id IS NULL) <> (blocked IS NULL)", name="session_or_seat"),
        Index("ix_bookings_consultant_starts", "consultant_id", "starts_at"),
    )

    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    consultant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultants.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    webinar_session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webinar_sessions.id", ondelete="CASCADE"), index=True)
    status: Mapped[BookingStatus] = mapped_column(BOOKING_STATUS, index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked: Mapped[Range[datetime] | None] = mapped_column(TSTZRANGE)
    client_timezone: Mapped[str] = mapped_column(String(64))
    intake: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # money, in minor units; the payments capability fills what is paid and carries out refunds
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    hold_expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_method: Mapped[str | None] = mapped_column(String(40))
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    # the order a paid booking is paid through (one consultation line, ref_id = this booking);
    # None for free bookings. Unique: a booking has one order, an order pays one booking.
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), unique=True)
    # the terms agreed at booking time
    cancellation_policy: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reschedule_policy: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    meeting_provider: Mapped[str] = mapped_column(String(32))
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    reschedule_count: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    refund_percent: Mapped[int | None] = mapped_column(Integer)
    refund_due_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_status: Mapped[RefundStatus] = mapped_column(
        Enum(RefundStatus, name="refund_status", values_callable=_values), default=RefundStatus.NONE)
    completed_at: Mapped[datetime | None]
    no_show_at: Mapped[datetime | None]
    outcome_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str | None] = mapped_column(Text)
    private_notes_encrypted: Mapped[str | None] = mapped_column(Text)
    feedback_rating: Mapped[int | None] = mapped_column(Integer)
    feedback_comment: Mapped[str | None] = mapped_column(Text)
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)


# -- repository functions: rows -> the pure slot arithmetic's inputs ---------------------------
def weekly_windows(items: Iterable[dict[str, str]]) -> dict[int, tuple[Window, ...]]:
    by_day: dict[int, list[Window]] = {}
    for item in items:
        by_day.setdefault(WEEKDAYS.index(item["day"]), []).append(Window.of(item["start"], item["end"]))
    return {day: check_windows(windows) for day, windows in by_day.items()}


def override_windows(items: Iterable[dict[str, str]]) -> tuple[Window, ...]:
    return check_windows(Window.of(i["start"], i["end"]) for i in items)


def slot_rules(offering: Offering) -> SlotRules:
    return SlotRules(
        duration=timedelta(minutes=offering.duration_minutes),
        step=timedelta(minutes=offering.slot_interval_minutes),
        buffer_before=timedelta(minutes=offering.buffer_before_minutes),
        buffer_after=timedelta(minutes=offering.buffer_after_minutes),
        min_notice=timedelta(minutes=offering.min_notice_minutes),
        horizon=timedelta(days=offering.horizon_days),
        max_per_day=offering.max_per_day,
    )


def blocked_range(offering: Offering, starts_at: datetime) -> Range[datetime]:
    start, end = slot_rules(offering).blocked(starts_at)
    return Range(start, end, bounds="[)")


def live_bookings_of(consultant_id: uuid.UUID) -> Select[Booking]:
    return select(Booking).where(Booking.consultant_id == consultant_id, Booking.status.in_(LIVE_STATUSES))


@dataclass(frozen=True)
class SlotContext:
    availability: Availability
    rules: SlotRules
    busy: Busy
    booked_per_day: dict[date, int]


def _slot_context_statement() -> CompoundSelect[Any]:
    """Overrides, live bookings and scheduled webinar sessions of one consultant around a window,
    as one statement (a UNION ALL whose `kind` says which): one round trip where three took
    three (docs/performance.md). Built once; executed with `consultant`, `first_day`,
    `last_day`, `window` and `exclude` (a booking id left out, or NULL)."""
    window = bindparam("window", type_=TSTZRANGE)
    no_range, no_id, no_time = null().cast(TSTZRANGE), null().cast(Uuid), null().cast(DateTime(timezone=True))
    return union_all(
        select(literal("override").label("kind"), AvailabilityOverride.on_date.label("on_date"),
               AvailabilityOverride.windows.label("windows"), no_range.label("blocked"),
               no_id.label("offering_id"), no_time.label("starts_at")).where(
            AvailabilityOverride.consultant_id == bindparam("consultant"),
            AvailabilityOverride.on_date.between(bindparam("first_day"), bindparam("last_day"))),
        select(literal("booking"), null().cast(Date), null().cast(JSONB), Booking.blocked, Booking.offering_id,
               Booking.starts_at).where(
            Booking.consultant_id == bindparam("consultant"), Booking.status.in_(LIVE_STATUSES),
            Booking.blocked.is_not(None), Booking.blocked.overlaps(window),
            Booking.id.is_distinct_from(bindparam("exclude", type_=Uuid))),
        select(literal("webinar"), null().cast(Date), null().cast(JSONB), WebinarSession.blocked, no_id,
               no_time).where(
            WebinarSession.consultant_id == bindparam("consultant"),
            WebinarSession.status == WebinarStatus.SCHEDULED, WebinarSession.blocked.overlaps(window)),
    )


_SLOT_CONTEXT = _slot_context_statement()


async def slot_context(
    session: AsyncSession,
    consultant: Consultant,
    offering: Offering,
    start: datetime,
    end: datetime,
    *,
    exclude_booking_id: uuid.UUID | None = None,
) -> SlotContext:
    """Everything the slot arithmetic needs for sessions starting in [start, end): one statement."""
    margin = timedelta(days=1)
    tz = zone(consultant.timezone)
    rows = (await session.execute(_SLOT_CONTEXT, {
        "consultant": consultant.id, "window": Range(start - margin, end + margin, bounds="[)"),
        "first_day": local_date(start - margin, tz), "last_day": local_date(end + margin, tz),
        "exclude": exclude_booking_id,
    })).all()
    overrides = {r.on_date: override_windows(r.windows) for r in rows if r.kind == "override"}
    blocking = [r for r in rows if r.kind != "override"]
    intervals = [(r.blocked.lower, r.blocked.upper) for r in blocking]
    counts = Counter(local_date(r.starts_at, tz) for r in blocking
                     if r.kind == "booking" and r.offering_id == offering.id)
    availability = Availability(consultant.timezone, weekly_windows(consultant.weekly_hours), overrides)
    return SlotContext(availability, slot_rules(offering), Busy(intervals), dict(counts))


async def consultant_for_booking(
    session: AsyncSession, consultant_id: uuid.UUID, offering: Offering, starts_at: datetime,
) -> Consultant:
    """The consultant, locked until the transaction ends for a booking (or a move) to `starts_at`.

    `FOR SHARE`: bookings of one consultant go on side by side (the exclusion constraint keeps
    their times apart), while a change to the consultant's row (weekly hours, zone) and a webinar
    session being scheduled (`FOR UPDATE`) wait for them, and they for it. It used to be
    `FOR NO KEY UPDATE` (SQLAlchemy's `with_for_update(key_share=True)` without `read=True`),
    which made every booking of one consultant wait for the one before it to commit: the 200-client
    race's winners queued one behind the other (docs/performance.md).

    When the offering caps its bookings per day (`max_per_day`), bookings of that offering on the
    same local date also take a transaction-scoped advisory lock, waited for: they are counted one
    after the other, so two can never both take a day's last place."""
    consultant: Consultant = (await session.execute(
        select(Consultant).where(Consultant.id == consultant_id).with_for_update(read=True))).scalar_one()
    if offering.max_per_day is not None:
        day = local_date(starts_at, zone(consultant.timezone))
        key = f"booking-day:{consultant_id}:{offering.id}:{day.isoformat()}"
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    return consultant
