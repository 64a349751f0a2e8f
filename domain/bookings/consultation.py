"""The Consultation workflow's contract: statuses, inputs, signals, updates, activities, timings.

`consultation-<booking id>` carries one booking from hold or confirmation to its end:

    held --payment--> confirmed --session--> completed (feedback, follow-up) | no_show
      \\--hold expired--> abandoned          \\--cancel--> cancelled

The workflow carries ids, instants and statuses; names, emails, intake answers and notes stay in
PostgreSQL (private notes arrive already encrypted).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, Field

from domain.bookings.policies import CancelledBy, ReschedulePolicy
from domain.outbox import PostedMessage
from domain.payments.orders import PaymentFailed as PaymentFailed  # signal `payment_failed`: payments' payload

WORKFLOW_TYPE = "Consultation"
DEFAULT_REMINDER_OFFSETS = (24 * 60, 60)   # minutes before the start
DEFAULT_HOLD_MINUTES = 15
DEFAULT_COMPLETION_GRACE_HOURS = 2
OUTCOME_ASK_EVERY = timedelta(days=1)
MAX_OUTCOME_ASKS = 3
FEEDBACK_AFTER = timedelta(days=1)
DEFAULT_FOLLOW_UP_DAYS = 90


def consultation_workflow_id(booking_id: UUID) -> str:
    return f"consultation-{booking_id}"


class BookingStatus(enum.StrEnum):
    HELD = "held"              # waiting for payment; the slot is taken until the hold expires
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    ABANDONED = "abandoned"    # the hold expired unpaid


LIVE_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED)
FINAL_STATUSES = (BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW, BookingStatus.ABANDONED)


class FollowUp(enum.StrEnum):
    FEEDBACK = "feedback"
    FOLLOW_UP = "follow_up"


# -- workflow input and state --------------------------------------------------------------
class ConsultationInput(BaseModel):
    booking_id: UUID
    tenant_id: UUID
    consultant_id: UUID
    client_id: UUID
    offering_title: str
    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime | None = None
    order_id: UUID | None = Field(None, description="the order a paid booking is paid through (refunds go there)")
    reminder_offsets_minutes: list[int] = Field(default_factory=lambda: list(DEFAULT_REMINDER_OFFSETS))
    reschedule_policy: ReschedulePolicy = Field(default_factory=ReschedulePolicy)
    completion_grace_hours: int = DEFAULT_COMPLETION_GRACE_HOURS
    follow_up_days: int | None = DEFAULT_FOLLOW_UP_DAYS


class ReminderSent(BaseModel):
    sequence: int
    offset_minutes: int
    due_at: datetime
    sent_at: datetime
    delivered: bool
    skipped: bool = False  # due while reminders were paused (support console): not sent


class ConsultationState(BaseModel):
    booking_id: UUID
    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    sequence: int = 0                         # bumped by every reschedule (iCalendar SEQUENCE)
    reschedules: int = 0
    schedule_set_at: datetime                 # when the current time was agreed (booked, moved)
    hold_expires_at: datetime | None = None
    paid: bool = False
    meeting_url: str | None = None
    reminders: list[ReminderSent] = Field(default_factory=list)
    outcome_asks: int = 0
    cancelled_by: CancelledBy | None = None
    cancel_reason: str | None = None
    refund_percent: int | None = None
    refund_due_minor: int | None = None
    refund_requested: bool = False            # the policy's refund asked of the booking's order
    unapplied_refunded: bool = False          # an order payment that confirmed nothing was sent back
    payment_failed_reason: str | None = None  # payment_failed from the order released the hold
    completed_at: datetime | None = None
    follow_ups_sent: list[FollowUp] = Field(default_factory=list)
    follow_ups_stopped: list[FollowUp] = Field(default_factory=list)
    reminders_paused: bool = False            # support paused them: reminders falling due are skipped
    steps_notified: list[str] = Field(default_factory=list, description="message steps sent, in the order they went")
    messages: list[PostedMessage] = Field(default_factory=list,
                                          description="the latest messages: sending, sent or failed, and why")


# -- signals and updates -------------------------------------------------------------------
class PaymentConfirmed(BaseModel):
    """Signal `payment_confirmed`: the payments capability (or staff, paid offline) says it is paid."""

    amount_minor: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    method: str = Field(max_length=40, description="e.g. razorpay, cash, upi-offline")
    reference: str | None = Field(None, max_length=200)
    paid_at: datetime
    actor_user_id: UUID | None = None


class RescheduleRequest(BaseModel):
    starts_at: datetime
    by: CancelledBy
    actor_user_id: UUID | None = None
    request_id: str | None = None


class CancelRequest(BaseModel):
    by: CancelledBy
    reason: str | None = Field(None, max_length=2000)
    actor_user_id: UUID | None = None
    request_id: str | None = None


class Outcome(enum.StrEnum):
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class OutcomeRequest(BaseModel):
    outcome: Outcome
    summary: str | None = Field(None, max_length=10_000)
    private_notes_encrypted: str | None = Field(None, description="Keys.encrypt()ed by the API")
    actor_user_id: UUID | None = None
    request_id: str | None = None


class StopFollowUps(BaseModel):
    which: list[FollowUp] = Field(default_factory=lambda: list(FollowUp), min_length=1)
    actor_user_id: UUID | None = None


# -- reminders -----------------------------------------------------------------------------
class PlannedReminder(BaseModel):
    sequence: int
    offset_minutes: int
    due_at: datetime


def planned_reminders(state: ConsultationState, offsets: list[int]) -> list[PlannedReminder]:
    """Reminders still to send for the current time, earliest first.

    Only offsets whose moment comes after the time was agreed (a session booked two hours ahead
    gets no "tomorrow" reminder), and none already sent for this sequence. A reschedule bumps
    the sequence, so reminders of the old time are never sent.
    """
    sent = {r.offset_minutes for r in state.reminders if r.sequence == state.sequence}
    plan = []
    for offset in sorted(set(offsets), reverse=True):
        due = state.starts_at - timedelta(minutes=offset)
        if offset not in sent and due > state.schedule_set_at:
            plan.append(PlannedReminder(sequence=state.sequence, offset_minutes=offset, due_at=due))
    return plan


# Reminders this far ahead may wait out their readers' quiet hours (by the workflow's timer);
# nearer ones ("in 1 hour") are urgent and go at once. A held reminder still goes out at least
# REMINDER_LATEST_BEFORE ahead of the session, quiet hours or not.
HOLDABLE_REMINDER_MINUTES = 180
REMINDER_LATEST_BEFORE = timedelta(hours=1)


def reminder_hold_until(offset_minutes: int, starts_at: datetime, quiet_hours_end: datetime | None) -> datetime | None:
    """When a due reminder should go instead of now, or None to send it now.

    `quiet_hours_end`: when the latest of its readers' quiet hours ends (None: nobody is in them).
    """
    if quiet_hours_end is None or offset_minutes < HOLDABLE_REMINDER_MINUTES:
        return None
    return min(quiet_hours_end, starts_at - REMINDER_LATEST_BEFORE)


def describe_offset(minutes: int, language: str = "en") -> str:
    """How far ahead a reminder is, for its reader: "tomorrow", "in 1 hour"; Hindi "कल", "1 घंटे में"."""
    hindi = language == "hi"
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        if hindi:
            return "कल" if days == 1 else f"{days} दिन में"
        return "tomorrow" if days == 1 else f"in {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        if hindi:
            return f"{hours} घंटे में"
        return "in 1 hour" if hours == 1 else f"in {hours} hours"
    return f"{minutes} मिनट में" if hindi else f"in {minutes} minutes"


def reminder_offset_of(step: str) -> int | None:
    """The offset (minutes) of a reminder step `reminder:<sequence>:<offset minutes>`, else None."""
    parts = step.split(":")
    if len(parts) == 3 and parts[0] == "reminder" and parts[2].isdigit():
        return int(parts[2])
    return None


# -- activities ----------------------------------------------------------------------------
class ConsultationRef(BaseModel):
    workflow_id: str
    tenant_id: UUID
    booking_id: UUID


class Confirm(BaseModel):
    ref: ConsultationRef
    payment: PaymentConfirmed | None = None


class Confirmed(BaseModel):
    status: BookingStatus        # confirmed, or what the booking became meanwhile (e.g. cancelled)
    meeting_url: str | None
    paid: bool


class ExpireHold(BaseModel):
    ref: ConsultationRef
    at: datetime
    reason: str | None = Field(None, description="why the hold ends early (the order's payment failed); "
                                                 "None: it ran out")


class MoveBooking(BaseModel):
    ref: ConsultationRef
    request: RescheduleRequest
    at: datetime
    expected_sequence: int


class Moved(BaseModel):
    starts_at: datetime
    ends_at: datetime
    sequence: int


class CancelBooking(BaseModel):
    ref: ConsultationRef
    request: CancelRequest
    at: datetime


class CancelledTerms(BaseModel):
    refund_percent: int
    refund_due_minor: int
    paid_minor: int


class RecordOutcome(BaseModel):
    ref: ConsultationRef
    request: OutcomeRequest
    at: datetime


class Audience(enum.StrEnum):
    CLIENT = "client"
    CONSULTANT = "consultant"


class Notify(BaseModel):
    """Send one consultation message. Idempotent: dedupe key = workflow id + step + audience.

    `expected_starts_at`: send only if the booking still starts then (reminders), so a message
    for a time that was moved meanwhile is dropped rather than sent.
    """

    ref: ConsultationRef
    step: str
    event: str
    audience: list[Audience]
    expected_starts_at: datetime | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    ics: str | None = Field(None, description="'request' or 'cancel': attach the booking as an invitation")
    # A reminder's intended time (its due time, or the end of the quiet hours it waited out): how
    # late it went is measured from here (muhurta_reminder_lateness_seconds).
    due_at: datetime | None = None


class QuietCheck(BaseModel):
    """Whose quiet hours to ask about (the booking's client and/or consultant), at which instant."""

    ref: ConsultationRef
    audience: list[Audience]
    at: datetime


CONFIRM = "consultation.confirm"
EXPIRE_HOLD = "consultation.expire_hold"
HELD_LONGER = "held"  # EXPIRE_HOLD's answer when the database holds the booking longer (support extended it)
MOVE = "consultation.move"
CANCEL = "consultation.cancel"
RECORD_OUTCOME = "consultation.record_outcome"
NOTIFY = "consultation.notify"
QUIET_HOURS_END = "consultation.quiet_hours_end"


# ApplicationError types the MOVE activity raises (the API maps them to problem types)
SLOT_TAKEN_ERROR = "SlotTaken"
NOT_A_SLOT_ERROR = "NotASlot"
