"""RetentionSweep: run daily by the `privacy-retention` Schedule; removes expired data in batches.

    for each kind (domain.privacy.retention.SweepKind):
        sweep a batch ──(a full batch: more may be left)──▶ sweep another batch
             └──(a short batch, or max_batches_per_kind reached: left for tomorrow)──▶ next kind

Every batch is its own activity (a short transaction), so a failure redoes one batch; every
batch of a run uses the run's start as "now", so cutoffs do not drift while it runs. One kind
failing after its retries does not stop the others: it is reported in `unfinished`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.privacy.retention import (
        RETENTION_SWEEP_WORKFLOW,
        SWEEP_BATCH,
        RetentionInput,
        RetentionResult,
        SweepBatch,
        SweepKind,
    )
    from workflows.search_attributes import ENTITY_STATUS

RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=2), maximum_attempts=5)
BATCH_TIMEOUT = timedelta(minutes=5)


@workflow.defn(name=RETENTION_SWEEP_WORKFLOW)
class RetentionSweepWorkflow:
    def __init__(self) -> None:
        self._result = RetentionResult()

    @workflow.query
    def progress(self) -> RetentionResult:
        return self._result

    @workflow.run
    async def run(self, inp: RetentionInput) -> RetentionResult:
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("running")])
        at = workflow.now()
        for kind in SweepKind:
            removed, batches = 0, 0
            try:
                while True:
                    n = await workflow.execute_activity(
                        SWEEP_BATCH, SweepBatch(kind=kind, limit=inp.batch_size, at=at), result_type=int,
                        start_to_close_timeout=BATCH_TIMEOUT, retry_policy=RETRY)
                    removed += n
                    batches += 1
                    if n < inp.batch_size:
                        break
                    if batches >= inp.max_batches_per_kind:
                        self._result.unfinished.append(kind.value)
                        break
            except ActivityError:
                workflow.logger.warning("retention sweep of %s failed; the next run tries again", kind.value)
                self._result.unfinished.append(kind.value)
            self._result.removed[kind.value] = removed
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("done")])
        workflow.upsert_memo({"summary": f"removed {sum(self._result.removed.values())} expired rows"})
        return self._result
