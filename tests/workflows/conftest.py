"""Workflow tests: the time-skipping test server, our real activities on the test database."""

from __future__ import annotations

import contextlib
import gc
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.embedded import temporal_test_server
from core.settings import Settings
from workers.cli import add_missing_search_attributes
from workers.registry import WORKFLOWS, build_activities, workflow_runner


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping test server for each test (it starts in about 0.1 s).

    One server shared by the session made tests depend on each other: its clock carried every
    earlier test's skipped days (a test could start years ahead of the real date its data was
    made with), and once a terminated workflow left the server's time-skipping lock taken, every
    later `env.sleep` crawled at real speed until the 30 s RPC deadline.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=temporal_test_server(),
    )
    await add_missing_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest.fixture
async def env(time_skipping_env, sessionmaker, settings: Settings, clean) -> AsyncIterator[WorkflowEnvironment]:
    """A worker on its own test server and task queue, running the production registry."""
    queue = f"wf-test-{uuid.uuid4().hex[:8]}"
    worker_settings = settings.model_copy(update={"temporal_task_queue": queue})
    with settled_garbage():
        worker = Worker(
            time_skipping_env.client,
            task_queue=queue,
            workflows=list(WORKFLOWS),
            activities=build_activities(sessionmaker, worker_settings),
            workflow_runner=workflow_runner(),
        )
    async with worker:
        time_skipping_env.task_queue = queue  # type: ignore[attr-defined]
        time_skipping_env.started = []  # type: ignore[attr-defined]
        yield time_skipping_env
        for handle in time_skipping_env.started:  # type: ignore[attr-defined]
            with contextlib.suppress(RPCError):  # it had completed
                await handle.terminate("test finished")


@contextlib.contextmanager
def settled_garbage() -> Iterator[None]:
    """Build a worker (it loads every workflow into its sandbox) with no garbage collection.

    On Python 3.11 a finalizer that imports (a ResourceWarning's formatting, say) running
    inside the sandbox's import of a workflow module trips CPython's non-reentrant module
    lock (gh-91351; temporalio/sdk-python#585): `Failed validating workflow … KeyError`.
    Collecting first, then pausing the collector, leaves no finalizer to run at that moment.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
