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

import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import consultation_messages
from activities.meetings import Bounded, MeetingLink, MeetingProvider, MeetingRequest, build_providers
from activities.notifications import Notifier
from core.db import TenantScope, scoped_session
from core.observability.metrics import HOLDS_EXPIRED
from core.security import Keys
from core.settings import Settings
from core.signed_links import DownloadLinks
from core.storage import FileStorage, build_storage
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
)
from domain.bookings.policies import CancellationPolicy, CancelledBy, cancellation_terms
from domain.bookings.slots import Busy, slot_is_free
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

log = logging.getLogger(__name__)

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
        """Send one consultation message to each audience (`consultation_messages.notify`); returns
        how many audiences got it on some channel."""
        return await consultation_messages.notify(self, step)

async def _audit(session: AsyncSession, booking: Booking, action: str, actor: UUID | None, request_id: str | None,
                 details: dict[str, object]) -> None:
    actor_user = await session.get(User, actor) if actor else None
    event = await record_audit(session, tenant_id=booking.tenant_id, action=action, actor_user_id=actor,
                               actor_role=actor_user.role.value if actor_user else None,
                               target_type="booking", target_id=booking.id, details=details)
    event.request_id = request_id

