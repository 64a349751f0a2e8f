"""The booking race's fast path: while one request books a start, another request for the same
start is refused 409 at once by a Redis claim; the claim goes with the first request's answer
(booked or not), and a Redis that cannot answer only takes the fast path away. The claim comes
before the token is read or the tenant looked up: a loser costs one Redis round trip. Real PostgreSQL,
Redis and Temporal; the claim held by hand stands for a request in flight."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from redis.asyncio import Redis
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, register_client

from api.services.booking_gate import claim_key, slot_claim
from core.db import TenantScope, scoped_session
from models.bookings import Booking


async def _setup(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering = await bookable(client, owner)
    customer = await register_client(client, owner.tenant_slug)
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=5)).date())))[2]
    return owner, consultant, offering, customer, slot


async def _bookings(sessionmaker, consultant_id: str) -> int:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return int(await session.scalar(select(func.count()).select_from(Booking).where(
            Booking.consultant_id == uuid.UUID(consultant_id))) or 0)


def _key(owner, offering, slot) -> str:
    return claim_key(f"slug:{owner.tenant_slug}", uuid.UUID(offering["id"]), datetime.fromisoformat(slot["starts_at"]))


async def test_a_start_being_booked_is_refused_at_once_and_free_again_after(client, sessionmaker, app_state):
    owner, consultant, offering, customer, slot = await _setup(client, sessionmaker)
    body = {"offering_id": offering["id"], "starts_at": slot["starts_at"]}
    async with slot_claim(app_state.redis, _key(owner, offering, slot)) as mine:
        assert mine
        refused = await client.post("/api/v1/bookings", headers=customer.headers(), json=body)
        assert_problem(refused, 409, "slot-taken", "starts_at")
        guest = await client.post(f"/api/v1/public/{owner.tenant_slug}/bookings", json={
            **body, "full_name": "Asha Guest", "email": "asha@example.com"})
        assert_problem(guest, 409, "slot-taken", "starts_at")
        # another start of the same offering (another day: no buffer or daily cap between them) goes on
        other = (await public_slots(client, owner.tenant_slug, offering["id"], start=str(
            (datetime.now(UTC) + timedelta(days=9)).date())))[2]
        assert (await client.post("/api/v1/bookings", headers=customer.headers(), json={
            "offering_id": offering["id"], "starts_at": other["starts_at"]})).status_code == 201
    assert await _bookings(sessionmaker, consultant["id"]) == 1
    assert await app_state.redis.exists(_key(owner, offering, slot)) == 0  # released with its answer
    booked = await client.post("/api/v1/bookings", headers=customer.headers(), json=body)
    assert booked.status_code == 201, booked.text
    assert await app_state.redis.exists(_key(owner, offering, slot)) == 0


async def test_a_request_that_fails_releases_its_claim(client, sessionmaker, app_state):
    owner, consultant, offering, customer, slot = await _setup(client, sessionmaker)
    body = {"offering_id": offering["id"], "starts_at": slot["starts_at"]}
    stranger = await client.post("/api/v1/bookings", headers=customer.headers(),
                                 json={**body, "client_id": str(uuid.uuid4())})
    assert_problem(stranger, 403, "forbidden", "client_id")
    wrong = await client.post("/api/v1/bookings", headers=owner.headers(), json={**body, "client_id": str(
        uuid.uuid4())})
    assert_problem(wrong, 404, "not-found", "client_id")
    assert await app_state.redis.exists(_key(owner, offering, slot)) == 0
    assert (await client.post("/api/v1/bookings", headers=customer.headers(), json=body)).status_code == 201
    again = await client.post("/api/v1/bookings", headers=customer.headers(), json=body)
    assert_problem(again, 409, "slot-taken", "starts_at")  # the database's answer once booked
    assert await _bookings(sessionmaker, consultant["id"]) == 1


async def test_a_claim_is_never_released_by_a_request_that_does_not_hold_it(app_state):
    key = f"slot-claim:test:{uuid.uuid4()}"
    async with slot_claim(app_state.redis, key) as first:
        assert first
        async with slot_claim(app_state.redis, key) as second:
            assert not second
        assert await app_state.redis.exists(key) == 1  # the loser's exit left the winner's claim
    assert await app_state.redis.exists(key) == 0
    assert 0 < await _expiry_of_a_claim(app_state.redis) <= 30


async def _expiry_of_a_claim(redis: Redis) -> int:
    key = f"slot-claim:test:{uuid.uuid4()}"
    async with slot_claim(redis, key):
        return int(await redis.ttl(key))


async def test_without_redis_the_database_still_decides():
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        async with slot_claim(unreachable, "slot-claim:x") as first, slot_claim(unreachable, "slot-claim:x") as second:
            assert first and second
    finally:
        await unreachable.aclose()
