"""refunds: held while Razorpay refuses the consultancy's keys (since when, and why)

Revision ID: 2700
Revises: 2500
Create Date: 2026-12-06 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2700"
down_revision: str | None = "2500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("refunds", sa.Column("held_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("refunds", sa.Column("held_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("refunds", "held_reason")
    op.drop_column("refunds", "held_since")
