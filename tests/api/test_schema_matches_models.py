"""The migrated database equals the models, and every tenant-owned table has row-level security."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from models import Base


async def test_migrations_produce_the_models(engine):
    def diff(conn):
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_every_table_with_a_tenant_id_has_row_level_security(engine):
    tenant_tables = {t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.c}
    registry = {"tenant_domains", "idempotency_records"}  # resolved before the tenant is known
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity"))).scalars().all()
    assert tenant_tables - registry <= set(rows)
    assert {"birth_profiles", "interpretive_texts", "suggestion_rules"} <= set(rows)
