"""OrderWorkflow (`order-<order id>`): from an order to its payment, fulfilment and refunds.

1. Waits for a payment (signals from the webhook, checkout verification or reconciliation)
   until the order expires; before expiring it asks the gateway once more (a lost webhook must
   not lose a payment). Expiry releases what the lines hold and gives back coupon and wallet.
2. A captured payment is recorded once (by its gateway id, however often it is reported); the
   wrong amount or currency sends the order to staff (`needs_review`) and it is never fulfilled.
3. Paid: each line is fulfilled through the registry of fulfilment handlers; if one fails for
   good, the others are released and everything is refunded (compensation). Then the invoice
   (gap-free number) and the receipt.
4. Afterwards it takes refunds (the `refund` update, validated; or `request_refund` from another
   workflow) for REFUND_WINDOW, closes them on `refund_settled`, refunds late or duplicate
   payments by itself, and ends.
5. A refund Razorpay will not take because it refuses the keys (401/403) is held, not failed
   (client money is never lost to a key problem): the workflow keeps it and tries it again with
   the same idempotency key, after a minute, then twice as long each time up to an hour, and at
   once on `gateway_keys_changed` (the owner saved keys); REFUND_HOLD_LIMIT after it was first
   held it fails and staff are told. The workflow does not end while a refund is held.

Signals are queued and handled one at a time by the main loop, so the order of arrival does not
matter: a `payment_failed` after a capture changes nothing, a paid order never goes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from domain.payments.money import format_amount
    from domain.payments.orders import (
        CHECK_GATEWAY,
        CLOSE_ORDER,
        CREATE_GATEWAY_ORDER,
        ISSUE_INVOICE,
        LATE_PAYMENT_GRACE,
        MONEY_HELD,
        NOTIFY,
        RECORD_PAYMENT,
        REFUND_WINDOW,
        SEND_RECEIPT,
        UPDATE_LINE,
        CheckoutInfo,
        CloseOrder,
        FulfilmentLine,
        GatewayFindings,
        LineCompletion,
        LineStatus,
        LineUpdate,
        OrderInput,
        OrderNotice,
        OrderRef,
        OrderSettled,
        OrderState,
        OrderStatus,
        PaymentOutcome,
        PaymentReport,
        PaymentResult,
        RecordPayment,
        RefundReport,
        RefundRequest,
        RefundView,
        StaleOrder,
    )
    from domain.payments.refunds import RefundDestination
    from workflows.fulfilment import REGISTRY, FulfilmentContext
    from workflows.order_refunds import OrderRefunds, innermost_reason
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

ACTIVITY_TIMEOUT = timedelta(seconds=60)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=2),
                             non_retryable_error_types=["PaymentRefused", "OrderNotFound", "BadTransition",
                                                        "RefundTooLarge", "RefundTooSmall", "UnknownRefund",
                                                        "NothingToPay", "PaymentsNotConfigured"])
# Fulfilment steps give up after a while: the order is then compensated rather than stuck.
REFUND_ENDS_ACCESS = "refund-ends-access"  # workflow.patched id: a full refund tells the lines' handlers
# workflow.patched id: messages and the receipt leave through the outbox, after the step that
# causes them, so a provider outage never holds fulfilment, a refund or staff's `complete_line`.
ORDER_MESSAGES_AFTER = "order-messages-after-the-step"
# Checkout: a person waits for it (see OrderWorkflow.checkout).
CHECKOUT_ATTEMPT = timedelta(seconds=30)
CHECKOUT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3,
                             non_retryable_error_types=ACTIVITY_RETRY.non_retryable_error_types)
GATEWAY_UNAVAILABLE = "GatewayUnavailable"  # ApplicationError.type: the API answers 503 + Retry-After
FULFIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                           maximum_attempts=10)


@workflow.defn(name="Order")
class OrderWorkflow(OrderRefunds):
    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._inp = inp
        self._ref = OrderRef(workflow_id=workflow.info().workflow_id, order_id=inp.order_id, tenant_id=inp.tenant_id)
        self._state = inp.resume or OrderState(
            order_id=inp.order_id, status=OrderStatus.PENDING_PAYMENT, amount_due=inp.amount_due,
            wallet_applied=inp.wallet_applied, lines={str(line.line_id): LineStatus.PENDING for line in inp.lines},
            pay_by=workflow.now() + timedelta(seconds=inp.payment_window_seconds),
        )
        self._payments: list[PaymentReport] = []
        self._settlements: list[RefundReport] = []
        self._pay_by_moved = False  # extend_payment woke the wait for the payment
        self._refund_requests: list[RefundRequest] = []
        self._cancel_reason: str | None = None
        self._money = asyncio.Lock()  # one money-moving step at a time (main loop and updates)
        self._outbox = Outbox()
        self._messages_in_background = workflow.patched(ORDER_MESSAGES_AFTER)
        # held refunds (by refund id): when to try each next, and the wait after that
        self._held_next: dict[str, datetime] = {}
        self._held_wait: dict[str, timedelta] = {}
        self._keys_changed = False  # gateway_keys_changed: try the held refunds now
        self._held_moved = False  # a refund was held while the main loop waited: wake it to time the next try

    # -- the run -----------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: OrderInput) -> OrderState:
        self._publish()
        if self._state.status == OrderStatus.PENDING_PAYMENT:
            await self._await_payment()
            await self._tell_settled()
        if self._state.status == OrderStatus.PAID:
            await self._fulfil()
        await self._after_sales()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        return self._state

    def _publish(self) -> None:
        workflow.upsert_search_attributes([
            TENANT_ID.value_set(str(self._inp.tenant_id)),
            CLIENT_ID.value_set(str(self._inp.client_id)),
            ENTITY_STATUS.value_set(self._state.status.value),
        ])
        workflow.upsert_memo({"summary": (
            f"Order {str(self._inp.order_id)[:8]}: {format_amount(self._inp.total, self._inp.currency)}, "
            f"{len(self._inp.lines)} item(s), {self._state.status.value.replace('_', ' ')}")})

    async def _tell_settled(self) -> None:
        """Tell the workflow that made this order (a quotation) how its payment ended; orders without
        one send nothing, so histories from before this replay unchanged."""
        if not self._inp.notify_workflow_id:
            return
        try:
            await workflow.get_external_workflow_handle(self._inp.notify_workflow_id).signal(
                "order_settled", OrderSettled(order_id=self._inp.order_id, status=self._state.status))
        except FailureError as exc:
            workflow.logger.info("%s did not take order_settled: %s", self._inp.notify_workflow_id, exc)

    def _set_status(self, status: OrderStatus) -> None:
        if self._state.status != status:
            self._state.status = status
            self._publish()

    async def _activity(self, name: str, arg: object, result_type: type | None = None,
                        retry: RetryPolicy = ACTIVITY_RETRY) -> object:
        return await workflow.execute_activity(name, arg, result_type=result_type,
                                               start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=retry)

    async def _notify(self, event: str, audience: str, step: str, **variables: str) -> None:
        notice = OrderNotice(ref=self._ref, event=event, audience=audience,  # type: ignore[arg-type]
                             step=step, variables=variables)
        if self._messages_in_background:
            self._outbox.post(f"{event}:{step}", NOTIFY, notice, result_type=int)
            return
        await self._activity(NOTIFY, notice)  # a history from before the outbox: sent where it was posted

    async def _send_receipt(self) -> None:
        if self._messages_in_background:
            self._outbox.post("receipt", SEND_RECEIPT, self._ref, result_type=bool)
            return
        await self._activity(SEND_RECEIPT, self._ref, bool)

    def _money_text(self, amount: int) -> str:
        return format_amount(amount, self._inp.currency)

    # -- 1. waiting for the payment ----------------------------------------------------------------------
    async def _await_payment(self) -> None:
        if self._inp.amount_due == 0:  # the wallet (and a coupon) paid it all
            await self._activity(CLOSE_ORDER, CloseOrder(ref=self._ref, status=OrderStatus.PAID,
                                                         reason="paid from the wallet"))
            self._state.paid_payment_id = "wallet"
            self._set_status(OrderStatus.PAID)
            return
        while self._state.status == OrderStatus.PENDING_PAYMENT:
            remaining = self._pay_by() - workflow.now()
            self._pay_by_moved = False
            if remaining > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: bool(self._payments) or self._cancel_reason is not None
                                                  or self._pay_by_moved, timeout=remaining)
            if self._pay_by_moved and not self._payments and self._cancel_reason is None:
                continue  # support extended the time to pay: wait again, until the new time
            if not self._payments and self._cancel_reason is None:
                # Expired: one last look at the gateway, in case a webhook was lost.
                findings = await self._activity(CHECK_GATEWAY, self._stale(), GatewayFindings)
                assert isinstance(findings, GatewayFindings)
                self._payments.extend(findings.payments)
                if not self._payments:
                    await self._close_unpaid(OrderStatus.EXPIRED, "not paid in time")
                    return
            while self._payments and self._state.status == OrderStatus.PENDING_PAYMENT:
                await self._take_payment(self._payments.pop(0))
            if self._cancel_reason is not None and self._state.status == OrderStatus.PENDING_PAYMENT:
                await self._close_unpaid(OrderStatus.CANCELLED, self._cancel_reason)

    def _pay_by(self) -> datetime:
        return self._state.pay_by or self._inp.expires_at

    def _stale(self) -> StaleOrder:
        return StaleOrder(order_id=self._inp.order_id, tenant_id=self._inp.tenant_id,
                          workflow_id=self._ref.workflow_id)

    async def _take_payment(self, report: PaymentReport) -> None:
        known = {self._state.paid_payment_id, *self._state.extra_payments}
        if report.payment_id in known and report.status == "captured":
            return  # a redelivery of a payment this workflow has already taken
        outcome = await self._activity(RECORD_PAYMENT, RecordPayment(ref=self._ref, report=report), PaymentOutcome)
        assert isinstance(outcome, PaymentOutcome)
        result = outcome.result
        if result == PaymentResult.PAID or (result == PaymentResult.ALREADY_PAID
                                            and self._state.status == OrderStatus.PENDING_PAYMENT):
            self._state.paid_payment_id = outcome.payment_id
            self._state.amount_paid = outcome.amount
            self._set_status(OrderStatus.PAID)
        elif result == PaymentResult.MISMATCH:
            self._state.paid_payment_id = outcome.payment_id
            self._state.amount_paid = outcome.amount
            self._state.flags.append(f"mismatch: {outcome.detail}")
            self._set_status(OrderStatus.NEEDS_REVIEW)
            await self._notify("payment_needs_review", "staff", f"review:{outcome.payment_id}", reason=outcome.detail)
        elif result in (PaymentResult.EXTRA, PaymentResult.LATE):
            if outcome.payment_id in self._state.extra_payments:
                return
            self._state.extra_payments.append(outcome.payment_id)
            late = result == PaymentResult.LATE
            self._state.flags.append(f"{'late' if late else 'duplicate'} payment {outcome.payment_id} refunded")
            await self._refund(RefundRequest(
                amount=outcome.amount, reason=outcome.detail, kind="late_payment" if late else "duplicate_payment",
                key=f"{self._inp.order_id}:{'late' if late else 'extra'}:{outcome.payment_id}",
                payment_id=outcome.payment_id, destination=RefundDestination.ORIGINAL))
            if late:
                await self._notify("late_payment_refunded", "client", f"late:{outcome.payment_id}",
                                   status=self._state.status.value, amount=self._money_text(outcome.amount))
        elif result == PaymentResult.FAILED and self._state.status == OrderStatus.PENDING_PAYMENT:
            await self._notify("payment_failed", "client", f"payment-failed:{outcome.payment_id}",
                               reason=outcome.detail or "declined",
                               expires=self._pay_by().isoformat())  # on the reader's clock

    async def _close_unpaid(self, status: OrderStatus, reason: str) -> None:
        await self._activity(CLOSE_ORDER, CloseOrder(ref=self._ref, status=status, reason=reason))
        ctx = self._context()
        for line in self._inp.lines:
            await self._release(ctx, line, reason)
        if status == OrderStatus.EXPIRED:
            await self._notify("order_expired", "client", "expired")
        self._set_status(status)

    # -- 2. fulfilment ----------------------------------------------------------------------------------
    def _context(self) -> FulfilmentContext:
        return FulfilmentContext(order_id=self._inp.order_id, tenant_id=self._inp.tenant_id,
                                 client_id=self._inp.client_id, payment_id=self._state.paid_payment_id or "",
                                 currency=self._inp.currency, workflow_id=self._ref.workflow_id)

    async def _set_line(self, line: FulfilmentLine, status: LineStatus, detail: str | None = None) -> None:
        await self._activity(UPDATE_LINE, LineUpdate(ref=self._ref, line_id=line.line_id, status=status, detail=detail))
        self._state.lines[str(line.line_id)] = status

    async def _release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        if self._state.lines.get(str(line.line_id)) in (LineStatus.RELEASED, LineStatus.AWAITING_HANDLER):
            return
        await REGISTRY.handler_for(line.kind).release(ctx, line, reason)
        await self._set_line(line, LineStatus.RELEASED, reason)

    async def _fulfil(self) -> None:
        ctx = self._context()
        done: list[FulfilmentLine] = []
        for line in self._inp.lines:
            status = self._state.lines.get(str(line.line_id))
            if status in (LineStatus.FULFILLED, LineStatus.AWAITING_HANDLER):
                done.append(line)
                continue
            try:
                outcome = await REGISTRY.handler_for(line.kind).fulfil(ctx, line)
            except (FailureError, ValueError) as exc:
                await self._compensate(ctx, done, line, innermost_reason(exc))
                return
            await self._set_line(line, outcome)
            done.append(line)
        self._state.invoice_number = str(await self._activity(ISSUE_INVOICE, self._ref, str))
        await self._send_receipt()
        waiting = [line for line in self._inp.lines
                   if self._state.lines.get(str(line.line_id)) == LineStatus.AWAITING_HANDLER]
        final = OrderStatus.AWAITING_FULFILMENT if waiting else OrderStatus.FULFILLED
        await self._activity(CLOSE_ORDER, CloseOrder(ref=self._ref, status=final, reason="fulfilment done"))
        if waiting:
            await self._notify("fulfilment_awaiting_handler", "staff", "awaiting-handler",
                               kinds=", ".join(sorted({line.kind.value for line in waiting})))
        self._set_status(final)

    async def _compensate(self, ctx: FulfilmentContext, done: list[FulfilmentLine], failed: FulfilmentLine,
                          reason: str) -> None:
        """A line could not be fulfilled: release everything, refund everything, tell everyone."""
        workflow.logger.warning("order %s: fulfilling %s failed (%s); compensating", self._inp.order_id,
                                failed.kind.value, reason)
        await self._set_line(failed, LineStatus.FAILED, reason)
        for line in reversed(done):
            await self._release(ctx, line, f"another item of the order failed: {reason}")
        for line in self._inp.lines:
            if self._state.lines.get(str(line.line_id)) == LineStatus.PENDING:
                await self._release(ctx, line, "the order could not be completed")
        await REGISTRY.handler_for(failed.kind).release(ctx, failed, reason)
        await self._activity(CLOSE_ORDER, CloseOrder(ref=self._ref, status=OrderStatus.FULFILMENT_FAILED,
                                                     reason=reason))
        amount = self._refundable()
        await self._notify("fulfilment_failed", "client", "fulfilment-failed", reason=reason[:200],
                           amount=self._money_text(amount))
        await self._notify("fulfilment_failed_staff", "staff", "fulfilment-failed", reason=reason[:200],
                           amount=self._money_text(amount))
        self._set_status(OrderStatus.FULFILMENT_FAILED)
        if amount > 0:
            await self._refund(RefundRequest(amount=amount, reason=f"order could not be fulfilled: {reason}"[:500],
                                             kind="compensation", key=f"{self._inp.order_id}:compensation"))

    # -- 3. after the sale: refunds ------------------------------------------------------------------
    def _has_work(self) -> bool:
        return bool(self._payments or self._settlements or self._refund_requests)

    async def _after_sales(self) -> None:
        if self._state.after_sales_until is None:
            window = LATE_PAYMENT_GRACE if self._state.status not in MONEY_HELD else REFUND_WINDOW
            self._state.after_sales_until = workflow.now() + window
        while True:
            while self._has_work():
                if self._payments:
                    await self._take_payment(self._payments.pop(0))
                elif self._settlements:
                    await self._settle(self._settlements.pop(0))
                else:
                    await self._requested_refund(self._refund_requests.pop(0))
            if self._held():  # only ever after REFUNDS_HELD_ON_KEYS: older histories never get here
                await self._retry_held()
                if self._has_work():
                    continue
            if self._state.status == OrderStatus.REFUNDED and not self._state.access_ended \
                    and workflow.patched(REFUND_ENDS_ACCESS):
                await self._end_access()
            remaining = self._state.after_sales_until - workflow.now()
            finished = self._state.status == OrderStatus.REFUNDED or remaining <= timedelta(0)
            if finished and not self._pending_refunds():
                return
            if workflow.info().is_continue_as_new_suggested() and workflow.all_handlers_finished() \
                    and not self._outbox.sending:
                workflow.continue_as_new(self._inp.model_copy(update={"resume": self._state}))
            timeout = remaining if remaining > timedelta(0) else None
            next_try = self._next_held_try()
            if next_try is not None:
                until_try = max(next_try - workflow.now(), timedelta(seconds=1))
                timeout = until_try if timeout is None else min(timeout, until_try)
            self._held_moved = False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._has_work() or self._keys_changed or self._held_moved
                    or (self._state.status == OrderStatus.REFUNDED and not self._pending_refunds()),
                    timeout=timeout)

    async def _end_access(self) -> None:
        """Everything paid went back: what the fulfilled lines gave ends (a course's access). A
        handler says so with an optional `refunded(ctx, line, reason)`; others keep what they did
        (a held session's refund follows its own cancellation)."""
        self._state.access_ended = True
        ctx = self._context()
        for line in self._inp.lines:
            hook = getattr(REGISTRY.handler_for(line.kind), "refunded", None)
            if hook is not None and self._state.lines.get(str(line.line_id)) == LineStatus.FULFILLED:
                await hook(ctx, line, "the order was refunded")

    # -- signals, updates, queries -----------------------------------------------------------------
    @workflow.signal
    def payment_captured(self, report: PaymentReport) -> None:
        self._payments.append(report)

    @workflow.signal
    def payment_failed(self, report: PaymentReport) -> None:
        self._payments.append(report)

    @workflow.signal
    def refund_settled(self, report: RefundReport) -> None:
        self._settlements.append(report)

    @workflow.signal
    def request_refund(self, request: RefundRequest) -> None:
        """A refund asked by another workflow (a cancelled consultation); refused ones go to staff."""
        self._refund_requests.append(request)

    @workflow.signal
    def gateway_keys_changed(self) -> None:
        """The owner saved (or removed) the Razorpay keys: held refunds are tried again now."""
        if self._held():
            self._keys_changed = True

    @workflow.signal
    def extend_payment(self, pay_by: datetime) -> None:
        """Support gave more time to pay (a booking's hold extended): only ever later, only while unpaid."""
        if self._state.status == OrderStatus.PENDING_PAYMENT and pay_by > self._pay_by():
            self._state.pay_by = pay_by
            self._pay_by_moved = True

    @workflow.signal
    def cancel(self, reason: str) -> None:
        if self._state.status == OrderStatus.PENDING_PAYMENT and self._cancel_reason is None:
            self._cancel_reason = reason or "cancelled"

    @workflow.update
    async def checkout(self) -> CheckoutInfo:
        """The Razorpay order to pay with (created once). A person waits on this one, so it is
        tried a few times only: Razorpay down is a quick "try again shortly", never a hang."""
        try:
            info: CheckoutInfo = await workflow.execute_activity(
                CREATE_GATEWAY_ORDER, self._ref, result_type=CheckoutInfo,
                start_to_close_timeout=CHECKOUT_ATTEMPT, retry_policy=CHECKOUT_RETRY)
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from exc
            raise ApplicationError(f"Razorpay did not answer: {innermost_reason(exc)}"[:500], type=GATEWAY_UNAVAILABLE,
                                   non_retryable=True) from exc
        return info

    @checkout.validator
    def _validate_checkout(self) -> None:
        if self._state.status != OrderStatus.PENDING_PAYMENT:
            raise ApplicationError(f"this order is {self._state.status.value.replace('_', ' ')}: nothing to pay",
                                   non_retryable=True)
        if self._inp.amount_due == 0:
            raise ApplicationError("this order is paid from the wallet: nothing to pay online", non_retryable=True)
        if workflow.now() >= self._pay_by():
            raise ApplicationError("this order has expired", non_retryable=True)

    @workflow.update
    async def refund(self, request: RefundRequest) -> RefundView:
        return await self._refund(request)

    @refund.validator
    def _validate_refund(self, request: RefundRequest) -> None:
        if any(known.key == request.key for known in self._state.refunds):
            return  # a repeat: answered with the first refund
        if self._state.status not in MONEY_HELD:
            raise ApplicationError(f"this order is {self._state.status.value.replace('_', ' ')}: nothing was paid",
                                   non_retryable=True)
        available = self._refundable(request.payment_id)
        if request.amount > available:
            raise ApplicationError(
                f"at most {self._money_text(available)} can still be refunded on this order",
                {"field": "amount"}, non_retryable=True)

    @workflow.update
    async def complete_line(self, completion: LineCompletion) -> OrderState:
        """Staff delivered an `awaiting_handler` line by hand; the last one fulfils the order."""
        line = next(line for line in self._inp.lines if line.line_id == completion.line_id)
        await self._set_line(line, LineStatus.FULFILLED, completion.note or "delivered by staff")
        # Accepted while the run was finishing its fulfilment: answer once it has closed the order.
        await workflow.wait_condition(lambda: self._state.status != OrderStatus.PAID)
        if all(status == LineStatus.FULFILLED for status in self._state.lines.values()) \
                and self._state.status == OrderStatus.AWAITING_FULFILMENT:
            await self._activity(CLOSE_ORDER, CloseOrder(ref=self._ref, status=OrderStatus.FULFILLED,
                                                         reason="the last item was delivered by staff"))
            self._set_status(OrderStatus.FULFILLED)
        return self._state

    @complete_line.validator
    def _validate_completion(self, completion: LineCompletion) -> None:
        status = self._state.lines.get(str(completion.line_id))
        if status is None:
            raise ApplicationError("this order has no such line", {"field": "line_id"}, non_retryable=True)
        # PAID too: the row shows `awaiting_fulfilment` as soon as CLOSE_ORDER has run, a moment
        # before this workflow (still telling the staff) sets it; staff may be quicker than that.
        if status != LineStatus.AWAITING_HANDLER or self._state.status not in (
                OrderStatus.PAID, OrderStatus.AWAITING_FULFILMENT):
            raise ApplicationError(f"this line is {status.value.replace('_', ' ')}, not awaiting delivery",
                                   {"field": "line_id"}, non_retryable=True)

    @workflow.query
    def state(self) -> OrderState:
        return self._state
