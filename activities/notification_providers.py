"""The providers behind each channel, one small interface, chosen by settings and per tenant.

* `SendGridEmail` (the `sendgrid` package): POST {host}/v3/mail/send, `Authorization: Bearer`.
* `TwilioMessages` (the `twilio` package) for SMS and WhatsApp: POST
  {base}/2010-04-01/Accounts/{sid}/Messages.json with basic auth (account SID + auth token).
* `LocalOutbox`: no credentials, so the message is recorded in `outbox_messages`, which staff
  (GET /api/v1/outbox) and platform admins (GET /api/v1/admin/outbox) can read.
* `InAppInbox`: the person's inbox in the app (`in_app_notifications`).

Remote providers raise `TransientProviderError` (timeouts, 5xx, 429: try again later) or
`PermanentProviderError` (any other 4xx: a bad number, an unsubscribed recipient; never retried).
The two stored providers write in the caller's transaction, the one that marks the delivery sent,
so they are exactly-once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.security import Keys
from core.settings import Settings
from domain.notification_channels import Channel
from domain.notifications import Attachment, NotConfigured, ProviderChoice, choose_provider
from models.notifications import InAppNotification, TenantNotificationSettings
from models.platform import OutboxMessage


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: uuid.UUID
    dedupe_key: str
    tenant_id: uuid.UUID | None
    user_id: uuid.UUID | None
    channel: Channel
    event: str
    locale: str
    to: str                # email address, E.164 phone number, or the user id for in-app
    subject: str | None
    body: str
    data: Mapping[str, Any] = field(default_factory=dict)         # the request's data, as it is
    attachments: tuple[Attachment, ...] = ()                      # email only


@dataclass(frozen=True)
class Receipt:
    provider_message_id: str
    delivered: bool = False  # in-app: in the inbox the moment it is stored


class ProviderError(Exception):
    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status  # the provider's HTTP status, when it answered


class TransientProviderError(ProviderError):
    """Try again later. `ambiguous`: the provider may have accepted the message (a timeout)."""

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None,
                 ambiguous: bool = False, status: int | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class PermanentProviderError(ProviderError):
    """The provider refused this message for good."""


class RemoteProvider(Protocol):
    name: str
    account: str  # "platform" or "tenant": whose credentials (and webhook keys) apply

    async def send(self, message: OutgoingMessage) -> Receipt: ...


class StoredProvider(Protocol):
    name: str
    account: str

    async def store_many(self, session: AsyncSession, messages: list[OutgoingMessage]) -> list[Receipt]: ...


Provider = RemoteProvider | StoredProvider


def _classify_http(status: int, detail: str, retry_after: str | None = None, code: str | None = None) -> ProviderError:
    if status == 429 or status >= 500:
        delay = None
        if retry_after and retry_after.strip().isdigit():
            delay = float(retry_after.strip())
        return TransientProviderError(f"HTTP {status}: {detail}"[:500], code=code or str(status), retry_after=delay,
                                      status=status)
    return PermanentProviderError(f"HTTP {status}: {detail}"[:500], code=code or str(status), status=status)


# -- SendGrid -------------------------------------------------------------------------------------
class SendGridEmail:
    """Email through SendGrid's v3 Mail Send API.

    SendGrid has no idempotency key for Mail Send. Every message carries `custom_args`
    (delivery_id, dedupe_key, tenant_id), which SendGrid echoes in each Event Webhook event, so
    callbacks find their delivery, and a duplicate sent in the crash window would show up as a
    second message id for the same delivery.
    """

    name = "sendgrid"

    def __init__(self, *, api_key: str, from_email: str, from_name: str | None, reply_to: str | None,
                 host: str, timeout: float, account: str) -> None:
        self.api_key, self.from_email, self.from_name, self.reply_to = api_key, from_email, from_name, reply_to
        self.host, self.timeout, self.account = host.rstrip("/"), timeout, account

    def request_body(self, message: OutgoingMessage) -> dict[str, Any]:
        sender: dict[str, str] = {"email": self.from_email}
        if self.from_name:
            sender["name"] = self.from_name
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": sender,
            "subject": message.subject or message.event,
            "content": [{"type": "text/plain", "value": message.body}],
            "custom_args": {
                "delivery_id": str(message.delivery_id),
                "dedupe_key": message.dedupe_key[:200],
                "tenant_id": str(message.tenant_id or ""),
            },
        }
        if self.reply_to:
            body["reply_to"] = {"email": self.reply_to}
        if message.attachments:
            body["attachments"] = [
                {"content": a.content_base64, "type": a.content_type, "filename": a.filename,
                 "disposition": "attachment"} for a in message.attachments]
        return body

    async def send(self, message: OutgoingMessage) -> Receipt:
        from python_http_client import exceptions as http_errors
        from sendgrid import SendGridAPIClient

        client = SendGridAPIClient(api_key=self.api_key, host=self.host)
        body = self.request_body(message)
        try:
            # The socket timeout bounds each read; this bounds the whole call (name lookup, a slow drip).
            async with asyncio.timeout(self.timeout + 2):
                response = await asyncio.to_thread(client.client.mail.send.post, request_body=body,
                                                   timeout=self.timeout)
        except http_errors.HTTPError as exc:
            raw = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body)
            headers = exc.headers or {}
            raise _classify_http(int(exc.status_code), _sendgrid_error_text(raw),
                                 headers.get("Retry-After") if hasattr(headers, "get") else None) from exc
        except TimeoutError as exc:
            raise TransientProviderError("SendGrid did not answer in time", code="timeout", ambiguous=True) from exc
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            raise TransientProviderError(f"SendGrid unreachable: {exc}", code="network") from exc
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        return Receipt(provider_message_id=message_id or f"sendgrid:{message.delivery_id}")


def _sendgrid_error_text(raw: str) -> str:
    try:
        errors = json.loads(raw).get("errors") or []
        return "; ".join(str(e.get("message", e)) for e in errors) or raw
    except (ValueError, AttributeError):
        return raw


# -- Twilio ---------------------------------------------------------------------------------------
class TwilioMessages:
    """SMS and WhatsApp through Twilio's Programmable Messaging (no idempotency key exists)."""

    name = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, sms_from: str | None, whatsapp_from: str | None,
                 base_url: str, status_callback: str | None, timeout: float, account: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sms_from, self.whatsapp_from = sms_from, whatsapp_from
        self.base_url, self.status_callback = base_url.rstrip("/"), status_callback
        self.timeout, self.account = timeout, account

    def sender_for(self, channel: Channel) -> str | None:
        if channel == Channel.WHATSAPP:
            return f"whatsapp:{self.whatsapp_from}" if self.whatsapp_from else None
        return self.sms_from

    async def send(self, message: OutgoingMessage) -> Receipt:
        import aiohttp
        from twilio.base.exceptions import TwilioRestException
        from twilio.http.async_http_client import AsyncTwilioHttpClient
        from twilio.rest import Client

        sender = self.sender_for(message.channel)
        if sender is None:
            raise PermanentProviderError(f"no Twilio sender configured for {message.channel.value}", code="no_sender")
        to = f"whatsapp:{message.to}" if message.channel == Channel.WHATSAPP else message.to
        http = AsyncTwilioHttpClient(timeout=self.timeout)
        client = Client(self.account_sid, self.auth_token, http_client=http)
        client.api.base_url = self.base_url
        extra: dict[str, Any] = {}
        if self.status_callback:
            extra["status_callback"] = self.status_callback
        try:
            async with asyncio.timeout(self.timeout):
                created = await client.messages.create_async(to=to, from_=sender, body=message.body, **extra)
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code else None
            raise _classify_http(int(exc.status), str(exc.msg), code=code) from exc
        except TimeoutError as exc:
            raise TransientProviderError("Twilio did not answer in time", code="timeout", ambiguous=True) from exc
        except (aiohttp.ClientError, ConnectionError, OSError) as exc:
            raise TransientProviderError(f"Twilio unreachable: {exc}", code="network") from exc
        finally:
            await http.close()
        return Receipt(provider_message_id=str(created.sid))


