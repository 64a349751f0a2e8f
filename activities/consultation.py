"""Side effects of the Consultation workflow: the booking row, meeting links, messages.

Every activity is idempotent. Status changes are conditional on the current status (a retry
finds the change made and returns the same answer); messages carry the dedupe key
`<workflow id>:<step>:<audience>`; the move compares the booking's SEQUENCE with the one the
workflow expected.

`notify` is the one place messages leave from: it hands (event, audience, variables, the
invitation as an attachment) to the notifications capability (`Notifier.deliver`), so the
reader's language, the consultancy's own wording, preferences and the delivery log apply.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents.booking_confirmation import ConfirmationFacts, ensure_confirmation
from activities.documents.pdf import PdfUnavailableError
from activities.meetings import Bounded, MeetingLink, MeetingProvider, MeetingRequest, build_providers
from activities.notifications import Notifier, attempt_time, deliver_or_retry
from core.db import TenantScope, scoped_session
from core.observability.metrics import HOLDS_EXPIRED, record_reminder
from core.security import Keys
from core.settings import Settings
from core.signed_links import DownloadLinks
from core.signing import booking_link_token
from core.storage import FileStorage, build_storage
from domain.bookings import ical, links
from domain.bookings.consultation import (
    CANCEL,
    CONFIRM,
    EXPIRE_HOLD,
    HELD_LONGER,
    MOVE,
    NOT_A_SLOT_ERROR,
    NOTIFY,
    QUIET_HOURS_END,
    RECORD_OUTCOME,
    SLOT_TAKEN_ERROR,
    Audience,
    BookingStatus,
    CancelBooking,
    CancelledTerms,
    Confirm,
    Confirmed,
    ConsultationRef,
    ExpireHold,
    MoveBooking,
    Moved,
    Notify,
    Outcome,
    QuietCheck,
    RecordOutcome,
    describe_offset,
    reminder_offset_of,
)
from domain.bookings.money import format_money
from domain.bookings.policies import CancellationPolicy, CancelledBy, cancellation_terms
from domain.bookings.slots import Busy, slot_is_free
from domain.notification_events import EVENTS
from domain.notification_templates import format_instant, language_of
from domain.notifications import Attachment, NotificationRequest
from models.bookings import (
    Booking,
    Consultant,
    Offering,
    RefundStatus,
    WebinarSession,
    blocked_range,
    consultant_for_booking,
    slot_context,
)
from models.catalogue import settle_cancelled_credit
from models.identity import User
from models.platform import record_audit
from models.tenancy import Tenant

log = logging.getLogger(__name__)

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


def meeting_secret(keys: Keys) -> bytes:
    return hmac.new(keys.jwt_secret.encode(), b"muhurta/meeting-rooms/v1", hashlib.sha256).digest()


def _fail(message: str, kind: str = "BookingStateChanged", field: str | None = None) -> ApplicationError:
    return ApplicationError(message, {"field": field} if field else {}, type=kind, non_retryable=True)


class ConsultationActivities:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        providers: dict[str, MeetingProvider] | None = None,
        notifier: Notifier | None = None,
        storage: FileStorage | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.keys = Keys.from_settings(settings)
        self.providers = providers or build_providers(meeting_secret(self.keys), settings.jitsi_base_url)
        self.notifier = notifier or Notifier(sessionmaker, settings, self.keys)
        self.storage = storage or build_storage(settings)
        self.download_links = DownloadLinks.from_keys(self.keys)

    # -- helpers ---------------------------------------------------------------------------
    async def _booking(self, session: AsyncSession, ref: ConsultationRef, *, lock: bool = True) -> Booking:
        stmt = select(Booking).where(Booking.id == ref.booking_id)
        booking = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
        if booking is None:
            raise _fail(f"booking {ref.booking_id} no longer exists", "BookingGone")
        return booking

    def _provider(self, name: str) -> MeetingProvider:
        return Bounded(self.providers.get(name) or self.providers["jitsi"])

    async def _release_seat(self, session: AsyncSession, booking: Booking) -> None:
        if booking.webinar_session_id is not None:
            await session.execute(update(WebinarSession).where(WebinarSession.id == booking.webinar_session_id)
                                  .values(seats_taken=WebinarSession.seats_taken - 1))

    # -- confirm ---------------------------------------------------------------------------
    @activity.defn(name=CONFIRM)
    async def confirm(self, step: Confirm) -> Confirmed:
        """Record a payment if one came, confirm a held booking once paid, make the meeting link."""
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            booking = await self._booking(session, step.ref)
            payment = step.payment
            if payment and booking.paid_at is None and booking.status in (BookingStatus.HELD, BookingStatus.CONFIRMED):
                booking.paid_at = payment.paid_at
                booking.amount_paid_minor = payment.amount_minor
                booking.payment_method = payment.method
                booking.payment_reference = payment.reference
            paid = booking.paid_at is not None
            if booking.status == BookingStatus.HELD and (paid or booking.price_minor == 0):
                booking.status = BookingStatus.CONFIRMED
            if booking.status != BookingStatus.CONFIRMED:
                return Confirmed(status=booking.status, meeting_url=booking.meeting_url, paid=paid)
            booking.confirmed_at = booking.confirmed_at or datetime.now(UTC)
            if booking.meeting_url is None:
                offering = await session.get(Offering, booking.offering_id)
                # a webinar's seats share one room: the link is made for the session, not the seat
                link = await self._provider(booking.meeting_provider).create(MeetingRequest(
                    booking.webinar_session_id or booking.id, offering.title if offering else "Consultation",
                    booking.starts_at, booking.ends_at))
                booking.meeting_url = link.url
            return Confirmed(status=booking.status, meeting_url=booking.meeting_url, paid=paid)

    # -- hold expiry -----------------------------------------------------------------------
    @activity.defn(name=EXPIRE_HOLD)
    async def expire_hold(self, step: ExpireHold) -> str:
        """Abandon a booking still held and unpaid (its slot or seat is free again at once): its
        hold ran out, or (`reason`) its order's payment failed for good.

        Returns "abandoned", or "paid" if a payment was recorded meanwhile (a lost signal is
        harmless), or the status the booking has otherwise.
        """
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            booking = await self._booking(session, step.ref)
            if booking.status == BookingStatus.ABANDONED:
                return "abandoned"
            if booking.status != BookingStatus.HELD:
                return booking.status.value
            if booking.paid_at is not None:
                return "paid"
            held_until = booking.hold_expires_at
            if step.reason is None and held_until is not None and held_until > step.at + timedelta(seconds=1):
                return HELD_LONGER  # support extended the hold as the timer fired; its signal follows
            booking.status = BookingStatus.ABANDONED
            await self._release_seat(session, booking)
            details = {"hold_expires_at": str(booking.hold_expires_at)}
            if step.reason:  # the order's payment failed for good: released before the hold ran out
                details["reason"] = step.reason
            await record_audit(session, tenant_id=booking.tenant_id,
                               action="booking.hold_released" if step.reason else "booking.hold_expired",
                               target_type="booking", target_id=booking.id, details=details)
        HOLDS_EXPIRED.labels("payment_failed" if step.reason else "expired").inc()  # once: committed, not again
        return "abandoned"

    # -- reschedule ------------------------------------------------------------------------
    @activity.defn(name=MOVE)
    async def move(self, step: MoveBooking) -> Moved:
        """Move the booking to a new free slot in one UPDATE; the exclusion constraint has the last word."""
        request = step.request
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            booking = await self._booking(session, step.ref)
            if booking.sequence == step.expected_sequence + 1 and booking.starts_at == request.starts_at:
                return Moved(starts_at=booking.starts_at, ends_at=booking.ends_at, sequence=booking.sequence)
            if booking.sequence != step.expected_sequence or booking.status != BookingStatus.CONFIRMED:
                raise _fail("the booking changed meanwhile; reload it and try again")
            if booking.webinar_session_id is not None:
                raise _fail("a webinar seat cannot be moved; cancel it and book another session", field="starts_at")
            offering = await session.get(Offering, booking.offering_id)
            if offering is None:
                raise _fail("the offering no longer exists")
            new_start = request.starts_at
            consultant = await consultant_for_booking(session, booking.consultant_id, offering, new_start)
            ctx = await slot_context(session, consultant, offering, new_start, new_start,
                                     exclude_booking_id=booking.id)
            if not slot_is_free(ctx.availability, ctx.rules, busy=ctx.busy, booked_per_day=ctx.booked_per_day,
                                now=step.at, at=new_start):
                taken = slot_is_free(ctx.availability, ctx.rules, busy=Busy(), now=step.at, at=new_start)
                if taken:
                    raise _fail("that time was just taken; choose another", SLOT_TAKEN_ERROR, "starts_at")
                raise _fail("that time is not one of the offered slots", NOT_A_SLOT_ERROR, "starts_at")
            old_start = booking.starts_at
            booking.starts_at = new_start
            booking.ends_at = new_start + timedelta(minutes=offering.duration_minutes)
            booking.blocked = blocked_range(offering, new_start)
            booking.sequence += 1
            booking.reschedule_count += 1
            try:
                async with session.begin_nested():
                    await session.flush()
            except IntegrityError as exc:
                raise _fail("that time was just taken; choose another", SLOT_TAKEN_ERROR, "starts_at") from exc
            if booking.meeting_url:
                link = await self._provider(booking.meeting_provider).move(
                    MeetingLink(booking.meeting_provider, booking.meeting_url),
                    MeetingRequest(booking.id, offering.title, booking.starts_at, booking.ends_at))
                booking.meeting_url = link.url
            await _audit(session, booking, "booking.rescheduled", request.actor_user_id, request.request_id,
                         {"from": old_start.isoformat(), "to": new_start.isoformat(), "by": request.by.value})
            return Moved(starts_at=booking.starts_at, ends_at=booking.ends_at, sequence=booking.sequence)

    # -- cancel ----------------------------------------------------------------------------
    @activity.defn(name=CANCEL)
    async def cancel(self, step: CancelBooking) -> CancelledTerms:
        """Cancel, apply the policy agreed at booking, record the refund due (payments carries it out)."""
        request = step.request
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            booking = await self._booking(session, step.ref)
            if booking.status == BookingStatus.CANCELLED:
                return CancelledTerms(refund_percent=booking.refund_percent or 0,
                                      refund_due_minor=booking.refund_due_minor, paid_minor=booking.amount_paid_minor)
            if booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
                raise _fail(f"the booking is {booking.status.value}; it can no longer be cancelled")
            policy = CancellationPolicy.model_validate(booking.cancellation_policy or {})
            terms = cancellation_terms(policy, starts_at=booking.starts_at, at=step.at, by=request.by,
                                       paid_minor=booking.amount_paid_minor)
            booking.status = BookingStatus.CANCELLED
            booking.cancelled_at = step.at
            booking.cancelled_by = request.by.value
            booking.cancel_reason = request.reason
            booking.refund_percent = terms.refund_percent
            booking.refund_due_minor = terms.refund_due_minor
            booking.refund_status = RefundStatus.DUE if terms.refund_due_minor > 0 else RefundStatus.NONE
            booking.sequence += 1
            await self._release_seat(session, booking)
            credit_back = False
            if booking.payment_method == "package_credit":  # paid with a session-package credit
                by_consultant = request.by != CancelledBy.CLIENT
                percent = 100 if by_consultant else policy.refund_percent(booking.starts_at - step.at)
                credit_back = await settle_cancelled_credit(session, booking.id, refund_percent=percent,
                                                            by_consultant=by_consultant)
            if booking.meeting_url:
                await self._provider(booking.meeting_provider).cancel(
                    MeetingLink(booking.meeting_provider, booking.meeting_url))
            await _audit(session, booking, "booking.cancelled", request.actor_user_id, request.request_id,
                         {"by": request.by.value, "reason": request.reason, "refund_percent": terms.refund_percent,
                          "refund_due_minor": terms.refund_due_minor, "credit_returned": credit_back})
            return CancelledTerms(refund_percent=terms.refund_percent, refund_due_minor=terms.refund_due_minor,
                                  paid_minor=booking.amount_paid_minor)

    # -- outcome ---------------------------------------------------------------------------
    @activity.defn(name=RECORD_OUTCOME)
    async def record_outcome(self, step: RecordOutcome) -> str:
        request = step.request
        target = BookingStatus.COMPLETED if request.outcome == Outcome.COMPLETED else BookingStatus.NO_SHOW
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            booking = await self._booking(session, step.ref)
            if booking.status == target:
                return target.value
            if booking.status != BookingStatus.CONFIRMED:
                raise _fail(f"the booking is {booking.status.value}")
            booking.status = target
            booking.outcome_by = request.actor_user_id
            if target == BookingStatus.COMPLETED:
                booking.completed_at = step.at
                booking.summary = request.summary
                booking.private_notes_encrypted = request.private_notes_encrypted
            else:
                booking.no_show_at = step.at
            await _audit(session, booking, f"booking.{target.value}", request.actor_user_id, request.request_id, {})
            return target.value

    # -- messages --------------------------------------------------------------------------
    @activity.defn(name=QUIET_HOURS_END)
    async def quiet_hours_end(self, check: QuietCheck) -> datetime | None:
        """The latest end of the quiet hours its readers are in at `check.at` (None: nobody is)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(check.ref.tenant_id)) as session:
            booking = await self._booking(session, check.ref, lock=False)
            consultant = await session.get(Consultant, booking.consultant_id)
        readers = {Audience.CLIENT: booking.client_id, Audience.CONSULTANT: consultant.user_id if consultant else None}
        ends = [end for audience in check.audience if (user_id := readers[audience]) is not None
                if (end := await self.notifier.quiet_hours_end(check.ref.tenant_id, user_id, check.at)) is not None]
        return max(ends, default=None)

    @activity.defn(name=NOTIFY)
    async def notify(self, step: Notify) -> int:
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
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            booking = await self._booking(session, step.ref, lock=False)
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
                raise _fail("the booking's offering, consultant or client no longer exists", "BookingGone")
            consultant_user = await session.get(User, consultant.user_id)
            base = self.settings.public_base_url.rstrip("/")
            variables: dict[str, Any] = {
                "client_name": client.full_name,
                "consultant_name": consultant.display_name,
                "offering_title": offering.title,
                "starts_at": booking.starts_at,
                "meeting_url": booking.meeting_url or "(the link follows once the booking is confirmed)",
                "manage_url": manage_link(self.keys, base, booking),
                "pay_link": pay_link(self.keys, base, booking),
                "dashboard_url": f"{base}/api/v1/bookings/{booking.id}",
                "feedback_url": feedback_link(self.keys, base, booking),
                "booking_page_url": f"{base}/api/v1/public/{await _tenant_slug(session, booking)}"
                                    f"/consultants/{consultant.slug}",
                "reason": booking.cancel_reason or "",
                **step.variables,
            }
            confirmation = await self._confirmation(session, booking, step, offering, consultant, client)
            variables["confirmation_url"] = confirmation[1] if confirmation else ""
            attachments: list[Attachment] = []
            ics: str | None = None
            if step.ics:
                ics = self._invitation(booking, offering, consultant, consultant_user, client, step.ics)
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
            if (await deliver_or_retry(self.notifier, request)).sent_on:
                sent += 1
        if sent and step.due_at is not None:
            record_reminder("consultation", step.due_at, datetime.now(UTC))
        return sent

    async def _confirmation(self, session: AsyncSession, booking: Booking, step: Notify, offering: Offering,
                            consultant: Consultant, client: User) -> tuple[UUID, str] | None:
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
            stored = await ensure_confirmation(session, self.storage, booking, facts)
        except PdfUnavailableError:
            log.exception("%s: the confirmation PDF could not be made", step.ref.workflow_id)
            return None
        token = self.download_links.token(file_id=stored.id, tenant_id=booking.tenant_id, user_id=client.id,
                                          expires_at=booking.ends_at + links.VALID_AFTER_END[links.MANAGE])
        base = self.settings.public_base_url.rstrip("/")
        return stored.id, f"{base}/api/v1/files/{stored.id}/content?token={token}"

    def _invitation(self, booking: Booking, offering: Offering, consultant: Consultant,
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


async def _audit(session: AsyncSession, booking: Booking, action: str, actor: UUID | None, request_id: str | None,
                 details: dict[str, object]) -> None:
    actor_user = await session.get(User, actor) if actor else None
    event = await record_audit(session, tenant_id=booking.tenant_id, action=action, actor_user_id=actor,
                               actor_role=actor_user.role.value if actor_user else None,
                               target_type="booking", target_id=booking.id, details=details)
    event.request_id = request_id

