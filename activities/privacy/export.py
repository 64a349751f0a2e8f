"""An export: the client's rows and files in one ZIP archive, a signed link to it, its deletion.

The archive holds `manifest.json` (what is inside, when, for whom), `data/<table>.json` (every row
naming the client, secrets left out) and `files/<id>-<name>` (the files that are theirs). It is
kept in the file storage under the tenant's prefix; the link is signed and expires with it.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import Notifier, deliver_or_retry
from activities.privacy.gather import gather
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.settings import Settings
from core.signing import sign
from core.storage import FileStorage, ObjectMissing, build_storage, tenant_key
from domain.notifications import NotificationRequest
from domain.privacy.requests import (
    BUILD_ARCHIVE,
    DELETE_ARCHIVE,
    EXPORT_PURPOSE,
    NOTIFY_EXPORT_READY,
    RECORD_STATUS,
    ArchiveBuilt,
    PrivacyInput,
    PrivacyStatus,
    StatusChange,
)
from models.files import StoredFile
from models.platform import record_audit
from models.privacy import PrivacyRequest
from models.tenancy import Tenant

log = logging.getLogger(__name__)


def archive_key(tenant_id: UUID, request_id: UUID) -> str:
    return tenant_key(tenant_id, "privacy", f"{request_id}.zip")


def archive_url(settings: Settings, keys: Keys, inp: PrivacyInput, expires_at: datetime) -> str:
    token = sign(keys, EXPORT_PURPOSE, {"r": str(inp.request_id), "t": str(inp.tenant_id)}, expires_at=expires_at)
    return f"{settings.public_base_url.rstrip('/')}/api/v1/privacy-exports/archive?token={token}"


class PrivacyExportActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 notifier: Notifier | None = None, storage: FileStorage | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.keys = Keys.from_settings(settings)
        self.notifier = notifier or Notifier(sessionmaker, settings, self.keys)
        self.storage = storage or build_storage(settings)

    @activity.defn(name=BUILD_ARCHIVE)
    async def build_archive(self, inp: PrivacyInput) -> ArchiveBuilt:
        """Gather, zip and store; the same request builds the same key, so a retry overwrites."""
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            tables = await gather(session, inp.client_id)
            files = (await session.execute(select(StoredFile).where(
                StoredFile.tenant_id == inp.tenant_id,
                or_(StoredFile.client_id == inp.client_id, StoredFile.uploaded_by == inp.client_id)))).scalars().all()
        buffer = io.BytesIO()
        written = 0
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, rows in tables.items():
                archive.writestr(f"data/{name}.json", json.dumps(rows, ensure_ascii=False, indent=2))
            for stored in files:
                try:
                    data = await self.storage.get(stored.storage_key)
                except ObjectMissing:
                    log.warning("file %s of client %s is missing from the storage", stored.id, inp.client_id)
                    continue
                archive.writestr(f"files/{stored.id}-{stored.name}", data)
                written += 1
            archive.writestr("manifest.json", json.dumps({
                "request_id": str(inp.request_id), "client_id": str(inp.client_id),
                "created_at": datetime.now(UTC).isoformat(),
                "tables": {name: len(rows) for name, rows in tables.items()}, "files": written,
                "note": "Every record this consultancy's Muhurta account holds about you. "
                        "Passwords and security keys are never exported.",
            }, indent=2))
        key = archive_key(inp.tenant_id, inp.request_id)
        await self.storage.put(key, buffer.getvalue(), "application/zip")
        return ArchiveBuilt(key=key, size_bytes=buffer.tell(), files=written,
                            tables={name: len(rows) for name, rows in tables.items()})

    @activity.defn(name=DELETE_ARCHIVE)
    async def delete_archive(self, inp: PrivacyInput) -> bool:
        try:
            await self.storage.delete(archive_key(inp.tenant_id, inp.request_id))
        except ObjectMissing:
            return False
        return True

    @activity.defn(name=RECORD_STATUS)
    async def record_status(self, change: StatusChange) -> None:
        """Mirror the workflow's state into `privacy_requests` (only forward: a retry is harmless)."""
        now = datetime.now(UTC)
        values: dict[str, object] = {"status": change.status.value}
        if change.summary is not None:
            values["summary"] = change.summary
        if change.archive is not None:
            values["archive_key"] = change.archive.key
            values["archive_bytes"] = change.archive.size_bytes
        if change.expires_in_seconds is not None:
            values["expires_at"] = now + timedelta(seconds=change.expires_in_seconds)
        if change.status in (PrivacyStatus.READY, PrivacyStatus.DONE, PrivacyStatus.FAILED):
            values["completed_at"] = now
        if change.status == PrivacyStatus.EXPIRED:
            values["archive_key"] = None
        async with scoped_session(self.sessionmaker, TenantScope.of(change.tenant_id)) as session:
            request = await session.get(PrivacyRequest, change.request_id, with_for_update=True)
            if request is None:
                raise ApplicationError(f"privacy request {change.request_id} is gone", non_retryable=True)
            first_time = request.status != change.status.value
            await session.execute(update(PrivacyRequest).where(PrivacyRequest.id == change.request_id)
                                  .values(**values))
            if first_time and change.status in (PrivacyStatus.READY, PrivacyStatus.DONE, PrivacyStatus.FAILED):
                action = f"privacy.{request.kind}_{change.status.value}"
                await record_audit(session, tenant_id=change.tenant_id, action=action,
                                   target_type="client", target_id=request.client_id,
                                   details={"request_id": str(request.id), "counts": change.summary or {}})

    @activity.defn(name=NOTIFY_EXPORT_READY)
    async def notify_export_ready(self, inp: PrivacyInput) -> int:
        """Tell the client where to fetch the archive (email and in-app); dedupe key per request."""
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            request = await session.get(PrivacyRequest, inp.request_id)
            tenant = await session.get(Tenant, inp.tenant_id)
        if request is None or tenant is None or request.expires_at is None:
            raise ApplicationError(f"privacy request {inp.request_id} is gone", non_retryable=True)
        url = archive_url(self.settings, self.keys, inp, request.expires_at)
        outcome = await deliver_or_retry(self.notifier, NotificationRequest(
            dedupe_key=f"privacy-export-{inp.request_id}:ready", tenant_id=inp.tenant_id,
            recipient_user_id=inp.client_id, event="privacy.export_ready",
            variables={"tenant_name": tenant.name, "link": url,
                       "expires": request.expires_at.strftime("%d %b %Y %H:%M UTC")},
            data={"link": url}, respect_quiet_hours=False))  # they asked a moment ago: not held
        return len(outcome.sent_on)
