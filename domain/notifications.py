"""Notifications: the contract every workflow uses to talk to people, and the pure rules behind it.

A workflow asks for a notification with a `NotificationRequest` (who, which event, which values)
through `workflows.notifications.notify(...)`; the activity `notifications.send` chooses the
channels (the event's defaults or the ones asked for, minus what the person opted out of and what
they have no address for), holds a non-urgent message during the person's quiet hours (telling
the workflow until when, so that the workflow waits with a timer), renders the templates in the
person's language and time zone, and sends once per channel, keyed by `dedupe_key` + channel.

Everything here is pure (no I/O): events and their variables, channels and statuses,
preferences, quiet hours, and the status order that provider callbacks follow.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator

from domain.notification_channels import Channel, DeliveryStatus
from domain.notification_events import EventSpec

# -- activity names and error types ---------------------------------------------------------------
SEND_NOTIFICATION = "notifications.send"
NOTIFY_WORKFLOW = "Notify"  # workflows.notifications.NotifyWorkflow, for senders that are not workflows
BROADCAST_PREPARE = "notifications.broadcast_prepare"
BROADCAST_BATCH = "notifications.broadcast_batch"
BROADCAST_FINISH = "notifications.broadcast_finish"

# ApplicationError.type of a notification that cannot be sent (bad address, unsubscribed, template
# error, unknown event): not retried; the details carry the NotificationOutcome.
NOTIFICATION_REJECTED = "NotificationRejected"
# ApplicationError.type of a provider that is down, slow or rate limiting: retried with backoff.
PROVIDER_UNAVAILABLE = "ProviderUnavailable"


# -- the request and its outcome (the activity's contract) ---------------------------------------------
class Attachment(BaseModel):
    """A file sent with an email (an iCalendar invitation, a small PDF); other channels ignore it."""

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100)
    content_base64: str = Field(description="the file's bytes, base64")


class NotificationRequest(BaseModel):
    """Tell one person about one event.

    `dedupe_key` is the caller's step (workflow id + step, e.g. `consultation-<id>:reminder-24h`):
    the activity sends at most once per dedupe key and channel, however often it is retried or
    replayed. `channels` None means the event's default channels; either way the person's
    opt-outs and missing addresses are taken away. `at` is the instant quiet hours are judged at:
    the workflow helper sets it to `workflow.now()` (deterministic, and right on the time-skipping
    test server); None means the activity's clock.
    """

    dedupe_key: str = Field(min_length=1, max_length=280)
    tenant_id: UUID | None
    # A person with an account, or (an invitation) an address that has none yet: `recipient_email`
    # with `recipient_name`, sent by email only, in `recipient_locale`, with no preferences to apply.
    recipient_user_id: UUID | None = None
    recipient_email: str | None = Field(None, max_length=320)
    recipient_name: str | None = Field(None, max_length=200)
    recipient_locale: str = "en"
    event: str = Field(min_length=1, max_length=100)
    variables: dict[str, Any] = Field(default_factory=dict)
    channels: list[Channel] | None = None
    urgent: bool = False
    at: datetime | None = None
    respect_quiet_hours: bool = True
    # Not rendered: handed to the provider as they are. `data` is recorded with the message (the
    # local outbox's `data`; `data["link"]` becomes the in-app message's link); attachments go
    # with the email.
    data: dict[str, Any] = Field(default_factory=dict)
    attachments: list[Attachment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> NotificationRequest:
        if self.recipient_user_id is None and not self.recipient_email:
            raise ValueError("name the recipient: recipient_user_id, or recipient_email for an invitation")
        return self


class ChannelOutcome(BaseModel):
    channel: Channel
    status: DeliveryStatus | None = None  # None: nothing was sent on this channel (see `skipped`)
    skipped: str | None = None            # why not: opted out, no phone number, not configured
    delivery_id: UUID | None = None
    provider: str | None = None
    provider_message_id: str | None = None
    error: str | None = None
    already_done: bool = False             # a retry or replay found this channel handled before


class NotificationOutcome(BaseModel):
    dedupe_key: str
    event: str
    held_until: datetime | None = None  # quiet hours: nothing sent; ask again at this instant
    channels: list[ChannelOutcome] = Field(default_factory=list)

    @property
    def held(self) -> bool:
        return self.held_until is not None

    @property
    def sent_on(self) -> list[Channel]:
        done = {DeliveryStatus.SENT, DeliveryStatus.DELIVERED}
        return [c.channel for c in self.channels if c.status in done]

    @property
    def failed_on(self) -> list[Channel]:
        return [c.channel for c in self.channels if c.status in (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)]


class NotifyState(BaseModel):
    """The `state` query of NotifyWorkflow."""

    status: str  # sending, held, done
    held_until: datetime | None = None
    outcome: NotificationOutcome | None = None


# -- preferences and channel choice ---------------------------------------------------------------------
DEFAULT_CHANNEL_OPT_IN: dict[Channel, bool] = {
    Channel.EMAIL: True,
    Channel.SMS: True,
    Channel.WHATSAPP: False,  # WhatsApp's business policy wants an explicit opt-in
    Channel.IN_APP: True,
}


@dataclass(frozen=True)
class QuietHours:
    """A daily window of local wall-clock time in which non-urgent messages wait.

    `start` > `end` wraps midnight (22:00-07:00); `start` == `end` means no quiet hours.
    """

    start: time
    end: time
    timezone: str


@dataclass(frozen=True)
class Preferences:
    channels: Mapping[Channel, bool] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_OPT_IN))
    announcements: bool = True
    quiet_hours: QuietHours | None = None
    # A client's latest consents (domain.privacy.consents); None: not a client, consents do not
    # apply. Marketing (broadcasts, nudges) needs `marketing`; WhatsApp needs `whatsapp`.
    marketing_consent: bool | None = None
    whatsapp_consent: bool | None = None

    def wants(self, channel: Channel) -> bool:
        return self.channels.get(channel, DEFAULT_CHANNEL_OPT_IN[channel])


@dataclass(frozen=True)
class Addresses:
    email: str | None
    phone: str | None
    has_account: bool = True


def choose_channels(
    spec: EventSpec, requested: Sequence[Channel] | None, prefs: Preferences, addresses: Addresses
) -> tuple[list[Channel], dict[Channel, str]]:
    """The channels to send on, and for every other candidate the reason it was left out."""
    candidates = list(dict.fromkeys(requested if requested is not None else spec.default_channels))
    chosen: list[Channel] = []
    skipped: dict[Channel, str] = {}
    for channel in candidates:
        if (spec.broadcast or spec.marketing) and not prefs.announcements:
            skipped[channel] = "opted out of announcements"
        elif (spec.broadcast or spec.marketing) and prefs.marketing_consent is False:
            skipped[channel] = NO_MARKETING_CONSENT
        elif why := _unreachable(spec, channel, prefs, addresses):
            skipped[channel] = why
        elif channel == Channel.WHATSAPP and prefs.whatsapp_consent is False:
            skipped[channel] = NO_WHATSAPP_CONSENT
        else:
            chosen.append(channel)
    if skipped.get(Channel.WHATSAPP) == NO_WHATSAPP_CONSENT and not set(chosen) & {Channel.SMS, Channel.EMAIL}:
        # WhatsApp was to reach them outside the app: the other channels do, if they may.
        for fallback in (Channel.SMS, Channel.EMAIL):
            if fallback not in skipped and not _unreachable(spec, fallback, prefs, addresses):
                chosen.append(fallback)
                skipped[Channel.WHATSAPP] = f"{NO_WHATSAPP_CONSENT}: sent by {fallback.value} instead"
                break
    return chosen, skipped


NO_MARKETING_CONSENT = "no marketing consent"
NO_WHATSAPP_CONSENT = "no WhatsApp consent"


def _unreachable(spec: EventSpec, channel: Channel, prefs: Preferences, addresses: Addresses) -> str | None:
    """Why `channel` cannot reach this person (opted out, no address), or None."""
    if not prefs.wants(channel) and not (spec.mandatory and channel == Channel.EMAIL):
        return f"opted out of {channel.value}"
    if channel == Channel.EMAIL and not addresses.email:
        return "no email address"
    if channel in (Channel.SMS, Channel.WHATSAPP) and not addresses.phone:
        return "no phone number"
    if channel == Channel.IN_APP and not addresses.has_account:
        return "no account"
    return None


# -- which provider sends a channel -----------------------------------------------------------------------
class NotConfigured(Exception):
    """The channel cannot be used for this tenant (e.g. Twilio without a WhatsApp sender)."""


@dataclass(frozen=True)
class ProviderChoice:
    name: str       # sendgrid, twilio, local, in_app
    account: str    # platform, tenant, local


def choose_provider(channel: Channel, settings: Any, tenant: Any | None, *, local_only: bool = False) -> ProviderChoice:
    """Which provider and whose account send `channel`, from the settings and the tenant's own.

    A tenant's own SendGrid key (with its verified sender) or Twilio account wins; otherwise the
    platform's account sends under the tenant's name; without either, the local outbox.
    `settings` is core.settings.Settings, `tenant` a TenantNotificationSettings row (read by name,
    so that this stays pure).
    """
    if channel == Channel.IN_APP:
        return ProviderChoice("in_app", "local")
    if local_only:
        return ProviderChoice("local", "local")
    if channel == Channel.EMAIL:
        if settings.email_provider == "local":
            return ProviderChoice("local", "local")
        if tenant is not None and tenant.sendgrid_api_key_encrypted and tenant.email_from_address:
            return ProviderChoice("sendgrid", "tenant")
        if settings.sendgrid_api_key is not None:
            return ProviderChoice("sendgrid", "platform")
        if settings.email_provider == "sendgrid":
            raise NotConfigured("EMAIL_PROVIDER=sendgrid but SENDGRID_API_KEY is not set")
        return ProviderChoice("local", "local")
    if settings.sms_provider == "local":
        return ProviderChoice("local", "local")
    sender = "twilio_whatsapp_from" if channel == Channel.WHATSAPP else "twilio_sms_from"
    if tenant is not None and tenant.twilio_account_sid and tenant.twilio_auth_token_encrypted:
        if not getattr(tenant, sender):
            raise NotConfigured(f"the consultancy's Twilio account has no {channel.value} sender")
        return ProviderChoice("twilio", "tenant")
    if settings.twilio_account_sid and settings.twilio_auth_token is not None:
        if not getattr(settings, sender):
            raise NotConfigured(f"no Twilio {channel.value} sender is configured ({sender.upper()})")
        return ProviderChoice("twilio", "platform")
    if settings.sms_provider == "twilio":
        raise NotConfigured("SMS_PROVIDER=twilio but TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set")
    return ProviderChoice("local", "local")


# -- quiet hours -------------------------------------------------------------------------------------------
def in_quiet_window(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _utc_candidates(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The instants a local wall-clock time names on a day: one, or two in a DST fold.

    A time skipped by a DST gap (01:30 on the night London springs forward) names no instant;
    quiet hours then end at the first instant whose local time is past it: the end of the gap.
    """
    naive = datetime.combine(day, wall)
    resolved = [naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = sorted({inst for inst in resolved if inst.astimezone(zone).replace(tzinfo=None) == naive})
    if real:
        return real
    # In a gap: bisect (in whole seconds) for the first instant at or past the wall time.
    lo, hi = int(min(resolved).timestamp()), int(max(resolved).timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return [datetime.fromtimestamp(hi, UTC)]


def quiet_hours_end(at: datetime, quiet: QuietHours | None) -> datetime | None:
    """If `at` falls in the quiet hours, the instant (UTC) they end; otherwise None."""
    if quiet is None or quiet.start == quiet.end:
        return None
    zone = ZoneInfo(quiet.timezone)
    local = at.astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    if not in_quiet_window(wall, quiet.start, quiet.end):
        return None
    end_day = local.date()
    if quiet.start > quiet.end and wall >= quiet.start:
        end_day += timedelta(days=1)
    at_utc = at.astimezone(UTC)
    for candidate in _utc_candidates(end_day, quiet.end, zone):
        if candidate > at_utc:
            return candidate
    # Only reachable inside a DST fold that repeats the end time after `at`; the next day's end
    # is then the first one still ahead.
    return next(c for c in _utc_candidates(end_day + timedelta(days=1), quiet.end, zone) if c > at_utc)


# -- broadcasts ---------------------------------------------------------------------------------------------
class BroadcastStatus(enum.StrEnum):
    RUNNING = "running"
    WAITING_QUIET_HOURS = "waiting_quiet_hours"  # everyone due is done; the rest are in quiet hours
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RecipientStatus(enum.StrEnum):
    PENDING = "pending"
    HELD = "held"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


def broadcast_workflow_id(broadcast_id: UUID) -> str:
    return f"broadcast-{broadcast_id}"


def notify_workflow_id(key: str) -> str:
    return f"notify-{key}"


class BroadcastFilter(BaseModel):
    """Which of the consultancy's clients receive a broadcast (all active clients by default)."""

    q: str | None = Field(None, max_length=100, description="part of the name or email")
    verified: bool | None = Field(None, description="only clients whose email is (un)verified")
    locale: str | None = Field(None, pattern=r"^(en|hi)$", description="only clients reading this language")
    client_ids: list[UUID] | None = Field(None, max_length=1000, description="only these clients")


class BroadcastCounts(BaseModel):
    total: int = 0
    pending: int = 0
    held: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.skipped + self.failed


class BroadcastProgress(BaseModel):
    broadcast_id: UUID
    status: BroadcastStatus
    counts: BroadcastCounts = Field(default_factory=BroadcastCounts)
    batches: int = 0
    runs: int = 1  # workflow runs so far (continue-as-new starts a new one)
    started_at: datetime
    finished_at: datetime | None = None
    next_release_at: datetime | None = None  # when quiet hours of held recipients end

    def summary(self) -> str:
        c = self.counts
        text = f"{c.done}/{c.total} done: {c.sent} sent, {c.skipped} skipped, {c.failed} failed"
        if c.held:
            text += f", {c.held} waiting for quiet hours to end"
        return text


class BroadcastInput(BaseModel):
    broadcast_id: UUID
    tenant_id: UUID
    batch_size: int = Field(100, ge=1, le=1000)
    batches_per_run: int = Field(200, ge=1, description="continue-as-new after this many batches")
    progress: BroadcastProgress | None = None  # carried over by continue-as-new


class BroadcastRef(BaseModel):
    broadcast_id: UUID
    tenant_id: UUID


class BroadcastBatch(BaseModel):
    broadcast_id: UUID
    tenant_id: UUID
    limit: int
    at: datetime


class BroadcastBatchResult(BaseModel):
    processed: int
    counts: BroadcastCounts
    next_release_at: datetime | None = None


class BroadcastFinish(BaseModel):
    broadcast_id: UUID
    tenant_id: UUID
    status: BroadcastStatus
    at: datetime


def channels_in(values: Iterable[str] | None) -> list[Channel] | None:
    return None if values is None else [Channel(v) for v in values]
