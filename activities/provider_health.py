"""When a provider account keeps failing: stop hammering it, keep the messages, tell the owner once.

Each account is a circuit: a consultancy's own SendGrid or Twilio account is keyed by its tenant
(so one consultancy's bad keys never slow another's messages, nor the platform's), the
platform's accounts by provider alone. After `THRESHOLD` failures in a row (timeouts, refused
connections, 5xx, 429, or a refused key) the circuit opens for a cool-off that doubles up to
`MAX_COOL_OFF`: attempts in that window fail at once (a retryable error naming the last reason)
instead of holding a worker slot for the provider's timeout. The first success closes it.

A consultancy's own key refused (HTTP 401/403) is not the message's fault: the message is kept
and retried (`AUTH_RETRY`) so it leaves once the owner fixes the key, within the day every
message is given. The owner is told once, in-app, per version of their notification settings
(`provider_failing`); the delivery log keeps the provider's own words on every row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

THRESHOLD = 3
COOL_OFF = 30.0       # seconds, first opening
MAX_COOL_OFF = 600.0  # seconds: as long as the outbox's longest pause between retries
AUTH_RETRY = 900.0    # seconds: a refused key is retried this much later (the owner has to act)
AUTH_STATUSES = frozenset({401, 403})

CircuitKey = tuple[str, str, str]


def circuit_key(tenant_id: object, provider: str, account: str) -> CircuitKey:
    """The consultancy's own account is theirs alone; the platform's is shared."""
    return (str(tenant_id) if account == "tenant" else "platform", provider, account)


@dataclass
class _Circuit:
    failures: int = 0
    open_until: float = 0.0
    reason: str = ""


class ProviderHealth:
    """Per-process circuits (each worker learns on its own; the delivery log is the shared record)."""

    def __init__(self, *, threshold: int = THRESHOLD, cool_off: float = COOL_OFF,
                 max_cool_off: float = MAX_COOL_OFF) -> None:
        self.threshold, self.cool_off, self.max_cool_off = threshold, cool_off, max_cool_off
        self._circuits: dict[CircuitKey, _Circuit] = {}

    def open_for(self, key: CircuitKey) -> tuple[float, str] | None:
        """(seconds left, last reason) while the circuit is open; None when a call may go."""
        circuit = self._circuits.get(key)
        if circuit is None:
            return None
        left = circuit.open_until - time.monotonic()
        return (left, circuit.reason) if left > 0 else None

    def failed(self, key: CircuitKey, reason: str) -> int:
        """Count a failure; returns the failures in a row."""
        circuit = self._circuits.setdefault(key, _Circuit())
        circuit.failures += 1
        circuit.reason = reason
        if circuit.failures >= self.threshold:
            extra = circuit.failures - self.threshold
            circuit.open_until = time.monotonic() + min(self.cool_off * 2 ** min(extra, 10), self.max_cool_off)
        return circuit.failures

    def succeeded(self, key: CircuitKey) -> None:
        self._circuits.pop(key, None)
