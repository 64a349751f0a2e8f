"""The request path under pressure: no connection held while Temporal thinks, a deadline on every
workflow call, and an exhausted pool answered 503 + Retry-After (then recovered by itself)."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from support import assert_problem
from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError

from api.app import create_app
from api.state import AppState
from api.temporal_calls import WorkflowCallTimeout, guarded, request_session


@workflow.defn(name="NeverPolled")
class NeverPolled:  # started on a task queue no worker polls: its updates never answer
    @workflow.run
    async def run(self) -> None:
        return None


async def test_a_call_to_temporal_during_a_request_commits_the_request_first(app_state: AppState):
    assert app_state.temporal is not None
    async with app_state.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        assert session.in_transaction()
        request_session.set(session)
        try:
            with pytest.raises(RPCError):  # no such workflow: what matters is what happened before
                await app_state.temporal.get_workflow_handle(f"none-{uuid.uuid4()}").signal("anything")
        finally:
            request_session.set(None)
        assert not session.in_transaction(), "the connection was held while waiting on Temporal"
        assert (await session.execute(text("SELECT 2"))).scalar_one() == 2  # and the session goes on


async def test_an_update_that_never_finishes_runs_out_of_time_instead_of_hanging(temporal_client: Client):
    client = guarded(temporal_client, update_deadline=1.0)
    handle = await client.start_workflow(NeverPolled.run, id=f"never-{uuid.uuid4()}",
                                         task_queue=f"nobody-{uuid.uuid4().hex[:8]}")
    try:
        with pytest.raises(WorkflowCallTimeout):
            await handle.execute_update("anything", result_type=int)
    finally:
        await handle.terminate()


async def test_an_exhausted_pool_is_a_503_with_retry_after_and_recovers_by_itself(api_settings, temporal_client):
    settings = api_settings.model_copy(update={"database_pool_size": 1, "database_pool_timeout_seconds": 0.3})
    state = await AppState.build(settings, temporal=temporal_client)
    app = create_app(state=state)
    headers = {"X-Tenant": f"nobody-{uuid.uuid4().hex[:8]}"}
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
            async with AsyncExitStack() as held:  # every connection of the pool (1 + 2 overflow) taken
                for _ in range(3):
                    await held.enter_async_context(state.engine.connect())
                busy = await http.get("/api/v1/offerings", headers=headers)
                assert_problem(busy, 503, "service-busy")
                assert busy.headers["Retry-After"] == "2"
            calm = await http.get("/api/v1/offerings", headers=headers)
            assert_problem(calm, 404, "tenant-unknown")  # the same request, answered normally
    finally:
        await state.close()
