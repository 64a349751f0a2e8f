"""API tests: the real app over real PostgreSQL, Redis and the Temporal dev server with a worker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app, warm_routes
from api.state import AppState
from api.tenant_directory import DIRECTORY
from core.embedded import EmbeddedTemporal
from core.security import Keys
from core.settings import Settings
from workers.schedules import SCHEDULE_IDS, ensure_schedules
from workers.worker import build_worker


@pytest.fixture(scope="session")
async def temporal_client(temporal_dev_server: EmbeddedTemporal) -> Client:
    return await Client.connect(temporal_dev_server.address, data_converter=pydantic_data_converter)


@pytest.fixture(scope="session")
async def api_settings(settings: Settings) -> Settings:
    # A task queue of our own, so nothing else polls it.
    return settings.model_copy(update={"temporal_task_queue": f"api-tests-{uuid.uuid4().hex[:8]}"})


@pytest.fixture(scope="session")
async def worker(
    temporal_client: Client, api_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    worker = build_worker(temporal_client, api_settings, sessionmaker)
    task = asyncio.create_task(worker.run())
    yield
    await worker.shutdown()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture(scope="session")
async def app_state(
    api_settings: Settings, temporal_client: Client, worker: None
) -> AsyncIterator[AppState]:
    state = await AppState.build(api_settings, temporal=temporal_client)
    # as the API's start-up does: every API test then runs with tenants kept between requests
    DIRECTORY.start(api_settings.database_url)
    async with asyncio.timeout(30):
        await DIRECTORY.listening_now()
    yield state
    await DIRECTORY.stop()
    await state.close()


@pytest.fixture(scope="session")
def api_app(app_state: AppState) -> FastAPI:
    """One app per worker: FastAPI builds a router's per-route state (every dependency tree) on its
    first request in each app, and with an app per test that was a fifth of the workers' CPU. The
    app keeps nothing of a request (its state is `app_state`'s, which is per worker already) but
    the webhook inserter and processor it starts on its first webhook, as a running API does."""
    app = create_app(state=app_state)
    warm_routes(app)  # as the API's start-up does: the tests run the dependency trees it runs
    return app


@pytest.fixture
async def client(api_app: FastAPI, clean: None) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=api_app, client=("203.0.113.7", 50000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def keys(app_state: AppState) -> Keys:
    return app_state.keys


@pytest.fixture
async def product_schedules(
    temporal_client: Client, api_settings: Settings
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Makes the product's Schedules as two workers starting would (the second only updates), and
    deletes them all after the test: a Schedule left behind keeps firing into later tests, and with
    overlap SKIP its stray run stands in for the run a later test triggers (a test waited on one
    such run for 900 s)."""
    made = False

    async def make() -> None:
        nonlocal made
        made = True
        await ensure_schedules(temporal_client, api_settings.temporal_task_queue)
        await ensure_schedules(temporal_client, api_settings.temporal_task_queue)
    yield make
    if made:
        for schedule_id in SCHEDULE_IDS:
            await temporal_client.get_schedule_handle(schedule_id).delete()
