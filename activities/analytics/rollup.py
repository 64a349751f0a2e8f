"""The AnalyticsRollup workflow's activities. Each is one or a few set-based statements
(models/analytics_rollup.py); none loops over rows in Python."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.db import TenantScope, scoped_session
from core.redis import make_redis
from core.settings import Settings
from domain.analytics import (
    FLUSH_LOOKBACK_SECONDS,
    FLUSH_VIEWS,
    REGISTER_ZONES,
    ROLL_UP,
    VIEW_BUCKET_SECONDS,
    ZoneRollup,
    parse_view_field,
    view_bucket,
    view_key,
)
from models import analytics_clients as clients_of
from models import analytics_rollup as sql


class AnalyticsActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 redis: Redis | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._redis = redis

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = make_redis(self.settings.redis_url)
        return self._redis

    @activity.defn(name=REGISTER_ZONES)
    async def register_zones(self) -> list[str]:
        """Every reporting zone (UTC, consultancies', consultants', team members', asked-for ones)."""
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            return await sql.register_zones(session)

    @activity.defn(name=FLUSH_VIEWS)
    async def flush_views(self) -> int:
        """Copy the Redis view counters of the last two days into analytics_view_buckets.

        The counters are totals of their quarter hour, so the copy sets (never adds) and a
        repeated flush writes the same; GREATEST keeps a bucket's count if Redis lost its key."""
        now = view_bucket(time.time())
        buckets = list(range(now - FLUSH_LOOKBACK_SECONDS, now + VIEW_BUCKET_SECONDS, VIEW_BUCKET_SECONDS))
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket in buckets:
                pipe.hgetall(view_key(bucket))
            counters = await pipe.execute()
        tenants, consultants, kinds, ats, views = [], [], [], [], []
        for bucket, fields in zip(buckets, counters, strict=True):
            for name, count in (fields or {}).items():
                parsed = parse_view_field(name)
                if parsed is None:
                    continue
                tenants.append(str(parsed[0]))
                consultants.append(str(parsed[1]))
                kinds.append(parsed[2])
                ats.append(datetime.fromtimestamp(bucket, UTC))
                views.append(int(count))
        if not views:
            return 0
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            await session.execute(text("""
                INSERT INTO analytics_view_buckets (tenant_id, consultant_id, kind, bucket_at, views)
                SELECT v.tenant_id, v.consultant_id, v.kind, v.bucket_at, v.views
                FROM unnest(CAST(:tenants AS uuid[]), CAST(:consultants AS uuid[]), CAST(:kinds AS text[]),
                            CAST(:ats AS timestamptz[]), CAST(:views AS int[]))
                     AS v(tenant_id, consultant_id, kind, bucket_at, views)
                WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = v.tenant_id)
                ON CONFLICT (tenant_id, consultant_id, kind, bucket_at) DO UPDATE
                SET views = GREATEST(analytics_view_buckets.views, EXCLUDED.views)"""),
                {"tenants": tenants, "consultants": consultants, "kinds": kinds, "ats": ats, "views": views})
        return len(views)

    @activity.defn(name=ROLL_UP)
    async def roll_up(self, inp: ZoneRollup) -> int:
        """Fill tenants new to the zone (their whole history), then recompute the zone's last
        `days` local days for every tenant, and the client figures of the usual periods. One
        transaction: readers see old or new, never half."""
        today = datetime.now(ZoneInfo(inp.zone)).date()
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            written = 0
            if inp.backfill:
                written += await sql.fill(session, inp.zone, await sql.unfilled_tenants(session, inp.zone), today)
            tenants = await sql.all_tenants(session)
            written += await sql.roll_up(session, inp.zone, today - timedelta(days=inp.days),
                                         today + timedelta(days=1), tenants)
            written += await clients_of.precompute(session, inp.zone, tenants, today)
        return written

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
