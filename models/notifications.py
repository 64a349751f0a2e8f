"""Notifications: the delivery log, in-app inboxes, preferences, tenant templates and provider
settings, and broadcasts with their recipients.

Rows of platform admins (who belong to no tenant) have tenant_id NULL, so the per-person tables
are `OptionallyTenantOwned`; row-level security guards all of them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, OptionallyTenantOwned, TenantOwned, TimestampMixin


class NotificationDelivery(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """One message on one channel: what was sent to whom, through which provider, and how it went.

    `dedupe_key` (the request's key + channel) is unique: a retried activity or a replayed
    workflow finds its row and sends nothing twice. `claimed_until` is the lease of the attempt
    that is talking to the provider right now; `uncertain` says an earlier attempt may have
    reached the provider without our learning the answer (a crash or a timeout), i.e. the one
    case where the recipient might see the message twice.
    """

    __tablename__ = "notification_deliveries"

    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    request_key: Mapped[str] = mapped_column(String(280), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(100), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    template_source: Mapped[str] = mapped_column(String(20), default="builtin")
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_account: Mapped[str] = mapped_column(String(20))  # platform, tenant or local
    provider_message_id: Mapped[str | None] = mapped_column(String(100), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(50))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    status_updated_at: Mapped[datetime | None]


class InAppNotification(IdMixin, OptionallyTenantOwned, Base):
    """A message in a person's inbox in the app."""

    __tablename__ = "in_app_notifications"
    __table_args__ = (Index("ix_in_app_notifications_user_unread", "user_id", "read_at"),)

    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(index=True)
    read_at: Mapped[datetime | None]


class NotificationPreference(IdMixin, TimestampMixin, OptionallyTenantOwned, Base):
    """A person's opt-ins per channel and quiet hours (local wall clock in their time zone)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=True)
    whatsapp: Mapped[bool] = mapped_column(Boolean, default=False)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    announcements: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)


class NotificationTemplate(IdMixin, TimestampMixin, TenantOwned, Base):
    """A tenant's own wording of one event on one channel in one language."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "event", "channel", "locale"),)

    event: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(1000))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TenantNotificationSettings(IdMixin, TimestampMixin, TenantOwned, Base):
    """A tenant's own sender identity and provider accounts; secrets encrypted (core.security.Keys)."""

    __tablename__ = "tenant_notification_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    email_from_address: Mapped[str | None] = mapped_column(String(320))
    email_from_name: Mapped[str | None] = mapped_column(String(200))
    email_reply_to: Mapped[str | None] = mapped_column(String(320))
    sendgrid_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    sendgrid_api_key_hint: Mapped[str | None] = mapped_column(String(8))
    sendgrid_webhook_public_key: Mapped[str | None] = mapped_column(Text)
    twilio_account_sid: Mapped[str | None] = mapped_column(String(64))
    twilio_auth_token_encrypted: Mapped[str | None] = mapped_column(Text)
    twilio_sms_from: Mapped[str | None] = mapped_column(String(32))
    twilio_whatsapp_from: Mapped[str | None] = mapped_column(String(32))


class Broadcast(IdMixin, TimestampMixin, TenantOwned, Base):
    """Staff sending one event's template to a filtered set of the tenant's clients."""

    __tablename__ = "broadcasts"

    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    event: Mapped[str] = mapped_column(String(100))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    channels: Mapped[list[str] | None] = mapped_column(JSONB)
    filter: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    workflow_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class BroadcastRecipient(TenantOwned, Base):
    """One client of a broadcast: the snapshot taken when it started, and how it went for them."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (Index("ix_broadcast_recipients_broadcast_status", "broadcast_id", "status"),)

    broadcast_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"),
                                                    primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    held_until: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]
