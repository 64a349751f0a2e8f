"""Index only the Razorpay events still to act on: `(received_at) WHERE processed_at IS NULL`, in
place of the index on `processed_at`.

Most events are stored settled by their insert (an event we never act on, a payment of an order
no tenant has: api/services/payment_events.py). The index on `processed_at` took an entry for each
of them and grew with every event ever received, while its one reader, the worker's relay, asks
only for unprocessed events, oldest first. The partial index holds only those, in the relay's
order, and a settled insert writes one index entry fewer (docs/performance.md, fourteenth pass).

Revision ID: 3100
Revises: 3000
Create Date: 2026-12-07 22:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3100"
down_revision: str | None = "3000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_gateway_webhook_events_unprocessed", "gateway_webhook_events", ["received_at"],
                    postgresql_where=sa.text("processed_at IS NULL"))
    op.drop_index("ix_gateway_webhook_events_processed_at", table_name="gateway_webhook_events")


def downgrade() -> None:
    op.create_index("ix_gateway_webhook_events_processed_at", "gateway_webhook_events", ["processed_at"])
    op.drop_index("ix_gateway_webhook_events_unprocessed", table_name="gateway_webhook_events")
