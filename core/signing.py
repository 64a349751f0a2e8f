"""Signed, expiring links and secret feed URLs: HMAC-SHA256 with a key derived from the app's keys.

A token is `<payload>.<signature>`, both base64url; the payload is compact JSON naming its
purpose, so a token made for one purpose (manage a booking) is refused for another (a feed).
Nothing is stored: changing JWT_SECRET invalidates every link, as it does every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from core.security import Keys


class LinkError(Exception):
    """The token is malformed, forged, of another purpose, or expired (the message says which)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(keys: Keys) -> bytes:
    return hmac.new(keys.jwt_secret.encode(), b"muhurta/signed-links/v1", hashlib.sha256).digest()


def sign(keys: Keys, purpose: str, claims: dict[str, Any], *, expires_at: datetime | None = None) -> str:
    payload: dict[str, Any] = {"p": purpose, **claims}
    if expires_at is not None:
        payload["e"] = int(expires_at.timestamp())
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(_key(keys), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac[:20])}"


def verify(keys: Keys, purpose: str, token: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The claims of a valid token of this purpose; raises LinkError otherwise."""
    body, sep, mac = token.partition(".")
    if not sep or not body or not mac or len(token) > 2000:
        raise LinkError("this link is not valid")
    if not token.isascii():  # (compare_digest refuses non-ASCII text: a link mangled on its way)
        raise LinkError("this link is not valid")
    expected = _b64(hmac.new(_key(keys), body.encode(), hashlib.sha256).digest()[:20])
    if not hmac.compare_digest(expected, mac):
        raise LinkError("this link is not valid")
    try:
        claims: dict[str, Any] = json.loads(_unb64(body))
    except ValueError as exc:
        raise LinkError("this link is not valid") from exc
    if not isinstance(claims, dict):
        raise LinkError("this link is not valid")
    if claims.pop("p", None) != purpose:
        raise LinkError("this link is not valid here")
    expires = claims.pop("e", None)
    if expires is not None and (now or datetime.now(UTC)).timestamp() > expires:
        raise LinkError("this link has expired")
    return claims


def booking_link_token(keys: Keys, purpose: str, *, booking_id: object, tenant_id: object,
                       expires_at: datetime) -> str:
    """The token of a booking's signed link (see domain.bookings.links for purposes and paths)."""
    return sign(keys, purpose, {"b": str(booking_id), "t": str(tenant_id)}, expires_at=expires_at)
