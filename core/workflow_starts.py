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
