"""Demo data for `make dev`: a platform admin, an approved consultancy with a consultant and a
client, and a consultancy awaiting approval whose onboarding workflow is running.

Idempotent: running it again changes nothing that exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from core.db import TenantScope, scoped_session
from core.security import Keys, hash_password
from core.settings import Settings
from core.workflow_starts import start_once
from domain.onboarding import OnboardingInput, onboarding_workflow_id
from models.identity import Role, User
from models.payments import Coupon, PaymentSettings, payment_settings
from models.tenancy import Tenant, TenantStatus
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

DEMO_PASSWORD = "muhurta-demo-2026"
# A fixed TOTP secret for the demo admin only, so the README can show how to sign in.
DEMO_ADMIN_TOTP_SECRET = "MUHURTADEMOADMIN2FA3STUVWXYZ2345"


@dataclass
class SeedSummary:
    admin_email: str
    tenant_slug: str
    consultant_email: str
    client_email: str
    pending_slug: str
    pending_workflow_id: str


async def _user(session: AsyncSession, tenant_id: object, email: str) -> User | None:
    stmt = select(User).where(User.tenant_id.is_not_distinct_from(tenant_id), User.email == email)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _tenant(session: AsyncSession, slug: str, name: str, status: TenantStatus) -> Tenant:
    tenant = (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
    if tenant is None:
        tenant = Tenant(slug=slug, name=name, status=status, timezone="Asia/Kolkata", settings={})
        session.add(tenant)
        await session.flush()
    return tenant


async def _ensure_user(session: AsyncSession, **fields: object) -> User:
    existing = await _user(session, fields["tenant_id"], str(fields["email"]))
    if existing:
        return existing
    user = User(password_hash=hash_password(DEMO_PASSWORD), email_verified_at=datetime.now(UTC), **fields)
    session.add(user)
    await session.flush()
    return user


async def _payments_demo(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """GST-registered payment settings (prices include 18 % GST) and a WELCOME10 coupon."""
    if await payment_settings(session, tenant_id) is None:
        session.add(PaymentSettings(
            tenant_id=tenant_id, currency="INR", gst_mode="inclusive", gst_rate_bp=1800, gstin="27AAPFU0939F1ZV",
            legal_name="Jyotish Demo Consultancy LLP", address="12 MG Road\nPune 411001", invoice_prefix="JD",
            payment_window_minutes=30))
    exists = await session.scalar(select(Coupon.id).where(Coupon.tenant_id == tenant_id, Coupon.code == "WELCOME10"))
    if exists is None:
        session.add(Coupon(tenant_id=tenant_id, code="WELCOME10", kind="percent", percent_bp=1000, currency="INR",
                           max_uses=100, max_uses_per_client=1, min_order_amount=0, uses=0, active=True,
                           offering_kinds=[], offering_ids=[], description="10 % off a first order"))
    await session.flush()


async def seed_demo(
    sessionmaker: async_sessionmaker[AsyncSession], keys: Keys, settings: Settings, client: Client | None
) -> SeedSummary:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        admin = await _ensure_user(session, tenant_id=None, email="admin@muhurta.example.com",
                                   full_name="Platform Admin", role=Role.PLATFORM_ADMIN)
        if admin.totp_enabled_at is None:
            admin.totp_secret_encrypted = keys.encrypt(DEMO_ADMIN_TOTP_SECRET)
            admin.totp_enabled_at = datetime.now(UTC)

        demo = await _tenant(session, "demo", "Jyotish Demo Consultancy", TenantStatus.ACTIVE)
        await _ensure_user(session, tenant_id=demo.id, email="astro@demo.example.com",
                           full_name="Acharya Demo", role=Role.OWNER, timezone="Asia/Kolkata")
        await _ensure_user(session, tenant_id=demo.id, email="client@demo.example.com",
                           full_name="Priya Client", role=Role.CLIENT, timezone="Asia/Kolkata")
        await _payments_demo(session, demo.id)

        pending = await _tenant(session, "pending-demo", "Numerology Newcomer", TenantStatus.PENDING)
        owner = await _ensure_user(session, tenant_id=pending.id, email="newcomer@pending.example.org",
                                   full_name="Newcomer Consultant", role=Role.OWNER)
        pending_id, owner_id = pending.id, owner.id

    workflow_id = onboarding_workflow_id(pending_id)
    if client is not None:
        await start_once(
            client, workflow_type="Onboarding", workflow_id=workflow_id,
            task_queue=settings.temporal_task_queue,
            payload=OnboardingInput(tenant_id=pending_id, owner_user_id=owner_id, email_verified=True)
            .model_dump(mode="json"),
            search_attributes={TENANT_ID.name: str(pending_id), ENTITY_STATUS.name: "awaiting_approval"},
            memo={"summary": "Onboarding of consultancy 'pending-demo' (demo data)"},
        )
    return SeedSummary(
        admin_email="admin@muhurta.example.com", tenant_slug="demo", consultant_email="astro@demo.example.com",
        client_email="client@demo.example.com", pending_slug="pending-demo", pending_workflow_id=workflow_id,
    )
