"""Field types shared by request schemas: validated once, with messages a person can act on."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, EmailStr, StringConstraints
from pydantic.json_schema import Examples

RESERVED_SLUGS = frozenset({
    "www", "api", "admin", "app", "static", "assets", "mail", "docs", "status", "support",
    "help", "billing", "platform", "temporal", "muhurta",
})
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


def _slug(value: str) -> str:
    value = value.strip().lower()
    if not _SLUG.match(value):
        raise ValueError("use 3 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen")
    if value in RESERVED_SLUGS:
        raise ValueError(f"'{value}' is reserved; choose another")
    return value


@cache
def _known_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk (~10 ms): once per process is enough
    return frozenset(available_timezones())


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("use an IANA time zone such as Asia/Kolkata or Europe/London") from exc
    if value not in _known_zones() and value != "UTC":
        raise ValueError("use an IANA time zone such as Asia/Kolkata or Europe/London")
    return value


def _domain(value: str) -> str:
    value = value.strip().lower().rstrip(".")
    if not _DOMAIN.match(value):
        raise ValueError("use a domain name such as bookings.example.com")
    return value


def _phone(value: str) -> str:
    cleaned = re.sub(r"[\s()-]", "", value)
    if not _PHONE.match(cleaned):
        raise ValueError("use the international format with country code, e.g. +919876543210")
    return cleaned


def _email(value: str) -> str:
    return value.strip().lower()


# The examples are valid values (the OpenAPI document shows them; tests build bodies from them).
# Each max_length is its column's (tests/api/test_schema_lengths.py compares them).
Slug = Annotated[str, StringConstraints(max_length=63), AfterValidator(_slug), Examples(["sharma-jyotish"])]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_zone), Examples(["Asia/Kolkata"])]
DomainName = Annotated[str, StringConstraints(max_length=253), AfterValidator(_domain),
                      Examples(["bookings.example.com"])]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_phone), Examples(["+919876543210"])]
Email = Annotated[EmailStr, AfterValidator(_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256), Examples(["correct-horse-battery-staple"])]
Locale = Annotated[str, StringConstraints(max_length=16, pattern=r"^(en|hi)(-[A-Z]{2})?$")]
