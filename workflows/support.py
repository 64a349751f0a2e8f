"""ResendMessage: a support person's "send this message again", off the request's path.

The API writes the audit event and starts this workflow after its commit (relayed if the first
start fails), so the request answers at once; the send retries with backoff for up to a day,
like every message (workflows/notifications.py), and the new delivery joins the log of the
workflow whose message it was (same `request_key` prefix).
"""

from __future__ import annotations

from temporalio import workflow

from workflows.notifications import SEND_DEADLINE, SEND_RETRY, SEND_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from domain.support import RESEND_MESSAGE, RESEND_WORKFLOW, ResendOutcome, ResendRequest
    from workflows.search_attributes import ENTITY_STATUS


@workflow.defn(name=RESEND_WORKFLOW)
class ResendMessageWorkflow:
    def __init__(self) -> None:
        self._outcome: ResendOutcome | None = None

    @workflow.run
    async def run(self, request: ResendRequest) -> ResendOutcome:
        self._outcome = await workflow.execute_activity(
            RESEND_MESSAGE, request, result_type=ResendOutcome, start_to_close_timeout=SEND_TIMEOUT,
            schedule_to_close_timeout=SEND_DEADLINE, retry_policy=SEND_RETRY)
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set(self._outcome.status)])
        return self._outcome

    @workflow.query
    def state(self) -> ResendOutcome | None:
        return self._outcome
