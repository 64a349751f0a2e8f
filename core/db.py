"""Database engine, sessions and the tenant scope that row-level security reads.

Every transaction starts by telling PostgreSQL whose rows it may see
(`app.tenant_id`, `app.rls_bypass`, both transaction-local). The policies created by the
migrations compare each row's `tenant_id` with them, so a query that forgets its tenant filter
still cannot read another tenant's rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

SCOPE_KEY = "muhurta.scope"


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
    scope: TenantScope = session.info.get(SCOPE_KEY, PLATFORM_SCOPE)
    connection.exec_driver_sql(
        "SELECT set_config('app.tenant_id', %(tenant)s, true),"
        " set_config('app.rls_bypass', %(bypass)s, true)",
        {"tenant": str(scope.tenant_id or ""), "bypass": "on" if scope.bypass else "off"},
    )


async def enter_scope(session: AsyncSession, scope: TenantScope) -> None:
    """Set whose rows this session may touch, now and in its later transactions."""
    session.info[SCOPE_KEY] = scope
    if session.in_transaction():
        await session.execute(
            text("SELECT set_config('app.tenant_id', :tenant, true),"
                 " set_config('app.rls_bypass', :bypass, true)"),
            {"tenant": str(scope.tenant_id or ""), "bypass": "on" if scope.bypass else "off"},
        )


def make_engine(url: str, pool_size: int = 10, *, observed: str | None = None, **kwargs: Any) -> AsyncEngine:
    """`observed`: the pool's name in the metrics (`api`, `worker`), and a span per SQL statement;
    None leaves the engine uninstrumented (one-off commands, the bench's baseline)."""
    from core.observability.database import InstrumentedPool, instrument_engine

    if observed is not None:
        kwargs.setdefault("poolclass", InstrumentedPool)
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        hide_parameters=True,  # errors and logs must not carry bound values (emails, hashes, tokens)
        **kwargs,
    )
    if observed is not None:
        instrument_engine(engine, observed)
    return engine


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
