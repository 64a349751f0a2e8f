"""A worker stopped in the middle of fulfilment, and a new one started: exactly one confirmation of
the booking, one invoice, one receipt and one charge. The new worker replays the workflow's
history from scratch (no cache), so this also proves the workflow's determinism."""

from __future__ import annotations

import asyncio
import uuid

from payments_fakes import FakeConsultation
from payments_support import consultancy, consultation, count, new_order, payment_reports, rows
from support import eventually, handled_signals, poll_until
from temporalio import activity
from temporalio.worker import Worker

from domain.payments.orders import ISSUE_INVOICE, OrderRef, OrderStatus, order_workflow_id
from models.payments import Invoice, Payment
from models.platform import OutboxMessage
from workers.registry import WORKFLOWS, build_activities, workflow_runner
from workflows.orders import OrderWorkflow


async def test_a_worker_stopped_mid_fulfilment_leaves_one_confirmation_receipt_and_charge(
    time_skipping_env, sessionmaker, settings, gateway, clean
):
    client = time_skipping_env.client
    queue = f"restart-{uuid.uuid4().hex[:8]}"
    worker_settings = settings.model_copy(update={"temporal_task_queue": queue})
    reached_invoice = asyncio.Event()

    @activity.defn(name=ISSUE_INVOICE)
    async def invoice_never_finishes(ref: OrderRef) -> str:
        reached_invoice.set()  # the booking is confirmed by now; the worker dies here
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    real = build_activities(sessionmaker, worker_settings)
    doomed = [a for a in real if getattr(a, "__temporal_activity_definition").name != ISSUE_INVOICE]
    # No workflow cache, so no sticky queue: the time-skipping server does not move a dead worker's
    # sticky tasks elsewhere (the real server does), and the new worker must replay from scratch.
    first = Worker(client, task_queue=queue, workflows=[*WORKFLOWS, FakeConsultation],
                   activities=[*doomed, invoice_never_finishes], workflow_runner=workflow_runner(),
                   max_cached_workflows=0)
    running = asyncio.create_task(first.run())

    shop = await consultancy(sessionmaker)
    booking = f"bk{uuid.uuid4().hex[:10]}"
    held = await client.start_workflow(FakeConsultation.run, booking, id=f"consultation-{booking}", task_queue=queue)
    inp = await new_order(sessionmaker, shop, [consultation(booking, 250_000)])
    handle = await client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id), task_queue=queue)
    try:
        info = await handle.execute_update(OrderWorkflow.checkout)
        gateway.pay(info.gateway_order_id)
        for report in payment_reports(gateway, info.gateway_order_id) * 3:
            await handle.signal(OrderWorkflow.payment_captured, report)
        await asyncio.wait_for(reached_invoice.wait(), 30)
        assert len((await held.query(FakeConsultation.state)).confirmed) == 1

        await first.shutdown()  # stop the worker between the confirmation and the invoice
        await asyncio.gather(running, return_exceptions=True)

        async with Worker(client, task_queue=queue, workflows=[*WORKFLOWS, FakeConsultation], activities=real,
                          workflow_runner=workflow_runner(), max_cached_workflows=0):
            async def status():
                return (await handle.query(OrderWorkflow.state)).status
            assert await eventually(status, OrderStatus.FULFILLED, 30) == OrderStatus.FULFILLED
            # Replays (no cache: every task replays the whole history) send nothing again.
            await handle.signal(OrderWorkflow.payment_captured, payment_reports(gateway, info.gateway_order_id)[0])
            reports = len(payment_reports(gateway, info.gateway_order_id))
            await handled_signals(handle, "payment_captured", 3 * reports + 1)  # every report, handled
            assert (await handle.query(OrderWorkflow.state)).status == OrderStatus.FULFILLED

            assert len((await held.query(FakeConsultation.state)).confirmed) == 1
            assert await count(sessionmaker, Invoice, Invoice.order_id == inp.order_id) == 1
            receipts = await poll_until(  # the receipt leaves after the order is fulfilled, in the background
                lambda: rows(sessionmaker, OutboxMessage, OutboxMessage.template == "payment_receipt"), bool)
            assert len(receipts) == 1 and receipts[0].recipient == shop.client_email
            assert await count(sessionmaker, Payment, Payment.order_id == inp.order_id) == 1
            charges = [p for p in gateway.payments.values() if p["order_id"] == info.gateway_order_id]
            assert len(charges) == 1 and charges[0]["status"] == "captured"
            assert [o for o in gateway.orders.values() if o["receipt"] == str(inp.order_id)] == [
                gateway.orders[info.gateway_order_id]]
            await handle.terminate("test finished")
            await held.terminate("test finished")
    finally:
        if not running.done():
            await first.shutdown()