# -- stored providers -------------------------------------------------------------------------------
class LocalOutbox:
    """No credentials: record what a real provider would have sent, for people to read via the API."""

    name = "local"
    account = "local"

    async def store_many(self, session: AsyncSession, messages: list[OutgoingMessage]) -> list[Receipt]:
        ids = await _store_once(session, OutboxMessage, [dict(
            id=uuid.uuid4(), dedupe_key=m.dedupe_key, tenant_id=m.tenant_id, channel=m.channel.value, recipient=m.to,
            user_id=m.user_id, template=m.event, subject=m.subject, body=m.body, data=outbox_data(m))
            for m in messages])
        return [Receipt(provider_message_id=f"outbox:{stored}") for stored in ids]


def outbox_data(message: OutgoingMessage) -> dict[str, Any]:
    """What the outbox records besides the text: the caller's data, the delivery, the attachments
    (name, type and size; an iCalendar invitation is also in the caller's data as text)."""
    data: dict[str, Any] = {**message.data, "delivery_id": str(message.delivery_id), "locale": message.locale}
    if message.attachments:
        data["attachments"] = [
            {"filename": a.filename, "content_type": a.content_type, "size": len(base64.b64decode(a.content_base64))}
            for a in message.attachments]
    return data


class InAppInbox:
    name = "in_app"
    account = "local"

    async def store_many(self, session: AsyncSession, messages: list[OutgoingMessage]) -> list[Receipt]:
        now = datetime.now(UTC)
        ids = await _store_once(session, InAppNotification, [dict(
            id=uuid.uuid4(), dedupe_key=m.dedupe_key, tenant_id=m.tenant_id, user_id=m.user_id, event=m.event,
            title=m.subject or m.event, body=m.body, link=_link(m.data), created_at=now) for m in messages])
        return [Receipt(provider_message_id=str(stored), delivered=True) for stored in ids]


