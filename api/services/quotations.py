"""Quotations for the API: drafts, versions, the numbers, who sees what, and acting through the workflow.

Drafts live only in PostgreSQL and are edited in place. Sending writes the row as sent (the
client becomes the consultancy's client then, without a password if new) and starts
`quotation-<id>` after the commit; from then on every change goes through the workflow's
validated updates. A revision is written here as an unissued version row, then the `revise`
update issues it (or the row stays unissued if the workflow refuses, and a later revision of
the same number replaces it).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.documents.pdf import PdfUnavailableError
from activities.quotations.document import render_quotation
from api.deps import Principal
from api.permissions import Permission, allowed
from api.problems import (
    CONFLICT,
    FORBIDDEN,
    INVALID_LINK,
    NOT_FOUND,
    QUOTATION_CLOSED,
    QUOTATION_EXPIRED,
    REPORT_UNAVAILABLE,
    TOKEN_EXPIRED_OR_USED,
    VALIDATION,
    Problem,
)
from api.schemas.payments import CheckoutOut
from api.schemas.quotations import (
    AcceptedOut,
    QuotationContent,
    QuotationOut,
    QuoteLineIn,
    QuoteLineOut,
    VersionOut,
)
from api.services.bookings import guest_client
from api.services.checkout import begin_checkout
from api.state import AppState
from api.workflow_starts import signal_after_commit, start_after_commit
from core.db import TenantScope, enter_scope
from core.security import Keys
from core.signing import LinkError, verify
from domain.payments.pricing import GstMode, Price, PriceRefused
from domain.quotations import (
    LINK_PURPOSE,
    OPEN,
    QUOTATION_WORKFLOW,
    Accepted,
    AcceptRequest,
    DiscountKind,
    ExpiryRefused,
    QuotationInput,
    QuotationStatus,
    QuoteLine,
    QuoteLineKind,
    Viewed,
    check_expiry,
    price_quotation,
    quotation_settings,
    quotation_workflow_id,
    quote_number,
)
from models.bookings import Consultant, Offering
from models.courses import Course
from models.files import StoredFile
from models.identity import Role, User
from models.payments import Order, payment_settings
from models.quotations import Quotation, QuotationCounter, QuotationLine, QuotationVersion
from models.quotations import QuotationView as QuotationViewRow
from models.tenancy import Tenant
from workflows.search_attributes import CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS, TENANT_ID

log = logging.getLogger(__name__)


def is_staff(principal: Principal) -> bool:
    return allowed(principal.role, Permission.MANAGE_QUOTATIONS)


def quotations_of(tenant_id: uuid.UUID, principal: Principal) -> Select[Any]:
    """The one readable statement for quotations: staff every one, a consultant theirs, a client
    their own that were sent (never a draft)."""
    stmt = select(Quotation).where(Quotation.tenant_id == tenant_id)
    if principal.role == Role.CONSULTANT:
        stmt = stmt.join(Consultant, Consultant.id == Quotation.consultant_id).where(
            Consultant.user_id == principal.user_id)
    elif not is_staff(principal):
        stmt = stmt.where(Quotation.client_id == principal.user_id, Quotation.status != QuotationStatus.DRAFT)
    return stmt


async def visible_quotation(session: AsyncSession, tenant_id: uuid.UUID, principal: Principal,
                            quotation_id: uuid.UUID, *, lock: bool = False) -> Quotation:
    stmt = quotations_of(tenant_id, principal).where(Quotation.id == quotation_id)
    found: Quotation | None = (await session.execute(stmt.with_for_update(of=Quotation) if lock else stmt)
                               ).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "you have no quotation with this id", field="quotation_id")
    return found


async def next_number(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """The consultancy's next quote number: the counter row is locked until the commit."""
    stmt = insert(QuotationCounter).values(tenant_id=tenant_id, last_number=1).on_conflict_do_update(
        index_elements=["tenant_id"], set_={"last_number": QuotationCounter.last_number + 1},
    ).returning(QuotationCounter.last_number)
    number: int = (await session.execute(stmt)).scalar_one()
    return number


