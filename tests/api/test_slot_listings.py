"""Each API process keeps the public slot listings it has served (api/slot_listings.py): a listing
viewed again runs no statement, and a change to the consultant's schedule, whoever makes it, is
seen: at once when this process made it, as soon as PostgreSQL's notification arrives otherwise."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from booking_support import bookable
from prometheus_client import REGISTRY
from sqlalchemy import text, update
from support import Statements, active_consultancy, assert_problem, eventually, poll_until, register_client

from api.services.slot_listing import SlotListing
from api.slot_listings import BYTES_PER_START, LISTINGS, listing_key
from api.tenant_directory import DIRECTORY
from core.db import TenantScope, scoped_session
from models.bookings import Booking, Consultant, Offering


def _listings(source: str) -> float:
    return REGISTRY.get_sample_value("muhurta_slot_listings_total", {"source": source}) or 0.0


async def _setup(client: Any, sessionmaker: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering = await bookable(client, owner)
    return owner, consultant, offering


def _path(owner: Any, offering: dict[str, Any]) -> str:
    return f"/api/v1/public/{owner.tenant_slug}/consultants/acharya/offerings/{offering['id']}/slots"


async def _starts(client: Any, owner: Any, offering: dict[str, Any], **params: Any) -> list[str]:
    response = await client.get(_path(owner, offering), params={"days": 14, **params})
    assert response.status_code == 200, response.text
    return [slot["starts_at"] for slot in response.json()["slots"]]


async def _kept_listing(client: Any, app_state: Any, owner: Any, offering: dict[str, Any],
                        **params: Any) -> tuple[bytes, list[str]]:
    """A listing shown from the process's copy: its body and the statements it ran. The
    notifications of the set-up's own changes may still be on their way and drop the first copy:
    wait for a listing that finds one (muhurta_slot_listings_total{source="kept"})."""

    async def listing() -> tuple[bytes, list[str], bool]:
        kept = _listings("kept")
        with Statements(app_state.engine) as seen:
            response = await client.get(_path(owner, offering), params={"days": 14, **params})
        assert response.status_code == 200, response.text
        return response.content, seen, _listings("kept") == kept + 1

    body, seen, _ = await poll_until(listing, lambda answer: answer[2], timeout=10)
    return body, seen


async def test_a_listing_viewed_again_runs_no_statement_and_is_the_one_read(client, sessionmaker, app_state):
    owner, _, offering = await _setup(client, sessionmaker)
    body, seen = await _kept_listing(client, app_state, owner, offering, timezone="Europe/London")
    assert seen == []  # no consultant, no slot context, no BEGIN, no COMMIT
    LISTINGS.forget_all()
    with Statements(app_state.engine) as seen:
        read = await client.get(_path(owner, offering), params={"days": 14, "timezone": "Europe/London"})
    assert any("availability_overrides" in statement for statement in seen), seen
    assert read.content == body  # byte for byte what the database gives
    assert read.json()["slots"], "the consultant works every day: the listing cannot be empty"


async def test_a_booking_made_here_leaves_the_listing_at_once(client, sessionmaker, app_state):
    owner, _, offering = await _setup(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    await _kept_listing(client, app_state, owner, offering)
    shown = await _starts(client, owner, offering)
    booked = await client.post("/api/v1/bookings", headers=customer.headers(),
                               json={"offering_id": offering["id"], "starts_at": shown[3]})
    assert booked.status_code == 201, booked.text
    after = await _starts(client, owner, offering)  # the very next request, no waiting
    assert shown[3] not in after
    assert shown[0] in after


async def _behind_the_apis_back(engine: Any, statement: str, **params: Any) -> None:
    """As another API process, the worker or psql would: plain SQL on a connection of its own
    (past row-level security, as the platform's own maintenance is)."""
    async with engine.begin() as connection:
        await connection.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        changed = await connection.execute(text(statement), params)
        assert changed.rowcount == 1


async def test_changes_made_elsewhere_are_seen_once_postgresql_says_so(client, sessionmaker, app_state, engine):
    owner, consultant, offering = await _setup(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    shown = await _starts(client, owner, offering)
    booked = (await client.post("/api/v1/bookings", headers=customer.headers(),
                                json={"offering_id": offering["id"], "starts_at": shown[5]})).json()
    await _kept_listing(client, app_state, owner, offering)

    async def starts() -> list[str]:
        return await _starts(client, owner, offering)

    # the booking cancelled elsewhere: its slot is offered again
    await _behind_the_apis_back(engine, "UPDATE bookings SET status = 'cancelled' WHERE id = :id", id=booked["id"])
    await poll_until(starts, lambda now_shown: shown[5] in now_shown, timeout=10)
    # the first slot's day (on the consultant's clock) closed by an override made elsewhere
    await _behind_the_apis_back(
        engine, "INSERT INTO availability_overrides (id, tenant_id, consultant_id, on_date, windows, created_at, "
                "updated_at) VALUES (:id, :tenant, :consultant, :day, '[]', now(), now())",
        id=uuid.uuid4(), tenant=owner.tenant_id, consultant=consultant["id"],
        day=datetime.fromisoformat(shown[0]).astimezone(ZoneInfo(consultant["timezone"])).date())
    await poll_until(starts, lambda now_shown: shown[0] not in now_shown, timeout=10)
    # the consultant's hours emptied elsewhere: nothing to offer
    await _behind_the_apis_back(engine, "UPDATE consultants SET weekly_hours = '[]' WHERE id = :id",
                                id=consultant["id"])
    assert await eventually(starts, [], timeout=10) == []


async def test_only_a_change_a_listing_reads_notifies(client, sessionmaker, api_settings, engine):
    """A booking's payment note or reminder mark must not drop every listing of its consultant."""
    owner, consultant, offering = await _setup(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    shown = await _starts(client, owner, offering)
    booked = (await client.post("/api/v1/bookings", headers=customer.headers(),
                                json={"offering_id": offering["id"], "starts_at": shown[-1]})).json()
    conninfo = api_settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listener:
        await listener.execute("LISTEN muhurta_schedules")
        await _behind_the_apis_back(engine, "UPDATE bookings SET updated_at = now() WHERE id = :id", id=booked["id"])
        async with engine.begin() as connection:  # notifications arrive in commit order: a marker between
            await connection.execute(text("SELECT pg_notify('muhurta_schedules', 'marker')"))
        await _behind_the_apis_back(engine, "UPDATE bookings SET status = 'cancelled' WHERE id = :id",
                                    id=booked["id"])
        heard: list[str] = []
        async with asyncio.timeout(10):
            async for notification in listener.notifies():
                heard.append(notification.payload)
                if heard[-1] != "marker" and "marker" in heard:
                    break
    assert heard == ["marker", consultant["id"]]  # the first update told nobody, the second did


async def test_without_notifications_every_listing_is_read(client, sessionmaker, app_state, engine, api_settings):
    owner, consultant, offering = await _setup(client, sessionmaker)
    await _kept_listing(client, app_state, owner, offering)
    await DIRECTORY.stop()  # as when the listening connection is lost
    try:
        assert not DIRECTORY.listening and len(LISTINGS) == 0  # everything kept is dropped
        with Statements(app_state.engine) as seen:
            await _starts(client, owner, offering)
            await _starts(client, owner, offering)
        assert sum("availability_overrides" in statement for statement in seen) == 2, seen
        await _behind_the_apis_back(engine, "UPDATE consultants SET weekly_hours = '[]' WHERE id = :id",
                                    id=consultant["id"])
        assert await _starts(client, owner, offering) == []  # at once: nothing was kept
    finally:
        DIRECTORY.start(api_settings.database_url)
        async with asyncio.timeout(30):
            await DIRECTORY.listening_now()


async def test_a_listing_from_today_is_not_shown_tomorrow(client, sessionmaker, app_state):
    owner, _, offering = await _setup(client, sessionmaker)
    await _kept_listing(client, app_state, owner, offering)
    key = listing_key(uuid.UUID(owner.tenant_id), "acharya", uuid.UUID(offering["id"]), None, 14, None)
    now = datetime.now(UTC)
    assert LISTINGS.find(key, now) is not None
    assert LISTINGS.find(key, now + timedelta(days=1)) is None  # a new first day: read again


async def test_this_processs_own_commits_drop_listings_without_waiting_for_postgresql(
        client, sessionmaker, api_settings):
    """With nobody listening, nothing but the commit itself can drop a listing here."""
    _, consultant, _ = await _setup(client, sessionmaker)
    await DIRECTORY.stop()
    try:
        generation = LISTINGS.generation
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            row = await session.get(Consultant, uuid.UUID(consultant["id"]))
            assert row is not None
            row.weekly_hours = []
        assert LISTINGS.generation == generation + 1
        async with scoped_session(sessionmaker, TenantScope.system()) as session:  # a bulk update: all dropped
            await session.execute(update(Booking).where(Booking.consultant_id == uuid.UUID(consultant["id"]))
                                  .values(updated_at=datetime.now(UTC)))
        assert LISTINGS.generation == generation + 2
        async with scoped_session(sessionmaker, TenantScope.system()) as session:  # nothing of a schedule
            await session.execute(text("SELECT 1"))
        assert LISTINGS.generation == generation + 2
    finally:
        DIRECTORY.start(api_settings.database_url)
        async with asyncio.timeout(30):
            await DIRECTORY.listening_now()


def _listing(consultant_id: uuid.UUID, starts: int) -> SlotListing:
    consultant = Consultant(id=consultant_id, timezone="Asia/Kolkata")
    offering = Offering(id=uuid.uuid4(), duration_minutes=60, slot_interval_minutes=30, buffer_before_minutes=0,
                        buffer_after_minutes=0, min_notice_minutes=0, horizon_days=60, max_per_day=None)
    today_there = datetime.now(ZoneInfo("Asia/Kolkata")).date()  # a listing "from today" on its viewer's clock
    return SlotListing(consultant, offering, "Asia/Kolkata", today_there, 60,
                       list(range(0, starts * 1_800_000_000, 1_800_000_000)))


async def test_the_copy_is_bounded_by_its_size_and_drops_the_least_recently_shown(monkeypatch, client):
    assert DIRECTORY.listening
    LISTINGS.forget_all()
    monkeypatch.setattr("api.slot_listings.MAX_BYTES", 3 * (1024 + BYTES_PER_START * 700))
    tenant, now = uuid.uuid4(), datetime.now(UTC)
    keys = [(tenant, f"c{i}", uuid.uuid4(), None, 60, None) for i in range(4)]
    for key in keys[:3]:
        LISTINGS.keep(key, _listing(uuid.uuid4(), 700), LISTINGS.generation)
    assert LISTINGS.find(keys[0], now) is not None  # shown: now the most recently shown
    LISTINGS.keep(keys[3], _listing(uuid.uuid4(), 700), LISTINGS.generation)
    assert len(LISTINGS) == 3
    assert LISTINGS.find(keys[1], now) is None  # the least recently shown went
    assert all(LISTINGS.find(key, now) is not None for key in (keys[0], keys[2], keys[3]))
    stale = LISTINGS.generation
    LISTINGS.forget([uuid.uuid4()])  # a drop while a listing was being read ...
    LISTINGS.keep(keys[1], _listing(uuid.uuid4(), 10), stale)
    assert LISTINGS.find(keys[1], now) is None  # ... keeps it from being stored


async def test_a_kept_listing_answers_a_mismatched_request_as_every_route_does(client, sessionmaker, app_state):
    """A listing shown from memory skips the request context, but never its refusals."""
    owner, _, offering = await _setup(client, sessionmaker)
    await _kept_listing(client, app_state, owner, offering)
    other = await active_consultancy(client, sessionmaker)
    crossed = await client.get(_path(owner, offering), params={"days": 14},
                               headers=other.headers(**{"X-Tenant": owner.tenant_slug}))
    assert_problem(crossed, 403, "tenant-mismatch")
    unknown = await client.get(_path(owner, offering), params={"days": 14}, headers={"X-Tenant": "no-such-place"})
    assert_problem(unknown, 404, "tenant-unknown")
    named = await client.get(_path(owner, offering), params={"days": 14}, headers={"X-Tenant": owner.tenant_slug})
    assert named.status_code == 200
