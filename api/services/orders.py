"""Creating orders (price, coupon, wallet) and reading them back; used by the API and by other
capabilities that sell something (a paid booking creates its order through `create_order`).

Everything happens in the caller's unit of work: the coupon row and the wallet are locked until
it commits, so concurrent orders cannot use a coupon past its limit or a wallet below zero.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import COUPON_NOT_APPLICABLE, INSUFFICIENT_WALLET, NOT_FOUND, VALIDATION, Problem
from api.schemas.payments import OrderOut, order_out
from api.state import AppState
from api.workflow_starts import start_after_commit
from domain.ids import uuid_or_none
from domain.payments.gstin import STATE_CODES
from domain.payments.orders import FulfilmentLine, OrderInput, order_workflow_id
from domain.payments.pricing import (
    CouponKind,
    CouponRefused,
    CouponRules,
    GstMode,
    LineIn,
    LineKind,
    PriceRefused,
    check_coupon,
    price_order,
)
from models.bookings import Booking
from models.courses import Cohort, Course
from models.identity import Role, User
from models.payments import (
    Coupon,
    CouponRedemption,
    InsufficientFunds,
    Invoice,
    Order,
    OrderLine,
    Refund,
    client_coupon_uses,
    lock_coupon,
    lock_wallet,
    move_wallet,
    payment_settings,
    wallet_balance,
)
from models.remedies import Remedy
from models.tenancy import Tenant
from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID


@dataclass
class NewOrder:
    client_id: uuid.UUID
    lines: list[LineIn]
    currency: str | None = None
    coupon_code: str | None = None
    use_wallet: bool = False
    wallet_amount: int | None = None
    note: str | None = None
    created_by: uuid.UUID | None = None
    # Pay by then rather than within the tenant's payment window (a booking's hold: an order
    # must not outlive what it pays for, or the client could pay for a slot already released).
    pay_by: datetime | None = None
    place_of_supply: str | None = None  # the buyer's state code; None: the consultancy's own state
    # A line's ref_id must name this consultancy's own booking (of this client) or consultant: a
    # paid order acts on it. Only tests of the Order workflow alone, with made-up refs, turn it off.
    check_references: bool = True
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def coupon_rules(coupon: Coupon) -> CouponRules:
    return CouponRules(
        code=coupon.code, kind=CouponKind(coupon.kind), currency=coupon.currency, percent_bp=coupon.percent_bp,
        amount_off=coupon.amount_off, max_discount=coupon.max_discount, min_order_amount=coupon.min_order_amount,
        valid_from=coupon.valid_from, valid_until=coupon.valid_until, max_uses=coupon.max_uses,
        max_uses_per_client=coupon.max_uses_per_client, offering_kinds=tuple(coupon.offering_kinds or ()),
        offering_ids=tuple(coupon.offering_ids or ()), active=coupon.active,
    )


async def check_line_references(session: AsyncSession, tenant: Tenant, client_id: uuid.UUID,
                                lines: list[LineIn]) -> None:
    """What a line sold by staff fulfils must be the consultancy's own: a consultation names a
    booking of the order's client, a report the consultant (a user id) who writes it, an
    enrolment a course (or one of its cohorts).

    A paid order acts on what its lines name (a consultation line signals `consultation-<ref_id>`
    that it is paid; a report line starts a delivery for that consultant), so a line naming
    another consultancy's booking would confirm that booking with this one's payment.
    """
    for position, line in enumerate(lines):
        field_name = f"lines.{position}.ref_id"
        ref = uuid_or_none(line.ref_id)
        if line.kind == LineKind.CONSULTATION:
            booking = await session.get(Booking, ref) if ref else None
            if booking is None or booking.tenant_id != tenant.id or booking.client_id != client_id:
                raise Problem(NOT_FOUND, "this consultancy has no booking with this id for this client",
                              field=field_name)
        elif line.kind == LineKind.ENROLLMENT:
            course = await session.get(Course, ref) if ref else None
            cohort = await session.get(Cohort, ref) if ref and course is None else None
            if cohort is not None:
                course = await session.get(Course, cohort.course_id)
            if course is None or course.tenant_id != tenant.id:
                raise Problem(NOT_FOUND, "this consultancy has no course or cohort with this id", field=field_name)
        elif line.kind == LineKind.REPORT:
            writer = await session.get(User, ref) if ref else None
            if (writer is None or writer.tenant_id != tenant.id or not writer.is_active
                    or writer.role not in (Role.OWNER, Role.CONSULTANT)):
                raise Problem(NOT_FOUND, "this consultancy has no consultant with this user id", field=field_name)
        elif line.kind == LineKind.REMEDY:
            remedy = await session.get(Remedy, ref) if ref else None
            if remedy is None or remedy.tenant_id != tenant.id or not remedy.active:
                raise Problem(NOT_FOUND, "this consultancy has no remedy with this id", field=field_name)


async def create_order(session: AsyncSession, tenant: Tenant, new: NewOrder) -> tuple[Order, OrderInput]:
    """Price and store an order (flushes; the caller commits and starts its workflow)."""
    client = await session.get(User, new.client_id)
    if client is None or client.tenant_id != tenant.id or client.role != Role.CLIENT:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    if new.check_references:
        await check_line_references(session, tenant, client.id, new.lines)
    if new.place_of_supply is not None and new.place_of_supply not in STATE_CODES:
        raise Problem(VALIDATION, f"{new.place_of_supply!r} is not an Indian state code (two digits, as a GSTIN "
                      "starts: 27 Maharashtra, 29 Karnataka)", field="place_of_supply")
    setup = await payment_settings(session, tenant.id)
    currency = new.currency or (setup.currency if setup else "INR")
    gst_mode = GstMode(setup.gst_mode) if setup else GstMode.NONE
    gst_rate = setup.gst_rate_bp if setup and gst_mode != GstMode.NONE else 0

    coupon: Coupon | None = None
    eligible = None
    if new.coupon_code:
        coupon = await lock_coupon(session, tenant.id, new.coupon_code)
        if coupon is None:
            raise Problem(COUPON_NOT_APPLICABLE, f"there is no coupon {new.coupon_code.upper()}", field="coupon_code")
        try:
            eligible = check_coupon(coupon_rules(coupon), new.lines, currency, new.now, uses=coupon.uses,
                                    client_uses=await client_coupon_uses(session, coupon.id, client.id))
        except CouponRefused as exc:
            raise Problem(COUPON_NOT_APPLICABLE, exc.message, field=exc.field) from exc

    available = 0
    if new.use_wallet or new.wallet_amount:
        await lock_wallet(session, tenant.id, client.id, currency)
        available = await wallet_balance(session, tenant.id, client.id, currency)
    try:
        price = price_order(new.lines, currency=currency, gst_mode=gst_mode, gst_rate_bp=gst_rate,
                            coupon=coupon_rules(coupon) if coupon else None, eligible=eligible,
                            wallet_available=available, wallet_requested=new.wallet_amount)
    except PriceRefused as exc:
        raise Problem(VALIDATION, exc.message, field=exc.field) from exc
    if new.wallet_amount and price.wallet_applied < min(new.wallet_amount, price.total) and not price.notes:
        raise Problem(INSUFFICIENT_WALLET, f"the wallet holds {available}, not {new.wallet_amount}",
                      field="wallet_amount")

    window = timedelta(minutes=setup.payment_window_minutes if setup else 30)
    if new.pay_by is not None:
        window = max(timedelta(seconds=1), min(window, new.pay_by - new.now))
    order = Order(
        id=uuid.uuid4(), tenant_id=tenant.id, client_id=client.id, status="pending_payment", currency=currency,
        subtotal=price.subtotal, discount=price.discount, taxable=price.taxable, tax=price.tax, total=price.total,
        wallet_applied=price.wallet_applied, amount_due=price.amount_due, amount_paid=0, amount_refunded=0,
        gst_mode=gst_mode.value, gst_rate_bp=gst_rate,
        gstin=setup.gstin if setup and gst_mode != GstMode.NONE else None,
        coupon_id=coupon.id if coupon else None, coupon_code=coupon.code if coupon else None,
        place_of_supply=new.place_of_supply, expires_at=new.now + window, created_by=new.created_by, note=new.note,
        wallet_released=False,
    )
    session.add(order)
    await session.flush()
    lines = []
    for position, priced in enumerate(price.lines):
        line = OrderLine(
            id=uuid.uuid4(), tenant_id=tenant.id, order_id=order.id, position=position, kind=priced.line.kind.value,
            description=priced.line.description, offering_id=priced.line.offering_id, ref_id=priced.line.ref_id,
            quantity=priced.line.quantity, unit_amount=priced.line.unit_amount, gross=priced.gross,
            discount=priced.discount, taxable=priced.taxable, tax=priced.tax, total=priced.total, status="pending")
        session.add(line)
        lines.append(line)
    if coupon is not None:
        coupon.uses += 1
        session.add(CouponRedemption(tenant_id=tenant.id, coupon_id=coupon.id, order_id=order.id, client_id=client.id))
    if price.wallet_applied:
        try:
            await move_wallet(session, tenant_id=tenant.id, client_id=client.id, currency=currency,
                              amount=-price.wallet_applied, kind="order_payment", dedupe_key=f"order:{order.id}:debit",
                              order_id=order.id, note="paid towards the order", created_by=new.created_by)
        except InsufficientFunds as exc:
            raise Problem(INSUFFICIENT_WALLET, str(exc), field="wallet_amount") from exc
    await session.flush()
    workflow_input = OrderInput(
        order_id=order.id, tenant_id=tenant.id, client_id=client.id, currency=currency, total=price.total,
        amount_due=price.amount_due, wallet_applied=price.wallet_applied, expires_at=order.expires_at,
        payment_window_seconds=int(window.total_seconds()),
        lines=[FulfilmentLine(line_id=line.id, kind=line.kind, ref_id=line.ref_id, description=line.description,
                              total=line.total) for line in lines],
    )
    return order, workflow_input


async def start_order_workflow(request: Request, session: AsyncSession, state: AppState, order: Order,
                               workflow_input: OrderInput) -> None:
    await start_after_commit(
        request, session, state, workflow_type="Order", workflow_id=order_workflow_id(order.id),
        payload=workflow_input, tenant_id=order.tenant_id,
        search_attributes={TENANT_ID.name: str(order.tenant_id), CLIENT_ID.name: str(order.client_id),
                           ENTITY_STATUS.name: "pending_payment"},
        memo={"summary": f"Order {str(order.id)[:8]} of {order.total} {order.currency}"},
    )


async def order_view(session: AsyncSession, order: Order) -> OrderOut:
    lines = list((await session.execute(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position))).scalars())
    refunds = list((await session.execute(
        select(Refund).where(Refund.order_id == order.id).order_by(Refund.created_at))).scalars())
    invoice = await session.scalar(select(Invoice.invoice_number).where(Invoice.order_id == order.id))
    return order_out(order, lines, refunds, invoice, order_workflow_id(order.id))


def orders_of(tenant_id: uuid.UUID, client_id: uuid.UUID | None = None) -> Any:
    """The one readable statement for a tenant's orders (a client's own, when client_id is given)."""
    stmt = select(Order).where(Order.tenant_id == tenant_id)
    return stmt.where(Order.client_id == client_id) if client_id else stmt
