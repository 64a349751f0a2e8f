"""/quotations: staff draft, send, revise, extend and withdraw; clients view, accept and reject.
The signed link from the email, without an account, is `quotation_links` (/quotation-links/{token}).

A sent quotation is a QuotationWorkflow (`quotation-<id>`): every change after sending is one of
its validated updates, answered once the change is made (messages follow in the background).
The database mirrors its state for reads. Accepting makes the order (the existing Order
workflow and payments) and answers with Razorpay Checkout's details.
"""

from __future__ import annotations

import logging
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime
from sqlalchemy import select
from temporalio.service import RPCError

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import CONFLICT, VALIDATION, Problem
from api.schemas.quotations import (
    AcceptedOut,
    ExtendBody,
    PdfLanguage,
    QuotationContent,
    QuotationCreate,
    QuotationEdit,
    QuotationOut,
    QuotationSettings,
    QuotationStats,
    QuotationView,
    ReasonBody,
    SendBody,
    ViewOut,
)
from api.services.quotations import (
    accept_and_checkout,
    client_user,
    consultant_for,
    count_quotation_view,
    is_staff,
    next_number,
    quotation_out,
    quotation_pdf_response,
    quotations_of,
    require_client,
    require_draft,
    reread,
    run_update,
    send,
    validity,
    versions_of,
    visible_quotation,
    write_version,
)
from core.db import TenantScope, scoped_session
from domain.quotations import (
    OPEN,
    AcceptRequest,
    ExtendRequest,
    QuotationState,
    QuotationStatus,
    RejectRequest,
    ReviseRequest,
    WithdrawRequest,
    check_reminder_days,
    quotation_settings,
    quote_number,
)
from models.bookings import Consultant
from models.identity import Role, User
from models.platform import record_audit
from models.quotations import Quotation, QuotationLine, QuotationVersion
from models.quotations import QuotationView as QuotationViewRow
from models.tenancy import Tenant

log = logging.getLogger(__name__)
router = APIRouter(tags=["quotations"])
async def _view(session: Session, state: State, quotation: Quotation, principal: Principal) -> QuotationView:
    out = await quotation_out(session, quotation)
    staff = is_staff(principal)
    versions = await versions_of(session, quotation, issued_only=not staff)
    views = [] if not staff else [ViewOut(version=v.version, viewed_at=v.viewed_at, via=v.via) for v in (
        await session.execute(select(QuotationViewRow).where(QuotationViewRow.quotation_id == quotation.id)
                              .order_by(QuotationViewRow.viewed_at.desc()).limit(200))).scalars()]
    live: QuotationState | None = None
    if staff and quotation.workflow_id and state.temporal is not None:
        try:
            live = await state.temporal.get_workflow_handle(quotation.workflow_id).query(
                "state", result_type=QuotationState)
        except RPCError as exc:
            log.info("state of %s not available: %s", quotation.workflow_id, exc)
    return QuotationView(**out.model_dump(), versions=versions, view_log=views, workflow=live)


async def _contact(session: Session, tenant: Tenant, quotation: Quotation, body: QuotationCreate | QuotationEdit
                   ) -> None:
    if body.client_id is not None and body.client is not None:
        raise Problem(VALIDATION, "give client_id or client, not both", field="client")
    if body.client_id is not None:
        user = await client_user(session, tenant, body.client_id)
        quotation.client_id, quotation.client_name, quotation.client_email = user.id, user.full_name, user.email
        quotation.client_phone, quotation.client_timezone = user.phone, user.timezone
    elif body.client is not None:
        known = (await session.execute(select(User).where(User.tenant_id == tenant.id,
                                                          User.email == body.client.email))).scalar_one_or_none()
        if known is not None and known.role != Role.CLIENT:
            raise Problem(CONFLICT, "this email belongs to a member of the consultancy", field="client.email")
        quotation.client_id = known.id if known else None
        quotation.client_name, quotation.client_email = body.client.full_name, body.client.email
        quotation.client_phone, quotation.client_timezone = body.client.phone, body.client.timezone


