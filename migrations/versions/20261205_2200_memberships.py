"""memberships: plans, the clients' memberships, their paid periods; package grants from a membership

Revision ID: 2200
Revises: 2100
Create Date: 2026-12-05 12:00:00+00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

TABLES = ["membership_plans", "memberships", "membership_charges"]

revision: str = "2200"
down_revision: str | None = "2100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _stamps() -> list[Any]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "membership_plans",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("offering_id", sa.Uuid(), nullable=True),
        sa.Column("credits_per_period", sa.Integer(), nullable=False),
        sa.Column("course_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("gateway_plans", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *_stamps(), *_common("membership_plans"),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"],
                                name=op.f("fk_membership_plans_offering_id_offerings"), ondelete="CASCADE"),
        sa.CheckConstraint("period IN ('monthly')", name=op.f("ck_membership_plans_period")),
        sa.CheckConstraint("price_minor >= 100", name=op.f("ck_membership_plans_price_at_least_one_rupee")),
        sa.CheckConstraint("credits_per_period >= 0", name=op.f("ck_membership_plans_credits_not_negative")),
        sa.CheckConstraint("credits_per_period = 0 OR offering_id IS NOT NULL",
                           name=op.f("ck_membership_plans_credits_name_an_offering")),
    )
    op.create_index(op.f("ix_membership_plans_tenant_id"), "membership_plans", ["tenant_id"])
    op.create_index(op.f("ix_membership_plans_offering_id"), "membership_plans", ["offering_id"])
    op.create_table(
        "memberships",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("terms", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("gateway_subscription_id", sa.String(length=40), nullable=True),
        sa.Column("gateway_key_id", sa.String(length=40), nullable=True),
        sa.Column("short_url", sa.String(length=300), nullable=True),
        sa.Column("current_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("past_due_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("periods_paid", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=300), nullable=True),
        sa.Column("gateway_error", sa.String(length=300), nullable=True),
        sa.Column("workflow_id", sa.String(length=100), nullable=False),
        *_stamps(), *_common("memberships"),
        sa.ForeignKeyConstraint(["plan_id"], ["membership_plans.id"],
                                name=op.f("fk_memberships_plan_id_membership_plans"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["users.id"], name=op.f("fk_memberships_client_id_users"),
                                ondelete="CASCADE"),
        sa.CheckConstraint("status IN ('pending', 'active', 'paused', 'past_due', 'cancelled', 'expired')",
                           name=op.f("ck_memberships_status")),
        sa.CheckConstraint("periods_paid >= 0", name=op.f("ck_memberships_periods_not_negative")),
        sa.UniqueConstraint("gateway_subscription_id", name=op.f("uq_memberships_gateway_subscription_id")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_memberships_workflow_id")),
    )
    op.create_index(op.f("ix_memberships_tenant_id"), "memberships", ["tenant_id"])
    op.create_index(op.f("ix_memberships_plan_id"), "memberships", ["plan_id"])
    op.create_index("ix_memberships_client_status", "memberships", ["client_id", "status"])
    op.create_index("uq_memberships_live", "memberships", ["plan_id", "client_id"], unique=True,
                    postgresql_where=sa.text("status IN ('pending', 'active', 'paused', 'past_due')"))

    op.alter_column("package_grants", "package_id", existing_type=sa.Uuid(), nullable=True)
    op.add_column("package_grants", sa.Column("membership_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_package_grants_membership_id_memberships"), "package_grants", "memberships",
                          ["membership_id"], ["id"], ondelete="CASCADE")
    op.create_index(op.f("ix_package_grants_membership_id"), "package_grants", ["membership_id"])
    op.create_check_constraint(op.f("ck_package_grants_has_source"), "package_grants",
                               "package_id IS NOT NULL OR membership_id IS NOT NULL")

    op.create_table(
        "membership_charges",
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=True),
        sa.Column("charged_at", sa.DateTime(timezone=True), nullable=False),
        *_common("membership_charges"),
        sa.ForeignKeyConstraint(["membership_id"], ["memberships.id"],
                                name=op.f("fk_membership_charges_membership_id_memberships"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["grant_id"], ["package_grants.id"],
                                name=op.f("fk_membership_charges_grant_id_package_grants"), ondelete="SET NULL"),
        sa.CheckConstraint("period_end > period_start", name=op.f("ck_membership_charges_period_forward")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_membership_charges_payment_id")),
    )
    op.create_index(op.f("ix_membership_charges_tenant_id"), "membership_charges", ["tenant_id"])
    op.create_index(op.f("ix_membership_charges_membership_id"), "membership_charges", ["membership_id"])
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_table("membership_charges")
    op.drop_constraint(op.f("ck_package_grants_has_source"), "package_grants", type_="check")
    op.drop_index(op.f("ix_package_grants_membership_id"), table_name="package_grants")
    op.drop_constraint(op.f("fk_package_grants_membership_id_memberships"), "package_grants", type_="foreignkey")
    op.drop_column("package_grants", "membership_id")
    op.execute("DELETE FROM package_grants WHERE package_id IS NULL")
    op.alter_column("package_grants", "package_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_table("memberships")
    op.drop_table("membership_plans")
