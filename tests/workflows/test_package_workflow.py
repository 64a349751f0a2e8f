"""SessionPackageWorkflow on the time-skipping server: a month of a package passes in seconds.

The credits are granted by the real activity (as the Order workflow's package handler does), a
booking takes one in the database, then the workflow reminds the client of the two left before
they expire (through its outbox) and expires them; a revoked package neither reminds nor expires.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from activities.packages import PackageActivities
from core.db import TenantScope, scoped_session
from domain.packages import GrantRequest, GrantStatus, PackageState, package_workflow_id
from models.bookings import Consultant, Offering, OfferingKind
from models.catalogue import PackageCreditMove, PackageGrant, SessionPackage, take_credit
from models.identity import Role, User
from models.platform import OutboxMessage
from models.tenancy import Tenant, TenantStatus
from workflows.packages import SessionPackageWorkflow

CLIENT_EMAIL = "buyer@packages.example.com"


async def _package(sessionmaker) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=f"p-{uuid.uuid4().hex[:8]}", name="Package House", status=TenantStatus.ACTIVE,
                        timezone="Asia/Kolkata", settings={})
        session.add(tenant)
        await session.flush()
        client = User(tenant_id=tenant.id, email=CLIENT_EMAIL, full_name="Buyer", role=Role.CLIENT,
                      timezone="Asia/Kolkata")
        owner = User(tenant_id=tenant.id, email="owner@packages.example.com", full_name="Acharya", role=Role.OWNER,
                     timezone="Asia/Kolkata")
        session.add_all([client, owner])
        await session.flush()
        consultant = Consultant(tenant_id=tenant.id, user_id=owner.id, slug="acharya", display_name="Acharya",
                                timezone="Asia/Kolkata", weekly_hours=[])
        session.add(consultant)
        await session.flush()
        offering = Offering(tenant_id=tenant.id, consultant_id=consultant.id, kind=OfferingKind.ONE_TO_ONE,
                            title="Kundli reading", duration_minutes=60, price_minor=200_000, currency="INR")
        session.add(offering)
        await session.flush()
        package = SessionPackage(tenant_id=tenant.id, offering_id=offering.id, title="3 readings", sessions=3,
                                 price_minor=450_000, currency="INR", valid_days=30, reminder_days=7,
                                 credit_back_min_percent=100, active=True)
        session.add(package)
        await session.flush()
        return tenant.id, client.id, offering.id, package.id


async def _granted(env, sessionmaker, settings) -> tuple[uuid.UUID, object]:
    tenant_id, client_id, _, package_id = await _package(sessionmaker)
    grant_id = uuid.uuid4()
    request = GrantRequest(grant_id=grant_id, tenant_id=tenant_id, client_id=client_id, order_id=None,
                           package_id=package_id, granted_at=await env.get_current_time())
    activities = PackageActivities(sessionmaker, settings)
    started = await activities.grant_credits(request)
    assert await activities.grant_credits(request) == started  # a retried grant grants nothing more
    assert started.remind_at == started.expires_at - timedelta(days=7)
    handle = await env.client.start_workflow(SessionPackageWorkflow.run, started, id=package_workflow_id(grant_id),
                                             task_queue=env.task_queue)
    env.started.append(handle)
    return grant_id, handle


async def _reminders(sessionmaker) -> list[str]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(OutboxMessage.body).where(
            OutboxMessage.recipient == CLIENT_EMAIL, OutboxMessage.template == "package.expiring",
            OutboxMessage.channel == "email"))).scalars())


async def _ledger(sessionmaker, grant_id: uuid.UUID) -> tuple[PackageGrant, list[tuple[str, int, int]]]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        grant = await session.get(PackageGrant, grant_id)
        assert grant is not None
        moves = (await session.execute(select(PackageCreditMove).where(PackageCreditMove.grant_id == grant_id)
                                       .order_by(PackageCreditMove.created_at))).scalars()
        return grant, [(m.kind, m.delta, m.left_after) for m in moves]


async def test_a_package_reminds_before_its_credits_expire_then_expires_what_is_left(env, sessionmaker, settings):
    grant_id, handle = await _granted(env, sessionmaker, settings)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        grant = await session.get(PackageGrant, grant_id)
        assert grant is not None
        taken = await take_credit(session, tenant_id=grant.tenant_id, client_id=grant.client_id,
                                  offering_id=grant.offering_id, booking_id=None,  # type: ignore[arg-type]
                                  now=await env.get_current_time())
        assert taken is not None and taken.id == grant_id

    state: PackageState = await handle.result()  # 30 days, skipped
    assert (state.status, state.reminded, state.left_at_end) == (GrantStatus.EXPIRED, True, 2)
    [reminder] = await _reminders(sessionmaker)
    assert "2 session(s) of 3 readings" in reminder
    grant, moves = await _ledger(sessionmaker, grant_id)
    assert grant.status == "expired"
    assert moves == [("grant", 3, 3), ("use", -1, 2), ("expire", -2, 0)]


async def test_a_revoked_package_neither_reminds_nor_expires(env, sessionmaker, settings):
    grant_id, handle = await _granted(env, sessionmaker, settings)
    await handle.signal(SessionPackageWorkflow.revoke, "the order was refunded")
    state: PackageState = await handle.result()
    assert (state.status, state.reminded) == (GrantStatus.REVOKED, False)
    assert await _reminders(sessionmaker) == []
    _, moves = await _ledger(sessionmaker, grant_id)
    assert moves == [("grant", 3, 3)]  # (the order's handler revokes the credits in the database itself)
