"""idempotency_records: answers are stored encrypted and forgotten after a day

The stored answer of a POST may carry tokens (sign-up, login, TOTP enrolment). From this
revision the middleware encrypts it with ENCRYPTION_KEYS; the plaintext rows written before are
deleted (they only protected retries, for a day), and an index on created_at serves the hourly
Housekeeping purge.

Revision ID: 0900
Revises: 0800
Create Date: 2026-11-22 05:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0900'
down_revision: str | None = '0800'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_records")
    op.create_index('ix_idempotency_records_created_at', 'idempotency_records', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_idempotency_records_created_at', table_name='idempotency_records')
