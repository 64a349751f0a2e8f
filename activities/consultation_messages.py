"""The Consultation workflow's messages: what `ConsultationActivities.notify` sends, to whom, with
which values, links, confirmation PDF and calendar invitation (activities/consultation.py keeps
the activity and hands it the booking helpers and services it shares).
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.documents.booking_confirmation import ConfirmationFacts, ensure_confirmation
from activities.documents.pdf import PdfUnavailableError
from activities.notifications import attempt_time, deliver_or_retry
from core.db import TenantScope, scoped_session
from core.observability.metrics import record_reminder
from core.security import Keys
from core.signing import booking_link_token
from domain.bookings import ical, links
from domain.bookings.consultation import (
    Audience,
    BookingStatus,
    Notify,
    describe_offset,
    reminder_offset_of,
)
from domain.bookings.money import format_money
from domain.notification_events import EVENTS
from domain.notification_templates import format_instant, language_of
from domain.notifications import Attachment, NotificationRequest
from models.bookings import (
    Booking,
    Consultant,
    Offering,
)
from models.identity import User
from models.tenancy import Tenant

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from activities.consultation import ConsultationActivities


def manage_link(keys: Keys, base_url: str, booking: Booking) -> str:
    token = booking_link_token(keys, links.MANAGE, booking_id=booking.id, tenant_id=booking.tenant_id,
                               expires_at=booking.ends_at + links.VALID_AFTER_END[links.MANAGE])
    return base_url + links.manage_path(token)


def pay_link(keys: Keys, base_url: str, booking: Booking) -> str:
    """Where a held booking is paid without an account (the manage link's token, POST checkout);
    "" for a booking that has nothing to pay (free, or no longer held)."""
    if booking.order_id is None or booking.status != BookingStatus.HELD:
        return ""
    token = booking_link_token(keys, links.MANAGE, booking_id=booking.id, tenant_id=booking.tenant_id,
                               expires_at=booking.ends_at + links.VALID_AFTER_END[links.MANAGE])
    return base_url + links.checkout_path(token)


def feedback_link(keys: Keys, base_url: str, booking: Booking) -> str:
    token = booking_link_token(keys, links.FEEDBACK, booking_id=booking.id, tenant_id=booking.tenant_id,
                               expires_at=booking.ends_at + links.VALID_AFTER_END[links.FEEDBACK])
    return base_url + links.feedback_path(token)


async def notify(acts: ConsultationActivities, step: Notify) -> int:
    """Send one consultation message to each audience through the notifications capability;
    returns how many audiences got it on some channel (now or in an earlier attempt).

    Event `consultation.<event>.<audience>`, dedupe key `<workflow id>:<step>:<audience>`
    (per channel the capability adds `:<channel>`): a retried activity never sends twice. A
    reminder is dropped when the booking no longer starts at `expected_starts_at`. Messages
    that respect quiet hours (outcome asks, no-show, feedback, follow-up) are retried once the
    reader's quiet hours end (`QuietHours`, with the delay); the others are urgent. Reminders
    far enough ahead wait out quiet hours in the workflow (`quiet_hours_end`), not here, so
    the booking's lock is never held through the night.
    """
    async with scoped_session(acts.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
        booking = await acts._booking(session, step.ref, lock=False)
        if step.expected_starts_at is not None and (
            booking.starts_at != step.expected_starts_at or booking.status != BookingStatus.CONFIRMED
        ):
            log.info("%s: %s dropped, the booking moved or changed", step.ref.workflow_id, step.step)
            return 0
        if step.event == "outcome_needed" and booking.status != BookingStatus.CONFIRMED:
            return 0  # recorded meanwhile (e.g. while the ask waited for quiet hours to end)
        offering = await session.get(Offering, booking.offering_id)
        consultant = await session.get(Consultant, booking.consultant_id)
        client = await session.get(User, booking.client_id)
        if offering is None or consultant is None or client is None:
            raise ApplicationError("the booking's offering, consultant or client no longer exists", {},
                                   type="BookingGone", non_retryable=True)
        consultant_user = await session.get(User, consultant.user_id)
        base = acts.settings.public_base_url.rstrip("/")
        variables: dict[str, Any] = {
            "client_name": client.full_name,
            "consultant_name": consultant.display_name,
            "offering_title": offering.title,
            "starts_at": booking.starts_at,
            "meeting_url": booking.meeting_url or "(the link follows once the booking is confirmed)",
            "manage_url": manage_link(acts.keys, base, booking),
            "pay_link": pay_link(acts.keys, base, booking),
            "dashboard_url": f"{base}/api/v1/bookings/{booking.id}",
            "feedback_url": feedback_link(acts.keys, base, booking),
            "booking_page_url": f"{base}/api/v1/public/{await _tenant_slug(session, booking)}"
                                f"/consultants/{consultant.slug}",
            "reason": booking.cancel_reason or "",
            **step.variables,
        }
        confirmation = await _confirmation(acts, session, booking, step, offering, consultant, client)
        variables["confirmation_url"] = confirmation[1] if confirmation else ""
        attachments: list[Attachment] = []
        ics: str | None = None
        if step.ics:
            ics = _invitation(booking, offering, consultant, consultant_user, client, step.ics)
            attachments.append(Attachment(
                filename="invite.ics", content_type=f"text/calendar; method={step.ics.upper()}",
                content_base64=base64.b64encode(ics.encode()).decode()))
        recipients = {
            Audience.CLIENT: (client, booking.client_timezone),
            Audience.CONSULTANT: (consultant_user, consultant.timezone),
        }
        requests: list[NotificationRequest] = []
        for audience in step.audience:
            person, zone_name = recipients[audience]
            event = f"consultation.{step.event}.{audience.value}"
            if person is None or event not in EVENTS:
                continue
            language = language_of(person.locale)
            data: dict[str, Any] = {
                "booking_id": str(booking.id), "event": step.event, "starts_at": booking.starts_at.isoformat(),
                "sequence": booking.sequence,
                "link": variables["manage_url"] if audience == Audience.CLIENT else variables["dashboard_url"],
            }
            if audience == Audience.CLIENT:
                data["manage_url"] = variables["manage_url"]
                if step.event == "held" and variables["pay_link"]:
                    data["pay_link"] = variables["pay_link"]
            if step.event == "feedback":
                data["feedback_url"] = data["link"] = variables["feedback_url"]
            if confirmation is not None and audience == Audience.CLIENT:
                data["confirmation_file_id"] = str(confirmation[0])
                data["confirmation_url"] = confirmation[1]
            if ics is not None:
                data["ics"] = ics
                data["ics_method"] = step.ics.upper() if step.ics else ""
            requests.append(NotificationRequest(
                dedupe_key=f"{step.ref.workflow_id}:{step.step}:{audience.value}",
                tenant_id=booking.tenant_id, recipient_user_id=person.id, event=event,
                variables={**variables, **_reader_words(booking, step, zone_name, language)},
                at=attempt_time(),
                data=data, attachments=attachments))
    sent = 0
    for request in requests:
        if (await deliver_or_retry(acts.notifier, request)).sent_on:
            sent += 1
    if sent and step.due_at is not None:
        record_reminder("consultation", step.due_at, datetime.now(UTC))
    return sent


async def _confirmation(acts: ConsultationActivities, session: AsyncSession, booking: Booking, step: Notify,
                        offering: Offering, consultant: Consultant, client: User) -> tuple[UUID, str] | None:
    """For the client's confirmation or reschedule notice: the booking confirmation PDF for the
    booking's current time (made once per time, stored as the client's file) and a signed
    download link valid until the manage link expires. None for other messages, or if the
    PDF cannot be made here (the message then goes without it)."""
    if step.event not in ("confirmed", "rescheduled") or Audience.CLIENT not in step.audience:
        return None
    language = language_of(client.locale)
    tenant = await session.get(Tenant, booking.tenant_id)
    facts = ConfirmationFacts(
        tenant_name=tenant.name if tenant else "", offering_title=offering.title,
        consultant_name=consultant.display_name, client_name=client.full_name,
        when=f"{format_instant(booking.starts_at, booking.client_timezone, language)} ({booking.client_timezone})",
        issued=format_instant(booking.confirmed_at or datetime.now(UTC), booking.client_timezone, language, "date"),
        language=language)
    try:
        stored = await ensure_confirmation(session, acts.storage, booking, facts)
    except PdfUnavailableError:
        log.exception("%s: the confirmation PDF could not be made", step.ref.workflow_id)
        return None
    token = acts.download_links.token(file_id=stored.id, tenant_id=booking.tenant_id, user_id=client.id,
                                      expires_at=booking.ends_at + links.VALID_AFTER_END[links.MANAGE])
    base = acts.settings.public_base_url.rstrip("/")
    return stored.id, f"{base}/api/v1/files/{stored.id}/content?token={token}"


def _invitation(booking: Booking, offering: Offering, consultant: Consultant,
                consultant_user: User | None, client: User, method: str) -> str:
    cancelled = method == "cancel"
    event = ical.CalendarEvent(
        booking_id=booking.id, starts_at=booking.starts_at, ends_at=booking.ends_at,
        sequence=booking.sequence, summary=f"{offering.title} with {consultant.display_name}",
        description=f"{offering.title}: {client.full_name} and {consultant.display_name}."
                    + (f"\nJoin: {booking.meeting_url}" if booking.meeting_url else ""),
        location=booking.meeting_url,
        organizer=ical.Person(consultant.display_name, consultant_user.email) if consultant_user else None,
        attendees=(ical.Person(client.full_name, client.email),),
        cancelled=cancelled,
    )
    method_enum = ical.Method.CANCEL if cancelled else ical.Method.REQUEST
    return ical.invitation(event, method_enum, stamp=datetime.now(UTC))


async def _tenant_slug(session: AsyncSession, booking: Booking) -> str:
    tenant = await session.get(Tenant, booking.tenant_id)
    return tenant.slug if tenant else ""


def _refund_text(booking: Booking, language: str = "en") -> str:
    if booking.status != BookingStatus.CANCELLED:
        return ""
    hindi = language == "hi"
    if booking.refund_due_minor > 0:
        amount = format_money(booking.refund_due_minor, booking.currency)
        if hindi:
            return f"{amount} ({booking.refund_percent} %) की वापसी मूल भुगतान माध्यम में की जाएगी।"
        return f"A refund of {amount} ({booking.refund_percent} %) will be made to the original payment method."
    if booking.amount_paid_minor > 0:
        return "रद्द करने की नीति के अनुसार कोई वापसी नहीं बनती।" if hindi else \
            "Under the cancellation policy no refund is due."
    return ""


def _reader_words(booking: Booking, step: Notify, zone_name: str, language: str) -> dict[str, str]:
    """The values written for one reader: times on their clock, in their language."""
    words = {
        "when": f"{format_instant(booking.starts_at, zone_name, language)} ({zone_name})",
        "hold_until": f"{format_instant(booking.hold_expires_at, zone_name, language)} ({zone_name})"
        if booking.hold_expires_at else "",
        "refund": _refund_text(booking, language),
    }
    offset = reminder_offset_of(step.step)
    if offset is not None:
        words["offset"] = describe_offset(offset, language)
    elif "offset" not in step.variables:
        words["offset"] = ""
    return words
