"""Fulfilment handlers: what a paid order line sets in motion, and how it is released.

A handler is workflow code (deterministic): it runs inside the Order workflow and acts by
signalling or starting other workflows, or by activities. The registry maps a line kind to
its handler; kinds without one get `AwaitingHandler`, which marks the line "awaiting_handler"
(staff are told) and never pretends it was fulfilled.

    REGISTRY.register(handler)                    # add a kind (replace=True to swap one)
    REGISTRY.handler_for(kind) -> FulfilmentHandler
    configure_fulfilment(workflow_names)          # the worker: start child workflows only for
                                                  # kinds whose workflow type it runs

This module is passed through the workflow sandbox (one registry per worker process), so it
must only ever be changed at worker start-up (or by a test, around its own workflows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.workflow import ParentClosePolicy

from domain.bookings.consultation import PaymentConfirmed as BookingPaid
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
from domain.packages import (
    GRANT_CREDITS,
    PACKAGE_WORKFLOW,
    REVOKE_CREDITS,
    GrantRef,
    GrantRequest,
    PackageInput,
    RevokeCredits,
    package_workflow_id,
)
from domain.payments.orders import (
    FulfilmentLine,
    LineStatus,
    PaymentFailed,
    consultation_workflow_id,
)
from domain.payments.pricing import LineKind
from domain.remedies.programme import (
    REMEDY_WORKFLOW,
    REMINDER_LEAD_SECONDS,
    ProgrammeSource,
    RemedyInput,
    Stop,
    remedy_workflow_id,
)
from domain.report_delivery import ReportDeliveryInput, report_delivery_workflow_id

PAYMENT_CONFIRMED = "payment_confirmed"
PAYMENT_FAILED = "payment_failed"


@dataclass(frozen=True)
class FulfilmentContext:
    order_id: UUID
    tenant_id: UUID
    client_id: UUID
    payment_id: str       # the gateway payment, or "wallet" when store credit paid it all
    currency: str
    workflow_id: str


class FulfilmentHandler(Protocol):
    kind: LineKind

    async def fulfil(self, ctx: FulfilmentContext, line: FulfilmentLine) -> LineStatus:
        """Deliver the line; return FULFILLED (or AWAITING_HANDLER). Raise a FailureError
        (e.g. ApplicationError) if it cannot be done: the order is then compensated."""
        ...

    async def release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        """Undo or release what the line holds (order expired, cancelled, or compensated)."""
        ...


class ConsultationHandler:
    """A paid booking: signal `payment_confirmed` to `consultation-<booking id>` (bookings).

    If that workflow is gone (its hold expired), the signal fails and the order is compensated:
    the client gets the money back. Releasing signals `payment_failed` so the slot is freed.
    """

    kind = LineKind.CONSULTATION

    def _handle(self, line: FulfilmentLine) -> workflow.ExternalWorkflowHandle[Any]:
        if not line.ref_id:
            raise ValueError("a consultation line carries its booking id as ref_id")
        return workflow.get_external_workflow_handle(consultation_workflow_id(line.ref_id))

    async def fulfil(self, ctx: FulfilmentContext, line: FulfilmentLine) -> LineStatus:
        # The bookings capability's own contract (domain.bookings.consultation.PaymentConfirmed).
        await self._handle(line).signal(PAYMENT_CONFIRMED, BookingPaid(
            amount_minor=line.total, currency=ctx.currency,
            method="wallet" if ctx.payment_id == "wallet" else "razorpay",
            reference=f"order {ctx.order_id} payment {ctx.payment_id}"[:200], paid_at=workflow.now()))
        return LineStatus.FULFILLED

    async def release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        try:
            await self._handle(line).signal(PAYMENT_FAILED, PaymentFailed(order_id=ctx.order_id, reason=reason))
        except FailureError:
            workflow.logger.info("consultation %s already gone; nothing to release", line.ref_id)


class FulfilmentStart(BaseModel):
    """The default input of a child workflow started for a line (override with `make_input`)."""

    order_id: UUID
    tenant_id: UUID
    client_id: UUID
    line_id: UUID
    ref_id: str | None
    description: str
    amount: int
    currency: str


class StartChildWorkflowHandler:
    """Start `<id_prefix>-<ref id or order id>` of `workflow_type` and let it run on its own."""

    def __init__(self, kind: LineKind, workflow_type: str, id_prefix: str, *,
                 make_input: Callable[[FulfilmentContext, FulfilmentLine], Any] | None = None,
                 task_queue: str | None = None) -> None:
        self.kind = kind
        self.workflow_type = workflow_type
        self.id_prefix = id_prefix
        self.make_input = make_input
        self.task_queue = task_queue

    def child_id(self, ctx: FulfilmentContext, line: FulfilmentLine) -> str:
        return f"{self.id_prefix}-{line.ref_id or ctx.order_id}"

    async def fulfil(self, ctx: FulfilmentContext, line: FulfilmentLine) -> LineStatus:
        payload = self.make_input(ctx, line) if self.make_input else FulfilmentStart(
            order_id=ctx.order_id, tenant_id=ctx.tenant_id, client_id=ctx.client_id, line_id=line.line_id,
            ref_id=line.ref_id, description=line.description, amount=line.total, currency=ctx.currency)
        await workflow.start_child_workflow(
            self.workflow_type, payload, id=self.child_id(ctx, line),
            task_queue=self.task_queue or workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        return LineStatus.FULFILLED

    async def release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        try:
            await workflow.get_external_workflow_handle(self.child_id(ctx, line)).cancel()
        except FailureError:
            workflow.logger.info("%s for order %s not running; nothing to release", self.workflow_type, ctx.order_id)


REPORT_DUE_AFTER = timedelta(days=7)


class ReportDeliveryHandler(StartChildWorkflowHandler):
    """A paid report: start `report-<line id>` (ReportDelivery) for the consultant named by the
    line's ref_id, due a week after payment; the consultant uploads it, the workflow delivers."""

    def __init__(self) -> None:
        super().__init__(LineKind.REPORT, "ReportDelivery", "report", make_input=self._input)

    def child_id(self, ctx: FulfilmentContext, line: FulfilmentLine) -> str:
        return report_delivery_workflow_id(line.line_id)

    @staticmethod
    def _input(ctx: FulfilmentContext, line: FulfilmentLine) -> ReportDeliveryInput:
        if not line.ref_id:
            raise ApplicationError("a report line names its consultant (ref_id)", non_retryable=True)
        return ReportDeliveryInput(
            tenant_id=ctx.tenant_id, order_id=line.line_id, client_id=ctx.client_id,
            consultant_id=UUID(line.ref_id), title=line.description[:200],
            due_at=workflow.now() + REPORT_DUE_AFTER, reference=str(ctx.order_id)[:64])


