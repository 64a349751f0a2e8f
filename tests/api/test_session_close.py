"""core.db.close_session: a session that holds no connection is closed without a round trip or
a task; one that holds a connection gives it back to the pool, as AsyncSession's own exit does."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import close_session, holds_connection
from models.tenancy import Tenant


async def test_a_session_that_ran_nothing_closes_at_once(sessionmaker: async_sessionmaker[AsyncSession],
                                                          engine: AsyncEngine) -> None:
    before = engine.pool.checkedout()
    session = sessionmaker()
    tenant = Tenant(slug="not-stored", name="Not stored")
    session.add(tenant)  # pending, never flushed
    assert not holds_connection(session)
    await close_session(session)
    assert tenant not in session
    assert engine.pool.checkedout() == before


async def test_a_session_holding_a_connection_gives_it_back(sessionmaker: async_sessionmaker[AsyncSession],
                                                             engine: AsyncEngine) -> None:
    before = engine.pool.checkedout()
    session = sessionmaker()
    assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    assert holds_connection(session)
    assert engine.pool.checkedout() == before + 1
    await close_session(session)  # rolls the open transaction back and returns the connection
    assert not holds_connection(session)
    assert engine.pool.checkedout() == before


async def test_after_a_commit_the_session_holds_nothing(sessionmaker: async_sessionmaker[AsyncSession],
                                                        engine: AsyncEngine) -> None:
    before = engine.pool.checkedout()
    session = sessionmaker()
    await session.execute(text("SELECT 1"))
    await session.commit()
    assert not holds_connection(session)
    await close_session(session)
    assert engine.pool.checkedout() == before
