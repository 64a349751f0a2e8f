"""/quotation-links/{token}: a quotation through the signed link of its email, without an account.
The client views it (always its newest version), reads the PDF, accepts (and pays) or rejects it.

The staff's and the signed-in client's routes are in `api/routers/quotations.py`; both use the
shared steps of `api/services/quotations.py`.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status

from api.deps import Session, State, Temporal
from api.problems import ORDER_NOT_PAYABLE, Problem
from api.schemas.payments import CheckoutOut, PaymentAccepted, PaymentVerification
from api.schemas.quotations import (
    AcceptedOut,
    PdfLanguage,
    PublicQuotation,
    ReasonBody,
)
from api.services.checkout import accept_checkout_payment, begin_checkout
from api.services.quotations import (
    accept_and_checkout,
    can_accept,
    count_quotation_view,
    quotation_from_link,
    quotation_out,
    quotation_pdf_response,
    reread,
    run_update,
)
from domain.payments.orders import OrderStatus
from domain.quotations import (
    AcceptRequest,
    QuotationState,
    RejectRequest,
)
from models.identity import Role
from models.payments import Order
from models.quotations import Quotation
from models.tenancy import Tenant

log = logging.getLogger(__name__)

router = APIRouter(tags=["quotations"])


async def _public(session: Session, tenant: Tenant, quotation: Quotation) -> PublicQuotation:
    out = await quotation_out(session, quotation)
    order = await session.get(Order, quotation.order_id) if quotation.order_id else None
    return PublicQuotation(
        number=out.number, status=out.status, tenant_name=tenant.name, consultant_name=out.consultant_name,
        client_name=quotation.client_name, expires_at=quotation.expires_at, version=out.version, current=out.current,
        can_accept=can_accept(quotation), order_id=quotation.order_id,
        can_pay=order is not None and order.status == OrderStatus.PENDING_PAYMENT and order.amount_due > 0)


@router.get("/quotation-links/{link_token}", response_model=PublicQuotation)
async def link_quotation(link_token: str, request: Request, session: Session, state: State) -> PublicQuotation:
    """The quotation a signed link from an email points to, always its newest version (an older version's
    link shows the new one). Each opening is counted; the first tells the consultant."""
    tenant, quotation = await quotation_from_link(session, state.keys, link_token)
    await count_quotation_view(request, session, state, quotation, "link")
    return await _public(session, tenant, quotation)


@router.get("/quotation-links/{link_token}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def link_pdf(link_token: str, session: Session, state: State, lang: PdfLanguage = "en") -> Response:
    """The current version's PDF."""
    _, quotation = await quotation_from_link(session, state.keys, link_token)
    return await quotation_pdf_response(session, quotation, lang, None)


@router.post("/quotation-links/{link_token}/accept", response_model=AcceptedOut)
async def link_accept(link_token: str, session: Session, state: State, temporal: Temporal) -> AcceptedOut:
    """Accept without an account: the order is made and Razorpay Checkout's details come back (pay them with
    `/quotation-links/{token}/payment`). 409 `quotation-expired` once its time has passed."""
    _, quotation = await quotation_from_link(session, state.keys, link_token)
    return await accept_and_checkout(session, temporal, quotation,
                                     AcceptRequest(actor_user_id=quotation.client_id, via="link"))


@router.post("/quotation-links/{link_token}/reject", response_model=PublicQuotation)
async def link_reject(link_token: str, session: Session, state: State, temporal: Temporal,
                      body: ReasonBody | None = None) -> PublicQuotation:
    """Decline without an account, with an optional reason."""
    tenant, quotation = await quotation_from_link(session, state.keys, link_token)
    await run_update(temporal, session, quotation, "reject",
                     RejectRequest(reason=body.reason if body else None, actor_user_id=quotation.client_id),
                     QuotationState)
    return await _public(session, tenant, await reread(session, quotation))


async def _order(session: Session, quotation: Quotation) -> Order:
    order = await session.get(Order, quotation.order_id) if quotation.order_id else None
    if order is None or order.tenant_id != quotation.tenant_id:
        raise Problem(ORDER_NOT_PAYABLE, "this quotation has not been accepted: there is nothing to pay")
    return order


@router.post("/quotation-links/{link_token}/checkout", response_model=CheckoutOut)
async def link_checkout(link_token: str, session: Session, state: State, temporal: Temporal) -> CheckoutOut:
    """Pay the accepted quotation's order later: what Razorpay Checkout needs (made once)."""
    _, quotation = await quotation_from_link(session, state.keys, link_token)
    return await begin_checkout(session, temporal, await _order(session, quotation))


@router.post("/quotation-links/{link_token}/payment", status_code=status.HTTP_202_ACCEPTED,
             response_model=PaymentAccepted)
async def link_payment(link_token: str, body: PaymentVerification, request: Request, session: Session,
                       state: State) -> PaymentAccepted:
    """Razorpay Checkout's answer, verified as for `POST /orders/{order_id}/payment`; the order's workflow
    confirms it with Razorpay, and the quotation becomes paid."""
    _, quotation = await quotation_from_link(session, state.keys, link_token)
    order = await _order(session, quotation)
    return await accept_checkout_payment(request, session, state, order, body, actor_user_id=quotation.client_id,
                                         actor_role=Role.CLIENT.value, via="quotation_link")
