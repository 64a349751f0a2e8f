"""tenants.texts_version: bumped by PostgreSQL whenever one of the tenant's interpretive texts
is added, changed or removed, so that each API process can keep the tenant's texts in memory and
know, from the tenant row every request already reads, when its copy is stale
(api/services/astrology.py, docs/performance.md)

Revision ID: 2800
Revises: 2700
Create Date: 2026-12-06 17:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2800"
down_revision: str | None = "2700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("texts_version", sa.BigInteger(), nullable=False, server_default="0"))
    # A trigger rather than the API's own writes: every writer (the API, the seed, a script, psql)
    # invalidates the copies, in the same transaction as its change.
    op.execute("""
        CREATE FUNCTION bump_tenant_texts_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                UPDATE tenants SET texts_version = texts_version + 1 WHERE id = OLD.tenant_id;
            END IF;
            IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
                UPDATE tenants SET texts_version = texts_version + 1 WHERE id = NEW.tenant_id;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER interpretive_texts_bump_version
        AFTER INSERT OR UPDATE OR DELETE ON interpretive_texts
        FOR EACH ROW EXECUTE FUNCTION bump_tenant_texts_version()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER interpretive_texts_bump_version ON interpretive_texts")
    op.execute("DROP FUNCTION bump_tenant_texts_version()")
    op.drop_column("tenants", "texts_version")
