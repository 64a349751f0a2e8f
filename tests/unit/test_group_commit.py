"""core.group_commit: a caller that gives up leaves its batch and the other callers alone."""

from __future__ import annotations

import asyncio

from core.group_commit import GroupCommit


async def test_a_caller_that_gives_up_does_not_stop_its_batch_or_the_others() -> None:
    running, release = asyncio.Event(), asyncio.Event()
    done: list[list[int]] = []

    async def run(_key: None, items: list[int]) -> list[int]:
        running.set()
        await release.wait()
        done.append(items)
        return [item * 10 for item in items]

    group: GroupCommit[None, int, int] = GroupCommit(run)
    queued = {n: asyncio.Event() for n in (1, 2, 3, 4)}

    async def caller(n: int) -> int:
        queued[n].set()  # submit queues its item in this same step, before it first waits
        return await group.submit(None, n)

    first = asyncio.ensure_future(caller(1))
    await running.wait()  # the first batch (of one) is running
    waiting = [asyncio.ensure_future(caller(n)) for n in (2, 3, 4)]
    for n in (2, 3, 4):
        await queued[n].wait()
    waiting[1].cancel()  # the caller of 3 gives up while its item waits for the next batch
    first.cancel()  # and the caller of 1 while its batch runs
    release.set()
    assert await asyncio.gather(waiting[0], waiting[2]) == [20, 40]
    await group.close()
    assert done == [[1], [2, 3, 4]]  # both batches ran whole
    assert first.cancelled() and waiting[1].cancelled()