async def _store_once(session: AsyncSession, model: type[OutboxMessage] | type[InAppNotification],
                      rows: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Insert rows keyed by `dedupe_key` in one statement; the id of each, stored now or by an
    earlier attempt (ON CONFLICT: never stored twice)."""
    keys = [row["dedupe_key"] for row in rows]
    inserted: dict[str, uuid.UUID] = {key: id_ for key, id_ in (await session.execute(
        insert(model).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(model.dedupe_key, model.id))).all()}
    missing = [key for key in keys if key not in inserted]
    if missing:   # stored by an earlier attempt
        inserted.update({key: id_ for key, id_ in (await session.execute(
            select(model.dedupe_key, model.id).where(model.dedupe_key.in_(missing)))).all()})
    return [inserted[key] for key in keys]


def _link(data: Mapping[str, Any]) -> str | None:
    link = data.get("link")
    return link[:1000] if isinstance(link, str) and link else None


def is_stored(provider: Provider) -> bool:
    return hasattr(provider, "store_many")


# -- building a provider ---------------------------------------------------------------------------------
class ProviderFactory:
    """Builds the provider `domain.notifications.choose_provider` picked, with the right credentials.

    `local_only` forces the outbox everywhere (demo data).
    """

    def __init__(self, settings: Settings, keys: Keys, *, local_only: bool = False) -> None:
        self.settings, self.keys, self.local_only = settings, keys, local_only

    @property
    def twilio_status_callback(self) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/api/v1/webhooks/twilio/status"

    def choose(self, channel: Channel, tenant: TenantNotificationSettings | None) -> ProviderChoice:
        return choose_provider(channel, self.settings, tenant, local_only=self.local_only)
    def build(self, choice: ProviderChoice, tenant: TenantNotificationSettings | None,
              tenant_name: str | None) -> Provider:
        s = self.settings
        timeout = s.notify_http_timeout_seconds
        if choice.name == "in_app":
            return InAppInbox()
        if choice.name == "local":
            return LocalOutbox()
        if choice.name == "sendgrid":
            if choice.account == "tenant":
                if tenant is None or not tenant.sendgrid_api_key_encrypted or not tenant.email_from_address:
                    raise NotConfigured("the consultancy's SendGrid key was removed")
                return SendGridEmail(
                    api_key=self.keys.decrypt(tenant.sendgrid_api_key_encrypted), from_email=tenant.email_from_address,
                    from_name=tenant.email_from_name or tenant_name, reply_to=tenant.email_reply_to,
                    host=s.sendgrid_api_host, timeout=timeout, account="tenant")
            if s.sendgrid_api_key is None:
                raise NotConfigured("SENDGRID_API_KEY was removed")
            return SendGridEmail(
                api_key=s.sendgrid_api_key.get_secret_value(), from_email=s.sendgrid_from_email,
                from_name=(tenant.email_from_name if tenant else None) or tenant_name or s.sendgrid_from_name,
                reply_to=tenant.email_reply_to if tenant else None,
                host=s.sendgrid_api_host, timeout=timeout, account="platform")
        if choice.name == "twilio":
            callback = self.twilio_status_callback if s.public_base_url.startswith("https://") else None
            if choice.account == "tenant":
                if tenant is None or not tenant.twilio_account_sid or not tenant.twilio_auth_token_encrypted:
                    raise NotConfigured("the consultancy's Twilio account was removed")
                return TwilioMessages(
                    account_sid=tenant.twilio_account_sid,
                    auth_token=self.keys.decrypt(tenant.twilio_auth_token_encrypted),
                    sms_from=tenant.twilio_sms_from, whatsapp_from=tenant.twilio_whatsapp_from,
                    base_url=s.twilio_api_base_url, status_callback=callback, timeout=timeout, account="tenant")
            if not s.twilio_account_sid or s.twilio_auth_token is None:
                raise NotConfigured("TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN were removed")
            return TwilioMessages(
                account_sid=s.twilio_account_sid, auth_token=s.twilio_auth_token.get_secret_value(),
                sms_from=s.twilio_sms_from, whatsapp_from=s.twilio_whatsapp_from, base_url=s.twilio_api_base_url,
                status_callback=callback, timeout=timeout, account="platform")
        raise NotConfigured(f"unknown provider {choice.name}")
