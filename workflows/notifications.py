"""Notifications from workflows: the `notify()` helper, `NotifyWorkflow` and `BroadcastWorkflow`.

Any workflow tells a person something with

    outcome = await notify(NotificationRequest(
        dedupe_key=f"{workflow.info().workflow_id}:reminder-24h", tenant_id=..., recipient_user_id=...,
        event="session_reminder", variables={...}))

`notify()` runs the `notifications.send` activity. If the message is not urgent and the person is in
their quiet hours, the activity sends nothing and answers `held_until`; `notify()` then waits on a
workflow timer until then and asks again (so the wait survives restarts and shows in the history).
Provider outages are retried with backoff for up to a day; a message that can never be sent (bad
number, unsubscribed, template error) comes back in the outcome (`failed_on`) instead of raising.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.notifications import (
        BROADCAST_BATCH,
        BROADCAST_FINISH,
        BROADCAST_PREPARE,
        NOTIFICATION_REJECTED,
        SEND_NOTIFICATION,
        BroadcastBatch,
        BroadcastBatchResult,
        BroadcastCounts,
        BroadcastFinish,
        BroadcastInput,
        BroadcastProgress,
        BroadcastRef,
        BroadcastStatus,
        NotificationOutcome,
        NotificationRequest,
        NotifyState,
    )
    from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

SEND_TIMEOUT = timedelta(minutes=2)
# Provider outages: keep trying with backoff for a day, then give up (the delivery log keeps the error).
SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2.0,
                         maximum_interval=timedelta(minutes=10), non_retryable_error_types=[NOTIFICATION_REJECTED])
SEND_DEADLINE = timedelta(hours=24)
MAX_HOLDS = 3  # preferences changed while a message waited: hold again, but not forever


async def notify(
    request: NotificationRequest,
    *,
    on_hold: Callable[[datetime], None] | None = None,
    schedule_to_close_timeout: timedelta = SEND_DEADLINE,
) -> NotificationOutcome:
    """Send a notification from a workflow, waiting out the recipient's quiet hours on a timer."""
    holds = 0
    while True:
        attempt = request.model_copy(update={"at": workflow.now(), "respect_quiet_hours": holds < MAX_HOLDS})
        try:
            outcome: NotificationOutcome = await workflow.execute_activity(
                SEND_NOTIFICATION, attempt, result_type=NotificationOutcome,
                start_to_close_timeout=SEND_TIMEOUT, schedule_to_close_timeout=schedule_to_close_timeout,
                retry_policy=SEND_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == NOTIFICATION_REJECTED and cause.details:
                return NotificationOutcome.model_validate(cause.details[0])
            raise
        if outcome.held_until is None:
            return outcome
        holds += 1
        if on_hold is not None:
            on_hold(outcome.held_until)
        await workflow.sleep(max(outcome.held_until - workflow.now(), timedelta(seconds=1)))


# -- NotifyWorkflow ---------------------------------------------------------------------------------------
@workflow.defn(name="Notify")
class NotifyWorkflow:
    """One durable notification (`notify-<key>`), for senders that are not workflows (the API)."""

    @workflow.init
    def __init__(self, request: NotificationRequest) -> None:
        self._state = NotifyState(status="sending")
        self._tenant_id = request.tenant_id

    @workflow.run
    async def run(self, request: NotificationRequest) -> NotificationOutcome:
        self._publish()
        outcome = await notify(request, on_hold=self._held)
        self._state = NotifyState(status="done", outcome=outcome)
        self._publish()
        return outcome

    def _held(self, until: datetime) -> None:
        self._state = NotifyState(status="held", held_until=until)
        self._publish()

    def _publish(self) -> None:
        updates = [ENTITY_STATUS.value_set(self._state.status)]
        if self._tenant_id is not None:
            updates.append(TENANT_ID.value_set(str(self._tenant_id)))
        workflow.upsert_search_attributes(updates)

    @workflow.query
    def state(self) -> NotifyState:
        return self._state


# -- BroadcastWorkflow ---------------------------------------------------------------------------------------
BATCH_TIMEOUT = timedelta(minutes=10)
BATCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5))
DB_TIMEOUT = timedelta(seconds=60)


