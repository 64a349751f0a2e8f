"""An erased member is never charged again: the erasure cancels the membership through its own
workflow, which cancels the Razorpay subscription (the local Razorpay then refuses to renew it),
and the membership row keeps what was paid for, not who paid.

Real PostgreSQL, Redis, the Temporal dev server with the production worker, the local Razorpay.
"""

from __future__ import annotations

import uuid

import pytest
from booking_support import bookable
from membership_support import active_member, deliver
from sqlalchemy import select
from support import PASSWORD, Account, active_consultancy, eventually, poll_until
from temporalio.client import WorkflowExecutionStatus
from test_privacy_api import Person, _settled, _where_written

from activities.payments.local_gateway import GatewayError
from core.db import TenantScope, scoped_session
from domain.memberships import ERASED_REASON
from models.catalogue import PackageGrant
from models.memberships import Membership, MembershipCharge


async def _consultancy_with_a_member(client, sessionmaker) -> tuple[Account, Account, Person, dict]:
    """A consultancy with a monthly plan, and a client (with a name, email and phone to erase)."""
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    plan = (await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Monthly guidance", "price_minor": 149_900, "offering_id": offering["id"],
        "credits_per_period": 2})).json()
    person = Person()
    registered = await client.post("/api/v1/auth/register", headers={"X-Tenant": owner.tenant_slug}, json={
        "full_name": person.name, "email": person.email, "password": PASSWORD, "phone": person.phone})
    assert registered.status_code == 201, registered.text
    body = registered.json()
    member = Account(body["user"]["id"], person.email, owner.tenant_slug, body["user"]["tenant_id"],
                     body["tokens"]["access_token"], body["tokens"]["refresh_token"])
    return owner, member, person, plan


async def _never_charged_again(sessionmaker, gateway, sub: str, membership_id: str) -> None:
    """Razorpay refuses the next cycle of the cancelled subscription, and the one period paid is all
    that was charged, at Razorpay and in the membership's charges."""
    with pytest.raises(GatewayError, match="is not charged"):
        gateway.renew(sub)
    assert gateway.subscriptions[sub]["paid_count"] == 1
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        charges = (await session.execute(select(MembershipCharge.amount).where(
            MembershipCharge.membership_id == uuid.UUID(membership_id)))).scalars().all()
    assert charges == [149_900]

async def test_an_erased_member_is_cancelled_at_razorpay_and_never_charged_again(client, sessionmaker, gateway,
                                                                                  temporal_client):
    owner, member, person, plan = await _consultancy_with_a_member(client, sessionmaker)
    membership, sub, seen = await active_member(client, gateway, owner, member, plan["id"])
    cancel = await client.post(f"/api/v1/me/memberships/{membership['id']}/cancel", headers=member.headers(),
                               json={"reason": "moving"})  # at the period's end
    assert cancel.status_code == 200 and cancel.json()["cancel_at_period_end"] is True, cancel.text

    async def cancel_scheduled() -> bool:
        return bool(gateway.subscriptions[sub]["cancel_at_cycle_end"])
    assert await eventually(cancel_scheduled, True) is True  # Razorpay would still charge... until then

    started = await client.post("/api/v1/me/privacy/erasure", headers=member.headers(),
                                json={"confirm_email": person.email})
    assert started.status_code == 202, started.text
    done = await _settled(client, owner.headers(), f"/api/v1/privacy-requests/{started.json()['id']}", "done")
    assert done["summary"]["memberships_cancelled"] == 1

    # Razorpay's subscription is cancelled now (not at the cycle's end), by the membership's workflow,
    # which then ends without waiting for the paid month to run out.
    async def at_razorpay() -> str:
        return str(gateway.subscriptions[sub]["status"])
    assert await eventually(at_razorpay, "cancelled", 30) == "cancelled"
    cancels = [r for r in gateway.requests if r.path == f"/v1/subscriptions/{sub}/cancel"]
    assert [r.body.get("cancel_at_cycle_end") for r in cancels] == [1, 0]
    handle = temporal_client.get_workflow_handle(membership["workflow_id"])

    async def workflow_status() -> WorkflowExecutionStatus | None:
        return (await handle.describe()).status
    assert await eventually(workflow_status, WorkflowExecutionStatus.COMPLETED, 30) == \
        WorkflowExecutionStatus.COMPLETED
    await _never_charged_again(sessionmaker, gateway, sub, membership["id"])
    assert await deliver(client, gateway, sub, seen) == ["subscription.cancelled"]  # ignored: it has ended

    # The row keeps the plan, the amounts and the periods paid; nothing that names the client.
    async def row() -> Membership:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            found = (await session.execute(select(Membership).where(
                Membership.id == uuid.UUID(membership["id"])))).scalar_one()
            session.expunge(found)
            return found
    # Read once: the erasure is done and the membership's workflow has completed, so the row is final.
    # Its end reason was the client's own words ("moving"); now there is none, or the erasure's, if the
    # workflow saved its row again after the erasure scrubbed it.
    kept = await row()
    assert (kept.status, kept.periods_paid, kept.price_minor, kept.short_url) == ("cancelled", 1, 149_900, None)
    assert kept.end_reason in (None, ERASED_REASON), kept.end_reason
    assert await _where_written(sessionmaker, person.strings()) == {}
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        grants = (await session.execute(select(PackageGrant).where(
            PackageGrant.membership_id == uuid.UUID(membership["id"])))).scalars().all()
    assert grants == []  # the client's credits went with them


