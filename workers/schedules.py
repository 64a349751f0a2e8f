"""Temporal Schedules the product needs, created (or updated) when a worker starts."""

from __future__ import annotations

import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.payments.orders import RECONCILE_EVERY, RECONCILE_SCHEDULE_ID, ReconcileInput

log = logging.getLogger(__name__)


def reconciliation_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "PaymentsReconciliation", ReconcileInput(), id=RECONCILE_SCHEDULE_ID, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=RECONCILE_EVERY)]),
        # A run still going when the next is due: skip the next (they would only ask the same).
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedules(client: Client, task_queue: str) -> None:
    """Create the payments reconciliation schedule, or bring an existing one up to date."""
    schedule = reconciliation_schedule(task_queue)
    try:
        await client.create_schedule(RECONCILE_SCHEDULE_ID, schedule)
        log.info("created schedule %s", RECONCILE_SCHEDULE_ID)
    except ScheduleAlreadyRunningError:
        async def replace(current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(RECONCILE_SCHEDULE_ID).update(replace)
