"""Redis client: rate limits and caches. Nothing that must survive lives only here."""

from __future__ import annotations

from redis.asyncio import Redis


def make_redis(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True, health_check_interval=30)
