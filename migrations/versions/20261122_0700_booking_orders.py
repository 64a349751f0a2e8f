"""bookings.order_id: the order a paid booking is paid through

A paid booking creates its order in the same transaction; the booking keeps the link so that
the API shows it (`order_id`) and the Consultation workflow can ask that order for a refund.
The reverse link is the order line (kind consultation, ref_id = booking id).

Revision ID: 0700
Revises: 0200
Create Date: 2026-11-23 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0700'
down_revision: str | None = '0200'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('bookings', sa.Column('order_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_bookings_order_id_orders'), 'bookings', 'orders', ['order_id'], ['id'],
                          ondelete='SET NULL')
    op.create_unique_constraint(op.f('uq_bookings_order_id'), 'bookings', ['order_id'])


def downgrade() -> None:
    op.drop_constraint(op.f('uq_bookings_order_id'), 'bookings', type_='unique')
    op.drop_constraint(op.f('fk_bookings_order_id_orders'), 'bookings', type_='foreignkey')
    op.drop_column('bookings', 'order_id')
