"""OrderWorkflow on the time-skipping server with the real activities, database and local Razorpay
(through the production SDK adapter). Webhooks are read from the gateway's signed deliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from payments_fakes import Cancellation, DeliveryStart, FakeConsultation, TestDelivery
from payments_support import (
    GSTIN,
    consultancy,
    consultation,
    count,
    credit_wallet,
    new_order,
    order_row,
    payment_reports,
    product,
    report_of,
    rows,
)
from sqlalchemy import select
from support import eventually, handled_signals, poll_until, settled
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.worker import Worker

from core.db import TenantScope, scoped_session
from domain.payments.orders import (
    CheckoutInfo,
    LineStatus,
    OrderState,
    OrderStatus,
    ReconcileInput,
    RefundRequest,
    RefundStatus,
    order_workflow_id,
)
from domain.payments.pricing import LineKind
from domain.payments.refunds import RefundDestination
from models.payments import Coupon, Invoice, Order, Payment, Refund, WalletEntry, wallet_balance
from models.platform import OutboxMessage
from workers.registry import workflow_runner
from workflows.fulfilment import REGISTRY, StartChildWorkflowHandler
from workflows.orders import OrderWorkflow
from workflows.reconciliation import ReconciliationWorkflow


@pytest.fixture
async def bookings(env):
    """A worker for the stand-in Consultation workflow (bookings' contract) on its own queue."""
    queue = f"bookings-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[FakeConsultation, TestDelivery],
                      workflow_runner=workflow_runner()):
        async def hold(booking_id: str) -> WorkflowHandle:
            handle = await env.client.start_workflow(FakeConsultation.run, booking_id,
                                                     id=f"consultation-{booking_id}", task_queue=queue)
            env.started.append(handle)
            return handle
        hold.queue = queue  # type: ignore[attr-defined]
        yield hold


async def start(env, inp) -> WorkflowHandle:
    handle = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                             task_queue=env.task_queue)
    env.started.append(handle)
    return handle


async def state(handle) -> OrderState:
    return await handle.query(OrderWorkflow.state)


async def status_becomes(handle, status: OrderStatus, timeout: float = 20) -> OrderState:
    async def probe():
        return (await state(handle)).status
    assert await eventually(probe, status, timeout) == status, await state(handle)
    return await state(handle)


async def pay(handle, gateway, **how) -> CheckoutInfo:
    """Checkout (the update), then the customer pays at the gateway; returns the checkout info."""
    info = await handle.execute_update(OrderWorkflow.checkout)
    gateway.pay(info.gateway_order_id, **how)
    return info


async def deliver(handle, gateway, gateway_order_id: str, event: str = "payment.captured") -> None:
    for report in payment_reports(gateway, gateway_order_id, event):
        await handle.signal(OrderWorkflow.payment_captured if report.status == "captured"
                            else OrderWorkflow.payment_failed, report)


async def outbox(sessionmaker, template: str) -> list[OutboxMessage]:
    return await rows(sessionmaker, OutboxMessage, OutboxMessage.template == template)


