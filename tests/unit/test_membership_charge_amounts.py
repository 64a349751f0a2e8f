"""The GST of a membership's charged period (domain.memberships.charge_amounts)."""

from __future__ import annotations

from domain.memberships import ChargeAmounts, charge_amounts
from domain.payments.pricing import GstMode


def test_a_charge_of_the_plan_amount_is_the_price_taxed_as_the_settings_say() -> None:
    assert charge_amounts(118_000, 100_000, GstMode.EXCLUSIVE, 1800) == ChargeAmounts(
        unit=100_000, taxable=100_000, tax=18_000, total=118_000)
    assert charge_amounts(118_000, 118_000, GstMode.INCLUSIVE, 1800) == ChargeAmounts(
        unit=118_000, taxable=100_000, tax=18_000, total=118_000)
    assert charge_amounts(99_900, 99_900, GstMode.NONE, 1800) == ChargeAmounts(
        unit=99_900, taxable=99_900, tax=0, total=99_900)


def test_a_charge_of_another_amount_is_invoiced_as_charged_with_the_gst_inside() -> None:
    # the plan was made at Razorpay before GST became exclusive: it still charges the bare price
    assert charge_amounts(100_000, 100_000, GstMode.EXCLUSIVE, 1800) == ChargeAmounts(
        unit=100_000, taxable=84_746, tax=15_254, total=100_000)
    # GST turned off since: the charge is all taxable value
    assert charge_amounts(118_000, 100_000, GstMode.NONE, 1800) == ChargeAmounts(
        unit=118_000, taxable=118_000, tax=0, total=118_000)
