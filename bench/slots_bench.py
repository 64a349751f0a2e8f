"""Slot listing latency and booking throughput under contention. Prints figures; asserts nothing.

1. The slot arithmetic alone: 60 days of a consultant in Europe/London (across the October DST
   change), two windows a day six days a week, a 15-minute step, 120 existing bookings with
   buffers, a few overrides, a daily limit.
2. The same listing through the API (`GET /public/{slug}/consultants/{c}/offerings/{o}/slots?days=60`,
   in-process over ASGI) on the embedded PostgreSQL: the statements, the arithmetic, JSON. This
   app does not listen for schedule changes, so it keeps no listing (api/slot_listings.py):
   every request is the read path, which bench/request_path.py's "each a listing not kept"
   measures through `make dev`.
3. Booking through the API, 50 requests in flight: first each request for its own slot (no
   contention), then ten signed-in clients per slot; exactly one wins each slot, the others get 409.
   Workflow starts stay in the transactional outbox (no Temporal here): what is measured is
   the booking transaction with its exclusion constraint.

    .venv/bin/python bench/slots_bench.py [--quick]
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# import the checkout this file lives in, not whatever copy is installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="muhurta-xdg-"))

from domain.bookings.slots import Availability, Busy, SlotRules, Window, day_range, free_slot_starts, free_slots

QUICK = "--quick" in sys.argv
ZONE = "Europe/London"
PAID_PRICE = 150_000  # minor units (INR 1,500)
FIRST_DAY = date(2026, 10, 1)
HOURS = [{"day": d, "start": s, "end": e} for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
         for s, e in (("09:00", "13:00"), ("14:00", "19:00"))]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1], ordered[-1])


def pure_listing() -> None:
    weekly = {d: (Window.of("09:00", "13:00"), Window.of("14:00", "19:00")) for d in range(6)}
    overrides: dict[date, tuple[Window, ...]] = {FIRST_DAY + timedelta(days=n): () for n in (10, 11, 40)}
    overrides[FIRST_DAY + timedelta(days=20)] = (Window.of("07:00", "10:00"),)
    availability = Availability(ZONE, weekly, overrides)
    rules = SlotRules(duration=timedelta(minutes=60), step=timedelta(minutes=15), buffer_before=timedelta(minutes=10),
                      buffer_after=timedelta(minutes=15), min_notice=timedelta(hours=4), horizon=timedelta(days=90),
                      max_per_day=6)
    start, end = day_range(FIRST_DAY, 60, ZONE)
    rng = random.Random(7)
    booked = []
    for _ in range(120):
        at = start + timedelta(minutes=15 * rng.randrange(60 * 24 * 4))
        booked.append((at - timedelta(minutes=10), at + timedelta(minutes=75)))
    counts = {FIRST_DAY + timedelta(days=rng.randrange(60)): rng.randrange(1, 7) for _ in range(20)}
    now = start - timedelta(hours=1)
    n = 300 if QUICK else 2000
    for label, walk in (("the listing's walk (free_slot_starts)", free_slot_starts),
                        ("as Slot objects (free_slots, the booking check's)", free_slots)):
        samples, found = [], 0
        for _ in range(n):
            t0 = time.perf_counter()
            busy = Busy(booked)  # built per request, as the API does
            found = len(walk(availability, rules, busy=busy, booked_per_day=counts, now=now, start=start, end=end))
            samples.append((time.perf_counter() - t0) * 1000)
        p50, p99, worst = percentiles(samples)
        print(f"pure slot arithmetic, 60 days ({found} free slots, 120 bookings), {label}: "
              f"p50 {p50:.2f} ms  p99 {p99:.2f} ms  max {worst:.2f} ms  ({n} runs)")


async def through_the_api() -> None:
    from cryptography.fernet import Fernet
    from httpx import ASGITransport, AsyncClient

    from api.app import create_app, freeze_startup_heap
    from api.rate_limits import never_refusing
    from api.state import AppState
    from core.db import TenantScope, make_engine, make_sessionmaker, scoped_session
    from core.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
    from core.redis import make_redis
    from core.security import Keys
    from core.settings import Settings
    from domain.bookings.policies import CancellationPolicy, ReschedulePolicy
    from models.bookings import Consultant, Offering, OfferingKind
    from models.identity import Role, User
    from models.tenancy import Tenant, TenantStatus
    from workers.cli import migrate_database

    root = Path(tempfile.mkdtemp(prefix="muhurta-bench-"))
    postgres = EmbeddedPostgres(root / "pg", free_port())
    redis = EmbeddedRedis(root / "redis", free_port(), persistent=False)
    postgres.start()
    redis.start()
    try:
        url = postgres.ensure_database("bench", "bench", "bench")
        migrate_database(url)
        settings = Settings.model_validate({
            "MUHURTA_ENV": "test", "MUHURTA_DATA_DIR": str(root / "data"), "DATABASE_URL": url,
            "DATABASE_POOL_SIZE": 50, "REDIS_URL": redis.url, "JWT_SECRET": "bench-" + "x" * 40,
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "LOG_JSON": False, "LOG_LEVEL": "WARNING",
            **never_refusing(),
        })
        engine = make_engine(url, 50)  # as many connections as requests in flight: none is opened mid-run
        sessionmaker = make_sessionmaker(engine)
        state = AppState(settings=settings, engine=engine, sessionmaker=sessionmaker,
                         redis=make_redis(redis.url), temporal=None, keys=Keys.from_settings(settings))
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            tenant = Tenant(slug="bench", name="Bench", status=TenantStatus.ACTIVE, timezone=ZONE, settings={})
            session.add(tenant)
            await session.flush()
            owners = [User(tenant_id=tenant.id, email=f"owner{i}@bench.example.com", full_name=f"Owner {i}",
                           role=Role.CONSULTANT if i else Role.OWNER) for i in range(3)]
            clients = [User(tenant_id=tenant.id, email=f"c{i}@bench.example.com", full_name=f"Client {i}",
                            role=Role.CLIENT) for i in range(400)]
            session.add_all([*owners, *clients])
            await session.flush()
            offerings = []
            for i, owner in enumerate(owners):
                consultant = Consultant(tenant_id=tenant.id, user_id=owner.id, slug=f"bench{i}",
                                        display_name=f"Bench {i}", timezone=ZONE, weekly_hours=HOURS,
                                        is_public=True, calendar_feed_version=1)
                session.add(consultant)
                await session.flush()
                offering = Offering(
                    tenant_id=tenant.id, consultant_id=consultant.id, kind=OfferingKind.ONE_TO_ONE,
                    title="Reading", duration_minutes=60, price_minor=PAID_PRICE if i == 2 else 0, currency="INR",
                    buffer_before_minutes=10,
                    buffer_after_minutes=15, slot_interval_minutes=15, min_notice_minutes=0, horizon_days=120,
                    max_per_day=None, meeting_provider="jitsi", intake_form=[],
                    cancellation_policy=CancellationPolicy().model_dump(),
                    reschedule_policy=ReschedulePolicy().model_dump(), reminder_offsets_minutes=[1440, 60],
                    hold_minutes=15, completion_grace_hours=2, follow_up_days=90, is_active=True)
                session.add(offering)
                await session.flush()
                offerings.append((consultant.slug, offering.id))
            ids = {"tenant": tenant.id, "offerings": offerings, "clients": [c.id for c in clients]}
        app = create_app(settings, state=state)
        freeze_startup_heap()  # what the app's lifespan does at start-up (ASGITransport runs no lifespan)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as http:
            await _listing(http, ids)
            await _booking_run(http, state, ids, which=0, per_slot=1, slots_wanted=50 if QUICK else 150)
            await _booking_run(http, state, ids, which=1, per_slot=10, slots_wanted=20 if QUICK else 40)
            # A paid offering: each booking is held and creates its order (lines, tax) in the same transaction.
            await _booking_run(http, state, ids, which=2, per_slot=1, slots_wanted=50 if QUICK else 150)
        await state.close()
    finally:
        redis.stop()
        postgres.stop()


async def _listing(http: Any, ids: dict[str, Any]) -> None:
    slug, offering = ids["offerings"][0]
    path = f"/api/v1/public/bench/consultants/{slug}/offerings/{offering}/slots"
    params = {"days": 60, "timezone": "Asia/Kolkata"}
    for _ in range(20):
        await http.get(path, params=params)
    rounds, per_round = (3, 100) if QUICK else (5, 200)
    everything: list[float] = []
    cpu: list[float] = []
    count = 0
    for number in range(rounds):
        samples = []
        for _ in range(per_round):
            t0, c0 = time.perf_counter(), time.process_time()
            response = await http.get(path, params=params)
            samples.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            count = len(response.json()["slots"])
        everything += samples
        p50, p99, _ = percentiles(samples)
        print(f"  round {number + 1}: p50 {p50:.2f} ms  p99 {p99:.2f} ms  (load average {os.getloadavg()[0]:.2f})")
    p50, p99, worst = percentiles(everything)
    print(f"API slot listing, 60 days ({count} slots, JSON, PostgreSQL): "
          f"p50 {p50:.2f} ms  p99 {p99:.2f} ms  max {worst:.2f} ms  ({len(everything)} requests); "
          f"API process CPU per request p50 {statistics.median(cpu):.2f} ms (PostgreSQL's own time not included)")


async def _booking_run(http: Any, state: Any, ids: dict[str, Any], *, which: int, per_slot: int,
                       slots_wanted: int) -> None:
    slug, offering = ids["offerings"][which]
    tomorrow = str(datetime.now(UTC).date() + timedelta(days=1))
    listing = (await http.get(f"/api/v1/public/bench/consultants/{slug}/offerings/{offering}/slots",
                              params={"days": 60, "start": tomorrow})).json()
    # slots two hours apart, so that winning one never takes another (60 min + buffers)
    targets = [s["starts_at"] for s in listing["slots"][::8]][:slots_wanted]
    clients = ids["clients"]
    requests = []
    for i in range(len(targets) * per_slot):
        token, _ = state.keys.issue_access_token(user_id=clients[i % len(clients)], tenant_id=ids["tenant"],
                                                 role="client", session_id=uuid.uuid4(), mfa=False,
                                                 ttl=timedelta(minutes=30))
        requests.append(({"Authorization": f"Bearer {token}", "X-Tenant": "bench"}, targets[i % len(targets)]))
    random.Random(3).shuffle(requests)
    concurrency = 50
    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def attempt(headers: dict[str, str], starts_at: str) -> int:
        async with semaphore:
            t0 = time.perf_counter()
            response = await http.post("/api/v1/bookings", headers=headers,
                                       json={"offering_id": str(offering), "starts_at": starts_at})
            latencies.append((time.perf_counter() - t0) * 1000)
            return int(response.status_code)

    await asyncio.gather(*[http.get("/api/v1/public/bench") for _ in range(concurrency)])  # warm the pool
    t0 = time.perf_counter()
    statuses = await asyncio.gather(*[attempt(h, s) for h, s in requests])
    elapsed = time.perf_counter() - t0
    won, lost = statuses.count(201), statuses.count(409)
    other = len(statuses) - won - lost
    p50, p99, _ = percentiles(latencies)
    what = "no contention" if per_slot == 1 else f"contention, {per_slot} clients per slot"
    if which == 2:
        what = "paid offering (held, with its order), no contention"
    print(f"booking, {what}: {len(requests)} requests for {len(targets)} slots, {concurrency} at a time: "
          f"{won} booked, {lost} x 409, {other} other in {elapsed:.2f} s -> {len(requests) / elapsed:.0f} requests/s, "
          f"{won / elapsed:.0f} bookings/s; latency p50 {p50:.0f} ms p99 {p99:.0f} ms")


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at start")
    pure_listing()
    asyncio.run(through_the_api())


if __name__ == "__main__":
    main()
