"""checkout: products, session packages, package grants and their credit ledger

Revision ID: 1900
Revises: 2000
Create Date: 2026-12-05 08:40:00+00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from migrations.rls import disable_tenant_rls, enable_tenant_rls

TABLES = ["products", "session_packages", "package_grants", "package_credit_moves"]

revision: str = "1900"
down_revision: str | None = "2000"
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
        "products",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("consultant_user_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(), *_common("products"),
        sa.ForeignKeyConstraint(["consultant_user_id"], ["users.id"],
                                name=op.f("fk_products_consultant_user_id_users"), ondelete="SET NULL"),
        sa.CheckConstraint("kind IN ('report', 'product')", name=op.f("ck_products_kind")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_products_price_not_negative")),
        sa.CheckConstraint("kind <> 'report' OR consultant_user_id IS NOT NULL",
                           name=op.f("ck_products_report_has_writer")),
    )
    op.create_index(op.f("ix_products_tenant_id"), "products", ["tenant_id"])
    op.create_table(
        "session_packages",
        sa.Column("offering_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("credit_back_min_percent", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(), *_common("session_packages"),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"],
                                name=op.f("fk_session_packages_offering_id_offerings"), ondelete="CASCADE"),
        sa.CheckConstraint("sessions > 0", name=op.f("ck_session_packages_sessions_positive")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_session_packages_price_not_negative")),
        sa.CheckConstraint("valid_days > 0", name=op.f("ck_session_packages_valid_days_positive")),
        sa.CheckConstraint("reminder_days >= 0", name=op.f("ck_session_packages_reminder_days_not_negative")),
        sa.CheckConstraint("credit_back_min_percent BETWEEN 0 AND 100",
                           name=op.f("ck_session_packages_credit_back_percent")),
    )
    op.create_index(op.f("ix_session_packages_tenant_id"), "session_packages", ["tenant_id"])
    op.create_index(op.f("ix_session_packages_offering_id"), "session_packages", ["offering_id"])
    op.create_table(
        "package_grants",
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("offering_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("credits_total", sa.Integer(), nullable=False),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("credit_back_min_percent", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workflow_id", sa.String(length=100), nullable=False),
        *_stamps(), *_common("package_grants"),
        sa.ForeignKeyConstraint(["package_id"], ["session_packages.id"],
                                name=op.f("fk_package_grants_package_id_session_packages"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"],
                                name=op.f("fk_package_grants_offering_id_offerings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["users.id"], name=op.f("fk_package_grants_client_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_package_grants_order_id_orders"),
                                ondelete="SET NULL"),
        sa.CheckConstraint("credits_used >= 0 AND credits_used <= credits_total",
                           name=op.f("ck_package_grants_credits_within_total")),
        sa.CheckConstraint("status IN ('active', 'expired', 'revoked')", name=op.f("ck_package_grants_status")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_package_grants_workflow_id")),
    )
    op.create_index(op.f("ix_package_grants_tenant_id"), "package_grants", ["tenant_id"])
    op.create_index(op.f("ix_package_grants_package_id"), "package_grants", ["package_id"])
    op.create_index("ix_package_grants_client_offering", "package_grants", ["client_id", "offering_id", "status"])
    op.create_table(
        "package_credit_moves",
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("left_after", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_common("package_credit_moves"),
        sa.ForeignKeyConstraint(["grant_id"], ["package_grants.id"],
                                name=op.f("fk_package_credit_moves_grant_id_package_grants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_package_credit_moves_booking_id_bookings"), ondelete="SET NULL"),
        sa.CheckConstraint("left_after >= 0", name=op.f("ck_package_credit_moves_never_negative")),
        sa.CheckConstraint("kind IN ('grant', 'use', 'return', 'expire', 'revoke')",
                           name=op.f("ck_package_credit_moves_kind")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_package_credit_moves_dedupe_key")),
    )
    op.create_index(op.f("ix_package_credit_moves_tenant_id"), "package_credit_moves", ["tenant_id"])
    op.create_index(op.f("ix_package_credit_moves_grant_id"), "package_credit_moves", ["grant_id"])
    op.create_index(op.f("ix_package_credit_moves_booking_id"), "package_credit_moves", ["booking_id"])
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    for table in reversed(TABLES):
        op.drop_table(table)
