"""Start a workflow exactly once, whoever asks (the API after its commit, or the relay).

Workflow ids are deterministic per entity, and the id reuse policy refuses a second run of a
finished id, so asking twice is harmless: the second ask is recognised as already started.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode


def keyword_attributes(values: dict[str, str]) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [SearchAttributePair(SearchAttributeKey.for_keyword(k), v) for k, v in values.items()]
    )


async def start_once(
    client: Client,
    *,
    workflow_type: str,
    workflow_id: str,
    task_queue: str,
    payload: dict[str, Any],
    search_attributes: dict[str, str],
    memo: dict[str, Any],
) -> bool:
    """Start the workflow; return False if it had been started before (not an error)."""
    try:
        await client.start_workflow(
            workflow_type,
            payload,
            id=workflow_id,
            task_queue=task_queue,
            search_attributes=keyword_attributes(search_attributes),
            memo=memo,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def deliver_signal(client: Client, workflow_id: str, signal: str, payload: Any) -> str | None:
    """Send a signal; None when delivered, or why it never can be (the workflow has closed or
    does not exist). Other failures (Temporal away) raise, so the caller tries again later."""
    try:
        await client.get_workflow_handle(workflow_id).signal(signal, payload)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return f"not delivered, the workflow has closed or does not exist: {exc.message}"
        raise
    return None
