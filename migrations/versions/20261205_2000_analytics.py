"""analytics: daily roll-ups per tenant, reporting zone, local day and consultant; view buckets; zones

Revision ID: 2000
Revises: 1800
Create Date: 2026-12-05 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.rls import disable_tenant_rls, enable_tenant_rls

TABLES = ["analytics_daily", "analytics_revenue_daily", "analytics_client_days", "analytics_view_buckets",
          "analytics_zone_fills"]

revision: str = "2000"
down_revision: str | None = "1800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAILY_COUNTS = ["page_views", "slot_views", "holds", "paid_bookings", "sessions_booked", "sessions_completed",
                "sessions_cancelled", "sessions_no_show", "quotations_sent", "quotations_accepted",
                "remedies_started", "remedies_completed", "remedies_stopped", "course_enrolments",
                "course_completions"]


def _count(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def _money(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)


def _key() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("consultant_id", sa.Uuid(), nullable=False),
    ]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "analytics_daily", *_key(), *[_count(c) for c in DAILY_COUNTS],
        _tenant_fk("analytics_daily"),
        sa.PrimaryKeyConstraint("tenant_id", "zone", "day", "consultant_id", name=op.f("pk_analytics_daily")),
    )
    op.create_index("ix_analytics_daily_zone_day", "analytics_daily", ["zone", "day"])
    op.create_table(
        "analytics_revenue_daily", *_key(),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _count("orders_paid"), _money("gross"), _money("discounts"), _money("gst"), _money("collected"),
        _money("refunds"), _count("sessions_booked"), _money("sessions_value"),
        _tenant_fk("analytics_revenue_daily"),
        sa.PrimaryKeyConstraint("tenant_id", "zone", "day", "consultant_id", "currency",
                                name=op.f("pk_analytics_revenue_daily")),
    )
    op.create_index("ix_analytics_revenue_daily_zone_day", "analytics_revenue_daily", ["zone", "day"])
    op.create_table(
        "analytics_client_days", *_key(),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _count("purchases"), _money("spend"),
        _tenant_fk("analytics_client_days"),
        sa.PrimaryKeyConstraint("tenant_id", "zone", "day", "consultant_id", "client_id", "currency",
                                name=op.f("pk_analytics_client_days")),
    )
    op.create_index("ix_analytics_client_days_client", "analytics_client_days", ["tenant_id", "zone", "client_id"])
    op.create_table(
        "analytics_view_buckets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("consultant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("bucket_at", sa.DateTime(timezone=True), nullable=False),
        _count("views"),
        _tenant_fk("analytics_view_buckets"),
        sa.PrimaryKeyConstraint("tenant_id", "consultant_id", "kind", "bucket_at",
                                name=op.f("pk_analytics_view_buckets")),
    )
    op.create_table(
        "analytics_zones",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("zone", name=op.f("pk_analytics_zones")),
    )
    op.create_table(
        "analytics_zone_fills",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _tenant_fk("analytics_zone_fills"),
        sa.PrimaryKeyConstraint("tenant_id", "zone", name=op.f("pk_analytics_zone_fills")),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_table("analytics_zone_fills")
    op.drop_table("analytics_zones")
    op.drop_table("analytics_view_buckets")
    op.drop_table("analytics_client_days")
    op.drop_table("analytics_revenue_daily")
    op.drop_table("analytics_daily")
