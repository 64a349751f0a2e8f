"""Personal data: exports, erasures and consents.

A client exports or erases their own data under `/me/privacy/...` and records consents under
`/me/consents`; the consultancy's owner (erasure) and staff (export, consents on the client's
behalf) act for a client under `/clients/{client_id}/...`. Each export or erasure is a workflow
(`privacy-export-<id>`, `privacy-erasure-<id>`) started after the request's row commits; the
request answers 202 at once and the row follows the workflow. The archive is fetched with the
signed link the client is sent: `GET /privacy-exports/archive?token=` (no sign-in: the link is
the key), until it expires.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import func, select

from api.deps import CurrentTenant, Principal, RawSession, Session, State, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import CONFLICT, INVALID_LINK, NOT_FOUND, VALIDATION, Problem
from api.schemas.privacy import (
    ClientErasure,
    ConsentIn,
    ConsentOut,
    Consents,
    PrivacyRequestOut,
    StaffErasure,
    StaffExport,
)
from api.services.files import storage_of
from api.workflow_starts import start_after_commit
from core.db import TenantScope, enter_scope
from core.signing import LinkError, verify
from core.storage import ObjectMissing
from domain.bookings.consultation import LIVE_STATUSES
from domain.privacy.consents import ConsentSource
from domain.privacy.requests import (
    EXPORT_PURPOSE,
    PRIVACY_ERASURE_WORKFLOW,
    PRIVACY_EXPORT_WORKFLOW,
    PrivacyInput,
    PrivacyKind,
    PrivacyStatus,
    erasure_workflow_id,
    export_workflow_id,
)
from models.bookings import Booking
from models.identity import Role, User
from models.platform import record_audit
from models.privacy import Consent, PrivacyRequest
from models.tenancy import Tenant

router = APIRouter(tags=["privacy"])

IN_FLIGHT = (PrivacyStatus.REQUESTED.value, PrivacyStatus.RUNNING.value)
EXPORT_REUSE = timedelta(hours=24)  # an export made in the last day is answered again, not rebuilt


async def _client(session: Session, tenant_id: UUID, client_id: UUID) -> User:
    user = await session.get(User, client_id)
    if user is None or user.tenant_id != tenant_id or user.role != Role.CLIENT:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    return user


async def _current(session: Session, tenant_id: UUID, client_id: UUID, kind: PrivacyKind) -> PrivacyRequest | None:
    """An export or erasure of this client still running (or an export ready and recent)."""
    stmt = select(PrivacyRequest).where(PrivacyRequest.tenant_id == tenant_id, PrivacyRequest.client_id == client_id,
                                        PrivacyRequest.kind == kind.value)
    if kind == PrivacyKind.EXPORT:
        recent = datetime.now(UTC) - EXPORT_REUSE
        stmt = stmt.where((PrivacyRequest.status.in_(IN_FLIGHT)) | (
            (PrivacyRequest.status == PrivacyStatus.READY.value) & (PrivacyRequest.created_at > recent)))
    else:
        stmt = stmt.where(PrivacyRequest.status.in_(IN_FLIGHT))
    return (await session.execute(stmt.order_by(PrivacyRequest.created_at.desc()).limit(1))).scalar_one_or_none()


async def _begin(request: Request, session: Session, state: State, tenant: Tenant, client: User, kind: PrivacyKind,
                 principal: Principal, reason: str | None) -> PrivacyRequest:
    request_id = uuid.uuid4()
    workflow_id = export_workflow_id(request_id) if kind == PrivacyKind.EXPORT else erasure_workflow_id(request_id)
    row = PrivacyRequest(id=request_id, tenant_id=tenant.id, client_id=client.id, kind=kind.value,
                         status=PrivacyStatus.RUNNING.value, requested_by=principal.user_id, reason=reason,
                         workflow_id=workflow_id, summary={})
    session.add(row)
    await session.flush()
    inp = PrivacyInput(request_id=request_id, tenant_id=tenant.id, client_id=client.id, kind=kind)
    await start_after_commit(
        request, session, state, tenant_id=tenant.id, workflow_id=workflow_id, payload=inp,
        workflow_type=PRIVACY_EXPORT_WORKFLOW if kind == PrivacyKind.EXPORT else PRIVACY_ERASURE_WORKFLOW,
        search_attributes={"TenantId": str(tenant.id), "ClientId": str(client.id), "EntityStatus": "running"},
        memo={"summary": f"{kind.value} of client {client.id}: running"})
    await record_audit(session, tenant_id=tenant.id, action=f"privacy.{kind.value}_requested",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="client",
                       target_id=client.id, details={"request_id": str(request_id)})
    await session.refresh(row)
    return row


async def _refuse_with_live_bookings(session: Session, tenant_id: UUID, client_id: UUID) -> None:
    live = (await session.execute(select(func.count()).select_from(Booking).where(
        Booking.tenant_id == tenant_id, Booking.client_id == client_id, Booking.status.in_(LIVE_STATUSES),
        Booking.ends_at > datetime.now(UTC)))).scalar_one()
    if live:
        raise Problem(CONFLICT, f"there are {live} upcoming session(s): cancel them first (the consultancy may "
                                "erase with `force`, which stops them without a refund)")


# -- the client's own ---------------------------------------------------------------------------------------
@router.post("/me/privacy/exports", status_code=status.HTTP_202_ACCEPTED, response_model=PrivacyRequestOut)
async def export_my_data(
    request: Request, response: Response, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_DATA),
) -> PrivacyRequestOut:
    """Ask for a copy of everything this consultancy holds about you. A link to a ZIP archive is
    emailed (and shown in-app) when it is ready; it works for 7 days. Asking again within a day
    answers the same export."""
    client = await _client(session, tenant.id, principal.user_id)
    existing = await _current(session, tenant.id, client.id, PrivacyKind.EXPORT)
    if existing is not None:
        return PrivacyRequestOut.model_validate(existing)
    return PrivacyRequestOut.model_validate(
        await _begin(request, session, state, tenant, client, PrivacyKind.EXPORT, principal, None))


@router.post("/me/privacy/erasure", status_code=status.HTTP_202_ACCEPTED, response_model=PrivacyRequestOut)
async def erase_my_data(
    body: ClientErasure, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_DATA),
) -> PrivacyRequestOut:
    """Erase your account and personal data. Invoices and payment records stay (the law keeps
    them for years) with your name, email and phone removed. You are signed out everywhere."""
    client = await _client(session, tenant.id, principal.user_id)
    if body.confirm_email.lower() != client.email.lower():
        raise Problem(VALIDATION, "confirm_email: type the email of this account to confirm", field="confirm_email")
    existing = await _current(session, tenant.id, client.id, PrivacyKind.ERASURE)
    if existing is not None:
        return PrivacyRequestOut.model_validate(existing)
    await _refuse_with_live_bookings(session, tenant.id, client.id)
    return PrivacyRequestOut.model_validate(
        await _begin(request, session, state, tenant, client, PrivacyKind.ERASURE, principal, body.reason))


@router.get("/me/privacy/requests", response_model=list[PrivacyRequestOut])
async def my_privacy_requests(
    tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.OWN_DATA),
) -> list[PrivacyRequestOut]:
    rows = (await session.execute(select(PrivacyRequest).where(
        PrivacyRequest.tenant_id == tenant.id, PrivacyRequest.client_id == principal.user_id)
        .order_by(PrivacyRequest.created_at.desc()).limit(50))).scalars()
    return [PrivacyRequestOut.model_validate(r) for r in rows]


@router.get("/me/consents", response_model=Consents)
async def my_consents(
    tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.OWN_DATA),
) -> Consents:
    return await _consents(session, tenant.id, principal.user_id)


@router.post("/me/consents", status_code=status.HTTP_201_CREATED, response_model=ConsentOut)
async def record_my_consent(
    body: ConsentIn, request: Request, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.OWN_DATA),
) -> ConsentOut:
    """Record a decision (agree to the terms' version 2026-11, withdraw marketing, ...)."""
    client = await _client(session, tenant.id, principal.user_id)
    return await _record_consent(request, session, tenant.id, client, body, principal, ConsentSource.CLIENT)


# -- the consultancy, for a client --------------------------------------------------------------------------
@router.post("/clients/{client_id}/privacy/exports", status_code=status.HTTP_202_ACCEPTED,
             response_model=PrivacyRequestOut)
async def export_client_data(
    client_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State,
    body: StaffExport | None = None, principal: Principal = require(Permission.PRIVACY_EXPORTS),
) -> PrivacyRequestOut:
    """Prepare a client's data export (they asked by email, say); the link goes to the client."""
    client = await _client(session, tenant.id, client_id)
    existing = await _current(session, tenant.id, client.id, PrivacyKind.EXPORT)
    if existing is not None:
        return PrivacyRequestOut.model_validate(existing)
    return PrivacyRequestOut.model_validate(await _begin(
        request, session, state, tenant, client, PrivacyKind.EXPORT, principal, body.reason if body else None))


@router.post("/clients/{client_id}/privacy/erasure", status_code=status.HTTP_202_ACCEPTED,
             response_model=PrivacyRequestOut)
async def erase_client_data(
    client_id: UUID, body: StaffErasure, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.PRIVACY_ERASURE),
) -> PrivacyRequestOut:
    """Erase a client's personal data (owner only; audited with the reason)."""
    client = await _client(session, tenant.id, client_id)
    existing = await _current(session, tenant.id, client.id, PrivacyKind.ERASURE)
    if existing is not None:
        return PrivacyRequestOut.model_validate(existing)
    if not body.force:
        await _refuse_with_live_bookings(session, tenant.id, client.id)
    return PrivacyRequestOut.model_validate(
        await _begin(request, session, state, tenant, client, PrivacyKind.ERASURE, principal, body.reason))


