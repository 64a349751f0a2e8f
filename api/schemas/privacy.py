"""Requests and responses of personal-data exports, erasures and consents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.common import Email
from domain.privacy.consents import ConsentKind, ConsentSource
from domain.privacy.requests import PrivacyKind, PrivacyStatus


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Version = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class PrivacyRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    client_id: UUID
    kind: PrivacyKind
    status: PrivacyStatus
    requested_by: UUID | None
    reason: str | None
    workflow_id: str
    archive_bytes: int | None
    expires_at: datetime | None = Field(description="export: when the archive and its link are deleted")
    completed_at: datetime | None
    created_at: datetime
    summary: dict[str, Any] = Field(description="rows exported or erased per table (counts, never data)")


class ClientErasure(Strict):
    """The client's own erasure: typing their email is the deliberate act."""

    confirm_email: Email = Field(description="the account's email, typed again")
    reason: Reason | None = None


class StaffErasure(Strict):
    reason: Reason = Field(description="why (recorded in the audit log): e.g. 'request by email of 3 Dec'")
    force: bool = Field(False, description="erase even with upcoming sessions (they are stopped, not refunded)")


class StaffExport(Strict):
    reason: Reason | None = None


class ConsentIn(Strict):
    kind: ConsentKind
    version: Version = Field(description="which text was agreed to, e.g. '2026-11' or 'v3'")
    granted: bool


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: ConsentKind
    version: str
    granted: bool
    recorded_at: datetime
    source: ConsentSource
    recorded_by: UUID | None


class Consents(BaseModel):
    current: list[ConsentOut] = Field(description="the latest decision per kind")
    history: list[ConsentOut] = Field(description="every decision, newest first")
