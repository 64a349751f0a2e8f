"""Session-package activities: grant a paid line's credits, read what is left, expire or revoke
them, and the expiry reminder. Each is idempotent (the grant's id is the order line's id; the
ledger's dedupe keys are unique; messages are deduped by `<workflow id>:<step>`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import Notifier, attempt_time, deliver_or_retry
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.settings import Settings
from domain.notification_templates import format_instant, language_of
from domain.notifications import NotificationRequest
from domain.packages import (
    CREDITS_LEFT,
    EXPIRE_CREDITS,
    GRANT_CREDITS,
    NOTIFY_PACKAGE,
    REVOKE_CREDITS,
    CreditsLeft,
    GrantRef,
    GrantRequest,
    GrantStatus,
    MoveKind,
    PackageInput,
    PackageNotice,
    RevokeCredits,
    package_workflow_id,
    reminder_at,
)
from models.catalogue import PackageGrant, SessionPackage, _move, close_grant, credits_left
from models.identity import User


class PackageActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 notifier: Notifier | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.notifier = notifier or Notifier(sessionmaker, settings, Keys.from_settings(settings))

    def all(self) -> list[Callable[..., Any]]:
        return [self.grant_credits, self.credits_left, self.expire_credits, self.revoke_credits, self.notify]

    @activity.defn(name=GRANT_CREDITS)
    async def grant_credits(self, request: GrantRequest) -> PackageInput:
        """The credits of a paid package line (once: a retry finds the grant it made)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(request.tenant_id)) as session:
            grant = await session.get(PackageGrant, request.grant_id)
            if grant is None:
                package = await session.get(SessionPackage, request.package_id)
                if package is None or package.tenant_id != request.tenant_id:
                    raise ApplicationError("the session package sold is gone", type="PackageGone",
                                           non_retryable=True)
                grant = PackageGrant(
                    id=request.grant_id, tenant_id=request.tenant_id, package_id=package.id,
                    offering_id=package.offering_id, client_id=request.client_id, order_id=request.order_id,
                    title=package.title, credits_total=package.sessions, credits_used=0,
                    credit_back_min_percent=package.credit_back_min_percent, status=GrantStatus.ACTIVE.value,
                    expires_at=request.granted_at + timedelta(days=package.valid_days),
                    workflow_id=package_workflow_id(request.grant_id))
                session.add(grant)
                await session.flush()
                await _move(session, grant, MoveKind.GRANT, package.sessions, f"grant:{grant.id}",
                            note=f"order {request.order_id}")
                reminder_days = package.reminder_days
            else:
                package = await session.get(SessionPackage, grant.package_id) if grant.package_id else None
                reminder_days = package.reminder_days if package else 0
            return PackageInput(grant_id=grant.id, tenant_id=grant.tenant_id, client_id=grant.client_id,
                                expires_at=grant.expires_at, remind_at=reminder_at(grant.expires_at, reminder_days))

    @activity.defn(name=CREDITS_LEFT)
    async def credits_left(self, ref: GrantRef) -> CreditsLeft:
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            grant = await session.get(PackageGrant, ref.grant_id)
            if grant is None:
                return CreditsLeft(status=GrantStatus.REVOKED, left=0)
            return CreditsLeft(status=GrantStatus(grant.status), left=credits_left(grant))

    @activity.defn(name=EXPIRE_CREDITS)
    async def expire_credits(self, ref: GrantRef) -> int:
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            return await close_grant(session, ref.grant_id, GrantStatus.EXPIRED, "the package's time ran out")

    @activity.defn(name=REVOKE_CREDITS)
    async def revoke_credits(self, request: RevokeCredits) -> int:
        async with scoped_session(self.sessionmaker, TenantScope.of(request.ref.tenant_id)) as session:
            return await close_grant(session, request.ref.grant_id, GrantStatus.REVOKED, request.reason)

    @activity.defn(name=NOTIFY_PACKAGE)
    async def notify(self, notice: PackageNotice) -> int:
        """The expiry reminder (1 if a channel took it now or before; 0 if nothing is left to say)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(notice.ref.tenant_id)) as session:
            grant = await session.get(PackageGrant, notice.ref.grant_id)
            if grant is None or credits_left(grant) == 0:
                return 0  # used up or closed while the message waited
            client = await session.get(User, grant.client_id)
            if client is None:
                return 0
            language = language_of(client.locale)
            url = f"{self.settings.public_base_url.rstrip('/')}/api/v1/session-credits"
            request = NotificationRequest(
                dedupe_key=f"{notice.ref.workflow_id}:{notice.step}", tenant_id=grant.tenant_id,
                recipient_user_id=client.id, event=notice.event, at=attempt_time(),
                variables={"client_name": client.full_name, "package_title": grant.title,
                           "credits_left": credits_left(grant),
                           "expires": format_instant(grant.expires_at, client.timezone or "UTC", language),
                           "book_url": url},
                data={"grant_id": str(grant.id), "link": url})
        outcome = await deliver_or_retry(self.notifier, request)
        return 1 if outcome.sent_on else 0