@router.get("/privacy-requests", response_model=Page[PrivacyRequestOut])
async def list_privacy_requests(
    tenant: CurrentTenant, session: Session, paging: Paging,
    client_id: Annotated[UUID | None, Query()] = None,
    kind: Annotated[PrivacyKind | None, Query()] = None,
    principal: Principal = require(Permission.PRIVACY_EXPORTS),
) -> Page[PrivacyRequestOut]:
    """The consultancy's exports and erasures, newest first (filter by client and kind)."""
    stmt = select(PrivacyRequest).where(PrivacyRequest.tenant_id == tenant.id)
    if client_id:
        stmt = stmt.where(PrivacyRequest.client_id == client_id)
    if kind:
        stmt = stmt.where(PrivacyRequest.kind == kind.value)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": PrivacyRequest.created_at},
                                  default_sort="-created_at", id_column=PrivacyRequest.id)
    return Page[PrivacyRequestOut](items=[PrivacyRequestOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/privacy-requests/{request_id}", response_model=PrivacyRequestOut)
async def read_privacy_request(
    request_id: UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.PRIVACY_EXPORTS),
) -> PrivacyRequestOut:
    row = await session.get(PrivacyRequest, request_id)
    if row is None or row.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no privacy request with this id", field="request_id")
    return PrivacyRequestOut.model_validate(row)


@router.get("/clients/{client_id}/consents", response_model=Consents)
async def client_consents(
    client_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.VIEW_CLIENTS),
) -> Consents:
    client = await _client(session, tenant.id, client_id)
    return await _consents(session, tenant.id, client.id)