# -- who and what ---------------------------------------------------------------------------------
async def consultant_for(session: AsyncSession, tenant: Tenant, principal: Principal,
                         consultant_id: uuid.UUID | None) -> Consultant:
    if consultant_id is None:
        own = (await session.execute(select(Consultant).where(
            Consultant.tenant_id == tenant.id, Consultant.user_id == principal.user_id))).scalar_one_or_none()
        if own is None:
            raise Problem(VALIDATION, "consultant_id: you have no consultant profile; name the consultant who quotes",
                          field="consultant_id")
        return own
    consultant = await session.get(Consultant, consultant_id)
    if consultant is None or consultant.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no consultant with this id", field="consultant_id")
    if principal.role == Role.CONSULTANT and consultant.user_id != principal.user_id:
        raise Problem(FORBIDDEN, "consultants quote only in their own name", field="consultant_id")
    return consultant


async def client_user(session: AsyncSession, tenant: Tenant, client_id: uuid.UUID) -> User:
    user = await session.get(User, client_id)
    if user is None or user.tenant_id != tenant.id or user.role != Role.CLIENT:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    return user


async def check_file(session: AsyncSession, tenant: Tenant, file_id: uuid.UUID | None) -> None:
    if file_id is None:
        return
    stored = await session.get(StoredFile, file_id)
    if stored is None or stored.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no file with this id", field="file_id")


async def resolve_lines(session: AsyncSession, tenant: Tenant, consultant: Consultant,
                        lines: list[QuoteLineIn]) -> list[QuoteLine]:
    """The body's lines with offerings and courses looked up (the consultancy's own) and defaults filled."""
    made: list[QuoteLine] = []
    for position, line in enumerate(lines):
        at = f"lines.{position}"
        description, amount, ref = line.description, line.unit_amount, line.ref_id
        offering_id = str(line.offering_id) if line.offering_id else None
        if line.offering_id is not None:
            offering = await session.get(Offering, line.offering_id)
            if offering is None or offering.tenant_id != tenant.id:
                raise Problem(NOT_FOUND, "this consultancy has no offering with this id", field=f"{at}.offering_id")
            description = description or offering.title
            amount = offering.price_minor if amount is None else amount
        if line.kind == QuoteLineKind.OFFERING and line.offering_id is None:
            raise Problem(VALIDATION, "an offering line names the offering", field=f"{at}.offering_id")
        if line.kind in (QuoteLineKind.CUSTOM, QuoteLineKind.OFFERING) and ref is not None:
            raise Problem(VALIDATION, "only report and course lines carry a ref_id", field=f"{at}.ref_id")
        if line.kind == QuoteLineKind.COURSE:
            course = await _course(session, tenant, ref)
            if course is None:
                raise Problem(NOT_FOUND, "this consultancy has no course with this id", field=f"{at}.ref_id")
            description = description or course.title
            amount = course.price_minor if amount is None else amount
        if line.kind == QuoteLineKind.REPORT:
            writer = await _writer(session, tenant, ref) if ref else await session.get(User, consultant.user_id)
            if writer is None:
                raise Problem(NOT_FOUND, "this consultancy has no consultant with this user id", field=f"{at}.ref_id")
            ref = str(writer.id)
        if not description:
            raise Problem(VALIDATION, "describe the line", field=f"{at}.description")
        if amount is None:
            raise Problem(VALIDATION, "give the line's unit_amount (minor units)", field=f"{at}.unit_amount")
        made.append(QuoteLine(kind=line.kind, description=description, unit_amount=amount, quantity=line.quantity,
                              offering_id=offering_id, ref_id=ref))
    return made


