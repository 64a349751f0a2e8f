"""remedies: the catalogue, programmes and check-ins

Revision ID: 1400
Revises: 1500
Create Date: 2026-12-05 05:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

TABLES = ["remedies", "remedy_programmes", "remedy_check_ins"]

revision: str = "1400"
down_revision: str | None = "1500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "remedies",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("instructions_en", sa.String(length=5000), nullable=False),
        sa.Column("instructions_hi", sa.String(length=5000), nullable=True),
        sa.Column("default_schedule", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("default_duration_days", sa.Integer(), nullable=True),
        sa.Column("default_occurrences", sa.Integer(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_common(),
        sa.CheckConstraint("price_minor IS NULL OR price_minor >= 0", name=op.f("ck_remedies_price_not_negative")),
        sa.CheckConstraint("default_duration_days IS NULL OR default_duration_days > 0",
                           name=op.f("ck_remedies_duration_positive")),
        sa.CheckConstraint("default_occurrences IS NULL OR default_occurrences > 0",
                           name=op.f("ck_remedies_occurrences_positive")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_remedies_created_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_remedies_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remedies")),
    )
    op.create_index(op.f("ix_remedies_tenant_id"), "remedies", ["tenant_id"], unique=False)

    op.create_table(
        "remedy_programmes",
        sa.Column("remedy_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("birth_profile_id", sa.Uuid(), nullable=True),
        sa.Column("consultant_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plan", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("workflow_id", sa.String(length=100), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("best_streak", sa.Integer(), nullable=False),
        sa.Column("next_occurrence_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_occurrence_key", sa.String(length=16), nullable=True),
        sa.Column("open_occurrence_key", sa.String(length=16), nullable=True),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=500), nullable=True),
        sa.Column("assigned_by", sa.Uuid(), nullable=True),
        *_common(),
        sa.ForeignKeyConstraint(["remedy_id"], ["remedies.id"], name=op.f("fk_remedy_programmes_remedy_id_remedies"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["client_id"], ["users.id"], name=op.f("fk_remedy_programmes_client_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["birth_profile_id"], ["birth_profiles.id"],
                                name=op.f("fk_remedy_programmes_birth_profile_id_birth_profiles"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["consultant_id"], ["users.id"], name=op.f("fk_remedy_programmes_consultant_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_remedy_programmes_booking_id_bookings"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"], name=op.f("fk_remedy_programmes_assigned_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_remedy_programmes_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remedy_programmes")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_remedy_programmes_workflow_id")),
    )
    op.create_index(op.f("ix_remedy_programmes_tenant_id"), "remedy_programmes", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_remedy_programmes_remedy_id"), "remedy_programmes", ["remedy_id"], unique=False)
    op.create_index("ix_remedy_programmes_client_status", "remedy_programmes", ["client_id", "status"], unique=False)
    op.create_index("ix_remedy_programmes_consultant_status", "remedy_programmes", ["consultant_id", "status"],
                    unique=False)
    op.create_index("ix_remedy_programmes_next", "remedy_programmes", ["tenant_id", "next_occurrence_at"],
                    unique=False)

    op.create_table(
        "remedy_check_ins",
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("occurrence_key", sa.String(length=16), nullable=False),
        sa.Column("occurrence_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        *_common(),
        sa.ForeignKeyConstraint(["programme_id"], ["remedy_programmes.id"],
                                name=op.f("fk_remedy_check_ins_programme_id_remedy_programmes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"], name=op.f("fk_remedy_check_ins_by_user_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_remedy_check_ins_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remedy_check_ins")),
        sa.UniqueConstraint("programme_id", "occurrence_key", name=op.f("uq_remedy_check_ins_programme_id_occurrence_key")),
    )
    op.create_index(op.f("ix_remedy_check_ins_tenant_id"), "remedy_check_ins", ["tenant_id"], unique=False)

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_table("remedy_check_ins")
    op.drop_table("remedy_programmes")
    op.drop_table("remedies")
