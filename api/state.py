"""What the API process holds for its lifetime: pools and clients, built once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.rate_counts import RateCounts
from api.temporal_calls import guarded
from core.db import make_engine, make_sessionmaker, open_pool_ahead
from core.redis import make_redis
from core.redis_batch import RedisBatch
from core.security import Keys
from core.settings import Settings
from core.temporal import connect_temporal

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    temporal: Client | None
    keys: Keys
    # the Redis round trips of concurrent requests, sent together (rate limits, view counts)
    redis_batch: RedisBatch = field(init=False)
    _rate_counts: dict[int, RateCounts] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.redis_batch = RedisBatch(self.redis)

    def rate_counts(self, window_seconds: int) -> RateCounts:
        """What this process knows of its rate-limit counters of that window (api/rate_counts.py)."""
        counts = self._rate_counts.get(window_seconds)
        if counts is None:
            counts = self._rate_counts[window_seconds] = RateCounts(self.redis_batch, window_seconds)
        return counts

    @classmethod
    async def build(cls, settings: Settings, *, temporal: Client | None = None) -> AppState:
        # A request waits briefly for a connection, then is answered 503 + Retry-After (api/problems.py).
        engine = make_engine(settings.database_url, settings.database_pool_size,
                             pool_timeout=settings.database_pool_timeout_seconds,
                             observed="api" if settings.telemetry_enabled else None)
        client = temporal
        if client is None:
            try:
                client = await connect_temporal(settings)
            except RuntimeError:
                # The API still serves reads without Temporal; /ready reports it as down and
                # workflow starts wait in pending_workflow_starts for the relay.
                client = None
        if client is not None:
            client = guarded(client, settings.api_update_deadline_seconds)
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=make_sessionmaker(engine),
            redis=make_redis(settings.redis_url),
            temporal=client,
            keys=Keys.from_settings(settings),
        )

    async def open_connections(self, count: int) -> None:
        await open_pool_ahead(self.engine, count)

    async def close(self) -> None:
        for counts in self._rate_counts.values():
            await counts.close()
        await self.redis_batch.close()
        await self.redis.aclose()
        await self.engine.dispose()
