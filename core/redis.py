"""Redis client: rate limits and caches. Nothing that must survive lives only here."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

# A burst of concurrent requests waits briefly for a pooled connection instead of failing with
# "Too many connections" (the default pool refuses the 101st at once).
MAX_CONNECTIONS = 100
WAIT_FOR_CONNECTION_SECONDS = 5


def make_redis(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(url, decode_responses=True, health_check_interval=30,
                                           max_connections=MAX_CONNECTIONS, timeout=WAIT_FOR_CONNECTION_SECONDS)
    return Redis(connection_pool=pool)
