"""core.group_commit: a caller that gives up leaves its batch and the other callers alone."""

from __future__ import annotations

import asyncio

from core.group_commit import GroupCommit


async def test_a_caller_that_gives_up_does_not_stop_its_batch_or_the_others() -> None:
    release = asyncio.Event()
    done: list[list[int]] = []

    async def run(_key: None, items: list[int]) -> list[int]:
        await release.wait()
        done.append(items)
        return [item * 10 for item in items]

    group: GroupCommit[None, int, int] = GroupCommit(run)
    first = asyncio.ensure_future(group.submit(None, 1))
    await asyncio.sleep(0)  # the first batch (of one) is now running
    waiting = [asyncio.ensure_future(group.submit(None, n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    waiting[1].cancel()  # the caller of 3 gives up while its item waits for the next batch
    first.cancel()  # and the caller of 1 while its batch runs
    release.set()
    assert await asyncio.gather(waiting[0], waiting[2]) == [20, 40]
    await group.close()
    assert done == [[1], [2, 3, 4]]  # both batches ran whole
    assert first.cancelled() and waiting[1].cancelled()