async def _course(session: AsyncSession, tenant: Tenant, ref: str | None) -> Course | None:
    try:
        course_id = uuid.UUID(ref or "")
    except ValueError:
        return None
    course = await session.get(Course, course_id)
    return course if course is not None and course.tenant_id == tenant.id else None


async def _writer(session: AsyncSession, tenant: Tenant, ref: str) -> User | None:
    try:
        user = await session.get(User, uuid.UUID(ref))
    except ValueError:
        return None
    if user is None or user.tenant_id != tenant.id or user.role not in (Role.OWNER, Role.CONSULTANT):
        return None
    return user


async def priced(session: AsyncSession, tenant: Tenant, lines: list[QuoteLine], *, currency: str | None,
                 discount_kind: DiscountKind, discount_value: int) -> tuple[Price, GstMode, int]:
    setup = await payment_settings(session, tenant.id)
    mode = GstMode(setup.gst_mode) if setup else GstMode.NONE
    rate = setup.gst_rate_bp if setup and mode != GstMode.NONE else 0
    try:
        price = price_quotation(lines, currency=currency or (setup.currency if setup else "INR"),
                                discount_kind=discount_kind, discount_value=discount_value, gst_mode=mode,
                                gst_rate_bp=rate)
    except PriceRefused as exc:
        raise Problem(VALIDATION, exc.message, field=exc.field) from exc
    return price, mode, rate


def validity(expires_at: datetime | None, validity_days: int | None, now: datetime) -> datetime | None:
    """The expiry given, checked (future, within a year); None when it is to be days after sending."""
    if expires_at is None:
        return None
    try:
        check_expiry(expires_at.astimezone(UTC), now)
    except ExpiryRefused as exc:
        raise Problem(VALIDATION, exc.message, field=exc.field) from exc
    return expires_at.astimezone(UTC)


async def write_version(session: AsyncSession, tenant: Tenant, quotation: Quotation, number: int,
                        content: QuotationContent, consultant: Consultant, actor: uuid.UUID,
                        *, expires_at: datetime | None) -> QuotationVersion:
    """A version row and its lines (replacing an unissued row of that number, e.g. a draft's)."""
    await check_file(session, tenant, content.file_id)
    lines = await resolve_lines(session, tenant, consultant, content.lines)
    price, mode, rate = await priced(session, tenant, lines, currency=content.currency or quotation.currency,
                                     discount_kind=content.discount_kind, discount_value=content.discount_value)
    await session.execute(delete(QuotationVersion).where(
        QuotationVersion.quotation_id == quotation.id, QuotationVersion.version == number,
        QuotationVersion.issued_at.is_(None)))
    version = QuotationVersion(
        tenant_id=tenant.id, quotation_id=quotation.id, version=number, title=content.title, currency=price.currency,
        discount_kind=content.discount_kind.value, discount_value=content.discount_value, subtotal=price.subtotal,
        discount=price.discount, taxable=price.taxable, tax=price.tax, total=price.total, gst_mode=mode.value,
        gst_rate_bp=rate, notes=content.notes, terms=content.terms, attachment_file_id=content.file_id,
        expires_at=expires_at, created_by=actor)
    session.add(version)
    await session.flush()
    for position, (line, figures) in enumerate(zip(lines, price.lines, strict=True)):
        session.add(QuotationLine(
            tenant_id=tenant.id, version_id=version.id, position=position, kind=line.kind.value,
            description=line.description, offering_id=uuid.UUID(line.offering_id) if line.offering_id else None,
            ref_id=line.ref_id, quantity=line.quantity, unit_amount=line.unit_amount, gross=figures.gross,
            discount=figures.discount, tax=figures.tax, total=figures.total))
    await session.flush()
    return version


