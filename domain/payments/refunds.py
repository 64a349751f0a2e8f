"""How much goes back, and where: refund splits and the cancellation policy's amount."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.payments.money import ratio


class RefundDestination(enum.StrEnum):
    ORIGINAL = "original"   # back the way it came: the card/UPI part to the gateway, the wallet part to the wallet
    WALLET = "wallet"       # everything as store credit


def split_refund(
    amount: int, destination: RefundDestination, *, gateway_refundable: int, wallet_refundable: int
) -> tuple[int, int]:
    """(to the gateway, to the wallet) for a refund of `amount`.

    Back to the original method refunds the online payment first, then what the wallet paid;
    to the wallet, everything becomes store credit. Raises ValueError if it is too much.
    """
    if amount <= 0:
        raise ValueError("a refund must be a positive amount")
    if amount > gateway_refundable + wallet_refundable:
        raise ValueError(f"at most {gateway_refundable + wallet_refundable} can still be refunded")
    if destination == RefundDestination.WALLET:
        return 0, amount
    to_gateway = min(amount, gateway_refundable)
    return to_gateway, amount - to_gateway


@dataclass(frozen=True)
class CancellationTier:
    """Cancelling at least `hours_before` the start refunds `percent` of what was paid."""

    hours_before: int
    percent: int


# The default policy: 48 h or more before: everything; 24 h: half; later: nothing.
DEFAULT_CANCELLATION_POLICY: tuple[CancellationTier, ...] = (
    CancellationTier(48, 100), CancellationTier(24, 50), CancellationTier(0, 0),
)


def refund_due_on_cancellation(
    paid: int, starts_at: datetime, cancelled_at: datetime,
    policy: tuple[CancellationTier, ...] = DEFAULT_CANCELLATION_POLICY, *, by_consultant: bool = False,
) -> int:
    """What a cancelled consultation refunds. A consultant's cancellation refunds everything.

    The bookings capability owns the policy a tenant sets; it passes the amount this returns
    (or its own) to the Order workflow's refund request with kind `cancellation_policy`.
    """
    if by_consultant:
        return paid
    notice = starts_at - cancelled_at
    for tier in sorted(policy, key=lambda t: -t.hours_before):
        if notice >= timedelta(hours=tier.hours_before):
            return ratio(paid, tier.percent, 100)
    return 0
