"""Bookings built straight in the database, for workflow tests that start from a booking row.

API tests make theirs through the API (see tests/api/test_bookings_api.py); these factories
serve tests that need a booking at a precise instant of the time-skipping server's clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import TenantScope, scoped_session
from core.security import hash_password
from domain.bookings.consultation import (
    BookingStatus,
    ConsultationInput,
    consultation_workflow_id,
)
from domain.bookings.policies import CancellationPolicy, ReschedulePolicy
from models.bookings import Booking, Consultant, Offering, OfferingKind, blocked_range
from models.identity import Role, User
from models.platform import OutboxMessage
from models.tenancy import Tenant, TenantStatus

ALL_DAY = [{"day": d, "start": "00:00", "end": "24:00"}
           for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")]


@dataclass
class Practice:
    tenant_id: uuid.UUID
    owner_id: uuid.UUID
    client_id: uuid.UUID
    consultant_id: uuid.UUID
    offering_id: uuid.UUID
    client_email: str
    owner_email: str


async def practice(
    sessionmaker: async_sessionmaker[AsyncSession], *, price_minor: int = 0, timezone: str = "Asia/Kolkata",
    **offering_fields: Any,
) -> Practice:
    """An active consultancy whose owner consults all day, a client, and one 1:1 offering."""
    slug = f"t-{uuid.uuid4().hex[:8]}"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=slug, name="Jyotish Practice", status=TenantStatus.ACTIVE, timezone=timezone, settings={})
        session.add(tenant)
        await session.flush()
        owner = User(tenant_id=tenant.id, email=f"astro@{slug}.example.com", full_name="Acharya Sharma",
                     role=Role.OWNER, password_hash=hash_password("x" * 12), timezone=timezone)
        client = User(tenant_id=tenant.id, email=f"client@{slug}.example.com", full_name="Priya Client",
                      role=Role.CLIENT, timezone="Europe/London")
        session.add_all([owner, client])
        await session.flush()
        consultant = Consultant(tenant_id=tenant.id, user_id=owner.id, slug="acharya", display_name="Acharya Sharma",
                                timezone=timezone, weekly_hours=ALL_DAY, is_public=True, calendar_feed_version=1)
        session.add(consultant)
        await session.flush()
        fields: dict[str, Any] = dict(
            kind=OfferingKind.ONE_TO_ONE, title="Kundli reading", duration_minutes=60, price_minor=price_minor,
            currency="INR", buffer_before_minutes=0, buffer_after_minutes=15, slot_interval_minutes=30,
            min_notice_minutes=60, horizon_days=365, meeting_provider="jitsi", intake_form=[],
            cancellation_policy=CancellationPolicy().model_dump(), reschedule_policy=ReschedulePolicy().model_dump(),
            reminder_offsets_minutes=[1440, 60], hold_minutes=15, completion_grace_hours=2, follow_up_days=90,
            is_active=True,
        )
        fields.update(offering_fields)
        offering = Offering(tenant_id=tenant.id, consultant_id=consultant.id, **fields)
        session.add(offering)
        await session.flush()
        return Practice(tenant.id, owner.id, client.id, consultant.id, offering.id, client.email, owner.email)


async def booking_row(
    sessionmaker: async_sessionmaker[AsyncSession], p: Practice, starts_at: datetime, *,
    now: datetime, status: BookingStatus | None = None,
) -> tuple[uuid.UUID, ConsultationInput]:
    """A booking row as the API writes it, and the workflow input the API would start."""
    async with scoped_session(sessionmaker, TenantScope.of(p.tenant_id)) as session:
        offering = await session.get(Offering, p.offering_id)
        assert offering is not None
        paid = offering.price_minor > 0
        status = status or (BookingStatus.HELD if paid else BookingStatus.CONFIRMED)
        booking_id = uuid.uuid4()
        hold = now + timedelta(minutes=offering.hold_minutes) if status == BookingStatus.HELD else None
        booking = Booking(
            id=booking_id, tenant_id=p.tenant_id, offering_id=offering.id, consultant_id=p.consultant_id,
            client_id=p.client_id, status=status, starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=offering.duration_minutes),
            blocked=blocked_range(offering, starts_at), client_timezone="Europe/London", intake={},
            price_minor=offering.price_minor, currency=offering.currency, hold_expires_at=hold,
            cancellation_policy=offering.cancellation_policy, reschedule_policy=offering.reschedule_policy,
            meeting_provider=offering.meeting_provider, workflow_id=consultation_workflow_id(booking_id),
        )
        session.add(booking)
        await session.flush()
        inp = ConsultationInput(
            booking_id=booking_id, tenant_id=p.tenant_id, consultant_id=p.consultant_id, client_id=p.client_id,
            offering_title=offering.title, status=status, starts_at=booking.starts_at, ends_at=booking.ends_at,
            hold_expires_at=hold, reminder_offsets_minutes=offering.reminder_offsets_minutes,
            reschedule_policy=ReschedulePolicy.model_validate(offering.reschedule_policy),
            completion_grace_hours=offering.completion_grace_hours, follow_up_days=offering.follow_up_days,
        )
        return booking_id, inp


async def load_booking(sessionmaker: async_sessionmaker[AsyncSession], booking_id: uuid.UUID) -> Booking:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking


async def messages(sessionmaker: async_sessionmaker[AsyncSession], booking_id: uuid.UUID | str,
                   template: str | None = None) -> list[OutboxMessage]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        stmt = select(OutboxMessage).where(OutboxMessage.data["booking_id"].astext == str(booking_id))
        if template:
            stmt = stmt.where(OutboxMessage.template == template)
        return list((await session.execute(stmt.order_by(OutboxMessage.created_at))).scalars())


async def sent(sessionmaker: async_sessionmaker[AsyncSession], booking_id: uuid.UUID | str, template: str,
               count: int = 1) -> list[OutboxMessage]:
    """The booking's messages of `template` once `count` of them are in the outbox: messages leave
    in the background, after the update that caused them has answered."""
    from support import poll_until

    found = await poll_until(lambda: messages(sessionmaker, booking_id, template), lambda m: len(m) >= count)
    assert len(found) == count, [m.template for m in found]
    return found


def templates(found: list[OutboxMessage]) -> list[str]:
    return [m.template for m in found]


def next_hour(instant: datetime) -> datetime:
    """The first whole hour after `instant` at which practice()'s offering has a slot."""
    return slot_hour(instant.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))


