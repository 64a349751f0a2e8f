"""The price of an order: lines, a coupon's discount, GST (inclusive or exclusive) and the wallet.

Every figure is an integer in minor units. The discount is shared out over the lines it
applies to in proportion to their price (largest remainder, so the parts add up exactly), and
GST is computed per line on what remains, so an invoice's lines add up to its totals.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain.payments.money import MIN_GATEWAY_AMOUNT, allocate, ratio


class LineKind(enum.StrEnum):
    CONSULTATION = "consultation"   # a held booking (bookings): confirmed on payment
    REPORT = "report"               # a report to prepare and deliver
    ENROLLMENT = "enrollment"       # a course enrolment (drip)
    REMEDY = "remedy"               # a remedy programme
    PRODUCT = "product"             # anything else sold once
    PACKAGE = "package"             # a session package: N credits for an offering (docs/checkout.md)


class GstMode(enum.StrEnum):
    NONE = "none"             # not GST-registered: no tax line
    INCLUSIVE = "inclusive"   # prices include GST; the tax is carved out of them
    EXCLUSIVE = "exclusive"   # GST is added on top of prices


class CouponKind(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


@dataclass(frozen=True)
class LineIn:
    kind: LineKind
    description: str
    unit_amount: int
    quantity: int = 1
    offering_id: str | None = None
    ref_id: str | None = None

    @property
    def gross(self) -> int:
        return self.unit_amount * self.quantity


@dataclass(frozen=True)
class CouponRules:
    code: str
    kind: CouponKind
    currency: str
    percent_bp: int | None = None        # 1000 = 10 %
    amount_off: int | None = None        # minor units, for FIXED
    max_discount: int | None = None      # cap for PERCENT
    min_order_amount: int = 0            # on the eligible lines' gross
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = None
    max_uses_per_client: int | None = None
    offering_kinds: tuple[str, ...] = ()   # empty: every kind
    offering_ids: tuple[str, ...] = ()     # empty: every offering
    active: bool = True

    def applies_to(self, line: LineIn) -> bool:
        if self.offering_kinds and line.kind.value not in self.offering_kinds:
            return False
        return not (self.offering_ids and (line.offering_id or "") not in self.offering_ids)


class CouponRefused(Exception):
    """A coupon that cannot be used on this order; `field` says which input to change."""

    def __init__(self, message: str, field: str = "coupon_code") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def check_coupon(
    coupon: CouponRules, lines: list[LineIn], currency: str, now: datetime, *, uses: int, client_uses: int
) -> int:
    """Raise CouponRefused if the coupon cannot apply; else return the eligible gross."""
    if not coupon.active:
        raise CouponRefused(f"coupon {coupon.code} is no longer active")
    if coupon.valid_from and now < coupon.valid_from:
        raise CouponRefused(f"coupon {coupon.code} is valid from {coupon.valid_from:%Y-%m-%d %H:%M} UTC")
    if coupon.valid_until and now >= coupon.valid_until:
        raise CouponRefused(f"coupon {coupon.code} expired on {coupon.valid_until:%Y-%m-%d %H:%M} UTC")
    if coupon.kind == CouponKind.FIXED and coupon.currency != currency:
        raise CouponRefused(f"coupon {coupon.code} is in {coupon.currency}, the order in {currency}")
    if coupon.max_uses is not None and uses >= coupon.max_uses:
        raise CouponRefused(f"coupon {coupon.code} has been used as often as it may be")
    if coupon.max_uses_per_client is not None and client_uses >= coupon.max_uses_per_client:
        raise CouponRefused(f"you have already used coupon {coupon.code} as often as it allows")
    eligible = sum(line.gross for line in lines if coupon.applies_to(line))
    if eligible == 0:
        raise CouponRefused(f"coupon {coupon.code} does not apply to anything in this order")
    if eligible < coupon.min_order_amount:
        raise CouponRefused(f"coupon {coupon.code} needs an order of at least {coupon.min_order_amount} "
                            f"(minor units) on the items it applies to")
    return eligible


def coupon_discount(coupon: CouponRules, eligible: int) -> int:
    if coupon.kind == CouponKind.PERCENT:
        discount = ratio(eligible, coupon.percent_bp or 0, 10_000)
        if coupon.max_discount is not None:
            discount = min(discount, coupon.max_discount)
    else:
        discount = coupon.amount_off or 0
    return min(discount, eligible)


@dataclass(frozen=True)
class PricedLine:
    line: LineIn
    gross: int          # unit_amount * quantity, as entered
    discount: int       # this line's share of the coupon
    taxable: int        # value before tax, after discount
    tax: int
    total: int          # what the client pays for this line


@dataclass(frozen=True)
class Price:
    currency: str
    lines: list[PricedLine]
    subtotal: int       # sum of gross
    discount: int
    taxable: int
    tax: int
    total: int          # what the client owes
    wallet_applied: int
    amount_due: int     # total - wallet_applied: what the gateway collects
    gst_mode: GstMode
    gst_rate_bp: int
    coupon_code: str | None = None
    notes: list[str] = field(default_factory=list)


class PriceRefused(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def line_tax(amount_after_discount: int, mode: GstMode, rate_bp: int) -> tuple[int, int, int]:
    """(taxable value, tax, total) of one line's price after discount."""
    if mode == GstMode.NONE or rate_bp == 0:
        return amount_after_discount, 0, amount_after_discount
    if mode == GstMode.INCLUSIVE:
        tax = ratio(amount_after_discount, rate_bp, 10_000 + rate_bp)
        return amount_after_discount - tax, tax, amount_after_discount
    tax = ratio(amount_after_discount, rate_bp, 10_000)
    return amount_after_discount, tax, amount_after_discount + tax