# -- staff -------------------------------------------------------------------------------------
@router.post("/quotations", status_code=status.HTTP_201_CREATED, response_model=QuotationView)
async def create_quotation(
    body: QuotationCreate, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationView:
    """A draft: lines (offerings at their price or another, free text, reports, courses), a discount, GST by
    the consultancy's settings, notes and terms, validity. Nothing is sent until `/send`."""
    if body.client_id is None and body.client is None:
        raise Problem(VALIDATION, "name the client: client_id, or client with full_name and email", field="client_id")
    consultant = await consultant_for(session, tenant, principal, body.consultant_id)
    now = datetime.now(UTC)
    expires = validity(body.expires_at, body.validity_days, now)
    settings = quotation_settings(tenant.settings)
    try:
        reminders = check_reminder_days(body.reminder_days if body.reminder_days is not None
                                        else list(settings["reminder_days"]))  # type: ignore[call-overload]
    except ValueError as exc:
        raise Problem(VALIDATION, str(exc), field="reminder_days") from exc
    quotation = Quotation(id=uuid.uuid4(), tenant_id=tenant.id, consultant_id=consultant.id, title=body.title,
                          status=QuotationStatus.DRAFT, current_version=1, currency=body.currency or "INR",
                          total=0, validity_days=body.validity_days, expires_at=expires, reminder_days=reminders,
                          views=0, created_by=principal.user_id, client_name="", client_email="")
    await _contact(session, tenant, quotation, body)
    quotation.number = await next_number(session, tenant.id)
    session.add(quotation)
    await session.flush()
    version = await write_version(session, tenant, quotation, 1, body, consultant, principal.user_id,
                                  expires_at=expires)
    quotation.total, quotation.currency = version.total, version.currency
    await record_audit(session, tenant_id=tenant.id, action="quotation.drafted", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="quotation", target_id=quotation.id,
                       details={"number": quote_number(quotation.number), "total": version.total})
    return await _view(session, state, quotation, principal)


@router.get("/quotations", response_model=Page[QuotationOut])
async def list_quotations(
    tenant: CurrentTenant, session: Session, paging: Paging,
    status_: Annotated[QuotationStatus | None, Query(alias="status")] = None,
    client_id: Annotated[UUID | None, Query()] = None,
    consultant_id: Annotated[UUID | None, Query()] = None,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=366, description="open ones expiring that soon")]
    = None,
    principal: Principal = require(Permission.VIEW_ORDERS),
) -> Page[QuotationOut]:
    """Staff: the consultancy's quotations (a consultant: theirs); a client: their own, never drafts.
    Sortable by `created_at`, `expires_at` and `number`."""
    stmt = quotations_of(tenant.id, principal)
    if status_:
        stmt = stmt.where(Quotation.status == status_)
    if client_id:
        stmt = stmt.where(Quotation.client_id == client_id)
    if consultant_id:
        stmt = stmt.where(Quotation.consultant_id == consultant_id)
    if expiring_within_days is not None:
        stmt = stmt.where(Quotation.status.in_([s.value for s in OPEN]),
                          Quotation.expires_at <= datetime.now(UTC) + timedelta(days=expiring_within_days))
    rows, cursor = await paginate(session, stmt, paging,
                                  sortable={"created_at": Quotation.created_at, "expires_at": Quotation.expires_at,
                                            "number": Quotation.number},
                                  default_sort="created_at", id_column=Quotation.id)
    return Page[QuotationOut](items=[await quotation_out(session, r) for r in rows], next_cursor=cursor)


