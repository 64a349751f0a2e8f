"""Payments: settings, coupons, orders (checkout, verification, refunds, invoice) and wallets.
Razorpay's webhooks are in `razorpay_webhooks`.

Orders are created by staff (or by another capability through `api.services.orders`); the
client pays them: `POST /orders/{id}/checkout` gives what Razorpay Checkout needs, and
`POST /orders/{id}/payment` hands back what Checkout returned. The Order workflow decides.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.patching import apply_changes
from api.permissions import Permission
from api.problems import (
    ALREADY_EXISTS,
    INSUFFICIENT_WALLET,
    NOT_FOUND,
    ORDER_NOT_PAYABLE,
    VALIDATION,
    Problem,
)
from api.schemas.payments import (
    CheckoutOut,
    CouponCreate,
    CouponOut,
    CouponUpdate,
    GatewayStatusOut,
    LineDelivered,
    OrderCancel,
    OrderCreate,
    OrderOut,
    PaymentAccepted,
    PaymentSettingsIn,
    PaymentSettingsOut,
    PaymentVerification,
    RefundCreate,
    RefundOut,
    WalletCredit,
    WalletEntryOut,
    WalletOut,
)
from api.services.checkout import accept_checkout_payment, begin_checkout
from api.services.order_refunds import is_membership_charge, refund_membership_charge, release_held_refunds
from api.services.orders import NewOrder, create_order, order_view, orders_of, start_order_workflow
from core.razorpay import PaymentsNotConfigured, platform_credentials
from domain.payments.orders import (
    LineCompletion,
    OrderState,
    OrderStatus,
    RefundRequest,
    RefundView,
    order_workflow_id,
)
from domain.payments.pricing import LineIn
from models.identity import Role, User
from models.payments import (
    Coupon,
    InsufficientFunds,
    Invoice,
    Order,
    PaymentSettings,
    Refund,
    WalletAccount,
    WalletEntry,
    move_wallet,
    payment_settings,
    wallet_balance,
)
from models.platform import record_audit
from models.tenancy import Tenant

router = APIRouter(tags=["payments"])



# -- settings -----------------------------------------------------------------------------------
KEYS_REFUSED_ACTION = ("Razorpay refuses the saved keys, so clients cannot pay (nothing is charged). Update the "
                       "Razorpay key id, key secret and webhook secret here (PUT /payments/settings), or remove "
                       "them (clear_razorpay_keys) to take payments through the platform's account.")


def _gateway_status(row: PaymentSettings | None, own: bool) -> GatewayStatusOut:
    if not (own and row and row.gateway_refused_at and row.gateway_refused_key_id == row.razorpay_key_id):
        return GatewayStatusOut(state="ok")
    return GatewayStatusOut(state="keys_refused", key_id=row.gateway_refused_key_id,
                            reason=row.gateway_refused_reason, since=row.gateway_refused_at,
                            action=KEYS_REFUSED_ACTION)


def _settings_out(row: PaymentSettings | None, state: State, tenant: Tenant) -> PaymentSettingsOut:
    own = bool(row and row.razorpay_key_id and row.razorpay_key_secret_encrypted)
    try:
        platform_key = platform_credentials(state.settings).key_id
    except PaymentsNotConfigured:
        platform_key = None
    base = f"{state.settings.public_base_url}/api/v1/webhooks/razorpay"
    return PaymentSettingsOut(
        currency=row.currency if row else "INR", gst_mode=row.gst_mode if row else "none",  # type: ignore[arg-type]
        gst_rate_bp=row.gst_rate_bp if row else 1800, gstin=row.gstin if row else None,
        legal_name=row.legal_name if row else None, address=row.address if row else None,
        invoice_prefix=row.invoice_prefix if row else "INV",
        payment_window_minutes=row.payment_window_minutes if row else 30,
        razorpay_key_id=row.razorpay_key_id if own and row else platform_key, own_razorpay_account=own,
        webhook_url=f"{base}/{tenant.id}" if own else base, gateway_status=_gateway_status(row, own),
    )


@router.get("/payments/settings", response_model=PaymentSettingsOut)
async def read_payment_settings(
    tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_PAYMENT_SETTINGS),
) -> PaymentSettingsOut:
    return _settings_out(await payment_settings(session, tenant.id), state, tenant)


@router.put("/payments/settings", response_model=PaymentSettingsOut)
async def write_payment_settings(
    request: Request, body: PaymentSettingsIn, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_PAYMENT_SETTINGS),
) -> PaymentSettingsOut:
    """GST, invoice series, payment window and (optionally) the consultancy's own Razorpay keys,
    which are stored encrypted and never shown again. New keys (or none) send the refunds held
    while Razorpay refused the old ones: their orders' workflows try them at once."""
    row = await payment_settings(session, tenant.id)
    if row is None:
        row = PaymentSettings(tenant_id=tenant.id)
        session.add(row)
    for name in ("currency", "gst_rate_bp", "gstin", "legal_name", "address", "invoice_prefix",
                 "payment_window_minutes"):
        setattr(row, name, getattr(body, name))
    row.gst_mode = body.gst_mode.value
    new_keys = bool(body.razorpay_key_id and body.razorpay_key_secret and body.razorpay_webhook_secret)
    if body.clear_razorpay_keys:
        row.razorpay_key_id = row.razorpay_key_secret_encrypted = row.razorpay_webhook_secret_encrypted = None
    elif new_keys:
        row.razorpay_key_id = body.razorpay_key_id
        row.razorpay_key_secret_encrypted = state.keys.encrypt(body.razorpay_key_secret or "")
        row.razorpay_webhook_secret_encrypted = state.keys.encrypt(body.razorpay_webhook_secret or "")
    if body.clear_razorpay_keys or new_keys:  # the owner acted on the keys: a refusal of the old ones is over
        row.gateway_refused_at = row.gateway_refused_key_id = row.gateway_refused_reason = None
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="payments.settings_changed",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="tenant",
                       target_id=tenant.id, details={
                           "gst_mode": body.gst_mode.value, "own_keys": bool(body.razorpay_key_id),
                           "cleared_keys": body.clear_razorpay_keys})
    if body.clear_razorpay_keys or new_keys:
        await release_held_refunds(request, session, state, tenant.id)
    return _settings_out(row, state, tenant)


