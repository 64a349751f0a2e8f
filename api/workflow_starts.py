"""Start workflows from the API without ever losing one.

The start is written into `pending_workflow_starts` in the request's own transaction, so the
entity and its intent to start a workflow commit together. Right after the commit the API
starts it; should the process die first, the worker's relay finds the row and starts it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import after_commit
from api.state import AppState
from core.db import TenantScope, scoped_session
from core.workflow_starts import start_once
from models.platform import PendingWorkflowStart

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
