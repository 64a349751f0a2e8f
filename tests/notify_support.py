"""Notification tests' helpers: people and consultancies written straight into the test database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select

from core.db import TenantScope, scoped_session
from core.security import Keys
from models.identity import Role, User
from models.notifications import NotificationDelivery, NotificationPreference, TenantNotificationSettings
from models.platform import OutboxMessage
from models.privacy import Consent
from models.tenancy import Tenant, TenantStatus

TWILIO_SID = "AC" + "2" * 32
TWILIO_TOKEN = "e" * 32


@dataclass
class People:
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    consultant_id: uuid.UUID
    hindi_client_id: uuid.UUID


async def make_people(sessionmaker) -> People:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=f"t-{uuid.uuid4().hex[:8]}", name="Jyotish Demo", status=TenantStatus.ACTIVE,
                        timezone="Asia/Kolkata", settings={})
        session.add(tenant)
        await session.flush()
        client = User(tenant_id=tenant.id, email="priya@example.com", full_name="Priya Sharma", role=Role.CLIENT,
                      phone="+919876543210", timezone="Asia/Kolkata", locale="en",
                      email_verified_at=datetime.now(UTC))
        consultant = User(tenant_id=tenant.id, email="acharya@example.com", full_name="Acharya Demo",
                          role=Role.OWNER, timezone="Europe/London", locale="en")
        hindi = User(tenant_id=tenant.id, email="ravi@example.com", full_name="Ravi Kumar", role=Role.CLIENT,
                     timezone="Asia/Kolkata", locale="hi-IN")
        session.add_all([client, consultant, hindi])
        await session.flush()
        return People(tenant.id, client.id, consultant.id, hindi.id)


async def set_preferences(sessionmaker, tenant_id, user_id, **fields) -> None:
    async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
        row = (await session.execute(select(NotificationPreference).where(
            NotificationPreference.user_id == user_id))).scalar_one_or_none()
        if row is None:
            row = NotificationPreference(tenant_id=tenant_id, user_id=user_id)
            session.add(row)
        for name, value in fields.items():
            setattr(row, name, value)


async def consent(sessionmaker, tenant_id, user_id, *kinds: str, granted: bool = True) -> None:
    """Record the client's decision on each kind (marketing, whatsapp, ...), as of now."""
    async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
        session.add_all([Consent(tenant_id=tenant_id, user_id=user_id, kind=kind, version="test", granted=granted,
                                 recorded_at=datetime.now(UTC), source="client") for kind in kinds])


async def own_provider_accounts(sessionmaker, keys: Keys, tenant_id) -> None:
    """The tenant brings its own SendGrid key and Twilio account (stored encrypted)."""
    async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
        session.add(TenantNotificationSettings(
            tenant_id=tenant_id, email_from_address="hello@jyotish.example.com", email_from_name="Jyotish Demo",
            sendgrid_api_key_encrypted=keys.encrypt("SG.tenant-key"), sendgrid_api_key_hint="-key",
            twilio_account_sid=TWILIO_SID, twilio_auth_token_encrypted=keys.encrypt(TWILIO_TOKEN),
            twilio_sms_from="+15005550006", twilio_whatsapp_from="+14155238886"))


async def deliveries(sessionmaker, **where) -> list[NotificationDelivery]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        stmt = select(NotificationDelivery).order_by(NotificationDelivery.created_at, NotificationDelivery.channel)
        for name, value in where.items():
            stmt = stmt.where(getattr(NotificationDelivery, name) == value)
        return list((await session.execute(stmt)).scalars())


async def outbox(sessionmaker) -> list[OutboxMessage]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars())


def quiet(start: str, end: str) -> dict[str, time]:
    return {"quiet_hours_start": time.fromisoformat(start), "quiet_hours_end": time.fromisoformat(end)}


