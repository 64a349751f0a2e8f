"""Database engine, sessions and the tenant scope that row-level security reads.

Every transaction starts by telling PostgreSQL whose rows it may see
(`app.tenant_id`, `app.rls_bypass`, both transaction-local). The policies created by the
migrations compare each row's `tenant_id` with them, so a query that forgets its tenant filter
still cannot read another tenant's rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, String, cast, event, func, literal, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import QueryableAttribute, Session, SessionTransaction

log = logging.getLogger(__name__)

SCOPE_KEY = "muhurta.scope"
USED_KEY = "muhurta.used"  # the session has used a connection (see has_work)


@dataclass(frozen=True)
class TenantScope:
    """Whose rows a transaction may touch.

    `tenant_id=None` without bypass sees platform rows only (rows whose tenant_id is NULL, such
    as platform admins). `bypass=True` is for platform-wide work: admin listings, the workers'
    system tasks. It is explicit so that it is greppable and reviewed.
    """

    tenant_id: UUID | None
    bypass: bool = False

    @classmethod
    def system(cls) -> TenantScope:
        return cls(tenant_id=None, bypass=True)

    @classmethod
    def of(cls, tenant_id: UUID | None) -> TenantScope:
        return cls(tenant_id=tenant_id, bypass=False)


PLATFORM_SCOPE = TenantScope(tenant_id=None)


@event.listens_for(Session, "after_begin")
def _apply_scope(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    session.info[USED_KEY] = True
    scope: TenantScope = session.info.get(SCOPE_KEY, PLATFORM_SCOPE)
    if scope == PLATFORM_SCOPE:
        # What a new transaction sees anyway: both settings are only ever set transaction-locally
        # (here, in enter_scope and in scope_columns), so they are back to unset ('' or NULL, which
        # the policies read as "platform rows, no bypass") when the previous transaction ended.
        # Saying it again would cost a round trip per transaction (docs/performance.md).
        return
    connection.exec_driver_sql(
        "SELECT set_config('app.tenant_id', %(tenant)s, true),"
        " set_config('app.rls_bypass', %(bypass)s, true)",
        {"tenant": str(scope.tenant_id or ""), "bypass": "on" if scope.bypass else "off"},
    )


def has_work(session: AsyncSession) -> bool:
    """Whether committing `session` would do anything: it used a connection, or objects wait to
    be flushed. A request that found its tenant kept and needed nothing else from the database
    has none, and its commit (no statement, but ~0.1 ms of SQLAlchemy) can be skipped."""
    sync = session.sync_session
    return bool(sync.info.get(USED_KEY) or sync.new or sync.dirty or sync.deleted)


def holds_connection(session: AsyncSession) -> bool:
    """Whether `session` holds a database connection (a transaction that ran a statement)."""
    transaction = session.sync_session._transaction
    if transaction is None:
        return False
    return transaction._parent is not None or bool(transaction._connections)


async def close_session(session: AsyncSession) -> None:
    """Close `session`. One that holds no connection has nothing to give back and no round trip
    to make: it is closed here, without the task, shield and greenlet that `AsyncSession`'s own
    exit spends on every request (docs/performance.md, eleventh pass). Otherwise it is closed
    as that exit does, in a task of its own that a cancellation cannot abandon halfway."""
    if not holds_connection(session):
        session.sync_session.close()
        return
    await session.__aexit__(None, None, None)


async def enter_scope(session: AsyncSession, scope: TenantScope) -> None:
    """Set whose rows this session may touch, now and in its later transactions.

    The scope noted in `session.info` is always the one in force in the session's current
    transaction (after_begin applies it, scope_columns sets both at once), so entering the scope
    the session already has costs nothing."""
    if session.info.get(SCOPE_KEY, PLATFORM_SCOPE) == scope:
        return
    session.info[SCOPE_KEY] = scope
    if session.in_transaction():
        await session.execute(
            text("SELECT set_config('app.tenant_id', :tenant, true),"
                 " set_config('app.rls_bypass', :bypass, true)"),
            {"tenant": str(scope.tenant_id or ""), "bypass": "on" if scope.bypass else "off"},
        )


def scope_columns(
    tenant_id: ColumnElement[Any] | QueryableAttribute[Any],
) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """Two columns that scope the running transaction to `tenant_id` (no bypass) as a side effect
    of the statement that selects them: a lookup and its scope in one round trip. Only the row
    the statement returns sets them; call `scoped_by_statement` once it returned one."""
    return (func.set_config("app.tenant_id", cast(tenant_id, String), True).label("scope_tenant_id"),
            func.set_config("app.rls_bypass", literal("off"), True).label("scope_rls_bypass"))


def scoped_by_statement(session: AsyncSession, scope: TenantScope) -> None:
    """Note the scope that a statement with `scope_columns` set in the current transaction."""
    session.info[SCOPE_KEY] = scope


# A connection idle for longer than this is pinged before use (a restarted PostgreSQL or a
# dropped TCP connection is then noticed before the request uses it, not by the request).
PING_AFTER_IDLE_SECONDS = 5.0


POOL_CAP_FACTOR = 3  # an engine holds up to pool_size * 3 connections (see make_engine)


def pool_cap(pool_size: int) -> int:
    return pool_size * POOL_CAP_FACTOR


def make_engine(url: str, pool_size: int = 10, *, observed: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An engine holding up to `pool_size * 3` connections (as many as `pool_size` plus the
    overflow of twice that it always allowed), all of them kept once opened.

    Kept, not closed: SQLAlchemy closes an overflow connection as soon as it is returned, so
    every burst above `pool_size` requests in flight paid a new PostgreSQL connection (TCP,
    authentication, backend start: a quarter of a webhook's time, docs/performance.md). And a
    connection is pinged only when it sat idle (`PING_AFTER_IDLE_SECONDS`), instead of a
    `SELECT 1` round trip before every checkout (`pool_pre_ping`).

    `observed`: the pool's name in the metrics (`api`, `worker`), and a span per SQL statement;
    None leaves the engine uninstrumented (one-off commands, the bench's baseline)."""
    from core.observability.database import InstrumentedPool, instrument_engine

    if observed is not None:
        kwargs.setdefault("poolclass", InstrumentedPool)

    engine = create_async_engine(
        url,
        pool_size=pool_cap(pool_size),
        max_overflow=0,
        hide_parameters=True,  # errors and logs must not carry bound values (emails, hashes, tokens)
        **kwargs,
    )
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    if observed is not None:
        instrument_engine(engine, observed)
    return engine


