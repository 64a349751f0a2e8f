"""/files: uploads recognised by content, and downloads through signed, expiring links.

A client sees and uploads their own files; the consultancy's staff see every file of it and may
upload one for a client. `GET /files/{id}/download-link` gives a link that works without a token
until it expires; `GET /files/{id}/content?token=` serves it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, RawSession, Session, State, after_commit, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import DOWNLOAD_LINK_EXPIRED, DOWNLOAD_LINK_INVALID, FORBIDDEN, NOT_FOUND, VALIDATION, Problem
from api.schemas.files import DownloadLinkOut, FileOut
from api.services.files import (
    download_headers,
    issue_link,
    links_of,
    multipart_body,
    read_upload,
    sees_every_file,
    storage_of,
    store_upload,
    visible_file,
    visible_files,
)
from api.temporal_calls import release
from core.db import TenantScope, enter_scope
from core.signed_links import LinkError
from core.storage import ObjectMissing
from domain.files import DOCUMENT_KINDS, KINDS, FileKind
from domain.report_delivery import ReportDeliveryStatus, ReportOpened, report_delivery_workflow_id
from models.files import ReportDelivery, StoredFile, record_first_open
from models.identity import Role, User
from models.platform import record_audit

log = logging.getLogger(__name__)

router = APIRouter(prefix="/files", tags=["files"])

ANY_KIND = DOCUMENT_KINDS

UPLOAD_BODY = multipart_body(
    "PDF, PNG, JPEG, WebP or GIF, recognised by its content",
    client_id={"type": "string", "format": "uuid", "description": "staff only: the client the file belongs to"},
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FileOut, openapi_extra=UPLOAD_BODY)
async def upload_file(
    request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_FILES),
) -> FileOut:
    """Upload a file (multipart, part `file`). Checked by its content and size, not its name."""
    await release(session)  # no connection held while the body arrives
    upload = await read_upload(request, state.settings.upload_max_bytes)
    client_id: UUID | None = principal.user_id
    if sees_every_file(principal):
        client_id = await _client_field(session, tenant.id, upload.fields.get("client_id"))
    elif upload.fields.get("client_id") not in (None, "", str(principal.user_id)):
        raise Problem(FORBIDDEN, "a client uploads files for themselves only", field="client_id")
    stored = await store_upload(session, storage_of(state), upload, tenant_id=tenant.id, client_id=client_id,
                                uploaded_by=principal.user_id, allowed_kinds=ANY_KIND, purpose="upload")
    await record_audit(session, tenant_id=tenant.id, action="file.uploaded", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="file", target_id=stored.id,
                       details={"kind": stored.kind.value, "size_bytes": stored.size_bytes})
    return FileOut.model_validate(stored)


async def _client_field(session: Session, tenant_id: UUID, value: str | None) -> UUID | None:
    if not value:
        return None
    try:
        client_id = UUID(value)
    except ValueError as exc:
        raise Problem(VALIDATION, "client_id: not a valid id", field="client_id") from exc
    client = await session.get(User, client_id)
    if client is None or client.tenant_id != tenant_id or client.role != Role.CLIENT:
        raise Problem(VALIDATION, "client_id: this consultancy has no client with this id", field="client_id")
    return client_id


@router.get("", response_model=Page[FileOut])
async def list_files(
    tenant: CurrentTenant, session: Session, paging: Paging,
    client_id: Annotated[UUID | None, Query(description="staff: files of this client")] = None,
    kind: Annotated[FileKind | None, Query()] = None,
    purpose: Annotated[str | None, Query(max_length=32)] = None,
    principal: Principal = require(Permission.OWN_FILES),
) -> Page[FileOut]:
    """A client's own files, or (staff) every file of the consultancy."""
    stmt = visible_files(tenant.id, principal)
    if client_id:
        stmt = stmt.where(StoredFile.client_id == client_id)
    if kind:
        stmt = stmt.where(StoredFile.kind == kind)
    if purpose:
        stmt = stmt.where(StoredFile.purpose == purpose)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": StoredFile.created_at},
                                  default_sort="-created_at", id_column=StoredFile.id)
    return Page[FileOut](items=[FileOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{file_id}", response_model=FileOut)
async def read_file(
    file_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.OWN_FILES)
) -> FileOut:
    return FileOut.model_validate(await visible_file(session, tenant.id, principal, file_id))


@router.get("/{file_id}/download-link", response_model=DownloadLinkOut)
async def download_link(
    file_id: UUID, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_FILES),
) -> DownloadLinkOut:
    """A signed link to the file's content for you, valid DOWNLOAD_LINK_MINUTES (15 by default)."""
    stored = await visible_file(session, tenant.id, principal, file_id)
    return issue_link(state, stored, principal.user_id)


