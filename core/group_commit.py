"""Group commit: work that arrives while a batch is in flight is done together by the next one.

Under a burst this makes one statement (one round trip, one commit, one pass through SQLAlchemy
and psycopg) for many callers instead of one each; a lone caller waits for nothing, it is a batch
of one. Each key (an account, a consultancy) has its own queue and one batch in flight, so one
key's slow or failing batch never holds another's. If a batch fails, its items are done one by
one, so an item the database refuses fails only its own caller (unless `split_on_failure` is off:
then every caller of the batch gets its error at once, for a server that is down rather than an
item it refuses). Each caller is answered with its own result once its batch is committed.

Used by the webhook inserter (api/services/payment_events.py), by the stored channels'
hand-overs (activities/handover.py) and by the Redis round trips of requests (core/redis_batch.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


class GroupCommit(Generic[K, I, R]):
    """`run(key, items)` does one batch and returns one result per item, in order."""

    def __init__(self, run: Callable[[K, list[I]], Awaitable[list[R]]], *, batch: int = 200,
                 split_on_failure: bool = True) -> None:
        self._run_batch, self.batch, self.split_on_failure = run, batch, split_on_failure
        self._pending: dict[K, list[tuple[I, asyncio.Future[R]]]] = {}
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self.batches = 0  # batches run (tests and benches read it)

    async def submit(self, key: K, item: I) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((item, future))
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(self._drain(key))
        # A caller that gives up cancels only its own future: the batch is a task of its own and
        # settles only the futures still waiting (no shield needed: one future and callback less).
        return await future

    async def _drain(self, key: K) -> None:
        try:
            while waiting := self._pending.pop(key, None):
                if len(waiting) > self.batch:
                    self._pending[key] = waiting[self.batch:]
                await self._do(key, waiting[:self.batch])
        finally:
            del self._tasks[key]

    async def _do(self, key: K, group: list[tuple[I, asyncio.Future[R]]]) -> None:
        try:
            self.batches += 1
            results = await self._run_batch(key, [item for item, _ in group])
        except Exception as exc:
            if len(group) == 1 or not self.split_on_failure:
                for _, future in group:
                    _settle(future, exc=exc)
                return
            for one in group:   # one by one: only the bad one fails
                await self._do(key, [one])
            return
        for (_, future), result in zip(group, results, strict=True):
            _settle(future, result)

    async def close(self) -> None:
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def _settle(future: asyncio.Future[R], result: R | None = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