def price_order(
    lines: list[LineIn],
    *,
    currency: str,
    gst_mode: GstMode,
    gst_rate_bp: int,
    coupon: CouponRules | None = None,
    eligible: int | None = None,
    wallet_available: int = 0,
    wallet_requested: int | None = None,
) -> Price:
    """Price an order. `coupon` must have passed `check_coupon` (which gives `eligible`).

    The wallet pays `min(wallet_requested or everything, available, total)`, but never leaves
    a remainder the gateway cannot collect (below its minimum): then the wallet pays less.
    """
    if not lines:
        raise PriceRefused("an order needs at least one line", "lines")
    discount_total = 0
    shares = [0 for _ in lines]
    if coupon is not None:
        weights = [line.gross if coupon.applies_to(line) else 0 for line in lines]
        discount_total = coupon_discount(coupon, eligible if eligible is not None else sum(weights))
        shares = allocate(discount_total, weights)
    priced = []
    for line, share in zip(lines, shares, strict=True):
        taxable, tax, total = line_tax(line.gross - share, gst_mode, gst_rate_bp)
        priced.append(PricedLine(line, line.gross, share, taxable, tax, total))
    total = sum(p.total for p in priced)
    wallet = min(wallet_available, total if wallet_requested is None else min(wallet_requested, total))
    notes = []
    if 0 < total - wallet < MIN_GATEWAY_AMOUNT:
        # The gateway cannot collect a few paise: let the wallet leave a collectable amount,
        # or pay everything if it can.
        if wallet_available >= total and (wallet_requested is None or wallet_requested >= total):
            wallet = total
        else:
            wallet = max(0, total - MIN_GATEWAY_AMOUNT)
            notes.append("the wallet pays a little less so that the rest can be paid online")
    amount_due = total - wallet
    if 0 < amount_due < MIN_GATEWAY_AMOUNT:
        raise PriceRefused(f"an online payment must be at least {MIN_GATEWAY_AMOUNT} minor units", "lines")
    return Price(
        currency=currency, lines=priced, subtotal=sum(p.gross for p in priced), discount=discount_total,
        taxable=sum(p.taxable for p in priced), tax=sum(p.tax for p in priced), total=total,
        wallet_applied=wallet, amount_due=amount_due, gst_mode=gst_mode, gst_rate_bp=gst_rate_bp,
        coupon_code=coupon.code if coupon else None, notes=notes,
    )
