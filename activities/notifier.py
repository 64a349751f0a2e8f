"""Sending one notification: the Notifier every capability shares (the activities are in
activities/notifications.py, the broadcast fan-out in activities/broadcasts.py).

How a message is sent at most once per (dedupe key, channel):

1. The delivery row is written (status `queued`, rendered subject and body) before anything
   leaves; its `dedupe_key` is unique, so a retry or replay finds it.
2. An attempt *claims* the row with a lease (`claimed_until`), committed before the provider is
   called: a second attempt running at the same time (Temporal retries an attempt that exceeded
   its timeout even if it is still running) sees the lease and backs off instead of sending.
3. The provider's answer is committed at once: `sent` (with the provider's message id) or
   `failed`. A retry that finds `sent` sends nothing.

The residual window: the provider accepted the message but the attempt died (crash, lost
connection, timeout) before step 3 committed. SendGrid and Twilio offer no idempotency key for
sending, so the next attempt, once the lease has expired, sends again; the row is then marked
`uncertain` and the duplicate is logged. The window is the length of one HTTP response plus one
commit. The local outbox and the in-app inbox are written in the same transaction as step 3, so
they are exactly-once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.handover import HandOver, StoredHandOvers, mark_sent, outcome_of, sent_outcome
from activities.notification_providers import (
    OutgoingMessage,
    PermanentProviderError,
    ProviderError,
    ProviderFactory,
    RemoteProvider,
    StoredProvider,
    TransientProviderError,
    is_stored,
)
from activities.provider_health import AUTH_RETRY, AUTH_STATUSES, THRESHOLD, ProviderHealth, circuit_key
from core.db import TenantScope, scoped_session
from core.observability.providers import provider_call
from core.security import Keys
from core.settings import Settings
from domain.notification_channels import TERMINAL_STATUSES, Channel, DeliveryStatus
from domain.notification_events import EventSpec, coerce_variables, event_spec
from domain.notification_templates import TemplateError, render_template, resolve_template
from domain.notification_texts.base import OverrideKey, TemplateText
from domain.notifications import (
    Addresses,
    ChannelOutcome,
    NotConfigured,
    NotificationOutcome,
    NotificationRequest,
    Preferences,
    ProviderChoice,
    QuietHours,
    choose_channels,
    quiet_hours_end,
)
from domain.privacy.consents import ConsentKind
from domain.zones import zone_of
from models.identity import Role, User, first_owner_id
from models.notifications import (
    NotificationDelivery,
    NotificationPreference,
    NotificationTemplate,
    TenantNotificationSettings,
)
from models.privacy import latest_consents
from models.tenancy import Tenant, TenantStatus

log = logging.getLogger(__name__)


class NotificationDeferred(Exception):
    """Some channel could not be sent now (provider down, slow, rate limiting, or another attempt
    holds the lease); the others are done. Retrying sends only what is missing."""

    def __init__(self, message: str, retry_after: float | None, outcome: NotificationOutcome) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outcome = outcome


@dataclass
class _Recipient:
    user: User
    tenant: Tenant | None
    timezone: str
    locale: str
    prefs: Preferences
    settings: TenantNotificationSettings | None
    overrides: dict[OverrideKey, TemplateText]
    existing: dict[Channel, NotificationDelivery]

    @property
    def tenant_name(self) -> str:
        return self.tenant.name if self.tenant else "Muhurta"

    def address(self, channel: Channel) -> str:
        if channel == Channel.EMAIL:
            return self.user.email
        if channel in (Channel.SMS, Channel.WHATSAPP):
            return self.user.phone or ""
        return str(self.user.id)


def preferences_of(row: NotificationPreference | None, timezone: str) -> Preferences:
    if row is None:
        return Preferences()
    quiet = None
    if row.quiet_hours_start is not None and row.quiet_hours_end is not None:
        quiet = QuietHours(row.quiet_hours_start, row.quiet_hours_end, timezone)
    return Preferences(
        channels={Channel.EMAIL: row.email, Channel.SMS: row.sms, Channel.WHATSAPP: row.whatsapp,
                  Channel.IN_APP: row.in_app},
        announcements=row.announcements, quiet_hours=quiet)


async def _preference_row(session: AsyncSession, user_id: uuid.UUID) -> NotificationPreference | None:
    return (await session.execute(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id))).scalar_one_or_none()


class Notifier:
    """Sends one NotificationRequest; shared by the activities, the seed and other capabilities."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, keys: Keys,
                 providers: ProviderFactory | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.providers = providers or ProviderFactory(settings, keys)
        self.lease = timedelta(seconds=settings.notify_http_timeout_seconds + 30)
        self.health = ProviderHealth()
        self.handovers = StoredHandOvers(sessionmaker)

    # -- loading -----------------------------------------------------------------------------------
    async def _recipient(self, request: NotificationRequest, spec: EventSpec) -> _Recipient | None:
        async with scoped_session(self.sessionmaker, TenantScope.of(request.tenant_id)) as session:
            if request.recipient_user_id is None:
                # An address without an account (an invitation): never added to the session.
                user = User(id=None, tenant_id=request.tenant_id, email=request.recipient_email or "",
                            full_name=request.recipient_name or request.recipient_email or "", phone=None,
                            timezone=None, locale=request.recipient_locale, role=Role.CLIENT, is_active=True)
            else:
                found = await session.get(User, request.recipient_user_id)
                if found is None or found.tenant_id != request.tenant_id:
                    return None
                user = found
            tenant = await session.get(Tenant, request.tenant_id) if request.tenant_id else None
            timezone = zone_of(user, tenant)
            prefs_row = await _preference_row(session, user.id)
            tenant_settings = None
            overrides: dict[OverrideKey, TemplateText] = {}
            if request.tenant_id is not None:
                tenant_settings = (await session.execute(select(TenantNotificationSettings).where(
                    TenantNotificationSettings.tenant_id == request.tenant_id))).scalar_one_or_none()
                for template in (await session.execute(select(NotificationTemplate).where(
                        NotificationTemplate.tenant_id == request.tenant_id,
                        NotificationTemplate.event == spec.name))).scalars():
                    overrides[(template.event, Channel(template.channel), template.locale)] = TemplateText(
                        template.subject, template.body)
            existing = {Channel(row.channel): row for row in (await session.execute(
                select(NotificationDelivery).where(NotificationDelivery.request_key == request.dedupe_key))).scalars()}
            prefs = preferences_of(prefs_row, timezone)
            if request.recipient_user_id is not None and user.role == Role.CLIENT:  # consents gate marketing, WhatsApp
                consents = await latest_consents(session, user.id, (ConsentKind.MARKETING, ConsentKind.WHATSAPP))
                prefs = replace(prefs, marketing_consent=consents.get(ConsentKind.MARKETING, False),
                                whatsapp_consent=consents.get(ConsentKind.WHATSAPP, False))
            return _Recipient(user=user, tenant=tenant, timezone=timezone, locale=user.locale or "en",
                              prefs=prefs, settings=tenant_settings, overrides=overrides, existing=existing)

    async def quiet_hours_end(self, tenant_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> datetime | None:
        """When this person's quiet hours end, if `at` falls in them; None otherwise.

        For a workflow that holds a message with its own timer (consultation reminders)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(tenant_id)) as session:
            user = await session.get(User, user_id)
            if user is None or user.tenant_id != tenant_id:
                return None
            row = await _preference_row(session, user.id)
            timezone = zone_of(user, await session.get(Tenant, tenant_id))
        return quiet_hours_end(at, preferences_of(row, timezone).quiet_hours)

    # -- sending -------------------------------------------------------------------------------------
    async def deliver(self, request: NotificationRequest, *,
                      before_sending: Callable[[], Awaitable[None]] | None = None) -> NotificationOutcome:
        """Send on every chosen channel not sent before; hold it if quiet hours say so.

        Every channel's delivery row is written (recipient, preferences, template, rendering)
        before any provider is called; `before_sending`, when given, is awaited between the two,
        so a message due at an instant can be made ready ahead and only handed to its providers
        at the instant (remedy reminders). Returns the outcome (permanent failures included, per
        channel); raises UnknownEvent, or NotificationDeferred when a channel must be tried again
        later.
        """
        spec = event_spec(request.event)
        outcome = NotificationOutcome(dedupe_key=request.dedupe_key, event=request.event)
        recipient = await self._recipient(request, spec)
        paused = recipient is not None and recipient.tenant is not None \
            and recipient.tenant.status == TenantStatus.SUSPENDED
        if recipient is None or not recipient.user.is_active or paused:
            why = ("the recipient no longer exists" if recipient is None
                   else "the consultancy is suspended: it sends nothing" if paused
                   else "the recipient's account is inactive")
            for channel in request.channels or spec.default_channels:
                outcome.channels.append(ChannelOutcome(channel=channel, skipped=why))
            return outcome

        user = recipient.user
        chosen, skipped = choose_channels(spec, request.channels, recipient.prefs,
                                          Addresses(email=user.email, phone=user.phone))
        # Channels handled by an earlier attempt stay handled, whatever the preferences say now.
        for channel in recipient.existing:
            if channel not in chosen:
                chosen.append(channel)
                skipped.pop(channel, None)
        outcome.channels.extend(ChannelOutcome(channel=c, skipped=why) for c, why in skipped.items())

        at = request.at or datetime.now(UTC)
        if chosen and not recipient.existing and request.respect_quiet_hours and not (request.urgent or spec.urgent):
            until = quiet_hours_end(at, recipient.prefs.quiet_hours)
            if until is not None:
                outcome.held_until = until
                return outcome

        try:
            variables: dict[str, Any] | None = {
                "recipient_name": user.full_name, "tenant_name": recipient.tenant_name,
                **coerce_variables(spec, request.variables)}
            bad_variables = None
        except ValueError as exc:
            variables, bad_variables = None, f"variables: {exc}"

        ready = [await self._row(request, recipient, channel, variables, bad_variables) for channel in chosen]
        if before_sending is not None and any(isinstance(r, NotificationDelivery) for r in ready):
            await before_sending()
        deferred: list[TransientProviderError] = []
        for channel, row in zip(chosen, ready, strict=True):
            if isinstance(row, ChannelOutcome):
                outcome.channels.append(row)
                continue
            try:
                outcome.channels.append(await self._attempt(request, recipient, row))
            except TransientProviderError as exc:
                deferred.append(exc)
                outcome.channels.append(ChannelOutcome(channel=channel, status=DeliveryStatus.QUEUED, error=str(exc)))
        if deferred:
            delays = [e.retry_after for e in deferred if e.retry_after]
            raise NotificationDeferred("; ".join(str(e) for e in deferred), max(delays) if delays else None, outcome)
        return outcome

    async def _row(self, request: NotificationRequest, recipient: _Recipient, channel: Channel,
                   variables: dict[str, Any] | None, bad_variables: str | None
                   ) -> ChannelOutcome | NotificationDelivery:
        """The channel's delivery row, written if new: to attempt; or its outcome if there is none to make."""
        row = recipient.existing.get(channel)
        fresh = row is None
        if row is None:
            resolved = resolve_template(request.event, channel, recipient.locale, recipient.overrides)
            if resolved is None:
                return ChannelOutcome(channel=channel, skipped=f"no {channel.value} template for {request.event}")
            try:
                choice = self.providers.choose(channel, recipient.settings)
            except NotConfigured as exc:
                return ChannelOutcome(channel=channel, skipped=str(exc))
            error = bad_variables
            subject, body = None, ""
            if variables is not None:
                try:
                    rendered = render_template(resolved.text, variables, timezone=recipient.timezone,
                                               locale=recipient.locale)
                    subject, body = rendered.subject, rendered.body
                except TemplateError as exc:
                    error = f"template {request.event}/{resolved.channel.value}/{resolved.language}: {exc}"
            if error:
                log.error("notification %s on %s not sent: %s", request.dedupe_key, channel.value, error)
            row = await self._insert(request, recipient, channel, choice, resolved.language, resolved.source,
                                     subject, body, error)
        if DeliveryStatus(row.status) in TERMINAL_STATUSES:
            return outcome_of(row, already_done=not fresh)
        return row

    async def _insert(self, request: NotificationRequest, recipient: _Recipient, channel: Channel,
                      choice: ProviderChoice, language: str, source: str, subject: str | None, body: str,
                      error: str | None) -> NotificationDelivery:
        now = datetime.now(UTC)
        key = f"{request.dedupe_key}:{channel.value}"
        async with scoped_session(self.sessionmaker, TenantScope.of(request.tenant_id)) as session:
            await session.execute(insert(NotificationDelivery).values(
                id=uuid.uuid4(), dedupe_key=key, request_key=request.dedupe_key, tenant_id=request.tenant_id,
                channel=channel.value, event=request.event, locale=language, template_source=source,
                user_id=recipient.user.id, recipient=recipient.address(channel)[:320], subject=subject, body=body,
                status=(DeliveryStatus.FAILED if error else DeliveryStatus.QUEUED).value,
                provider=choice.name, provider_account=choice.account, error=error,
                error_code="template" if error else None, attempts=0, uncertain=False,
                failed_at=now if error else None, status_updated_at=now, created_at=now, updated_at=now,
            ).on_conflict_do_nothing(index_elements=["dedupe_key"]))
            row = (await session.execute(
                select(NotificationDelivery).where(NotificationDelivery.dedupe_key == key))).scalar_one()
        return row

    async def _attempt(self, request: NotificationRequest, recipient: _Recipient,
                       row: NotificationDelivery) -> ChannelOutcome:
        scope = TenantScope.of(request.tenant_id)
        message = OutgoingMessage(
            delivery_id=row.id, dedupe_key=row.dedupe_key, tenant_id=row.tenant_id, user_id=row.user_id,
            channel=Channel(row.channel), event=row.event, locale=row.locale, to=row.recipient, subject=row.subject,
            body=row.body, data=request.data,
            attachments=tuple(request.attachments) if row.channel == Channel.EMAIL.value else ())
        try:
            provider = self.providers.build(ProviderChoice(row.provider, row.provider_account), recipient.settings,
                                            recipient.tenant_name)
        except NotConfigured as exc:
            return await self._finish(scope, row.id, failed=PermanentProviderError(str(exc), code="not_configured"))

        if is_stored(provider):
            # Our own tables: stored and marked sent in one transaction, with whatever other
            # hand-overs of this consultancy arrive at the same moment (activities/handover.py).
            return await self.handovers.hand_over(HandOver(row, message, cast(StoredProvider, provider)))

        circuit = circuit_key(row.tenant_id, row.provider, row.provider_account)
        if (is_open := self.health.open_for(circuit)) is not None:
            # Failing again and again lately: keep the message, do not hold a worker slot on it.
            left, reason = is_open
            raise TransientProviderError(f"{row.provider} keeps failing for this account ({reason}); "
                                         f"next try in {left:.0f} s", code="circuit_open", retry_after=max(left, 1.0))
        async with scoped_session(self.sessionmaker, scope) as session:
            claimed = (await session.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.id == row.id,
                       NotificationDelivery.status == DeliveryStatus.QUEUED.value,
                       or_(NotificationDelivery.claimed_until.is_(None),
                           NotificationDelivery.claimed_until < func.now()))
                .values(attempts=NotificationDelivery.attempts + 1, claimed_until=func.now() + self.lease,
                        uncertain=or_(NotificationDelivery.uncertain, NotificationDelivery.claimed_until.is_not(None)),
                        updated_at=func.now())
                .returning(NotificationDelivery.attempts, NotificationDelivery.uncertain)
            )).first()
            if claimed is None:
                current = await session.get(NotificationDelivery, row.id, populate_existing=True)
                assert current is not None
                if DeliveryStatus(current.status) in TERMINAL_STATUSES:
                    return outcome_of(current, already_done=True)
                wait = (current.claimed_until - datetime.now(UTC)).total_seconds() if current.claimed_until else 1.0
                raise TransientProviderError("another attempt is sending this message", code="in_flight",
                                             retry_after=max(wait, 1.0))
        try:
            with provider_call(provider.name, row.channel):
                receipt = await cast(RemoteProvider, provider).send(message)
        except ProviderError as exc:
            refused_key = row.provider_account == "tenant" and exc.status in AUTH_STATUSES
            if isinstance(exc, PermanentProviderError) and not refused_key:
                return await self._finish(scope, row.id, failed=exc)
            # Down, slow, or the consultancy's own key refused: kept, retried with backoff.
            ambiguous = isinstance(exc, TransientProviderError) and exc.ambiguous
            async with scoped_session(self.sessionmaker, scope) as session:
                await session.execute(update(NotificationDelivery).where(NotificationDelivery.id == row.id).values(
                    claimed_until=None, error=str(exc)[:2000], error_code=exc.code, updated_at=func.now(),
                    uncertain=or_(NotificationDelivery.uncertain, literal(ambiguous))))
            failures = self.health.failed(circuit, str(exc)[:300])
            owners_account = row.provider_account == "tenant" and row.tenant_id is not None
            if owners_account and (refused_key or failures >= THRESHOLD):
                assert row.tenant_id is not None
                await self._tell_owner(row.tenant_id, recipient.settings, row.provider, Channel(row.channel), str(exc))
            if refused_key:
                raise TransientProviderError(f"{row.provider} refused the consultancy's own key: {exc}",
                                             code=exc.code, retry_after=AUTH_RETRY) from exc
            raise
        self.health.succeeded(circuit)
        if claimed.uncertain:
            log.warning("notification %s may have been sent twice: an earlier attempt reached %s without "
                        "recording the answer", row.dedupe_key, row.provider)
        async with scoped_session(self.sessionmaker, scope) as session:
            await mark_sent(session, {row.id: receipt})
            return sent_outcome(row, receipt)

    async def _tell_owner(self, tenant_id: uuid.UUID, settings: TenantNotificationSettings | None, provider: str,
                          channel: Channel, reason: str) -> None:
        """Tell the consultancy's owner, in-app and once per version of their settings, that their
        own provider account keeps failing. Never raises: the message being sent matters more."""
        version = settings.updated_at.isoformat() if settings is not None and settings.updated_at else "unset"
        try:
            async with scoped_session(self.sessionmaker, TenantScope.of(tenant_id)) as session:
                owner = await first_owner_id(session, tenant_id)
            if owner is None:
                return
            await self.deliver(NotificationRequest(
                dedupe_key=f"provider-failing:{tenant_id}:{provider}:{version}", tenant_id=tenant_id,
                recipient_user_id=owner, event="provider_failing", channels=[Channel.IN_APP],
                respect_quiet_hours=False,
                variables={"provider": {"sendgrid": "SendGrid", "twilio": "Twilio"}.get(provider, provider),
                           "channel": channel.value.replace("_", "-"), "reason": reason[:300],
                           "link": f"{self.settings.public_base_url}/api/v1/tenant/notification-settings"}))
        except Exception:
            log.exception("could not tell the owner of tenant %s that %s keeps failing", tenant_id, provider)

    async def _finish(self, scope: TenantScope, delivery_id: uuid.UUID, *, failed: ProviderError) -> ChannelOutcome:
        now = datetime.now(UTC)
        async with scoped_session(self.sessionmaker, scope) as session:
            await session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id).values(
                status=DeliveryStatus.FAILED.value, claimed_until=None, error=str(failed)[:2000],
                error_code=failed.code, failed_at=now, status_updated_at=now, updated_at=now))
            row = await session.get(NotificationDelivery, delivery_id, populate_existing=True)
            assert row is not None
            return outcome_of(row, already_done=False)