# -- sending --------------------------------------------------------------------------------------
async def send(request: Request, session: AsyncSession, state: AppState, tenant: Tenant, quotation: Quotation,
               expires_at: datetime | None, actor: uuid.UUID) -> None:
    """Draft -> sent: the client's account (made if new), the expiry, then the workflow after the commit."""
    if quotation.status != QuotationStatus.DRAFT:
        raise Problem(QUOTATION_CLOSED, f"this quotation is {quotation.status}; revise it to send a new version")
    now = datetime.now(UTC)
    settings = quotation_settings(tenant.settings)
    expiry = validity(expires_at, None, now) or quotation.expires_at
    if expiry is None:
        days = quotation.validity_days or int(str(settings["validity_days"]))
        expiry = now + timedelta(days=days)
    elif expiry <= now:
        raise Problem(VALIDATION, "the draft's expiry has passed; give a new expires_at", field="expires_at")
    if quotation.client_id is None:
        client = await guest_client(session, tenant, full_name=quotation.client_name, email=quotation.client_email,
                                    phone=quotation.client_phone, timezone=quotation.client_timezone)
        quotation.client_id = client.id
    version = (await session.execute(select(QuotationVersion).where(
        QuotationVersion.quotation_id == quotation.id, QuotationVersion.version == 1))).scalar_one()
    version.issued_at, version.expires_at = now, expiry
    quotation.status, quotation.sent_at, quotation.expires_at = QuotationStatus.SENT, now, expiry
    quotation.workflow_id = quotation_workflow_id(quotation.id)
    consultant = await session.get(Consultant, quotation.consultant_id)
    assert consultant is not None
    await session.flush()
    inp = QuotationInput(
        quotation_id=quotation.id, tenant_id=tenant.id, client_id=quotation.client_id,
        consultant_id=quotation.consultant_id, number=quote_number(quotation.number), expires_at=expiry, sent_at=now,
        reminder_days=list(quotation.reminder_days if quotation.reminder_days is not None
                           else settings["reminder_days"]),  # type: ignore[call-overload]
        payment_window_seconds=int(str(settings["payment_window_hours"])) * 3600)
    await start_after_commit(
        request, session, state, workflow_type=QUOTATION_WORKFLOW, workflow_id=quotation.workflow_id, payload=inp,
        tenant_id=tenant.id,
        search_attributes={TENANT_ID.name: str(tenant.id), CLIENT_ID.name: str(quotation.client_id),
                           CONSULTANT_ID.name: str(quotation.consultant_id), ENTITY_STATUS.name: "sent"},
        memo={"summary": f"Quotation {quote_number(quotation.number)} v1: sent"})


