"""Fixed-window counters in Redis, for login throttling and other abuse limits."""

from __future__ import annotations

from redis.asyncio import Redis

from api.problems import RATE_LIMITED, Problem


async def count(redis: Redis, key: str, window_seconds: int) -> tuple[int, int]:
    """Add one to the counter; return (count in this window, seconds until it resets)."""
    async with redis.pipeline(transaction=True) as pipe:
        # SET NX starts the window (works on Redis 6, which has no EXPIRE NX)
        pipe.set(key, 0, ex=window_seconds, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, hits, ttl = await pipe.execute()
    return int(hits), max(int(ttl), 1)


async def enforce(redis: Redis, key: str, limit: int, window_seconds: int, what: str) -> None:
    hits, ttl = await count(redis, key, window_seconds)
    if hits > limit:
        raise Problem(RATE_LIMITED, f"too many {what}; try again in {ttl} seconds",
                      headers={"Retry-After": str(ttl)}, extra={"retry_after": ttl})


async def locked_for(redis: Redis, key: str, limit: int) -> int:
    """Seconds left on a lock if the failure counter at `key` reached `limit`, else 0."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        value, ttl = await pipe.execute()
    if value is not None and int(value) >= limit:
        return max(int(ttl), 1)
    return 0
