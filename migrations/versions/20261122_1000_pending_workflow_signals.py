"""pending_workflow_signals: signals written with the change they announce, relayed if lost

Revision ID: 1000
Revises: 0900
Create Date: 2026-11-22 06:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision: str = '1000'
down_revision: str | None = '0900'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pending_workflow_signals',
    sa.Column('workflow_id', sa.String(length=200), nullable=False),
    sa.Column('signal', sa.String(length=100), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pending_workflow_signals_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_workflow_signals'))
    )
    op.create_index(op.f('ix_pending_workflow_signals_sent_at'), 'pending_workflow_signals', ['sent_at'], unique=False)
    op.create_index(op.f('ix_pending_workflow_signals_tenant_id'), 'pending_workflow_signals', ['tenant_id'], unique=False)
    enable_tenant_rls('pending_workflow_signals')


def downgrade() -> None:
    disable_tenant_rls('pending_workflow_signals')
    op.drop_index(op.f('ix_pending_workflow_signals_tenant_id'), table_name='pending_workflow_signals')
    op.drop_index(op.f('ix_pending_workflow_signals_sent_at'), table_name='pending_workflow_signals')
    op.drop_table('pending_workflow_signals')