@router.get("/quotations/stats", response_model=QuotationStats)
async def quotation_stats(
    tenant: CurrentTenant, session: Session,
    since: Annotated[AwareDatetime | None, Query(description="sent at or after, with its offset (default: all time)")]
    = None,
    principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationStats:
    """Counts for the consultancy's dashboard: how many were sent, viewed, accepted, rejected, expired; the
    conversion rate (accepted over sent) and the time from sending to acceptance."""
    stmt = quotations_of(tenant.id, principal).where(Quotation.sent_at.is_not(None))
    if since is not None:
        stmt = stmt.where(Quotation.sent_at >= since)
    rows = list((await session.execute(stmt)).scalars())
    by = {s: sum(1 for r in rows if r.status == s) for s in QuotationStatus}
    accepted = by[QuotationStatus.ACCEPTED] + by[QuotationStatus.PAID] + by[QuotationStatus.LAPSED]
    hours = [(r.decided_at - r.sent_at).total_seconds() / 3600 for r in rows
             if r.status in (QuotationStatus.ACCEPTED, QuotationStatus.PAID, QuotationStatus.LAPSED)
             and r.decided_at and r.sent_at]
    return QuotationStats(
        sent=len(rows), viewed=sum(1 for r in rows if r.first_viewed_at is not None), accepted=accepted,
        paid=by[QuotationStatus.PAID], rejected=by[QuotationStatus.REJECTED], expired=by[QuotationStatus.EXPIRED],
        withdrawn=by[QuotationStatus.WITHDRAWN], lapsed=by[QuotationStatus.LAPSED],
        open=by[QuotationStatus.SENT] + by[QuotationStatus.VIEWED],
        conversion_rate=round(accepted / len(rows), 4) if rows else 0.0,
        median_hours_to_accept=round(statistics.median(hours), 2) if hours else None,
        mean_hours_to_accept=round(statistics.fmean(hours), 2) if hours else None)


@router.get("/quotation-settings", response_model=QuotationSettings)
async def read_quotation_settings(
    tenant: CurrentTenant, principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationSettings:
    """The consultancy's defaults: reminder days before expiry, validity, the payment window after acceptance."""
    return QuotationSettings.model_validate(quotation_settings(tenant.settings))


@router.put("/quotation-settings", response_model=QuotationSettings)
async def write_quotation_settings(
    body: QuotationSettings, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_PAYMENT_SETTINGS),
) -> QuotationSettings:
    """Set the defaults (owner); quotations already sent keep theirs."""
    try:
        days = check_reminder_days(body.reminder_days)
    except ValueError as exc:
        raise Problem(VALIDATION, str(exc), field="reminder_days") from exc
    saved = {**body.model_dump(), "reminder_days": days}
    await session.refresh(tenant, with_for_update=True)
    tenant.settings = {**(tenant.settings or {}), "quotations": saved}
    await record_audit(session, tenant_id=tenant.id, action="quotation.settings", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="tenant", target_id=tenant.id, details=saved)
    return QuotationSettings.model_validate(saved)


@router.get("/quotations/{quotation_id}", response_model=QuotationView)
async def read_quotation(
    quotation_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.VIEW_ORDERS),
) -> QuotationView:
    """The quotation with its versions; for staff also every view and the workflow's state. A client's
    reading counts as a view (the first tells the consultant)."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id)
    if principal.role == Role.CLIENT:
        await count_quotation_view(request, session, state, quotation, "account")
    return await _view(session, state, quotation, principal)


@router.patch("/quotations/{quotation_id}", response_model=QuotationView)
async def edit_draft(
    quotation_id: UUID, body: QuotationEdit, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationView:
    """Change a draft in place (a sent quotation is revised instead)."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id, lock=True)
    require_draft(quotation)
    now = datetime.now(UTC)
    consultant = await consultant_for(session, tenant, principal, body.consultant_id or quotation.consultant_id)
    quotation.consultant_id = consultant.id
    await _contact(session, tenant, quotation, body)
    if body.reminder_days is not None:
        try:
            quotation.reminder_days = check_reminder_days(body.reminder_days)
        except ValueError as exc:
            raise Problem(VALIDATION, str(exc), field="reminder_days") from exc
    if "expires_at" in body.model_fields_set:
        quotation.expires_at = validity(body.expires_at, None, now)
    if body.validity_days is not None:
        quotation.validity_days = body.validity_days
    old = (await session.execute(select(QuotationVersion).where(
        QuotationVersion.quotation_id == quotation.id, QuotationVersion.version == 1))).scalar_one()
    lines = [_line_in(line) for line in (await session.execute(select(QuotationLine).where(
        QuotationLine.version_id == old.id).order_by(QuotationLine.position))).scalars()]
    given = body.model_dump(exclude_unset=True)
    for name in ("title", "lines", "discount_kind", "discount_value"):
        if name in given and given[name] is None:
            raise Problem(VALIDATION, f"{name}: may not be null: leave it out to keep the current value", field=name)
    content = QuotationContent.model_validate({
        "title": old.title, "currency": old.currency, "discount_kind": old.discount_kind,
        "discount_value": old.discount_value, "notes": old.notes, "terms": old.terms, "file_id": old.attachment_file_id,
        "lines": lines, **{k: given[k] for k in ("title", "currency", "discount_kind", "discount_value", "notes",
                                                "terms", "file_id", "lines") if k in given}})
    version = await write_version(session, tenant, quotation, 1, content, consultant, principal.user_id,
                                  expires_at=quotation.expires_at)
    quotation.title, quotation.total, quotation.currency = version.title, version.total, version.currency
    await session.flush()
    return await _view(session, state, quotation, principal)


def _line_in(line: QuotationLine) -> dict[str, object]:
    return {"kind": line.kind, "description": line.description, "unit_amount": line.unit_amount,
            "quantity": line.quantity, "offering_id": line.offering_id, "ref_id": line.ref_id}


