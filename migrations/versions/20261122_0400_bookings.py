"""bookings: consultants, availability, offerings, webinar sessions, bookings

Revision ID: 0400
Revises: 0600
Create Date: 2026-11-22 00:53:52.213990

No double booking is the database's own rule: `ex_bookings_no_overlap` is an exclusion
constraint over (consultant_id WITH =, blocked WITH &&) for live bookings; GiST needs btree_gist
for the uuid equality (a trusted extension: the database owner may create it). Webinar seats are
a counter that a CHECK bounds by the capacity.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision: str = '0400'
down_revision: str | None = '0600'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_TABLES = ["consultants", "availability_overrides", "offerings", "webinar_sessions", "bookings"]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('consultants',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('headline', sa.String(length=300), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('weekly_hours', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('calendar_feed_version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consultants_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consultants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultants')),
    sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_consultants_tenant_id_slug')),
    sa.UniqueConstraint('user_id', name=op.f('uq_consultants_user_id'))
    )
    op.create_index(op.f('ix_consultants_tenant_id'), 'consultants', ['tenant_id'], unique=False)
    op.create_table('availability_overrides',
    sa.Column('consultant_id', sa.Uuid(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('windows', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['consultant_id'], ['consultants.id'], name=op.f('fk_availability_overrides_consultant_id_consultants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_availability_overrides_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_overrides')),
    sa.UniqueConstraint('consultant_id', 'on_date', name=op.f('uq_availability_overrides_consultant_id_on_date'))
    )
    op.create_index(op.f('ix_availability_overrides_consultant_id'), 'availability_overrides', ['consultant_id'], unique=False)
    op.create_index(op.f('ix_availability_overrides_tenant_id'), 'availability_overrides', ['tenant_id'], unique=False)
    op.create_table('offerings',
    sa.Column('consultant_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('one_to_one', 'webinar', name='offering_kind'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('buffer_before_minutes', sa.Integer(), nullable=False),
    sa.Column('buffer_after_minutes', sa.Integer(), nullable=False),
    sa.Column('slot_interval_minutes', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('max_per_day', sa.Integer(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('meeting_provider', sa.String(length=32), nullable=False),
    sa.Column('intake_form', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('cancellation_policy', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reschedule_policy', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reminder_offsets_minutes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('hold_minutes', sa.Integer(), nullable=False),
    sa.Column('completion_grace_hours', sa.Integer(), nullable=False),
    sa.Column('follow_up_days', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("kind <> 'webinar' OR capacity > 0", name=op.f('ck_offerings_webinar_has_capacity')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_offerings_positive_duration')),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_offerings_price_not_negative')),
    sa.ForeignKeyConstraint(['consultant_id'], ['consultants.id'], name=op.f('fk_offerings_consultant_id_consultants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_offerings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offerings'))
    )
    op.create_index(op.f('ix_offerings_consultant_id'), 'offerings', ['consultant_id'], unique=False)
    op.create_index(op.f('ix_offerings_tenant_id'), 'offerings', ['tenant_id'], unique=False)
    op.create_table('webinar_sessions',
    sa.Column('offering_id', sa.Uuid(), nullable=False),
    sa.Column('consultant_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked', postgresql.TSTZRANGE(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='webinar_status'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    postgresql.ExcludeConstraint((sa.column('consultant_id'), '='), (sa.column('blocked'), '&&'), where=sa.text("status = 'scheduled'"), using='gist', name='ex_webinar_sessions_no_overlap'),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_webinar_sessions_ends_after_start')),
    sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= capacity', name=op.f('ck_webinar_sessions_seats_within_capacity')),
    sa.ForeignKeyConstraint(['consultant_id'], ['consultants.id'], name=op.f('fk_webinar_sessions_consultant_id_consultants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_webinar_sessions_offering_id_offerings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_webinar_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webinar_sessions'))
    )
    op.create_index(op.f('ix_webinar_sessions_consultant_id'), 'webinar_sessions', ['consultant_id'], unique=False)
    op.create_index(op.f('ix_webinar_sessions_offering_id'), 'webinar_sessions', ['offering_id'], unique=False)
    op.create_index(op.f('ix_webinar_sessions_tenant_id'), 'webinar_sessions', ['tenant_id'], unique=False)
    op.create_table('bookings',
    sa.Column('offering_id', sa.Uuid(), nullable=False),
    sa.Column('consultant_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('webinar_session_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('held', 'confirmed', 'completed', 'cancelled', 'no_show', 'abandoned', name='booking_status'), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked', postgresql.TSTZRANGE(), nullable=True),
    sa.Column('client_timezone', sa.String(length=64), nullable=False),
    sa.Column('intake', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amount_paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('payment_method', sa.String(length=40), nullable=True),
    sa.Column('payment_reference', sa.String(length=200), nullable=True),
    sa.Column('cancellation_policy', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reschedule_policy', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('meeting_provider', sa.String(length=32), nullable=False),
    sa.Column('meeting_url', sa.String(length=500), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('reschedule_count', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=20), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('refund_percent', sa.Integer(), nullable=True),
    sa.Column('refund_due_minor', sa.BigInteger(), nullable=False),
    sa.Column('refund_status', sa.Enum('none', 'due', 'refunded', name='refund_status'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('no_show_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_by', sa.Uuid(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('private_notes_encrypted', sa.Text(), nullable=True),
    sa.Column('feedback_rating', sa.Integer(), nullable=True),
    sa.Column('feedback_comment', sa.Text(), nullable=True),
    sa.Column('workflow_id', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    postgresql.ExcludeConstraint((sa.column('consultant_id'), '='), (sa.column('blocked'), '&&'), where=sa.text("status IN ('held', 'confirmed') AND blocked IS NOT NULL"), using='gist', name='ex_bookings_no_overlap'),
    sa.CheckConstraint('(webinar_session_id IS NULL) <> (blocked IS NULL)', name=op.f('ck_bookings_session_or_seat')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bookings_ends_after_start')),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_bookings_client_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultant_id'], ['consultants.id'], name=op.f('fk_bookings_consultant_id_consultants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_bookings_offering_id_offerings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outcome_by'], ['users.id'], name=op.f('fk_bookings_outcome_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_bookings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webinar_session_id'], ['webinar_sessions.id'], name=op.f('fk_bookings_webinar_session_id_webinar_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('workflow_id', name=op.f('uq_bookings_workflow_id'))
    )
    op.create_index(op.f('ix_bookings_client_id'), 'bookings', ['client_id'], unique=False)
    op.create_index('ix_bookings_consultant_starts', 'bookings', ['consultant_id', 'starts_at'], unique=False)
    op.create_index(op.f('ix_bookings_offering_id'), 'bookings', ['offering_id'], unique=False)
    op.create_index(op.f('ix_bookings_status'), 'bookings', ['status'], unique=False)
    op.create_index(op.f('ix_bookings_tenant_id'), 'bookings', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_bookings_webinar_session_id'), 'bookings', ['webinar_session_id'], unique=False)

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_index(op.f('ix_bookings_webinar_session_id'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_tenant_id'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_status'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_offering_id'), table_name='bookings')
    op.drop_index('ix_bookings_consultant_starts', table_name='bookings')
    op.drop_index(op.f('ix_bookings_client_id'), table_name='bookings')
    op.drop_table('bookings')
    op.drop_index(op.f('ix_webinar_sessions_tenant_id'), table_name='webinar_sessions')
    op.drop_index(op.f('ix_webinar_sessions_offering_id'), table_name='webinar_sessions')
    op.drop_index(op.f('ix_webinar_sessions_consultant_id'), table_name='webinar_sessions')
    op.drop_table('webinar_sessions')
    op.drop_index(op.f('ix_offerings_tenant_id'), table_name='offerings')
    op.drop_index(op.f('ix_offerings_consultant_id'), table_name='offerings')
    op.drop_table('offerings')
    op.drop_index(op.f('ix_availability_overrides_tenant_id'), table_name='availability_overrides')
    op.drop_index(op.f('ix_availability_overrides_consultant_id'), table_name='availability_overrides')
    op.drop_table('availability_overrides')
    op.drop_index(op.f('ix_consultants_tenant_id'), table_name='consultants')
    op.drop_table('consultants')
    for enum_name in ("booking_status", "refund_status", "webinar_status", "offering_kind"):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
    # btree_gist stays: other schemas may use it, and it holds no data
