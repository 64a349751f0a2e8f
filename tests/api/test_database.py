"""The database is built by the migrations, matches the models, and guards tenants itself."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from support import active_consultancy, register_client

from core.db import TenantScope, scoped_session
from models import Base
from models.identity import User

# The tenant registry is read before a tenant is known, so it is the one unguarded place.
REGISTRY_TABLES = {"tenant_domains"}


async def test_models_match_the_migrations(engine):
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                          Base.metadata))
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


async def test_every_tenant_owned_table_has_forced_row_level_security(engine):
    async with engine.connect() as conn:
        rows = (await conn.execute(text("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy
            FROM pg_class c JOIN information_schema.columns col
              ON col.table_name = c.relname AND col.column_name = 'tenant_id'
            WHERE c.relkind = 'r' AND col.table_schema = 'public'
        """))).all()
    assert rows, "no tenant-owned tables found"
    unguarded = [r.relname for r in rows if r.relname not in REGISTRY_TABLES
                 and not (r.relrowsecurity and r.relforcerowsecurity and r.has_policy)]
    assert unguarded == [], f"tables without forced row-level security: {unguarded}"


async def test_the_application_role_cannot_bypass_row_level_security(engine):
    async with engine.connect() as conn:
        role = (await conn.execute(text(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))).one()
    assert not role.rolsuper and not role.rolbypassrls


async def test_a_query_without_a_tenant_filter_still_sees_only_its_tenant(client, sessionmaker):
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    await register_client(client, a.tenant_slug)
    await register_client(client, b.tenant_slug)
    async with scoped_session(sessionmaker, TenantScope.of(uuid.UUID(a.tenant_id))) as session:
        emails = (await session.execute(select(User.email))).scalars().all()  # no WHERE at all
    assert emails and all(e == a.email or e.endswith("@example.com") for e in emails)
    assert b.email not in emails and len(emails) == 2
    async with scoped_session(sessionmaker, TenantScope.of(None)) as session:
        assert (await session.execute(select(User.email))).scalars().all() == []


async def test_writing_a_row_into_another_tenant_is_refused_by_postgresql(client, sessionmaker):
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    async with scoped_session(sessionmaker, TenantScope.of(uuid.UUID(a.tenant_id))) as session:
        session.add(User(tenant_id=uuid.UUID(b.tenant_id), email="intruder@example.com",
                         full_name="Intruder", role="client"))
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.flush()
        await session.rollback()
