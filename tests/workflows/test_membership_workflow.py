"""MembershipWorkflow on the time-skipping server, months in seconds, with the real activities, the
test database and the local Razorpay (its subscription made by the `checkout` update, then paused,
resumed and cancelled by the workflow's background calls). Razorpay's events are signalled as the
webhook relay does (`gateway_event`), with periods on the test server's clock.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import select
from support import poll_until

from core.db import TenantScope, scoped_session
from domain.memberships import (
    CancelRequest,
    MembershipInput,
    MembershipState,
    MembershipStatus,
    PauseRequest,
    PlanTerms,
    SubscriptionEventKind,
    SubscriptionReport,
    course_enrollment_id,
    membership_workflow_id,
)
from models.bookings import Consultant, Offering, OfferingKind
from models.catalogue import PackageCreditMove, PackageGrant
from models.courses import Course, CourseModule, Enrollment, Lesson
from models.identity import Role, User
from models.memberships import Membership, MembershipCharge, MembershipPlan
from models.platform import OutboxMessage
from models.tenancy import Tenant, TenantStatus
from workflows.membership import MembershipWorkflow

EMAIL = "member@memberships.example.com"
MONTH = timedelta(days=30)


async def _member(env, sessionmaker) -> tuple[object, MembershipInput]:
    """A consultancy with a plan (2 credits a month of an offering, and a course), a client's
    membership row and its running workflow."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=f"m-{uuid.uuid4().hex[:8]}", name="Member House", status=TenantStatus.ACTIVE,
                        timezone="Asia/Kolkata", settings={})
        session.add(tenant)
        await session.flush()
        client = User(tenant_id=tenant.id, email=EMAIL, full_name="Member", role=Role.CLIENT, timezone="Asia/Kolkata")
        owner = User(tenant_id=tenant.id, email="owner@memberships.example.com", full_name="Acharya",
                     role=Role.OWNER, timezone="Asia/Kolkata")
        session.add_all([client, owner])
        await session.flush()
        consultant = Consultant(tenant_id=tenant.id, user_id=owner.id, slug="acharya", display_name="Acharya",
                                timezone="Asia/Kolkata", weekly_hours=[])
        course = Course(tenant_id=tenant.id, slug="vedic", title="Vedic basics", status="published",
                        release_time=time(8, 0))
        session.add_all([consultant, course])
        await session.flush()
        module = CourseModule(tenant_id=tenant.id, course_id=course.id, title="One", position=0)
        offering = Offering(tenant_id=tenant.id, consultant_id=consultant.id, kind=OfferingKind.ONE_TO_ONE,
                            title="Kundli reading", duration_minutes=60, price_minor=200_000, currency="INR")
        session.add_all([module, offering])
        await session.flush()
        session.add(Lesson(tenant_id=tenant.id, course_id=course.id, module_id=module.id, title="Welcome",
                           kind="text", position=0, published=True, body_md="text"))
        plan = MembershipPlan(tenant_id=tenant.id, title="Monthly guidance", price_minor=149_900, currency="INR",
                              period="monthly", offering_id=offering.id, credits_per_period=2,
                              course_ids=[str(course.id)], active=True, gateway_plans={})
        session.add(plan)
        await session.flush()
        terms = PlanTerms(plan_id=plan.id, title=plan.title, price_minor=plan.price_minor, currency="INR",
                          offering_id=offering.id, credits_per_period=2, course_ids=[course.id])
        membership = Membership(tenant_id=tenant.id, plan_id=plan.id, client_id=client.id, status="pending",
                                title=plan.title, price_minor=plan.price_minor, currency="INR",
                                terms=terms.model_dump(mode="json"), workflow_id="")
        session.add(membership)
        await session.flush()
        membership.workflow_id = membership_workflow_id(membership.id)
        inp = MembershipInput(membership_id=membership.id, tenant_id=tenant.id, client_id=client.id, terms=terms)
    handle = await env.client.start_workflow(MembershipWorkflow.run, inp, id=membership_workflow_id(inp.membership_id),
                                             task_queue=env.task_queue)
    env.started.append(handle)
    return handle, inp


def _charge(subscription_id: str, payment_id: str, start: datetime) -> SubscriptionReport:
    return SubscriptionReport(kind=SubscriptionEventKind.CHARGED, subscription_id=subscription_id,
                              payment_id=payment_id, amount=149_900, currency="INR", current_start=start,
                              current_end=start + MONTH, event_id=f"evt_{payment_id}")


async def _state(handle) -> MembershipState:
    return await handle.query(MembershipWorkflow.state)


async def _grants(sessionmaker, membership_id) -> list[tuple[int, str, list[str]]]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        grants = (await session.execute(select(PackageGrant).where(PackageGrant.membership_id == membership_id)
                                        .order_by(PackageGrant.expires_at))).scalars().all()
        out = []
        for grant in grants:
            moves = (await session.execute(select(PackageCreditMove.kind).where(
                PackageCreditMove.grant_id == grant.id).order_by(PackageCreditMove.created_at))).scalars().all()
            out.append((grant.credits_total, grant.status, list(moves)))
        return out


async def _enrollment(sessionmaker, inp: MembershipInput) -> str | None:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(Enrollment, course_enrollment_id(inp.membership_id, inp.terms.course_ids[0]))
        return row.status if row else None


async def _authorised(handle, gateway) -> str:
    checkout = await handle.execute_update(MembershipWorkflow.checkout)
    again = await handle.execute_update(MembershipWorkflow.checkout)
    assert again == checkout  # made once
    assert checkout.short_url and checkout.subscription_id in gateway.subscriptions
    gateway.authorise(checkout.subscription_id)  # the client's mandate (its events are ours to signal)
    return checkout.subscription_id


