"""Every column that holds a secret encrypted with `Keys.encrypt`: `muhurta rotate-keys` re-encrypts
them all with the newest key, after which older keys can be dropped from ENCRYPTION_KEYS.
A model that adds such a column lists it here."""

from __future__ import annotations

from sqlalchemy.orm import InstrumentedAttribute

from models.bookings import Booking
from models.identity import User
from models.notifications import TenantNotificationSettings
from models.payments import PaymentSettings
from models.platform import IdempotencyRecord

ENCRYPTED_COLUMNS: list[InstrumentedAttribute[str | None]] = [
    User.totp_secret_encrypted,
    Booking.private_notes_encrypted,
    PaymentSettings.razorpay_key_secret_encrypted,
    PaymentSettings.razorpay_webhook_secret_encrypted,
    TenantNotificationSettings.sendgrid_api_key_encrypted,
    TenantNotificationSettings.twilio_auth_token_encrypted,
    IdempotencyRecord.response_body,  # the stored answer of a POST may carry tokens
]
