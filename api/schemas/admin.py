"""Schemas of tenant administration, clients, audit and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.common import Email, Locale, Name, Phone, TimeZone
from api.schemas.identity import Strict, TenantOut
from domain.onboarding import OnboardingState


class OnboardingView(BaseModel):
    workflow_id: str
    tenant_status: str
    workflow: OnboardingState | None = Field(
        None, description="the live workflow's state; null if Temporal could not be asked")


class AdminTenantOut(TenantOut):
    onboarding: OnboardingView | None = None


class RejectBody(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)] = Field(
        description="why; the consultant is told")


class ApproveBody(Strict):
    note: str | None = Field(None, max_length=2000)


class ClientCreate(Strict):
    full_name: Name
    email: Email
    phone: Phone | None = None
    timezone: TimeZone | None = None
    locale: Locale = "en"


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID | None
    at: datetime
    actor_user_id: UUID | None
    actor_role: str | None
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    request_id: str | None
    ip: str | None


class OutboxAttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int


class OutboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID | None
    created_at: datetime
    channel: str
    recipient: str
    template: str
    subject: str | None
    body: str
    attachments: list[OutboxAttachmentOut] = Field(default_factory=list)