async def open_pool_ahead(engine: AsyncEngine, count: int) -> None:
    """Open `count` pooled connections now, so the first burst does not pay for them.

    Each new connection costs TCP, authentication and a backend start: about 7 ms of the
    process's CPU. The pool keeps every connection it opens, so its cap is where it settles after
    the first burst anyway. The API and the worker therefore open the whole cap at start-up
    (`pool_cap`), paying that cost once and not in the middle of a burst. In the 200-client
    booking race the API needed 15 to 20 connections at once. A PostgreSQL whose
    `max_connections` cannot take the cap says so at start-up. A database that cannot be reached
    now is not an error here: /ready says so, and the pool connects when it can."""
    try:
        async with AsyncExitStack() as held:
            await asyncio.gather(*(held.enter_async_context(engine.connect()) for _ in range(count)))
    except Exception as exc:
        log.warning("could not open the database connections ahead of requests: %s", exc)


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()  # hand it out idle, as the pool keeps it
    except Exception as exc:  # the pool then drops this connection and hands out a new one
        raise DisconnectionError(str(exc)) from exc


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def scoped_session(
    sessionmaker: async_sessionmaker[AsyncSession], scope: TenantScope
) -> AsyncIterator[AsyncSession]:
    """A unit of work: commits when the block ends normally, rolls back on error."""
    async with sessionmaker() as session:
        session.info[SCOPE_KEY] = scope
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
