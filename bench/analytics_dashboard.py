"""The analytics dashboard at 100,000 bookings. Prints figures; asserts nothing.

1. Generates a year of business for one consultancy with four consultants: 100,000 bookings
   (completed, cancelled with refunds, no-shows, abandoned holds), their orders, product orders,
   quotations, remedy programmes and course enrolments, with set-based SQL
   (tests/analytics_support.py: a dozen statements, whatever the count).
2. Rolls it up in one zone as the AnalyticsRollup workflow's activity does: the whole history
   (a tenant new to a zone), then the hourly recomputation of the last seven days.
3. Times the dashboard (in-process over ASGI, real PostgreSQL) in Asia/Kolkata over every
   period (today, week, month, quarter, year, a custom 90 days ending a month ago) for the
   consultancy, one consultant and the platform; and the CSV export of a year. Also counts the
   SQL statements one dashboard request issues.

    .venv/bin/python bench/analytics_dashboard.py [--quick] [--bookings N] [--requests N] [--keep]

--quick: 20,000 bookings, 50 requests per line (default 100,000 and 200); --keep: leave
PostgreSQL running at the end and print how to reach it (psql, EXPLAIN ANALYZE), until Enter.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# import the checkout this file lives in, not whatever copy is installed; and the generator the tests use
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="muhurta-xdg-"))

QUICK = "--quick" in sys.argv
KEEP = "--keep" in sys.argv


def _option(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


BOOKINGS = _option("--bookings", 20_000 if QUICK else 100_000)
REQUESTS = _option("--requests", 50 if QUICK else 200)
CONSULTANTS = 4
ZONE = "Asia/Kolkata"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


async def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come, when piped
    from analytics_support import Business, generate
    from cryptography.fernet import Fernet
    from httpx import ASGITransport, AsyncClient
    from sqlalchemy import event, text

    from api.app import create_app
    from api.state import AppState
    from core.db import TenantScope, make_engine, make_sessionmaker, scoped_session
    from core.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
    from core.redis import make_redis
    from core.security import Keys
    from core.settings import Settings
    from models import analytics_clients as clients_of
    from models import analytics_rollup as rollup
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
            "REDIS_URL": redis.url, "JWT_SECRET": "bench-" + "x" * 40,
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "LOG_JSON": False, "LOG_LEVEL": "WARNING",
            "RATE_LIMITS_ENABLED": False,  # a load of one client, not an abuse
        })
        engine = make_engine(url, 10)
        sessionmaker = make_sessionmaker(engine)
        state = AppState(settings=settings, engine=engine, sessionmaker=sessionmaker,
                         redis=make_redis(redis.url), temporal=None, keys=Keys.from_settings(settings))
        businesses: list[Business] = []
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            tenant = Tenant(slug="bench", name="Bench", status=TenantStatus.ACTIVE, timezone=ZONE, settings={})
            session.add(tenant)
            await session.flush()
            for i in range(CONSULTANTS):
                person = User(tenant_id=tenant.id, email=f"c{i}@bench.example.com", full_name=f"Consultant {i}",
                              role=Role.CONSULTANT if i else Role.OWNER, timezone=ZONE)
                session.add(person)
                await session.flush()
                consultant = Consultant(tenant_id=tenant.id, user_id=person.id, slug=f"c{i}", display_name="C",
                                        timezone=ZONE, weekly_hours=[], is_public=True, calendar_feed_version=1)
                session.add(consultant)
                await session.flush()
                offering = Offering(tenant_id=tenant.id, consultant_id=consultant.id, kind=OfferingKind.ONE_TO_ONE,
                                    title="Reading", duration_minutes=60, price_minor=0, currency="INR",
                                    meeting_provider="jitsi", intake_form=[], cancellation_policy={},
                                    reschedule_policy={}, reminder_offsets_minutes=[], is_active=True)
                session.add(offering)
                await session.flush()
                businesses.append(Business(tenant.id, consultant.id, person.id, offering.id))
            owner_id, tenant_id = businesses[0].consultant_user_id, tenant.id

        now = datetime.now(UTC)
        t0 = time.perf_counter()
        for i, business in enumerate(businesses):
            async with scoped_session(sessionmaker, TenantScope.system()) as session:
                await generate(session, business, start=now - timedelta(days=365), end=now,
                               bookings=BOOKINGS // CONSULTANTS, clients=1_250, tag=f"c{i}")
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            counts = (await session.execute(text(
                "SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM orders), "
                "(SELECT count(*) FROM refunds), (SELECT count(*) FROM users WHERE role = 'client')"))).one()
            await session.execute(text("ANALYZE"))
        print(f"generated {counts[0]:,} bookings, {counts[1]:,} orders, {counts[2]:,} refunds, "
              f"{counts[3]:,} clients in {time.perf_counter() - t0:.1f} s (set-based SQL)")

        today = datetime.now(ZoneInfo(ZONE)).date()
        t0 = time.perf_counter()
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            rows = await rollup.fill(session, ZONE, [tenant_id], today)
        print(f"roll-up of the whole history in {ZONE} (a tenant new to the zone): {rows:,} rows in "
              f"{time.perf_counter() - t0:.2f} s")
        for attempt in range(3):
            t0 = time.perf_counter()
            async with scoped_session(sessionmaker, TenantScope.system()) as session:
                rows = await rollup.roll_up(session, ZONE, today - timedelta(days=7), today + timedelta(days=1),
                                            [tenant_id])
            print(f"hourly recomputation of the last 7 days (run {attempt + 1}): {rows:,} rows in "
                  f"{(time.perf_counter() - t0) * 1000:.0f} ms")
        t0 = time.perf_counter()
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            rows = await clients_of.precompute(session, ZONE, [tenant_id], today)
        print(f"the roll-up's client figures of the usual periods (current and previous today ... year): "
              f"{rows} kept in {time.perf_counter() - t0:.2f} s")

        token, _ = state.keys.issue_access_token(user_id=owner_id, tenant_id=tenant_id, role="owner",
                                                 session_id=uuid.uuid4(), mfa=False, ttl=timedelta(hours=1))
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            admin = User(tenant_id=None, email="admin@bench.example.com", full_name="Admin",
                         role=Role.PLATFORM_ADMIN, timezone=ZONE)
            session.add(admin)
            await session.flush()
            admin_id = admin.id
        admin_token, _ = state.keys.issue_access_token(user_id=admin_id, tenant_id=None, role="platform_admin",
                                                       session_id=uuid.uuid4(), mfa=True, ttl=timedelta(hours=1))
        owner = {"Authorization": f"Bearer {token}", "X-Tenant": "bench"}
        platform = {"Authorization": f"Bearer {admin_token}"}
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute",
                     lambda _c, _cur, sql, *_a: statements.append(sql))
        app = create_app(settings, state=state)
        custom = {"period": "custom", "from": str(today - timedelta(days=120)), "to": str(today - timedelta(days=31))}
        one = {"consultant_id": str(businesses[1].consultant_id)}
        dashboard, platform_dashboard = "/api/v1/analytics/dashboard", "/api/v1/admin/analytics/dashboard"
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as http:
            statements.clear()
            await http.get(dashboard, params={"period": "year", "timezone": ZONE}, headers=owner)
            print(f"SQL statements per dashboard request: {len(statements)}")
            print(f"dashboard in {ZONE}, {REQUESTS} requests a line:")
            for view, path, extra, headers in (("consultancy", dashboard, {}, owner),
                                               ("consultant", dashboard, one, owner),
                                               ("platform", platform_dashboard, {}, platform)):
                for period in ("today", "week", "month", "quarter", "year", "custom"):
                    params = custom if period == "custom" else {"period": period}
                    await _time(http, f"{period}, {view}", path, {**params, **extra, "timezone": ZONE}, headers)
            await _time(http, "year, CSV export", "/api/v1/analytics/export.csv", {"period": "year", "timezone": ZONE},
                        owner)
            t0 = time.perf_counter()
            first = await http.get(dashboard, params={"period": "year", "timezone": "Europe/London"}, headers=owner)
            assert first.status_code == 200, first.text
            print(f"first dashboard in a zone new to the consultancy (Europe/London, a year): "
                  f"{time.perf_counter() - t0:.2f} s, its whole history rolled up first")
        if KEEP:
            print(f"PostgreSQL stays up: psql 'host=127.0.0.1 port={postgres.port} dbname=bench user=bench "
                  f"password=bench' (tenant {tenant_id}); Enter stops it")
            await asyncio.to_thread(sys.stdin.readline)
        await state.close()
        await engine.dispose()
    finally:
        redis.stop()
        postgres.stop()


async def _time(http: Any, label: str, path: str, params: dict[str, str], headers: dict[str, str]) -> None:
    t0 = time.perf_counter()
    first = await http.get(path, params=params, headers=headers)
    first_ms = (time.perf_counter() - t0) * 1000
    assert first.status_code == 200, first.text
    samples = []
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        response = await http.get(path, params=params, headers=headers)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.text
    p50, p99 = percentiles(samples)
    booked = first.json()["current"]["sessions"]["booked"] if "dashboard" in path else "-"
    print(f"  {label:24} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  first {first_ms:6.1f} ms  (sessions booked "
          f"{booked}; load average {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
