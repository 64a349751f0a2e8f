"""core.db.close_session: a session that holds no connection is closed without a round trip or
a task; one that holds a connection gives it back to the pool, as AsyncSession's own exit does.

Each test has an engine of its own: the suite's shared one is used by background work of earlier
tests (webhook processing, workflow activities), whose checkouts would mix with these."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import close_session, holds_connection, make_engine, make_sessionmaker
from core.settings import Settings
from models.tenancy import Tenant


@pytest.fixture
async def own_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings.database_url, 2)
    yield engine
    await engine.dispose()


async def test_a_session_that_ran_nothing_closes_at_once(own_engine: AsyncEngine) -> None:
    session = make_sessionmaker(own_engine)()
    tenant = Tenant(slug="not-stored", name="Not stored")
    session.add(tenant)  # pending, never flushed
    assert not holds_connection(session)
    await close_session(session)
    assert tenant not in session
    assert own_engine.pool.checkedout() == 0


async def test_a_session_holding_a_connection_gives_it_back(own_engine: AsyncEngine) -> None:
    session = make_sessionmaker(own_engine)()
    assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    assert holds_connection(session)
    assert own_engine.pool.checkedout() == 1
    await close_session(session)  # rolls the open transaction back and returns the connection
    assert not holds_connection(session)
    assert own_engine.pool.checkedout() == 0


async def test_after_a_commit_the_session_holds_nothing(own_engine: AsyncEngine) -> None:
    session = make_sessionmaker(own_engine)()
    await session.execute(text("SELECT 1"))
    await session.commit()
    assert not holds_connection(session)
    await close_session(session)
    assert own_engine.pool.checkedout() == 0