async def test_an_erased_member_whose_membership_workflow_is_gone_is_still_cancelled_at_razorpay(
        client, sessionmaker, gateway, temporal_client):
    """The membership row is live but its workflow was terminated (an operator, a lost history):
    the erasure resumes the workflow from the row with the cancellation as its first update, which
    cancels Razorpay's subscription now; the erasure itself finishes."""
    owner, member, person, plan = await _consultancy_with_a_member(client, sessionmaker)
    membership, sub, _ = await active_member(client, gateway, owner, member, plan["id"])
    handle = temporal_client.get_workflow_handle(membership["workflow_id"])
    await handle.terminate(reason="test: the membership's workflow is gone")
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
    assert gateway.subscriptions[sub]["status"] == "active"

    started = await client.post("/api/v1/me/privacy/erasure", headers=member.headers(),
                                json={"confirm_email": person.email})
    assert started.status_code == 202, started.text
    done = await _settled(client, owner.headers(), f"/api/v1/privacy-requests/{started.json()['id']}", "done")
    assert done["summary"]["memberships_cancelled"] == 1

    async def at_razorpay() -> str:
        return str(gateway.subscriptions[sub]["status"])
    assert await eventually(at_razorpay, "cancelled", 30) == "cancelled"
    cancels = [r for r in gateway.requests if r.path == f"/v1/subscriptions/{sub}/cancel"]
    assert [r.body.get("cancel_at_cycle_end") for r in cancels] == [0]

    async def workflow_status() -> WorkflowExecutionStatus | None:  # the new run, finished at once
        return (await temporal_client.get_workflow_handle(membership["workflow_id"]).describe()).status
    assert await eventually(workflow_status, WorkflowExecutionStatus.COMPLETED, 30) == \
        WorkflowExecutionStatus.COMPLETED

    async def row() -> Membership:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            found = (await session.execute(select(Membership).where(
                Membership.id == uuid.UUID(membership["id"])))).scalar_one()
            session.expunge(found)
            return found
    kept = await poll_until(row, lambda m: m.status == "cancelled")
    assert (kept.periods_paid, kept.price_minor, kept.short_url, kept.gateway_error) == (1, 149_900, None, None)
    await _never_charged_again(sessionmaker, gateway, sub, membership["id"])
    assert await _where_written(sessionmaker, person.strings()) == {}
