"""Requests and responses of the team (members, invitations) and the platform's admins."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Email, Name, Password
from api.schemas.identity import Strict, TokenPair
from models.identity import Role
from models.team import InvitationStatus

# Roles an owner may give: owners are made by promotion or transfer, clients register themselves.
TeamRole = Literal["consultant", "staff"]
MemberRole = Literal["owner", "consultant", "staff"]


class InvitationIn(Strict):
    email: Email
    role: TeamRole = Field(description="consultant or staff (support)")
    full_name: Name | None = Field(None, description="how the email greets them")


class AdminInvitationIn(Strict):
    email: Email
    full_name: Name | None = None


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID | None
    email: str
    full_name: str | None
    role: Role
    status: InvitationStatus
    expires_at: datetime
    invited_by_user_id: UUID | None
    accepted_at: datetime | None
    accepted_user_id: UUID | None
    revoked_at: datetime | None
    sent_count: int
    created_at: datetime
    expired: bool = False


class AcceptInvitation(Strict):
    token: str = Field(min_length=10, max_length=1000, description="from the invitation email's link")
    password: Password = Field(description="a new password, or the one of your existing account there")
    full_name: Name | None = Field(None, description="your name (new accounts; default: as invited)")


class AcceptedInvitation(BaseModel):
    user_id: UUID
    tenant_id: UUID | None
    role: Role
    joined_existing_account: bool
    tokens: TokenPair


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    totp_enabled: bool
    created_at: datetime


class RoleChange(Strict):
    role: MemberRole


class OwnershipTransfer(Strict):
    user_id: UUID = Field(description="the member who becomes owner; you become a consultant")
