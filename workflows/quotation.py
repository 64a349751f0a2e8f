"""QuotationWorkflow (`quotation-<quotation id>`): one quotation from sending to paid, or not.

    sent --viewed (signal)--> viewed
      |  (both "open": the client may decide; reminders N days before expires_at)
      +--accept (update)--> accepted --order paid (order_settled)--> paid
      |                        \\--order expired or cancelled, or the window ran out--> lapsed
      +--reject (update)--> rejected
      +--expires_at passes--> expired
      +--withdraw (update)--> withdrawn
      +--extend (update): expires_at and the reminders move
      \\--revise (update): a new version supersedes the last; back to sent, reminders planned again

Starts when the quotation is sent (the API writes the row, then starts this). Updates
(`accept`, `reject`, `extend`, `withdraw`, `revise`; `pause_reminders` from the support console:
reminders falling due while paused are skipped) are validated, applied by one activity under
the workflow's lock, and answered with the new state; signals `viewed` (from the API, which
counts the view in the row) and `order_settled` (from the order this quotation made); query
`state`.

Acceptance and expiry are serialised by the lock and both re-checked there and in the database
(a conditional update), so an accept racing the expiry has exactly one outcome: either the
accept's answer carries the order, or it is refused with "this quotation expired", and the
client is told which. Accepting creates the order (its lines, figures and the consultancy's
GST) and starts its Order workflow as a child that outlives this one; the order's own rules
(payment window, late payments refunded, fulfilment of each line) then apply, and the order
tells this workflow how the payment ended.

Every message goes through the outbox (`workflows.outbox`): posted once the change it announces
is made, sent after the answer, with its own timeout and bounded retries; the notify activity
renders the version's PDF and respects the client's channels and quiet hours.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.payments.orders import OrderInput, OrderSettled, order_workflow_id
    from domain.quotations import (
        ACCEPT,
        EXPIRE,
        EXTEND,
        NOTIFY,
        OPEN,
        QUOTATION_WORKFLOW,
        REJECT,
        REVISE,
        SETTLE,
        WITHDRAW,
        Accepted,
        AcceptRequest,
        AcceptStep,
        ExtendRequest,
        Notice,
        QuotationInput,
        QuotationRef,
        QuotationState,
        QuotationStatus,
        RejectRequest,
        ReviseRequest,
        SettleStep,
        Step,
        Viewed,
        WithdrawRequest,
        planned_reminders,
        summary,
    )
    from domain.support import PauseReminders
    from workflows.common import background, interactive, publish, refuse
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS, TENANT_ID

SETTLE_CHECK_EVERY = timedelta(hours=1)   # past the payment window, look at the order itself this often
SETTLE_CHECKS = 24                        # then stop waiting: the row stays `accepted` for staff to see
Audience = list[Literal["client", "consultant"]]
BOTH: Audience = ["client", "consultant"]


@workflow.defn(name=QUOTATION_WORKFLOW)
class QuotationWorkflow:
    @workflow.init
    def __init__(self, inp: QuotationInput) -> None:
        self._inp = inp
        self._ref = QuotationRef(workflow_id=workflow.info().workflow_id, tenant_id=inp.tenant_id,
                                 quotation_id=inp.quotation_id)
        self._state = QuotationState(quotation_id=inp.quotation_id, number=inp.number, status=QuotationStatus.SENT,
                                     version=inp.version, expires_at=inp.expires_at)
        self._outbox = Outbox()
        self._state.messages = self._outbox.recent
        self._lock = asyncio.Lock()
        self._sent_at = inp.sent_at
        self._moved = False
        self._settled: OrderSettled | None = None

    # -- the lifecycle ---------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: QuotationInput) -> QuotationState:
        self._publish()
        self._post(f"received:v{self._state.version}", "received", ["client"], attach_pdf=True)
        await self._until_decided()
        if self._state.status == QuotationStatus.ACCEPTED:
            await self._until_paid()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        return self._state

    def _open(self) -> bool:
        return self._state.status in OPEN

    async def _until_decided(self) -> None:
        while self._open():
            now = workflow.now()
            plan = planned_reminders(expires_at=self._state.expires_at, days_before=self._inp.reminder_days,
                                     sent_at=self._sent_at, now=now, done=set(self._state.reminders_sent))
            due = plan[0] if plan else None
            deadline = min(due.due_at, self._state.expires_at) if due else self._state.expires_at
            self._moved = False
            if deadline > now:
                try:
                    await workflow.wait_condition(lambda: self._moved or not self._open(), timeout=deadline - now)
                    continue  # moved (extended, revised) or decided: plan again
                except TimeoutError:
                    pass
            if not self._open():
                return
            if workflow.now() >= self._state.expires_at:
                await self._expire()
                return
            if due is not None:
                self._state.reminders_sent.append(due.step)
                if self._state.reminders_paused:
                    self._state.reminders_skipped.append(due.step)
                else:
                    self._post(due.step, "reminder", ["client"], days=str(due.days_before))

    async def _expire(self) -> None:
        async with self._lock:
            if not self._open() or workflow.now() < self._state.expires_at:
                return  # accepted (or moved) while the timer fired
            status: str = await background(EXPIRE, Step(ref=self._ref, at=workflow.now()), str)
            self._state.status = QuotationStatus(status)
            if self._state.status == QuotationStatus.EXPIRED:
                self._state.decided_at = workflow.now()
            self._publish()
        if self._state.status == QuotationStatus.EXPIRED:
            self._post("expired", "expired", BOTH)

    async def _until_paid(self) -> None:
        """Wait for the order's word; remind the client once half the window has passed."""
        pay_by = self._state.pay_by or workflow.now()
        decided = self._state.decided_at or workflow.now()
        remind_at = decided + (pay_by - decided) / 2
        checks = 0
        while self._state.status == QuotationStatus.ACCEPTED:
            now = workflow.now()
            if not self._state.payment_reminded and pay_by - decided >= timedelta(hours=2):
                wake = remind_at
            else:
                wake = pay_by + SETTLE_CHECK_EVERY * (checks + 1)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._settled is not None,
                                              timeout=max(wake - now, timedelta(seconds=1)))
            if self._settled is not None and self._settled.order_id != self._state.order_id:
                self._settled = None  # another order's word: not ours
            elif self._settled is not None:
                await self._settle(self._settled.status.value)
            elif not self._state.payment_reminded and workflow.now() >= remind_at and workflow.now() < pay_by:
                self._state.payment_reminded = True
                if self._state.reminders_paused:
                    self._state.reminders_skipped.append("payment-reminder")
                else:
                    self._post("payment-reminder", "payment_reminder", ["client"])
            elif workflow.now() >= pay_by:
                checks += 1
                await self._settle(None)
                if checks >= SETTLE_CHECKS and self._state.status == QuotationStatus.ACCEPTED:
                    workflow.logger.warning("quotation %s: its order never settled", self._inp.quotation_id)
                    return

    async def _settle(self, reported: str | None) -> None:
        assert self._state.order_id is not None
        async with self._lock:
            status: str = await background(SETTLE, SettleStep(
                ref=self._ref, at=workflow.now(), order_id=self._state.order_id, reported=reported), str)
            if status == self._state.status.value:
                self._settled = None  # the order is still open: keep waiting
                return
            self._state.status = QuotationStatus(status)
            self._publish()
        if self._state.status == QuotationStatus.PAID:
            self._post("paid", "paid", ["consultant"])
        elif self._state.status == QuotationStatus.LAPSED:
            self._post("lapsed", "lapsed", BOTH)

    # -- signals, updates, query -----------------------------------------------------------
    @workflow.signal
    def viewed(self, view: Viewed) -> None:
        """The link was opened (the API counted it in the row): the first view tells the consultant."""
        self._state.views = max(self._state.views, view.views)
        if self._state.status == QuotationStatus.SENT:
            self._state.status = QuotationStatus.VIEWED
            self._state.first_viewed_at = self._state.first_viewed_at or view.at
            self._publish()
            self._post(f"viewed:v{self._state.version}", "viewed", ["consultant"])
        else:
            workflow.upsert_memo({"summary": summary(self._state)})

    @workflow.signal
    def order_settled(self, settled: OrderSettled) -> None:
        """From the order this quotation made (it may come before the accept's answer: it is kept)."""
        if self._settled is None:
            self._settled = settled

    @workflow.update
    async def accept(self, request: AcceptRequest) -> Accepted:
        async with self._lock:
            self._still_open()
            order: OrderInput = await interactive(ACCEPT, AcceptStep(
                ref=self._ref, at=workflow.now(), request=request,
                payment_window_seconds=self._inp.payment_window_seconds), OrderInput)
            await workflow.start_child_workflow(
                "Order", order, id=order_workflow_id(order.order_id), task_queue=workflow.info().task_queue,
                parent_close_policy=ParentClosePolicy.ABANDON)
            self._state.status = QuotationStatus.ACCEPTED
            self._state.order_id = order.order_id
            self._state.decided_at = workflow.now()
            self._state.pay_by = workflow.now() + timedelta(seconds=order.payment_window_seconds)
            self._publish()
        self._post("accepted", "accepted", BOTH)
        return Accepted(state=self._state, order_id=order.order_id)

    @accept.validator
    def _validate_accept(self, request: AcceptRequest) -> None:
        self._still_open()

    @workflow.update
    async def reject(self, request: RejectRequest) -> QuotationState:
        async with self._lock:
            self._still_open()
            status: str = await interactive(REJECT, Step(ref=self._ref, at=workflow.now(), reject=request), str)
            self._state.status = QuotationStatus(status)
            self._state.decided_at = workflow.now()
            self._state.reason = request.reason
            self._publish()
        self._post("rejected", "rejected", ["consultant"], reason=request.reason or "")
        return self._state

    @reject.validator
    def _validate_reject(self, request: RejectRequest) -> None:
        self._still_open()

    @workflow.update
    async def extend(self, request: ExtendRequest) -> QuotationState:
        async with self._lock:
            self._still_open(allow_past_expiry=True)
            await interactive(EXTEND, Step(ref=self._ref, at=workflow.now(), extend=request), str)
            self._state.expires_at = request.expires_at
            self._state.extensions += 1
            self._moved = True
            self._publish()
        self._post(f"extended:{self._state.extensions}", "extended", ["client"])
        return self._state

    @extend.validator
    def _validate_extend(self, request: ExtendRequest) -> None:
        self._still_open()
        if request.expires_at <= workflow.now():
            raise refuse("choose a time in the future", "expires_at")
        if request.expires_at <= self._state.expires_at:
            raise refuse(f"the quotation is already valid until {self._state.expires_at:%Y-%m-%d %H:%M} UTC; "
                          "choose a later time", "expires_at")

    @workflow.update
    async def withdraw(self, request: WithdrawRequest) -> QuotationState:
        async with self._lock:
            self._still_open(allow_past_expiry=True)
            status: str = await interactive(WITHDRAW, Step(ref=self._ref, at=workflow.now(),
                                                                 withdraw=request), str)
            self._state.status = QuotationStatus(status)
            self._state.decided_at = workflow.now()
            self._state.reason = request.reason
            self._publish()
        self._post("withdrawn", "withdrawn", ["client"], reason=request.reason or "")
        return self._state

    @withdraw.validator
    def _validate_withdraw(self, request: WithdrawRequest) -> None:
        self._still_open(allow_past_expiry=True)

    @workflow.update
    async def revise(self, request: ReviseRequest) -> QuotationState:
        async with self._lock:
            self._still_open(allow_past_expiry=True)
            await interactive(REVISE, Step(ref=self._ref, at=workflow.now(), revise=request), str)
            self._state.version = request.version
            self._state.expires_at = request.expires_at
            self._state.status = QuotationStatus.SENT
            self._state.first_viewed_at = None
            self._sent_at = workflow.now()
            self._moved = True
            self._publish()
        self._post(f"received:v{request.version}", "revised", ["client"], attach_pdf=True)
        return self._state

    @revise.validator
    def _validate_revise(self, request: ReviseRequest) -> None:
        self._still_open(allow_past_expiry=True)
        if request.version != self._state.version + 1:
            raise refuse(f"the quotation is at version {self._state.version}; reload it and revise again",
                          "version")
        if request.expires_at <= workflow.now():
            raise refuse("choose a time in the future", "expires_at")

    @workflow.update
    def pause_reminders(self, request: PauseReminders) -> QuotationState:
        self._state.reminders_paused = request.paused
        return self._state

    @pause_reminders.validator
    def _validate_pause_reminders(self, request: PauseReminders) -> None:
        if self._state.status not in OPEN and self._state.status != QuotationStatus.ACCEPTED:
            raise refuse(f"this quotation is {self._state.status.value}: no reminders are planned",
                          type_="QuotationClosed")
        if request.paused == self._state.reminders_paused:
            raise refuse(f"reminders are {'paused' if request.paused else 'running'} already")

    @workflow.query
    def state(self) -> QuotationState:
        return self._state

    # -- helpers ---------------------------------------------------------------------------
    def _still_open(self, *, allow_past_expiry: bool = False) -> None:
        status = self._state.status
        if status not in OPEN:
            raise refuse(f"this quotation is {status.value}", type_="QuotationClosed")
        if not allow_past_expiry and workflow.now() >= self._state.expires_at:
            raise refuse(f"this quotation expired at {self._state.expires_at:%Y-%m-%d %H:%M} UTC",
                          type_="QuotationExpired")

    def _post(self, step: str, event: str, audience: Audience, *, attach_pdf: bool = False, **variables: str) -> None:
        """A message through the outbox: it leaves in the background, after the caller's answer."""
        self._outbox.post(step, NOTIFY, Notice(
            ref=self._ref, step=step, event=f"quotation.{event}", audience=audience, version=self._state.version,
            attach_pdf=attach_pdf, variables=variables), result_type=int)

    def _publish(self) -> None:
        publish([
            TENANT_ID.value_set(str(self._inp.tenant_id)),
            CLIENT_ID.value_set(str(self._inp.client_id)),
            CONSULTANT_ID.value_set(str(self._inp.consultant_id)),
            ENTITY_STATUS.value_set(self._state.status.value),
        ], summary(self._state))
