"""ConsultationWorkflow (`consultation-<booking id>`): one booking from hold to follow-up.

    held --payment_confirmed--> confirmed --session--> completed --> feedback (+1 day), follow-up (+90 days)
      |                          |    |                   \\-> no_show
      \\--hold expires--> abandoned  \\--cancel (update)--> cancelled
                                  \\--reschedule (update): reminders move with it

Signals `payment_confirmed`, `payment_failed` and `extend_hold` (support staff, with a reason);
updates `reschedule`, `cancel`, `record_outcome`,
`stop_follow_ups`, `pause_reminders` (support staff: reminders falling due while paused are
skipped, not sent late) (each validated, each answered with the new state); query `state`.

A paid booking is paid through its order (`order-<order id>`, `ConsultationInput.order_id`): the
order's fulfilment signals `payment_confirmed`, its expiry or release `payment_failed` (the hold
ends at once, as if it ran out). This workflow tells the order back: `cancel` when the booking
ends unpaid (the client can no longer pay for a released slot), `request_refund` with the
policy's amount when a paid booking is cancelled, and a full refund of a payment that arrived
when it could no longer pay for anything (released, cancelled, or paid another way meanwhile).
Those are signals sent from workflow code: each is a command in the history, delivered once by
the server and never again on replay, and the order takes a refund once per key anyway.
Bookings without an order (free, or started before orders existed) send nothing, so their
histories replay unchanged.

Reminders (`workflows/consultation_reminders.py`, a base class of this one) are planned from the
booking's time and planned again when it moves. One asyncio.Lock orders everything that changes
the booking: an update applying a change and a reminder about to be posted never interleave, and
a reminder is only posted if its sequence is still the booking's (a reschedule bumps it); the
notify activity checks the start time again when it sends, so no reminder is ever sent for an
old time.

Messages never hold anything up: each is posted to the workflow's outbox (`workflows.outbox`)
once the change it announces is made, and leaves in the background with its own timeout and
bounded retries. An update is answered with the new state while its email is still on its way,
and a provider that is down delays neither a person, nor the lock, nor the next reminder.
Histories from before that rule (no `messages-after-the-answer` marker) replay as they ran:
each message is awaited where it was posted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from domain.bookings.consultation import (
        CANCEL,
        CONFIRM,
        EXPIRE_HOLD,
        FEEDBACK_AFTER,
        HELD_LONGER,
        MAX_OUTCOME_ASKS,
        MOVE,
        NOTIFY,
        OUTCOME_ASK_EVERY,
        RECORD_OUTCOME,
        WORKFLOW_TYPE,
        Audience,
        BookingStatus,
        CancelBooking,
        CancelledTerms,
        CancelRequest,
        Confirm,
        Confirmed,
        ConsultationInput,
        ConsultationRef,
        ConsultationState,
        ExpireHold,
        FollowUp,
        MoveBooking,
        Moved,
        Notify,
        Outcome,
        OutcomeRequest,
        PaymentConfirmed,
        PaymentFailed,
        RecordOutcome,
        RescheduleRequest,
        StopFollowUps,
    )
    from domain.bookings.policies import CancelledBy, reschedule_refusal
    from domain.payments.orders import RefundRequest, order_workflow_id
    from domain.support import PauseReminders
    from workflows.consultation_reminders import BACKGROUND, BOTH, TIMEOUT, ConsultationReminders
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS, TENANT_ID

MESSAGES_AFTER_THE_ANSWER = "messages-after-the-answer"              # workflow.patched id
# A person is waiting for an update's answer: a few quick tries, then a clear refusal.
INTERACTIVE = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2),
                          maximum_attempts=4)
T = TypeVar("T")


@workflow.defn(name=WORKFLOW_TYPE)
class ConsultationWorkflow(ConsultationReminders):
    @workflow.init
    def __init__(self, inp: ConsultationInput) -> None:
        self._inp = inp
        self._ref = ConsultationRef(workflow_id=workflow.info().workflow_id, tenant_id=inp.tenant_id,
                                    booking_id=inp.booking_id)
        self._state = ConsultationState(
            booking_id=inp.booking_id, status=inp.status, starts_at=inp.starts_at, ends_at=inp.ends_at,
            schedule_set_at=workflow.now(), hold_expires_at=inp.hold_expires_at,
        )
        self._lock = asyncio.Lock()
        self._changing = False        # an update passed validation and is being applied
        self._moved = False           # wakes the reminder loop to plan again
        self._quiet_hold: datetime | None = None  # until when a reminder last waited out quiet hours
        self._payment: PaymentConfirmed | None = None
        self._payment_failed: PaymentFailed | None = None
        self._client_reschedules = 0
        self._hold_moved = False      # extend_hold woke the wait for the payment
        self._outbox = Outbox()
        self._state.messages = self._outbox.recent
        # Histories from before the outbox awaited each message where it was sent; they replay so.
        self._messages_in_background = workflow.patched(MESSAGES_AFTER_THE_ANSWER)

    # -- the lifecycle ---------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: ConsultationInput) -> ConsultationState:
        self._publish()
        if self._status == BookingStatus.HELD:
            await self._notify("held", "held", [Audience.CLIENT])
            await self._await_payment()
        if self._status in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            await self._confirm()
        if self._status == BookingStatus.CONFIRMED:
            await self._remind_until_start()
        if self._status == BookingStatus.CONFIRMED:
            await self._await_outcome()
        if self._status == BookingStatus.COMPLETED:
            await self._follow_up()
        if self._payment is not None and not self._state.paid:
            # It came while the hold was being released or the booking cancelled: it paid for nothing.
            await self._refund_unapplied(self._payment)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        return self._state

    def _payment_settled(self) -> bool:
        return self._payment is not None or self._payment_failed is not None or self._status != BookingStatus.HELD

    async def _await_payment(self) -> None:
        while True:
            hold_until = self._state.hold_expires_at or workflow.now()
            remaining = hold_until - workflow.now()
            self._hold_moved = False
            if remaining > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._payment_settled() or self._hold_moved,
                                                  timeout=remaining)
            if self._hold_moved and not self._payment_settled():
                continue  # support extended the hold: wait again, until the new time
            async with self._lock:
                if self._payment is not None or self._status != BookingStatus.HELD:
                    return
                # The hold ran out, or the order's payment failed for good: release the slot now.
                reason = self._payment_failed.reason if self._payment_failed else None
                outcome = await workflow.execute_activity(
                    EXPIRE_HOLD, ExpireHold(ref=self._ref, at=workflow.now(), reason=reason), result_type=str,
                    start_to_close_timeout=TIMEOUT, retry_policy=BACKGROUND)
                if outcome == "paid":
                    self._state.paid = True
                    return
                if outcome != HELD_LONGER:
                    self._state.status = (BookingStatus.ABANDONED if outcome == "abandoned"
                                          else BookingStatus(outcome))
                    self._state.payment_failed_reason = reason
                    self._publish()
            if outcome != HELD_LONGER:
                break
            # The database holds it longer (support extended it as the timer fired): the signal
            # with the new time is on its way (written with that change, relayed if lost).
            await workflow.wait_condition(lambda: self._hold_moved or self._payment_settled())
        if outcome == "abandoned":
            await self._notify("hold-expired", "hold_expired", [Audience.CLIENT])
            if reason is None:  # the order itself told us otherwise: it is closing already
                await self._tell_order("cancel", "the booking's hold expired unpaid")

    async def _confirm(self) -> None:
        async with self._lock:
            if self._status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
                return
            result: Confirmed = await workflow.execute_activity(
                CONFIRM, Confirm(ref=self._ref, payment=self._payment), result_type=Confirmed,
                start_to_close_timeout=TIMEOUT, retry_policy=BACKGROUND)
            self._state.paid = result.paid
            self._state.meeting_url = result.meeting_url
            if result.status == BookingStatus.HELD:
                # Unreachable: we get here with a payment (signal) or one found in the database.
                # Fail loudly (visible in the UI) rather than leave a held slot without a timer.
                raise ApplicationError("confirmation found the booking held and unpaid", non_retryable=True)
            self._state.status = result.status
            self._state.schedule_set_at = workflow.now()
            self._publish()
        if self._status == BookingStatus.CONFIRMED:
            await self._notify("confirmed", "confirmed", BOTH, ics="request")

    async def _await_outcome(self) -> None:
        # The session runs: the consultant may record the outcome from its start.
        until_end = self._state.ends_at - workflow.now()
        wait: timedelta | None = max(until_end, timedelta(0)) + timedelta(hours=self._inp.completion_grace_hours)
        while self._status == BookingStatus.CONFIRMED:
            try:
                await workflow.wait_condition(lambda: self._status != BookingStatus.CONFIRMED, timeout=wait)
            except TimeoutError:
                self._state.outcome_asks += 1
                await self._notify(f"ask-outcome:{self._state.outcome_asks}", "outcome_needed",
                                   [Audience.CONSULTANT])
                wait = OUTCOME_ASK_EVERY if self._state.outcome_asks < MAX_OUTCOME_ASKS else None
        if self._status == BookingStatus.NO_SHOW:
            await self._notify("no-show", "no_show", [Audience.CLIENT])

    async def _follow_up(self) -> None:
        done = self._state.completed_at or workflow.now()
        plan = [(FollowUp.FEEDBACK, done + FEEDBACK_AFTER)]
        if self._inp.follow_up_days:
            plan.append((FollowUp.FOLLOW_UP, done + timedelta(days=self._inp.follow_up_days)))
        for kind, at in plan:
            if kind in self._state.follow_ups_stopped:
                continue
            remaining = at - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda kind=kind: kind in self._state.follow_ups_stopped, timeout=remaining)  # type: ignore[misc]
                    continue
                except TimeoutError:
                    pass
            await self._notify(kind.value, kind.value, [Audience.CLIENT])
            self._state.follow_ups_sent.append(kind)

    # -- signals, updates, query -----------------------------------------------------------
    @workflow.signal
    async def payment_confirmed(self, payment: PaymentConfirmed) -> None:
        """From the payments capability, or staff marking it paid offline (the API writes paid_at first).

        A payment from the order that comes when the booking is no longer held for it (released,
        cancelled, or already paid) pays for nothing: it goes back in full.
        """
        if self._payment is None and self._status == BookingStatus.HELD and self._payment_failed is None:
            self._payment = payment
        else:
            await self._refund_unapplied(payment)

    @workflow.signal
    def extend_hold(self, until: datetime) -> None:
        """Support gave a held booking more time to be paid (the API wrote it and audited the reason)."""
        if self._status == BookingStatus.HELD and (self._state.hold_expires_at is None
                                                   or until > self._state.hold_expires_at):
            self._state.hold_expires_at = until
            self._hold_moved = True

    @workflow.signal
    def payment_failed(self, failure: PaymentFailed) -> None:
        """From the booking's order: it expired, was cancelled, or could not be completed. A held,
        unpaid booking ends now as if its hold ran out (slot freed, client told); ignored once paid
        or no longer held, and from any other order."""
        if (self._payment is None and self._payment_failed is None and self._status == BookingStatus.HELD
                and self._inp.order_id in (None, failure.order_id)):
            self._payment_failed = failure

    @workflow.update
    async def reschedule(self, request: RescheduleRequest) -> ConsultationState:
        self._changing = True
        try:
            async with self._lock:
                self._still(BookingStatus.CONFIRMED)
                moved: Moved = await self._interactive(
                    MOVE, MoveBooking(ref=self._ref, request=request, at=workflow.now(),
                                      expected_sequence=self._state.sequence), Moved)
                self._state.starts_at, self._state.ends_at = moved.starts_at, moved.ends_at
                self._state.sequence = moved.sequence
                self._state.reschedules += 1
                self._state.schedule_set_at = workflow.now()
                if request.by == CancelledBy.CLIENT:
                    self._client_reschedules += 1
                self._moved = True
                self._publish()
        finally:
            self._changing = False
        await self._notify(f"rescheduled:{self._state.sequence}", "rescheduled", BOTH, ics="request")
        return self._state

    @reschedule.validator
    def _validate_reschedule(self, request: RescheduleRequest) -> None:
        self._not_changing()
        if self._status != BookingStatus.CONFIRMED:
            raise _refuse(f"a {self._status.value.replace('_', '-')} booking cannot be moved")
        now = workflow.now()
        if request.starts_at == self._state.starts_at:
            raise _refuse("that is already the booking's time", "starts_at")
        if request.starts_at <= now:
            raise _refuse("choose a time in the future", "starts_at")
        refusal = reschedule_refusal(self._inp.reschedule_policy, starts_at=self._state.starts_at, at=now,
                                     reschedules=self._client_reschedules, by=request.by)
        if refusal:
            raise _refuse(refusal)

    @workflow.update
    async def cancel(self, request: CancelRequest) -> ConsultationState:
        self._changing = True
        was_confirmed = self._status == BookingStatus.CONFIRMED
        terms: CancelledTerms | None = None
        try:
            async with self._lock:
                self._still(BookingStatus.HELD, BookingStatus.CONFIRMED)
                terms = await self._interactive(
                    CANCEL, CancelBooking(ref=self._ref, request=request, at=workflow.now()), CancelledTerms)
                self._state.status = BookingStatus.CANCELLED
                self._state.cancelled_by = request.by
                self._state.cancel_reason = request.reason
                self._state.refund_percent = terms.refund_percent
                self._state.refund_due_minor = terms.refund_due_minor
                self._state.sequence += 1
                self._publish()
        finally:
            self._changing = False
        await self._settle_cancellation(terms, request, was_confirmed)
        await self._notify("cancelled", "cancelled", BOTH, ics="cancel" if was_confirmed else None)
        return self._state

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        self._not_changing()
        if self._status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            raise _refuse(f"the booking is already {self._status.value.replace('_', ' ')}")
        if workflow.now() >= self._state.starts_at:
            raise _refuse("the session has started: mark it completed or a no-show instead")
        if request.by != CancelledBy.CLIENT and not (request.reason and request.reason.strip()):
            raise _refuse("say why the session is cancelled: the client is told", "reason")

    @workflow.update
    async def record_outcome(self, request: OutcomeRequest) -> ConsultationState:
        self._changing = True
        try:
            async with self._lock:
                self._still(BookingStatus.CONFIRMED)
                status = await self._interactive(
                    RECORD_OUTCOME, RecordOutcome(ref=self._ref, request=request, at=workflow.now()), str)
                self._state.status = BookingStatus(status)
                if request.outcome == Outcome.COMPLETED:
                    self._state.completed_at = workflow.now()
                self._publish()
        finally:
            self._changing = False
        return self._state

    @record_outcome.validator
    def _validate_outcome(self, request: OutcomeRequest) -> None:
        self._not_changing()
        if self._status != BookingStatus.CONFIRMED:
            raise _refuse(f"the booking is {self._status.value.replace('_', ' ')}")
        if workflow.now() < self._state.starts_at:
            raise _refuse("the session has not started yet")

    @workflow.update
    def stop_follow_ups(self, request: StopFollowUps) -> ConsultationState:
        for kind in request.which:
            if kind not in self._state.follow_ups_stopped:
                self._state.follow_ups_stopped.append(kind)
        return self._state

    @workflow.update
    def pause_reminders(self, request: PauseReminders) -> ConsultationState:
        self._state.reminders_paused = request.paused
        return self._state

    @pause_reminders.validator
    def _validate_pause_reminders(self, request: PauseReminders) -> None:
        if self._status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            raise _refuse(f"the booking is {self._status.value.replace('_', ' ')}: no reminders are planned")
        if request.paused == self._state.reminders_paused:
            raise _refuse(f"reminders are {'paused' if request.paused else 'running'} already")

    @stop_follow_ups.validator
    def _validate_stop(self, request: StopFollowUps) -> None:
        if self._status not in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
            raise _refuse(f"the booking is {self._status.value.replace('_', ' ')}: no follow-ups are planned")

    @workflow.query
    def state(self) -> ConsultationState:
        return self._state

    # -- the booking's order ---------------------------------------------------------------
    def _paid_through_order(self, payment: PaymentConfirmed | None) -> bool:
        return (self._inp.order_id is not None and payment is not None
                and not payment.method.startswith("offline-"))

    async def _settle_cancellation(self, terms: CancelledTerms | None, request: CancelRequest,
                                   was_confirmed: bool) -> None:
        """Tell the order: refund what the policy gives back (paid), or stop taking payment (unpaid)."""
        if terms is None or self._inp.order_id is None:
            return
        if not was_confirmed and self._payment is None:
            await self._tell_order("cancel", f"the booking was cancelled by the {request.by.value}")
        elif self._paid_through_order(self._payment) and self._state.paid and terms.refund_due_minor > 0:
            by = request.by.value
            self._state.refund_requested = await self._tell_order("request_refund", RefundRequest(
                amount=terms.refund_due_minor, kind="cancellation_policy", key=f"cancel:{self._inp.booking_id}",
                reason=f"consultation cancelled by the {by} ({terms.refund_percent} % under the booking's policy)",
                requested_by=request.actor_user_id, cancellation_ref=str(self._inp.booking_id)))
            if not self._state.refund_requested:  # the order is gone: a person must make the refund
                await self._notify("refund-by-hand", "refund_by_hand", [Audience.CONSULTANT])

    async def _refund_unapplied(self, payment: PaymentConfirmed) -> None:
        """An order's payment that confirmed nothing goes back in full, once."""
        if not self._paid_through_order(payment) or payment.amount_minor <= 0 or self._state.unapplied_refunded:
            return
        self._state.unapplied_refunded = True
        await self._tell_order("request_refund", RefundRequest(
            amount=payment.amount_minor, kind="late_payment", key=f"unapplied:{self._inp.booking_id}",
            reason=f"paid when the booking was already {self._status.value.replace('_', ' ')}"))

    async def _tell_order(self, signal: str, argument: object) -> bool:
        """Signal the booking's order; False if it is gone (logged: staff see the refund still due)."""
        if self._inp.order_id is None:
            return False
        try:
            await workflow.get_external_workflow_handle(order_workflow_id(self._inp.order_id)).signal(
                signal, argument)
        except FailureError as exc:
            workflow.logger.warning("order %s did not take %s: %s", self._inp.order_id, signal, exc)
            return False
        return True

    # -- helpers ---------------------------------------------------------------------------
    def _not_changing(self) -> None:
        if self._changing:
            raise _refuse("another change to this booking is being applied; try again in a moment")

    def _still(self, *statuses: BookingStatus) -> None:
        if self._status not in statuses:
            raise _refuse(f"the booking became {self._status.value.replace('_', ' ')} meanwhile")

    async def _interactive(self, name: str, arg: object, result_type: type[T]) -> T:
        try:
            result: T = await workflow.execute_activity(
                name, arg, result_type=result_type, start_to_close_timeout=TIMEOUT, retry_policy=INTERACTIVE)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
            raise ApplicationError("the change could not be applied just now; try again", non_retryable=True) from None
        return result

    async def _notify(self, step: str, event: str, audience: list[Audience], ics: str | None = None) -> None:
        """Post a message to the outbox: it leaves in the background, after the caller's answer."""
        await self._post(Notify(ref=self._ref, step=step, event=event, audience=audience, ics=ics))

    async def _post(self, message: Notify, on_sent: Callable[[int], None] | None = None) -> None:
        def sent(count: int) -> None:
            self._state.steps_notified.append(message.step)
            if on_sent is not None:
                on_sent(count)

        self._outbox.post(message.step, NOTIFY, message, result_type=int, on_result=sent)
        if not self._messages_in_background:
            await self._outbox.drained()  # a history from before the outbox: sent where it was posted

    def _publish(self) -> None:
        workflow.upsert_search_attributes([
            TENANT_ID.value_set(str(self._inp.tenant_id)),
            CLIENT_ID.value_set(str(self._inp.client_id)),
            CONSULTANT_ID.value_set(str(self._inp.consultant_id)),
            ENTITY_STATUS.value_set(self._status.value),
        ])
        workflow.upsert_memo({"summary": (
            f"{self._inp.offering_title}: {self._status.value.replace('_', ' ')}, "
            f"{self._state.starts_at:%Y-%m-%d %H:%M} UTC")})


def _refuse(message: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(message, *([{"field": field}] if field else []), non_retryable=True)