@router.post("/quotations/{quotation_id}/send", response_model=QuotationView)
async def send_quotation(
    quotation_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State,
    body: SendBody | None = None, principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationView:
    """Send the draft: the client gets the link and the PDF (email, and WhatsApp/SMS where they allow it);
    reminders follow before expiry. The client's account is made now if they have none."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id, lock=True)
    await send(request, session, state, tenant, quotation, body.expires_at if body else None, principal.user_id)
    await record_audit(session, tenant_id=tenant.id, action="quotation.sent", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="quotation", target_id=quotation.id,
                       details={"expires_at": quotation.expires_at.isoformat() if quotation.expires_at else None})
    return await _view(session, state, quotation, principal)


@router.post("/quotations/{quotation_id}/revise", response_model=QuotationView)
async def revise_quotation(
    quotation_id: UUID, body: QuotationContent, tenant: CurrentTenant, session: Session, state: State,
    temporal: Temporal, principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationView:
    """Issue a new version of a sent quotation: it supersedes the last (the client's link shows it), is sent
    with its PDF, and validity and reminders start again. Earlier versions are kept."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id)
    if quotation.status not in OPEN:
        raise Problem(CONFLICT if quotation.status != QuotationStatus.DRAFT else VALIDATION,
                      f"this quotation is {quotation.status}: " + (
                          "edit the draft instead" if quotation.status == QuotationStatus.DRAFT
                          else "only a sent quotation is revised"))
    now = datetime.now(UTC)
    settings = quotation_settings(tenant.settings)
    expires = validity(body.expires_at, body.validity_days, now) or now + timedelta(
        days=body.validity_days or quotation.validity_days or int(str(settings["validity_days"])))
    consultant = await session.get(Consultant, quotation.consultant_id)
    assert consultant is not None
    number = quotation.current_version + 1
    # Its own transaction: the workflow's activity must see the row to issue it.
    async with scoped_session(state.sessionmaker, TenantScope.of(tenant.id)) as own:
        mine = await own.get(Quotation, quotation.id)
        assert mine is not None
        await write_version(own, tenant, mine, number, body, consultant, principal.user_id, expires_at=expires)
    await run_update(temporal, session, quotation, "revise", ReviseRequest(
        version=number, expires_at=expires, actor_user_id=principal.user_id), QuotationState)
    return await _view(session, state, await reread(session, quotation), principal)


@router.post("/quotations/{quotation_id}/extend", response_model=QuotationView)
async def extend_quotation(
    quotation_id: UUID, body: ExtendBody, tenant: CurrentTenant, session: Session, state: State, temporal: Temporal,
    principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationView:
    """Valid for longer: the expiry and the reminders move; the client is told."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id)
    expires = validity(body.expires_at, None, datetime.now(UTC))
    await run_update(temporal, session, quotation, "extend",
                     ExtendRequest(expires_at=expires, actor_user_id=principal.user_id), QuotationState)
    return await _view(session, state, await reread(session, quotation), principal)


@router.post("/quotations/{quotation_id}/withdraw", response_model=QuotationView)
async def withdraw_quotation(
    quotation_id: UUID, tenant: CurrentTenant, session: Session, state: State, temporal: Temporal,
    body: ReasonBody | None = None, principal: Principal = require(Permission.MANAGE_QUOTATIONS),
) -> QuotationView:
    """Take a sent quotation back (the client is told, with the reason if given)."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id)
    await run_update(temporal, session, quotation, "withdraw",
                     WithdrawRequest(reason=body.reason if body else None, actor_user_id=principal.user_id),
                     QuotationState)
    return await _view(session, state, await reread(session, quotation), principal)


@router.get("/quotations/{quotation_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def quotation_pdf(
    quotation_id: UUID, tenant: CurrentTenant, session: Session, lang: PdfLanguage = "en",
    version: Annotated[int | None, Query(ge=1, le=10_000, description="default: the current version")] = None,
    principal: Principal = require(Permission.VIEW_ORDERS),
) -> Response:
    """The PDF of a version (English or Hindi)."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id)
    return await quotation_pdf_response(session, quotation, lang, version if is_staff(principal) else None)


# -- the client, signed in ------------------------------------------------------------------------
@router.post("/quotations/{quotation_id}/accept", response_model=AcceptedOut)
async def accept_quotation(
    quotation_id: UUID, tenant: CurrentTenant, session: Session, temporal: Temporal,
    principal: Principal = require(Permission.PAY_ORDERS),
) -> AcceptedOut:
    """Accept: the order is made (its figures are the quotation's) and what Razorpay Checkout needs comes
    back. An accept racing the expiry has one outcome: this answer, or 409 `quotation-expired`."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id)
    require_client(principal, quotation)
    return await accept_and_checkout(session, temporal, quotation,
                                     AcceptRequest(actor_user_id=principal.user_id, via="account"))


@router.post("/quotations/{quotation_id}/reject", response_model=QuotationOut)
async def reject_quotation(
    quotation_id: UUID, tenant: CurrentTenant, session: Session, temporal: Temporal,
    body: ReasonBody | None = None, principal: Principal = require(Permission.VIEW_ORDERS),
) -> QuotationOut:
    """Decline, with a reason if you like: the consultant is told."""
    quotation = await visible_quotation(session, tenant.id, principal, quotation_id)
    require_client(principal, quotation)
    await run_update(temporal, session, quotation, "reject",
                     RejectRequest(reason=body.reason if body else None, actor_user_id=principal.user_id),
                     QuotationState)
    return await quotation_out(session, await reread(session, quotation))
