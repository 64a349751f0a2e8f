"""Real servers for the whole test session, isolated from a developer's `make dev` data.

PostgreSQL and Redis are the embedded ones on free ports under a temporary folder (or the
servers named by TEST_DATABASE_URL / TEST_REDIS_URL). Temporal is the time-skipping test server
for workflow tests and the dev server for API and end-to-end tests. Every test starts from
empty tables and an empty Redis.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="muhurta-xdg-"))  # 0700, as platformdirs wants

from activities.payments.local_gateway import LocalRazorpay, LocalRazorpayServer
from api.rate_limits import never_refusing
from core.db import make_engine, make_sessionmaker
from core.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedTemporal, free_port
from core.security import use_password_hasher
from core.settings import Settings
from models import Base
from workers.cli import migrate_database
from workflows.search_attributes import SEARCH_ATTRIBUTES

# Passwords hashed by the code under test use argon2id at its smallest cost: at the product's
# (3 passes over 64 MiB, ~50 ms of CPU) hashing was a tenth of every worker's time. The product's
# own cost is checked in a fresh process (tests/unit/test_password_cost.py).
use_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

Started = TypeVar("Started", EmbeddedPostgres, EmbeddedRedis, EmbeddedTemporal)


def _on_a_free_port(make: Callable[[int], Started]) -> Started:
    """Start a server on a port that was free a moment ago; if someone took it meanwhile (parallel
    workers and other test runs pick free ports at the same moment), try another."""
    for attempt in range(4):
        server = make(free_port())
        try:
            server.start()
            return server
        except RuntimeError as exc:
            if "already in use" not in str(exc).lower() or attempt == 3:
                raise
    raise AssertionError("unreachable")


@dataclass
class Servers:
    root: Path
    database_url: str
    redis_url: str
    postgres: EmbeddedPostgres | None


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    root = Path(tempfile.mkdtemp(prefix="muhurta-test-"))
    postgres = redis = None
    try:
        database_url = os.environ.get("TEST_DATABASE_URL")
        if not database_url:
            postgres = _on_a_free_port(lambda port: EmbeddedPostgres(root / "pg-test", port))
            database_url = postgres.ensure_database("muhurta_test", "muhurta_test", "muhurta_test")
        migrate_database(database_url)
        redis_url = os.environ.get("TEST_REDIS_URL")
        if not redis_url:
            redis = _on_a_free_port(lambda port: EmbeddedRedis(root / "redis", port, persistent=False))
            redis_url = redis.url
        yield Servers(root, database_url, redis_url, postgres)
    finally:
        if redis:
            redis.stop()
        if postgres:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


# The platform's Razorpay account on the local gateway (the same SDK code path as production).
RAZORPAY_KEY_ID = "rzp_test_platform0001"
RAZORPAY_KEY_SECRET = "platform-key-secret-for-tests"
RAZORPAY_WEBHOOK_SECRET = "platform-webhook-secret-for-tests"


@pytest.fixture(scope="session")
def razorpay_server() -> Iterator[LocalRazorpayServer]:
    gateway = LocalRazorpay()
    gateway.add_account(RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET)
    server = LocalRazorpayServer(gateway, free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gateway(razorpay_server: LocalRazorpayServer) -> Iterator[LocalRazorpay]:
    """The local Razorpay, with its behaviour switches reset after the test."""
    yield razorpay_server.gateway
    razorpay_server.gateway.drop_webhooks = False
    razorpay_server.gateway.refund_outcome = "processed"
    razorpay_server.gateway.outages.clear()


@pytest.fixture(scope="session")
def settings(servers: Servers, razorpay_server: LocalRazorpayServer) -> Settings:
    return Settings.model_validate({
        "MUHURTA_ENV": "test",
        "MUHURTA_DATA_DIR": str(servers.root / "data"),
        "DATABASE_URL": servers.database_url,
        "DATABASE_POOL_SIZE": 20,
        "REDIS_URL": servers.redis_url,
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://app.muhurta.test",
        "BASE_DOMAIN": "muhurta.test",
        "LOG_JSON": False,
        "RAZORPAY_KEY_ID": RAZORPAY_KEY_ID,
        "RAZORPAY_KEY_SECRET": RAZORPAY_KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": RAZORPAY_WEBHOOK_SECRET,
        "RAZORPAY_BASE_URL": razorpay_server.base_url,
        # No test may reach the real providers: adapter tests point these at their own local servers.
        "SENDGRID_API_HOST": "http://127.0.0.1:9",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
        # Rate limits counted on every request, but high: a test sends far more than a person.
        **never_refusing(),
    }, context=None)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings.database_url, settings.database_pool_size)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


TABLES = ", ".join(t.name for t in Base.metadata.sorted_tables)


@pytest.fixture
async def clean(engine: AsyncEngine, settings: Settings) -> AsyncIterator[None]:
    """Empty tables and Redis after the test (TRUNCATE is not subject to row-level security)."""
    yield
    attempts = 8
    for attempt in range(attempts):
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {TABLES} CASCADE"))
            break
        except DBAPIError as exc:  # a workflow's activity still writing: PostgreSQL picked us as the victim
            if "deadlock" not in str(exc) or attempt == attempts - 1:
                raise
            # Back off before the next try (0.05 s doubling, under 7 s in all): an activity that
            # Temporal retries at once met an immediate retry here five times in a row once.
            await asyncio.sleep(0.05 * 2 ** attempt)  # allowed: a back-off under contention, not a wait for time
    # The truncation's notification reaches the API's directory soon; the next test may not wait.
    from api.tenant_directory import DIRECTORY

    DIRECTORY.forget_all()
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture(scope="session")
def temporal_dev_server(servers: Servers) -> Iterator[EmbeddedTemporal]:
    """The Temporal dev server (real, in-memory), with our search attributes registered."""
    server = _on_a_free_port(lambda port: EmbeddedTemporal(servers.root / "temporal", port, None, persistent=False,
                                                           search_attributes=SEARCH_ATTRIBUTES))
    yield server
    server.stop()


# -- running in parallel (`make test`: pytest-xdist, --dist loadgroup) ---------------------------
# Each xdist worker is its own pytest session, so the session fixtures above give every worker
# its own PostgreSQL, Redis, Temporal and local Razorpay on free ports: workers share nothing.
# Tests are handed out one at a time to whichever worker is free, except the tests of a module
# with a module-scoped fixture (the e2e processes, say), which stay together on one worker so
# that it starts once. The longest tests go first, so that no worker is left with one at the end.
LONGEST_FIRST = (
    "tests/e2e/",
    "tests/api/test_fuzz_openapi.py",
    "tests/api/test_every_route.py::test_no_route_shows_or_changes_another_tenants_data",
    "tests/workflows/",
)


# A test that hangs must fail naming itself and the await it hangs on, not stall its worker (and
# the suite) with no name: after TEST_TIMEOUT_SECONDS every pending task's stack is printed (the
# test's own shows the whole await chain, down into the ASGI app it called) and the test is
# cancelled. Generous: the longest tests take a few minutes on a busy two-core machine.
TEST_TIMEOUT_SECONDS = float(os.environ.get("TEST_TIMEOUT_SECONDS", "900"))


def _with_deadline(test: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            out = io.StringIO()
            for pending in asyncio.all_tasks(loop):
                print(f"--- task {pending.get_name()} (the test's: {pending is task})", file=out)
                pending.print_stack(limit=40, file=out)
            sys.stderr.write(out.getvalue())
            task.cancel()
        timer = loop.call_later(TEST_TIMEOUT_SECONDS, expire)
        try:
            return await test(*args, **kwargs)
        except asyncio.CancelledError:
            if expired:
                pytest.fail(f"the test did not finish in {TEST_TIMEOUT_SECONDS:.0f} s (TEST_TIMEOUT_SECONDS); "
                            "every pending task's stack is in the captured stderr", pytrace=True)
            raise
        finally:
            timer.cancel()
    return run


def _deadlines(items: list[pytest.Item]) -> None:
    for item in items:
        test = getattr(item, "obj", None)
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(test):
            item.obj = _with_deadline(test)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _deadlines(items)
    if not hasattr(config, "workerinput"):  # not an xdist worker: keep the file order
        return
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        defs = fixtures.name2fixturedefs.values() if fixtures else ()
        if any(d[-1].scope == "module" for d in defs if d):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))

    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                    len(LONGEST_FIRST))
    items.sort(key=rank)  # stable: within a rank, the file order
