"""privacy: archive_bytes as bigint (an export with years of files can pass 2 GiB)

Revision ID: 2100
Revises: 1100
Create Date: 2026-12-05 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2100"
down_revision: str | None = "1100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("privacy_requests", "archive_bytes", type_=sa.BigInteger(), existing_type=sa.Integer(),
                    existing_nullable=True)


def downgrade() -> None:
    op.alter_column("privacy_requests", "archive_bytes", type_=sa.Integer(), existing_type=sa.BigInteger(),
                    existing_nullable=True)