async def test_paid_order_confirms_the_booking_once_invoices_and_sends_one_receipt(env, bookings, gateway,
                                                                                   sessionmaker):
    shop = await consultancy(sessionmaker, gst_mode="inclusive")
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 118_000), product(23_600)])
    handle = await start(env, inp)
    info = await pay(handle, gateway)
    assert info.amount == 141_600 and info.currency == "INR"
    # The same captured webhook 10 times, and order.paid too: fulfilled once.
    for _ in range(10):
        await deliver(handle, gateway, info.gateway_order_id)
    await deliver(handle, gateway, info.gateway_order_id, "order.paid")
    final = await status_becomes(handle, OrderStatus.AWAITING_FULFILMENT)

    seen = await held.query(FakeConsultation.state)
    assert len(seen.confirmed) == 1
    confirmed = seen.confirmed[0]
    assert (confirmed.amount_minor, confirmed.currency, confirmed.method) == (118_000, "INR", "razorpay")
    assert confirmed.reference == f"order {inp.order_id} payment {final.paid_payment_id}"
    lines = {line.kind: final.lines[str(line.line_id)] for line in inp.lines}
    assert lines == {LineKind.CONSULTATION: LineStatus.FULFILLED, LineKind.PRODUCT: LineStatus.AWAITING_HANDLER}
    assert await count(sessionmaker, Payment, Payment.order_id == inp.order_id) == 1
    [invoice] = await rows(sessionmaker, Invoice, Invoice.order_id == inp.order_id)
    assert invoice.invoice_number.startswith("JK/20") and invoice.number == 1 and invoice.gstin == GSTIN
    assert invoice.tax == 18_000 + 3_600 and invoice.total == 141_600  # 18 % carved out of inclusive prices
    assert "GSTIN: 27AAPFU0939F1ZV" in invoice.html and "CGST 9%" in invoice.html
    assert invoice.pdf is None or invoice.pdf.startswith(b"%PDF")
    await poll_until(lambda: outbox(sessionmaker, "payment_receipt"), bool)  # sent after the step
    await poll_until(lambda: outbox(sessionmaker, "fulfilment_awaiting_handler"), lambda m: len(m) >= 2)
    await settled(handle)  # nothing more on its way: the counts below are final
    [receipt] = await outbox(sessionmaker, "payment_receipt")
    assert receipt.recipient == shop.client_email and invoice.invoice_number in receipt.body
    notices = await outbox(sessionmaker, "fulfilment_awaiting_handler")
    assert len(notices) == 2  # owner and staff
    order = await order_row(sessionmaker, inp.order_id)
    assert order.status == "awaiting_fulfilment" and order.amount_paid == 141_600


async def test_payment_failed_after_capture_changes_nothing(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking)])
    handle = await start(env, inp)
    info = await handle.execute_update(OrderWorkflow.checkout)
    gateway.pay(info.gateway_order_id, outcome="failed")
    gateway.pay(info.gateway_order_id)
    # Out of order: the capture first, then the older failure.
    await deliver(handle, gateway, info.gateway_order_id, "payment.captured")
    await status_becomes(handle, OrderStatus.FULFILLED)
    await deliver(handle, gateway, info.gateway_order_id, "payment.failed")
    await handle.execute_update(OrderWorkflow.refund, RefundRequest(  # a round trip: the signal was handled
        amount=100, reason="probe", key=f"probe-{uuid.uuid4().hex}", destination=RefundDestination.WALLET))
    assert (await state(handle)).status == OrderStatus.FULFILLED
    assert len((await held.query(FakeConsultation.state)).confirmed) == 1
    assert await outbox(sessionmaker, "payment_failed") == []  # a paid order does not nag


async def test_unpaid_order_expires_releases_the_hold_coupon_and_wallet(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    await credit_wallet(sessionmaker, shop, 30_000)
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        session.add(Coupon(tenant_id=shop.tenant_id, code="DIWALI10", kind="percent", percent_bp=1000, currency="INR",
                           max_uses=1, offering_kinds=[], offering_ids=[], min_order_amount=0, uses=0, active=True))
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 100_000)], coupon_code="diwali10",
                          use_wallet=True)
    assert (inp.total, inp.wallet_applied, inp.amount_due) == (90_000, 30_000, 60_000)
    [coupon] = await rows(sessionmaker, Coupon, Coupon.tenant_id == shop.tenant_id)
    assert coupon.uses == 1
    handle = await start(env, inp)
    await handle.execute_update(OrderWorkflow.checkout)
    await env.sleep(timedelta(minutes=31))
    await status_becomes(handle, OrderStatus.EXPIRED)

    assert len((await held.query(FakeConsultation.state)).failed) == 1
    [coupon] = await rows(sessionmaker, Coupon, Coupon.tenant_id == shop.tenant_id)
    assert coupon.uses == 0
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        assert await wallet_balance(session, shop.tenant_id, shop.client_id, "INR") == 30_000
    await poll_until(lambda: outbox(sessionmaker, "order_expired"), bool)
    await settled(handle)
    assert len(await outbox(sessionmaker, "order_expired")) == 1
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OrderWorkflow.checkout)
    assert "expired" in str(refused.value.cause)


