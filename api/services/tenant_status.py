"""Telling a consultancy's owners that the platform suspended or reactivated it.

By email to each active owner's address, as a platform message (no tenant): the consultancy's
own messages are paused while it is suspended (the notifier skips them), this one must still
reach its owners. Each goes through a Notify workflow started after the commit, so the admin's
request never waits on the provider and nothing is sent for a change that was rolled back.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState
from api.workflow_starts import start_after_commit
from domain.notification_channels import Channel
from domain.notifications import NOTIFY_WORKFLOW, NotificationRequest, notify_workflow_id
from models.identity import Role, User
from models.tenancy import Tenant
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID


async def tell_owners(request: Request, session: AsyncSession, state: AppState, tenant: Tenant, *, event: str,
                      reason: str, change_id: UUID) -> int:
    """Email `event` (tenant_suspended, tenant_reactivated) to every active owner; how many."""
    owners = (await session.execute(select(User).where(
        User.tenant_id == tenant.id, User.role == Role.OWNER, User.is_active.is_(True)))).scalars().all()
    for owner in owners:
        key = f"{event}:{change_id}:{owner.id}"
        await start_after_commit(
            request, session, state, workflow_type=NOTIFY_WORKFLOW, workflow_id=notify_workflow_id(key),
            payload=NotificationRequest(
                dedupe_key=key, tenant_id=None, recipient_email=owner.email, recipient_name=owner.full_name,
                recipient_locale=owner.locale or "en", event=event, channels=[Channel.EMAIL],
                variables={"tenant_name": tenant.name, "reason": reason}),
            tenant_id=None, search_attributes={ENTITY_STATUS.name: "sending", TENANT_ID.name: str(tenant.id)},
            memo={"summary": f"{event} email to the owner {owner.id}"})
    return len(owners)
