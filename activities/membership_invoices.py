"""A membership's charged period as a paid order with its GST invoice.

Each `subscription.charged` a membership records (activities/memberships.py, `grant_period`) also
becomes, in the same transaction, an order of one line (kind `membership`, the period), its
captured payment (Razorpay's payment id, unique: a replayed charge finds it) and the invoice,
made by the same code as an order's (`issue_order_invoice`: the tenant's series, the seller's
GSTIN, CGST + SGST). The order never had an Order workflow: it is born `fulfilled` (the period's
benefits are granted by the membership), so it is in the client's and the business's orders,
their exports and erasures, and the revenue figures like any other paid order.

Charges recorded before invoicing existed have none: `invoice_missing_charges` (the one-off
`muhurta invoice-membership-charges`) issues them, each in its own transaction with its charge row
locked, so running it again, or twice at once, issues nothing more.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.payments.invoice import issue_order_invoice
from core.db import TenantScope, scoped_session
from domain.memberships import (
    MEMBERSHIP_LINE_KIND,
    MembershipRef,
    PeriodGrant,
    PlanTerms,
    SubscriptionEventKind,
    SubscriptionReport,
    charge_amounts,
)
from domain.payments.orders import LineStatus, OrderStatus, PaymentResult, PaymentSource
from domain.payments.pricing import GstMode
from models.memberships import Membership, MembershipCharge
from models.payments import Order, OrderLine, Payment, payment_settings


async def invoice_charge(session: AsyncSession, grant: PeriodGrant, charged_at: datetime) -> str:
    """The paid order and invoice of one charged period; the invoice's number."""
    ref, terms, charge = grant.ref, grant.terms, grant.charge
    assert charge.payment_id is not None
    setup = await payment_settings(session, ref.tenant_id)
    mode = GstMode(setup.gst_mode) if setup else GstMode.NONE
    rate = setup.gst_rate_bp if setup else 0
    amount = charge.amount if charge.amount is not None else terms.price_minor
    split = charge_amounts(amount, terms.price_minor, mode, rate)
    membership = await session.get(Membership, ref.membership_id)
    order = Order(
        id=uuid.uuid4(), tenant_id=ref.tenant_id, client_id=grant.client_id, status=OrderStatus.FULFILLED.value,
        currency=(charge.currency or terms.currency).upper(), subtotal=split.unit, discount=0,
        taxable=split.taxable, tax=split.tax, total=split.total, wallet_applied=0, amount_due=split.total,
        amount_paid=amount, amount_refunded=0, gst_mode=mode.value, gst_rate_bp=rate,
        gstin=setup.gstin if setup and mode != GstMode.NONE else None, place_of_supply=None,
        expires_at=charged_at, paid_payment_id=charge.payment_id, paid_at=charged_at, wallet_released=False,
        note=f"membership {ref.membership_id}, period paid by {charge.payment_id}"[:500],
        gateway_key_id=membership.gateway_key_id if membership else None)  # a refund goes to that account
    session.add(order)
    await session.flush()
    session.add(OrderLine(
        id=uuid.uuid4(), tenant_id=ref.tenant_id, order_id=order.id, position=0, kind=MEMBERSHIP_LINE_KIND,
        description=f"{terms.title}: {grant.period_start:%d %b %Y} to {grant.period_end:%d %b %Y}"[:300],
        ref_id=str(ref.membership_id), quantity=1, unit_amount=split.unit, gross=split.unit, discount=0,
        taxable=split.taxable, tax=split.tax, total=split.total, status=LineStatus.FULFILLED.value))
    session.add(Payment(
        tenant_id=ref.tenant_id, order_id=order.id, gateway_payment_id=charge.payment_id,
        gateway_order_id=charge.subscription_id, status="captured", result=PaymentResult.PAID.value,
        amount=amount, currency=charge.currency or terms.currency, source=PaymentSource.WEBHOOK.value))
    await session.flush()
    return await issue_order_invoice(session, order)


def _not_invoiced() -> ColumnElement[bool]:
    return ~exists().where(Payment.gateway_payment_id == MembershipCharge.payment_id)


async def invoice_missing_charges(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    """Issue the order, payment and invoice of every membership charge that has none (charges
    recorded before invoicing existed), oldest first; the invoice numbers issued. Idempotent.

    Each is invoiced today (the invoice's date and number), for the period and at the time it was
    charged (the order's `paid_at`), with the consultancy's GST settings of today, exactly as a
    charge is invoiced when it arrives."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        missing = (await session.execute(select(MembershipCharge.id, MembershipCharge.tenant_id).where(
            _not_invoiced()).order_by(MembershipCharge.charged_at, MembershipCharge.id))).all()
    numbers: list[str] = []
    for charge_id, tenant_id in missing:
        async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
            charge = (await session.execute(select(MembershipCharge).where(
                MembershipCharge.id == charge_id, _not_invoiced()).with_for_update())).scalar_one_or_none()
            if charge is None:
                continue  # invoiced meanwhile (another run)
            membership = await session.get(Membership, charge.membership_id)
            if membership is None:
                continue
            grant = PeriodGrant(
                ref=MembershipRef(membership_id=membership.id, tenant_id=membership.tenant_id,
                                  workflow_id=membership.workflow_id),
                client_id=membership.client_id, terms=PlanTerms.model_validate(membership.terms),
                charge=SubscriptionReport(kind=SubscriptionEventKind.CHARGED,
                                          subscription_id=membership.gateway_subscription_id or "",
                                          payment_id=charge.payment_id, amount=charge.amount,
                                          currency=charge.currency),
                period_start=charge.period_start, period_end=charge.period_end)
            numbers.append(await invoice_charge(session, grant, charge.charged_at))
    return numbers