async def test_a_lost_webhook_is_caught_by_the_last_look_before_expiry(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking)])
    handle = await start(env, inp)
    await pay(handle, gateway)  # paid, but no webhook ever reaches us
    await env.sleep(timedelta(minutes=31))
    await status_becomes(handle, OrderStatus.FULFILLED)
    assert len((await held.query(FakeConsultation.state)).confirmed) == 1


async def test_reconciliation_recovers_a_lost_webhook(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking)])
    handle = await start(env, inp)
    await pay(handle, gateway)  # the webhooks are lost
    result = await env.client.execute_workflow(
        ReconciliationWorkflow.run, ReconcileInput(older_than_seconds=0), id=f"reconcile-{uuid.uuid4().hex[:6]}",
        task_queue=env.task_queue)
    assert order_workflow_id(inp.order_id) in result.signalled and result.payments_found >= 1
    await status_becomes(handle, OrderStatus.FULFILLED)
    assert len((await held.query(FakeConsultation.state)).confirmed) == 1
    # Running it again finds nothing new to do for this order.
    again = await env.client.execute_workflow(
        ReconciliationWorkflow.run, ReconcileInput(older_than_seconds=0), id=f"reconcile-{uuid.uuid4().hex[:6]}",
        task_queue=env.task_queue)
    assert order_workflow_id(inp.order_id) not in again.signalled


async def test_wrong_amount_is_flagged_for_staff_and_never_fulfilled(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 150_000)])
    handle = await start(env, inp)
    info = await pay(handle, gateway, amount=15_000)
    await deliver(handle, gateway, info.gateway_order_id)
    flagged = await status_becomes(handle, OrderStatus.NEEDS_REVIEW)
    assert flagged.flags and "₹150.00" in flagged.flags[0]
    assert (await held.query(FakeConsultation.state)).confirmed == []
    # owner and staff, one message each (sent one after the other, after the status changed)
    async def told() -> int:
        return len(await outbox(sessionmaker, "payment_needs_review"))
    assert await eventually(told, 2) == 2
    assert await count(sessionmaker, Invoice, Invoice.order_id == inp.order_id) == 0
    # Staff refund what came in; the order ends refunded.
    view = await handle.execute_update(OrderWorkflow.refund, RefundRequest(
        amount=15_000, reason="wrong amount paid", key=f"staff-{inp.order_id}", requested_by=shop.staff_id))
    assert view.gateway_amount == 15_000
    [refund] = [r for r in gateway.refunds.values() if r["payment_id"] == flagged.paid_payment_id]
    await handle.signal(OrderWorkflow.refund_settled, report_of(gateway.deliveries_for(
        info.gateway_order_id, "refund.processed")[0]))
    await status_becomes(handle, OrderStatus.REFUNDED)
    assert refund["amount"] == 15_000


