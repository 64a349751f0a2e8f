"""Money for people to read: integer minor units and an ISO 4217 currency. Pure."""

from __future__ import annotations

# currencies whose minor unit is not 1/100
_EXPONENT = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
_SYMBOL = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}


def format_money(minor: int, currency: str) -> str:
    exponent = _EXPONENT.get(currency.upper(), 2)
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**exponent)
    amount = f"{whole:,}" + (f".{part:0{exponent}d}" if exponent else "")
    symbol = _SYMBOL.get(currency.upper())
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency.upper()}"
