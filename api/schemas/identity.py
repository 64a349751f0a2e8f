"""Requests and responses of sign-up, sign-in, sessions, two-factor and profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import DomainName, Email, Locale, Name, Password, Phone, Slug, TimeZone
from models.identity import Role
from models.tenancy import TenantStatus


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsultantSignup(Strict):
    business_name: Name
    slug: Slug = Field(description="the consultancy's address: <slug>.muhurta.app and X-Tenant")
    full_name: Name
    email: Email
    password: Password
    timezone: TimeZone = "Asia/Kolkata"
    phone: Phone | None = None


class ClientRegistration(Strict):
    full_name: Name
    email: Email
    password: Password
    timezone: TimeZone | None = None
    phone: Phone | None = None
    locale: Locale = "en"


class Login(Strict):
    email: Email
    password: Password
    totp_code: str | None = Field(None, max_length=20, description="6-digit code or a recovery code")


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=10, max_length=300)


class TokenPair(BaseModel):
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime
    token_type: str = "bearer"
    mfa: bool


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID | None
    email: str
    full_name: str
    phone: str | None
    timezone: str | None
    locale: str
    role: Role
    email_verified_at: datetime | None
    totp_enabled: bool
    created_at: datetime


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    slug: str
    name: str
    status: TenantStatus
    status_reason: str | None
    timezone: str
    settings: dict[str, Any]
    domains: list[str]
    created_at: datetime

    @classmethod
    def of(cls, tenant: Any) -> TenantOut:
        return cls.model_validate({**{k: getattr(tenant, k) for k in (
            "id", "slug", "name", "status", "status_reason", "timezone", "settings", "created_at")},
            "domains": sorted(d.domain for d in tenant.domains)})


class SignupOut(BaseModel):
    tenant: TenantOut
    user: UserOut
    tokens: TokenPair
    onboarding_workflow_id: str


class RegistrationOut(BaseModel):
    user: UserOut
    tokens: TokenPair


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    mfa: bool
    current: bool = False


class TokenBody(Strict):
    token: str = Field(min_length=10, max_length=300)


class PasswordForgot(Strict):
    email: Email


class PasswordReset(Strict):
    token: str = Field(min_length=10, max_length=300)
    new_password: Password


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


class TotpEnrolment(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCode(Strict):
    code: str = Field(min_length=6, max_length=20)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class ProfileUpdate(Strict):
    full_name: Name | None = None
    phone: Phone | None = None
    timezone: TimeZone | None = None
    locale: Locale | None = None


class TenantUpdate(Strict):
    name: Name | None = None
    timezone: TimeZone | None = None


class DomainIn(Strict):
    domain: DomainName


class Accepted(BaseModel):
    detail: str