async def test_fulfilment_that_fails_for_good_is_compensated(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    await credit_wallet(sessionmaker, shop, 20_000)
    gone = f"bk{uuid.uuid4().hex[:10]}"  # its hold expired: no consultation workflow any more
    inp = await new_order(sessionmaker, shop, [consultation(gone, 120_000)], use_wallet=True)
    handle = await start(env, inp)
    info = await pay(handle, gateway)
    await deliver(handle, gateway, info.gateway_order_id)
    failed = await status_becomes(handle, OrderStatus.FULFILMENT_FAILED)
    assert failed.lines[str(inp.lines[0].line_id)] == LineStatus.FAILED

    async def refunds():
        return len((await state(handle)).refunds)
    assert await eventually(refunds, 1) == 1
    [refund] = (await state(handle)).refunds
    assert (refund.amount, refund.gateway_amount, refund.wallet_amount) == (120_000, 100_000, 20_000)
    await handle.signal(OrderWorkflow.refund_settled, report_of(
        gateway.deliveries_for(info.gateway_order_id, "refund.processed")[0]))
    done = await status_becomes(handle, OrderStatus.REFUNDED)
    assert done.refunded == 120_000
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        assert await wallet_balance(session, shop.tenant_id, shop.client_id, "INR") == 20_000
    assert len(await poll_until(lambda: outbox(sessionmaker, "fulfilment_failed"), lambda m: len(m) >= 1)) == 1
    assert len(await poll_until(lambda: outbox(sessionmaker, "fulfilment_failed_staff"), lambda m: len(m) >= 2)) == 2
    assert await count(sessionmaker, Invoice, Invoice.order_id == inp.order_id) == 0
    assert (await handle.result()).status == OrderStatus.REFUNDED  # and the workflow ends


async def test_refunds_are_validated_idempotent_and_closed_by_their_webhook(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    gateway.refund_outcome = "pending"
    booking = f"bk{uuid.uuid4().hex[:10]}"
    await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 200_000)])
    handle = await start(env, inp)
    info = await pay(handle, gateway)
    await deliver(handle, gateway, info.gateway_order_id)
    await status_becomes(handle, OrderStatus.FULFILLED)

    with pytest.raises(WorkflowUpdateFailedError) as too_much:
        await handle.execute_update(OrderWorkflow.refund,
                                    RefundRequest(amount=200_001, reason="x", key="too-much-0001"))
    assert "₹2,000.00" in str(too_much.value.cause)
    first = RefundRequest(amount=50_000, reason="session ran short", key=f"partial-1-{inp.order_id}")
    a = await handle.execute_update(OrderWorkflow.refund, first)
    again = await handle.execute_update(OrderWorkflow.refund, first)  # a retry: the same refund
    assert a.refund_id == again.refund_id and a.status == RefundStatus.PENDING
    b = await handle.execute_update(OrderWorkflow.refund, RefundRequest(
        amount=30_000, reason="goodwill", key=f"partial-2-{inp.order_id}", destination=RefundDestination.WALLET))
    assert b.status == RefundStatus.PROCESSED and b.wallet_amount == 30_000
    at_gateway = [r for r in gateway.refunds.values() if r["notes"].get("order_id") == str(inp.order_id)]
    assert len(at_gateway) == 1 and at_gateway[0]["amount"] == 50_000
    gateway.settle_refund(at_gateway[0]["id"])
    settled = gateway.deliveries_for(info.gateway_order_id, "refund.processed")
    for _ in range(3):  # at least once, so maybe thrice
        await handle.signal(OrderWorkflow.refund_settled, report_of(settled[0]))
    async def refunded():
        return (await state(handle)).refunded
    assert await eventually(refunded, 80_000) == 80_000
    order = await order_row(sessionmaker, inp.order_id)
    assert order.amount_refunded == 80_000 and order.status == "fulfilled"
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OrderWorkflow.refund,
                                    RefundRequest(amount=120_001, reason="x", key="too-much-0002"))
    assert "1,200.00" in str(refused.value.cause)
    assert await count(sessionmaker, Refund, Refund.order_id == inp.order_id) == 2


async def test_a_cancelled_consultation_refunds_what_its_policy_says(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 180_000)])
    handle = await start(env, inp)
    info = await pay(handle, gateway)
    await deliver(handle, gateway, info.gateway_order_id)
    await status_becomes(handle, OrderStatus.FULFILLED)
    now = datetime.now(UTC)
    # Cancelled 30 hours before the session: the default policy refunds half.
    await held.signal(FakeConsultation.cancel_booking, Cancellation(
        order_id=inp.order_id, paid=180_000, starts_at=now + timedelta(hours=30), cancelled_at=now))

    async def refunds():
        return len((await state(handle)).refunds)
    assert await eventually(refunds, 1) == 1
    [refund] = (await state(handle)).refunds
    assert refund.amount == 90_000 and refund.kind == "cancellation_policy"
    [at_gateway] = [r for r in gateway.refunds.values() if r["notes"].get("order_id") == str(inp.order_id)]
    assert at_gateway["amount"] == 90_000
    # The same cancellation reported twice refunds once: once the order's workflow has handled the
    # second request (the consultation forwards it in a workflow task of its own).
    await held.signal(FakeConsultation.cancel_booking, Cancellation(
        order_id=inp.order_id, paid=180_000, starts_at=now + timedelta(hours=30), cancelled_at=now))
    await handled_signals(handle, "request_refund", 2)
    assert [(r.refund_id, r.amount) for r in (await state(handle)).refunds] == [(refund.refund_id, 90_000)]
    assert len([r for r in gateway.refunds.values() if r["notes"].get("order_id") == str(inp.order_id)]) == 1
    await handle.signal(OrderWorkflow.refund_settled, report_of(
        gateway.deliveries_for(info.gateway_order_id, "refund.processed")[0]))
    async def refunded():
        return (await state(handle)).refunded
    assert await eventually(refunded, 90_000) == 90_000
    assert await count(sessionmaker, Refund, Refund.order_id == inp.order_id) == 1


