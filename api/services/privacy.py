"""Personal data for the API: the rules behind exports, erasures, consents and archive links.

An export or erasure is a `privacy_requests` row plus a workflow (`privacy-export-<id>`,
`privacy-erasure-<id>`) started after the row commits (api.workflow_starts); the request answers
at once and the row follows the workflow. Asking again while one runs (or, for an export, within
a day of a ready one) answers the same request. The session is the request's: this module only
flushes; the dependency commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Principal
from api.pagination import Page, PageParams, paginate
from api.problems import CONFLICT, INVALID_LINK, NOT_FOUND, VALIDATION, Problem
from api.schemas.privacy import ConsentIn, ConsentOut, Consents, PrivacyRequestOut
from api.services.files import storage_of
from api.state import AppState
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

IN_FLIGHT = (PrivacyStatus.REQUESTED.value, PrivacyStatus.RUNNING.value)
EXPORT_REUSE = timedelta(hours=24)  # an export made in the last day is answered again, not rebuilt


@dataclass(frozen=True)
class Caller:
    """Who asks, from where: the request (for starting workflows after the commit, and the IP and
    user agent a consent records), the app state, the tenant and the principal."""

    request: Request
    state: AppState
    tenant: Tenant
    principal: Principal


async def client_of(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> User:
    user = await session.get(User, client_id)
    if user is None or user.tenant_id != tenant_id or user.role != Role.CLIENT:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    return user


async def _current(session: AsyncSession, tenant_id: UUID, client_id: UUID,
                   kind: PrivacyKind) -> PrivacyRequest | None:
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


async def _begin(session: AsyncSession, caller: Caller, client: User, kind: PrivacyKind,
                 reason: str | None) -> PrivacyRequest:
    request_id = uuid.uuid4()
    tenant = caller.tenant
    workflow_id = export_workflow_id(request_id) if kind == PrivacyKind.EXPORT else erasure_workflow_id(request_id)
    row = PrivacyRequest(id=request_id, tenant_id=tenant.id, client_id=client.id, kind=kind.value,
                         status=PrivacyStatus.RUNNING.value, requested_by=caller.principal.user_id, reason=reason,
                         workflow_id=workflow_id, summary={})
    session.add(row)
    await session.flush()
    inp = PrivacyInput(request_id=request_id, tenant_id=tenant.id, client_id=client.id, kind=kind)
    await start_after_commit(
        caller.request, session, caller.state, tenant_id=tenant.id, workflow_id=workflow_id, payload=inp,
        workflow_type=PRIVACY_EXPORT_WORKFLOW if kind == PrivacyKind.EXPORT else PRIVACY_ERASURE_WORKFLOW,
        search_attributes={"TenantId": str(tenant.id), "ClientId": str(client.id), "EntityStatus": "running"},
        memo={"summary": f"{kind.value} of client {client.id}: running"})
    await record_audit(session, tenant_id=tenant.id, action=f"privacy.{kind.value}_requested",
                       actor_user_id=caller.principal.user_id, actor_role=caller.principal.role.value,
                       target_type="client", target_id=client.id, details={"request_id": str(request_id)})
    await session.refresh(row)
    return row


async def _refuse_with_live_bookings(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> None:
    live = (await session.execute(select(func.count()).select_from(Booking).where(
        Booking.tenant_id == tenant_id, Booking.client_id == client_id, Booking.status.in_(LIVE_STATUSES),
        Booking.ends_at > datetime.now(UTC)))).scalar_one()
    if live:
        raise Problem(CONFLICT, f"there are {live} upcoming session(s): cancel them first (the consultancy may "
                                "erase with `force`, which stops them without a refund)")


async def request_export(session: AsyncSession, caller: Caller, client_id: UUID,
                         reason: str | None = None) -> PrivacyRequestOut:
    """Start an export of the client's data, or answer the one running (or ready within a day)."""
    client = await client_of(session, caller.tenant.id, client_id)
    row = await _current(session, caller.tenant.id, client.id, PrivacyKind.EXPORT) \
        or await _begin(session, caller, client, PrivacyKind.EXPORT, reason)
    return PrivacyRequestOut.model_validate(row)


