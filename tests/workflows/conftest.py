"""Workflow tests: the time-skipping test server, our real activities on the test database."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.embedded import temporal_test_server
from core.settings import Settings
from workers.cli import add_missing_search_attributes
from workers.registry import WORKFLOWS, build_activities, workflow_runner


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=temporal_test_server(),
    )
    await add_missing_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest.fixture
async def env(time_skipping_env, sessionmaker, settings: Settings, clean) -> AsyncIterator[WorkflowEnvironment]:
    """A worker on a fresh task queue for each test, running the production registry.

    Workflows a test leaves running are terminated afterwards: with their worker gone, their
    next task would hold the shared test server's clock still for every later test.
    """
    queue = f"wf-test-{uuid.uuid4().hex[:8]}"
    worker_settings = settings.model_copy(update={"temporal_task_queue": queue})
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=list(WORKFLOWS),
        activities=build_activities(sessionmaker, worker_settings),
        workflow_runner=workflow_runner(),
    ):
        time_skipping_env.task_queue = queue  # type: ignore[attr-defined]
        time_skipping_env.started = []  # type: ignore[attr-defined]
        yield time_skipping_env
        for handle in time_skipping_env.started:  # type: ignore[attr-defined]
            with contextlib.suppress(RPCError):  # it had completed
                await handle.terminate("test finished")
