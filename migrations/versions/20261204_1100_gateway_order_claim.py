"""orders.gateway_claim: the Razorpay order is asked for without a row lock held across the call

Checkout used to lock the order row (SELECT ... FOR UPDATE) for as long as Razorpay took to
answer. Now the attempt that asks Razorpay claims the order in one short transaction (who and
when) and records the answer in a second; a claim older than its lease, or the same activity's
retry, may be taken over (the gateway order is then found by its receipt, never made twice).

Revision ID: 1100
Revises: 1900
Create Date: 2026-12-05 08:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1100"
down_revision: str | None = "1900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("gateway_claim", sa.String(length=200), nullable=True))
    op.add_column("orders", sa.Column("gateway_claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "gateway_claimed_at")
    op.drop_column("orders", "gateway_claim")
