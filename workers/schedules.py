"""Temporal Schedules the product needs, created (or updated) when a worker starts."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.analytics import ANALYTICS_EVERY, ANALYTICS_SCHEDULE_ID, RollupInput
from domain.housekeeping import HOUSEKEEPING_EVERY, HOUSEKEEPING_SCHEDULE_ID, HousekeepingInput
from domain.payments.orders import RECONCILE_EVERY, RECONCILE_SCHEDULE_ID, ReconcileInput
from domain.privacy.retention import (
    RETENTION_HOUR_UTC,
    RETENTION_MINUTE_UTC,
    RETENTION_SCHEDULE_ID,
    RETENTION_SWEEP_WORKFLOW,
    RetentionInput,
)

log = logging.getLogger(__name__)


def reconciliation_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "PaymentsReconciliation", ReconcileInput(), id=RECONCILE_SCHEDULE_ID, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=RECONCILE_EVERY)]),
        # A run still going when the next is due: skip the next (they would only ask the same).
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def housekeeping_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "Housekeeping", HousekeepingInput(), id=HOUSEKEEPING_SCHEDULE_ID, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=HOUSEKEEPING_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def retention_schedule(task_queue: str) -> Schedule:
    """Daily at 21:30 UTC (03:00 in India): the RetentionSweep (docs/privacy.md)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RETENTION_SWEEP_WORKFLOW, RetentionInput(), id=RETENTION_SCHEDULE_ID, task_queue=task_queue),
        spec=ScheduleSpec(calendars=[ScheduleCalendarSpec(
            hour=[ScheduleRange(RETENTION_HOUR_UTC)], minute=[ScheduleRange(RETENTION_MINUTE_UTC)])]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def analytics_schedule(task_queue: str) -> Schedule:
    """The analytics roll-up (docs/analytics.md): hourly, recomputing the last days."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "AnalyticsRollup", RollupInput(), id=ANALYTICS_SCHEDULE_ID, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=ANALYTICS_EVERY, offset=timedelta(minutes=7))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


SCHEDULE_IDS = (RECONCILE_SCHEDULE_ID, HOUSEKEEPING_SCHEDULE_ID, ANALYTICS_SCHEDULE_ID, RETENTION_SCHEDULE_ID)


async def ensure_schedules(client: Client, task_queue: str) -> None:
    """Create the reconciliation, housekeeping, analytics and retention schedules, or bring them up to date."""
    for schedule_id, make in zip(SCHEDULE_IDS, (reconciliation_schedule, housekeeping_schedule, analytics_schedule,
                                                 retention_schedule), strict=True):
        await _ensure(client, schedule_id, make(task_queue))


async def _ensure(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s", schedule_id)
    except ScheduleAlreadyRunningError:
        async def replace(current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
