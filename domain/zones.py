"""Whose clock an instant is shown on.

A person reads times in their own zone when they set one, else in their consultancy's; what
is shown to them (messages, quiet hours, a chart report's dates) uses the same rule.
"""

from __future__ import annotations

from typing import Protocol


class Zoned(Protocol):
    """Anything with an IANA zone it may leave unset: a user, a tenant."""

    @property
    def timezone(self) -> str | None: ...


def zone_of(person: Zoned, tenant: Zoned | None, fallback: str = "UTC") -> str:
    """The zone a person reads times in: theirs, else their consultancy's, else ``fallback``."""
    return person.timezone or (tenant.timezone if tenant is not None else None) or fallback
