"""Housekeeping forgets Idempotency-Key answers older than a day, and only those."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from domain.housekeeping import IDEMPOTENCY_KEEP, HousekeepingInput, HousekeepingResult
from models.platform import IdempotencyRecord


async def test_housekeeping_purges_answers_older_than_a_day(env, sessionmaker):
    now = datetime.now(UTC)
    ages = {"fresh": timedelta(minutes=5), "almost": IDEMPOTENCY_KEEP - timedelta(minutes=1),
            "old": IDEMPOTENCY_KEEP + timedelta(minutes=1), "ancient": timedelta(days=30)}
    async with sessionmaker() as session, session.begin():
        for key, age in ages.items():
            session.add(IdempotencyRecord(scope="user:test", key=key, fingerprint="f" * 64, status_code=201,
                                          response_body="x", created_at=now - age, updated_at=now - age,
                                          completed_at=now - age))
    result = await env.client.execute_workflow(
        "Housekeeping", HousekeepingInput(), id=f"housekeeping-{uuid.uuid4()}", task_queue=env.task_queue,
        result_type=HousekeepingResult)
    assert result.idempotency_records_purged == 2
    async with sessionmaker() as session:
        kept = set((await session.execute(select(IdempotencyRecord.key))).scalars())
    assert kept == {"fresh", "almost"}
