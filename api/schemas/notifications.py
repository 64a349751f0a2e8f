"""Schemas of inboxes, preferences, templates, provider settings, the delivery log and broadcasts."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, time
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from api.schemas.common import Email, Name, Phone
from api.schemas.identity import Strict
from domain.notification_channels import Channel, DeliveryStatus
from domain.notification_events import VarKind
from domain.notifications import BroadcastFilter, BroadcastProgress


# -- inbox ------------------------------------------------------------------------------------------------
class InAppOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    event: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


# -- preferences ----------------------------------------------------------------------------------------------
class QuietHoursIn(Strict):
    start: time = Field(description="local wall-clock time, e.g. 22:00")
    end: time = Field(description="local wall-clock time, e.g. 07:00 (before start: the window spans midnight)")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursIn:
        if self.start.tzinfo or self.end.tzinfo:
            raise ValueError("give local wall-clock times without an offset; your time zone applies")
        if self.start == self.end:
            raise ValueError("start and end are equal; to have no quiet hours send null")
        return self


class QuietHoursOut(BaseModel):
    start: str
    end: str


class PreferencesOut(BaseModel):
    email: bool
    sms: bool
    whatsapp: bool
    in_app: bool
    announcements: bool = Field(description="messages consultancies send to many clients at once")
    quiet_hours: QuietHoursOut | None
    timezone: str = Field(description="the zone quiet hours are read in: your profile's, else the consultancy's")


class PreferencesUpdate(Strict):
    email: bool | None = None
    sms: bool | None = None
    whatsapp: bool | None = None
    in_app: bool | None = None
    announcements: bool | None = None
    quiet_hours: QuietHoursIn | None = Field(None, description="null turns quiet hours off")


# -- templates ------------------------------------------------------------------------------------------------
class EventOut(BaseModel):
    name: str
    description: str
    audience: str
    variables: dict[str, VarKind]
    automatic_variables: dict[str, VarKind]
    sample: dict[str, Any]
    default_channels: list[Channel]
    urgent: bool
    mandatory: bool
    broadcast: bool


class RenderedOut(BaseModel):
    subject: str | None
    body: str


class TemplateOut(BaseModel):
    event: str
    channel: Channel
    locale: str
    subject: str | None
    body: str
    source: str = Field(description="'tenant' (your override) or 'builtin'")
    preview: RenderedOut | None = Field(None, description="rendered with the event's sample values")


class TemplateIn(Strict):
    subject: str | None = Field(None, max_length=1000, description="email subject or in-app title; none for SMS")
    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]


# -- provider settings -----------------------------------------------------------------------------------------
_TWILIO_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_TWILIO_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")


class NotificationSettingsIn(Strict):
    """Send null to clear a value. Secrets are write-only: they are stored encrypted and never returned."""

    email_from_address: Email | None = Field(None, description="needs your own SendGrid key (verified sender)")
    email_from_name: Name | None = None
    email_reply_to: Email | None = None
    sendgrid_api_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=200)] | None = (
        None)
    sendgrid_webhook_public_key: str | None = Field(
        None, max_length=500, description="the Event Webhook verification key (base64), from your SendGrid account")
    twilio_account_sid: Annotated[str, StringConstraints(max_length=64)] | None = None
    twilio_auth_token: str | None = None
    twilio_sms_from: Phone | None = None
    twilio_whatsapp_from: Phone | None = None

    @field_validator("twilio_account_sid")
    @classmethod
    def _sid(cls, value: str | None) -> str | None:
        if value is not None and not _TWILIO_SID.match(value.strip()):
            raise ValueError("a Twilio Account SID is AC followed by 32 hexadecimal characters")
        return value.strip() if value else value

    @field_validator("twilio_auth_token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None and not _TWILIO_TOKEN.match(value.strip()):
            raise ValueError("a Twilio auth token is 32 hexadecimal characters")
        return value.strip() if value else value

    @field_validator("sendgrid_webhook_public_key")
    @classmethod
    def _public_key(cls, value: str | None) -> str | None:
        if value is None:
            return value
        cleaned = "".join(value.split())
        try:
            from sendgrid.helpers.eventwebhook import EventWebhook

            base64.b64decode(cleaned, validate=True)
            EventWebhook().convert_public_key_to_ecdsa(cleaned)
        except (ValueError, binascii.Error, TypeError) as exc:
            raise ValueError("paste the verification key SendGrid shows (base64, no PEM header lines)") from exc
        return cleaned


class NotificationSettingsOut(BaseModel):
    email_from_address: str | None
    email_from_name: str | None
    email_reply_to: str | None
    sendgrid_api_key_set: bool
    sendgrid_api_key_hint: str | None = Field(description="the key's last characters, to recognise it")
    sendgrid_webhook_public_key: str | None
    twilio_account_sid: str | None
    twilio_auth_token_set: bool
    twilio_sms_from: str | None
    twilio_whatsapp_from: str | None
    email_sent_by: str = Field(description="who sends your email now: your SendGrid account, the platform's, or "
                                           "the local outbox")
    sms_sent_by: str
    sendgrid_event_webhook_url: str
    twilio_status_callback_url: str


# -- delivery log -----------------------------------------------------------------------------------------------
class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID | None
    created_at: datetime
    request_key: str
    channel: Channel
    event: str
    locale: str
    template_source: str
    user_id: UUID | None
    recipient: str
    subject: str | None
    status: DeliveryStatus
    provider: str
    provider_message_id: str | None
    error: str | None
    error_code: str | None
    attempts: int
    uncertain: bool = Field(description="an earlier attempt may have reached the provider unanswered: the "
                                        "recipient might have received it twice")
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None


# -- broadcasts ------------------------------------------------------------------------------------------------
class BroadcastCreate(Strict):
    event: str = Field("announcement", max_length=100, description="an event that may be broadcast")
    variables: dict[str, Any] = Field(default_factory=dict, description="the event's variables, the same for all")
    channels: list[Channel] | None = Field(None, max_length=4, description="default: the event's channels")
    filter: BroadcastFilter = Field(default_factory=BroadcastFilter)

    @field_validator("variables")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > 20_000:
            raise ValueError("keep the variables under 20 000 characters")
        return value


class BroadcastCountsOut(BaseModel):
    total: int
    sent: int
    skipped: int
    failed: int
    held: int


class BroadcastOut(BaseModel):
    id: UUID
    event: str
    variables: dict[str, Any]
    channels: list[Channel] | None
    filter: BroadcastFilter
    status: str
    workflow_id: str
    counts: BroadcastCountsOut
    created_by: UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    live: BroadcastProgress | None = Field(None, description="the running workflow's own view, when reachable")

    @classmethod
    def of(cls, row: Any, live: BroadcastProgress | None = None) -> BroadcastOut:
        return cls(
            id=row.id, event=row.event, variables=row.variables, channels=row.channels,
            filter=BroadcastFilter.model_validate(row.filter), status=row.status, workflow_id=row.workflow_id,
            counts=BroadcastCountsOut(total=row.total, sent=row.sent, skipped=row.skipped, failed=row.failed,
                                      held=row.held),
            created_by=row.created_by, created_at=row.created_at, started_at=row.started_at,
            finished_at=row.finished_at, live=live)


class WebhookAccepted(BaseModel):
    updated: int
