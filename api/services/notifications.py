"""Notification settings, templates, broadcasts' checks and the providers' status callbacks."""

from __future__ import annotations

import json
import logging
import time as clock
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import TEMPLATE_INVALID, VALIDATION, WEBHOOK_SIGNATURE, Problem
from api.schemas.notifications import (
    NotificationSettingsIn,
    NotificationSettingsOut,
    PreferencesOut,
    QuietHoursOut,
    RenderedOut,
    TemplateOut,
)
from api.state import AppState
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.settings import Settings
from domain.notification_channels import Channel, DeliveryStatus, status_after_callback
from domain.notification_events import EVENTS, UnknownEvent, coerce_variables, event_spec
from domain.notification_templates import (
    LANGUAGES,
    TemplateError,
    render_template,
    resolve_template,
    sample_variables,
    validate_template,
)
from domain.notification_texts import BUILTIN
from domain.notification_texts.base import TemplateText
from domain.notifications import NotConfigured, choose_provider
from models.identity import User
from models.notifications import (
    NotificationDelivery,
    NotificationPreference,
    NotificationTemplate,
    TenantNotificationSettings,
)
from models.tenancy import Tenant

log = logging.getLogger(__name__)

SENDGRID_WEBHOOK_PATH = "/api/v1/webhooks/sendgrid/events"
TWILIO_WEBHOOK_PATH = "/api/v1/webhooks/twilio/status"


# -- preferences -------------------------------------------------------------------------------------------
def preferences_out(row: NotificationPreference | None, timezone: str) -> PreferencesOut:
    if row is None:
        row = NotificationPreference(email=True, sms=True, whatsapp=False, in_app=True, announcements=True)
    quiet = None
    if row.quiet_hours_start is not None and row.quiet_hours_end is not None:
        quiet = QuietHoursOut(start=row.quiet_hours_start.strftime("%H:%M"), end=row.quiet_hours_end.strftime("%H:%M"))
    return PreferencesOut(email=row.email, sms=row.sms, whatsapp=row.whatsapp, in_app=row.in_app,
                          announcements=row.announcements, quiet_hours=quiet, timezone=timezone)


# -- the tenant's provider settings ------------------------------------------------------------------------------
def settings_out(row: TenantNotificationSettings | None, settings: Settings, tenant_slug: str
                 ) -> NotificationSettingsOut:
    def sent_by(channel: Channel) -> str:
        try:
            choice = choose_provider(channel, settings, row)
        except NotConfigured as exc:
            return f"not configured: {exc}"
        if choice.name == "local":
            return "the local outbox (no provider credentials)"
        account = "your own" if choice.account == "tenant" else "the platform's"
        return f"{choice.name} ({account} account)"

    base = settings.public_base_url.rstrip("/")
    return NotificationSettingsOut(
        email_from_address=row.email_from_address if row else None,
        email_from_name=row.email_from_name if row else None,
        email_reply_to=row.email_reply_to if row else None,
        sendgrid_api_key_set=bool(row and row.sendgrid_api_key_encrypted),
        sendgrid_api_key_hint=row.sendgrid_api_key_hint if row and row.sendgrid_api_key_encrypted else None,
        sendgrid_webhook_public_key=row.sendgrid_webhook_public_key if row else None,
        twilio_account_sid=row.twilio_account_sid if row else None,
        twilio_auth_token_set=bool(row and row.twilio_auth_token_encrypted),
        twilio_sms_from=row.twilio_sms_from if row else None,
        twilio_whatsapp_from=row.twilio_whatsapp_from if row else None,
        email_sent_by=sent_by(Channel.EMAIL), sms_sent_by=sent_by(Channel.SMS),
        sendgrid_event_webhook_url=f"{base}{SENDGRID_WEBHOOK_PATH}?tenant={tenant_slug}",
        twilio_status_callback_url=base + TWILIO_WEBHOOK_PATH,
    )