@workflow.defn(name="Broadcast")
class BroadcastWorkflow:
    """One event's template to a filtered set of a tenant's clients (`broadcast-<id>`).

    The audience is snapshotted into `broadcast_recipients` by the first activity; batches then
    send to recipients that are due, each recording its result, so a retried batch or a new run
    carries on where the last stopped. Recipients in quiet hours are held: when nobody else is
    due the workflow sleeps until the earliest of their quiet hours ends. After `batches_per_run`
    batches (or when Temporal suggests it) it continues as new, carrying only its counters.
    Progress: the `progress` query, the memo (`progress`), EntityStatus, and the broadcasts row.
    """

    @workflow.init
    def __init__(self, inp: BroadcastInput) -> None:
        self._progress = inp.progress or BroadcastProgress(
            broadcast_id=inp.broadcast_id, status=BroadcastStatus.RUNNING, started_at=workflow.now())
        if inp.progress is not None:
            self._progress.runs += 1
        self._tenant_id = inp.tenant_id
        self._cancelled = False

    @workflow.run
    async def run(self, inp: BroadcastInput) -> BroadcastProgress:
        ref = BroadcastRef(broadcast_id=inp.broadcast_id, tenant_id=inp.tenant_id)
        if inp.progress is None:
            counts: BroadcastCounts = await workflow.execute_activity(
                BROADCAST_PREPARE, ref, result_type=BroadcastCounts,
                start_to_close_timeout=DB_TIMEOUT, retry_policy=BATCH_RETRY)
            self._progress.counts = counts
        self._publish()
        batches = 0
        while not self._cancelled:
            result: BroadcastBatchResult = await workflow.execute_activity(
                BROADCAST_BATCH,
                BroadcastBatch(broadcast_id=inp.broadcast_id, tenant_id=inp.tenant_id, limit=inp.batch_size,
                               at=workflow.now()),
                result_type=BroadcastBatchResult, start_to_close_timeout=BATCH_TIMEOUT,
                heartbeat_timeout=timedelta(minutes=2), retry_policy=BATCH_RETRY)
            batches += 1
            self._progress.batches += 1
            self._progress.counts = result.counts
            self._progress.next_release_at = result.next_release_at
            if result.processed == 0 and not result.counts.pending:
                if not result.counts.held or result.next_release_at is None:
                    break
                self._progress.status = BroadcastStatus.WAITING_QUIET_HOURS
                self._publish()
                wait = max(result.next_release_at - workflow.now(), timedelta(seconds=1))
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._cancelled, timeout=wait)
                self._progress.status = BroadcastStatus.RUNNING
            self._publish()
            if batches >= inp.batches_per_run or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp.model_copy(update={"progress": self._progress}))

        final = BroadcastStatus.CANCELLED if self._cancelled else BroadcastStatus.COMPLETED
        self._progress.counts = await workflow.execute_activity(
            BROADCAST_FINISH,
            BroadcastFinish(broadcast_id=inp.broadcast_id, tenant_id=inp.tenant_id, status=final, at=workflow.now()),
            result_type=BroadcastCounts, start_to_close_timeout=DB_TIMEOUT, retry_policy=BATCH_RETRY)
        self._progress.status = final
        self._progress.finished_at = workflow.now()
        self._progress.next_release_at = None
        self._publish()
        return self._progress

    def _publish(self) -> None:
        workflow.upsert_search_attributes([TENANT_ID.value_set(str(self._tenant_id)),
                                           ENTITY_STATUS.value_set(self._progress.status.value)])
        workflow.upsert_memo({"progress": self._progress.summary(),
                              "counts": self._progress.counts.model_dump(mode="json")})

    @workflow.signal
    def cancel(self) -> None:
        """Stop sending; recipients not reached yet stay pending."""
        self._cancelled = True

    @workflow.query
    def progress(self) -> BroadcastProgress:
        return self._progress
