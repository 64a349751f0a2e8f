"""AnalyticsRollup: run hourly by a Temporal Schedule; keeps the analytics roll-ups current.

    register zones -> flush view counters -> for each zone: fill new tenants, recompute recent days

Each step is an activity of set-based SQL (activities/analytics/rollup.py); a zone's failure
retries that zone only. Recomputing the last days (RollupInput.days) is what corrects figures
after late events: a refund, a webhook that arrived late, an outcome recorded the next day.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.analytics import (
        FLUSH_VIEWS,
        REGISTER_ZONES,
        ROLL_UP,
        RollupInput,
        RollupResult,
        ZoneRollup,
    )
    from workflows.search_attributes import ENTITY_STATUS

RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=2), maximum_attempts=5)


@workflow.defn(name="AnalyticsRollup")
class AnalyticsRollupWorkflow:
    @workflow.run
    async def run(self, inp: RollupInput) -> RollupResult:
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("running")])
        zones = inp.zones or await workflow.execute_activity(
            REGISTER_ZONES, result_type=list[str], start_to_close_timeout=timedelta(minutes=1), retry_policy=RETRY)
        flushed = await workflow.execute_activity(
            FLUSH_VIEWS, result_type=int, start_to_close_timeout=timedelta(minutes=2), retry_policy=RETRY)
        rows = 0
        for zone in zones:
            rows += await workflow.execute_activity(
                ROLL_UP, ZoneRollup(zone=zone, days=inp.days, backfill=inp.backfill), result_type=int,
                start_to_close_timeout=timedelta(minutes=15), retry_policy=RETRY)
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("done")])
        return RollupResult(zones=list(zones), views_flushed=flushed, rows=rows)
