"""astrology: birth profiles, interpretive texts, suggestion rules

Revision ID: 0300
Revises: 0001
Create Date: 2026-11-22 01:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision: str = '0300'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ["birth_profiles", "interpretive_texts", "suggestion_rules"]


def upgrade() -> None:
    op.create_table('birth_profiles',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('birth_input', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('chart_settings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('resolved', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('time_known', sa.Boolean(), nullable=False),
    sa.Column('birth_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place_label', sa.String(length=300), nullable=True),
    sa.Column('utc_offset', sa.String(length=16), nullable=False),
    sa.Column('offset_source', sa.String(length=20), nullable=False),
    sa.Column('lagna_sign', sa.String(length=20), nullable=True),
    sa.Column('moon_sign', sa.String(length=20), nullable=False),
    sa.Column('moon_longitude', sa.Float(), nullable=False),
    sa.Column('nakshatra', sa.String(length=30), nullable=False),
    sa.Column('nakshatra_pada', sa.Integer(), nullable=False),
    sa.Column('mahadasha_lord', sa.String(length=10), nullable=True),
    sa.Column('mahadasha_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('antardasha_lord', sa.String(length=10), nullable=True),
    sa.Column('antardasha_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warnings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('summary_computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_birth_profiles_client_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_birth_profiles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_birth_profiles'))
    )
    op.create_index('ix_birth_profiles_client_created', 'birth_profiles', ['client_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_birth_profiles_tenant_id'), 'birth_profiles', ['tenant_id'], unique=False)
    op.create_table('interpretive_texts',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_interpretive_texts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interpretive_texts')),
    sa.UniqueConstraint('tenant_id', 'key', 'locale', name=op.f('uq_interpretive_texts_tenant_id_key_locale'))
    )
    op.create_index(op.f('ix_interpretive_texts_tenant_id'), 'interpretive_texts', ['tenant_id'], unique=False)
    op.create_table('suggestion_rules',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('condition', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('offering_key', sa.String(length=100), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('skip_if_ordered', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_rules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_rules'))
    )
    op.create_index(op.f('ix_suggestion_rules_tenant_id'), 'suggestion_rules', ['tenant_id'], unique=False)

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_index(op.f('ix_suggestion_rules_tenant_id'), table_name='suggestion_rules')
    op.drop_table('suggestion_rules')
    op.drop_index(op.f('ix_interpretive_texts_tenant_id'), table_name='interpretive_texts')
    op.drop_table('interpretive_texts')
    op.drop_index(op.f('ix_birth_profiles_tenant_id'), table_name='birth_profiles')
    op.drop_index('ix_birth_profiles_client_created', table_name='birth_profiles')
    op.drop_table('birth_profiles')
