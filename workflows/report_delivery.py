"""ReportDeliveryWorkflow (`report-<order id>`): from a sold report to the client opening it.

It waits for the consultant to upload the PDF (`report_uploaded` signal, sent by the upload
endpoint). The consultant is alerted once a day before the due date (`DUE_SOON_BEFORE`) and once
when it passes. The upload is delivered to the client at once (email with a signed link, and
in-app); then the workflow waits up to `OPEN_WATCH` for the client's first open
(`report_opened` signal, sent by the download endpoint; later opens change nothing). Staff may
instead say it was delivered by hand (`mark_delivered_by_hand` update: validated, audited),
which ends it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.report_delivery import (
        ALERT_CONSULTANT,
        DELIVER_REPORT,
        DUE_SOON_BEFORE,
        ENSURE_DELIVERY,
        FINAL_STATUSES,
        OPEN_WATCH,
        RECORD_BY_HAND,
        RECORD_OPENED,
        REPORT_DELIVERY_WORKFLOW,
        SEND_ALERT,
        SEND_DELIVERED,
        AlertKind,
        AlertOutcome,
        ConsultantAlert,
        Delivered,
        DeliverReport,
        ManualDelivery,
        RecordManual,
        RecordOpened,
        ReportDeliveryInput,
        ReportDeliveryState,
        ReportDeliveryStatus,
        ReportOpened,
        ReportRef,
        ReportUploaded,
        summary,
    )
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS, TENANT_ID

T = TypeVar("T")

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# workflow.patched id: alerts and the client's message leave through the outbox after the step is
# recorded, so the overdue timer, the delivery and a by-hand delivery never wait on a provider.
MESSAGES_AFTER_THE_STEP = "report-messages-after-the-step"


@workflow.defn(name=REPORT_DELIVERY_WORKFLOW)
class ReportDeliveryWorkflow:
    @workflow.init
    def __init__(self, inp: ReportDeliveryInput) -> None:
        self._ref = ReportRef(workflow_id=workflow.info().workflow_id, tenant_id=inp.tenant_id,
                              order_id=inp.order_id)
        self._state = ReportDeliveryState(
            order_id=inp.order_id, tenant_id=inp.tenant_id, client_id=inp.client_id,
            consultant_id=inp.consultant_id, status=ReportDeliveryStatus.AWAITING_UPLOAD,
            due_at=inp.due_at, started_at=workflow.now(),
        )
        self._upload: ReportUploaded | None = None
        self._by_hand = False      # a by-hand delivery was accepted
        self._delivering = False   # the upload is being delivered
        self._outbox = Outbox()
        self._messages_in_background = workflow.patched(MESSAGES_AFTER_THE_STEP)

    @workflow.run
    async def run(self, inp: ReportDeliveryInput) -> ReportDeliveryState:
        await self._activity(ENSURE_DELIVERY, inp, result_type=str)
        self._publish()
        await self._wait_for_report()
        if not self._by_hand and self._upload is not None:
            await self._deliver(self._upload)
            if self._state.first_opened_at is None:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._state.first_opened_at is not None,
                                                  timeout=OPEN_WATCH)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        return self._state

    # -- waiting, alerting, delivering -------------------------------------------------------
    def _report_in(self) -> bool:
        return self._upload is not None or self._by_hand

    async def _wait_until(self, moment: datetime) -> bool:
        """Wait until the report is in (True) or `moment` comes (False)."""
        remaining = moment - workflow.now()
        if remaining <= timedelta(0):
            return self._report_in()
        try:
            await workflow.wait_condition(self._report_in, timeout=remaining)
        except TimeoutError:
            return self._report_in()
        return True

    async def _wait_for_report(self) -> None:
        due_at = self._state.due_at
        if not await self._wait_until(due_at - DUE_SOON_BEFORE) and workflow.now() < due_at:
            await self._alert("due_soon")
        if not self._report_in() and not await self._wait_until(due_at):
            await self._alert("overdue")
        await workflow.wait_condition(self._report_in)

    async def _alert(self, kind: AlertKind) -> None:
        alert = ConsultantAlert(ref=self._ref, kind=kind, at=workflow.now(), send=not self._messages_in_background)
        outcome = await self._activity(ALERT_CONSULTANT, alert, result_type=AlertOutcome)
        if self._messages_in_background and outcome.uploaded_file_id is None:
            self._outbox.post(f"alert:{kind}", SEND_ALERT, alert.model_copy(update={"send": True}), result_type=bool)
        if outcome.uploaded_file_id is not None:
            # the report was uploaded meanwhile (its signal may never arrive): no alert, deliver it
            if self._upload is None:
                self._upload = ReportUploaded(file_id=outcome.uploaded_file_id, uploaded_at=workflow.now())
            return
        if kind == "due_soon":
            self._state.due_soon_alert_at = workflow.now()
        else:
            self._state.overdue_alert_at = workflow.now()
            if self._state.status == ReportDeliveryStatus.AWAITING_UPLOAD:
                self._state.status = ReportDeliveryStatus.OVERDUE
                self._publish()

    async def _deliver(self, upload: ReportUploaded) -> None:
        self._delivering = True
        step = DeliverReport(ref=self._ref, file_id=upload.file_id, at=workflow.now(),
                             send=not self._messages_in_background)
        done = await self._activity(DELIVER_REPORT, step, result_type=Delivered)
        if self._messages_in_background:
            self._outbox.post("deliver", SEND_DELIVERED, step.model_copy(update={"send": True}), result_type=bool)
        self._state.file_id = done.file_id
        self._state.delivered_at = done.delivered_at
        opened = self._state.first_opened_at is not None  # an open may arrive while delivering
        self._state.status = ReportDeliveryStatus.OPENED if opened else ReportDeliveryStatus.DELIVERED
        self._publish()

    async def _activity(self, name: str, arg: Any, *, result_type: type[T]) -> T:
        result: T = await workflow.execute_activity(name, arg, result_type=result_type,
                                                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                                                    retry_policy=ACTIVITY_RETRY)
        return result

    def _publish(self) -> None:
        workflow.upsert_search_attributes([
            TENANT_ID.value_set(str(self._state.tenant_id)),
            CLIENT_ID.value_set(str(self._state.client_id)),
            CONSULTANT_ID.value_set(str(self._state.consultant_id)),
            ENTITY_STATUS.value_set(self._state.status.value),
        ])
        workflow.upsert_memo({"summary": summary(self._state.order_id, self._state.status, self._state.due_at)})

    # -- signals, update, query --------------------------------------------------------------
    @workflow.signal
    def report_uploaded(self, upload: ReportUploaded) -> None:
        """The consultant uploaded the PDF (again: the latest one is delivered)."""
        if self._by_hand or self._delivering or self._state.status in FINAL_STATUSES:
            return
        self._upload = upload
        self._state.file_id = upload.file_id
        self._state.uploaded_at = upload.uploaded_at

    @workflow.signal
    async def report_opened(self, opened: ReportOpened) -> None:
        """The client opened the report; only the first open is recorded."""
        if self._state.first_opened_at is not None or self._upload is None or self._by_hand:
            return
        self._state.first_opened_at = opened.at
        if self._state.status == ReportDeliveryStatus.DELIVERED:
            self._state.status = ReportDeliveryStatus.OPENED
            self._publish()
        await self._activity(RECORD_OPENED, RecordOpened(ref=self._ref, at=opened.at), result_type=bool)

    @workflow.update
    async def mark_delivered_by_hand(self, manual: ManualDelivery) -> ReportDeliveryState:
        self._by_hand = True
        now = workflow.now()
        await self._activity(RECORD_BY_HAND, RecordManual(ref=self._ref, delivery=manual, at=now), result_type=str)
        self._state.status = ReportDeliveryStatus.DELIVERED_BY_HAND
        self._state.delivered_at = now
        self._state.delivered_by = manual.actor_user_id
        self._state.note = manual.note
        self._publish()
        return self._state

    @mark_delivered_by_hand.validator
    def _validate_by_hand(self, manual: ManualDelivery) -> None:
        if self._by_hand or self._delivering or self._state.status in FINAL_STATUSES:
            status = ReportDeliveryStatus.DELIVERED if self._delivering else self._state.status
            raise ApplicationError(f"this report is already {status.value.replace('_', ' ')}", non_retryable=True)

    @workflow.query
    def state(self) -> ReportDeliveryState:
        return self._state
