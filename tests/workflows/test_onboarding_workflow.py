"""OnboardingWorkflow on the time-skipping server: days pass in milliseconds, no sleeping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support import poll_until
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from core.db import TenantScope, scoped_session
from core.security import hash_password
from domain.onboarding import (
    OnboardingDecision,
    OnboardingInput,
    OnboardingState,
    OnboardingStatus,
    onboarding_workflow_id,
)
from models.identity import Role, User
from models.platform import AuditEvent, OutboxMessage
from models.tenancy import Tenant, TenantStatus
from workflows.onboarding import OnboardingWorkflow


async def _pending_tenant(sessionmaker, admins: int = 2) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=f"t-{uuid.uuid4().hex[:8]}", name="Vastu Vidya", status=TenantStatus.PENDING,
                        timezone="Asia/Kolkata", settings={})
        session.add(tenant)
        await session.flush()
        owner = User(tenant_id=tenant.id, email="owner@vastu.example.com", full_name="Owner",
                     role=Role.OWNER, password_hash=hash_password("x" * 12))
        admin_users = [User(tenant_id=None, email=f"admin{i}@example.com", full_name=f"Admin {i}",
                            role=Role.PLATFORM_ADMIN) for i in range(admins)]
        session.add_all([owner, *admin_users])
        await session.flush()
        return tenant.id, owner.id, [a.id for a in admin_users]


async def _start(env, tenant_id, owner_id, verified: bool = False) -> WorkflowHandle:
    handle = await env.client.start_workflow(
        OnboardingWorkflow.run, OnboardingInput(tenant_id=tenant_id, owner_user_id=owner_id, email_verified=verified),
        id=onboarding_workflow_id(tenant_id), task_queue=env.task_queue,
    )
    env.started.append(handle)
    return handle


async def _messages(sessionmaker, template: str) -> list[OutboxMessage]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rows = await session.execute(select(OutboxMessage).where(OutboxMessage.template == template))
        return list(rows.scalars())


async def _tenant(sessionmaker, tenant_id) -> Tenant:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        return tenant


async def _state(handle) -> OnboardingState:
    return await handle.query(OnboardingWorkflow.state)


async def test_verified_then_approved_activates_the_tenant(env, sessionmaker):
    tenant_id, owner_id, admins = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id)
    await handle.signal(OnboardingWorkflow.email_verified, datetime.now(UTC))
    assert (await _state(handle)).status == OnboardingStatus.AWAITING_APPROVAL
    result = await handle.execute_update(
        OnboardingWorkflow.decide, OnboardingDecision(approve=True, actor_user_id=admins[0], request_id="req-1"))
    assert result.status == OnboardingStatus.APPROVED and result.decided_by == admins[0]
    final = await handle.result()
    assert final.status == OnboardingStatus.APPROVED
    assert (await _tenant(sessionmaker, tenant_id)).status == TenantStatus.ACTIVE
    [told] = await _messages(sessionmaker, "onboarding_approved")
    assert told.recipient == "owner@vastu.example.com"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        audit = (await session.execute(select(AuditEvent).where(AuditEvent.action == "tenant.approved"))).scalar_one()
    assert audit.actor_user_id == admins[0] and audit.request_id == "req-1"


async def test_a_day_without_verification_sends_one_reminder(env, sessionmaker):
    tenant_id, owner_id, _ = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id)
    await env.sleep(timedelta(hours=23))
    assert await _messages(sessionmaker, "verify_email_reminder") == []
    await env.sleep(timedelta(hours=2))
    assert (await _state(handle)).verification_reminders == 1
    await env.sleep(timedelta(days=3))
    [reminder] = await poll_until(lambda: _messages(sessionmaker, "verify_email_reminder"), bool)
    assert reminder.recipient == "owner@vastu.example.com"
    assert (await _state(handle)).verification_reminders == 1


async def test_verifying_in_time_means_no_reminder(env, sessionmaker):
    tenant_id, owner_id, _ = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id)
    await env.sleep(timedelta(hours=5))
    await handle.signal(OnboardingWorkflow.email_verified, datetime.now(UTC))
    await env.sleep(timedelta(days=2))
    assert await _messages(sessionmaker, "verify_email_reminder") == []
    assert (await _state(handle)).verification_reminders == 0


async def test_admins_are_nudged_daily_while_approval_waits(env, sessionmaker):
    tenant_id, owner_id, admins = await _pending_tenant(sessionmaker, admins=2)
    handle = await _start(env, tenant_id, owner_id, verified=True)
    await env.sleep(timedelta(hours=23))
    assert await _messages(sessionmaker, "onboarding_pending_admin") == []
    await env.sleep(timedelta(days=1, hours=2))  # 49 h after verification
    assert (await _state(handle)).admin_nudges == 2  # after 24 h and after 48 h
    # Sent in the background, after the step: the nudge timer never waits on the provider.
    nudges = await poll_until(lambda: _messages(sessionmaker, "onboarding_pending_admin"), lambda m: len(m) >= 4)
    assert len(nudges) == 2 * 2  # each admin, each day
    assert {m.user_id for m in nudges} == set(admins)
    await handle.execute_update(OnboardingWorkflow.decide,
                                OnboardingDecision(approve=True, actor_user_id=admins[1]))
    count = len(await _messages(sessionmaker, "onboarding_pending_admin"))
    await env.sleep(timedelta(days=3))
    assert len(await _messages(sessionmaker, "onboarding_pending_admin")) == count


async def test_rejection_needs_a_reason_and_records_it(env, sessionmaker):
    tenant_id, owner_id, admins = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id, verified=True)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OnboardingWorkflow.decide,
                                    OnboardingDecision(approve=False, reason="  ", actor_user_id=admins[0]))
    assert "say why" in str(refused.value.cause)
    assert (await _tenant(sessionmaker, tenant_id)).status == TenantStatus.PENDING
    state = await handle.execute_update(
        OnboardingWorkflow.decide,
        OnboardingDecision(approve=False, reason="Profile lists no qualifications", actor_user_id=admins[0]))
    assert state.status == OnboardingStatus.REJECTED
    tenant = await _tenant(sessionmaker, tenant_id)
    assert tenant.status == TenantStatus.REJECTED and tenant.status_reason == "Profile lists no qualifications"
    # The update answered once the tenant was decided; the owner's email follows in the background.
    [told] = await poll_until(lambda: _messages(sessionmaker, "onboarding_rejected"), bool)
    assert "Profile lists no qualifications" in told.body


async def test_only_one_decision_is_accepted(env, sessionmaker):
    tenant_id, owner_id, admins = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id, verified=True)
    await handle.execute_update(OnboardingWorkflow.decide, OnboardingDecision(approve=True, actor_user_id=admins[0]))
    # The workflow has ended with its decision: a second one finds nothing to change.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(OnboardingWorkflow.decide,
                                    OnboardingDecision(approve=False, reason="changed mind", actor_user_id=admins[1]))
    assert (await _tenant(sessionmaker, tenant_id)).status == TenantStatus.ACTIVE
    await handle.result()  # the run ends once its messages are out
    assert len(await _messages(sessionmaker, "onboarding_approved")) == 1


async def test_activities_are_idempotent_when_retried(env, sessionmaker, settings):
    """Running the decision activity twice (as a retry would) changes and sends nothing twice."""
    from activities.onboarding import OnboardingActivities
    from domain.onboarding import ApplyDecision, OnboardingRef

    tenant_id, owner_id, admins = await _pending_tenant(sessionmaker)
    activities = OnboardingActivities(sessionmaker, settings)
    ref = OnboardingRef(workflow_id=onboarding_workflow_id(tenant_id), tenant_id=tenant_id, owner_user_id=owner_id)
    step = ApplyDecision(ref=ref, decision=OnboardingDecision(approve=True, actor_user_id=admins[0]))
    assert await activities.apply_decision(step) == "active"
    assert await activities.apply_decision(step) == "active"
    assert len(await _messages(sessionmaker, "onboarding_approved")) == 1
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        audits = (await session.execute(select(AuditEvent).where(AuditEvent.action == "tenant.approved"))).all()
    assert len(audits) == 1


async def test_a_second_decision_while_the_first_is_applied_is_refused(env, sessionmaker):
    """Two admins click at once: the validator refuses the second while the first is applied."""
    import asyncio

    tenant_id, owner_id, admins = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id, verified=True)
    outcomes = await asyncio.gather(
        handle.execute_update(OnboardingWorkflow.decide, OnboardingDecision(approve=True, actor_user_id=admins[0])),
        handle.execute_update(OnboardingWorkflow.decide,
                              OnboardingDecision(approve=False, reason="duplicate", actor_user_id=admins[1])),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if isinstance(o, OnboardingState)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(accepted) == 1 and len(refused) == 1
    assert isinstance(refused[0], WorkflowUpdateFailedError), refused  # the validator's refusal, not a timeout
    tenant = await _tenant(sessionmaker, tenant_id)
    assert tenant.status == (TenantStatus.ACTIVE if accepted[0].status == OnboardingStatus.APPROVED
                             else TenantStatus.REJECTED)


async def _verify_in_database(sessionmaker, owner_id, at: datetime) -> None:
    """The API committed the verification, but its signal to the workflow was lost."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        owner = await session.get(User, owner_id)
        assert owner is not None
        owner.email_verified_at = at


