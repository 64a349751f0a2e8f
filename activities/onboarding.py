"""Side effects of consultant onboarding: reminders, admin nudges, applying the decision.

Each is idempotent: messages carry a dedupe key of workflow id and step, and the decision only
changes a tenant that is still pending. Messages go through the notification sender (the
tenant's or platform's provider, else the local outbox) and are never held by quiet hours: the
onboarding workflow does not wait for them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.notifications import Notifier
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.settings import Settings
from domain.notification_channels import Channel
from domain.notifications import NotificationOutcome, NotificationRequest
from domain.onboarding import (
    APPLY_DECISION,
    EMAIL_VERIFIED_AT,
    NUDGE_ADMINS,
    REMIND_VERIFY,
    TELL_DECISION,
    AdminNudge,
    ApplyDecision,
    OnboardingRef,
)
from models.identity import Role, User
from models.platform import record_audit
from models.tenancy import Tenant, TenantStatus


def _newly_sent(outcome: NotificationOutcome) -> bool:
    return any(c.status is not None and not c.already_done for c in outcome.channels)


class OnboardingActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 notifier: Notifier | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.notifier = notifier or Notifier(sessionmaker, settings, Keys.from_settings(settings))

    async def _email(self, dedupe_key: str, tenant_id: uuid.UUID | None, user: User, event: str,
                     variables: dict[str, object]) -> bool:
        outcome = await self.notifier.deliver(NotificationRequest(
            dedupe_key=dedupe_key, tenant_id=tenant_id, recipient_user_id=user.id, event=event,
            variables=variables, channels=[Channel.EMAIL], respect_quiet_hours=False))
        return _newly_sent(outcome)

    async def _tenant_and_owner(self, session: AsyncSession, ref: OnboardingRef) -> tuple[Tenant, User]:
        tenant = await session.get(Tenant, ref.tenant_id)
        owner = await session.get(User, ref.owner_user_id)
        if tenant is None or owner is None:
            raise LookupError(f"tenant {ref.tenant_id} or its owner no longer exists")
        return tenant, owner

    @activity.defn(name=REMIND_VERIFY)
    async def remind_verify(self, ref: OnboardingRef) -> bool:
        """Remind the owner to verify their email, unless they did meanwhile."""
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            tenant, owner = await self._tenant_and_owner(session, ref)
            if owner.email_verified_at is not None:
                return False
        return await self._email(f"{ref.workflow_id}:verify-reminder", tenant.id, owner, "verify_email_reminder",
                                 {"full_name": owner.full_name, "tenant_name": tenant.name})

    @activity.defn(name=EMAIL_VERIFIED_AT)
    async def email_verified_at(self, ref: OnboardingRef) -> datetime | None:
        """When the owner verified their email, if they did."""
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            _, owner = await self._tenant_and_owner(session, ref)
            return owner.email_verified_at

    @activity.defn(name=NUDGE_ADMINS)
    async def nudge_admins(self, nudge: AdminNudge) -> int:
        """Tell every platform admin that this application is still waiting; returns messages recorded."""
        ref = nudge.ref
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            tenant, _ = await self._tenant_and_owner(session, ref)
            if tenant.status != TenantStatus.PENDING:
                return 0
            admins = (await session.execute(
                select(User).where(User.role == Role.PLATFORM_ADMIN, User.is_active.is_(True))
            )).scalars().all()
            pending = (await session.execute(
                select(Tenant.id).where(Tenant.status == TenantStatus.PENDING)
            )).all()
            variables: dict[str, object] = {
                "count": len(pending),
                "tenant_name": tenant.name,
                "tenant_slug": tenant.slug,
                "since": nudge.waiting_since.strftime("%Y-%m-%d %H:%M UTC"),
                "link": f"{self.settings.public_base_url}/api/v1/admin/tenants/{tenant.id}",
            }
        sent = 0
        for admin in admins:
            sent += await self._email(f"{ref.workflow_id}:admin-nudge:{nudge.number}:{admin.id}", None, admin,
                                      "onboarding_pending_admin", variables)
        return sent

    @activity.defn(name=APPLY_DECISION)
    async def apply_decision(self, step: ApplyDecision) -> str:
        """Activate or reject the tenant, audit it and tell the owner. Returns the tenant status."""
        ref, decision = step.ref, step.decision
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            tenant, owner = await self._tenant_and_owner(session, ref)
            if tenant.status == TenantStatus.PENDING:
                tenant.status = TenantStatus.ACTIVE if decision.approve else TenantStatus.REJECTED
                tenant.status_reason = decision.reason
                actor = await session.get(User, decision.actor_user_id)
                event = await record_audit(
                    session,
                    tenant_id=tenant.id,
                    action="tenant.approved" if decision.approve else "tenant.rejected",
                    actor_user_id=decision.actor_user_id,
                    actor_role=actor.role.value if actor else None,
                    target_type="tenant", target_id=tenant.id,
                    details={"reason": decision.reason} if decision.reason else {},
                    ip=decision.ip,
                )
                event.request_id = decision.request_id
            status = tenant.status.value
        if step.tell_owner:  # histories from before TELL_DECISION: told here, after the commit
            await self._tell(step, tenant, owner)
        return status

    @activity.defn(name=TELL_DECISION)
    async def tell_decision(self, step: ApplyDecision) -> bool:
        """Tell the owner the decision (sent by the workflow's outbox, after `decide` answered)."""
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            tenant, owner = await self._tenant_and_owner(session, step.ref)
        return await self._tell(step, tenant, owner)

    async def _tell(self, step: ApplyDecision, tenant: Tenant, owner: User) -> bool:
        decision = step.decision
        event_name = "onboarding_approved" if decision.approve else "onboarding_rejected"
        variables: dict[str, object] = {"full_name": owner.full_name, "tenant_name": tenant.name}
        if not decision.approve:
            variables["reason"] = decision.reason or ""
        return await self._email(f"{step.ref.workflow_id}:decision", tenant.id, owner, event_name, variables)