@router.post("/clients/{client_id}/consents", status_code=status.HTTP_201_CREATED, response_model=ConsentOut)
async def record_client_consent(
    client_id: UUID, body: ConsentIn, request: Request, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_CLIENTS),
) -> ConsentOut:
    """Record a client's decision taken outside the app (a signed form, a call); audited."""
    client = await _client(session, tenant.id, client_id)
    return await _record_consent(request, session, tenant.id, client, body, principal, ConsentSource.STAFF)


# -- the archive, by its signed link ------------------------------------------------------------------------
@router.get("/privacy-exports/archive", response_class=Response,
            responses={200: {"description": "the ZIP archive", "content": {"application/zip": {}}}})
async def download_archive(
    session: RawSession, state: State,
    token: Annotated[str, Query(min_length=10, max_length=2000, description="from the export's link")],
) -> Response:
    """The export's ZIP archive for whoever holds its link (no sign-in), until the link expires."""
    try:
        claims = verify(state.keys, EXPORT_PURPOSE, token)
        request_id, tenant_id = UUID(str(claims["r"])), UUID(str(claims["t"]))
    except (LinkError, KeyError, ValueError) as exc:
        raise Problem(INVALID_LINK, "this link is not valid or has expired; ask for a new export",
                      field="token") from exc
    await enter_scope(session, TenantScope.of(tenant_id))
    row = await session.get(PrivacyRequest, request_id)
    if row is None or row.tenant_id != tenant_id or not row.archive_key:
        raise Problem(INVALID_LINK, "this export has expired or was erased; ask for a new one", field="token")
    try:
        data = await storage_of(state).get(row.archive_key)
    except ObjectMissing as exc:
        raise Problem(INVALID_LINK, "this export has expired; ask for a new one", field="token") from exc
    name = f"muhurta-data-{row.created_at:%Y%m%d}.zip"
    return Response(content=data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# -- consents -----------------------------------------------------------------------------------------------
async def _consents(session: Session, tenant_id: UUID, user_id: UUID) -> Consents:
    rows = list((await session.execute(select(Consent).where(Consent.tenant_id == tenant_id, Consent.user_id == user_id)
                                       .order_by(Consent.recorded_at.desc()).limit(500))).scalars())
    current: dict[str, Consent] = {}
    for row in rows:
        current.setdefault(row.kind, row)
    return Consents(current=[ConsentOut.model_validate(r) for r in current.values()],
                    history=[ConsentOut.model_validate(r) for r in rows])


async def _record_consent(request: Request, session: Session, tenant_id: UUID, client: User, body: ConsentIn,
                          principal: Principal, source: ConsentSource) -> ConsentOut:
    context = request.state.context
    row = Consent(tenant_id=tenant_id, user_id=client.id, kind=body.kind.value, version=body.version,
                  granted=body.granted, recorded_at=datetime.now(UTC), source=source.value,
                  recorded_by=principal.user_id, ip=context.ip,
                  user_agent=(request.headers.get("user-agent") or "")[:300] or None)
    session.add(row)
    await session.flush()
    await record_audit(session, tenant_id=tenant_id, action="privacy.consent_recorded",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="client",
                       target_id=client.id,
                       details={"kind": body.kind.value, "version": body.version, "granted": body.granted})
    return ConsentOut.model_validate(row)