def apply_settings(row: TenantNotificationSettings, body: NotificationSettingsIn, keys: Keys) -> list[str]:
    """Apply the fields sent (null clears); returns their names. Checks the result is usable."""
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if name == "sendgrid_api_key":
            row.sendgrid_api_key_encrypted = keys.encrypt(value) if value else None
            row.sendgrid_api_key_hint = value[-4:] if value else None
        elif name == "twilio_auth_token":
            row.twilio_auth_token_encrypted = keys.encrypt(value) if value else None
        else:
            setattr(row, name, value)
    if row.sendgrid_api_key_encrypted and not row.email_from_address:
        raise Problem(VALIDATION, "with your own SendGrid key, give the verified sender address it sends from",
                      field="email_from_address")
    if row.email_from_address and not row.sendgrid_api_key_encrypted:
        raise Problem(VALIDATION, "a sender address of your own needs your own SendGrid key (the platform's "
                      "account may only send from its verified senders); set a display name instead",
                      field="email_from_address")
    if bool(row.twilio_account_sid) != bool(row.twilio_auth_token_encrypted):
        missing = "twilio_auth_token" if row.twilio_account_sid else "twilio_account_sid"
        raise Problem(VALIDATION, "give both the Twilio Account SID and its auth token", field=missing)
    if row.twilio_account_sid and not (row.twilio_sms_from or row.twilio_whatsapp_from):
        raise Problem(VALIDATION, "give the number (or WhatsApp sender) your Twilio account sends from",
                      field="twilio_sms_from")
    return sorted(changes)


# -- templates -------------------------------------------------------------------------------------------------
def _preview(event: str, text: TemplateText, locale: str) -> RenderedOut | None:
    try:
        rendered = render_template(text, sample_variables(event_spec(event), locale), timezone="Asia/Kolkata",
                                   locale=locale)
    except TemplateError:
        return None
    return RenderedOut(subject=rendered.subject, body=rendered.body)


def effective_templates(overrides: Mapping[tuple[str, Channel, str], NotificationTemplate],
                        event: str | None, channel: Channel | None, locale: str | None) -> list[TemplateOut]:
    keys = set(BUILTIN) | set(overrides)
    out = []
    for key in sorted(keys, key=lambda k: (k[0], k[1].value, k[2])):
        ev, ch, lang = key
        if (event and ev != event) or (channel and ch != channel) or (locale and lang != locale):
            continue
        if key in overrides:
            row = overrides[key]
            text, source = TemplateText(row.subject, row.body), "tenant"
        else:
            text, source = BUILTIN[key], "builtin"
        out.append(TemplateOut(event=ev, channel=ch, locale=lang, subject=text.subject, body=text.body, source=source,
                               preview=_preview(ev, text, lang)))
    return out


def check_template(event: str, channel: Channel, locale: str, subject: str | None, body: str) -> RenderedOut:
    try:
        rendered = validate_template(event, channel, locale, subject, body)
    except UnknownEvent as exc:
        raise Problem(VALIDATION, str(exc), field="event") from exc
    except TemplateError as exc:
        raise Problem(TEMPLATE_INVALID, str(exc), field=exc.part) from exc
    return RenderedOut(subject=rendered.subject, body=rendered.body)


def check_broadcast(event: str, variables: dict[str, Any], channels: list[Channel] | None,
                    overrides: Mapping[tuple[str, Channel, str], TemplateText]) -> None:
    """A broadcast's values must render every template it may use, in every language."""
    try:
        spec = event_spec(event)
    except UnknownEvent as exc:
        raise Problem(VALIDATION, str(exc), field="event") from exc
    if not spec.broadcast:
        allowed = sorted(name for name, s in EVENTS.items() if s.broadcast)
        raise Problem(VALIDATION, f"'{event}' cannot be broadcast; use one of: {', '.join(allowed)}", field="event")
    try:
        values = coerce_variables(spec, variables)
    except ValueError as exc:
        raise Problem(VALIDATION, str(exc), field="variables") from exc
    for channel in channels or spec.default_channels:
        for language in LANGUAGES:
            resolved = resolve_template(event, channel, language, overrides)
            if resolved is None:
                raise Problem(VALIDATION, f"'{event}' has no {channel.value} template", field="channels")
            sample = {**sample_variables(spec, language), **{k: v for k, v in values.items()}}
            for name in spec.variables:
                if name not in values:
                    sample.pop(name, None)  # the sample must not hide a value the sender forgot
            try:
                render_template(resolved.text, sample, timezone="Asia/Kolkata", locale=language)
            except TemplateError as exc:
                raise Problem(TEMPLATE_INVALID, f"{channel.value}/{language}: {exc}", field="variables") from exc


