"""Platform administration: suspending consultancies, and people across consultancies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.identity import Strict
from models.identity import Role

ReasonText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class SuspendBody(Strict):
    reason: ReasonText = Field(description="why; kept on the consultancy and in the audit log, the owner is told")


class ReactivateBody(Strict):
    reason: ReasonText = Field(description="why it may run again (audit log)")


class LockBody(Strict):
    reason: ReasonText


class PlatformUserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID | None
    email: str
    full_name: str
    role: Role
    is_active: bool
    totp_enabled: bool
    created_at: datetime


class SessionsRevoked(BaseModel):
    user_id: UUID
    sessions_revoked: int
