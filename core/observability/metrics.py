"""Every Prometheus metric the product defines, in one place (prometheus-client's default registry).

Labels are bounded on purpose: route *templates* (never raw paths), status classes, provider and
channel names, fixed reason words. Never a tenant, a person, an address or an id: those belong in
traces and logs, and a label per value would grow the scrape without end.
The Temporal SDK's own metrics (task slots, schedule-to-start, failures) join the same registry
through `core.observability.temporal`.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLOW_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# -- HTTP (API) ---------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "muhurta_http_requests", "API requests answered, by route template and status class (2xx..5xx)",
    ["method", "route", "status_class"])
HTTP_DURATION = Histogram(
    "muhurta_http_request_duration_seconds", "API request latency, first byte in to last byte out",
    ["method", "route"], buckets=LATENCY_BUCKETS)
HTTP_IN_FLIGHT = Gauge("muhurta_http_requests_in_flight", "API requests being served now", multiprocess_mode="livesum")
PROBLEMS = Counter("muhurta_http_problems", "problem+json answers by problem type", ["type"])

# -- database pool --------------------------------------------------------------------------------
DB_POOL_IN_USE = Gauge("muhurta_db_pool_connections_in_use", "connections checked out of the pool", ["pool"],
                       multiprocess_mode="livesum")
DB_POOL_WAITING = Gauge("muhurta_db_pool_waiting", "callers waiting for a pooled connection now", ["pool"],
                       multiprocess_mode="livesum")
DB_POOL_LIMIT = Gauge("muhurta_db_pool_limit", "most connections the pool may open (size + overflow)", ["pool"],
                       multiprocess_mode="livesum")
DB_POOL_WAIT = Histogram("muhurta_db_pool_wait_seconds", "time to get a connection from the pool", ["pool"],
                         buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0))
DB_POOL_TIMEOUTS = Counter("muhurta_db_pool_timeouts", "checkouts that gave up waiting (pool exhausted)", ["pool"])

# -- dependencies ---------------------------------------------------------------------------------
TENANT_LOOKUPS = Counter(
    "muhurta_tenant_lookups", "how API requests found their tenant: kept (the process's copy), read (from the "
    "database), unheard (read: the process is not hearing tenant changes, api/tenant_directory.py)", ["source"])
SLOT_LISTINGS = Counter(
    "muhurta_slot_listings", "public slot listings: kept (shown from the process's copy, no statement) or read "
    "(from the database, api/slot_listings.py)", ["source"])
REDIS_ERRORS = Counter("muhurta_redis_errors", "Redis calls that failed", ["where"])
TEMPORAL_CLIENT_ERRORS = Counter(
    "muhurta_temporal_client_errors", "calls to Temporal (start, signal, update, query) that failed",
    ["where", "code"])

# -- providers (SendGrid, Twilio, the local outbox, in-app; Razorpay) ------------------------------
PROVIDER_SENDS = Counter("muhurta_provider_sends", "messages handed to a provider, by outcome (sent/failed)",
                         ["provider", "channel", "outcome"])
PROVIDER_FAILURES = Counter("muhurta_provider_failures", "provider calls that failed, by reason",
                            ["provider", "channel", "reason"])
PROVIDER_LATENCY = Histogram("muhurta_provider_duration_seconds", "time a provider took to answer",
                             ["provider", "channel"], buckets=SLOW_BUCKETS)

# -- business counters an operator alerts on --------------------------------------------------------
HOLDS_EXPIRED = Counter("muhurta_booking_holds_expired", "held bookings released unpaid", ["reason"])
PAYMENTS_CAPTURED = Counter("muhurta_payments_captured", "captured payments recorded, by what they meant",
                            ["result"])
WEBHOOKS_REJECTED = Counter("muhurta_webhooks_rejected", "incoming webhooks refused (signature, age, account)",
                            ["provider", "reason"])
REMINDERS_SENT = Counter("muhurta_reminders_sent", "reminders sent", ["kind"])
REMINDERS_LATE = Counter("muhurta_reminders_sent_late", "reminders sent more than REMINDER_LATE_AFTER past due",
                         ["kind"])
REMINDER_LATENESS = Histogram("muhurta_reminder_lateness_seconds", "how long after its due time a reminder went",
                              ["kind"], buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600))
REMINDER_LATE_AFTER = 300.0  # seconds: later than this, an operator wants to know


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def error_code(exc: BaseException) -> str:
    """A bounded word for a failed Temporal call: the gRPC status name, else the exception's class."""
    status = getattr(exc, "status", None)
    name = getattr(status, "name", None)
    return str(name).lower() if name else type(exc).__name__


def record_reminder(kind: str, due_at: datetime, sent_at: datetime) -> float:
    """Count a reminder that went out and how late; returns the lateness in seconds. `kind` is the
    programme (`consultation`, `remedy`, `course`...), never who it was for."""
    lateness = max((sent_at - due_at).total_seconds(), 0.0)
    REMINDERS_SENT.labels(kind).inc()
    REMINDER_LATENESS.labels(kind).observe(lateness)
    if lateness > REMINDER_LATE_AFTER:
        REMINDERS_LATE.labels(kind).inc()
    return lateness
