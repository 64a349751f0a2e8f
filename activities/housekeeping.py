"""Housekeeping activities: deletes what the platform keeps only for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.housekeeping import PURGE_IDEMPOTENCY
from models.platform import IdempotencyRecord


class HousekeepingActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    @activity.defn(name=PURGE_IDEMPOTENCY)
    async def purge_idempotency_records(self, keep_seconds: int) -> int:
        """Delete the stored answers of Idempotency-Keys older than `keep_seconds`; how many."""
        cutoff = datetime.now(UTC) - timedelta(seconds=keep_seconds)
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
