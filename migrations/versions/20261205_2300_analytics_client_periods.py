"""analytics: distinct-client figures per period, valid for one roll-up version of a tenant's zone

Revision ID: 2300
Revises: 2200
Create Date: 2026-12-05 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "2300"
down_revision: str | None = "2200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("analytics_zone_fills",
                  sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    op.create_table(
        "analytics_client_periods",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("consultant_id", sa.Uuid(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("lifetime", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_analytics_client_periods_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "zone", "consultant_id", "first_day", "last_day",
                                name=op.f("pk_analytics_client_periods")),
    )
    enable_tenant_rls("analytics_client_periods")


def downgrade() -> None:
    disable_tenant_rls("analytics_client_periods")
    op.drop_table("analytics_client_periods")
    op.drop_column("analytics_zone_fills", "version")
