"""When Razorpay refuses a consultancy's own keys: recorded on its payment settings, the owner told once.

Every call to Razorpay with a consultancy's own keys runs inside `GatewayKeysWatch.watching`:

- Razorpay answers 401/403 (`GatewayKeysRefused`): the refusal is written on the tenant's
  `payment_settings` row (`gateway_refused_at`, `gateway_refused_key_id`, Razorpay's own words
  in `gateway_refused_reason`), then the owner is told in-app (`payment_keys_refused`). The
  notification's dedupe key is the refused key id and the moment the refusal was first seen, so
  however many checkouts fail (at once, or for days) the owner gets one message; a fresh
  refusal after the keys worked again, or after the owner saved keys, is a new message.
- Any other answer from Razorpay (success, or a 400 about the request itself, which Razorpay
  only gives after accepting the keys) clears a refusal recorded for that key id.
- The owner saving or removing keys (PUT /payments/settings) clears it too (api/routers/payments.py).

A refusal is written only while the settings still hold the very key id and secret that were
refused: a call that started before the owner saved new keys cannot mark the new ones refused.
The platform's own keys are never recorded on a tenant (the owner cannot fix them): they are
logged as an error for the operator. Recording and telling never raise: the caller's own error
(the checkout's `GatewayKeysRefused`, say) is the one that matters.

`GET /payments/settings` shows the record as `gateway_status`; docs/payments.md says what the
owner sees.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.notifier import Notifier
from activities.payments.razorpay_gateway import GatewayKeysRefused, GatewayRefused
from core.db import TenantScope, scoped_session
from core.razorpay import TENANT, GatewayCredentials
from core.security import Keys
from domain.notification_channels import Channel
from domain.notifications import NotificationRequest
from models.identity import first_owner_id
from models.payments import PaymentSettings

log = logging.getLogger(__name__)

KEYS_REFUSED_EVENT = "payment_keys_refused"
REASON_LENGTH = 300


class GatewayKeysWatch:
    """Records what Razorpay says about a tenant's own keys; one per activities object."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], keys: Keys, notifier: Notifier) -> None:
        self.sessionmaker, self.keys, self.notifier = sessionmaker, keys, notifier

    @asynccontextmanager
    async def watching(self, tenant_id: uuid.UUID, credentials: GatewayCredentials) -> AsyncIterator[None]:
        """Around one or more calls to Razorpay with `credentials`: a refusal of the keys is recorded
        (and re-raised); an answer from Razorpay clears an earlier refusal of the same keys."""
        try:
            yield
        except GatewayKeysRefused as exc:
            await self.refused(tenant_id, credentials, str(exc))
            raise
        except GatewayRefused:  # Razorpay read the request, so it took the keys
            await self.accepted(tenant_id, credentials)
            raise
        await self.accepted(tenant_id, credentials)

    def _same_keys(self, row: PaymentSettings, credentials: GatewayCredentials) -> bool:
        if row.razorpay_key_id != credentials.key_id or not row.razorpay_key_secret_encrypted:
            return False
        stored = self.keys.decrypt(row.razorpay_key_secret_encrypted)
        return hmac.compare_digest(stored.encode(), credentials.key_secret.encode())

    async def refused(self, tenant_id: uuid.UUID, credentials: GatewayCredentials, reason: str) -> None:
        if credentials.account != TENANT:
            log.error("Razorpay refused the platform's own keys (%s): %s", credentials.key_id, reason)
            return
        try:
            since = await self._record(tenant_id, credentials, reason)
        except Exception:
            log.exception("could not record that Razorpay refused the keys %s of tenant %s",
                          credentials.key_id, tenant_id)
            return
        if since is not None:
            await self._tell_owner(tenant_id, credentials.key_id, reason, since)

    async def _record(self, tenant_id: uuid.UUID, credentials: GatewayCredentials, reason: str) -> datetime | None:
        """The refusal on the settings row; returns since when the key is refused (None: keys changed)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(tenant_id)) as session:
            row = (await session.execute(select(PaymentSettings).where(
                PaymentSettings.tenant_id == tenant_id).with_for_update())).scalar_one_or_none()
            if row is None or not self._same_keys(row, credentials):
                log.info("Razorpay refused keys %s of tenant %s that are no longer saved", credentials.key_id,
                         tenant_id)
                return None
            ongoing = row.gateway_refused_at is not None and row.gateway_refused_key_id == credentials.key_id
            since: datetime | None = (await session.execute(
                update(PaymentSettings).where(PaymentSettings.id == row.id).values(
                    gateway_refused_at=PaymentSettings.gateway_refused_at if ongoing else func.now(),
                    gateway_refused_key_id=credentials.key_id, gateway_refused_reason=reason[:REASON_LENGTH],
                    updated_at=PaymentSettings.updated_at)  # not the owner's change: the version stays
                .returning(PaymentSettings.gateway_refused_at))).scalar_one()
            if not ongoing:
                log.warning("Razorpay refused the keys %s of tenant %s: %s", credentials.key_id, tenant_id, reason)
            return since

    async def accepted(self, tenant_id: uuid.UUID, credentials: GatewayCredentials) -> None:
        if credentials.account != TENANT:
            return
        try:
            async with scoped_session(self.sessionmaker, TenantScope.of(tenant_id)) as session:
                row = (await session.execute(select(PaymentSettings).where(
                    PaymentSettings.tenant_id == tenant_id,
                    PaymentSettings.gateway_refused_key_id == credentials.key_id).with_for_update()
                )).scalar_one_or_none()
                if row is None or not self._same_keys(row, credentials):
                    return
                await session.execute(update(PaymentSettings).where(PaymentSettings.id == row.id).values(
                    gateway_refused_at=None, gateway_refused_key_id=None, gateway_refused_reason=None,
                    updated_at=PaymentSettings.updated_at))
                log.info("Razorpay accepts the keys %s of tenant %s again", credentials.key_id, tenant_id)
        except Exception:
            log.exception("could not clear the refusal of the keys %s of tenant %s", credentials.key_id, tenant_id)

    async def _tell_owner(self, tenant_id: uuid.UUID, key_id: str, reason: str, since: datetime) -> None:
        """One in-app message per refused key and refusal (the dedupe key), to the first owner."""
        try:
            async with scoped_session(self.sessionmaker, TenantScope.of(tenant_id)) as session:
                owner = await first_owner_id(session, tenant_id)
            if owner is None:
                return
            link = f"{self.notifier.settings.public_base_url}/api/v1/payments/settings"
            await self.notifier.deliver(NotificationRequest(
                dedupe_key=f"payment-keys-refused:{tenant_id}:{key_id}:{since.isoformat()}", tenant_id=tenant_id,
                recipient_user_id=owner, event=KEYS_REFUSED_EVENT, channels=[Channel.IN_APP],
                respect_quiet_hours=False, variables={"key_id": key_id, "reason": reason[:REASON_LENGTH],
                                                      "link": link},
                data={"link": link}))
        except Exception:
            log.exception("could not tell the owner of tenant %s that Razorpay refuses keys %s", tenant_id, key_id)
