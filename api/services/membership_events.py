"""Razorpay subscription events (stored and deduplicated by event id like every webhook, in
api/services/payment_events.py), relayed to the membership's workflow as `gateway_event`.

The workflow decides what an event means; a charge it has seen before (a replay under another
event id) grants nothing more, and the grant activity is keyed by the payment id besides.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.memberships import ENDED, SubscriptionReport
from models.memberships import Membership
from models.payments import GatewayWebhookEvent
from models.platform import record_audit

log = logging.getLogger(__name__)


class NotYet(Exception):
    """Temporal cannot be told now: the event is tried again later (by the API or the relay)."""


async def act_on_subscription(session: AsyncSession, client: Client | None, event: GatewayWebhookEvent,
                              report: SubscriptionReport) -> str:
    membership = (await session.execute(select(Membership).where(
        Membership.gateway_subscription_id == report.subscription_id))).scalar_one_or_none()
    if membership is None:
        return "ignored: not a subscription of ours"
    if event.tenant_id is not None and membership.tenant_id != event.tenant_id:
        log.warning("webhook %s of tenant %s names a membership of tenant %s", event.event_id, event.tenant_id,
                    membership.tenant_id)
        return "ignored: another account's subscription"
    if membership.status in {s.value for s in ENDED}:
        return f"ignored: the membership is {membership.status}"
    if client is None:
        raise NotYet("Temporal unavailable")
    try:
        await client.get_workflow_handle(membership.workflow_id).signal("gateway_event", report)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise NotYet(f"Temporal: {exc}") from exc
        await record_audit(session, tenant_id=membership.tenant_id, action="membership.event_after_close",
                           target_type="membership", target_id=membership.id,
                           details={"event": report.kind.value, "event_id": event.event_id})
        return "flagged: the membership's workflow has finished"
    return f"signalled {membership.workflow_id}"
