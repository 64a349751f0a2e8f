"""The Order workflow's refunds (OrderWorkflow's money going back; workflows/orders.py runs them).

A refund is made once per key (the `refund` update, `request_refund` from another workflow, or
compensation), closed by `refund_settled`, and counted into the order's status. One Razorpay
refuses because of the consultancy's keys (401/403) is *held*, not failed: it is tried again
with the same refund row and idempotency key after a minute, then twice as long each time up to
an hour, and at once on `gateway_keys_changed`; REFUND_HOLD_LIMIT after it was first held it
fails and staff are told (REFUNDS_HELD_ON_KEYS guards it for older histories).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from domain.payments.orders import (
        CREATE_REFUND,
        MONEY_HELD,
        REFUND_HOLD_FIRST_RETRY,
        REFUND_HOLD_LIMIT,
        REFUND_HOLD_MAX_RETRY,
        SETTLE_REFUND,
        CreateRefund,
        OrderRef,
        OrderState,
        OrderStatus,
        RefundReport,
        RefundRequest,
        RefundStatus,
        RefundView,
        SettleRefund,
    )

# workflow.patched id: a refund refused for the keys (401/403) is held and tried again, not failed.
REFUNDS_HELD_ON_KEYS = "refunds-held-while-keys-refused"


class RefundRejected(ApplicationError):
    pass


class OrderRefunds:
    """OrderWorkflow's refund steps, kept apart from its payment and fulfilment."""

    _state: OrderState
    _ref: OrderRef
    _money: asyncio.Lock  # one money-moving step at a time (main loop and updates)
    _held_next: dict[str, datetime]  # held refunds (by refund id): when to try each next
    _held_wait: dict[str, timedelta]  # ... and the wait after that
    _keys_changed: bool  # gateway_keys_changed: try the held refunds now
    _held_moved: bool  # a refund was held while the main loop waited: wake it to time the next try

    if TYPE_CHECKING:  # OrderWorkflow's own steps
        async def _activity(self, name: str, arg: object, result_type: type | None = None) -> object: ...
        async def _notify(self, event: str, audience: str, step: str, **variables: str) -> None: ...
        def _money_text(self, amount: int) -> str: ...
        def _set_status(self, status: OrderStatus) -> None: ...
        def _validate_refund(self, request: RefundRequest) -> None: ...

    def _refundable(self, payment_id: str | None = None) -> int:
        if self._state.status not in MONEY_HELD:
            return 0
        if payment_id and payment_id != self._state.paid_payment_id:
            return 0
        wallet = self._state.wallet_applied
        main = [r for r in self._state.refunds if r.status != RefundStatus.FAILED
                and r.payment_id in (None, self._state.paid_payment_id)]
        return self._state.amount_paid + wallet - sum(r.amount for r in main)

    def _pending_refunds(self) -> bool:
        return any(r.status in (RefundStatus.PENDING, RefundStatus.HELD) for r in self._state.refunds)

    def _held(self) -> list[RefundView]:
        return [r for r in self._state.refunds if r.status == RefundStatus.HELD]

    def _next_held_try(self) -> datetime | None:
        """When the first held refund is due (one not yet scheduled, after a continue-as-new: now)."""
        held = self._held()
        if not held:
            return None
        return min(self._held_next.get(str(r.refund_id), workflow.now()) for r in held)

    async def _requested_refund(self, request: RefundRequest) -> None:
        try:
            self._validate_refund(request)
            await self._refund(request)
        except ApplicationError as exc:
            self._state.flags.append(f"refund {request.key} refused: {exc.message}")
            await self._notify("refund_failed_staff", "staff", f"refund-refused:{request.key}",
                               amount=self._money_text(request.amount), reason=exc.message)

    def _remember(self, view: RefundView) -> None:
        for index, known in enumerate(self._state.refunds):
            if known.refund_id == view.refund_id:
                self._state.refunds[index] = view
                break
        else:
            self._state.refunds.append(view)
        self._state.refunded = sum(r.amount for r in self._state.refunds if r.status == RefundStatus.PROCESSED)
        if self._refundable() == 0 and self._state.status in MONEY_HELD and not self._pending_refunds() \
                and self._state.refunded > 0:
            self._set_status(OrderStatus.REFUNDED)

    async def _refund(self, request: RefundRequest) -> RefundView:
        async with self._money:
            for known in self._state.refunds:
                if known.key == request.key:
                    return known
            hold = workflow.patched(REFUNDS_HELD_ON_KEYS)
            try:
                view = await self._activity(CREATE_REFUND, CreateRefund(ref=self._ref, request=request,
                                                                        hold_on_keys_refused=hold), RefundView)
            except ActivityError as exc:
                raise RefundRejected(innermost_reason(exc), {"field": "amount"}, non_retryable=True) from exc
            assert isinstance(view, RefundView)
            self._remember(view)
            if view.status == RefundStatus.PROCESSED:
                await self._refund_done(view)
            elif view.status == RefundStatus.HELD:
                self._schedule_held(view, REFUND_HOLD_FIRST_RETRY)
            return view

    def _schedule_held(self, view: RefundView, wait: timedelta) -> None:
        """The next try of a held refund: after `wait`, never after its hold runs out."""
        key = str(view.refund_id)
        self._held_wait[key] = wait
        self._held_next[key] = min(workflow.now() + wait, self._hold_ends(view))
        self._held_moved = True

    def _hold_ends(self, view: RefundView) -> datetime:
        return (view.held_since or workflow.now()) + REFUND_HOLD_LIMIT

    async def _retry_held(self) -> None:
        """Try again the held refunds that are due (all of them when the owner saved keys): the same
        refund row and Razorpay idempotency key, so it is sent and counted once. Still refused after
        REFUND_HOLD_LIMIT: failed, and staff are told."""
        everyone, self._keys_changed = self._keys_changed, False
        for held in self._held():
            key = str(held.refund_id)
            if not everyone and self._held_next.get(key, workflow.now()) > workflow.now():
                continue
            async with self._money:
                try:
                    view = await self._activity(CREATE_REFUND, CreateRefund(
                        ref=self._ref, request=_request_of(held), hold_on_keys_refused=True), RefundView)
                except ActivityError as exc:  # not tried (no keys to try at all): still held, bounded alike
                    workflow.logger.warning("held refund %s not tried: %s", key, innermost_reason(exc))
                    view = held
                assert isinstance(view, RefundView)
                ran_out = view.status == RefundStatus.HELD and workflow.now() >= self._hold_ends(view)
                if ran_out:
                    view = await self._give_up(view)
                self._remember(view)
            if view.status == RefundStatus.HELD:
                self._schedule_held(view, min(self._held_wait.get(key, REFUND_HOLD_FIRST_RETRY) * 2,
                                              REFUND_HOLD_MAX_RETRY))
                continue
            self._held_next.pop(key, None)
            self._held_wait.pop(key, None)
            if view.status == RefundStatus.PROCESSED:
                await self._refund_done(view)
            elif view.status == RefundStatus.FAILED:
                reason = (f"it was held {REFUND_HOLD_LIMIT.days} days and never sent, as {view.held_reason}; "
                          "once the keys work, refund again" if ran_out else "Razorpay refused the refund")
                await self._notify("refund_failed_staff", "staff", f"refund-failed:{view.refund_id}",
                                   amount=self._money_text(view.amount), reason=reason[:600])

    async def _give_up(self, view: RefundView) -> RefundView:
        days = REFUND_HOLD_LIMIT.days
        failure = (f"held {days} days and never sent: {view.held_reason or 'Razorpay refused the keys'}")[:1000]
        failed = await self._activity(SETTLE_REFUND, SettleRefund(ref=self._ref, report=RefundReport(
            refund_id=view.refund_id, gateway_refund_id="", status="failed", amount=view.gateway_amount,
            payment_id=view.payment_id), failure=failure), RefundView)
        assert isinstance(failed, RefundView)
        return failed

    async def _refund_done(self, view: RefundView) -> None:
        where = " to your wallet" if view.gateway_amount == 0 else ""
        await self._notify("refund_processed", "client", f"refund:{view.refund_id}",
                           amount=self._money_text(view.amount), destination=where)

    async def _settle(self, report: RefundReport) -> None:
        async with self._money:
            try:
                view = await self._activity(SETTLE_REFUND, SettleRefund(ref=self._ref, report=report), RefundView)
            except ActivityError as exc:
                workflow.logger.warning("refund report %s not applied: %s", report.gateway_refund_id,
                                        innermost_reason(exc))
                return
            assert isinstance(view, RefundView)
            before = next((r.status for r in self._state.refunds if r.refund_id == view.refund_id), None)
            self._remember(view)
            if before == RefundStatus.PENDING and view.status == RefundStatus.PROCESSED:
                await self._refund_done(view)
            elif before == RefundStatus.PENDING and view.status == RefundStatus.FAILED:
                await self._notify("refund_failed_staff", "staff", f"refund-failed:{view.refund_id}",
                                   amount=self._money_text(view.amount), reason="the gateway failed it")


def _request_of(view: RefundView) -> RefundRequest:
    """The request a held refund was made from (its row is found again by its key)."""
    return RefundRequest(amount=view.amount, reason=view.reason, destination=view.destination,
                         kind=view.kind, key=view.key, payment_id=view.payment_id)  # type: ignore[arg-type]


def innermost_reason(exc: BaseException) -> str:
    """The innermost message of a Temporal failure chain."""
    message = str(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, FailureError) and cause.message:
            message = cause.message
        cause = cause.__cause__
    return message
