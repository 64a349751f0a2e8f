"""Uploads (read within a size limit, recognised by content, stored under tenant keys) and who sees which file."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import Request
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from api.deps import Principal
from api.permissions import Permission, allowed
from api.problems import FILE_TOO_LARGE, FILE_TYPE_REFUSED, NOT_FOUND, VALIDATION, Problem
from api.schemas.files import DownloadLinkOut
from api.state import AppState
from api.temporal_calls import release
from core.signed_links import DownloadLinks
from core.storage import FileStorage, StorageError, build_storage, tenant_key
from domain.files import KINDS, FileKind, FileRejected, check_content, display_name
from models.files import StoredFile

log = logging.getLogger(__name__)

MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file itself


def multipart_body(file_description: str, **fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of an upload endpoint (parsed by hand, to refuse oversize early)."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary", "description": file_description}}
    properties.update(fields)
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def storage_of(state: AppState) -> FileStorage:
    return build_storage(state.settings)


def links_of(state: AppState) -> DownloadLinks:
    return DownloadLinks.from_keys(state.keys)


def sees_every_file(principal: Principal) -> bool:
    return allowed(principal.role, Permission.MANAGE_FILES)


def visible_files(tenant_id: UUID, principal: Principal) -> Select[StoredFile]:
    """The one readable statement for files: a client's own, or every file of the tenant for staff."""
    stmt = select(StoredFile).where(StoredFile.tenant_id == tenant_id)
    if not sees_every_file(principal):
        stmt = stmt.where(StoredFile.client_id == principal.user_id)
    return stmt


async def visible_file(session: AsyncSession, tenant_id: UUID, principal: Principal, file_id: UUID) -> StoredFile:
    stmt = visible_files(tenant_id, principal).where(StoredFile.id == file_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "you have no file with this id", field="file_id")
    return found


class Upload:
    """The `file` part of a multipart request, read whole but never past the size limit."""

    def __init__(self, data: bytes, filename: str | None, fields: dict[str, str]) -> None:
        self.data = data
        self.filename = filename
        self.fields = fields


async def read_upload(request: Request, max_bytes: int) -> Upload:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise Problem(VALIDATION, "send the file as multipart/form-data, in a part named 'file'", field="file")
    length = request.headers.get("content-length", "")
    limit = _megabytes(max_bytes)
    if length.isdigit() and int(length) > max_bytes + MULTIPART_SLACK:
        # refused before reading the body
        raise Problem(FILE_TOO_LARGE, f"the file may be at most {limit}", field="file",
                      extra={"max_bytes": max_bytes})
    try:
        form = await request.form(max_files=1, max_fields=10)
    except MultiPartException as exc:
        raise Problem(VALIDATION, f"the multipart body is not valid: {exc.message}", field="file") from exc
    except StarletteHTTPException as exc:  # Starlette reports a malformed body as a bare 400
        raise Problem(VALIDATION, f"the multipart body is not valid: {exc.detail}", field="file") from exc
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise Problem(VALIDATION, "file: the 'file' part is missing (send it as a file, not a text field)",
                          field="file")
        data = await part.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise Problem(FILE_TOO_LARGE, f"the file may be at most {limit}", field="file",
                          extra={"max_bytes": max_bytes})
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return Upload(data, part.filename, fields)
    finally:
        await form.close()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


async def put_upload(
    storage: FileStorage,
    upload: Upload,
    *,
    tenant_id: UUID,
    client_id: UUID | None,
    uploaded_by: UUID,
    allowed_kinds: frozenset[FileKind],
    purpose: str,
) -> StoredFile:
    """Check the content and write the bytes under a key made of ids; the file's row, not yet added.

    Call it with no transaction open (`release`): object storage may take its time."""
    try:
        kind = check_content(upload.data, filename=upload.filename, allowed=allowed_kinds)
    except FileRejected as exc:
        raise Problem(FILE_TYPE_REFUSED, str(exc), field="file") from exc
    file_id = uuid.uuid4()
    info = KINDS[kind]
    key = tenant_key(tenant_id, "files", f"{file_id}.{info.extensions[0]}")
    try:
        await storage.put(key, upload.data, info.content_type)
    except StorageError:
        log.exception("storing %s failed", key)
        raise
    return StoredFile(
        id=file_id, tenant_id=tenant_id, client_id=client_id, uploaded_by=uploaded_by, kind=kind,
        content_type=info.content_type, size_bytes=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(), name=display_name(upload.filename, kind),
        purpose=purpose, storage_backend=storage.backend, storage_key=key,
    )


async def store_upload(
    session: AsyncSession,
    storage: FileStorage,
    upload: Upload,
    *,
    tenant_id: UUID,
    client_id: UUID | None,
    uploaded_by: UUID,
    allowed_kinds: frozenset[FileKind],
    purpose: str,
) -> StoredFile:
    """`put_upload` with the request's connection released meanwhile, then the row (flushed)."""
    await release(session)
    stored = await put_upload(storage, upload, tenant_id=tenant_id, client_id=client_id, uploaded_by=uploaded_by,
                              allowed_kinds=allowed_kinds, purpose=purpose)
    session.add(stored)
    await session.flush()
    return stored


def issue_link(state: AppState, stored: StoredFile, user_id: UUID, ttl: timedelta | None = None) -> DownloadLinkOut:
    expires = datetime.now(UTC) + (ttl or timedelta(minutes=state.settings.download_link_minutes))
    token = links_of(state).token(file_id=stored.id, tenant_id=stored.tenant_id, user_id=user_id, expires_at=expires)
    url = f"{state.settings.public_base_url}/api/v1/files/{stored.id}/content?token={token}"
    return DownloadLinkOut(url=url, expires_at=expires.replace(microsecond=0))


def download_headers(stored: StoredFile) -> dict[str, Any]:
    ascii_name = stored.name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
