"""Pure payment rules: integer money, prices with coupons and GST, GSTINs, refund splits and the
cancellation policy, order transitions, webhook parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.payments.gstin import check_character, gstin_problem
from domain.payments.money import allocate, format_amount, ratio
from domain.payments.orders import TRANSITIONS, OrderStatus, can_move
from domain.payments.pricing import (
    CouponKind,
    CouponRefused,
    CouponRules,
    GstMode,
    LineIn,
    LineKind,
    PriceRefused,
    check_coupon,
    line_tax,
    price_order,
)
from domain.payments.refunds import RefundDestination, refund_due_on_cancellation, split_refund
from domain.payments.webhooks import parse_event

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def line(amount: int, kind: LineKind = LineKind.PRODUCT, quantity: int = 1, offering: str | None = None) -> LineIn:
    return LineIn(kind=kind, description="x", unit_amount=amount, quantity=quantity, offering_id=offering)


# -- money -------------------------------------------------------------------------------------
def test_ratio_rounds_half_up():
    assert ratio(5, 1, 2) == 3 and ratio(4, 1, 2) == 2 and ratio(118_000, 1800, 11_800) == 18_000


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_allocate_adds_up_exactly(total, weights):
    if sum(weights) == 0:
        return
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert all(s == 0 for s, w in zip(shares, weights, strict=True) if w == 0)
    whole = sum(weights)
    assert all(abs(s - total * w / whole) < 1 for s, w in zip(shares, weights, strict=True))


def test_amounts_read_as_people_write_them():
    assert format_amount(123_456_789, "INR") == "₹12,34,567.89"
    assert format_amount(99, "INR") == "₹0.99"
    assert format_amount(150_000, "USD") == "USD 1,500.00"


# -- GST -----------------------------------------------------------------------------------------
def test_inclusive_gst_is_carved_out_exclusive_is_added():
    assert line_tax(118_000, GstMode.INCLUSIVE, 1800) == (100_000, 18_000, 118_000)
    assert line_tax(100_000, GstMode.EXCLUSIVE, 1800) == (100_000, 18_000, 118_000)
    assert line_tax(100_000, GstMode.NONE, 1800) == (100_000, 0, 100_000)


@given(st.lists(st.integers(100, 10**7), min_size=1, max_size=8), st.sampled_from(list(GstMode)),
       st.sampled_from([0, 500, 1200, 1800, 2800]), st.integers(0, 5000))
def test_an_invoice_adds_up(amounts, mode, rate, percent_off):
    coupon = CouponRules(code="P", kind=CouponKind.PERCENT, currency="INR", percent_bp=percent_off)
    lines = [line(a) for a in amounts]
    try:
        price = price_order(lines, currency="INR", gst_mode=mode, gst_rate_bp=rate, coupon=coupon)
    except PriceRefused:
        return  # a total below what a gateway can take
    assert price.total == price.taxable + price.tax == sum(p.total for p in price.lines)
    assert price.discount == sum(p.discount for p in price.lines)
    assert price.subtotal - price.discount == (price.total if mode != GstMode.EXCLUSIVE else price.taxable)
    assert all(p.tax >= 0 and p.taxable >= 0 for p in price.lines)


# -- coupons ---------------------------------------------------------------------------------------
def test_coupon_rules():
    coupon = CouponRules(code="C", kind=CouponKind.FIXED, currency="INR", amount_off=10_000, min_order_amount=20_000,
                         valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=1), max_uses=3,
                         max_uses_per_client=1, offering_kinds=("report",))
    lines = [line(30_000, LineKind.REPORT), line(50_000)]
    assert check_coupon(coupon, lines, "INR", NOW, uses=0, client_uses=0) == 30_000
    refusals = {
        "valid from": dict(now=NOW - timedelta(days=2)), "expired": dict(now=NOW + timedelta(days=2)),
        "as often as it may be": dict(uses=3), "already used": dict(client_uses=1),
        "is in INR": dict(currency="USD"),
    }
    for words, change in refusals.items():
        args = {"now": NOW, "uses": 0, "client_uses": 0, "currency": "INR", **change}
        with pytest.raises(CouponRefused, match=words):
            check_coupon(coupon, lines, args["currency"], args["now"], uses=args["uses"],
                         client_uses=args["client_uses"])
    with pytest.raises(CouponRefused, match="does not apply"):
        check_coupon(coupon, [line(50_000)], "INR", NOW, uses=0, client_uses=0)
    with pytest.raises(CouponRefused, match="at least"):
        check_coupon(coupon, [line(10_000, LineKind.REPORT)], "INR", NOW, uses=0, client_uses=0)


def test_a_restricted_coupon_discounts_only_its_lines_and_is_capped():
    coupon = CouponRules(code="R", kind=CouponKind.PERCENT, currency="INR", percent_bp=5000, max_discount=12_000,
                         offering_ids=("kundli",))
    lines = [line(30_000, offering="kundli"), line(50_000, offering="other")]
    price = price_order(lines, currency="INR", gst_mode=GstMode.NONE, gst_rate_bp=0, coupon=coupon)
    assert [p.discount for p in price.lines] == [12_000, 0] and price.total == 68_000


def test_a_fixed_coupon_never_makes_a_line_negative():
    coupon = CouponRules(code="F", kind=CouponKind.FIXED, currency="INR", amount_off=1_000_000)
    price = price_order([line(30_000), line(20_000)], currency="INR", gst_mode=GstMode.NONE, gst_rate_bp=0,
                        coupon=coupon, wallet_available=0)
    assert price.discount == 50_000 and price.total == 0 and price.amount_due == 0


# -- the wallet in a price ---------------------------------------------------------------------------
def test_the_wallet_never_leaves_less_than_the_gateway_can_take():
    lines = [line(10_050)]
    full = price_order(lines, currency="INR", gst_mode=GstMode.NONE, gst_rate_bp=0, wallet_available=20_000)
    assert (full.wallet_applied, full.amount_due) == (10_050, 0)
    partial = price_order(lines, currency="INR", gst_mode=GstMode.NONE, gst_rate_bp=0, wallet_available=10_000)
    assert (partial.wallet_applied, partial.amount_due) == (9_950, 100) and partial.notes
    capped = price_order(lines, currency="INR", gst_mode=GstMode.NONE, gst_rate_bp=0, wallet_available=20_000,
                         wallet_requested=5_000)
    assert (capped.wallet_applied, capped.amount_due) == (5_000, 5_050)
    with pytest.raises(PriceRefused):
        price_order([line(50)], currency="INR", gst_mode=GstMode.NONE, gst_rate_bp=0)


# -- GSTIN -----------------------------------------------------------------------------------------
def test_gstin_check_character():
    assert gstin_problem("27AAPFU0939F1ZV") is None
    assert check_character("27AAPFU0939F1Z") == "V"
    assert "typo" in (gstin_problem("27AAPFU0939F1ZW") or "")
    assert "15 characters" in (gstin_problem("27AAPFU0939F1Z") or "")
    assert "state code" in (gstin_problem("99AAPFU0939F1ZV") or "")


# -- refunds ---------------------------------------------------------------------------------------
def test_refund_splits():
    assert split_refund(50_000, RefundDestination.ORIGINAL, gateway_refundable=100_000, wallet_refundable=20_000) \
        == (50_000, 0)
    assert split_refund(110_000, RefundDestination.ORIGINAL, gateway_refundable=100_000, wallet_refundable=20_000) \
        == (100_000, 10_000)
    assert split_refund(110_000, RefundDestination.WALLET, gateway_refundable=100_000, wallet_refundable=20_000) \
        == (0, 110_000)
    with pytest.raises(ValueError, match="at most 120000"):
        split_refund(120_001, RefundDestination.ORIGINAL, gateway_refundable=100_000, wallet_refundable=20_000)


def test_cancellation_policy():
    start = NOW + timedelta(days=5)
    assert refund_due_on_cancellation(180_000, start, start - timedelta(hours=72)) == 180_000
    assert refund_due_on_cancellation(180_000, start, start - timedelta(hours=30)) == 90_000
    assert refund_due_on_cancellation(180_000, start, start - timedelta(hours=2)) == 0
    assert refund_due_on_cancellation(180_000, start, start - timedelta(hours=2), by_consultant=True) == 180_000


# -- orders ----------------------------------------------------------------------------------------
def test_a_paid_order_never_goes_back():
    paid_like = {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.AWAITING_FULFILMENT,
                 OrderStatus.FULFILMENT_FAILED, OrderStatus.NEEDS_REVIEW, OrderStatus.REFUNDED}
    for status in paid_like:
        assert not can_move(status, OrderStatus.PENDING_PAYMENT)
        assert not can_move(status, OrderStatus.EXPIRED)
        assert not can_move(status, OrderStatus.CANCELLED)
    assert not can_move(OrderStatus.NEEDS_REVIEW, OrderStatus.FULFILLED)  # flagged money is never fulfilled
    assert set(TRANSITIONS) == set(OrderStatus)


# -- webhooks --------------------------------------------------------------------------------------
def test_webhook_events_become_messages():
    captured = {"event": "payment.captured", "payload": {"payment": {"entity": {
        "id": "pay_X", "order_id": "order_Y", "status": "captured", "amount": 50_000, "currency": "INR"}}}}
    parsed = parse_event(json.loads(json.dumps(captured)), "evt_1")
    assert parsed.payment is not None and (parsed.payment.amount, parsed.payment.event_id) == (50_000, "evt_1")
    refund = {"event": "refund.failed", "payload": {"refund": {"entity": {
        "id": "rfnd_Z", "payment_id": "pay_X", "amount": 100, "notes": {"refund_id": "not-a-uuid"}}}}}
    parsed_refund = parse_event(refund)
    assert parsed_refund.refund is not None and parsed_refund.refund.status == "failed"
    assert parsed_refund.refund_id is None
    assert parse_event({"event": "settlement.processed"}).payment is None
    assert parse_event({"event": "payment.captured", "payload": "junk"}).payment is None
    floaty = {"event": "payment.captured", "payload": {"payment": {"entity": {
        "id": "pay_X", "order_id": "order_Y", "status": "captured", "amount": 500.0, "currency": "INR"}}}}
    assert parse_event(floaty).payment.amount is None  # never trust a float: the gateway is asked
