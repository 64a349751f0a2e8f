"""PaymentsReconciliation: run by a Temporal Schedule; asks Razorpay about orders still waiting.

A webhook can be lost. Every few minutes this finds orders pending payment for a while (and
refunds still pending) and asks the gateway; what it learns is signalled to each order's
workflow exactly as a webhook would be, so an order is paid, expired or refunded by the same
code path whichever messenger arrived. Signals to an order already finished are skipped.
"""

from __future__ import annotations

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
    @workflow.run
    async def run(self, inp: ReconcileInput) -> ReconcileResult:
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("running")])
        stale = await workflow.execute_activity(
            FIND_STALE, StaleQuery(older_than_seconds=inp.older_than_seconds, limit=inp.limit),
            result_type=list[StaleOrder], start_to_close_timeout=timedelta(minutes=1), retry_policy=RETRY)
        result = ReconcileResult()
        for order in stale:
            try:
                findings = await workflow.execute_activity(
                    CHECK_GATEWAY, order, result_type=GatewayFindings,
                    start_to_close_timeout=timedelta(minutes=1), retry_policy=RETRY)
            except FailureError as exc:  # one order's trouble does not stop the others
                workflow.logger.warning("reconciliation of %s failed: %s", order.order_id, exc)
                continue
            result.checked += 1
            handle = workflow.get_external_workflow_handle(order.workflow_id)
            try:
                for payment in findings.payments:
                    await handle.signal("payment_captured" if payment.status == "captured" else "payment_failed",
                                        payment)
                    result.payments_found += 1
                for refund in findings.refunds:
                    await handle.signal("refund_settled", refund)
                    result.refunds_found += 1
            except FailureError as exc:
                workflow.logger.warning("order workflow %s not signalled: %s", order.workflow_id, exc)
                continue
            if findings.payments or findings.refunds:
                result.signalled.append(order.workflow_id)
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set("done")])
        return result
