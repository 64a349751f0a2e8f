"""payment settings: Razorpay refusing the consultancy's own keys (when, the key id, Razorpay's words)

Revision ID: 2500
Revises: 2300
Create Date: 2026-12-06 01:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2500"
down_revision: str | None = "2300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payment_settings", sa.Column("gateway_refused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("payment_settings", sa.Column("gateway_refused_key_id", sa.String(length=64), nullable=True))
    op.add_column("payment_settings", sa.Column("gateway_refused_reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("payment_settings", "gateway_refused_reason")
    op.drop_column("payment_settings", "gateway_refused_key_id")
    op.drop_column("payment_settings", "gateway_refused_at")
