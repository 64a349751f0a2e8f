"""What one small transaction costs the API process, by layer. Prints figures; asserts nothing.

A loop of `BEGIN` / `SELECT 1` / `COMMIT` against an embedded PostgreSQL, measured in client CPU
per transaction (`time.process_time`, the heap frozen as the API freezes it at start-up):
psycopg's async connection alone, then SQLAlchemy Core (`engine.connect()`, execute, commit) and
the ORM session, both on `core.db.make_engine` as the API builds it. Then what a tenant
request's own database work costs (the `tenants` table of the models, one row): the API's way
(`api.deps.tenant_in_scope` in the request's session: BEGIN, the lookup that also sets the
scope, COMMIT), the same statement sent through psycopg inside that session's transaction, the
ORM lookup alone in autocommit (no BEGIN, no COMMIT), and a session that runs nothing. Last, what
starting and switching into one greenlet costs, which SQLAlchemy's asyncio layer does for each
call (docs/performance.md, ninth and tenth passes).

    .venv/bin/python bench/transaction_cost.py [iterations]
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

# import the checkout this file lives in, not whatever copy is installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="muhurta-xdg-"))

import greenlet
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from api.deps import _TENANT_BY, tenant_in_scope
from core.db import make_engine, make_sessionmaker
from core.embedded import EmbeddedPostgres, free_port
from models.tenancy import Tenant, TenantDomain, TenantStatus

ITERATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 3000


async def per_iteration(label: str, step: Callable[[], Awaitable[object]]) -> None:
    for _ in range(300):
        await step()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(ITERATIONS):
        await step()
    cpu_us = (time.process_time() - cpu) / ITERATIONS * 1e6
    wall_us = (time.perf_counter() - wall) / ITERATIONS * 1e6
    print(f"  {label:56s} client CPU {cpu_us:6.0f} µs   wall {wall_us:6.0f} µs", flush=True)


async def measure(url: str) -> None:
    gc.collect()
    gc.freeze()
    raw = await psycopg.AsyncConnection.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    engine = make_engine(url, 2)
    sessionmaker = make_sessionmaker(engine)

    async def psycopg_alone() -> None:
        await raw.execute("SELECT 1")
        await raw.commit()

    async def core() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await connection.commit()

    async def orm() -> None:
        async with sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            await session.commit()

    print(f"BEGIN / SELECT 1 / COMMIT, {ITERATIONS} times each:")
    await per_iteration("psycopg alone", psycopg_alone)
    await per_iteration("SQLAlchemy Core (engine.connect, execute, commit)", core)
    await per_iteration("SQLAlchemy ORM session (execute, commit)", orm)
    await raw.close()
    await tenant_lookup(engine)
    await engine.dispose()


async def tenant_lookup(engine: AsyncEngine) -> None:
    """A tenant request's database work, done four ways."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: Tenant.metadata.create_all(
            sync, tables=[Tenant.__table__, TenantDomain.__table__]))  # type: ignore[list-item]
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        session.add(Tenant(slug="demo", name="Demo", status=TenantStatus.ACTIVE))
        await session.commit()
    autocommit = async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
    compiled = _TENANT_BY["slug"].compile(dialect=engine.dialect)
    statement, parameters = str(compiled), {**compiled.params, "value": "demo"}

    async def as_the_api_does() -> None:
        async with sessionmaker() as session:
            assert await tenant_in_scope(session, "slug", "demo") is not None
            await session.commit()

    async def through_psycopg_in_the_transaction() -> None:
        async with sessionmaker() as session:
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            async with driver.cursor() as cursor:
                await cursor.execute(statement, parameters)
                assert await cursor.fetchone() is not None
            await session.commit()

    async def orm_lookup_in_autocommit() -> None:
        async with autocommit() as session:
            assert (await session.execute(_TENANT_BY["slug"], {"value": "demo"})).first() is not None

    async def session_that_runs_nothing() -> None:
        async with sessionmaker() as session:
            await session.commit()

    print(f"A tenant request's database work, {ITERATIONS} times each:")
    await per_iteration("as the API does it (BEGIN, ORM lookup + scope, COMMIT)", as_the_api_does)
    await per_iteration("the same statement through psycopg, same transaction", through_psycopg_in_the_transaction)
    await per_iteration("the ORM lookup alone, autocommit (no BEGIN/COMMIT)", orm_lookup_in_autocommit)
    await per_iteration("a session that runs nothing", session_that_runs_nothing)


def greenlet_cost() -> None:
    def inner(value: int) -> int:
        return value + 1

    def body() -> int:
        return inner(1)

    def in_a_new_greenlet() -> int:
        return int(greenlet.greenlet(body).switch())

    for label, call in (("a call", body), ("the same call in a new greenlet", in_a_new_greenlet)):
        for _ in range(1000):
            call()
        started = time.process_time()
        for _ in range(20_000):
            call()
        print(f"  {label:56s} {(time.process_time() - started) / 20_000 * 1e6:8.2f} µs")


def main() -> None:
    print(f"Python {sys.version.split()[0]}, greenlet {greenlet.__version__}, psycopg {psycopg.__version__}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    root = Path(tempfile.mkdtemp(prefix="muhurta-bench-tx-"))
    os.chmod(root, 0o755)  # the embedded PostgreSQL runs as its own user
    postgres = EmbeddedPostgres(root / "pg", free_port())
    postgres.start()
    try:
        asyncio.run(measure(postgres.ensure_database("bench", "bench", "bench")))
    finally:
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    print("One greenlet, started and switched into (SQLAlchemy's asyncio layer does this per call):")
    greenlet_cost()


if __name__ == "__main__":
    main()