# -- coupons ------------------------------------------------------------------------------------
async def _coupon(session: Session, tenant: Tenant, coupon_id: uuid.UUID) -> Coupon:
    coupon = await session.get(Coupon, coupon_id)
    if coupon is None or coupon.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no coupon with this id", field="coupon_id")
    return coupon


@router.post("/coupons", status_code=status.HTTP_201_CREATED, response_model=CouponOut)
async def create_coupon(
    body: CouponCreate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_COUPONS),
) -> CouponOut:
    taken = await session.scalar(select(Coupon.id).where(Coupon.tenant_id == tenant.id, Coupon.code == body.code))
    if taken:
        raise Problem(ALREADY_EXISTS, f"coupon {body.code} exists already", field="code")
    coupon = Coupon(tenant_id=tenant.id, **body.model_dump(exclude={"offering_kinds"}),
                    offering_kinds=[k.value for k in body.offering_kinds], uses=0, active=True)
    coupon.kind = body.kind.value
    try:
        async with session.begin_nested():
            session.add(coupon)
            await session.flush()
    except IntegrityError as exc:
        raise Problem(ALREADY_EXISTS, f"coupon {body.code} exists already", field="code") from exc
    await record_audit(session, tenant_id=tenant.id, action="coupon.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="coupon", target_id=coupon.id,
                       details={"code": coupon.code})
    return CouponOut.model_validate(coupon)


