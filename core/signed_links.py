"""Signed, expiring download links: a capability to fetch one file, for one person, until a time.

`token = v1.<tenant>.<user>.<expires>.<signature>` where the signature is HMAC-SHA256 over the
file id, tenant, user and expiry, keyed with a key derived from the app's signing secret
(JWT_SECRET), so links die with a rotated secret and cannot be forged without it. Verification
compares signatures in constant time and checks the expiry only once the signature is good.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from core.security import Keys

_VERSION = "v1"
_PURPOSE = b"muhurta/download-links/v1"


class LinkError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "invalid" or "expired"


@dataclass(frozen=True)
class LinkGrant:
    file_id: UUID
    tenant_id: UUID
    user_id: UUID
    expires_at: datetime


class DownloadLinks:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()

    @classmethod
    def from_keys(cls, keys: Keys) -> DownloadLinks:
        return cls(keys.jwt_secret)

    def _signature(self, file_id: UUID, tenant_id: UUID, user_id: UUID, expires: int) -> str:
        message = f"{_VERSION}|{file_id}|{tenant_id}|{user_id}|{expires}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token(self, *, file_id: UUID, tenant_id: UUID, user_id: UUID, expires_at: datetime) -> str:
        expires = int(expires_at.timestamp())
        signature = self._signature(file_id, tenant_id, user_id, expires)
        return f"{_VERSION}.{tenant_id.hex}.{user_id.hex}.{expires}.{signature}"

    def verify(self, token: str, *, file_id: UUID, now: datetime | None = None) -> LinkGrant:
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != _VERSION:
            raise LinkError("invalid", "this download link is not valid")
        try:
            tenant_id, user_id, expires = UUID(hex=parts[1]), UUID(hex=parts[2]), int(parts[3])
            given = base64.urlsafe_b64decode(parts[4] + "=" * (-len(parts[4]) % 4))
        except (ValueError, binascii.Error) as exc:
            raise LinkError("invalid", "this download link is not valid") from exc
        expected = base64.urlsafe_b64decode(self._signature(file_id, tenant_id, user_id, expires) + "=")
        if not hmac.compare_digest(given, expected):
            raise LinkError("invalid", "this download link is not valid: it was changed or is for another file")
        expires_at = datetime.fromtimestamp(expires, UTC)
        if (now or datetime.now(UTC)) >= expires_at:
            raise LinkError("expired", f"this download link expired at {expires_at:%Y-%m-%d %H:%M} UTC; "
                                       "ask for a new one")
        return LinkGrant(file_id=file_id, tenant_id=tenant_id, user_id=user_id, expires_at=expires_at)
