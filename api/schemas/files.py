"""Schemas of files, download links and report deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.identity import Strict
from domain.files import FileKind
from domain.report_delivery import ReportDeliveryState, ReportDeliveryStatus


class FileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str = Field(description="display name (sanitised; the extension is the real kind's)")
    kind: FileKind = Field(description="what the content is, told by its bytes")
    content_type: str
    size_bytes: int
    sha256: str
    purpose: str = Field(description="upload, report (a report delivery's PDF) or booking_confirmation (generated)")
    client_id: UUID | None = Field(description="the client the file belongs to, who may fetch it")
    uploaded_by: UUID | None
    created_at: datetime


class DownloadLinkOut(BaseModel):
    url: str = Field(description="signed link; works without a token until expires_at")
    expires_at: datetime


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ReportDeliveryCreate(Strict):
    order_id: UUID | None = Field(None, description="the order (line) that sold the report; a new id if none")
    reference: Reference | None = Field(None, description="a human reference, e.g. an invoice number")
    client_id: UUID
    consultant_id: UUID | None = Field(None, description="who writes the report; the caller if left out")
    title: Title
    due_at: AwareDatetime = Field(description="when the client was promised the report (with its offset)")


class ManualDeliveryBody(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = Field(
        None, description="how it was handed over, e.g. 'printed copy given at the session'")


class ReportDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID = Field(description="the order (line) id; the workflow is report-<id>")
    reference: str | None
    title: str
    client_id: UUID
    consultant_id: UUID
    status: ReportDeliveryStatus
    due_at: datetime
    file_id: UUID | None
    uploaded_at: datetime | None
    delivered_at: datetime | None
    delivered_by: UUID | None
    delivery_note: str | None
    first_opened_at: datetime | None
    due_soon_alert_at: datetime | None
    overdue_alert_at: datetime | None
    workflow_id: str
    created_at: datetime


class ReportDeliveryView(ReportDeliveryOut):
    workflow: ReportDeliveryState | None = Field(
        None, description="the live workflow's state; null if Temporal could not be asked (or for clients)")
