"""MembershipWorkflow (`membership-<id>`): one client's membership of a plan, from subscribing to its end.

    pending ──checkout (Razorpay subscription made)──► pending ──subscription.charged──► active
    pending ──not authorised within AUTHORISE_WITHIN──► expired
    active ──subscription.charged (next period)──► active        (the period's credits, once per payment)
    active ──pause (client)──► paused ──resume (client)──► active
    active ──halted, or no charge RENEWAL_GRACE after the period's end──► past_due (client told)
    past_due ──subscription.charged──► active
    past_due ──PAST_DUE_GRACE without a charge──► expired          (Razorpay subscription cancelled)
    active|paused|past_due ──cancel (at the period's end: the default)──► cancelled at current_end
    active|paused|past_due ──cancel now / subscription.cancelled|completed──► cancelled
    pending|active|paused|past_due ──cancel (erasure)──► cancelled now, silently; credits revoked, no wait

Razorpay drives the money; the workflow decides what it grants. Each `subscription.charged`
(signal `gateway_event`, relayed from the stored webhook) records the charge and grants the
period's credits through the `package_grants` ledger by the activity `memberships.grant_period`,
keyed by the payment id (a replayed charge grants nothing: the workflow remembers recent payment
ids, the database all of them). The first charge opens the plan's courses (an Enrollment child
per course, `source: membership`); the end of the membership revokes them and closes its credits.

Updates (validated, answered with the new state once it is saved): `checkout` (answers the
subscription to authorise, made once), `pause`, `resume`, `cancel`. The matching Razorpay call
runs after the answer, in the background, with a timeout and bounded retries; a failure is kept
in `gateway_error` for staff. Messages (past due, ended) go through the Outbox. Query `state`.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.courses.enrollment import (
        END_ACCESS,
        ENROLLMENT_WORKFLOW,
        EndAccess,
        EndStep,
        EnrollmentInput,
        EnrollmentSource,
        EnrollmentStatus,
        enrollment_workflow_id,
    )
    from domain.memberships import (
        AUTHORISE_WITHIN,
        CHARGES_KEPT,
        CLOSE_GRANTS,
        COURSES_TO_OPEN,
        CREATE_SUBSCRIPTION,
        ENDED,
        ENDED_EVENT,
        ERASED_REASON,
        GATEWAY_CALL,
        GATEWAY_UNAVAILABLE,
        GRANT_PERIOD,
        NOTIFY,
        PAST_DUE_EVENT,
        PAST_DUE_GRACE,
        RENEWAL_GRACE,
        SAVE,
        CancelRequest,
        Checkout,
        CloseGrants,
        GatewayCall,
        GatewayOp,
        GrantedPeriod,
        MembershipInput,
        MembershipNotice,
        MembershipRef,
        MembershipState,
        MembershipStatus,
        PauseRequest,
        PeriodGrant,
        SaveStep,
        SubscriptionEventKind,
        SubscriptionReport,
        SubscriptionRequest,
        add_months,
        course_enrollment_id,
    )
    from workflows.common import publish, refuse
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
GATEWAY_TIMEOUT = timedelta(seconds=60)   # one attempt: Razorpay's own HTTP timeouts are shorter
CHECKOUT_RETRY = RetryPolicy(maximum_attempts=2, non_retryable_error_types=["GatewayRefused", "GatewayKeysRefused",
                                                                           "PaymentsNotConfigured"])
GATEWAY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2.0,
                            maximum_interval=timedelta(minutes=10), maximum_attempts=12,
                            non_retryable_error_types=["GatewayRefused", "GatewayKeysRefused",
                                                       "PaymentsNotConfigured"])
HISTORY_LIMIT = 5_000
ECHOED = {GatewayOp.PAUSE: SubscriptionEventKind.PAUSED.value, GatewayOp.RESUME: SubscriptionEventKind.RESUMED.value}


@workflow.defn(name="Membership")
class MembershipWorkflow:
    @workflow.init
    def __init__(self, inp: MembershipInput) -> None:
        self._inp = inp
        self._ref = MembershipRef(membership_id=inp.membership_id, tenant_id=inp.tenant_id,
                                  workflow_id=workflow.info().workflow_id)
        self._state = inp.resume or MembershipState(membership_id=inp.membership_id, status=MembershipStatus.PENDING)
        self._events: list[SubscriptionReport] = []
        self._outbox = Outbox()
        self._gateway: dict[str, asyncio.Task[None]] = {}
        self._calls = 0
        self._checkout: asyncio.Task[Checkout] | None = None
        self._changed = False

    # -- the lifecycle -------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: MembershipInput) -> MembershipState:
        if self._state.status == MembershipStatus.PENDING:
            self._authorise_deadline()
        self._publish()
        while self._state.status not in ENDED:
            due = self._next_deadline()
            timeout = max(due - workflow.now(), timedelta(seconds=1)) if due else None
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: bool(self._events) or self._changed, timeout=timeout)
            self._changed = False
            while self._events and self._state.status not in ENDED:
                await self._apply(self._events.pop(0))
            if self._state.status not in ENDED:
                await self._on_time()
            if self._state.status not in ENDED and (workflow.info().is_continue_as_new_suggested()
                                                    or workflow.info().get_current_history_length() > HISTORY_LIMIT):
                await self._settle()
                workflow.continue_as_new(inp.model_copy(update={"resume": self._state}))
        await self._after_end()
        return self._state

    def _authorise_deadline(self) -> datetime:
        """When a pending membership must be authorised by: fixed on the first look. A checkout
        sent right after the start can run before `run` begins (the SDK applies updates of the
        first activation first); it then fixes the deadline itself, where it used to send Razorpay
        `expire_by` = now, which Razorpay refuses ("expire_by should be a future timestamp")."""
        if self._state.authorise_by is None:
            self._state.authorise_by = workflow.now() + AUTHORISE_WITHIN
        return self._state.authorise_by

    def _next_deadline(self) -> datetime | None:
        s = self._state
        if s.status == MembershipStatus.PENDING:
            return s.authorise_by
        if s.status == MembershipStatus.ACTIVE and s.current_end is not None:
            if s.cancel_at_period_end:
                return s.current_end
            return max(s.current_end, s.resumed_at or s.current_end) + RENEWAL_GRACE
        if s.status == MembershipStatus.PAUSED and s.cancel_at_period_end:
            return s.current_end
        if s.status == MembershipStatus.PAST_DUE and s.past_due_since is not None:
            return min(s.past_due_since + PAST_DUE_GRACE, s.current_end or s.past_due_since + PAST_DUE_GRACE) \
                if s.cancel_at_period_end else s.past_due_since + PAST_DUE_GRACE
        return None

    async def _on_time(self) -> None:
        s, now = self._state, workflow.now()
        due = self._next_deadline()
        if due is None or now < due:
            return
        if s.status == MembershipStatus.PENDING:
            await self._end(MembershipStatus.EXPIRED, "the subscription was not authorised in time",
                            GatewayOp.CANCEL_NOW)
        elif s.cancel_at_period_end:
            await self._end(MembershipStatus.CANCELLED, "cancelled at the end of the paid period", None)
        elif s.status == MembershipStatus.ACTIVE:
            await self._past_due("the renewal was not charged")
        elif s.status == MembershipStatus.PAST_DUE:
            await self._end(MembershipStatus.EXPIRED, "the renewal was never paid", GatewayOp.CANCEL_NOW)

    async def _apply(self, event: SubscriptionReport) -> None:
        s = self._state
        if s.subscription_id is not None and event.subscription_id != s.subscription_id:
            workflow.logger.warning("event of subscription %s ignored", event.subscription_id)
            return
        if event.kind == SubscriptionEventKind.CHARGED:
            await self._charged(event)
        elif event.kind == SubscriptionEventKind.HALTED and s.status in (MembershipStatus.ACTIVE,
                                                                          MembershipStatus.PENDING):
            await self._past_due("Razorpay could not charge the renewal")
        elif event.kind in (SubscriptionEventKind.PAUSED, SubscriptionEventKind.RESUMED) and \
                s.echoes.get(event.kind.value, 0) > 0:
            s.echoes[event.kind.value] -= 1  # the echo of our own call: the state already says so
        elif event.kind == SubscriptionEventKind.PAUSED and s.status == MembershipStatus.ACTIVE:
            s.status = MembershipStatus.PAUSED
            await self._save()
        elif event.kind == SubscriptionEventKind.RESUMED and s.status == MembershipStatus.PAUSED:
            s.status, s.resumed_at = MembershipStatus.ACTIVE, workflow.now()
            await self._save()
        elif event.kind in (SubscriptionEventKind.CANCELLED, SubscriptionEventKind.COMPLETED):
            if s.cancel_at_period_end and s.current_end is not None and s.current_end > workflow.now():
                return  # our own cancellation at the period's end: the timer ends it then
            await self._end(MembershipStatus.CANCELLED, f"the subscription was {event.kind.value.split('.')[1]} "
                                                        "at Razorpay", None)

    async def _charged(self, event: SubscriptionReport) -> None:
        s, now = self._state, workflow.now()
        if not event.payment_id or event.payment_id in s.charges:
            return  # a replay of a charge already granted
        start = event.current_start or max(now, s.current_end or now)
        end = event.current_end if event.current_end and event.current_end > start else add_months(start)
        granted: GrantedPeriod = await workflow.execute_activity(
            GRANT_PERIOD, self._period(event, start, end), result_type=GrantedPeriod,
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        s.charges = [*s.charges, event.payment_id][-CHARGES_KEPT:]
        if not granted.new:
            return  # recorded before (the workflow's memory is bounded; the database's is not)
        # the previous period's credits expire first, so a reader who sees this period sees them closed
        await workflow.execute_activity(CLOSE_GRANTS, CloseGrants(ref=self._ref, at=start), result_type=int,
                                        start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        first = s.periods_paid == 0
        s.periods_paid += 1
        s.credits_granted += granted.credits
        s.current_start, s.current_end = start, end
        s.past_due_since, s.gateway_error = None, None
        if s.status in (MembershipStatus.PENDING, MembershipStatus.PAST_DUE):
            s.status = MembershipStatus.ACTIVE
        await self._save()
        if first and self._inp.terms.course_ids:
            await self._open_courses(event, start, end)

    def _period(self, event: SubscriptionReport, start: datetime, end: datetime) -> PeriodGrant:
        return PeriodGrant(ref=self._ref, client_id=self._inp.client_id, terms=self._inp.terms, charge=event,
                           period_start=start, period_end=end)

    async def _open_courses(self, event: SubscriptionReport, start: datetime, end: datetime) -> None:
        found = await workflow.execute_activity(COURSES_TO_OPEN, self._period(event, start, end),
                                                result_type=list, start_to_close_timeout=DB_TIMEOUT,
                                                retry_policy=DB_RETRY)
        for course in [UUID(str(c)) for c in found]:
            enrollment_id = course_enrollment_id(self._inp.membership_id, course)
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    ENROLLMENT_WORKFLOW, EnrollmentInput(
                        enrollment_id=enrollment_id, tenant_id=self._inp.tenant_id, client_id=self._inp.client_id,
                        course_ref=course, source=EnrollmentSource.MEMBERSHIP),
                    id=enrollment_workflow_id(enrollment_id), task_queue=workflow.info().task_queue,
                    parent_close_policy=ParentClosePolicy.ABANDON)
            self._state.courses_open = [*self._state.courses_open, course]
        await self._save()

    async def _past_due(self, why: str) -> None:
        s = self._state
        s.status, s.past_due_since = MembershipStatus.PAST_DUE, workflow.now()
        await self._save()
        self._outbox.post(f"past-due-{s.periods_paid}", NOTIFY, MembershipNotice(
            ref=self._ref, event=PAST_DUE_EVENT, step=f"past-due-{s.periods_paid}"))
        workflow.logger.info("membership past due: %s", why)

    async def _end(self, status: MembershipStatus, reason: str, gateway: GatewayOp | None) -> None:
        s = self._state
        s.status, s.ended_at, s.end_reason = status, workflow.now(), reason[:300]
        await self._save()
        if gateway is not None and s.subscription_id:
            self._call_gateway(gateway)
        if s.periods_paid and not s.erased:  # an erased client is not written to
            self._outbox.post("ended", NOTIFY, MembershipNotice(ref=self._ref, event=ENDED_EVENT, step="ended"))

    async def _after_end(self) -> None:
        """Course access ends now; the last paid period's credits last until that period ends."""
        why = EndAccess(reason=f"membership {self._state.status.value}: {self._state.end_reason}"[:500])
        for course in self._state.courses_open:
            enrollment_id = course_enrollment_id(self._inp.membership_id, course)
            await workflow.execute_activity(END_ACCESS, EndStep(
                tenant_id=self._inp.tenant_id, enrollment_id=enrollment_id, at=workflow.now(),
                status=EnrollmentStatus.REVOKED, request=why), result_type=str,
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            try:
                await workflow.get_external_workflow_handle(enrollment_workflow_id(enrollment_id)).signal("revoke", why)
            except FailureError:
                workflow.logger.info("enrollment %s not running; its row is revoked", enrollment_id)
        self._publish()
        await self._settle()
        end = self._state.current_end
        if end is not None and end > workflow.now() and not self._state.erased:
            await workflow.sleep(end - workflow.now())
        await workflow.execute_activity(CLOSE_GRANTS, CloseGrants(ref=self._ref, at=workflow.now(),
                                                                  revoke=self._state.erased), result_type=int,
                                        start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)

    async def _settle(self) -> None:
        await workflow.wait_condition(lambda: not self._gateway and workflow.all_handlers_finished())
        await self._outbox.drained()

    # -- Razorpay, in the background ---------------------------------------------------------------------
    def _call_gateway(self, op: GatewayOp) -> None:
        assert self._state.subscription_id is not None
        if op in ECHOED:
            self._state.echoes[ECHOED[op]] = self._state.echoes.get(ECHOED[op], 0) + 1
        self._calls += 1
        key = f"{op.value}-{self._calls}"
        call = GatewayCall(ref=self._ref, subscription_id=self._state.subscription_id, op=op)
        self._gateway[key] = asyncio.create_task(self._gateway_task(key, call))

    async def _gateway_task(self, key: str, call: GatewayCall) -> None:
        try:
            outcome = await workflow.execute_activity(GATEWAY_CALL, call, result_type=str,
                                                      start_to_close_timeout=GATEWAY_TIMEOUT,
                                                      retry_policy=GATEWAY_RETRY)
            workflow.logger.info("Razorpay %s: %s", call.op.value, outcome)
            if outcome.startswith("already") and self._state.echoes.get(ECHOED.get(call.op, ""), 0) > 0:
                self._state.echoes[ECHOED[call.op]] -= 1  # nothing was changed there: no event will come
        except ActivityError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            self._state.gateway_error = f"{call.op.value} at Razorpay failed: {reason}"[:300]
            if call.op in ECHOED and self._state.echoes.get(ECHOED[call.op], 0) > 0:
                self._state.echoes[ECHOED[call.op]] -= 1  # no event will echo a call that failed
            await self._save()
        finally:
            self._gateway.pop(key, None)

    # -- signals and updates ------------------------------------------------------------------------------
    @workflow.signal
    def gateway_event(self, event: SubscriptionReport) -> None:
        self._events.append(event)

    @workflow.update
    async def checkout(self) -> Checkout:
        """The subscription the client authorises (Razorpay Checkout or its short URL), made once."""
        if self._checkout is None or (self._checkout.done() and self._checkout.exception() is not None):
            self._checkout = asyncio.create_task(self._make_subscription())
        try:
            return await self._checkout
        except ActivityError as err:
            cause = err.cause
            kind = cause.type if isinstance(cause, ApplicationError) and cause.type else GATEWAY_UNAVAILABLE
            message = cause.message if isinstance(cause, ApplicationError) else str(err)
            raise ApplicationError(message, type=kind, non_retryable=True) from err

    @checkout.validator
    def _validate_checkout(self) -> None:
        if self._state.status != MembershipStatus.PENDING:
            raise refuse(f"this membership is {self._state.status.value}: there is nothing to authorise")

    async def _make_subscription(self) -> Checkout:
        made: Checkout = await workflow.execute_activity(
            CREATE_SUBSCRIPTION, SubscriptionRequest(ref=self._ref, terms=self._inp.terms,
                                                     expire_by=self._authorise_deadline()),
            result_type=Checkout, start_to_close_timeout=GATEWAY_TIMEOUT, retry_policy=CHECKOUT_RETRY)
        self._state.subscription_id, self._state.short_url = made.subscription_id, made.short_url
        return made

    @workflow.update
    async def pause(self, request: PauseRequest) -> MembershipState:
        self._state.status = MembershipStatus.PAUSED
        await self._save()
        self._call_gateway(GatewayOp.PAUSE)
        return self._state

    @pause.validator
    def _validate_pause(self, request: PauseRequest) -> None:
        if self._state.status != MembershipStatus.ACTIVE or self._state.subscription_id is None:
            raise refuse(f"only an active membership can be paused; this one is {self._state.status.value}")
        if self._state.cancel_at_period_end:
            raise refuse("this membership ends at the end of the period; there is nothing to pause")

    @workflow.update
    async def resume(self, request: PauseRequest) -> MembershipState:
        self._state.status, self._state.resumed_at = MembershipStatus.ACTIVE, workflow.now()
        await self._save()
        self._call_gateway(GatewayOp.RESUME)
        return self._state

    @resume.validator
    def _validate_resume(self, request: PauseRequest) -> None:
        if self._state.status != MembershipStatus.PAUSED:
            raise refuse(f"only a paused membership can be resumed; this one is {self._state.status.value}")

    @workflow.update
    async def cancel(self, request: CancelRequest) -> MembershipState:
        s = self._state
        if request.erasure:
            s.erased = True  # the client is being erased: ended now, whatever the request says
        later = (not request.erasure and request.at_period_end and s.status != MembershipStatus.PENDING
                 and s.current_end is not None and s.current_end > workflow.now())
        if later:
            if not s.cancel_at_period_end:
                s.cancel_at_period_end = True
                await self._save()
                self._call_gateway(GatewayOp.CANCEL_AT_PERIOD_END)
            self._changed = True  # the main loop's timer now ends it at the period's end
        else:
            reason = ERASED_REASON if request.erasure else \
                "cancelled by the client" + (f": {request.reason}" if request.reason else "")
            await self._end(MembershipStatus.CANCELLED, reason, GatewayOp.CANCEL_NOW)
            self._changed = True
        return s

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._state.status in ENDED:
            raise refuse(f"this membership is already {self._state.status.value}")

    @workflow.query
    def state(self) -> MembershipState:
        return self._state

    # -- mirror ------------------------------------------------------------------------------------------
    async def _save(self) -> None:
        await workflow.execute_activity(SAVE, SaveStep(ref=self._ref, state=self._state),
                                        start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self._publish()

    def _publish(self) -> None:
        s = self._state
        until = f", paid until {s.current_end:%Y-%m-%d} UTC" if s.current_end else ""
        publish([TENANT_ID.value_set(str(self._inp.tenant_id)), CLIENT_ID.value_set(str(self._inp.client_id)),
                 ENTITY_STATUS.value_set(s.status.value)],
                f"Membership {self._inp.terms.title[:60]}: {s.status.value}, {s.periods_paid} period(s) paid{until}")
