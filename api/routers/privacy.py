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

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import CurrentTenant, Principal, RawSession, Session, State, require
from api.pagination import Page, Paging
from api.permissions import Permission
from api.schemas.privacy import (
    ClientErasure,
    ConsentIn,
    ConsentOut,
    Consents,
    PrivacyRequestOut,
    StaffErasure,
    StaffExport,
)
from api.services import privacy
from api.services.privacy import Caller
from domain.privacy.consents import ConsentSource
from domain.privacy.requests import PrivacyKind

router = APIRouter(tags=["privacy"])


# -- the client's own ---------------------------------------------------------------------------------------
@router.post("/me/privacy/exports", status_code=status.HTTP_202_ACCEPTED, response_model=PrivacyRequestOut)
async def export_my_data(
    request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_DATA),
) -> PrivacyRequestOut:
    """Ask for a copy of everything this consultancy holds about you. A link to a ZIP archive is
    emailed (and shown in-app) when it is ready; it works for 7 days. Asking again within a day
    answers the same export."""
    return await privacy.request_export(session, Caller(request, state, tenant, principal), principal.user_id)


@router.post("/me/privacy/erasure", status_code=status.HTTP_202_ACCEPTED, response_model=PrivacyRequestOut)
async def erase_my_data(
    body: ClientErasure, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_DATA),
) -> PrivacyRequestOut:
    """Erase your account and personal data. Invoices and payment records stay (the law keeps
    them for years) with your name, email and phone removed. You are signed out everywhere."""
    return await privacy.request_erasure(session, Caller(request, state, tenant, principal), principal.user_id,
                                         reason=body.reason, confirm_email=body.confirm_email)


@router.get("/me/privacy/requests", response_model=list[PrivacyRequestOut])
async def my_privacy_requests(
    tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.OWN_DATA),
) -> list[PrivacyRequestOut]:
    return await privacy.own_requests(session, tenant.id, principal.user_id)


@router.get("/me/consents", response_model=Consents)
async def my_consents(
    tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.OWN_DATA),
) -> Consents:
    return await privacy.consents_of(session, tenant.id, principal.user_id)


@router.post("/me/consents", status_code=status.HTTP_201_CREATED, response_model=ConsentOut)
async def record_my_consent(
    body: ConsentIn, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_DATA),
) -> ConsentOut:
    """Record a decision (agree to the terms' version 2026-11, withdraw marketing, ...). Marketing
    (broadcasts, nudges) is sent only while the latest marketing decision is yes, WhatsApp only
    while the latest WhatsApp decision is yes."""
    return await privacy.record_consent(session, Caller(request, state, tenant, principal), principal.user_id, body,
                                        ConsentSource.CLIENT)


# -- the consultancy, for a client --------------------------------------------------------------------------
@router.post("/clients/{client_id}/privacy/exports", status_code=status.HTTP_202_ACCEPTED,
             response_model=PrivacyRequestOut)
async def export_client_data(
    client_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State,
    body: StaffExport | None = None, principal: Principal = require(Permission.PRIVACY_EXPORTS),
) -> PrivacyRequestOut:
    """Prepare a client's data export (they asked by email, say); the link goes to the client."""
    return await privacy.request_export(session, Caller(request, state, tenant, principal), client_id,
                                        body.reason if body else None)


@router.post("/clients/{client_id}/privacy/erasure", status_code=status.HTTP_202_ACCEPTED,
             response_model=PrivacyRequestOut)
async def erase_client_data(
    client_id: UUID, body: StaffErasure, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.PRIVACY_ERASURE),
) -> PrivacyRequestOut:
    """Erase a client's personal data (owner only; audited with the reason)."""
    return await privacy.request_erasure(session, Caller(request, state, tenant, principal), client_id,
                                         reason=body.reason, force=body.force)


@router.get("/privacy-requests", response_model=Page[PrivacyRequestOut])
async def list_privacy_requests(
    tenant: CurrentTenant, session: Session, paging: Paging,
    client_id: Annotated[UUID | None, Query()] = None,
    kind: Annotated[PrivacyKind | None, Query()] = None,
    principal: Principal = require(Permission.PRIVACY_EXPORTS),
) -> Page[PrivacyRequestOut]:
    """The consultancy's exports and erasures, newest first (filter by client and kind)."""
    return await privacy.requests_page(session, tenant.id, paging, client_id=client_id, kind=kind)


@router.get("/privacy-requests/{request_id}", response_model=PrivacyRequestOut)
async def read_privacy_request(
    request_id: UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.PRIVACY_EXPORTS),
) -> PrivacyRequestOut:
    return await privacy.one_request(session, tenant.id, request_id)


@router.get("/clients/{client_id}/consents", response_model=Consents)
async def client_consents(
    client_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.VIEW_CLIENTS),
) -> Consents:
    return await privacy.client_consents(session, tenant.id, client_id)


@router.post("/clients/{client_id}/consents", status_code=status.HTTP_201_CREATED, response_model=ConsentOut)
async def record_client_consent(
    client_id: UUID, body: ConsentIn, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_CLIENTS),
) -> ConsentOut:
    """Record a client's decision taken outside the app (a signed form, a call); audited."""
    return await privacy.record_consent(session, Caller(request, state, tenant, principal), client_id, body,
                                        ConsentSource.STAFF)


# -- the archive, by its signed link ------------------------------------------------------------------------
@router.get("/privacy-exports/archive", response_class=Response,
            responses={200: {"description": "the ZIP archive", "content": {"application/zip": {}}}})
async def download_archive(
    session: RawSession, state: State,
    token: Annotated[str, Query(min_length=10, max_length=2000, description="from the export's link")],
) -> Response:
    """The export's ZIP archive for whoever holds its link (no sign-in), until the link expires."""
    archive = await privacy.archive_by_link(session, state, token)
    return Response(content=archive.content, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{archive.filename}"',
                             "Cache-Control": "no-store"})
