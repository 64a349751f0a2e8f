"""What a booking locks (models.bookings.consultant_for_booking), on real PostgreSQL: bookings of
one consultant never queue behind each other, and what must not interleave with them still waits.

Whether a step waits is asked of PostgreSQL itself: the step runs with a `lock_timeout`, which
refuses it (55P03) only when it has to wait for a lock another open transaction holds, however
fast or slow the machine is."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking_support import bookable, public_slots
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import text
from support import active_consultancy, assert_problem, register_client

from core.db import TenantScope, scoped_session
from models.bookings import Booking, Consultant, Offering, consultant_for_booking

KOLKATA = ZoneInfo("Asia/Kolkata")  # booking_support.bookable's consultant zone
Step = Callable[[AsyncSession], Awaitable[Any]]


async def _waits(sessionmaker, step: Step) -> bool:
    """Whether `step` has to wait for a lock that another open transaction holds."""
    try:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            await session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            await step(session)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":
            return True
        raise
    return False


def _booking_at(consultant_id: uuid.UUID, offering_id: uuid.UUID, starts_at: datetime) -> Step:
    async def take(session: AsyncSession) -> Consultant:
        offering = await session.get(Offering, offering_id)
        assert offering is not None
        return await consultant_for_booking(session, consultant_id, offering, starts_at)
    return take


async def _consultant_with(client, sessionmaker, **offering: Any):
    owner = await active_consultancy(client, sessionmaker)
    consultant, made = await bookable(client, owner, **offering)
    return owner, uuid.UUID(consultant["id"]), uuid.UUID(made["id"])


async def test_bookings_of_one_consultant_go_on_side_by_side(client, sessionmaker):
    _owner, consultant_id, offering_id = await _consultant_with(client, sessionmaker)
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    async with scoped_session(sessionmaker, TenantScope.system()) as booking:  # a booking, not yet committed
        await _booking_at(consultant_id, offering_id, first)(booking)

        assert not await _waits(sessionmaker, _booking_at(consultant_id, offering_id, first + timedelta(hours=2)))
        assert not await _waits(sessionmaker, _booking_at(consultant_id, offering_id, first + timedelta(days=1)))
        # ... while what must not interleave with a booking still waits for it: the consultant's
        # own row changing (hours, zone), and a webinar session taking the consultant's time.
        assert await _waits(sessionmaker, lambda s: s.execute(
            update(Consultant).where(Consultant.id == consultant_id).values(headline="Numerology")))
        assert await _waits(sessionmaker, lambda s: s.execute(
            select(Consultant.id).where(Consultant.id == consultant_id).with_for_update()))


async def test_a_daily_cap_counts_one_booking_of_a_day_at_a_time(client, sessionmaker):
    owner, consultant_id, capped = await _consultant_with(client, sessionmaker, max_per_day=2)
    made = await client.post("/api/v1/offerings", headers=owner.headers(), json={
        "consultant_id": str(consultant_id), "title": "Numerology call", "duration_minutes": 30,
        "min_notice_minutes": 0, "slot_interval_minutes": 30})
    assert made.status_code == 201, made.text
    uncapped = uuid.UUID(made.json()["id"])
    # 10:00 in Kolkata: the same local date two hours later, the next one a day later
    first = datetime.combine((datetime.now(UTC) + timedelta(days=3)).date(), datetime.min.time(), UTC) \
        + timedelta(hours=4, minutes=30)
    async with scoped_session(sessionmaker, TenantScope.system()) as booking:
        await _booking_at(consultant_id, capped, first)(booking)

        assert await _waits(sessionmaker, _booking_at(consultant_id, capped, first + timedelta(hours=2)))
        assert not await _waits(sessionmaker, _booking_at(consultant_id, capped, first + timedelta(days=1)))
        assert not await _waits(sessionmaker, _booking_at(consultant_id, uncapped, first + timedelta(hours=2)))


async def test_concurrent_bookings_never_pass_a_daily_cap(client, sessionmaker):
    owner, _consultant_id, offering_id = await _consultant_with(client, sessionmaker, max_per_day=1)
    day = (datetime.now(UTC) + timedelta(days=4)).date()
    slots = await public_slots(client, owner.tenant_slug, str(offering_id), start=str(day), days=2)
    of_the_day = [s for s in slots if datetime.fromisoformat(s["starts_at"]).astimezone(KOLKATA).date() == day]
    picks = of_the_day[::3][:6]  # six slots of one of the consultant's days, none overlapping another
    assert len(picks) == 6
    clients = [await register_client(client, owner.tenant_slug) for _ in picks]

    answers = await asyncio.gather(*(
        client.post("/api/v1/bookings", headers=c.headers(),
                    json={"offering_id": str(offering_id), "starts_at": s["starts_at"]})
        for c, s in zip(clients, picks, strict=True)))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409], [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert_problem(answer, 409, "slot-taken", "starts_at")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        live = await session.scalar(select(func.count()).select_from(Booking).where(
            Booking.offering_id == offering_id))
    assert live == 1
