"""QuotationWorkflow on the time-skipping server: weeks of validity pass in seconds, no sleeping.

The rows are written as the API writes them when staff send a quotation; the workflow is then
driven exactly as the API drives it (updates, the `viewed` signal) and the order it makes is paid
through the local Razorpay, as a client would.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from payments_support import Shop, consultancy, payment_reports
from sqlalchemy import select
from support import poll_until
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from core.db import TenantScope, scoped_session
from domain.payments.orders import OrderStatus, order_workflow_id
from domain.payments.pricing import GstMode
from domain.quotations import (
    Accepted,
    AcceptRequest,
    DiscountKind,
    ExtendRequest,
    QuotationInput,
    QuotationState,
    QuotationStatus,
    QuoteLine,
    QuoteLineKind,
    RejectRequest,
    ReviseRequest,
    Viewed,
    price_quotation,
    quotation_workflow_id,
    quote_number,
)
from models.bookings import Consultant
from models.payments import Order
from models.platform import OutboxMessage
from models.quotations import Quotation, QuotationLine, QuotationVersion
from workflows.orders import OrderWorkflow
from workflows.quotation import QuotationWorkflow

ZONE = "Asia/Kolkata"
LINES = [QuoteLine(QuoteLineKind.CUSTOM, "Vastu site visit, Pune", 1_500_000),
         QuoteLine(QuoteLineKind.CUSTOM, "Monthly guidance call", 300_000, 12)]


async def _consultant(sessionmaker, shop: Shop) -> uuid.UUID:
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        consultant = Consultant(tenant_id=shop.tenant_id, user_id=shop.owner_id, slug="acharya",
                                display_name="Acharya Demo", timezone=ZONE)
        session.add(consultant)
        await session.flush()
        return consultant.id


async def _version(session, shop: Shop, quotation_id: uuid.UUID, version: int, lines: list[QuoteLine], *,
                   issued_at: datetime | None, expires_at: datetime, title: str) -> QuotationVersion:
    price = price_quotation(lines, currency="INR", discount_kind=DiscountKind.PERCENT, discount_value=1000,
                            gst_mode=GstMode.NONE, gst_rate_bp=0)
    row = QuotationVersion(tenant_id=shop.tenant_id, quotation_id=quotation_id, version=version, title=title,
                           currency="INR", discount_kind="percent", discount_value=1000, subtotal=price.subtotal,
                           discount=price.discount, taxable=price.taxable, tax=price.tax, total=price.total,
                           gst_mode="none", gst_rate_bp=0, notes="Travel included.", terms="50 % on acceptance.",
                           issued_at=issued_at, expires_at=expires_at)
    session.add(row)
    await session.flush()
    for position, (line, priced) in enumerate(zip(lines, price.lines, strict=True)):
        session.add(QuotationLine(tenant_id=shop.tenant_id, version_id=row.id, position=position, kind=line.kind.value,
                                  description=line.description, quantity=line.quantity, unit_amount=line.unit_amount,
                                  gross=priced.gross, discount=priced.discount, tax=priced.tax, total=priced.total))
    return row


async def _send(env, sessionmaker, shop: Shop, consultant_id: uuid.UUID, *, valid_days: float,
                reminder_days: list[int] | None = None, window_hours: int = 48) -> WorkflowHandle:
    """What the API does when staff send a quotation: the rows, then the workflow."""
    now = await env.get_current_time()
    expires = now + timedelta(days=valid_days)
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        number = len((await session.execute(select(Quotation.id))).all()) + 1
        quotation = Quotation(tenant_id=shop.tenant_id, number=number, consultant_id=consultant_id,
                              client_id=shop.client_id, client_name="Client", client_email=shop.client_email,
                              client_timezone=ZONE, title="A year of guidance", status="sent", current_version=1,
                              currency="INR", expires_at=expires, reminder_days=reminder_days or [3, 1],
                              sent_at=now, views=0)
        session.add(quotation)
        await session.flush()
        version = await _version(session, shop, quotation.id, 1, LINES, issued_at=now, expires_at=expires,
                                 title=quotation.title)
        quotation.total = version.total
        quotation.workflow_id = quotation_workflow_id(quotation.id)
        quotation_id = quotation.id
    handle = await env.client.start_workflow(
        QuotationWorkflow.run, QuotationInput(
            quotation_id=quotation_id, tenant_id=shop.tenant_id, client_id=shop.client_id,
            consultant_id=consultant_id, number=quote_number(number), expires_at=expires, sent_at=now,
            reminder_days=reminder_days or [3, 1], payment_window_seconds=window_hours * 3600),
        id=quotation_workflow_id(quotation_id), task_queue=env.task_queue)
    env.started.append(handle)
    return handle


async def _settled(handle: WorkflowHandle, done, timeout: float = 20.0) -> QuotationState:
    state = await poll_until(lambda: handle.query(QuotationWorkflow.state), done, timeout)
    assert done(state), state
    return state


async def _messages(sessionmaker, template: str) -> list[OutboxMessage]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(OutboxMessage).where(OutboxMessage.template == template)
                                            .order_by(OutboxMessage.created_at))).scalars())


async def _wait_messages(sessionmaker, template: str, count: int = 1) -> list[OutboxMessage]:
    found = await poll_until(lambda: _messages(sessionmaker, template), lambda rows: len(rows) >= count, 20)
    assert len(found) >= count, (template, [m.recipient for m in found])
    return found


async def _row(sessionmaker, shop: Shop, quotation_id: uuid.UUID) -> Quotation:
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        row = await session.get(Quotation, quotation_id)
        assert row is not None
        return row


async def test_send_view_remind_accept_pay(env, sessionmaker, gateway):
    shop = await consultancy(sessionmaker)
    consultant_id = await _consultant(sessionmaker, shop)
    handle = await _send(env, sessionmaker, shop, consultant_id, valid_days=10)
    state = await handle.query(QuotationWorkflow.state)

    [received] = await _wait_messages(sessionmaker, "quotation.received.client")
    assert received.recipient == shop.client_email and quote_number(1) in (received.subject or "")
    assert "/api/v1/quotation-links/" in received.data["link"]
    [pdf] = received.attachments
    assert pdf["content_type"] == "application/pdf" and pdf["filename"].endswith("-v1-en.pdf")

    await handle.signal(QuotationWorkflow.viewed, Viewed(at=await env.get_current_time(), views=1))
    state = await _settled(handle, lambda s: s.status == QuotationStatus.VIEWED)
    await _wait_messages(sessionmaker, "quotation.viewed.consultant")
    await handle.signal(QuotationWorkflow.viewed, Viewed(at=await env.get_current_time(), views=2))
    await _settled(handle, lambda s: s.views == 2)
    assert len(await _messages(sessionmaker, "quotation.viewed.consultant")) == 1  # only the first view tells

    await env.sleep(timedelta(days=7, hours=1))  # past "3 days before", not yet "1 day before"
    state = await _settled(handle, lambda s: len(s.reminders_sent) == 1)
    [reminder] = await _wait_messages(sessionmaker, "quotation.reminder.client")
    assert "3 day" in (reminder.subject or "")

    accepted: Accepted = await handle.execute_update(QuotationWorkflow.accept, AcceptRequest(via="link"),
                                                     result_type=Accepted)
    assert accepted.state.status == QuotationStatus.ACCEPTED
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        order = await session.get(Order, accepted.order_id)
        assert order is not None and order.total == state_total(LINES) and order.discount == 510_000
        assert order.client_id == shop.client_id and order.status == "pending_payment"
    await _wait_messages(sessionmaker, "quotation.accepted.client")
    await _wait_messages(sessionmaker, "quotation.accepted.consultant")
    # Accepting twice is refused: the first accept made the one order there is.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(QuotationWorkflow.accept, AcceptRequest(), result_type=Accepted)

    order_handle = env.client.get_workflow_handle(order_workflow_id(accepted.order_id))
    info = await order_handle.execute_update(OrderWorkflow.checkout)
    assert info.amount == order.total
    gateway.pay(info.gateway_order_id)
    for report in payment_reports(gateway, info.gateway_order_id):
        await order_handle.signal(OrderWorkflow.payment_captured, report)
    state = await _settled(handle, lambda s: s.status == QuotationStatus.PAID)
    await _wait_messages(sessionmaker, "quotation.paid.consultant")
    row = await _row(sessionmaker, shop, state.quotation_id)
    assert row.status == "paid" and row.paid_at is not None and row.order_id == accepted.order_id
    assert (await order_handle.query(OrderWorkflow.state)).status in (OrderStatus.PAID,
                                                                      OrderStatus.AWAITING_FULFILMENT)


def state_total(lines: list[QuoteLine]) -> int:
    return price_quotation(lines, currency="INR", discount_kind=DiscountKind.PERCENT, discount_value=1000,
                           gst_mode=GstMode.NONE, gst_rate_bp=0).total


async def test_an_unaccepted_quotation_expires_and_both_sides_are_told(env, sessionmaker):
    shop = await consultancy(sessionmaker)
    consultant_id = await _consultant(sessionmaker, shop)
    handle = await _send(env, sessionmaker, shop, consultant_id, valid_days=2, reminder_days=[3, 1])
    await env.sleep(timedelta(days=2, minutes=1))
    state = await _settled(handle, lambda s: s.status == QuotationStatus.EXPIRED)
    assert len(state.reminders_sent) == 1  # "3 days before" came before it was sent: only "1 day"
    await _wait_messages(sessionmaker, "quotation.expired.client")
    await _wait_messages(sessionmaker, "quotation.expired.consultant")
    assert (await _row(sessionmaker, shop, state.quotation_id)).status == "expired"
    await handle.result()  # the workflow ended with its quotation


async def test_extend_moves_the_reminders_and_a_revision_supersedes_the_version(env, sessionmaker):
    shop = await consultancy(sessionmaker)
    consultant_id = await _consultant(sessionmaker, shop)
    handle = await _send(env, sessionmaker, shop, consultant_id, valid_days=10, reminder_days=[3])
    start = await env.get_current_time()
    with pytest.raises(WorkflowUpdateFailedError):  # not later than now: refused, nothing changes
        await handle.execute_update(QuotationWorkflow.extend, ExtendRequest(expires_at=start + timedelta(days=5)),
                                    result_type=QuotationState)
    state = await handle.execute_update(QuotationWorkflow.extend, ExtendRequest(expires_at=start + timedelta(days=20)),
                                        result_type=QuotationState)
    assert state.expires_at == start + timedelta(days=20) and state.extensions == 1
    await _wait_messages(sessionmaker, "quotation.extended.client")

    await env.sleep(timedelta(days=8))  # the old "3 days before" has passed: nothing sent for it
    state = await handle.query(QuotationWorkflow.state)
    assert state.reminders_sent == [] and await _messages(sessionmaker, "quotation.reminder.client") == []
    await env.sleep(timedelta(days=9, hours=1))  # the new one
    state = await _settled(handle, lambda s: len(s.reminders_sent) == 1)
    assert (start + timedelta(days=20)).isoformat() in state.reminders_sent[0]

    # A revision: the API writes version 2 (unissued); the update issues it and sends it again.
    new_lines = [*LINES, QuoteLine(QuoteLineKind.CUSTOM, "Gemstone consultation", 200_000)]
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        await _version(session, shop, state.quotation_id, 2, new_lines, issued_at=None,
                       expires_at=start + timedelta(days=30), title="A year of guidance, with gemstones")
    now = await env.get_current_time()
    state = await handle.execute_update(QuotationWorkflow.revise, ReviseRequest(
        version=2, expires_at=now + timedelta(days=14)), result_type=QuotationState)
    assert state.version == 2 and state.status == QuotationStatus.SENT
    [revised] = await _wait_messages(sessionmaker, "quotation.revised.client")
    assert revised.attachments[0]["filename"].endswith("-v2-en.pdf")
    row = await _row(sessionmaker, shop, state.quotation_id)
    assert row.current_version == 2 and row.total == state_total(new_lines)
    assert row.title == "A year of guidance, with gemstones"
    with pytest.raises(WorkflowUpdateFailedError):  # version 2 again: the quotation is at 2 already
        await handle.execute_update(QuotationWorkflow.revise, ReviseRequest(
            version=2, expires_at=now + timedelta(days=14)), result_type=QuotationState)
    state = await handle.execute_update(QuotationWorkflow.reject, RejectRequest(reason="budget"),
                                        result_type=QuotationState)
    assert state.status == QuotationStatus.REJECTED
    [told] = await _wait_messages(sessionmaker, "quotation.rejected.consultant")
    assert "budget" in told.body


async def test_accept_racing_the_expiry_has_exactly_one_outcome(env, sessionmaker, gateway):
    shop = await consultancy(sessionmaker)
    consultant_id = await _consultant(sessionmaker, shop)
    handle = await _send(env, sessionmaker, shop, consultant_id, valid_days=1, reminder_days=[])
    await env.sleep(timedelta(hours=23, minutes=59, seconds=59))

    async def accept() -> Accepted | str:
        try:
            answer: Accepted = await handle.execute_update(QuotationWorkflow.accept, AcceptRequest(),
                                                           result_type=Accepted)
        except WorkflowUpdateFailedError as exc:
            return str(exc.cause)
        return answer

    outcome, _ = await asyncio.gather(accept(), env.sleep(timedelta(seconds=5)))
    state = await _settled(handle, lambda s: s.status in (QuotationStatus.ACCEPTED, QuotationStatus.EXPIRED))
    row = await _row(sessionmaker, shop, state.quotation_id)
    if isinstance(outcome, Accepted):
        assert state.status == QuotationStatus.ACCEPTED and row.status == "accepted" and row.order_id
        await _wait_messages(sessionmaker, "quotation.accepted.client")
        assert await _messages(sessionmaker, "quotation.expired.client") == []
    else:
        assert "expired" in outcome and state.status == QuotationStatus.EXPIRED and row.order_id is None
        await _wait_messages(sessionmaker, "quotation.expired.client")
        assert await _messages(sessionmaker, "quotation.accepted.client") == []
    # Past the expiry, an accept is always refused (by the workflow, or by its having ended).
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(QuotationWorkflow.accept, AcceptRequest(), result_type=Accepted)


async def test_an_accepted_quotation_left_unpaid_lapses_with_its_order(env, sessionmaker, gateway):
    shop = await consultancy(sessionmaker)
    consultant_id = await _consultant(sessionmaker, shop)
    handle = await _send(env, sessionmaker, shop, consultant_id, valid_days=5, window_hours=24)
    accepted: Accepted = await handle.execute_update(QuotationWorkflow.accept, AcceptRequest(),
                                                     result_type=Accepted)
    await env.sleep(timedelta(hours=13))
    await _wait_messages(sessionmaker, "quotation.payment_reminder.client")
    await env.sleep(timedelta(hours=12))
    state = await _settled(handle, lambda s: s.status == QuotationStatus.LAPSED)
    await _wait_messages(sessionmaker, "quotation.lapsed.consultant")
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        order = await session.get(Order, accepted.order_id)
        assert order is not None and order.status == "expired"
    assert (await _row(sessionmaker, shop, state.quotation_id)).status == "lapsed"
