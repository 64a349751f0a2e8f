"""Housekeeping: run hourly by a Temporal Schedule; forgets what is kept only for a while."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.housekeeping import PURGE_IDEMPOTENCY, HousekeepingInput, HousekeepingResult
    from workflows.search_attributes import ENTITY_STATUS

RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=2), maximum_attempts=5)


@workflow.defn(name="Housekeeping")
class HousekeepingWorkflow:
    @workflow.run
    async def run(self, inp: HousekeepingInput) -> HousekeepingResult:
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("running")])
        purged = await workflow.execute_activity(
            PURGE_IDEMPOTENCY, inp.idempotency_keep_seconds, result_type=int,
            start_to_close_timeout=timedelta(minutes=5), retry_policy=RETRY)
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("done")])
        return HousekeepingResult(idempotency_records_purged=purged)
