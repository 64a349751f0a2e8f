"""Group commit: work that arrives while a batch is in flight is done together by the next one.

Under a burst this makes one statement (one round trip, one commit, one pass through SQLAlchemy
and psycopg) for many callers instead of one each; a lone caller waits for nothing, it is a batch
of one. Each key (an account, a consultancy) has its own queue and one batch in flight, so one
key's slow or failing batch never holds another's. If a batch fails, its items are done one by
one, so an item the database refuses fails only its own caller (unless `split_on_failure` is off:
then every caller of the batch gets its error at once, for a server that is down rather than an
item it refuses). Each caller is answered with its own result once its batch is committed.

`linger` is PostgreSQL's `commit_delay` for callers: after a batch of more than one item (callers
are arriving together), the next batch waits up to `linger` seconds, or until it is full, before
it starts. Under load that makes fewer, fuller batches, each paying the statement's fixed cost once
for more callers; a caller after a quiet spell still goes at once. The webhook inserter lingers 1 ms
(docs/performance.md, fourteenth pass); the others do not, as their callers are people waiting.

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
                 split_on_failure: bool = True, linger: float = 0.0) -> None:
        self._run_batch, self.batch, self.split_on_failure = run, batch, split_on_failure
        self.linger = linger
        self._pending: dict[K, list[tuple[I, asyncio.Future[R]]]] = {}
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self._lingering: dict[K, asyncio.Event] = {}  # set when the key's next batch is full
        self._closing = False
        self.batches = 0  # batches run (tests and benches read it)

    async def submit(self, key: K, item: I) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        pending = self._pending.setdefault(key, [])
        pending.append((item, future))
        if len(pending) >= self.batch and (lingering := self._lingering.get(key)) is not None:
            lingering.set()
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(self._drain(key))
        # A caller that gives up cancels only its own future: the batch is a task of its own and
        # settles only the futures still waiting (no shield needed: one future and callback less).
        return await future

    async def _drain(self, key: K) -> None:
        try:
            crowded = False  # the last batch had more than one item
            while True:
                if crowded and self.linger > 0:
                    await self._linger(key)
                waiting = self._pending.pop(key, None)
                if not waiting:
                    break
                if len(waiting) > self.batch:
                    self._pending[key] = waiting[self.batch:]
                group = waiting[:self.batch]
                crowded = len(group) > 1
                await self._do(key, group)
        finally:
            del self._tasks[key]

    async def _linger(self, key: K) -> None:
        """Wait up to `linger` seconds for the key's next batch to fill."""
        if self._closing or len(self._pending.get(key, ())) >= self.batch:
            return
        full = self._lingering[key] = asyncio.Event()
        try:
            await asyncio.wait_for(full.wait(), self.linger)
        except TimeoutError:
            pass
        finally:
            del self._lingering[key]

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
        """Wait for every batch queued, without lingering."""
        self._closing = True
        for full in self._lingering.values():
            full.set()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def _settle(future: asyncio.Future[R], result: R | None = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