async def test_renewals_grant_credits_once_each_and_cancel_at_period_end_ends_access(env, sessionmaker, gateway):
    handle, inp = await _member(env, sessionmaker)
    sub = await _authorised(handle, gateway)
    t0 = await env.get_current_time()

    await handle.signal(MembershipWorkflow.gateway_event, _charge(sub, "pay_first", t0))
    await handle.signal(MembershipWorkflow.gateway_event, _charge(sub, "pay_first", t0))  # a replay
    await poll_until(lambda: _state(handle), lambda s: s.periods_paid == 1 and s.courses_open != [])
    assert await poll_until(lambda: _enrollment(sessionmaker, inp), lambda s: s == "active") == "active"

    await env.sleep(MONTH)  # Razorpay renews on time: the second period
    await handle.signal(MembershipWorkflow.gateway_event, _charge(sub, "pay_second", t0 + MONTH))
    await handle.signal(MembershipWorkflow.gateway_event, _charge(sub, "pay_first", t0))  # an old replay
    state = await poll_until(lambda: _state(handle), lambda s: s.periods_paid == 2)
    assert (state.status, state.credits_granted, state.charges) == (MembershipStatus.ACTIVE, 4,
                                                                    ["pay_first", "pay_second"])
    assert await _grants(sessionmaker, inp.membership_id) == [(2, "expired", ["grant", "expire"]),
                                                             (2, "active", ["grant"])]

    cancelled = await handle.execute_update(MembershipWorkflow.cancel, CancelRequest())
    assert (cancelled.status, cancelled.cancel_at_period_end) == (MembershipStatus.ACTIVE, True)
    assert await poll_until(lambda: _cancel_requests(gateway, sub), lambda r: len(r) == 1) == [
        {"cancel_at_cycle_end": 1}]

    final: MembershipState = await handle.result()  # the period's end passes
    assert (final.status, final.periods_paid) == (MembershipStatus.CANCELLED, 2)
    assert final.ended_at is not None and t0 + 2 * MONTH <= final.ended_at < t0 + 2 * MONTH + timedelta(minutes=1)
    assert await _enrollment(sessionmaker, inp) == "revoked"
    assert await _grants(sessionmaker, inp.membership_id) == [(2, "expired", ["grant", "expire"]),
                                                             (2, "expired", ["grant", "expire"])]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(Membership, inp.membership_id)
        assert row is not None and (row.status, row.periods_paid) == ("cancelled", 2)
        charges = (await session.execute(select(MembershipCharge.payment_id).where(
            MembershipCharge.membership_id == inp.membership_id))).scalars().all()
        assert sorted(charges) == ["pay_first", "pay_second"]
    assert "membership.ended" in await _templates(sessionmaker)


async def test_pause_resume_then_a_halt_is_past_due_and_expires_after_the_grace(env, sessionmaker, gateway):
    handle, inp = await _member(env, sessionmaker)
    sub = await _authorised(handle, gateway)
    t0 = await env.get_current_time()
    await handle.signal(MembershipWorkflow.gateway_event, _charge(sub, "pay_only", t0))
    await poll_until(lambda: _state(handle), lambda s: s.periods_paid == 1)

    paused = await handle.execute_update(MembershipWorkflow.pause, PauseRequest())
    assert paused.status == MembershipStatus.PAUSED  # answered before Razorpay is asked
    await poll_until(lambda: _status(gateway, sub), lambda s: s == "paused")
    resumed = await handle.execute_update(MembershipWorkflow.resume, PauseRequest())
    assert resumed.status == MembershipStatus.ACTIVE
    await poll_until(lambda: _status(gateway, sub), lambda s: s == "active")
    for kind in (SubscriptionEventKind.PAUSED, SubscriptionEventKind.RESUMED):  # Razorpay's echoes, late
        await handle.signal(MembershipWorkflow.gateway_event, SubscriptionReport(kind=kind, subscription_id=sub))
    echoed = await poll_until(lambda: _state(handle), lambda s: not any(s.echoes.values()))
    assert echoed.status == MembershipStatus.ACTIVE  # a late echo of the pause does not pause it again

    await handle.signal(MembershipWorkflow.gateway_event, SubscriptionReport(
        kind=SubscriptionEventKind.HALTED, subscription_id=sub, status="halted"))
    state = await poll_until(lambda: _state(handle), lambda s: s.status == MembershipStatus.PAST_DUE)
    assert state.past_due_since is not None
    await poll_until(lambda: _templates(sessionmaker), lambda t: "membership.past_due" in t)

    final: MembershipState = await handle.result()  # a week passes without a charge
    assert (final.status, final.end_reason) == (MembershipStatus.EXPIRED, "the renewal was never paid")
    assert gateway.subscriptions[sub]["status"] == "cancelled"  # cancelled at Razorpay, now
    assert await _enrollment(sessionmaker, inp) == "revoked"
    assert [g[1] for g in await _grants(sessionmaker, inp.membership_id)] == ["expired"]


async def _cancel_requests(gateway, sub: str) -> list[object]:
    return [r.body for r in gateway.requests if r.path == f"/v1/subscriptions/{sub}/cancel"]


async def _status(gateway, sub: str) -> str:
    return str(gateway.subscriptions[sub]["status"])


async def _templates(sessionmaker) -> list[str]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(OutboxMessage.template).where(
            OutboxMessage.recipient == EMAIL))).scalars())