async def request_erasure(session: AsyncSession, caller: Caller, client_id: UUID, *, reason: str | None,
                          confirm_email: str | None = None, force: bool = False) -> PrivacyRequestOut:
    """Start an erasure, or answer the one running. A client confirms with their email; upcoming
    sessions block it unless the consultancy forces it (which stops them without a refund)."""
    client = await client_of(session, caller.tenant.id, client_id)
    if confirm_email is not None and confirm_email.lower() != client.email.lower():
        raise Problem(VALIDATION, "confirm_email: type the email of this account to confirm", field="confirm_email")
    existing = await _current(session, caller.tenant.id, client.id, PrivacyKind.ERASURE)
    if existing is not None:
        return PrivacyRequestOut.model_validate(existing)
    if not force:
        await _refuse_with_live_bookings(session, caller.tenant.id, client.id)
    return PrivacyRequestOut.model_validate(await _begin(session, caller, client, PrivacyKind.ERASURE, reason))


async def own_requests(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> list[PrivacyRequestOut]:
    rows = (await session.execute(select(PrivacyRequest).where(
        PrivacyRequest.tenant_id == tenant_id, PrivacyRequest.client_id == client_id)
        .order_by(PrivacyRequest.created_at.desc()).limit(50))).scalars()
    return [PrivacyRequestOut.model_validate(r) for r in rows]


async def requests_page(session: AsyncSession, tenant_id: UUID, paging: PageParams, *, client_id: UUID | None,
                        kind: PrivacyKind | None) -> Page[PrivacyRequestOut]:
    stmt = select(PrivacyRequest).where(PrivacyRequest.tenant_id == tenant_id)
    if client_id:
        stmt = stmt.where(PrivacyRequest.client_id == client_id)
    if kind:
        stmt = stmt.where(PrivacyRequest.kind == kind.value)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": PrivacyRequest.created_at},
                                  default_sort="-created_at", id_column=PrivacyRequest.id)
    return Page[PrivacyRequestOut](items=[PrivacyRequestOut.model_validate(r) for r in rows], next_cursor=cursor)


async def one_request(session: AsyncSession, tenant_id: UUID, request_id: UUID) -> PrivacyRequestOut:
    row = await session.get(PrivacyRequest, request_id)
    if row is None or row.tenant_id != tenant_id:
        raise Problem(NOT_FOUND, "this consultancy has no privacy request with this id", field="request_id")
    return PrivacyRequestOut.model_validate(row)


@dataclass(frozen=True)
class Archive:
    content: bytes
    filename: str


async def archive_by_link(session: AsyncSession, state: AppState, token: str) -> Archive:
    """The export's ZIP for whoever holds its signed link, until it expires (no sign-in)."""
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
    return Archive(data, f"muhurta-data-{row.created_at:%Y%m%d}.zip")


# -- consents -----------------------------------------------------------------------------------------------
async def client_consents(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> Consents:
    client = await client_of(session, tenant_id, client_id)
    return await consents_of(session, tenant_id, client.id)


async def consents_of(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> Consents:
    """The latest decision per kind, and the history (newest first)."""
    rows = list((await session.execute(select(Consent).where(Consent.tenant_id == tenant_id,
                                                             Consent.user_id == user_id)
                                       .order_by(Consent.recorded_at.desc()).limit(500))).scalars())
    current: dict[str, Consent] = {}
    for row in rows:
        current.setdefault(row.kind, row)
    return Consents(current=[ConsentOut.model_validate(r) for r in current.values()],
                    history=[ConsentOut.model_validate(r) for r in rows])


async def record_consent(session: AsyncSession, caller: Caller, client_id: UUID, body: ConsentIn,
                         source: ConsentSource) -> ConsentOut:
    """Append a decision with its time, version, IP and user agent; audited."""
    client = await client_of(session, caller.tenant.id, client_id)
    request, principal = caller.request, caller.principal
    row = Consent(tenant_id=caller.tenant.id, user_id=client.id, kind=body.kind.value, version=body.version,
                  granted=body.granted, recorded_at=datetime.now(UTC), source=source.value,
                  recorded_by=principal.user_id, ip=request.state.context.ip,
                  user_agent=(request.headers.get("user-agent") or "")[:300] or None)
    session.add(row)
    await session.flush()
    await record_audit(session, tenant_id=caller.tenant.id, action="privacy.consent_recorded",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="client",
                       target_id=client.id,
                       details={"kind": body.kind.value, "version": body.version, "granted": body.granted})
    return ConsentOut.model_validate(row)