# -- acting through the workflow -----------------------------------------------------------------
async def run_update(client: Client, session: AsyncSession, quotation: Quotation, name: str, argument: Any,
                     result_type: type) -> Any:
    """A validated update; refusals as problems with stable types (expired, closed, or the field at fault)."""
    if quotation.status == QuotationStatus.DRAFT:
        raise Problem(QUOTATION_CLOSED, "this quotation is a draft: send it first")
    if quotation.status not in OPEN or quotation.workflow_id is None:
        raise Problem(QUOTATION_CLOSED, f"this quotation is {quotation.status}")
    handle = client.get_workflow_handle(quotation.workflow_id)
    try:
        return await handle.execute_update(name, argument, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == "QuotationExpired":
            raise Problem(QUOTATION_EXPIRED, cause.message) from exc
        if isinstance(cause, ApplicationError) and cause.type == "QuotationClosed":
            raise Problem(QUOTATION_CLOSED, cause.message) from exc
        raise
    except RPCError as exc:  # the workflow ended meanwhile (expired a moment ago): say what the row says
        await session.refresh(quotation)
        if quotation.status == QuotationStatus.EXPIRED:
            raise Problem(QUOTATION_EXPIRED, "this quotation has expired") from exc
        if quotation.status not in OPEN:
            raise Problem(QUOTATION_CLOSED, f"this quotation is {quotation.status}") from exc
        raise


async def reread(session: AsyncSession, quotation: Quotation) -> Quotation:
    """The row as the workflow's activity left it (committed in its own transaction)."""
    await session.refresh(quotation)
    return quotation


# -- the signed link ------------------------------------------------------------------------------
async def quotation_from_link(session: AsyncSession, keys: Keys, token: str, *, lock: bool = False
                              ) -> tuple[Tenant, Quotation]:
    try:
        claims = verify(keys, LINK_PURPOSE, token)
        tenant_id, quotation_id = uuid.UUID(claims["t"]), uuid.UUID(claims["q"])
    except LinkError as exc:
        if "expired" in str(exc):
            raise Problem(TOKEN_EXPIRED_OR_USED, "this quotation link has expired", field="link_token") from exc
        raise Problem(INVALID_LINK, field="link_token") from exc
    except (KeyError, ValueError) as exc:
        raise Problem(INVALID_LINK, field="link_token") from exc
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise Problem(INVALID_LINK, field="link_token")
    await enter_scope(session, TenantScope.of(tenant.id))
    stmt = select(Quotation).where(Quotation.id == quotation_id, Quotation.tenant_id == tenant.id,
                                   Quotation.status != QuotationStatus.DRAFT)
    quotation = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if quotation is None:
        raise Problem(INVALID_LINK, field="link_token")
    return tenant, quotation


# -- reading --------------------------------------------------------------------------------------
async def versions_of(session: AsyncSession, quotation: Quotation, *, issued_only: bool) -> list[VersionOut]:
    rows = list((await session.execute(select(QuotationVersion).where(
        QuotationVersion.quotation_id == quotation.id).order_by(QuotationVersion.version))).scalars())
    made = []
    for row in rows:
        if issued_only and row.issued_at is None and row.version != quotation.current_version:
            continue
        lines = list((await session.execute(select(QuotationLine).where(QuotationLine.version_id == row.id)
                                            .order_by(QuotationLine.position))).scalars())
        made.append(VersionOut(
            version=row.version, title=row.title, currency=row.currency, discount_kind=row.discount_kind,
            discount_value=row.discount_value, subtotal=row.subtotal, discount=row.discount, taxable=row.taxable,
            tax=row.tax, total=row.total, gst_mode=row.gst_mode, gst_rate_bp=row.gst_rate_bp, notes=row.notes,
            terms=row.terms, file_id=row.attachment_file_id, issued_at=row.issued_at, expires_at=row.expires_at,
            superseded=row.version < quotation.current_version,
            lines=[QuoteLineOut.model_validate(line) for line in lines]))
    return made


def can_accept(quotation: Quotation, now: datetime | None = None) -> bool:
    return quotation.status in OPEN and quotation.expires_at is not None and (now or datetime.now(UTC)) < \
        quotation.expires_at


async def quotation_out(session: AsyncSession, quotation: Quotation) -> QuotationOut:
    consultant = await session.get(Consultant, quotation.consultant_id)
    versions = await versions_of(session, quotation, issued_only=True)
    current = next(v for v in versions if v.version == quotation.current_version)
    return QuotationOut(
        id=quotation.id, number=quote_number(quotation.number), status=QuotationStatus(quotation.status),
        title=quotation.title, consultant_id=quotation.consultant_id,
        consultant_name=consultant.display_name if consultant else "", client_id=quotation.client_id,
        client_name=quotation.client_name, client_email=quotation.client_email, currency=quotation.currency,
        total=quotation.total, version=quotation.current_version, expires_at=quotation.expires_at,
        validity_days=quotation.validity_days, reminder_days=list(quotation.reminder_days or []),
        sent_at=quotation.sent_at, views=quotation.views, first_viewed_at=quotation.first_viewed_at,
        last_viewed_at=quotation.last_viewed_at, decided_at=quotation.decided_at,
        decision_reason=quotation.decision_reason, order_id=quotation.order_id, paid_at=quotation.paid_at,
        workflow_id=quotation.workflow_id, current=current, can_accept=can_accept(quotation))


def require_draft(quotation: Quotation) -> None:
    if quotation.status != QuotationStatus.DRAFT:
        raise Problem(QUOTATION_CLOSED, f"this quotation is {quotation.status}: only drafts are edited; revise it")


def require_client(principal: Principal, quotation: Quotation) -> None:
    if principal.role != Role.CLIENT or quotation.client_id != principal.user_id:
        raise Problem(FORBIDDEN, "only the client it is addressed to decides on a quotation")


def conflict(message: str) -> Problem:
    return Problem(CONFLICT, message)


# -- shared by the signed-in client's routes and the signed link's (api/routers/quotations.py,
# api/routers/quotation_links.py) ----------------------------------------------------------------
async def quotation_pdf_response(session: AsyncSession, quotation: Quotation, lang: str, version: int | None
                                 ) -> Response:
    """A version's PDF (the current one without `version`), in `lang`."""
    row = (await session.execute(select(QuotationVersion).where(
        QuotationVersion.quotation_id == quotation.id,
        QuotationVersion.version == (version or quotation.current_version)))).scalar_one_or_none()
    if row is None:
        raise Problem(NOT_FOUND, "this quotation has no such version", field="version")
    lines = list((await session.execute(select(QuotationLine).where(QuotationLine.version_id == row.id)
                                        .order_by(QuotationLine.position))).scalars())
    try:
        pdf = await render_quotation(session, quotation, row, lines, lang)
    except PdfUnavailableError as exc:
        raise Problem(REPORT_UNAVAILABLE, headers={"Retry-After": "60"}) from exc
    return Response(pdf.content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{pdf.filename}"'})


async def accept_and_checkout(session: AsyncSession, temporal: Client, quotation: Quotation, request: AcceptRequest
                              ) -> AcceptedOut:
    """Accept through the workflow; the order it made answers with Checkout's details when it can."""
    accepted: Accepted = await run_update(temporal, session, quotation, "accept", request, Accepted)
    order = await session.get(Order, accepted.order_id)
    checkout: CheckoutOut | None = None
    if order is not None:
        try:
            checkout = await begin_checkout(session, temporal, order)
        except (Problem, WorkflowUpdateFailedError) as exc:
            log.info("quotation %s accepted; checkout not available now: %s", quotation.id, exc)
    return AcceptedOut(quotation_status=accepted.state.status, order_id=accepted.order_id, checkout=checkout)


async def count_quotation_view(request: Request, session: AsyncSession, state: AppState, quotation: Quotation,
                               via: str) -> None:
    """Count a view in the row; the first one of a sent quotation makes it viewed (the workflow tells the
    consultant)."""
    if quotation.status == QuotationStatus.DRAFT:
        return
    now = datetime.now(UTC)
    agent = (request.headers.get("user-agent") or "")[:300] or None
    views: int = (await session.execute(update(Quotation).where(Quotation.id == quotation.id).values(
        views=Quotation.views + 1, last_viewed_at=now,
        first_viewed_at=func.coalesce(Quotation.first_viewed_at, now)).returning(Quotation.views))).scalar_one()
    if quotation.status == QuotationStatus.SENT:
        await session.execute(update(Quotation).where(Quotation.id == quotation.id,
                                                      Quotation.status == QuotationStatus.SENT)
                              .values(status=QuotationStatus.VIEWED))
    session.add(QuotationViewRow(tenant_id=quotation.tenant_id, quotation_id=quotation.id,
                                 version=quotation.current_version, viewed_at=now, via=via, user_agent=agent))
    await session.flush()
    await session.refresh(quotation)
    if quotation.status in OPEN and quotation.workflow_id:
        await signal_after_commit(request, session, state, workflow_id=quotation.workflow_id, signal="viewed",
                                  payload=Viewed(at=now, views=views), tenant_id=quotation.tenant_id)
