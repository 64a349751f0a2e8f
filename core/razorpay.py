"""Razorpay credentials and signatures: which account to use, and checking what it signed.

Signatures are HMAC-SHA256 in hex, compared in constant time:
- Checkout: `<razorpay_order_id>|<razorpay_payment_id>` with the key secret (the order id must
  be the one *we stored*, never the one the browser sent);
- webhooks: the raw request body with the webhook secret (`X-Razorpay-Signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings

RAZORPAY_API = "https://api.razorpay.com"
PLATFORM = "platform"
TENANT = "tenant"


@dataclass(frozen=True)
class GatewayCredentials:
    key_id: str
    key_secret: str
    webhook_secret: str
    base_url: str
    account: str  # PLATFORM, or TENANT for a tenant's own Razorpay account

    def __repr__(self) -> str:  # never print secrets
        return f"GatewayCredentials(key_id={self.key_id!r}, account={self.account!r}, base_url={self.base_url!r})"


class PaymentsNotConfigured(RuntimeError):
    pass


def sign(secret: str, message: bytes | str) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def signature_matches(secret: str, message: bytes | str, signature: str) -> bool:
    # Bytes, not text: compare_digest raises on non-ASCII text, and a mangled header is just wrong.
    return hmac.compare_digest(sign(secret, message).encode(), signature.strip().lower().encode())


def checkout_signature_matches(key_secret: str, stored_order_id: str, payment_id: str, signature: str) -> bool:
    return signature_matches(key_secret, f"{stored_order_id}|{payment_id}", signature)


def local_gateway_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.razorpay_local_port}"


def platform_credentials(settings: Settings) -> GatewayCredentials:
    """The platform's account: configured keys, or in development the local gateway's keys."""
    if settings.razorpay_key_id and settings.razorpay_key_secret:
        return GatewayCredentials(
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret.get_secret_value(),
            webhook_secret=(settings.razorpay_webhook_secret.get_secret_value()
                            if settings.razorpay_webhook_secret else ""),
            base_url=(settings.razorpay_base_url or RAZORPAY_API).rstrip("/"),
            account=PLATFORM,
        )
    if settings.is_production:
        raise PaymentsNotConfigured("set RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and RAZORPAY_WEBHOOK_SECRET")
    dev = development_razorpay_keys(settings.data_dir / "dev-razorpay.json")
    return GatewayCredentials(
        key_id=dev["key_id"], key_secret=dev["key_secret"], webhook_secret=dev["webhook_secret"],
        base_url=(settings.razorpay_base_url or local_gateway_url(settings)).rstrip("/"), account=PLATFORM,
    )


def development_razorpay_keys(path: Path) -> dict[str, str]:
    """Test-mode-looking keys for the local gateway, made once per data folder."""
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = {
        "key_id": "rzp_test_" + secrets.token_hex(7),
        "key_secret": secrets.token_urlsafe(18),
        "webhook_secret": secrets.token_urlsafe(18),
    }
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys
