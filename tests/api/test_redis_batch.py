"""The Redis calls of concurrent requests share round trips (core.redis_batch), and each caller
still gets its own replies and its own errors; a Redis that is down or silent fails every caller
of the batch at once, so the rate limits and view counts carry on as they did before."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from core.embedded import free_port
from core.redis import make_redis
from core.redis_batch import RedisBatch
from core.settings import Settings


@pytest.fixture
async def redis(settings: Settings, clean: None) -> AsyncIterator[Redis]:
    client = make_redis(settings.redis_url)
    yield client
    await client.aclose()


async def test_concurrent_callers_share_a_round_trip_and_each_gets_its_own_replies(redis: Redis) -> None:
    batch = RedisBatch(redis)
    prefix = uuid.uuid4().hex
    replies = await asyncio.gather(*(
        batch.execute(("INCRBY", f"{prefix}:{n}", n), ("GET", f"{prefix}:{n}")) for n in range(1, 51)))
    assert replies == [[n, str(n)] for n in range(1, 51)]
    # 50 callers in the same moment: one pipeline (a second if the first left before all had come)
    assert 1 <= batch.round_trips <= 2
    # a lone caller is a batch of its own and waits for nothing
    assert await batch.execute(("INCR", f"{prefix}:1")) == [2]
    assert batch.round_trips <= 3


async def test_a_command_redis_refuses_fails_only_its_own_caller(redis: Redis) -> None:
    batch = RedisBatch(redis)
    prefix = uuid.uuid4().hex
    await redis.hset(f"{prefix}:hash", "field", "1")
    results = await asyncio.gather(
        batch.execute(("INCR", f"{prefix}:a")),
        batch.execute(("INCR", f"{prefix}:a"), ("INCR", f"{prefix}:hash")),  # WRONGTYPE
        batch.execute(("INCR", f"{prefix}:b")),
        return_exceptions=True)
    assert results[0] == [1] and results[2] == [1]
    assert isinstance(results[1], ResponseError) and "WRONGTYPE" in str(results[1])
    # the refused caller's other command ran, as it would in a pipeline of its own
    assert await redis.get(f"{prefix}:a") == "2"


async def test_a_redis_that_is_down_fails_every_caller_at_once() -> None:
    client = make_redis(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    batch = RedisBatch(client)
    try:
        results = await asyncio.gather(*(batch.execute(("INCR", "k")) for _ in range(20)), return_exceptions=True)
    finally:
        await client.aclose()
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    assert batch.round_trips == 1  # one attempt for all of them, not one caller after another


async def test_a_redis_that_never_answers_fails_the_batch_after_its_timeout() -> None:
    accepted = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # reads until the client leaves, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = make_redis(f"redis://127.0.0.1:{port}/0")
    batch = RedisBatch(client, timeout=0.3)
    try:
        results = await asyncio.gather(*(batch.execute(("INCR", "k")) for _ in range(5)), return_exceptions=True)
    finally:
        await client.aclose()
        server.close()
    assert accepted.is_set()
    assert all(isinstance(r, TimeoutError) for r in results), results
    assert batch.round_trips == 1
