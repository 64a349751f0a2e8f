"""Nothing is lost between Razorpay and the Order workflow: the reconciliation Schedule finds
payments whose webhooks never came, and the worker's relay acts on stored events the API could
not (its process died, or Temporal was away)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from support import active_consultancy, eventually, poll_until, register_client
from temporalio.client import ScheduleActionStartWorkflow, ScheduleOverlapPolicy
from test_payments_api import checkout, order_for, order_status

from api.services.payment_events import (
    EventInserter,
    Ingested,
    WebhookSecrets,
    ingest_webhook,
    process_event,
    process_pending_events,
)
from core.db import TenantScope, scoped_session
from core.razorpay import sign
from domain.housekeeping import HOUSEKEEPING_EVERY, HOUSEKEEPING_SCHEDULE_ID
from domain.payments.orders import RECONCILE_EVERY, RECONCILE_SCHEDULE_ID, ReconcileResult
from models.payments import GatewayWebhookEvent, Order


async def test_the_reconciliation_schedule_recovers_a_lost_webhook(client, sessionmaker, gateway, temporal_client,
                                                                   product_schedules):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    order = await order_for(client, owner, buyer)
    info = await checkout(client, buyer, order["id"])
    gateway.pay(info["gateway_order_id"])  # paid; every webhook lost, the browser closed before verifying
    async with scoped_session(sessionmaker, TenantScope.system()) as session:  # it has waited a while
        await session.execute(update(Order).where(Order.id == uuid.UUID(order["id"]))
                              .values(created_at=datetime.now(UTC) - timedelta(minutes=20)))

    await product_schedules()
    schedule = temporal_client.get_schedule_handle(RECONCILE_SCHEDULE_ID)
    described = await schedule.describe()
    assert described.schedule.spec.intervals[0].every == RECONCILE_EVERY
    before = {a.action.workflow_id for a in described.info.recent_actions}
    # ALLOW_ALL: a run the interval started at the same moment (the final run saw one at :50
    # that never finished) must not stand in for ours, as SKIP would make it.
    await schedule.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)

    async def new_runs():
        return [a.action.workflow_id for a in (await schedule.describe()).info.recent_actions
                if a.action.workflow_id not in before]
    started = await poll_until(new_runs, bool)
    assert started
    paid = await order_status(client, owner.headers(), order["id"], "awaiting_fulfilment", timeout=120)
    results = [await temporal_client.get_workflow_handle(run_id, result_type=ReconcileResult).result()
               for run_id in started[-1:]]
    assert any(f"order-{order['id']}" in result.signalled for result in results)
    assert paid["paid_payment_id"]
    housekeeping = await temporal_client.get_schedule_handle(HOUSEKEEPING_SCHEDULE_ID).describe()
    assert housekeeping.schedule.spec.intervals[0].every == HOUSEKEEPING_EVERY
    assert isinstance(housekeeping.schedule.action, ScheduleActionStartWorkflow)
    assert housekeeping.schedule.action.workflow == "Housekeeping"


async def test_the_relay_acts_on_events_the_api_could_not(client, sessionmaker, gateway, app_state, temporal_client):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    order = await order_for(client, owner, buyer)
    info = await checkout(client, buyer, order["id"])
    gateway.pay(info["gateway_order_id"])
    [captured] = gateway.deliveries_for(info["gateway_order_id"], "payment.captured")
    ingested = await ingest_webhook(sessionmaker, WebhookSecrets(app_state.settings, app_state.keys),
                                    body=captured.body, signature=captured.headers["X-Razorpay-Signature"],
                                    event_id=captured.event_id, tenant_id=None, ip=None)
    assert ingested.row_id is not None
    # The API's own attempt, with Temporal away: stored, not lost, to be retried.
    assert await process_event(sessionmaker, None, ingested.row_id) is None
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        event = (await session.execute(select(GatewayWebhookEvent))).scalar_one()
    assert event.processed_at is None and event.attempts == 1 and "Temporal" in (event.outcome or "")

    assert await process_pending_events(sessionmaker, temporal_client, older_than=timedelta(0)) == 1
    await order_status(client, owner.headers(), order["id"], "awaiting_fulfilment")
    assert await process_pending_events(sessionmaker, temporal_client, older_than=timedelta(0)) == 0
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        event = (await session.execute(select(GatewayWebhookEvent))).scalar_one()
    assert event.processed_at is not None and event.outcome.startswith("signalled order-")


async def test_events_of_orders_not_ours_are_stored_and_ignored(client, sessionmaker, gateway, app_state):
    other_shop = "order_" + uuid.uuid4().hex[:14]
    body = (b'{"entity":"event","event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_abc",'
            b'"order_id":"' + other_shop.encode() + b'","status":"captured","amount":100,"currency":"INR"}}}}')
    secret = app_state.settings.razorpay_webhook_secret.get_secret_value()
    answer = await client.post("/api/v1/webhooks/razorpay", content=body,
                               headers={"X-Razorpay-Signature": sign(secret, body), "X-Razorpay-Event-Id": "evt_x1"})
    assert answer.status_code == 200

    async def outcome():
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            return (await session.execute(select(GatewayWebhookEvent.outcome))).scalar_one()
    assert await eventually(outcome, "ignored: not an order of ours") == "ignored: not an order of ours"


async def test_events_that_ask_nothing_are_stored_settled_and_ours_are_left_to_act_on(
        client, sessionmaker, gateway, app_state):
    """api.services.payment_events.ingest_webhook: an event naming an order no tenant has and one we
    never act on are stored settled by the insert itself, as process_events would settle them,
    alone or grouped in one statement; a payment of an order of ours (a tenant's order, through the
    platform's account: the insert sees every tenant's orders) is stored unsettled and then acted
    on (here with Temporal away: kept for the relay)."""
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    info = await checkout(client, buyer, (await order_for(client, owner, buyer))["id"])
    gateway.pay(info["gateway_order_id"])
    [captured] = gateway.deliveries_for(info["gateway_order_id"], "payment.captured")
    secrets = WebhookSecrets(app_state.settings, app_state.keys)
    secret = app_state.settings.razorpay_webhook_secret.get_secret_value()
    inserter = EventInserter(sessionmaker)

    async def ingest(body: bytes, event_id: str, signature: str | None = None, grouped: bool = False) -> Ingested:
        ingested = await ingest_webhook(sessionmaker, secrets, body=body, signature=signature or sign(secret, body),
                                        event_id=event_id, tenant_id=None, ip=None,
                                        inserter=inserter if grouped else None)
        assert ingested.row_id is not None
        return ingested

    def foreign(n: int) -> bytes:
        return (b'{"entity":"event","event":"payment.captured","payload":{"payment":{"entity":{'
                b'"id":"pay_elsewhere","order_id":"order_elsewhere%02d","status":"captured"}}}}' % n)
    try:
        alone = [await ingest(captured.body, captured.event_id, captured.headers["X-Razorpay-Signature"]),
                 await ingest(foreign(1), "evt_f1"),
                 await ingest(b'{"entity":"event","event":"invoice.paid","payload":{}}', "evt_u1")]
        grouped = await asyncio.gather(*(ingest(body, event_id, grouped=True) for body, event_id in [
            (foreign(2), "evt_f2"), (b'{"entity":"event","event":"settlement.processed"}', "evt_u2"),
            (foreign(3), "evt_f3"), (b"not json", "evt_u3")]))
    finally:
        await inserter.close()
    ours = alone[0]
    assert [i.outcome for i in alone] == [None, "ignored: not an order of ours", "ignored: invoice.paid"]
    assert [i.outcome for i in grouped] == ["ignored: not an order of ours", "ignored: settlement.processed",
                                            "ignored: not an order of ours", "ignored: unreadable"]

    async def events() -> dict[uuid.UUID, tuple[bool, int, str | None]]:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            return {e.id: (e.processed_at is not None, e.attempts, e.outcome)
                    for e in (await session.execute(select(GatewayWebhookEvent))).scalars()}
    stored = await events()
    assert len(stored) == 7
    for ingested in [*alone[1:], *grouped]:
        assert ingested.row_id is not None and stored[ingested.row_id] == (True, 1, ingested.outcome)
    assert ours.row_id is not None and stored[ours.row_id] == (False, 0, None)
    assert await process_event(sessionmaker, None, ours.row_id) is None
    processed, attempts, outcome = (await events())[ours.row_id]
    assert not processed and attempts == 1 and "Temporal" in (outcome or "")