# -- provider callbacks -------------------------------------------------------------------------------------------
_SENDGRID_STATUS = {
    "delivered": DeliveryStatus.DELIVERED,
    "bounce": DeliveryStatus.BOUNCED,
    "blocked": DeliveryStatus.BOUNCED,
    "dropped": DeliveryStatus.FAILED,
}
_SENDGRID_OPT_OUT = {"unsubscribe", "group_unsubscribe", "spamreport"}
_TWILIO_STATUS = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def _reject(provider: str, reason: str, field: str) -> Problem:
    log.warning("%s webhook rejected: %s", provider, reason)
    return Problem(WEBHOOK_SIGNATURE, f"{reason}; nothing was changed", field=field)


def _apply_status(row: NotificationDelivery, reported: DeliveryStatus, *, error: str | None,
                  error_code: str | None) -> bool:
    new = status_after_callback(DeliveryStatus(row.status), reported)
    if new is None:
        return False
    now = datetime.now(UTC)
    row.status = new.value
    row.status_updated_at = now
    if new == DeliveryStatus.DELIVERED:
        row.delivered_at = now
    if new in (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED):
        row.failed_at = now
        row.error = (error or new.value)[:2000]
        row.error_code = (error_code or "")[:50] or None
    return True


async def _opt_out_of_email(session: AsyncSession, row: NotificationDelivery) -> None:
    if row.user_id is None:
        return
    prefs = (await session.execute(select(NotificationPreference).where(
        NotificationPreference.user_id == row.user_id))).scalar_one_or_none()
    if prefs is None:
        prefs = NotificationPreference(tenant_id=row.tenant_id, user_id=row.user_id, email=True, sms=True,
                                       whatsapp=False, in_app=True, announcements=True)
        session.add(prefs)
    prefs.email = False


async def handle_sendgrid_events(state: AppState, raw: bytes, signature: str | None, timestamp: str | None,
                                 tenant_slug: str | None) -> int:
    """Verify a signed Event Webhook batch (ECDSA, the account's verification key) and apply it.

    Events may only touch deliveries sent through the account whose key signed them: the platform
    key for the platform's account, a tenant's key (`?tenant=<slug>`) for that tenant's own.
    """
    from sendgrid.helpers.eventwebhook import EventWebhook

    field = "X-Twilio-Email-Event-Webhook-Signature"
    settings = state.settings
    async with scoped_session(state.sessionmaker, TenantScope.system()) as session:
        tenant_id: uuid.UUID | None = None
        if tenant_slug:
            tenant = (await session.execute(select(Tenant).where(Tenant.slug == tenant_slug))).scalar_one_or_none()
            config = None
            if tenant is not None:
                tenant_id = tenant.id
                config = (await session.execute(select(TenantNotificationSettings).where(
                    TenantNotificationSettings.tenant_id == tenant.id))).scalar_one_or_none()
            public_key = config.sendgrid_webhook_public_key if config else None
        else:
            public_key = settings.sendgrid_webhook_public_key
        if not public_key:
            raise _reject("sendgrid", "no verification key is configured for this account", field)
        if not signature or not timestamp:
            raise _reject("sendgrid", "the signature headers are missing", field)
        if not timestamp.isdigit() or abs(clock.time() - int(timestamp)) > settings.webhook_max_age_seconds:
            raise _reject("sendgrid", "the signature timestamp is too old or malformed",
                          "X-Twilio-Email-Event-Webhook-Timestamp")
        verifier = EventWebhook()
        try:
            valid = verifier.verify_signature(raw.decode("utf-8"), signature, timestamp,
                                              verifier.convert_public_key_to_ecdsa(public_key))
        except (ValueError, TypeError, UnicodeDecodeError):
            valid = False
        if not valid:
            raise _reject("sendgrid", "the signature does not match the body", field)
        try:
            events = json.loads(raw)
        except ValueError as exc:
            raise Problem(VALIDATION, "the body is not a JSON list of events", field="body") from exc
        if not isinstance(events, list):
            raise Problem(VALIDATION, "the body is not a JSON list of events", field="body")

        account = "tenant" if tenant_slug else "platform"
        updated = 0
        for event in events:
            if not isinstance(event, dict):
                continue
            row = await _sendgrid_delivery(session, event, account, tenant_id)
            if row is None:
                continue
            kind = str(event.get("event", ""))
            message_id = str(event.get("sg_message_id") or "")
            if message_id and row.provider_message_id and not message_id.startswith(row.provider_message_id):
                log.warning("delivery %s has a second SendGrid message %s: it was sent twice", row.id, message_id)
                row.uncertain = True
            if kind in _SENDGRID_OPT_OUT:
                await _opt_out_of_email(session, row)
            reported = _SENDGRID_STATUS.get(kind)
            if reported is not None:
                reason = event.get("reason") or event.get("response") or kind
                updated += _apply_status(row, reported, error=f"{kind}: {reason}", error_code=kind)
        return updated


