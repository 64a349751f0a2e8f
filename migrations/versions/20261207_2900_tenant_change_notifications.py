"""Tell every listening API process when a tenant changes: a notification on the `muhurta_tenants`
channel, sent by PostgreSQL when the transaction that changed a tenant (or one of its domains)
commits, carrying the tenant's id; `*` when either table is truncated. Each API process keeps the
tenants it has served and drops one when told (api/tenant_directory.py, docs/performance.md).

Revision ID: 2900
Revises: 2800
Create Date: 2026-12-07 13:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2900"
down_revision: str | None = "2800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Triggers rather than the API's own writes: every writer (the API, the worker's activities,
    # the seed, a script, psql) is heard. A change of texts reaches here too: it bumps
    # tenants.texts_version (migration 2800), an UPDATE of the tenant's row.
    op.execute("""
        CREATE FUNCTION notify_tenant_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            column_name text := CASE WHEN TG_TABLE_NAME = 'tenants' THEN 'id' ELSE 'tenant_id' END;
            old_id text;
            new_id text;
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN  -- TRUNCATE
                PERFORM pg_notify('muhurta_tenants', '*');
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                old_id := to_jsonb(OLD) ->> column_name;
                PERFORM pg_notify('muhurta_tenants', old_id);
            END IF;
            IF TG_OP <> 'DELETE' THEN
                new_id := to_jsonb(NEW) ->> column_name;
                IF new_id IS DISTINCT FROM old_id THEN
                    PERFORM pg_notify('muhurta_tenants', new_id);
                END IF;
            END IF;
            RETURN NULL;
        END $$
    """)
    for table in ("tenants", "tenant_domains"):
        op.execute(f"""
            CREATE TRIGGER {table}_notify_changed
            AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION notify_tenant_changed()
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_notify_truncated
            AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION notify_tenant_changed()
        """)


def downgrade() -> None:
    for table in ("tenants", "tenant_domains"):
        op.execute(f"DROP TRIGGER {table}_notify_truncated ON {table}")
        op.execute(f"DROP TRIGGER {table}_notify_changed ON {table}")
    op.execute("DROP FUNCTION notify_tenant_changed()")
