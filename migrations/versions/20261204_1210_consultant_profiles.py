"""consultants: photo (a stored image), languages, specialities, experience, social links

Revision ID: 1210
Revises: 1200
Create Date: 2026-12-04 12:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '1210'
down_revision: str | None = '1200'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('consultants', sa.Column('photo_file_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_consultants_photo_file_id_stored_files'), 'consultants', 'stored_files',
                          ['photo_file_id'], ['id'], ondelete='SET NULL')
    for name in ('languages', 'specialities', 'social_links'):
        op.add_column('consultants', sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                                               server_default=sa.text("'[]'::jsonb")))
    op.add_column('consultants', sa.Column('experience_years', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('consultants', 'experience_years')
    for name in ('social_links', 'specialities', 'languages'):
        op.drop_column('consultants', name)
    op.drop_constraint(op.f('fk_consultants_photo_file_id_stored_files'), 'consultants', type_='foreignkey')
    op.drop_column('consultants', 'photo_file_id')
