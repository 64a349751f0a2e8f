"""quotations: quotations, their versions and lines, link views, per-consultancy quote numbers

Revision ID: 1300
Revises: 1400
Create Date: 2026-12-05 05:00:00+00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

TABLES = ["quotations", "quotation_versions", "quotation_lines", "quotation_views", "quotation_counters"]

revision: str = "1300"
down_revision: str | None = "1400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "quotations",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("consultant_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("client_email", sa.String(length=320), nullable=False),
        sa.Column("client_phone", sa.String(length=32), nullable=True),
        sa.Column("client_timezone", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_days", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("first_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workflow_id", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_common("quotations"),
        sa.CheckConstraint("number > 0", name=op.f("ck_quotations_number_positive")),
        sa.CheckConstraint("views >= 0", name=op.f("ck_quotations_views_not_negative")),
        sa.CheckConstraint("current_version >= 1", name=op.f("ck_quotations_version_positive")),
        sa.CheckConstraint("status IN ('draft', 'sent', 'viewed', 'accepted', 'paid', 'rejected', 'expired', "
                           "'withdrawn', 'lapsed')", name=op.f("ck_quotations_status")),
        sa.ForeignKeyConstraint(["consultant_id"], ["consultants.id"],
                                name=op.f("fk_quotations_consultant_id_consultants"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["client_id"], ["users.id"], name=op.f("fk_quotations_client_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_quotations_order_id_orders"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_quotations_created_by_users"),
                                ondelete="SET NULL"),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_quotations_tenant_id_number")),
    )
    op.create_index(op.f("ix_quotations_tenant_id"), "quotations", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_quotations_consultant_id"), "quotations", ["consultant_id"], unique=False)
    op.create_index(op.f("ix_quotations_client_id"), "quotations", ["client_id"], unique=False)
    op.create_index("ix_quotations_open_expiry", "quotations", ["tenant_id", "expires_at"], unique=False,
                    postgresql_where=sa.text("status IN ('sent', 'viewed')"))

    op.create_table(
        "quotation_versions",
        sa.Column("quotation_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount_kind", sa.String(length=8), nullable=False),
        sa.Column("discount_value", sa.BigInteger(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("taxable", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("gst_mode", sa.String(length=16), nullable=False),
        sa.Column("gst_rate_bp", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("attachment_file_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_common("quotation_versions"),
        sa.CheckConstraint("subtotal >= 0 AND discount >= 0 AND tax >= 0 AND total >= 0",
                           name=op.f("ck_quotation_versions_amounts_not_negative")),
        sa.CheckConstraint("discount_kind IN ('none', 'percent', 'amount')",
                           name=op.f("ck_quotation_versions_discount_kind")),
        sa.CheckConstraint("discount_value >= 0", name=op.f("ck_quotation_versions_discount_not_negative")),
        sa.ForeignKeyConstraint(["quotation_id"], ["quotations.id"],
                                name=op.f("fk_quotation_versions_quotation_id_quotations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["attachment_file_id"], ["stored_files.id"],
                                name=op.f("fk_quotation_versions_attachment_file_id_stored_files"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_quotation_versions_created_by_users"),
                                ondelete="SET NULL"),
        sa.UniqueConstraint("quotation_id", "version", name=op.f("uq_quotation_versions_quotation_id_version")),
    )
    op.create_index(op.f("ix_quotation_versions_tenant_id"), "quotation_versions", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_quotation_versions_quotation_id"), "quotation_versions", ["quotation_id"],
                    unique=False)

    op.create_table(
        "quotation_lines",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("offering_id", sa.Uuid(), nullable=True),
        sa.Column("ref_id", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        *_common("quotation_lines"),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_quotation_lines_quantity_positive")),
        sa.CheckConstraint("unit_amount >= 0", name=op.f("ck_quotation_lines_amount_not_negative")),
        sa.CheckConstraint("kind IN ('offering', 'custom', 'report', 'course')", name=op.f("ck_quotation_lines_kind")),
        sa.ForeignKeyConstraint(["version_id"], ["quotation_versions.id"],
                                name=op.f("fk_quotation_lines_version_id_quotation_versions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"], name=op.f("fk_quotation_lines_offering_id_offerings"),
                                ondelete="SET NULL"),
    )
    op.create_index(op.f("ix_quotation_lines_tenant_id"), "quotation_lines", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_quotation_lines_version_id"), "quotation_lines", ["version_id"], unique=False)

    op.create_table(
        "quotation_views",
        sa.Column("quotation_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_quotation_views_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["quotation_id"], ["quotations.id"],
                                name=op.f("fk_quotation_views_quotation_id_quotations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotation_views")),
    )
    op.create_index(op.f("ix_quotation_views_tenant_id"), "quotation_views", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_quotation_views_quotation_id"), "quotation_views", ["quotation_id"], unique=False)

    op.create_table(
        "quotation_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_quotation_counters_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_quotation_counters")),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_table("quotation_counters")
    op.drop_index(op.f("ix_quotation_views_quotation_id"), table_name="quotation_views")
    op.drop_index(op.f("ix_quotation_views_tenant_id"), table_name="quotation_views")
    op.drop_table("quotation_views")
    op.drop_index(op.f("ix_quotation_lines_version_id"), table_name="quotation_lines")
    op.drop_index(op.f("ix_quotation_lines_tenant_id"), table_name="quotation_lines")
    op.drop_table("quotation_lines")
    op.drop_index(op.f("ix_quotation_versions_quotation_id"), table_name="quotation_versions")
    op.drop_index(op.f("ix_quotation_versions_tenant_id"), table_name="quotation_versions")
    op.drop_table("quotation_versions")
    op.drop_index("ix_quotations_open_expiry", table_name="quotations",
                  postgresql_where=sa.text("status IN ('sent', 'viewed')"))
    op.drop_index(op.f("ix_quotations_client_id"), table_name="quotations")
    op.drop_index(op.f("ix_quotations_consultant_id"), table_name="quotations")
    op.drop_index(op.f("ix_quotations_tenant_id"), table_name="quotations")
    op.drop_table("quotations")
