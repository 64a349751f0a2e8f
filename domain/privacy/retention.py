"""Retention: what the product forgets once it is no longer needed, and what it never sweeps.

A Temporal Schedule (`privacy-retention`, created when a worker starts: workers/schedules.py)
runs the `RetentionSweep` workflow once a day. The sweep removes, in bounded batches (one short
transaction per batch, so it never holds locks for long and a retry redoes one batch at most):

- notification deliveries, outbox and in-app messages older than `RETENTION_MESSAGES_DAYS` (365);
- Idempotency-Key answers older than their TTL (`domain.housekeeping.IDEMPOTENCY_KEEP`, a day);
- files made for one occasion (`SWEPT_FILE_PURPOSES`) that no row references, older than
  `RETENTION_FILES_DAYS` (1095): the storage object first, then the row;
- export archives past their link's expiry that their workflow did not delete (it was stopped);
- sign-in sessions, one-time tokens and invitations not accepted, expired (revoked, used) longer
  ago than `RETENTION_ACCESS_GRACE_DAYS` (30);
- abandoned checkouts: orders never paid (expired or cancelled, nothing paid, no payment, invoice
  or refund recorded, any store credit given back), closed longer ago than
  `RETENTION_CHECKOUT_DAYS` (90), with their lines and coupon uses;
- public page and slot view counters (`analytics_view_buckets`) older than
  `RETENTION_ANALYTICS_VIEWS_DAYS` (400): the daily roll-ups keep their counts.

A period of 0 days turns that sweep off. Never swept, whatever the settings: orders that were
paid (or have any payment record), their lines, invoices, payments and refunds (GST law keeps tax
invoices and payment records for `GST_RETENTION_YEARS`; they are kept for the life of the
consultancy's account, and an erasure strips them of the client's name instead), wallet entries,
audit events and consents (the evidence of what a client agreed to).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, Field

RETENTION_SWEEP_WORKFLOW: Final = "RetentionSweep"
RETENTION_SCHEDULE_ID: Final = "privacy-retention"
RETENTION_HOUR_UTC: Final = 21    # 21:30 UTC is 03:00 in India: the quietest hour
RETENTION_MINUTE_UTC: Final = 30
SWEEP_BATCH: Final = "privacy.retention_sweep_batch"

GST_RETENTION_YEARS: Final = 8  # CGST Act s. 36 / Rule 56: 72 months after the annual return's due date
NEVER_SWEPT: Final = frozenset({"orders", "order_lines", "invoices", "payments", "refunds", "wallet_accounts",
                                "wallet_entries", "audit_events", "consents", "privacy_requests"})
# Files made for one occasion; anything else (reports, course media, certificates, photos) lives
# as long as what it belongs to, and a file some row still references is never swept.
SWEPT_FILE_PURPOSES: Final = ("upload", "booking_confirmation")
DEFAULT_BATCH: Final = 500
MAX_BATCHES_PER_KIND: Final = 200  # a backlog larger than this waits for tomorrow's run


class SweepKind(enum.StrEnum):
    NOTIFICATION_DELIVERIES = "notification_deliveries"
    OUTBOX_MESSAGES = "outbox_messages"
    IN_APP_NOTIFICATIONS = "in_app_notifications"
    IDEMPOTENCY_RECORDS = "idempotency_records"
    FILES = "stored_files"
    EXPORT_ARCHIVES = "export_archives"
    AUTH_SESSIONS = "auth_sessions"
    ONE_TIME_TOKENS = "one_time_tokens"
    INVITATIONS = "invitations"
    UNPAID_ORDERS = "unpaid_orders"
    VIEW_BUCKETS = "analytics_view_buckets"


class RetentionInput(BaseModel):
    batch_size: int = Field(DEFAULT_BATCH, ge=1, le=10_000)
    max_batches_per_kind: int = Field(MAX_BATCHES_PER_KIND, ge=1)


class SweepBatch(BaseModel):
    kind: SweepKind
    limit: int
    at: datetime = Field(description="the run's instant: every batch of a run uses the same cutoffs")


class RetentionResult(BaseModel):
    removed: dict[str, int] = Field(default_factory=dict, description="rows removed per kind")
    unfinished: list[str] = Field(default_factory=list, description="kinds with more left for the next run")


def days(value: int) -> timedelta | None:
    """A retention period from a setting: 0 (or less) means keep forever."""
    return timedelta(days=value) if value > 0 else None
