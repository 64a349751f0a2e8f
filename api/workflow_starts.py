"""Start and signal workflows from the API without ever losing a start or a signal.

The start (or signal) is written into `pending_workflow_starts` (`pending_workflow_signals`) in
the request's own transaction, so the entity and its intent to tell a workflow commit together.
Right after the commit the API sends it; should that fail or the process die first, the
worker's relay finds the row and sends it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import after_commit
from api.state import AppState
from core.db import TenantScope, scoped_session
from core.workflow_starts import deliver_signal, start_once
from models.platform import PendingWorkflowSignal, PendingWorkflowStart

log = logging.getLogger(__name__)


async def start_after_commit(
    request: Request,
    session: AsyncSession,
    state: AppState,
    *,
    workflow_type: str,
    workflow_id: str,
    payload: BaseModel,
    tenant_id: UUID | None,
    search_attributes: dict[str, str],
    memo: dict[str, Any],
) -> None:
    row = PendingWorkflowStart(
        tenant_id=tenant_id,
        workflow_id=workflow_id,
        workflow_type=workflow_type,
        task_queue=state.settings.temporal_task_queue,
        payload=payload.model_dump(mode="json"),
        search_attributes=search_attributes,
        memo=memo,
    )
    session.add(row)
    await session.flush()

    async def start_now() -> None:
        if state.temporal is None:
            return
        await start_once(
            state.temporal,
            workflow_type=workflow_type,
            workflow_id=workflow_id,
            task_queue=row.task_queue,
            payload=row.payload,
            search_attributes=search_attributes,
            memo=memo,
        )
        async with scoped_session(state.sessionmaker, TenantScope.system()) as done:
            await done.execute(
                update(PendingWorkflowStart)
                .where(PendingWorkflowStart.id == row.id)
                .values(started_at=datetime.now(UTC), attempts=PendingWorkflowStart.attempts + 1)
            )

    after_commit(request, start_now)


_JSON: TypeAdapter[Any] = TypeAdapter(Any)


async def signal_after_commit(
    request: Request,
    session: AsyncSession,
    state: AppState,
    *,
    workflow_id: str,
    signal: str,
    payload: Any,
    tenant_id: UUID | None,
) -> None:
    """Signal `workflow_id` once this request's transaction has committed, or later by the relay.

    `payload` is a pydantic model, dataclass, datetime or plain value; it is stored as JSON and
    the workflow's handler reads it back by its type hint."""
    row = PendingWorkflowSignal(tenant_id=tenant_id, workflow_id=workflow_id, signal=signal,
                                payload=_JSON.dump_python(payload, mode="json"))
    session.add(row)
    await session.flush()

    async def send_now() -> None:
        if state.temporal is None:
            return
        undeliverable = await deliver_signal(state.temporal, workflow_id, signal, row.payload)
        async with scoped_session(state.sessionmaker, TenantScope.system()) as done:
            await done.execute(
                update(PendingWorkflowSignal)
                .where(PendingWorkflowSignal.id == row.id)
                .values(sent_at=datetime.now(UTC), attempts=PendingWorkflowSignal.attempts + 1,
                        last_error=undeliverable)
            )

    after_commit(request, send_now)
