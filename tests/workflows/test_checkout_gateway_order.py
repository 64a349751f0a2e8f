"""The Razorpay order behind a checkout is made once, and no database transaction waits on Razorpay.

Against the local Razorpay (through the production SDK adapter), which records every request it
gets: concurrent checkouts of one order — as activity retries and as concurrent `checkout`
updates of the real Order workflow — make exactly one `POST /v1/orders`; while Razorpay takes its
time, the order row is not locked and no connection sits idle in a transaction; an attempt that
died after Razorpay made the order is recovered by the retry, which finds it by receipt."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from payments_support import consultancy, new_order, order_row, product
from sqlalchemy import text, update
from temporalio.testing import ActivityEnvironment

from activities.payments.gateway_order import CLAIM_LEASE
from activities.payments.orders import PaymentActivities
from activities.payments.razorpay_gateway import RazorpayGateway
from core.db import TenantScope, scoped_session
from core.razorpay import GatewayCredentials, platform_credentials
from core.security import Keys
from domain.payments.orders import CheckoutInfo, OrderRef, order_workflow_id
from models.payments import Order
from workflows.orders import OrderWorkflow


def _order_creations(gateway, order_id: uuid.UUID) -> list[Any]:
    return [r for r in gateway.requests
            if r.method == "POST" and r.path == "/v1/orders" and r.body.get("receipt") == str(order_id)]


def _env(n: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, activity_id=f"checkout-{n}", workflow_run_id="run-1")
    return env


class _HeldGateway(RazorpayGateway):
    """The real adapter, held at the door until the test lets it through (Razorpay being slow)."""

    entered: asyncio.Event
    release: asyncio.Event

    async def ensure_order(self, **kwargs: Any) -> dict[str, Any]:
        self.entered.set()
        await self.release.wait()
        return await super().ensure_order(**kwargs)


async def _idle_in_transaction(sessionmaker) -> int:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return int(await session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")) or 0)


async def test_concurrent_retries_make_one_gateway_order_without_holding_the_row(sessionmaker, settings, gateway,
                                                                                 clean):
    shop = await consultancy(sessionmaker)
    inp = await new_order(sessionmaker, shop, [product()])
    ref = OrderRef(workflow_id=order_workflow_id(inp.order_id), order_id=inp.order_id, tenant_id=shop.tenant_id)
    entered, release = asyncio.Event(), asyncio.Event()

    def held(credentials: GatewayCredentials) -> RazorpayGateway:
        adapter = _HeldGateway(credentials)
        adapter.entered, adapter.release = entered, release
        return adapter
    activities = PaymentActivities(sessionmaker, settings, Keys.from_settings(settings), gateway_factory=held)

    first = asyncio.create_task(_env(0).run(activities.create_gateway_order, ref))
    await asyncio.wait_for(entered.wait(), 10)
    # Razorpay is "answering": the row is free for anyone else and no transaction is open.
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        free = await session.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE NOWAIT"),
                                     {"id": inp.order_id})
        assert free.scalar_one() == inp.order_id
    assert await _idle_in_transaction(sessionmaker) == 0
    claimed = await order_row(sessionmaker, inp.order_id)
    assert claimed.gateway_claim and claimed.gateway_order_id is None and claimed.gateway_key_id is None
    # Four more attempts (retries, other tabs) while the first is still waiting on Razorpay.
    attempts = [first, *(asyncio.create_task(_env(n).run(activities.create_gateway_order, ref)) for n in range(1, 5))]

    release.set()
    infos: list[CheckoutInfo] = await asyncio.wait_for(asyncio.gather(*attempts), 30)
    assert len({i.gateway_order_id for i in infos}) == 1
    assert len(_order_creations(gateway, inp.order_id)) == 1
    row = await order_row(sessionmaker, inp.order_id)
    assert row.gateway_order_id == infos[0].gateway_order_id and row.gateway_claim is None

    # An attempt that died after Razorpay made the order (its claim left behind, nothing recorded):
    # once the lease is over, the next checkout finds that order by its receipt, makes no other.
    again = await new_order(sessionmaker, shop, [product()])
    again_ref = ref.model_copy(update={"order_id": again.order_id, "workflow_id": order_workflow_id(again.order_id)})
    plain = PaymentActivities(sessionmaker, settings, Keys.from_settings(settings))
    made_before = await RazorpayGateway(platform_credentials(settings)).ensure_order(
        amount=again.amount_due, currency="INR", receipt=str(again.order_id), notes={})
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        await session.execute(update(Order).where(Order.id == again.order_id).values(
            gateway_claim="run-0/died", gateway_claimed_at=datetime.now(UTC) - CLAIM_LEASE - timedelta(seconds=1)))
    recovered = await _env(9).run(plain.create_gateway_order, again_ref)
    assert recovered.gateway_order_id == made_before["id"]
    assert len(_order_creations(gateway, again.order_id)) == 1


async def test_concurrent_checkout_updates_of_the_workflow_make_one_gateway_order(env, sessionmaker, gateway):
    shop = await consultancy(sessionmaker)
    inp = await new_order(sessionmaker, shop, [product()])
    handle = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                             task_queue=env.task_queue)
    env.started.append(handle)
    infos = await asyncio.gather(*(handle.execute_update(OrderWorkflow.checkout) for _ in range(6)))
    assert len({i.gateway_order_id for i in infos}) == 1
    assert len(_order_creations(gateway, inp.order_id)) == 1
    assert (await order_row(sessionmaker, inp.order_id)).gateway_claim is None