def slot_hour(at: datetime) -> datetime:
    """`at` (a whole hour), or the hour after if practice()'s offering has no slot then: its consultant's
    day (Asia/Kolkata, as practice() makes it) ends at midnight, and a session and its buffer (75 min)
    must end by then, so 23:30 IST (18:00 UTC) is no slot. A test that starts a booking at that hour
    and moves it by whole days failed for one hour every day."""
    local = at.astimezone(ZoneInfo("Asia/Kolkata"))
    ends = local + timedelta(minutes=75)
    fits = ends.date() == local.date() or ends == ends.replace(hour=0, minute=0, second=0, microsecond=0)
    return at if fits else at + timedelta(hours=1)


# -- through the API ---------------------------------------------------------------------------
async def bookable(client: Any, owner: Any, *, timezone: str = "Asia/Kolkata",
                   hours: list[dict[str, str]] | None = None, slug: str = "acharya",
                   **offering: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The owner becomes a bookable consultant with one offering; returns both as the API shows them."""
    made = await client.post("/api/v1/consultants", headers=owner.headers(), json={
        "slug": slug, "display_name": "Acharya Demo", "timezone": timezone, "headline": "Vedic astrology",
        "weekly_hours": ALL_DAY if hours is None else hours})
    assert made.status_code == 201, made.text
    consultant = made.json()
    fields = {"consultant_id": consultant["id"], "title": "Kundli reading", "duration_minutes": 60,
              "min_notice_minutes": 0, "buffer_after_minutes": 15, "slot_interval_minutes": 30, **offering}
    created = await client.post("/api/v1/offerings", headers=owner.headers(), json=fields)
    assert created.status_code == 201, created.text
    return consultant, created.json()


async def public_slots(client: Any, tenant_slug: str, offering_id: str, consultant_slug: str = "acharya",
                       **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/public/{tenant_slug}/consultants/{consultant_slug}/offerings/{offering_id}/slots", params=params)
    assert response.status_code == 200, response.text
    slots: list[dict[str, Any]] = response.json()["slots"]
    return slots
