"""PaymentsReconciliation: run by a Temporal Schedule; asks Razorpay about orders still waiting.

A webhook can be lost. Every few minutes this finds orders pending payment for a while (and
refunds still pending) and asks the gateway; what it learns is signalled to each order's
workflow exactly as a webhook would be, so an order is paid, expired or refunded by the same
code path whichever messenger arrived. Signals to an order already finished are skipped.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from domain.payments.orders import (
        CHECK_GATEWAY,
        FIND_STALE,
        GatewayFindings,
        ReconcileInput,
        ReconcileResult,
        StaleOrder,
        StaleQuery,
    )
    from workflows.search_attributes import ENTITY_STATUS

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5)


@workflow.defn(name="PaymentsReconciliation")
class ReconciliationWorkflow:
    @staticmethod
    async def _check(order: StaleOrder) -> GatewayFindings | None:
        """What Razorpay says about one order; None when it cannot be asked (one order's trouble
        does not stop the others)."""
        try:
            findings = await workflow.execute_activity(
                CHECK_GATEWAY, order, result_type=GatewayFindings,
                start_to_close_timeout=timedelta(minutes=1), retry_policy=RETRY)
        except FailureError as exc:
            workflow.logger.warning("reconciliation of %s failed: %s", order.order_id, exc)
            return None
        assert isinstance(findings, GatewayFindings)
        return findings

    async def _reconcile(self, order: StaleOrder, result: ReconcileResult) -> None:
        findings = await self._check(order)
        if findings is None:
            return
        result.checked += 1
        handle = workflow.get_external_workflow_handle(order.workflow_id)
        try:
            for payment in findings.payments:
                await handle.signal("payment_captured" if payment.status == "captured" else "payment_failed", payment)
                result.payments_found += 1
            for refund in findings.refunds:
                await handle.signal("refund_settled", refund)
                result.refunds_found += 1
        except FailureError as exc:
            workflow.logger.warning("order workflow %s not signalled: %s", order.workflow_id, exc)
            return
        if findings.payments or findings.refunds:
            result.signalled.append(order.workflow_id)

    @workflow.run
    async def run(self, inp: ReconcileInput) -> ReconcileResult:
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("running")])
        stale = await workflow.execute_activity(
            FIND_STALE, StaleQuery(older_than_seconds=inp.older_than_seconds, limit=inp.limit),
            result_type=list[StaleOrder], start_to_close_timeout=timedelta(minutes=1), retry_policy=RETRY)
        result = ReconcileResult()
        if workflow.patched("reconcile-orders-concurrently"):
            # All at once, each order signalled as soon as its own answer is in: one tenant's
            # unreachable gateway (each check retried for minutes) must not hold up the recovery
            # of every other tenant's orders behind it.
            await asyncio.gather(*(self._reconcile(order, result) for order in stale))
        else:
            for order in stale:
                await self._reconcile(order, result)
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("done")])
        return result