@router.get("/coupons", response_model=Page[CouponOut])
async def list_coupons(
    tenant: CurrentTenant, session: Session, paging: Paging,
    active: Annotated[bool | None, Query()] = None,
    principal: Principal = require(Permission.MANAGE_COUPONS),
) -> Page[CouponOut]:
    stmt = select(Coupon).where(Coupon.tenant_id == tenant.id)
    if active is not None:
        stmt = stmt.where(Coupon.active.is_(active))
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Coupon.created_at,
                                                                    "code": Coupon.code},
                                  default_sort="-created_at", id_column=Coupon.id)
    return Page[CouponOut](items=[CouponOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/coupons/{coupon_id}", response_model=CouponOut)
async def read_coupon(
    coupon_id: uuid.UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_COUPONS),
) -> CouponOut:
    return CouponOut.model_validate(await _coupon(session, tenant, coupon_id))


@router.patch("/coupons/{coupon_id}", response_model=CouponOut)
async def update_coupon(
    coupon_id: uuid.UUID, body: CouponUpdate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_COUPONS),
) -> CouponOut:
    coupon = await _coupon(session, tenant, coupon_id)
    changes = body.model_dump(exclude_unset=True)
    if "max_uses" in changes and changes["max_uses"] is not None and changes["max_uses"] < coupon.uses:
        raise Problem(VALIDATION, f"it has been used {coupon.uses} times already", field="max_uses")
    apply_changes(coupon, changes)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="coupon.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="coupon", target_id=coupon.id,
                       details={"fields": sorted(changes)})
    return CouponOut.model_validate(coupon)


# -- orders -------------------------------------------------------------------------------------
async def _order(session: Session, tenant: Tenant, principal: Principal, order_id: uuid.UUID) -> Order:
    """The order, if the caller may see it: staff any of the tenant's, a client only their own."""
    own = principal.user_id if principal.role == Role.CLIENT else None
    order: Order | None = (await session.execute(
        orders_of(tenant.id, own).where(Order.id == order_id))).scalar_one_or_none()
    if order is None:
        raise Problem(NOT_FOUND, "this consultancy has no order with this id for you", field="order_id")
    return order


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=OrderOut)
async def create_order_route(
    body: OrderCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_ORDERS),
) -> OrderOut:
    """An order for a client: priced here (coupon, GST, wallet), then paid through checkout. A
    consultation line names a booking of that client (ref_id); a report line its consultant's user id."""
    order, workflow_input = await create_order(session, tenant, NewOrder(
        client_id=body.client_id, currency=body.currency, coupon_code=body.coupon_code, use_wallet=body.use_wallet,
        wallet_amount=body.wallet_amount, note=body.note, created_by=principal.user_id,
        place_of_supply=body.place_of_supply,
        lines=[LineIn(kind=line.kind, description=line.description, unit_amount=line.unit_amount,
                      quantity=line.quantity, offering_id=line.offering_id, ref_id=line.ref_id)
               for line in body.lines],
    ))
    await record_audit(session, tenant_id=tenant.id, action="order.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="order", target_id=order.id,
                       details={"total": order.total, "currency": order.currency, "coupon": order.coupon_code})
    await start_order_workflow(request, session, state, order, workflow_input)
    return await order_view(session, order)


@router.get("/orders", response_model=Page[OrderOut])
async def list_orders(
    tenant: CurrentTenant, session: Session, paging: Paging,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    client_id: Annotated[uuid.UUID | None, Query(description="staff: one client's orders")] = None,
    principal: Principal = require(Permission.VIEW_ORDERS),
) -> Page[OrderOut]:
    """Staff see the consultancy's orders (`status=needs_review` lists what waits for them);
    a client sees their own."""
    stmt = orders_of(tenant.id, principal.user_id if principal.role == Role.CLIENT else client_id)
    if order_status:
        stmt = stmt.where(Order.status == order_status.value)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Order.created_at},
                                  default_sort="-created_at", id_column=Order.id)
    return Page[OrderOut](items=[await order_view(session, r) for r in rows], next_cursor=cursor)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def read_order(
    order_id: uuid.UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.VIEW_ORDERS),
) -> OrderOut:
    return await order_view(session, await _order(session, tenant, principal, order_id))


@router.post("/orders/{order_id}/checkout", response_model=CheckoutOut)
async def checkout(
    order_id: uuid.UUID, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.PAY_ORDERS),
) -> CheckoutOut:
    """What Razorpay Checkout needs (key id, Razorpay order id, amount); the Razorpay order is
    created once, however often this is called."""
    return await begin_checkout(session, client, await _order(session, tenant, principal, order_id))


@router.post("/orders/{order_id}/payment", status_code=status.HTTP_202_ACCEPTED, response_model=PaymentAccepted)
async def verify_payment(
    order_id: uuid.UUID, body: PaymentVerification, request: Request, tenant: CurrentTenant, session: Session,
    state: State, principal: Principal = require(Permission.PAY_ORDERS),
) -> PaymentAccepted:
    """Checkout's answer, verified: HMAC-SHA256 of `<our stored Razorpay order id>|<payment id>`
    with the key secret, compared in constant time. The order workflow then confirms the
    payment with Razorpay itself (amount and currency) before anything is fulfilled."""
    order = await _order(session, tenant, principal, order_id)
    return await accept_checkout_payment(request, session, state, order, body, actor_user_id=principal.user_id,
                                         actor_role=principal.role.value)


@router.post("/orders/{order_id}/refunds", status_code=status.HTTP_201_CREATED, response_model=RefundOut)
async def refund_order(
    order_id: uuid.UUID, body: RefundCreate, request: Request, tenant: CurrentTenant, session: Session,
    client: Temporal, state: State, idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    principal: Principal = require(Permission.REFUND_ORDERS),
) -> RefundOut:
    """A full or partial refund by staff, with a reason; validated by the order's workflow. With
    an Idempotency-Key a retry is the same refund (Razorpay's own idempotency key is used too).
    A membership's charged period has no workflow until its first refund starts one
    (api/services/order_refunds.py). When Razorpay refuses the consultancy's keys the refund is
    answered at once as `held` (`held_reason`, `held_until`, `held_action`): it is recorded and
    kept, and the order's workflow sends it once the keys work (docs/payments.md)."""
    order = await _order(session, tenant, principal, order_id)
    key = f"staff:{uuid.uuid5(uuid.NAMESPACE_URL, f'{principal.user_id}:{idempotency_key}')}" if idempotency_key \
        else f"staff:{uuid.uuid4()}"
    request_body = RefundRequest(amount=body.amount, reason=body.reason, destination=body.destination,
                                 kind="staff", key=key, requested_by=principal.user_id)
    if await is_membership_charge(session, order):
        view = await refund_membership_charge(client, session, state.settings.temporal_task_queue, order,
                                              request_body)
    else:
        view = await client.get_workflow_handle(order_workflow_id(order.id)).execute_update(
            "refund", request_body, result_type=RefundView)
    refund = await session.get(Refund, view.refund_id)  # written by the workflow's activity
    if refund is None:
        raise Problem(NOT_FOUND, "the refund was not recorded", field="order_id")
    await session.refresh(refund)
    return RefundOut.model_validate(refund)


@router.post("/orders/{order_id}/lines/{line_id}/fulfilled", response_model=OrderOut)
async def deliver_line(
    order_id: uuid.UUID, line_id: uuid.UUID, body: LineDelivered, tenant: CurrentTenant, session: Session,
    client: Temporal, principal: Principal = require(Permission.MANAGE_ORDERS),
) -> OrderOut:
    """Staff delivered by hand a line that has no automatic fulfilment (`awaiting_handler`)."""
    order = await _order(session, tenant, principal, order_id)
    await client.get_workflow_handle(order_workflow_id(order.id)).execute_update(
        "complete_line", LineCompletion(line_id=line_id, actor_user_id=principal.user_id, note=body.note),
        result_type=OrderState)
    await record_audit(session, tenant_id=tenant.id, action="order.line_delivered", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="order", target_id=order.id,
                       details={"line_id": str(line_id), "note": body.note})
    await session.refresh(order)
    return await order_view(session, order)


