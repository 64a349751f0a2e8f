"""Quotation rules: pricing like an order (discount shared, GST after it), bad figures refused, reminders planned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.payments.pricing import GstMode, PriceRefused, price_order
from domain.quotations import (
    DiscountKind,
    QuoteLine,
    QuoteLineKind,
    check_reminder_days,
    planned_reminders,
    price_quotation,
    quotation_discount,
    quote_number,
)

LINES = [QuoteLine(QuoteLineKind.OFFERING, "Monthly guidance call", 300_000, 12),
         QuoteLine(QuoteLineKind.CUSTOM, "Vastu site visit", 1_500_000)]


def test_the_price_is_the_orders_price_with_the_discount_shared_and_gst_after_it() -> None:
    price = price_quotation(LINES, currency="INR", discount_kind=DiscountKind.PERCENT, discount_value=1000,
                            gst_mode=GstMode.EXCLUSIVE, gst_rate_bp=1800)
    assert price.subtotal == 5_100_000
    assert price.discount == 510_000
    assert price.tax == 826_200  # 18 % of 4,590,000
    assert price.total == 5_416_200
    assert sum(p.discount for p in price.lines) == price.discount
    again = price_order([line.order_line() for line in LINES], currency="INR", gst_mode=GstMode.EXCLUSIVE,
                        gst_rate_bp=1800, coupon=quotation_discount(DiscountKind.PERCENT, 1000), eligible=5_100_000)
    assert again.total == price.total and [p.total for p in again.lines] == [p.total for p in price.lines]


def test_an_amount_discount_and_no_gst() -> None:
    price = price_quotation(LINES, currency="INR", discount_kind=DiscountKind.AMOUNT, discount_value=100_000,
                            gst_mode=GstMode.NONE, gst_rate_bp=0)
    assert (price.discount, price.tax, price.total) == (100_000, 0, 5_000_000)


@pytest.mark.parametrize(("lines", "kind", "value", "field"), [
    ([], DiscountKind.NONE, 0, "lines"),
    ([QuoteLine(QuoteLineKind.CUSTOM, "x", -5)], DiscountKind.NONE, 0, "lines.0.unit_amount"),
    ([QuoteLine(QuoteLineKind.CUSTOM, "x", 500, 0)], DiscountKind.NONE, 0, "lines.0.quantity"),
    (LINES, DiscountKind.AMOUNT, 9_999_999, "discount_value"),
    (LINES, DiscountKind.PERCENT, 10_001, "discount_value"),
    (LINES, DiscountKind.AMOUNT, -1, "discount_value"),
])
def test_bad_figures_are_refused_naming_the_field(lines, kind, value, field) -> None:
    with pytest.raises(PriceRefused) as refused:
        price_quotation(lines, currency="INR", discount_kind=kind, discount_value=value, gst_mode=GstMode.NONE,
                        gst_rate_bp=0)
    assert refused.value.field == field


def test_reminders_before_expiry_skip_those_before_sending_and_move_with_the_expiry() -> None:
    sent = datetime(2026, 12, 1, 10, tzinfo=UTC)
    expires = sent + timedelta(days=10)
    plan = planned_reminders(expires_at=expires, days_before=[3, 1], sent_at=sent, now=sent, done=set())
    assert [(r.days_before, r.due_at) for r in plan] == [(3, expires - timedelta(days=3)),
                                                         (1, expires - timedelta(days=1))]
    late = planned_reminders(expires_at=sent + timedelta(days=2), days_before=[3, 1], sent_at=sent, now=sent,
                             done=set())
    assert [r.days_before for r in late] == [1]
    done = {plan[0].step}
    assert [r.days_before for r in planned_reminders(expires_at=expires, days_before=[3, 1], sent_at=sent, now=sent,
                                                     done=done)] == [1]
    extended = planned_reminders(expires_at=expires + timedelta(days=7), days_before=[3, 1], sent_at=sent, now=sent,
                                 done=done)
    assert [r.days_before for r in extended] == [3, 1]  # new times: both again


def test_reminder_days_and_numbers() -> None:
    assert check_reminder_days([1, 3, 3]) == [3, 1]
    with pytest.raises(ValueError, match="1 to 60"):
        check_reminder_days([0])
    assert quote_number(7) == "Q-0007"
