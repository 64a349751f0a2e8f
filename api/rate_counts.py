"""What an API process knows of its rate-limit counters, so that a request far below its limits
does not wait for Redis to count it.

Every limited request adds one to its counters in Redis (`api.ratelimit`). Waiting for that round
trip was the largest single cost of a webhook delivery under load: about a fifth of its CPU, the
request suspended and resumed around a reply that, for almost every request, says "far below the
limit" (docs/performance.md, thirteenth pass).

So each process remembers, per counter, the count and reset time Redis last answered, and the hits
it has added since. A request whose every counter is known, in the same window, and would stay at
or under half its limit with this hit goes on at once; its hits are sent in the background, added
up per counter (one `INCRBY` for all the hits on a counter since the last send), in the same
batched round trip as other requests' commands (`core.redis_batch`), by the script the waiting
requests use (`api.ratelimit.count_and_check`). Any other request waits for
Redis exactly as before: one with a bearer token (its session's sign-out is checked in the same
round trip), one whose counter this process has not seen, or one at or over half a limit. So:

- every hit is counted in Redis, by this process or another;
- near a limit, every request waits for its exact count, so the refusal is exact: a request that
  waits adds the hits this process let through and has not sent yet to its own;
- the one inexactness: traffic that jumps from under half a limit to over all of it within one
  send interval and round trip (`FLUSH_EVERY`, 10 ms, plus about a millisecond) is refused from
  the next request on, not at once.

The background sends of a process are at least `FLUSH_EVERY` apart. Sent as soon as the last one
was answered, they ran back to back: the faster Redis answered, the fewer hits each carried, and
with two API processes a webhook delivery paid for 0.2 to 0.5 Redis commands (docs/performance.md,
fourteenth pass). Ten milliseconds bound them to 100 a second per process, whatever the traffic.

If Redis does not answer a background send, those hits are dropped (as a failed count is today:
the limits protect the service and must not take it down) and the process forgets what it knew of
those counters, so the next requests wait on Redis again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time

from api.ratelimit import count_and_check
from core.redis_batch import RedisBatch

log = logging.getLogger(__name__)

HEADROOM = 0.5  # a request goes on without waiting only while its counters stay at or under this share
FLUSH_EVERY = 0.01  # seconds between the starts of two background sends of one process
MAX_KNOWN = 20_000  # counters remembered (addresses x classes); beyond it, expired ones are dropped


class RateCounts:
    """One per API process and window (AppState.rate_counts); used from its event loop only."""

    def __init__(self, batch: RedisBatch, window_seconds: int, *, flush_every: float = FLUSH_EVERY) -> None:
        self.batch, self.window, self.flush_every = batch, window_seconds, flush_every
        self._closing = asyncio.Event()  # set by close: what is left is sent without waiting
        self._last_send = -math.inf  # the event loop's time when the last background send started
        self._known: dict[str, tuple[int, float]] = {}  # counter -> (hits Redis last answered, reset, monotonic)
        self._pending: dict[str, int] = {}  # hits added here and not sent yet
        self._sending: dict[str, int] = {}  # hits sent in the background, not answered yet
        self._asking: dict[str, int] = {}  # hits of requests waiting for Redis, not answered yet
        self._flusher: asyncio.Task[None] | None = None
        self.sent = 0  # background round trips (tests and benches read it)

    def admit(self, counters: list[tuple[str, int]]) -> bool:
        """Count one hit on each (counter, limit) without waiting, if every counter stays at or
        under HEADROOM of its limit; False (nothing counted) when the request must wait for Redis."""
        now = time.monotonic()
        for key, limit in counters:
            known = self._known.get(key)
            if known is None or known[1] <= now:
                return False
            unanswered = self._pending.get(key, 0) + self._sending.get(key, 0) + self._asking.get(key, 0)
            if known[0] + unanswered + 1 > limit * HEADROOM:
                return False
        for key, _ in counters:
            self._pending[key] = self._pending.get(key, 0) + 1
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return True

    def adding(self, keys: list[str]) -> list[int]:
        """What a request that waits adds to each counter: its own hit and the hits admitted here
        and not sent yet, which it takes over. So its answer counts every hit this process let
        through (those being sent are ahead of it in the batch's order), and its refusal is exact.
        Until `settle`, they count as in flight for `admit`."""
        added = [1 + self._pending.pop(key, 0) for key in keys]
        for key, n in zip(keys, added, strict=True):
            self._asking[key] = self._asking.get(key, 0) + n
        return added

    def settle(self, keys: list[str], added: list[int], counts: list[tuple[int, int]]) -> None:
        """A waiting request's answer from Redis (`counts`: hits and seconds to the reset of each
        counter), or none (`[]`: Redis did not answer, the counters are forgotten)."""
        for key, n in zip(keys, added, strict=True):
            left = self._asking.get(key, 0) - n
            if left > 0:
                self._asking[key] = left
            else:
                self._asking.pop(key, None)
        if counts:
            self.learn(keys, counts)
        else:
            self.forget(keys)

    def learn(self, keys: list[str], counts: list[tuple[int, int]]) -> None:
        """What Redis answered: each counter's hits and seconds to its reset."""
        now = time.monotonic()
        if len(self._known) + len(keys) > MAX_KNOWN:
            self._known = {key: known for key, known in self._known.items() if known[1] > now}
            if len(self._known) + len(keys) > MAX_KNOWN:
                self._known.clear()  # forgetting only makes requests wait
        for key, (hits, ttl) in zip(keys, counts, strict=False):
            self._known[key] = (hits, now + ttl - 1)  # a second early: Redis rounds TTL

    def forget(self, keys: list[str]) -> None:
        for key in keys:
            self._known.pop(key, None)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            wait = self._last_send + self.flush_every - loop.time()
            if wait > 0 and not self._closing.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), wait)
                if not self._pending:  # taken over meanwhile by requests that waited for Redis
                    break
            self._last_send = loop.time()
            self._sending, self._pending = self._pending, {}
            keys = list(self._sending)
            try:
                counts, _ = await count_and_check(self.batch, keys, self.window, [],
                                                  [self._sending[key] for key in keys])
            except Exception:
                log.warning("rate-limit hits not counted: Redis did not answer", exc_info=True)
                self.forget(keys)
            else:
                self.learn(keys, counts)
            finally:
                self.sent += 1
                self._sending = {}

    async def close(self) -> None:
        """Send what is left at once (the process is stopping)."""
        self._closing.set()
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher
