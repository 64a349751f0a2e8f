"""Clients buy on their own: the product catalogue, session packages, the cart checkout, credits.

`POST /checkout` prices a cart from the catalogue (coupon, wallet first, GST as for any order)
into an order of the existing Order workflow; the client then pays it exactly like any order
(`POST /orders/{id}/checkout`, then `/payment`). A retried POST with the same Idempotency-Key
answers the first order (the middleware), and the Razorpay order is made once per order.
"""

from __future__ import annotations

import uuid
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, Session, State, require
from api.pagination import Page, Paging, paginate
from api.patching import apply_changes
from api.permissions import Permission
from api.problems import FORBIDDEN, NOT_FOUND, Problem
from api.schemas.checkout import (
    CartCheckout,
    CartQuote,
    CreditMoveOut,
    CreditsOut,
    GrantOut,
    PackageCreate,
    PackageOut,
    PackageUpdate,
    ProductCreate,
    ProductOut,
    ProductUpdate,
)
from api.services.bookings import offering_of
from api.services.cart import cart_lines
from api.services.orders import NewOrder, create_order, order_view, start_order_workflow
from models.catalogue import PackageCreditMove, PackageGrant, Product, SessionPackage, credits_left
from models.identity import Role, User
from models.platform import record_audit
from models.tenancy import Tenant

router = APIRouter(tags=["checkout"])
Seller = Annotated[Principal, require(Permission.MANAGE_ORDERS)]
Viewer = Annotated[Principal, require(Permission.VIEW_ORDERS)]
Buyer = Annotated[Principal, require(Permission.PAY_ORDERS)]



# -- products ------------------------------------------------------------------------------------
async def _writer(session: Session, tenant: Tenant, user_id: uuid.UUID) -> None:
    user = await session.get(User, user_id)
    if (user is None or user.tenant_id != tenant.id or not user.is_active
            or user.role not in (Role.OWNER, Role.CONSULTANT)):
        raise Problem(NOT_FOUND, "this consultancy has no consultant with this user id", field="consultant_user_id")


_ForSale = TypeVar("_ForSale", Product, SessionPackage)


async def _for_sale(session: Session, model: type[_ForSale], tenant: Tenant, item_id: uuid.UUID,
                    principal: Principal, *, what: str, field: str) -> _ForSale:
    """One product or package of this consultancy; clients see only the active ones."""
    stmt = select(model).where(model.tenant_id == tenant.id, model.id == item_id)
    if not principal.is_staff:
        stmt = stmt.where(model.active.is_(True))
    item = (await session.execute(stmt)).scalar_one_or_none()
    if item is None:
        raise Problem(NOT_FOUND, f"this consultancy has no {what} with this id", field=field)
    return item


async def _product(session: Session, tenant: Tenant, product_id: uuid.UUID, principal: Principal) -> Product:
    return await _for_sale(session, Product, tenant, product_id, principal, what="product", field="product_id")


@router.post("/products", status_code=status.HTTP_201_CREATED, response_model=ProductOut)
async def create_product(body: ProductCreate, tenant: CurrentTenant, session: Session, principal: Seller) -> ProductOut:
    """A report (written by the consultant named) or another item clients can buy at checkout."""
    if body.consultant_user_id is not None:
        await _writer(session, tenant, body.consultant_user_id)
    product = Product(tenant_id=tenant.id, active=True, **body.model_dump(mode="json", exclude={"consultant_user_id"}),
                      consultant_user_id=body.consultant_user_id)
    session.add(product)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="product.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="product", target_id=product.id)
    return ProductOut.model_validate(product)


@router.get("/products", response_model=Page[ProductOut])
async def list_products(tenant: CurrentTenant, session: Session, paging: Paging, principal: Viewer) -> Page[ProductOut]:
    """What the consultancy sells besides sessions, courses and remedies (clients: the active ones)."""
    stmt = select(Product).where(Product.tenant_id == tenant.id)
    if not principal.is_staff:
        stmt = stmt.where(Product.active.is_(True))
    rows, cursor = await paginate(session, stmt, paging, sortable={"title": Product.title,
                                                                   "created_at": Product.created_at},
                                  default_sort="title", id_column=Product.id)
    return Page[ProductOut](items=[ProductOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/products/{product_id}", response_model=ProductOut)
async def read_product(product_id: uuid.UUID, tenant: CurrentTenant, session: Session,
                       principal: Viewer) -> ProductOut:
    return ProductOut.model_validate(await _product(session, tenant, product_id, principal))


@router.patch("/products/{product_id}", response_model=ProductOut)
async def update_product(product_id: uuid.UUID, body: ProductUpdate, tenant: CurrentTenant, session: Session,
                         principal: Seller) -> ProductOut:
    """Change a product for carts priced from now on; orders already made keep their price."""
    product = await _product(session, tenant, product_id, principal)
    changes = body.model_dump(exclude_unset=True)
    apply_changes(product, changes)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="product.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="product", target_id=product.id,
                       details={"fields": sorted(changes)})
    return ProductOut.model_validate(product)


# -- session packages ------------------------------------------------------------------------------
async def _package(session: Session, tenant: Tenant, package_id: uuid.UUID, principal: Principal) -> SessionPackage:
    return await _for_sale(session, SessionPackage, tenant, package_id, principal, what="session package",
                           field="package_id")


@router.post("/session-packages", status_code=status.HTTP_201_CREATED, response_model=PackageOut)
async def create_package(body: PackageCreate, tenant: CurrentTenant, session: Session,
                         principal: Seller) -> PackageOut:
    """N sessions of an offering at a package price; each booking with `use_credit` takes one."""
    offering = await offering_of(session, tenant, body.offering_id)
    reminder_days = body.reminder_days if body.reminder_days is not None else min(7, body.valid_days - 1)
    package = SessionPackage(tenant_id=tenant.id, active=True, offering_id=offering.id, reminder_days=reminder_days,
                             **body.model_dump(mode="json", exclude={"offering_id", "reminder_days"}))
    session.add(package)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="session_package.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="session_package", target_id=package.id)
    return PackageOut.model_validate(package)


@router.get("/session-packages", response_model=Page[PackageOut])
async def list_packages(tenant: CurrentTenant, session: Session, paging: Paging, principal: Viewer,
                        offering_id: Annotated[uuid.UUID | None, Query()] = None) -> Page[PackageOut]:
    stmt = select(SessionPackage).where(SessionPackage.tenant_id == tenant.id)
    if not principal.is_staff:
        stmt = stmt.where(SessionPackage.active.is_(True))
    if offering_id is not None:
        stmt = stmt.where(SessionPackage.offering_id == offering_id)
    rows, cursor = await paginate(session, stmt, paging, sortable={"title": SessionPackage.title,
                                                                   "created_at": SessionPackage.created_at},
                                  default_sort="title", id_column=SessionPackage.id)
    return Page[PackageOut](items=[PackageOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/session-packages/{package_id}", response_model=PackageOut)
async def read_package(package_id: uuid.UUID, tenant: CurrentTenant, session: Session,
                       principal: Viewer) -> PackageOut:
    return PackageOut.model_validate(await _package(session, tenant, package_id, principal))


@router.patch("/session-packages/{package_id}", response_model=PackageOut)
async def update_package(package_id: uuid.UUID, body: PackageUpdate, tenant: CurrentTenant, session: Session,
                         principal: Seller) -> PackageOut:
    """Change a package for purchases from now on; credits already granted keep their terms."""
    package = await _package(session, tenant, package_id, principal)
    changes = body.model_dump(exclude_unset=True)
    apply_changes(package, changes)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="session_package.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="session_package", target_id=package.id,
                       details={"fields": sorted(changes)})
    return PackageOut.model_validate(package)


# -- the cart -------------------------------------------------------------------------------------
@router.post("/checkout", status_code=status.HTTP_201_CREATED, response_model=CartQuote)
async def check_out_cart(body: CartCheckout, request: Request, tenant: CurrentTenant, session: Session,
                         state: State, principal: Buyer) -> CartQuote:
    """The signed-in client buys courses, remedies, products and session packages: priced from the
    catalogue, coupon applied, wallet first, GST as for every order; one order of the Order
    workflow. Send an Idempotency-Key: a retry answers the same order and never charges twice."""
    if principal.role != Role.CLIENT:
        raise Problem(FORBIDDEN, "the cart is the client's own; staff make an order with POST /api/v1/orders")
    lines, currency = await cart_lines(session, tenant.id, principal.user_id, body.items)
    order, workflow_input = await create_order(session, tenant, NewOrder(
        client_id=principal.user_id, lines=lines, currency=currency, coupon_code=body.coupon_code,
        use_wallet=body.use_wallet, created_by=principal.user_id, place_of_supply=body.place_of_supply,
        note="client checkout"))
    await record_audit(session, tenant_id=tenant.id, action="order.checked_out", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="order", target_id=order.id,
                       details={"total": order.total, "wallet": order.wallet_applied, "coupon": order.coupon_code,
                                "items": [f"{i.kind.value}:{i.ref_id}" for i in body.items]})
    await start_order_workflow(request, session, state, order, workflow_input)
    view = await order_view(session, order)
    step = (f"POST /api/v1/orders/{order.id}/checkout, open Razorpay Checkout, then POST "
            f"/api/v1/orders/{order.id}/payment" if order.amount_due
            else f"nothing to pay online: poll GET /api/v1/orders/{order.id} until it is fulfilled")
    return CartQuote(order=view, next=step)


# -- credits --------------------------------------------------------------------------------------
@router.get("/session-credits", response_model=CreditsOut)
async def list_credits(tenant: CurrentTenant, session: Session, principal: Viewer,
                       client_id: Annotated[uuid.UUID | None, Query(description="staff: whose credits")] = None,
                       ) -> CreditsOut:
    """Session-package credits, with every movement: clients their own; staff name the client."""
    if principal.role == Role.CLIENT:
        whose = principal.user_id
    else:
        client = await session.get(User, client_id) if client_id else None
        if client is None or client.tenant_id != tenant.id or client.role != Role.CLIENT:
            raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
        whose = client.id
    grants = (await session.execute(select(PackageGrant).where(
        PackageGrant.tenant_id == tenant.id, PackageGrant.client_id == whose)
        .order_by(PackageGrant.expires_at.desc()).limit(100))).scalars().all()
    out = []
    for grant in grants:
        moves = (await session.execute(select(PackageCreditMove).where(PackageCreditMove.grant_id == grant.id)
                                       .order_by(PackageCreditMove.created_at, PackageCreditMove.id))).scalars()
        view = GrantOut.model_validate(grant)
        out.append(view.model_copy(update={"credits_left": credits_left(grant),
                                           "moves": [CreditMoveOut.model_validate(m) for m in moves]}))
    return CreditsOut(client_id=whose, grants=out)
