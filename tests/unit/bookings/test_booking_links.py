"""Signed links: HMAC with the app's keys, purpose-bound, expiring, tamper-evident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from core.security import Keys
from core.signing import LinkError, sign, verify

KEYS = Keys("a-secret-" + "x" * 40, [Fernet.generate_key().decode()])
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_round_trip_and_expiry():
    token = sign(KEYS, "booking", {"b": "42", "t": "7"}, expires_at=NOW + timedelta(days=1))
    assert verify(KEYS, "booking", token, now=NOW) == {"b": "42", "t": "7"}
    with pytest.raises(LinkError, match="expired"):
        verify(KEYS, "booking", token, now=NOW + timedelta(days=1, seconds=1))


def test_forged_tampered_or_foreign_tokens_are_refused():
    token = sign(KEYS, "booking", {"b": "42"})
    body, mac = token.split(".")
    other = sign(KEYS, "booking", {"b": "43"})
    with pytest.raises(LinkError, match="not valid"):
        verify(KEYS, "booking", f"{other.split('.')[0]}.{mac}", now=NOW)
    with pytest.raises(LinkError, match="not valid here"):
        verify(KEYS, "calendar", token, now=NOW)
    other_keys = Keys("another-secret-" + "y" * 40, [Fernet.generate_key().decode()])
    for bad in (token + "x", "garbage", ".", f"{body}.", sign(other_keys, "booking", {"b": "42"})):
        with pytest.raises(LinkError):
            verify(KEYS, "booking", bad, now=NOW)
