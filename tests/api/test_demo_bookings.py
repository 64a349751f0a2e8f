"""The demo data makes a bookable public page, and seeding twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from core.db import TenantScope, scoped_session
from models.bookings import Offering
from models.platform import PendingWorkflowStart
from workers.relay import relay_pending_starts
from workers.seed import seed_demo


async def test_demo_consultant_is_bookable(client, sessionmaker, keys, api_settings):
    await seed_demo(sessionmaker, keys, api_settings, None)
    await seed_demo(sessionmaker, keys, api_settings, None)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(Offering)) == 3
    page = (await client.get("/api/v1/public/demo")).json()
    [acharya] = page["consultants"]
    titles = {o["title"]: o for o in acharya["offerings"]}
    assert set(titles) == {"Kundli reading", "Quick question", "Saturn transit 2027 (webinar)"}
    reading = titles["Kundli reading"]
    assert [f["name"] for f in reading["intake_form"]] == ["birth_date", "birth_time", "birth_place"]
    slots = (await client.get(f"/api/v1/public/demo/consultants/acharya/offerings/{reading['id']}/slots",
                              params={"days": 14, "timezone": "Europe/London"})).json()["slots"]
    assert slots and all(s["local_start"].endswith(("Z", "+00:00", "+01:00")) for s in slots)
    webinar = titles["Saturn transit 2027 (webinar)"]
    sessions = (await client.get(f"/api/v1/public/demo/consultants/acharya/offerings/{webinar['id']}/slots",
                                 params={"days": 30})).json()["slots"]
    assert [s["seats_left"] for s in sessions] == [50]


async def test_demo_onboarding_starts_even_when_temporal_was_down_while_seeding(client, sessionmaker, keys,
                                                                                api_settings, temporal_client):
    """Seeded without Temporal, the pending consultancy's workflow is owed, and the relay starts it."""
    summary = await seed_demo(sessionmaker, keys, api_settings, None)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [owed] = (await session.execute(select(PendingWorkflowStart).where(
            PendingWorkflowStart.workflow_id == summary.pending_workflow_id))).scalars().all()
        assert owed.started_at is None
    # the onboarding, the demo client's remedy programme (workers/seed_remedies.py) and course
    # enrolment (workers/seed_courses.py)
    assert await relay_pending_starts(sessionmaker, temporal_client, grace=timedelta(0)) == 3
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        remedy_ids = (await session.execute(select(PendingWorkflowStart.workflow_id).where(
            PendingWorkflowStart.workflow_type.in_(["Remedy", "Enrollment"])))).scalars().all()
    for remedy_id in remedy_ids:
        await temporal_client.get_workflow_handle(remedy_id).terminate("test finished")
    handle = temporal_client.get_workflow_handle(summary.pending_workflow_id)
    try:
        described = await handle.describe()
        assert described.status == WorkflowExecutionStatus.RUNNING
        assert described.search_attributes["EntityStatus"] == ["awaiting_approval"]
        await seed_demo(sessionmaker, keys, api_settings, temporal_client)  # again, now with Temporal: no second start
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            assert await session.scalar(select(func.count()).select_from(PendingWorkflowStart).where(
                PendingWorkflowStart.workflow_id == summary.pending_workflow_id)) == 1
        assert (await handle.describe()).run_id == described.run_id
    finally:
        await handle.terminate("test finished")