async def test_an_order_paid_from_the_wallet_needs_no_gateway(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    await credit_wallet(sessionmaker, shop, 500_000)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 150_000)], use_wallet=True)
    assert inp.amount_due == 0
    handle = await start(env, inp)
    await status_becomes(handle, OrderStatus.FULFILLED)
    [confirmed] = (await held.query(FakeConsultation.state)).confirmed
    assert confirmed.method == "wallet"
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        assert await wallet_balance(session, shop.tenant_id, shop.client_id, "INR") == 350_000
        entries = (await session.execute(select(WalletEntry).order_by(WalletEntry.created_at))).scalars().all()
    assert [e.balance_after for e in entries] == [500_000, 350_000]


async def test_a_payment_after_expiry_is_refunded_in_full(env, bookings, gateway, sessionmaker):
    shop = await consultancy(sessionmaker)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    await bookings(booking)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 99_900)])
    handle = await start(env, inp)
    info = await handle.execute_update(OrderWorkflow.checkout)
    await env.sleep(timedelta(minutes=31))
    await status_becomes(handle, OrderStatus.EXPIRED)
    gateway.pay(info.gateway_order_id)  # the client paid in a tab left open
    await deliver(handle, gateway, info.gateway_order_id)

    async def late_refunds():
        return len((await state(handle)).refunds)
    assert await eventually(late_refunds, 1) == 1
    [refund] = (await state(handle)).refunds
    assert refund.kind == "late_payment" and refund.gateway_amount == 99_900
    async def told() -> int:
        return len(await outbox(sessionmaker, "late_payment_refunded"))
    assert await eventually(told, 1) == 1
    assert (await order_row(sessionmaker, inp.order_id)).status == "expired"  # it never goes back


async def test_the_registry_starts_child_workflows_for_kinds_that_have_one(env, bookings, gateway, sessionmaker):
    saved = REGISTRY.snapshot()
    REGISTRY.register(StartChildWorkflowHandler(
        LineKind.PRODUCT, "TestDelivery", "delivery", task_queue=bookings.queue,
        make_input=lambda ctx, line: DeliveryStart(order_id=ctx.order_id, line_id=line.line_id,
                                                   description=line.description)), replace=True)
    try:
        shop = await consultancy(sessionmaker)
        inp = await new_order(sessionmaker, shop, [product(60_000, "Annual horoscope PDF")])
        handle = await start(env, inp)
        info = await pay(handle, gateway)
        await deliver(handle, gateway, info.gateway_order_id)
        await status_becomes(handle, OrderStatus.FULFILLED)
        child = env.client.get_workflow_handle(f"delivery-{inp.order_id}")
        assert await child.result() == "delivered Annual horoscope PDF"
    finally:
        REGISTRY.restore(saved)


async def test_orders_of_two_tenants_share_nothing(env, gateway, sessionmaker):
    a, b = await consultancy(sessionmaker), await consultancy(sessionmaker)
    order_a = await new_order(sessionmaker, a, [product()])
    await new_order(sessionmaker, b, [product()])
    async with scoped_session(sessionmaker, TenantScope.of(b.tenant_id)) as session:
        assert await session.get(Order, order_a.order_id) is None
