"""The Razorpay order behind a checkout: made once, with no database transaction held across the call.

Checkout used to lock the order row (`SELECT … FOR UPDATE`) and keep it locked, with its pooled
connection, for as long as Razorpay took to answer (up to 25 s per call). Now:

1. **Claim** (a short transaction): the order row is locked only to read it and write who is
   asking Razorpay (`gateway_claim`: the workflow run and activity id) and when. Another checkout
   of the same order that finds a live claim waits, polling in short transactions, for its answer.
2. **Ask Razorpay**, no transaction open: `ensure_order` first looks the order up by its receipt
   (our order id), so an attempt that crashed after Razorpay made the order finds it, not a second.
3. **Record** (a second short transaction): the gateway order id and the account it lives in,
   written only if none is recorded yet; the claim is cleared. A failure clears the claim and
   leaves the row exactly as it was, so a later checkout starts clean.

A claim is taken over when it is older than `CLAIM_LEASE` (its holder died) or by a retry of the
same activity (Temporal retries an attempt only once the earlier one is over). The claimant's
Razorpay work is bounded by `GATEWAY_WORK`, well inside the lease.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payments.razorpay_gateway import GatewayKeysRefused, GatewayRefused, GatewayUnavailable
from core.db import TenantScope, scoped_session
from core.razorpay import GatewayCredentials, PaymentsNotConfigured
from domain.payments.orders import CheckoutInfo, OrderRef, OrderStatus
from models.payments import Order, credentials_for
from models.tenancy import Tenant

if TYPE_CHECKING:
    from activities.payments.orders import PaymentActivities

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(seconds=60)  # a claim older than this belongs to an attempt that died
GATEWAY_WORK = 25.0  # seconds: the claimant's whole conversation with Razorpay (lookup + create)
WAIT_FOR_OTHER = 20.0  # seconds another checkout of the same order waits for the claimant's answer
GATEWAY_KEYS_REFUSED = "GatewayKeysRefused"  # ApplicationError.type: the consultancy's keys were refused


def _refused(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def claim_token() -> str:
    """Who is asking: the same for every retry of one activity, different for each checkout."""
    try:
        info = activity.info()
    except RuntimeError:  # called outside an activity (scripts): a one-off claim
        return f"adhoc/{uuid.uuid4()}"
    return f"{info.workflow_run_id}/{info.activity_id}"


@dataclass(frozen=True)
class _Claimed:
    credentials: GatewayCredentials
    amount: int
    currency: str


def _payable(order: Order) -> None:
    if order.status != OrderStatus.PENDING_PAYMENT or order.amount_due == 0:
        raise _refused(f"order {order.id} is {order.status}: there is nothing to pay", "NothingToPay")


async def _info(session: AsyncSession, order: Order, key_id: str) -> CheckoutInfo:
    assert order.gateway_order_id is not None
    tenant = await session.get(Tenant, order.tenant_id)
    return CheckoutInfo(
        order_id=order.id, key_id=key_id, gateway_order_id=order.gateway_order_id, amount=order.amount_due,
        currency=order.currency, expires_at=order.expires_at, name=tenant.name if tenant else "",
        description=f"Order {str(order.id)[:8]}",
    )


async def _locked(session: AsyncSession, order_id: uuid.UUID) -> Order:
    order = (await session.execute(select(Order).where(Order.id == order_id).with_for_update())).scalar_one_or_none()
    if order is None:
        raise _refused(f"order {order_id} does not exist", "OrderNotFound")
    return order


async def _credentials(session: AsyncSession, order: Order, acts: PaymentActivities,
                       key_id: str | None = None) -> GatewayCredentials:
    try:
        return await credentials_for(session, order.tenant_id, acts.settings, acts.keys, key_id=key_id)
    except PaymentsNotConfigured as exc:
        raise _refused(str(exc), "PaymentsNotConfigured") from exc


async def _claim(acts: PaymentActivities, ref: OrderRef, token: str) -> _Claimed | CheckoutInfo | None:
    """One short transaction: the recorded answer, our claim, or None while another attempt holds it."""
    async with scoped_session(acts.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
        order = await _locked(session, ref.order_id)
        _payable(order)
        if order.gateway_order_id is not None:
            recorded = await _credentials(session, order, acts, order.gateway_key_id)
            return await _info(session, order, recorded.key_id)
        now = datetime.now(UTC)
        if not (order.gateway_claim is None or order.gateway_claim == token
                or order.gateway_claimed_at is None or order.gateway_claimed_at < now - CLAIM_LEASE):
            return None
        credentials = await _credentials(session, order, acts)
        if order.gateway_claim not in (None, token):
            log.warning("order %s: taking over the gateway-order claim of %s (claimed %s)",
                        order.id, order.gateway_claim, order.gateway_claimed_at)
        order.gateway_claim, order.gateway_claimed_at = token, now
        return _Claimed(credentials, order.amount_due, order.currency)


async def ensure_gateway_order(acts: PaymentActivities, ref: OrderRef) -> CheckoutInfo:
    token = claim_token()
    waited, pause = 0.0, 0.05
    while (claimed := await _claim(acts, ref, token)) is None:
        if waited >= WAIT_FOR_OTHER:  # retryable: the workflow's retry (or the person) tries again
            raise ApplicationError(f"another checkout of order {ref.order_id} is still waiting on Razorpay",
                                   type="GatewayOrderPending")
        await asyncio.sleep(pause)  # no transaction open while we wait
        waited, pause = waited + pause, min(pause * 2, 1.0)
    if isinstance(claimed, CheckoutInfo):
        return claimed

    gateway = acts.gateway_factory(claimed.credentials)
    try:
        # A refusal of the consultancy's keys is recorded on its settings and its owner told (once).
        async with acts.keys_watch.watching(ref.tenant_id, claimed.credentials), asyncio.timeout(GATEWAY_WORK):
            created = await gateway.ensure_order(
                amount=claimed.amount, currency=claimed.currency, receipt=str(ref.order_id),
                notes={"order_id": str(ref.order_id), "tenant_id": str(ref.tenant_id), "workflow_id": ref.workflow_id},
            )
        if created.get("amount") != claimed.amount or created.get("currency") != claimed.currency:
            raise _refused(f"Razorpay order {created.get('id')} for receipt {ref.order_id} has another amount",
                           "GatewayMismatch")
    except BaseException as exc:
        if not isinstance(exc, asyncio.CancelledError):  # cancelled: the lease or our retry takes over
            await _release(acts, ref, token)
        if isinstance(exc, GatewayKeysRefused):
            raise _refused(f"Razorpay refused this consultancy's keys: {exc}", GATEWAY_KEYS_REFUSED) from exc
        if isinstance(exc, GatewayRefused):
            raise _refused(f"Razorpay refused the order: {exc}", "GatewayRefused") from exc
        if isinstance(exc, TimeoutError):
            raise GatewayUnavailable(f"Razorpay did not answer within {GATEWAY_WORK:.0f} s") from exc
        raise

    async with scoped_session(acts.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
        order = await _locked(session, ref.order_id)
        if order.gateway_order_id is None:
            order.gateway_order_id, order.gateway_key_id = str(created["id"]), claimed.credentials.key_id
        elif order.gateway_order_id != str(created["id"]):  # a takeover recorded first: theirs stands
            log.warning("order %s: gateway order %s recorded before ours (%s)", order.id, order.gateway_order_id,
                        created["id"])
        if order.gateway_claim == token:
            order.gateway_claim = order.gateway_claimed_at = None
        return await _info(session, order, order.gateway_key_id or claimed.credentials.key_id)


async def _release(acts: PaymentActivities, ref: OrderRef, token: str) -> None:
    """Give the claim back after a failed call: the row is as it was before the checkout."""
    try:
        async with scoped_session(acts.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            order = await _locked(session, ref.order_id)
            if order.gateway_claim == token:
                order.gateway_claim = order.gateway_claimed_at = None
    except Exception:  # the lease frees it anyway; the original error is the one to report
        log.exception("could not release the gateway-order claim of order %s", ref.order_id)
