"""Integer money: minor units (paise) with an ISO 4217 currency, never a float."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

# Currencies we take payments in, with their minor-unit exponent (Razorpay's list is longer;
# add one here when a tenant needs it, after checking its exponent).
CURRENCIES: dict[str, int] = {"INR": 2, "USD": 2, "EUR": 2, "GBP": 2, "AED": 2, "SGD": 2, "AUD": 2, "CAD": 2}
DEFAULT_CURRENCY = "INR"

# Razorpay refuses orders below one rupee (100 paise) and the like in other currencies.
MIN_GATEWAY_AMOUNT = 100
MAX_AMOUNT = 10**11  # one billion rupees: more than any consultation, less than an overflow


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise ValueError(f"use one of {', '.join(sorted(CURRENCIES))}")
    return code


Currency = Annotated[str, StringConstraints(max_length=3), AfterValidator(_currency)]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="minor units (paise), an integer")]
PositiveAmount = Annotated[int, Field(gt=0, le=MAX_AMOUNT, description="minor units (paise), an integer")]


def ratio(amount: int, numerator: int, denominator: int) -> int:
    """amount * numerator / denominator, rounded half up, for non-negative integers."""
    if amount < 0 or numerator < 0 or denominator <= 0:
        raise ValueError("ratio takes non-negative amounts and a positive denominator")
    return (amount * numerator * 2 + denominator) // (denominator * 2)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` over `weights` proportionally, in integers that add up exactly.

    Largest remainder method; ties go to the earlier weight. Zero weights get nothing.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes non-negative numbers")
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError("cannot allocate an amount over zero weights")
        return [0 for _ in weights]
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def format_amount(amount: int, currency: str) -> str:
    """'₹1,234.50' for INR (Indian digit grouping), 'USD 12.00' otherwise."""
    exponent = CURRENCIES.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, minor = divmod(abs(amount), 10**exponent)
    if currency == "INR":
        digits = str(whole)
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        grouped = ",".join([*groups, tail]) if groups else tail
        return f"{sign}₹{grouped}.{minor:0{exponent}d}"
    return f"{sign}{currency} {whole:,}.{minor:0{exponent}d}"
