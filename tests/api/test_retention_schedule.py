"""The retention Schedule exists once however many workers start, fires daily at 03:00 IST, and a
triggered run sweeps on the production worker (Temporal dev server, real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from support import eventually
from temporalio.client import ScheduleActionStartWorkflow

from core.db import TenantScope, scoped_session
from domain.privacy.retention import RETENTION_SCHEDULE_ID, RetentionResult
from models.platform import IdempotencyRecord


async def test_the_retention_schedule_is_made_once_and_its_run_sweeps(client, sessionmaker, temporal_client,
                                                                      product_schedules):
    old = datetime.now(UTC) - timedelta(days=3)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        session.add(IdempotencyRecord(scope="user:retention", key="old", fingerprint="f" * 64, created_at=old,
                                      updated_at=old))
    await product_schedules()
    schedule = temporal_client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    described = await schedule.describe()
    [calendar] = described.schedule.spec.calendars
    assert (calendar.hour[0].start, calendar.minute[0].start) == (21, 30)  # 03:00 in India
    assert isinstance(described.schedule.action, ScheduleActionStartWorkflow)
    assert described.schedule.action.workflow == "RetentionSweep"
    await schedule.trigger()

    async def runs() -> int:
        return len((await schedule.describe()).info.recent_actions)
    assert await eventually(runs, 1) == 1
    run = (await schedule.describe()).info.recent_actions[0].action
    result = await temporal_client.get_workflow_handle(run.workflow_id, result_type=RetentionResult).result()
    assert result.removed["idempotency_records"] >= 1 and result.unfinished == []
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert (await session.execute(select(IdempotencyRecord).where(
            IdempotencyRecord.scope == "user:retention"))).first() is None