async def test_a_lost_verification_signal_is_made_good_from_the_database(env, sessionmaker):
    tenant_id, owner_id, _ = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id)
    verified_at = datetime.now(UTC).replace(microsecond=0)
    await _verify_in_database(sessionmaker, owner_id, verified_at)
    await env.sleep(timedelta(hours=23))
    assert (await _state(handle)).status == OnboardingStatus.AWAITING_VERIFICATION  # no signal came
    await env.sleep(timedelta(hours=2))
    state = await _state(handle)
    assert state.status == OnboardingStatus.AWAITING_APPROVAL and state.email_verified_at == verified_at
    assert state.verification_reminders == 0  # they had verified: no reminder
    assert await _messages(sessionmaker, "verify_email_reminder") == []
    await env.sleep(timedelta(days=1))
    assert (await _state(handle)).admin_nudges >= 1  # and the admins now hear of the application


async def test_a_verification_after_the_reminder_is_found_within_a_day(env, sessionmaker):
    tenant_id, owner_id, _ = await _pending_tenant(sessionmaker)
    handle = await _start(env, tenant_id, owner_id)
    await env.sleep(timedelta(days=1, hours=1))
    assert (await _state(handle)).verification_reminders == 1
    await _verify_in_database(sessionmaker, owner_id, datetime.now(UTC))  # on day 3, signal lost again
    await env.sleep(timedelta(days=1))
    assert (await _state(handle)).status == OnboardingStatus.AWAITING_APPROVAL
    assert (await _state(handle)).verification_reminders == 1