class EnrollmentHandler(StartChildWorkflowHandler):
    """A sold course: start `enrollment-<line id>` (Enrollment) for the course or cohort named by the
    line's ref_id. The enrolment's id is the line's, so line, row and workflow share one id.

    Releasing (compensation) and a refund of the order (`refunded`) end the access: the enrolment
    row is revoked by an activity (it works whether or not the enrolment's workflow still runs),
    then the workflow is told with the `revoke` signal.
    """

    def __init__(self) -> None:
        super().__init__(LineKind.ENROLLMENT, ENROLLMENT_WORKFLOW, "enrollment", make_input=self._input)

    def child_id(self, ctx: FulfilmentContext, line: FulfilmentLine) -> str:
        return enrollment_workflow_id(line.line_id)

    @staticmethod
    def _input(ctx: FulfilmentContext, line: FulfilmentLine) -> EnrollmentInput:
        if not line.ref_id:
            raise ApplicationError("an enrollment line names its course (ref_id)", non_retryable=True)
        return EnrollmentInput(enrollment_id=line.line_id, tenant_id=ctx.tenant_id, client_id=ctx.client_id,
                               course_ref=UUID(line.ref_id), source=EnrollmentSource.ORDER, order_id=ctx.order_id)

    async def release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        await self._end(ctx, line, reason)

    async def refunded(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        await self._end(ctx, line, reason)

    async def _end(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        why = EndAccess(reason=reason[:500])
        await workflow.execute_activity(END_ACCESS, EndStep(
            tenant_id=ctx.tenant_id, enrollment_id=line.line_id, at=workflow.now(), status=EnrollmentStatus.REVOKED,
            request=why), result_type=str, start_to_close_timeout=timedelta(seconds=30))
        try:
            await workflow.get_external_workflow_handle(self.child_id(ctx, line)).signal("revoke", why)
        except FailureError:
            workflow.logger.info("enrollment %s not running; its row is revoked", line.line_id)


class RemedyHandler(StartChildWorkflowHandler):
    """A sold remedy: start `remedy-<line id>` (Remedy) for the catalogue remedy named by the line's
    ref_id, on its default schedule in the client's zone from today. The programme's id is the
    line's. The line is fulfilled when the programme starts (what was sold is the programme);
    releasing it or a full refund of the order stops the programme (`stop_now` signal).
    """

    def __init__(self) -> None:
        super().__init__(LineKind.REMEDY, REMEDY_WORKFLOW, "remedy", make_input=self._input)

    def child_id(self, ctx: FulfilmentContext, line: FulfilmentLine) -> str:
        return remedy_workflow_id(line.line_id)

    @staticmethod
    def _input(ctx: FulfilmentContext, line: FulfilmentLine) -> RemedyInput:
        if not line.ref_id:
            raise ApplicationError("a remedy line names its remedy (ref_id)", non_retryable=True)
        return RemedyInput(programme_id=line.line_id, tenant_id=ctx.tenant_id, client_id=ctx.client_id,
                           source=ProgrammeSource.ORDER, order_id=ctx.order_id, remedy_ref=UUID(line.ref_id),
                           reminder_lead_seconds=REMINDER_LEAD_SECONDS)

    async def release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        await self._stop(ctx, line, reason)

    async def refunded(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        await self._stop(ctx, line, reason)

    async def _stop(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        try:
            await workflow.get_external_workflow_handle(self.child_id(ctx, line)).signal(
                "stop_now", Stop(reason=reason[:500]))
        except FailureError:
            workflow.logger.info("remedy programme %s not running; nothing to stop", line.line_id)


class PackageHandler:
    """A sold session package: grant its credits (`package_grants` row, id = the line's id, by an
    activity), then start `package-<line id>` (SessionPackage), which reminds before they expire and
    expires them. Releasing it (compensation) or a refund of the order revokes what is left."""

    kind = LineKind.PACKAGE

    async def fulfil(self, ctx: FulfilmentContext, line: FulfilmentLine) -> LineStatus:
        if not line.ref_id:
            raise ApplicationError("a package line names its session package (ref_id)", non_retryable=True)
        started: PackageInput = await workflow.execute_activity(
            GRANT_CREDITS, GrantRequest(grant_id=line.line_id, tenant_id=ctx.tenant_id, client_id=ctx.client_id,
                                        order_id=ctx.order_id, package_id=UUID(line.ref_id),
                                        granted_at=workflow.now()),
            result_type=PackageInput, start_to_close_timeout=timedelta(seconds=30))
        await workflow.start_child_workflow(
            PACKAGE_WORKFLOW, started, id=package_workflow_id(line.line_id), task_queue=workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON)
        return LineStatus.FULFILLED

    async def release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        await self._revoke(ctx, line, reason)

    async def refunded(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        await self._revoke(ctx, line, reason)

    async def _revoke(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        ref = GrantRef(grant_id=line.line_id, tenant_id=ctx.tenant_id, workflow_id=package_workflow_id(line.line_id))
        await workflow.execute_activity(REVOKE_CREDITS, RevokeCredits(ref=ref, reason=reason[:300]), result_type=int,
                                        start_to_close_timeout=timedelta(seconds=30))
        try:
            await workflow.get_external_workflow_handle(ref.workflow_id).signal("revoke", reason[:300])
        except FailureError:
            workflow.logger.info("session package %s not running; its credits are revoked", line.line_id)


class AwaitingHandler:
    """No automatic fulfilment for this kind yet: the line waits for a person (or a later handler)."""

    def __init__(self, kind: LineKind) -> None:
        self.kind = kind

    async def fulfil(self, ctx: FulfilmentContext, line: FulfilmentLine) -> LineStatus:
        return LineStatus.AWAITING_HANDLER

    async def release(self, ctx: FulfilmentContext, line: FulfilmentLine, reason: str) -> None:
        return None


class FulfilmentRegistry:
    def __init__(self) -> None:
        self._handlers: dict[LineKind, FulfilmentHandler] = {}

    def register(self, handler: FulfilmentHandler, *, replace: bool = False) -> None:
        if handler.kind in self._handlers and not replace and not isinstance(self._handlers[handler.kind],
                                                                               AwaitingHandler):
            raise ValueError(f"a fulfilment handler for {handler.kind.value} is registered already")
        self._handlers[handler.kind] = handler

    def handler_for(self, kind: LineKind) -> FulfilmentHandler:
        return self._handlers.get(kind) or AwaitingHandler(kind)

    def snapshot(self) -> dict[LineKind, FulfilmentHandler]:
        return dict(self._handlers)

    def restore(self, handlers: dict[LineKind, FulfilmentHandler]) -> None:
        self._handlers = dict(handlers)


# The child workflows later capabilities add, by the type name the design gives them. Each is
# started only by a worker that runs that type (see configure_fulfilment).
PLANNED_CHILD_WORKFLOWS: dict[LineKind, tuple[str, str]] = {
    LineKind.REPORT: ("ReportDelivery", "report"),
    LineKind.ENROLLMENT: ("Enrollment", "enrollment"),
    LineKind.REMEDY: ("Remedy", "remedy"),
    LineKind.PACKAGE: (PACKAGE_WORKFLOW, "package"),
}

REGISTRY = FulfilmentRegistry()
REGISTRY.register(ConsultationHandler())


def configure_fulfilment(workflow_names: Iterable[str]) -> None:
    """Wire the child-workflow kinds whose workflow type this worker runs; the rest await a handler."""
    names = set(workflow_names)
    for kind, (workflow_type, prefix) in PLANNED_CHILD_WORKFLOWS.items():
        current = REGISTRY.snapshot().get(kind)
        if workflow_type in names:
            if current is None or isinstance(current, AwaitingHandler):
                handler: FulfilmentHandler = (
                    ReportDeliveryHandler() if kind == LineKind.REPORT
                    else EnrollmentHandler() if kind == LineKind.ENROLLMENT
                    else RemedyHandler() if kind == LineKind.REMEDY
                    else PackageHandler() if kind == LineKind.PACKAGE
                    else StartChildWorkflowHandler(kind, workflow_type, prefix))
                REGISTRY.register(handler, replace=True)
        elif current is None:
            REGISTRY.register(AwaitingHandler(kind))
    if LineKind.PRODUCT not in REGISTRY.snapshot():
        REGISTRY.register(AwaitingHandler(LineKind.PRODUCT))
