"""A request never waits on Temporal with a database connection in hand, nor without a deadline.

The API's Temporal client carries `RequestGuard` (installed by `AppState.build`). Before any call
to Temporal made while a request is being served, it ends the request's open transaction
(`commit`: what the request wrote so far becomes durable, which is what "commit before you start
or signal a workflow" asks anyway), so the pooled connection goes back to the pool while the
workflow thinks. Without this, a workflow update that waited on a provider held one connection
per request; about thirty such requests emptied the pool and took down every tenant.

Every call also gets a deadline: signals, queries and starts `WORKFLOW_RPC_SECONDS` per RPC,
an update (which answers once the workflow has made its change) `api_update_deadline_seconds`
in all. A call that runs out is a 503 `workflow-unavailable` with Retry-After, never a hang.
The request's session stays usable after the commit: its next statement opens a new transaction
with the same tenant scope (core.db applies it on every begin).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)

log = logging.getLogger(__name__)

WORKFLOW_RPC_SECONDS = 10.0

# The session of the request being served, with the task serving it (set by api.deps.db_session).
# Tasks started during a request inherit the variable; only the serving task may commit.
_request: ContextVar[tuple[asyncio.Task[Any] | None, AsyncSession] | None] = ContextVar(
    "muhurta_request_session", default=None)


class _RequestSession:
    def set(self, session: AsyncSession | None) -> None:
        _request.set(None if session is None else (asyncio.current_task(), session))

    def get(self) -> AsyncSession | None:
        current = _request.get()
        if current is None or current[0] is not asyncio.current_task():
            return None
        return current[1]


request_session = _RequestSession()


class WorkflowCallTimeout(Exception):
    """Temporal did not finish a call within the request's deadline (a 503 with Retry-After)."""


async def release(session: AsyncSession) -> None:
    """End the request's transaction before it waits on the network (an upload's body, object
    storage): what it wrote so far is committed, and the connection goes back to the pool."""
    if session.in_transaction():
        await session.commit()


async def release_request_session() -> None:
    """Commit the serving request's open transaction, so no connection waits on the outside world."""
    session = request_session.get()
    if session is not None:
        await release(session)


class _Outbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, update_deadline: float) -> None:
        super().__init__(next)
        self._update_deadline = update_deadline

    @staticmethod
    def _rpc_timeout(current: timedelta | None) -> timedelta:
        return current or timedelta(seconds=WORKFLOW_RPC_SECONDS)

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        await release_request_session()
        input.rpc_timeout = self._rpc_timeout(input.rpc_timeout)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        await release_request_session()
        input.rpc_timeout = self._rpc_timeout(input.rpc_timeout)
        await super().signal_workflow(input)

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        await release_request_session()
        input.rpc_timeout = self._rpc_timeout(input.rpc_timeout)
        return await super().query_workflow(input)

    async def _update_within_deadline(self, call: Callable[[], Awaitable[WorkflowUpdateHandle[Any]]], what: str
                                      ) -> WorkflowUpdateHandle[Any]:
        """An update (with wait_for_stage=COMPLETED, execute_update: polling for its outcome too),
        after the request's transaction is committed, within the request's deadline."""
        await release_request_session()
        try:
            async with asyncio.timeout(self._update_deadline):
                return await call()
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the request itself is being cancelled (the caller went away)
            raise WorkflowCallTimeout(f"{what} did not finish in {self._update_deadline:.0f} s") from exc

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        return await self._update_within_deadline(
            partial(super().start_workflow_update, input), f"update {input.update} of {input.id}")

    async def start_update_with_start_workflow(
            self, input: StartWorkflowUpdateWithStartInput) -> WorkflowUpdateHandle[Any]:
        # an update that starts its workflow when none runs (a membership charge's first refund)
        return await self._update_within_deadline(
            partial(super().start_update_with_start_workflow, input),
            f"update {input.update_workflow_input.update} of {input.start_workflow_input.id}")


class RequestGuard(Interceptor):
    def __init__(self, update_deadline: float) -> None:
        self.update_deadline = update_deadline

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next, self.update_deadline)


def guarded(client: Client, update_deadline: float) -> Client:
    """The same connection, with `RequestGuard` added to its interceptors."""
    config = client.config()
    if any(isinstance(i, RequestGuard) for i in config["interceptors"]):
        return client
    config["interceptors"] = [*config["interceptors"], RequestGuard(update_deadline)]
    return Client(**config)
