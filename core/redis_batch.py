"""The Redis commands of concurrent requests, sent together: one pipeline, one round trip.

Every API request makes one or two small Redis calls (its rate-limit counters with its session's
sign-out check; a public page's view count). A round trip costs the API process far more CPU than
Redis spends answering it (the socket's send and the event loop's wake-up: docs/performance.md),
and under load dozens of requests make theirs at the same moment. `RedisBatch` sends the
commands of the requests that arrive while a round trip is in flight as one non-transactional
pipeline (`core.group_commit`): Redis runs them in order, each as if sent alone, so a Lua script or
an HINCRBY is exactly as atomic as before. A lone request waits for nothing: it is a batch of one.

Failure stays each caller's own: a command Redis refuses raises its error for the caller that
sent it only. A Redis that is down or does not answer within `timeout` fails the whole batch at
once (every caller gets the error at the same moment, and handles it as before: the rate limits
are skipped, a view is not counted), never one caller after another.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from core.group_commit import GroupCommit

Command = tuple[str | int | float, ...]
BATCH = 256
TIMEOUT_SECONDS = 2.0


class RedisBatch:
    """One per process and Redis client; `execute` is called from that process's event loop."""

    def __init__(self, redis: Redis, *, batch: int = BATCH, timeout: float = TIMEOUT_SECONDS) -> None:
        self.redis, self.timeout = redis, timeout
        self._group: GroupCommit[None, tuple[Command, ...], list[Any]] = GroupCommit(
            self._send, batch=batch, split_on_failure=False)

    @property
    def round_trips(self) -> int:
        """Pipelines sent so far (tests and benches read it)."""
        return self._group.batches

    async def execute(self, *commands: Command) -> list[Any]:
        """The replies to `commands`, in order, sent with whatever other callers are sending.
        Raises the first error Redis answered to one of them (as a pipeline of their own would)."""
        replies = await self._group.submit(None, commands)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    async def _send(self, _key: None, calls: list[tuple[Command, ...]]) -> list[list[Any]]:
        async with asyncio.timeout(self.timeout), self.redis.pipeline(transaction=False) as pipe:
            for commands in calls:
                for command in commands:
                    pipe.execute_command(*command)
            replies = await pipe.execute(raise_on_error=False)
        out, at = [], 0
        for commands in calls:
            out.append(replies[at:at + len(commands)])
            at += len(commands)
        return out

    async def close(self) -> None:
        await self._group.close()
