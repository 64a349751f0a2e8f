"""Export and erasure requests: their states, the workflows' contract, the timings.

An export (`privacy-export-<request id>`) gathers everything the product holds about one client
into a ZIP archive, tells the client where to fetch it (a signed link), and deletes the archive
when the link expires. An erasure (`privacy-erasure-<request id>`) cancels the client's
memberships (so Razorpay never charges them again), stops their other running workflows, then
erases or anonymises their personal data everywhere, keeping what the law requires (invoices
and payment records) stripped of what it need not keep.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Final
from uuid import UUID

from pydantic import BaseModel, Field

from domain.outbox import PostedMessage

PRIVACY_EXPORT_WORKFLOW: Final = "PrivacyExport"
PRIVACY_ERASURE_WORKFLOW: Final = "PrivacyErasure"
EXPORT_LINK_VALID: Final = timedelta(days=7)   # the archive and its link live this long
EXPORT_PURPOSE: Final = "privacy-export"        # signed-link purpose
ERASED_NAME: Final = "Erased client"
ERASED_MARK: Final = "[erased]"

# activity names
BUILD_ARCHIVE: Final = "privacy.build_archive"
DELETE_ARCHIVE: Final = "privacy.delete_archive"
END_MEMBERSHIPS: Final = "privacy.end_memberships"
STOP_WORKFLOWS: Final = "privacy.stop_client_workflows"
ERASE_CLIENT: Final = "privacy.erase_client"
RECORD_STATUS: Final = "privacy.record_status"
NOTIFY_EXPORT_READY: Final = "privacy.notify_export_ready"


class PrivacyKind(enum.StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class PrivacyStatus(enum.StrEnum):
    REQUESTED = "requested"  # recorded; its workflow has not started yet
    RUNNING = "running"      # gathering (export) or erasing (erasure)
    READY = "ready"          # export: the archive can be downloaded until `expires_at`
    EXPIRED = "expired"      # export: the archive is deleted, the link no longer works
    DONE = "done"            # erasure: finished
    FAILED = "failed"


def export_workflow_id(request_id: UUID) -> str:
    return f"privacy-export-{request_id}"


def erasure_workflow_id(request_id: UUID) -> str:
    return f"privacy-erasure-{request_id}"


class PrivacyInput(BaseModel):
    request_id: UUID
    tenant_id: UUID
    client_id: UUID
    kind: PrivacyKind


class ArchiveBuilt(BaseModel):
    key: str
    size_bytes: int
    tables: dict[str, int] = Field(default_factory=dict, description="rows exported per table")
    files: int = 0


class StatusChange(BaseModel):
    request_id: UUID
    tenant_id: UUID
    status: PrivacyStatus
    summary: dict[str, int] | None = None
    archive: ArchiveBuilt | None = None
    expires_in_seconds: int | None = None


class StopWorkflows(BaseModel):
    tenant_id: UUID
    client_id: UUID
    reason: str


class ErasureDone(BaseModel):
    tables: dict[str, int] = Field(default_factory=dict, description="rows deleted or anonymised per table")
    files_deleted: int = 0
    workflows_stopped: int = 0


class PrivacyState(BaseModel):
    """What the workflow's `state` query answers (ids and counts only: it is not encrypted)."""

    request_id: UUID
    kind: PrivacyKind
    status: PrivacyStatus
    summary: dict[str, int] = Field(default_factory=dict)
    messages: list[PostedMessage] = Field(default_factory=list,
                                          description="the messages the request sent: sending, sent or failed, and why")
