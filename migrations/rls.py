"""Row-level security for tenant-owned tables, used by the migrations.

A row is visible when the transaction's `app.tenant_id` equals its tenant_id (NULL matching
NULL: platform rows), or when the transaction explicitly bypasses (`app.rls_bypass = on`).
FORCE makes the policy apply to the tables' owner too, which is the role the app connects as.
"""

from __future__ import annotations

from alembic import op

POLICY = (
    "current_setting('app.rls_bypass', true) = 'on' "
    "OR tenant_id IS NOT DISTINCT FROM nullif(current_setting('app.tenant_id', true), '')::uuid"
)


def enable_tenant_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY})")


def disable_tenant_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
