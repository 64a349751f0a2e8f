"""Calls to third parties (SendGrid, Twilio, Razorpay, and the local stand-ins): a CLIENT span each,
and sends / failures by reason / latency per provider and channel.

Reasons are a fixed vocabulary (`timeout`, `network`, `rate_limited`, `server_error`, `rejected`,
...) so that a provider's own error codes cannot grow the series without bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from core.observability.metrics import PROVIDER_FAILURES, PROVIDER_LATENCY, PROVIDER_SENDS
from core.observability.tracing import TRACER_NAME

KNOWN_REASONS = frozenset({"cancelled", "timeout", "network", "rate_limited", "in_flight", "not_configured",
                           "no_sender", "server_error", "rejected", "unavailable"})

# a proxy until the process installs its provider, then that provider's tracer (one lookup, not one per call)
_TRACER = trace.get_tracer(TRACER_NAME)


def failure_reason(exc: BaseException) -> str:
    """A bounded word for why a provider call failed (its `code` when it is one of ours)."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    code = str(getattr(exc, "code", "") or "")
    if code in KNOWN_REASONS:
        return code
    if code == "429":
        return "rate_limited"
    if code.isdigit() and len(code) == 3:
        return "server_error" if code.startswith("5") else "rejected"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, (ConnectionError, OSError)):
        return "network"
    transient = type(exc).__name__.startswith("Transient") or type(exc).__name__ == "GatewayUnavailable"
    return "unavailable" if transient else "rejected"


@contextmanager
def provider_call(provider: str, channel: str, operation: str = "send", *, messages: int = 1) -> Iterator[Span]:
    """Time one provider call; an exception leaving the block counts as a failure (and is re-raised).
    `messages`: how many messages the call carries (a batch handed to a stored channel)."""
    span = _TRACER.start_span(
        f"{provider} {operation}", kind=SpanKind.CLIENT,
        attributes={"muhurta.provider": provider, "muhurta.channel": channel, "muhurta.operation": operation})
    started = time.perf_counter()
    try:
        with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
            yield span
    except BaseException as exc:
        reason = failure_reason(exc)
        if messages == 1:   # a failed batch is retried message by message, and counted then
            PROVIDER_SENDS.labels(provider, channel, "failed").inc()
        PROVIDER_FAILURES.labels(provider, channel, reason).inc()
        span.set_status(Status(StatusCode.ERROR, reason))
        span.set_attribute("error.type", reason)
        raise
    else:
        PROVIDER_SENDS.labels(provider, channel, "sent").inc(messages)
    finally:
        PROVIDER_LATENCY.labels(provider, channel).observe(time.perf_counter() - started)
        span.end()
