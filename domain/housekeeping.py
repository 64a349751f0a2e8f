"""Housekeeping: what the platform forgets, and when.

An Idempotency-Key protects a retry for a day (as Stripe's do); after that the stored answer is
deleted, so the table does not grow without end and the answers it holds (encrypted: they may
carry tokens) are kept no longer than a retry needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

IDEMPOTENCY_KEEP: Final = timedelta(hours=24)
HOUSEKEEPING_SCHEDULE_ID: Final = "housekeeping"
HOUSEKEEPING_EVERY: Final = timedelta(hours=1)
PURGE_IDEMPOTENCY: Final = "housekeeping.purge_idempotency_records"


@dataclass
class HousekeepingInput:
    idempotency_keep_seconds: int = int(IDEMPOTENCY_KEEP.total_seconds())


@dataclass
class HousekeepingResult:
    idempotency_records_purged: int = 0
