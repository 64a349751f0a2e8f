"""orders.place_of_supply: the buyer's state, for IGST on inter-state sales

GST within a state is CGST + SGST; across states it is IGST at the full rate. The state code
(two digits, as a GSTIN starts) of where the client is supplied; NULL means the consultancy's
own state (intra-state).

Revision ID: 0800
Revises: 0700
Create Date: 2026-11-22 04:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0800'
down_revision: str | None = '0700'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('orders', sa.Column('place_of_supply', sa.String(length=2), nullable=True))


def downgrade() -> None:
    op.drop_column('orders', 'place_of_supply')