async def _sendgrid_delivery(session: AsyncSession, event: dict[str, Any], account: str,
                             tenant_id: uuid.UUID | None) -> NotificationDelivery | None:
    stmt = select(NotificationDelivery).where(NotificationDelivery.provider == "sendgrid",
                                              NotificationDelivery.provider_account == account)
    if tenant_id is not None:
        stmt = stmt.where(NotificationDelivery.tenant_id == tenant_id)
    try:
        delivery_id = uuid.UUID(str(event.get("delivery_id")))
        stmt = stmt.where(NotificationDelivery.id == delivery_id)
    except ValueError:
        message_id = str(event.get("sg_message_id") or "").split(".")[0]
        if not message_id:
            return None
        stmt = stmt.where(NotificationDelivery.provider_message_id == message_id)
    return (await session.execute(stmt.with_for_update())).scalars().first()


async def handle_twilio_status(state: AppState, url: str, params: dict[str, str], signature: str | None) -> int:
    """Verify X-Twilio-Signature with the auth token of the account that sent the message, apply it."""
    from twilio.request_validator import RequestValidator

    field = "X-Twilio-Signature"
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    async with scoped_session(state.sessionmaker, TenantScope.system()) as session:
        row = None
        if sid:
            row = (await session.execute(select(NotificationDelivery).where(
                NotificationDelivery.provider == "twilio", NotificationDelivery.provider_message_id == sid,
            ).with_for_update())).scalars().first()
        token = None
        if row is not None and row.provider_account == "tenant":
            config = (await session.execute(select(TenantNotificationSettings).where(
                TenantNotificationSettings.tenant_id == row.tenant_id))).scalar_one_or_none()
            if config and config.twilio_auth_token_encrypted:
                token = state.keys.decrypt(config.twilio_auth_token_encrypted)
        elif state.settings.twilio_auth_token is not None:
            token = state.settings.twilio_auth_token.get_secret_value()
        if not signature:
            raise _reject("twilio", "the X-Twilio-Signature header is missing", field)
        if token is None or not RequestValidator(token).validate(url, params, signature):
            raise _reject("twilio", "the signature does not match", field)
        if row is None:
            log.info("twilio status for unknown message %s ignored", sid)
            return 0
        reported = _TWILIO_STATUS.get(params.get("MessageStatus", ""))
        if reported is None:
            return 0
        code = params.get("ErrorCode")
        error = f"twilio {params.get('MessageStatus')}" + (f" (error {code})" if code else "")
        return int(_apply_status(row, reported, error=error, error_code=code))


async def recipient_timezone(session: AsyncSession, user: User) -> str:
    if user.timezone:
        return user.timezone
    if user.tenant_id is not None:
        tenant = await session.get(Tenant, user.tenant_id)
        if tenant is not None:
            return tenant.timezone
    return "UTC"