@router.post("/orders/{order_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=OrderOut)
async def cancel_order(
    order_id: uuid.UUID, body: OrderCancel, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.MANAGE_ORDERS),
) -> OrderOut:
    """Cancel an order that is not paid yet: what it holds is released."""
    order = await _order(session, tenant, principal, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Problem(ORDER_NOT_PAYABLE, f"this order is {order.status.replace('_', ' ')}; refund it instead")
    await client.get_workflow_handle(order_workflow_id(order.id)).signal("cancel", body.reason)
    await record_audit(session, tenant_id=tenant.id, action="order.cancel_requested", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="order", target_id=order.id,
                       details={"reason": body.reason})
    return await order_view(session, order)


@router.get("/orders/{order_id}/invoice", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}}})
async def read_invoice(
    order_id: uuid.UUID, tenant: CurrentTenant, session: Session,
    output: Annotated[str, Query(alias="format", pattern="^(html|pdf)$")] = "html",
    principal: Principal = require(Permission.VIEW_ORDERS),
) -> Response:
    order = await _order(session, tenant, principal, order_id)
    invoice = (await session.execute(select(Invoice).where(Invoice.order_id == order.id))).scalar_one_or_none()
    if invoice is None:
        raise Problem(NOT_FOUND, "this order has no invoice yet (it is issued once paid)", field="order_id")
    if output == "pdf":
        if invoice.pdf is None:
            raise Problem(NOT_FOUND, "the PDF of this invoice is not available; ask for format=html",
                          field="format")
        filename = invoice.invoice_number.replace("/", "-") + ".pdf"
        return Response(invoice.pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})
    return HTMLResponse(invoice.html)


# -- wallet ------------------------------------------------------------------------------------
async def _wallet(session: Session, tenant: Tenant, client_id: uuid.UUID, currency: str) -> WalletOut:
    entries = list((await session.execute(
        select(WalletEntry).join(WalletAccount, WalletAccount.id == WalletEntry.account_id)
        .where(WalletAccount.tenant_id == tenant.id, WalletAccount.client_id == client_id,
               WalletAccount.currency == currency)
        .order_by(WalletEntry.created_at.desc(), WalletEntry.id.desc()).limit(50))).scalars())
    return WalletOut(client_id=client_id, currency=currency,
                     balance=await wallet_balance(session, tenant.id, client_id, currency),
                     entries=[WalletEntryOut.model_validate(e) for e in entries])


async def _client(session: Session, tenant: Tenant, client_id: uuid.UUID) -> User:
    user = await session.get(User, client_id)
    if user is None or user.tenant_id != tenant.id or user.role != Role.CLIENT:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    return user


Currency3 = Annotated[str, Query(pattern="^[A-Z]{3}$")]


@router.get("/wallet", response_model=WalletOut)
async def read_own_wallet(
    tenant: CurrentTenant, session: Session, currency: Currency3 = "INR",
    principal: Principal = require(Permission.VIEW_WALLET),
) -> WalletOut:
    """The signed-in client's store credit: the balance is the sum of the movements listed."""
    return await _wallet(session, tenant, principal.user_id, currency)


@router.get("/clients/{client_id}/wallet", response_model=WalletOut)
async def read_client_wallet(
    client_id: uuid.UUID, tenant: CurrentTenant, session: Session, currency: Currency3 = "INR",
    principal: Principal = require(Permission.MANAGE_ORDERS),
) -> WalletOut:
    await _client(session, tenant, client_id)
    return await _wallet(session, tenant, client_id, currency)


@router.post("/clients/{client_id}/wallet/credits", status_code=status.HTTP_201_CREATED, response_model=WalletOut)
async def credit_client_wallet(
    client_id: uuid.UUID, body: WalletCredit, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.CREDIT_WALLETS),
) -> WalletOut:
    """The owner gives a client store credit (goodwill, a settled dispute), with a note."""
    await _client(session, tenant, client_id)
    try:
        entry = await move_wallet(session, tenant_id=tenant.id, client_id=client_id, currency=body.currency,
                                  amount=body.amount, kind="manual_credit", dedupe_key=f"manual:{uuid.uuid4()}",
                                  note=body.note, created_by=principal.user_id)
    except InsufficientFunds as exc:  # pragma: no cover - a credit cannot overdraw
        raise Problem(INSUFFICIENT_WALLET, str(exc)) from exc
    await record_audit(session, tenant_id=tenant.id, action="wallet.credited", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="user", target_id=client_id,
                       details={"amount": body.amount, "currency": body.currency, "entry": str(entry.id)})
    return await _wallet(session, tenant, client_id, body.currency)
