"""Reading Razorpay webhook events (already verified) into the Order workflow's messages, and
subscription events into the Membership workflow's (domain/memberships.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.memberships import SubscriptionEventKind, SubscriptionReport
from domain.payments.orders import PaymentReport, PaymentSource, RefundReport

PAYMENT_EVENTS = frozenset({"payment.captured", "payment.failed", "payment.authorized", "order.paid"})
REFUND_EVENTS = frozenset({"refund.processed", "refund.failed"})


@dataclass(frozen=True)
class ParsedEvent:
    event: str
    gateway_order_id: str | None = None
    payment: PaymentReport | None = None
    refund: RefundReport | None = None
    refund_id: UUID | None = None
    subscription: SubscriptionReport | None = None   # subscription.* events (memberships)


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    part = payload.get(name)
    entity = part.get("entity") if isinstance(part, dict) else None
    return entity if isinstance(entity, dict) else {}


def parse_event(body: dict[str, Any], event_id: str | None = None) -> ParsedEvent:
    """The messages an event carries; unknown events carry none (they are stored and ignored)."""
    event = str(body.get("event") or "")
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    assert isinstance(payload, dict)
    if event in PAYMENT_EVENTS:
        payment = _entity(payload, "payment")
        order_id = payment.get("order_id") or _entity(payload, "order").get("id")
        status = payment.get("status")
        if not payment.get("id") or not order_id or status not in ("captured", "failed", "authorized"):
            return ParsedEvent(event)
        amount, currency = payment.get("amount"), payment.get("currency")
        return ParsedEvent(event, str(order_id), payment=PaymentReport(
            payment_id=str(payment["id"]), gateway_order_id=str(order_id), status=status,
            amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            currency=currency if isinstance(currency, str) else None,
            method=payment.get("method") if isinstance(payment.get("method"), str) else None,
            error=payment.get("error_description") if isinstance(payment.get("error_description"), str) else None,
            source=PaymentSource.WEBHOOK, event_id=event_id))
    if event in REFUND_EVENTS:
        refund = _entity(payload, "refund")
        notes = refund.get("notes") if isinstance(refund.get("notes"), dict) else {}
        assert isinstance(notes, dict)
        try:
            ours = UUID(str(notes.get("refund_id"))) if notes.get("refund_id") else None
        except ValueError:
            ours = None
        if not refund.get("id"):
            return ParsedEvent(event)
        amount = refund.get("amount")
        return ParsedEvent(event, _entity(payload, "payment").get("order_id"), refund=RefundReport(
            refund_id=ours, gateway_refund_id=str(refund["id"]), payment_id=refund.get("payment_id"),
            status="processed" if event == "refund.processed" else "failed",
            amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            source=PaymentSource.WEBHOOK), refund_id=ours)
    if event in SUBSCRIPTION_EVENTS:
        return _subscription_event(event, payload, event_id)
    return ParsedEvent(event)


SUBSCRIPTION_EVENTS = frozenset(kind.value for kind in SubscriptionEventKind)


def _instant(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _subscription_event(event: str, payload: dict[str, Any], event_id: str | None) -> ParsedEvent:
    subscription, payment = _entity(payload, "subscription"), _entity(payload, "payment")
    if not subscription.get("id"):
        return ParsedEvent(event)
    amount = payment.get("amount")
    charged = event == SubscriptionEventKind.CHARGED and payment.get("id")
    return ParsedEvent(event, subscription=SubscriptionReport(
        kind=SubscriptionEventKind(event), subscription_id=str(subscription["id"])[:40],
        status=str(subscription.get("status") or "")[:20] or None,
        payment_id=str(payment["id"])[:40] if charged else None,
        amount=amount if charged and isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=str(payment.get("currency"))[:3] if charged and payment.get("currency") else None,
        current_start=_instant(subscription.get("current_start")),
        current_end=_instant(subscription.get("current_end")), event_id=event_id))
