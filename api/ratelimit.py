"""Fixed-window counters in Redis: login throttling, abuse limits and the API rate limits."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from api.problems import RATE_LIMITED, Problem
from core.redis_batch import RedisBatch


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


# One round trip for any number of counters: each of the first ARGV[2] keys is increased (by
# ARGV[2 + i], else by one) and, on its first hit, given the window (ARGV[1]) as its expiry; the
# keys after them are only looked up (does it exist: a revoked session). The answer is
# [hits, ttl, hits, ttl, ..., exists, ...].
_HIT_ALL = """
local out = {}
local counters = tonumber(ARGV[2] or #KEYS)
for i, key in ipairs(KEYS) do
  if i <= counters then
    local hits = redis.call('INCRBY', key, tonumber(ARGV[2 + i] or 1))
    local ttl = redis.call('TTL', key)
    if ttl < 0 then
      redis.call('EXPIRE', key, ARGV[1])
      ttl = tonumber(ARGV[1])
    end
    out[2 * i - 1] = hits
    out[2 * i] = ttl
  else
    out[counters + i] = redis.call('EXISTS', key)
  end
end
return out
"""


_HIT_ALL_SHA = hashlib.sha1(_HIT_ALL.encode(), usedforsecurity=False).hexdigest()  # what Redis names it by


async def count_all(batch: RedisBatch, keys: list[str], window_seconds: int) -> list[tuple[int, int]]:
    """Add one to each counter in one round trip (EVALSHA; the script is sent only the first time
    a server has not seen it); return (count in this window, seconds until it resets) per key."""
    counts, _ = await count_and_check(batch, keys, window_seconds, [])
    return counts


async def count_and_check(batch: RedisBatch, keys: list[str], window_seconds: int, check: list[str],
                          adding: list[int] | None = None) -> tuple[list[tuple[int, int]], list[bool]]:
    """count_all, and whether each key of `check` exists, in the same round trip, which the
    concurrent requests of the process share (`core.redis_batch`). `adding`: how much to add to
    each counter (one each when not given)."""
    args = [*keys, *check]
    tail = (window_seconds, len(keys), *(adding or ()))
    try:
        [values] = await batch.execute(("EVALSHA", _HIT_ALL_SHA, len(args), *args, *tail))
    except NoScriptError:  # a Redis that restarted since: EVAL sends the script, and keeps it
        [values] = await batch.execute(("EVAL", _HIT_ALL, len(args), *args, *tail))
    counted = 2 * len(keys)
    return ([(int(values[i]), max(int(values[i + 1]), 1)) for i in range(0, counted, 2)],
            [bool(int(value)) for value in values[counted:]])
