"""What one small transaction costs the API process, by layer. Prints figures; asserts nothing.

A loop of `BEGIN` / `SELECT 1` / `COMMIT` against an embedded PostgreSQL, measured in client CPU
per transaction (`time.process_time`, the heap frozen as the API freezes it at start-up):
psycopg's async connection alone, then SQLAlchemy Core (`engine.connect()`, execute, commit) and
the ORM session, both on `core.db.make_engine` as the API builds it. Last, what starting and
switching into one greenlet costs, which SQLAlchemy's asyncio layer does for each call
(docs/performance.md, ninth pass).

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

from core.db import make_engine, make_sessionmaker
from core.embedded import EmbeddedPostgres, free_port

ITERATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 3000


async def per_iteration(label: str, step: Callable[[], Awaitable[object]]) -> None:
    for _ in range(300):
        await step()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(ITERATIONS):
        await step()
    cpu_us = (time.process_time() - cpu) / ITERATIONS * 1e6
    wall_us = (time.perf_counter() - wall) / ITERATIONS * 1e6
    print(f"  {label:52s} client CPU {cpu_us:6.0f} µs   wall {wall_us:6.0f} µs", flush=True)


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
    await engine.dispose()


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
        print(f"  {label:52s} {(time.process_time() - started) / 20_000 * 1e6:8.2f} µs")


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
