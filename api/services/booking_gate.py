"""A booking race's losers refused before any database work: a short Redis claim on the slot.

When many clients ask for the same start at once, the first `SET NX` wins and goes on to the
database; every other request is answered 409 `slot-taken` after one Redis round trip, before
its token is read or its tenant, client and offering are loaded, without a PostgreSQL connection
(bench/booking_race.py). The claim is released as soon as its request has its answer (a
compare-and-delete, so a claim that outlived its expiry and was taken by another request is
never deleted by the first), and expires by itself should the process die.

It is only a fast path. PostgreSQL stays the guarantee (the advisory lock in
`api.services.bookings._claim_start` and the bookings' exclusion constraint), so a Redis that is
down or slow lets every request through to the database, as before this gate existed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.deps import State, named_tenant
from api.problems import SLOT_TAKEN, Problem
from api.schemas.bookings import BookingCreate, BookingRequest, GuestBookingCreate

log = logging.getLogger(__name__)

CLAIM_SECONDS = 30        # longest a request can keep a slot from others should it never release
REDIS_TIMEOUT = 0.5       # seconds: past this the gate steps aside (the database decides)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def claim_key(tenant: str, offering_id: uuid.UUID, starts_at: datetime) -> str:
    """`tenant` as the request names it (its slug, or its own domain): the claim is taken before
    the tenant is looked up. The same tenant named both ways gets two keys: the database decides."""
    return f"slot-claim:{tenant}:{offering_id}:{starts_at.astimezone(UTC).timestamp():.0f}"


@asynccontextmanager
async def slot_claim(redis: Redis, key: str) -> AsyncIterator[bool]:
    """Yields False when another request holds this slot right now (refuse it); True otherwise,
    including when Redis cannot answer in time (the database decides then)."""
    token = uuid.uuid4().hex
    try:
        async with asyncio.timeout(REDIS_TIMEOUT):
            claimed = await redis.set(key, token, nx=True, ex=CLAIM_SECONDS)
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("slot claim skipped, Redis did not answer: %s", type(exc).__name__)
        yield True
        return
    if not claimed:
        yield False
        return
    try:
        yield True
    finally:
        try:
            async with asyncio.timeout(REDIS_TIMEOUT):
                await redis.eval(_RELEASE, 1, key, token)  # type: ignore[misc]
        except (RedisError, OSError, TimeoutError) as exc:  # it expires by itself
            log.warning("slot claim not released (expires in %d s): %s", CLAIM_SECONDS, type(exc).__name__)



@asynccontextmanager
async def slot_gate(redis: Redis, tenant: str | None, body: BookingRequest) -> AsyncIterator[None]:
    """Around a booking's work: 409 `slot-taken` at once while another request books the same
    start of the same offering. Webinar seats are not gated (a seat is not one client's), nor a
    request that names no tenant (it is refused later, or its tenant comes from its token)."""
    if tenant is None or body.starts_at is None or body.webinar_session_id is not None:
        yield
        return
    async with slot_claim(redis, claim_key(tenant, body.offering_id, body.starts_at)) as free:
        if not free:
            raise Problem(SLOT_TAKEN, "that time is being booked by someone else right now; choose another slot",
                          field="starts_at")
        yield


async def booking_claim(request: Request, body: BookingCreate, state: State) -> AsyncIterator[None]:
    """The first dependency of `POST /bookings`: the claim comes before the token is read, the
    tenant looked up or a database connection taken, so a race's losers cost one Redis round trip.
    Its exit runs after the request's commit (dependencies exit in reverse order)."""
    named = named_tenant(request, state.settings.base_domain)
    async with slot_gate(state.redis, f"{named[0]}:{named[1]}" if named else None, body):
        yield


async def guest_booking_claim(tenant_slug: str, body: GuestBookingCreate, state: State) -> AsyncIterator[None]:
    """The same for a guest's `POST /public/{tenant_slug}/bookings`."""
    async with slot_gate(state.redis, f"slug:{tenant_slug.strip().lower()}", body):
        yield