@router.get(
    "/{file_id}/content",
    response_class=Response,
    responses={200: {"description": "the file's bytes", "content": {i.content_type: {} for i in KINDS.values()}}},
)
async def download_file(
    file_id: UUID, request: Request, session: RawSession, state: State,
    token: Annotated[str, Query(min_length=10, max_length=300, description="from a download link")],
) -> Response:
    """The file, for whoever holds a valid signed link (no Authorization needed: it is the link's)."""
    try:
        grant = links_of(state).verify(token, file_id=file_id)
    except LinkError as exc:
        kind = DOWNLOAD_LINK_EXPIRED if exc.reason == "expired" else DOWNLOAD_LINK_INVALID
        raise Problem(kind, str(exc), field="token") from exc
    await enter_scope(session, TenantScope.of(grant.tenant_id))
    stored = await session.get(StoredFile, file_id)
    person = await session.get(User, grant.user_id)
    if stored is None or stored.tenant_id != grant.tenant_id:
        raise Problem(NOT_FOUND, "this file no longer exists", field="file_id")
    if (person is None or not person.is_active or person.tenant_id != stored.tenant_id
            or (person.role == Role.CLIENT and stored.client_id != person.id)):
        raise Problem(DOWNLOAD_LINK_INVALID, "the person this link was made for may no longer fetch this file",
                      field="token")
    await release(session)  # object storage may take its time: no connection held meanwhile
    try:
        data = await storage_of(state).get(stored.storage_key)
    except ObjectMissing as exc:
        log.error("file %s has no stored object at %s", stored.id, stored.storage_key)
        raise Problem(NOT_FOUND, "this file's content is missing; ask for it to be uploaded again",
                      field="file_id") from exc
    if person.role == Role.CLIENT:
        await _note_report_opened(request, session, state, stored, person)
    return Response(content=data, media_type=stored.content_type, headers=download_headers(stored))


async def _note_report_opened(request: Request, session: RawSession, state: State, stored: StoredFile,
                              person: User) -> None:
    """If this is the client's report, record the first open and tell its workflow (after the commit).

    The row is the record; the signal is repeated on later opens until the workflow has
    recorded it too (status `opened`), and the workflow keeps only the first.
    """
    delivery = (await session.execute(select(ReportDelivery).where(
        ReportDelivery.file_id == stored.id, ReportDelivery.client_id == person.id))).scalar_one_or_none()
    if delivery is None or delivery.status not in (ReportDeliveryStatus.DELIVERED, ReportDeliveryStatus.OPENED):
        return
    now = datetime.now(UTC)
    first = await record_first_open(session, delivery.id, now)
    if delivery.status != ReportDeliveryStatus.DELIVERED or state.temporal is None:
        return
    client, workflow_id = state.temporal, report_delivery_workflow_id(delivery.id)
    opened = ReportOpened(file_id=stored.id, at=now if first else (delivery.first_opened_at or now))

    async def signal() -> None:
        await client.get_workflow_handle(workflow_id).signal("report_opened", opened)

    after_commit(request, signal)
