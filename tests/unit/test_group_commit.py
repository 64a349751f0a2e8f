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


async def test_after_a_crowded_batch_the_next_lingers_until_full_and_a_lone_caller_goes_at_once() -> None:
    running, release = asyncio.Event(), asyncio.Event()
    done: list[list[int]] = []
    held = [False]

    async def run(_key: None, items: list[int]) -> list[int]:
        running.set()
        if held[0]:
            held[0] = False
            await release.wait()  # this batch runs until the test lets it go
        done.append(items)
        return items

    group: GroupCommit[None, int, int] = GroupCommit(run, batch=3, linger=3600)  # no test outlasts it
    lone = await asyncio.wait_for(group.submit(None, 0), 60)  # a batch of one after a quiet spell: at once
    assert lone == 0 and done == [[0]]

    done.clear()
    running.clear()
    held[0] = True
    crowded = [asyncio.ensure_future(group.submit(None, n)) for n in (1, 2)]
    await running.wait()  # batch [1, 2] runs: callers are arriving together
    queued = asyncio.Event()

    async def late_caller() -> int:
        queued.set()  # submit queues its item in this same step, before it first waits
        return await group.submit(None, 3)

    late = asyncio.ensure_future(late_caller())
    await queued.wait()  # 3 waits for the next batch
    release.set()
    # The crowded batch's callers are answered in the step that ends it, and in that same step the
    # drain either starts the next batch (run() records it before its first wait) or lingers.
    assert await asyncio.gather(*crowded) == [1, 2]
    assert not late.done() and done == [[1, 2]]  # it lingers: an hour at most, or until full
    rest = [asyncio.ensure_future(group.submit(None, n)) for n in (4, 5)]  # now full
    assert await asyncio.gather(late, *rest) == [3, 4, 5]
    assert done == [[1, 2], [3, 4, 5]]
    await asyncio.wait_for(group.close(), 60)  # the drain lingering for more is let go at once
