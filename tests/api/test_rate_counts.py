"""A request far below its rate limits is counted in the background (api/rate_counts.py): every hit
still reaches Redis, near a limit each request waits for its exact count, so refusals stay exact,
sequential or all at once; a Redis that does not answer makes the process wait on it again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from support import poll_until

from api.app import create_app
from api.rate_counts import RateCounts
from api.ratelimit import count_and_check
from api.state import AppState
from core.redis_batch import RedisBatch
from core.settings import Settings

LIMIT = 40


@pytest.fixture
async def public(app_state: AppState, api_settings: Settings, clean: None) -> AsyncIterator[tuple[AsyncClient, str]]:
    """A client from an address of its own, with 40 public requests a minute per address."""
    settings = api_settings.model_copy(update={"rate_limit_public_per_ip": LIMIT, "rate_limit_window_seconds": 60})
    address = f"192.0.2.{uuid.uuid4().int % 250 + 1}"
    async with AsyncClient(transport=ASGITransport(app=create_app(settings, state=app_state), client=(address, 4000)),
                           base_url="http://testserver") as http:
        yield http, f"rl:public:ip:{address}"


async def _counted(api_settings: Settings, key: str) -> int:
    redis = Redis.from_url(api_settings.redis_url)
    try:
        return int(await redis.get(key) or 0)
    finally:
        await redis.aclose()


async def test_one_after_another_exactly_the_limit_passes_and_every_hit_is_counted(public, app_state, api_settings):
    http, key = public
    counts = app_state.rate_counts(60)
    sent = counts.sent
    path = f"/api/v1/public/quiet-{uuid.uuid4().hex[:8]}"
    statuses = [(await http.get(path)).status_code for _ in range(LIMIT + 15)]
    assert statuses == [404] * LIMIT + [429] * 15  # no such consultancy, until the address's limit
    assert counts.sent > sent, "no request far below the limit was counted in the background"
    assert await poll_until(lambda: _counted(api_settings, key), lambda n: n == LIMIT + 15) == LIMIT + 15


async def test_all_at_once_exactly_the_limit_passes(public, api_settings):
    http, key = public
    path = f"/api/v1/public/busy-{uuid.uuid4().hex[:8]}"
    assert (await http.get(path)).status_code == 404  # the process now knows the counter
    answers = await asyncio.gather(*(http.get(path) for _ in range(LIMIT + 20)))
    assert sorted(a.status_code for a in answers) == [404] * (LIMIT - 1) + [429] * 21
    assert await poll_until(lambda: _counted(api_settings, key), lambda n: n == LIMIT + 21) == LIMIT + 21


async def test_far_below_the_limit_hits_are_sent_added_up_and_all_reach_redis(app_state, api_settings, clean):
    counts = RateCounts(app_state.redis_batch, 60)
    key = f"rl:test:{uuid.uuid4().hex}"
    added = counts.adding([key])
    answered, _ = await count_and_check(app_state.redis_batch, [key], 60, [], added)
    counts.settle([key], added, answered)
    admitted = [counts.admit([(key, 1000)]) for _ in range(300)]
    assert all(admitted)  # 301 of 1,000: under half, no request waits
    assert not counts.admit([(key, 600)])  # 302 would be over half of 600: that request waits
    await counts.close()
    assert await _counted(api_settings, key) == 301
    assert counts.sent == 1  # the 300 hits went in one round trip


async def test_background_sends_wait_their_interval_and_closing_sends_the_rest_at_once(
        app_state, api_settings, clean):
    counts = RateCounts(app_state.redis_batch, 60, flush_every=3600)  # an interval no test outlasts
    key = f"rl:test:{uuid.uuid4().hex}"
    counts.learn([key], [(0, 60)])
    assert counts.admit([(key, 1000)])
    await poll_until(lambda: _counted(api_settings, key), lambda n: n == 1)  # the first send goes at once
    assert all(counts.admit([(key, 1000)]) for _ in range(5))
    for _ in range(20):  # the event loop runs, Redis answers what it is sent: nothing more is sent
        await count_and_check(app_state.redis_batch, [f"{key}:other"], 60, [], [1])
    assert counts.sent == 1 and await _counted(api_settings, key) == 1
    await counts.close()  # at once, not an hour later
    assert counts.sent == 2 and await _counted(api_settings, key) == 6


async def test_a_redis_that_does_not_answer_makes_requests_wait_again(api_settings):
    unreachable = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    counts = RateCounts(RedisBatch(unreachable, timeout=2.0), 60)
    try:
        counts.learn(["rl:test:down"], [(1, 60)])
        assert counts.admit([("rl:test:down", 100)])
        await counts.close()  # the background send fails
        assert not counts.admit([("rl:test:down", 100)])  # forgotten: the next request asks Redis
        counts.learn(["rl:test:soon"], [(1, 1)])  # a window about to reset is not trusted
        assert not counts.admit([("rl:test:soon", 100)])
    finally:
        await unreachable.aclose()


async def test_hits_a_waiting_request_took_over_during_the_interval_are_not_sent_again(
        app_state, api_settings, clean):
    counts = RateCounts(app_state.redis_batch, 60, flush_every=3600)
    key = f"rl:test:{uuid.uuid4().hex}"
    counts.learn([key], [(0, 60)])
    assert counts.admit([(key, 1000)])
    await poll_until(lambda: _counted(api_settings, key), lambda n: n == 1)  # the first send
    assert counts.admit([(key, 1000)])  # waits for the interval to be sent...
    await count_and_check(app_state.redis_batch, [f"{key}:other"], 60, [], [1])  # (the sender starts waiting)
    added = counts.adding([key])  # ...until a request that waits for Redis takes it over
    answered, _ = await count_and_check(app_state.redis_batch, [key], 60, [], added)
    counts.settle([key], added, answered)
    assert added == [2] and answered[0][0] == 3
    await counts.close()
    assert counts.sent == 1 and await _counted(api_settings, key) == 3  # no empty send, nothing twice
