"""A staff refund, taken by the order's `Order` workflow (validated there, then Razorpay).

An ordinary order's workflow runs from checkout and takes refunds for REFUND_WINDOW after the sale.
A membership's charged period is an order born paid, with no workflow of its own
(activities/membership_invoices.py). Its first refund starts one, `order-<order id>`, resumed from
the order's row in after-sales (paid, lines done, the refunds so far, the window counted from the
charge), with the refund as its first update (update-with-start): the same validation, the same
refund row committed before Razorpay is asked (with its idempotency key), the same webhook closing
a pending refund, the same message to the client. A later refund finds that workflow running.
Refunding a charge changes nothing of the membership (its credits, its courses, its renewals).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api.problems import WORKFLOW_REJECTED, Problem
from api.state import AppState
from api.workflow_starts import signal_after_commit
from core.workflow_starts import keyword_attributes
from domain.memberships import MEMBERSHIP_LINE_KIND
from domain.payments.money import format_amount
from domain.payments.orders import (
    REFUND_WINDOW,
    OrderInput,
    OrderState,
    OrderStatus,
    RefundRequest,
    RefundStatus,
    RefundView,
    order_workflow_id,
)
from domain.payments.refunds import RefundDestination
from models.payments import Invoice, Order, OrderLine, Refund
from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID


async def is_membership_charge(session: AsyncSession, order: Order) -> bool:
    """The order of a membership's charged period (no Order workflow was ever started for it)."""
    return bool(await session.scalar(select(exists().where(
        OrderLine.order_id == order.id, OrderLine.kind == MEMBERSHIP_LINE_KIND))))


def _view(refund: Refund) -> RefundView:
    return RefundView(
        refund_id=refund.id, key=refund.key, amount=refund.amount, gateway_amount=refund.gateway_amount,
        wallet_amount=refund.wallet_amount, destination=RefundDestination(refund.destination),
        status=RefundStatus(refund.status), kind=refund.kind, reason=refund.reason,
        payment_id=refund.gateway_payment_id, gateway_refund_id=refund.gateway_refund_id,
        held_since=refund.held_since, held_reason=refund.held_reason)


async def after_sales_input(session: AsyncSession, order: Order) -> OrderInput:
    """The Order workflow's input for an order born paid: after-sales only, resumed from its row."""
    paid_at = order.paid_at or order.created_at
    until = paid_at + REFUND_WINDOW
    if until <= datetime.now(UTC):
        raise Problem(WORKFLOW_REJECTED, f"refunds of this order closed on {until:%d %b %Y}, "
                      f"{REFUND_WINDOW.days} days after it was paid; refund it in Razorpay's dashboard",
                      field="order_id")
    refunds = list((await session.execute(
        select(Refund).where(Refund.order_id == order.id).order_by(Refund.created_at))).scalars())
    invoice = await session.scalar(select(Invoice.invoice_number).where(Invoice.order_id == order.id))
    state = OrderState(
        order_id=order.id, status=OrderStatus(order.status), amount_due=order.amount_due,
        wallet_applied=order.wallet_applied, paid_payment_id=order.paid_payment_id, amount_paid=order.amount_paid,
        refunded=sum(r.amount for r in refunds if r.status == RefundStatus.PROCESSED.value),
        refunds=[_view(r) for r in refunds], lines={}, invoice_number=invoice, pay_by=order.expires_at,
        after_sales_until=until)
    # no fulfilment lines: the period's benefits are the membership's; a refund ends none of them
    return OrderInput(order_id=order.id, tenant_id=order.tenant_id, client_id=order.client_id,
                      currency=order.currency, total=order.total, amount_due=order.amount_due,
                      wallet_applied=order.wallet_applied, expires_at=order.expires_at, lines=[], resume=state)


async def refund_membership_charge(client: Client, session: AsyncSession, task_queue: str, order: Order,
                                   request: RefundRequest) -> RefundView:
    """The refund through the charge's Order workflow, started now if it is not running."""
    inp = await after_sales_input(session, order)
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        "Order", inp, id=order_workflow_id(order.id), task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,  # running: the refund goes to it
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,     # closed (an earlier refund's): resumed again
        search_attributes=keyword_attributes({TENANT_ID.name: str(order.tenant_id),
                                              CLIENT_ID.name: str(order.client_id),
                                              ENTITY_STATUS.name: order.status}),
        memo={"summary": f"Order {str(order.id)[:8]} of {format_amount(order.total, order.currency)}: "
                         "a membership charge, refunds"})
    view: RefundView = await client.execute_update_with_start_workflow(
        "refund", request, start_workflow_operation=start, result_type=RefundView)
    return view


async def release_held_refunds(request: Request, session: AsyncSession, state: AppState, tenant_id: uuid.UUID) -> None:
    """The owner saved (or removed) the Razorpay keys: each order with a refund held while Razorpay
    refused the old ones is signalled `gateway_keys_changed` and tries its held refunds at once.
    The signals are written with the new keys and sent after the answer (the relay sends any that
    fail), so saving never waits on Temporal and a workflow never reads the old keys. A workflow
    this misses still tries them on its own within the hour."""
    orders = (await session.scalars(select(Refund.order_id).where(
        Refund.tenant_id == tenant_id, Refund.status == RefundStatus.HELD.value).distinct())).all()
    for order_id in orders:
        await signal_after_commit(request, session, state, workflow_id=order_workflow_id(order_id),
                                  signal="gateway_keys_changed", payload=None, tenant_id=tenant_id)
