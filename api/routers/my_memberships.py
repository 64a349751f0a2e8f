"""A client's own memberships: subscribe, authorise through Razorpay, pause, resume, cancel.

`POST /me/memberships` makes the membership (pending) and starts its workflow after the commit;
send an Idempotency-Key (a retry answers the first). `POST .../checkout` answers the Razorpay
subscription to authorise (made once by the workflow). Pause, resume and cancel are updates of
the workflow, answered once its state is saved; Razorpay is asked after the answer.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import ALREADY_EXISTS, FORBIDDEN, PAYMENTS_UNAVAILABLE, Problem
from api.routers.memberships import membership_of, plan_of
from api.schemas.memberships import MembershipCancel, MembershipOut, MembershipPause, Subscribe, SubscriptionCheckout
from api.workflow_starts import start_after_commit
from domain.memberships import (
    GATEWAY_UNAVAILABLE,
    LIVE,
    MEMBERSHIP_WORKFLOW,
    CancelRequest,
    Checkout,
    MembershipInput,
    MembershipState,
    PauseRequest,
    PlanTerms,
    membership_workflow_id,
)
from models.identity import Role
from models.memberships import Membership
from models.platform import record_audit

router = APIRouter(prefix="/me/memberships", tags=["memberships"])
Member = Annotated[Principal, require(Permission.PAY_ORDERS)]


GATEWAY_FAILURES = {GATEWAY_UNAVAILABLE, "GatewayRefused", "GatewayKeysRefused", "PaymentsNotConfigured"}


def _client_only(principal: Principal) -> None:
    if principal.role != Role.CLIENT:
        raise Problem(FORBIDDEN, "memberships are the client's own; staff see them at GET /api/v1/memberships")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MembershipOut)
async def subscribe(body: Subscribe, request: Request, tenant: CurrentTenant, session: Session, state: State,
                    principal: Member) -> MembershipOut:
    """Become a member of a plan: the membership is `pending` until the client authorises its
    Razorpay subscription (`POST /me/memberships/{id}/checkout`). One live membership per plan."""
    _client_only(principal)
    plan = await plan_of(session, tenant, body.plan_id, principal)
    live = await session.scalar(select(Membership.id).where(
        Membership.tenant_id == tenant.id, Membership.client_id == principal.user_id, Membership.plan_id == plan.id,
        Membership.status.in_([s.value for s in LIVE])))
    if live is not None:
        raise Problem(ALREADY_EXISTS, f"you are already a member of {plan.title} (membership {live})",
                      field="plan_id")
    terms = PlanTerms(plan_id=plan.id, title=plan.title, price_minor=plan.price_minor, currency=plan.currency,
                      offering_id=plan.offering_id, credits_per_period=plan.credits_per_period,
                      course_ids=[uuid.UUID(c) for c in plan.course_ids])
    membership_id = uuid.uuid4()
    workflow_id = membership_workflow_id(membership_id)
    membership = Membership(id=membership_id, tenant_id=tenant.id, plan_id=plan.id, client_id=principal.user_id,
                            status="pending", title=plan.title, price_minor=plan.price_minor, currency=plan.currency,
                            terms=terms.model_dump(mode="json"), cancel_at_period_end=False, periods_paid=0,
                            workflow_id=workflow_id)
    session.add(membership)
    await session.flush()
    await start_after_commit(
        request, session, state, workflow_type=MEMBERSHIP_WORKFLOW, workflow_id=workflow_id,
        payload=MembershipInput(membership_id=membership_id, tenant_id=tenant.id, client_id=principal.user_id,
                                terms=terms),
        tenant_id=tenant.id, search_attributes={"TenantId": str(tenant.id), "ClientId": str(principal.user_id),
                                                "EntityStatus": "pending"},
        memo={"summary": f"Membership {plan.title[:60]}: pending"})
    await record_audit(session, tenant_id=tenant.id, action="membership.subscribed", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="membership", target_id=membership_id,
                       details={"plan_id": str(plan.id), "price_minor": plan.price_minor})
    await session.refresh(membership)
    return MembershipOut.model_validate(membership)


@router.get("", response_model=Page[MembershipOut])
async def my_memberships(tenant: CurrentTenant, session: Session, paging: Paging,
                         principal: Member) -> Page[MembershipOut]:
    stmt = select(Membership).where(Membership.tenant_id == tenant.id, Membership.client_id == principal.user_id)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Membership.created_at},
                                  default_sort="-created_at", id_column=Membership.id)
    return Page[MembershipOut](items=[MembershipOut.model_validate(r) for r in rows], next_cursor=cursor)


async def _own(session: Session, tenant: CurrentTenant, membership_id: uuid.UUID, principal: Principal) -> Membership:
    _client_only(principal)
    return await membership_of(session, tenant, membership_id, principal)


@router.post("/{membership_id}/checkout", response_model=SubscriptionCheckout)
async def checkout(membership_id: uuid.UUID, tenant: CurrentTenant, session: Session, temporal: Temporal,
                   principal: Member) -> SubscriptionCheckout:
    """The Razorpay subscription to authorise: open Razorpay Checkout with `subscription_id` and
    `key_id`, or send the client to `short_url`. Made once; asking again answers the same."""
    membership = await _own(session, tenant, membership_id, principal)
    try:
        made: Checkout = await temporal.get_workflow_handle(membership.workflow_id).execute_update(
            "checkout", result_type=Checkout)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in GATEWAY_FAILURES:
            raise Problem(PAYMENTS_UNAVAILABLE, f"{cause.message}; nothing was charged. Try again shortly.",
                          headers={"Retry-After": "30"}) from exc
        raise
    return SubscriptionCheckout(membership_id=membership.id, **made.model_dump())


async def _update(session: Session, temporal: Temporal, membership: Membership, name: str, argument: Any,
                  principal: Principal) -> MembershipOut:
    answer: MembershipState = await temporal.get_workflow_handle(membership.workflow_id).execute_update(
        name, argument, result_type=MembershipState)
    await record_audit(session, tenant_id=membership.tenant_id, action=f"membership.{name}",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="membership",
                       target_id=membership.id, details={"status": answer.status.value,
                                                         "cancel_at_period_end": answer.cancel_at_period_end,
                                                         "reason": getattr(argument, "reason", None)})
    await session.refresh(membership)  # the workflow saved its new state before answering
    return MembershipOut.model_validate(membership)


@router.post("/{membership_id}/pause", response_model=MembershipOut)
async def pause(membership_id: uuid.UUID, body: MembershipPause, tenant: CurrentTenant, session: Session,
                temporal: Temporal, principal: Member) -> MembershipOut:
    """Pause billing: nothing is charged or granted until resumed (the paid period's credits stay)."""
    membership = await _own(session, tenant, membership_id, principal)
    return await _update(session, temporal, membership, "pause", PauseRequest(reason=body.reason), principal)


@router.post("/{membership_id}/resume", response_model=MembershipOut)
async def resume(membership_id: uuid.UUID, body: MembershipPause, tenant: CurrentTenant, session: Session,
                 temporal: Temporal, principal: Member) -> MembershipOut:
    membership = await _own(session, tenant, membership_id, principal)
    return await _update(session, temporal, membership, "resume", PauseRequest(reason=body.reason), principal)


@router.post("/{membership_id}/cancel", response_model=MembershipOut)
async def cancel(membership_id: uuid.UUID, body: MembershipCancel, tenant: CurrentTenant, session: Session,
                 temporal: Temporal, principal: Member) -> MembershipOut:
    """Cancel: by default at the end of the paid period (benefits until then), or now."""
    membership = await _own(session, tenant, membership_id, principal)
    return await _update(session, temporal, membership, "cancel",
                         CancelRequest(at_period_end=body.at_period_end, reason=body.reason), principal)
