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


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    IN_APP = "in_app"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"        # recorded, not yet accepted by the provider
    SENT = "sent"            # the provider accepted it
    DELIVERED = "delivered"  # the provider says it arrived (in-app: it is in the inbox)
    FAILED = "failed"        # refused for good (bad number, unsubscribed, template error)
    BOUNCED = "bounced"      # the receiving mail server refused it


TERMINAL_STATUSES = frozenset({DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED,
                               DeliveryStatus.BOUNCED})

_STATUS_RANK = {DeliveryStatus.QUEUED: 0, DeliveryStatus.SENT: 1, DeliveryStatus.DELIVERED: 2,
                DeliveryStatus.FAILED: 3, DeliveryStatus.BOUNCED: 3}


def status_after_callback(current: DeliveryStatus, reported: DeliveryStatus) -> DeliveryStatus | None:
    """The status a provider's callback moves a delivery to, or None to leave it as it is.

    Callbacks arrive out of order and more than once: a status only ever moves forward
    (queued < sent < delivered < failed/bounced), so a late 'sent' never undoes 'delivered'.
    """
    if _STATUS_RANK[reported] > _STATUS_RANK[current]:
        return reported
    return None


# -- events -----------------------------------------------------------------------------------------
class VarKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    URL = "url"
    INSTANT = "instant"  # an aware datetime (or ISO 8601 string); templates show it in the reader's zone


# Variables every template may use without the caller passing them.
AUTOMATIC_VARIABLES: dict[str, VarKind] = {
    "recipient_name": VarKind.TEXT,
    "tenant_name": VarKind.TEXT,
    "recipient_timezone": VarKind.TEXT,
    "recipient_locale": VarKind.TEXT,
}
AUTOMATIC_SAMPLE: dict[str, Any] = {
    "recipient_name": "Priya Sharma",
    "tenant_name": "Jyotish Demo Consultancy",
    "recipient_timezone": "Asia/Kolkata",
    "recipient_locale": "en",
}


@dataclass(frozen=True)
class EventSpec:
    """One kind of message: its variables, the channels it uses by default, how it may be sent."""

    name: str
    description: str
    variables: Mapping[str, VarKind]
    sample: Mapping[str, Any]
    default_channels: tuple[Channel, ...]
    urgent: bool = False      # never held by quiet hours (e.g. "your session starts in 10 minutes")
    mandatory: bool = False   # account and security mail: email cannot be opted out of
    broadcast: bool = False   # staff may send it to many clients at once (opt-out: announcements)
    marketing: bool = False   # a nudge, not a service message: the announcements opt-out silences it too
    audience: str = "client"  # who receives it: client, consultant, owner, admin (documentation)


_SESSION_VARS: dict[str, VarKind] = {
    "counterpart_name": VarKind.TEXT,
    "service_name": VarKind.TEXT,
    "starts_at": VarKind.INSTANT,
    "duration_minutes": VarKind.NUMBER,
    "join_url": VarKind.URL,
}
_SESSION_SAMPLE: dict[str, Any] = {
    "counterpart_name": "Acharya Demo",
    "service_name": "Kundli reading (60 min)",
    "starts_at": datetime(2026, 11, 28, 13, 0, tzinfo=UTC),  # 18:30 IST
    "duration_minutes": 60,
    "join_url": "https://meet.example.com/abc-defg-hij",
}

EVENTS: dict[str, EventSpec] = {}


def register_event(spec: EventSpec) -> EventSpec:
    """Add an event to the catalogue (other capabilities register theirs next to their templates)."""
    EVENTS[spec.name] = spec
    return spec


for _spec in [
    # -- the spine's account and onboarding mail -------------------------------------------------
    EventSpec("verify_email", "Confirm an email address (sign-up, registration).",
              {"full_name": VarKind.TEXT, "tenant_name": VarKind.TEXT, "link": VarKind.URL, "hours": VarKind.NUMBER},
              {"full_name": "Priya Sharma", "tenant_name": "Jyotish Demo Consultancy",
               "link": "https://app.muhurta.app/verify-email?token=abc", "hours": 48},
              (Channel.EMAIL,), urgent=True, mandatory=True, audience="any"),
    EventSpec("verify_email_reminder", "Reminder to a new consultant to confirm their email.",
              {"full_name": VarKind.TEXT, "tenant_name": VarKind.TEXT},
              {"full_name": "Acharya Demo", "tenant_name": "Jyotish Demo Consultancy"},
              (Channel.EMAIL,), mandatory=True, audience="owner"),
    EventSpec("reset_password", "A link to choose a new password.",
              {"full_name": VarKind.TEXT, "link": VarKind.URL, "minutes": VarKind.NUMBER},
              {"full_name": "Priya Sharma", "link": "https://app.muhurta.app/reset-password?token=abc",
               "minutes": 30},
              (Channel.EMAIL,), urgent=True, mandatory=True, audience="any"),
    EventSpec("onboarding_pending_admin", "Platform admins: consultancies are waiting for approval.",
              {"count": VarKind.NUMBER, "tenant_name": VarKind.TEXT, "tenant_slug": VarKind.TEXT,
               "since": VarKind.TEXT, "link": VarKind.URL},
              {"count": 2, "tenant_name": "Numerology Newcomer", "tenant_slug": "pending-demo",
               "since": "2026-11-20 09:00 UTC", "link": "https://app.muhurta.app/api/v1/admin/tenants/1"},
              (Channel.EMAIL,), mandatory=True, audience="admin"),
    EventSpec("onboarding_approved", "The consultancy was approved.",
              {"full_name": VarKind.TEXT, "tenant_name": VarKind.TEXT},
              {"full_name": "Acharya Demo", "tenant_name": "Jyotish Demo Consultancy"},
              (Channel.EMAIL,), mandatory=True, audience="owner"),
    EventSpec("onboarding_rejected", "The consultancy was not approved, with the reason.",
              {"full_name": VarKind.TEXT, "tenant_name": VarKind.TEXT, "reason": VarKind.TEXT},
              {"full_name": "Acharya Demo", "tenant_name": "Jyotish Demo Consultancy",
               "reason": "the profile lists no qualifications"},
              (Channel.EMAIL,), mandatory=True, audience="owner"),
    EventSpec("provider_failing", "The owner: the consultancy's own SendGrid or Twilio account keeps failing "
              "(told once per settings change, in-app).",
              {"provider": VarKind.TEXT, "channel": VarKind.TEXT, "reason": VarKind.TEXT, "link": VarKind.URL},
              {"provider": "SendGrid", "channel": "email", "reason": "HTTP 401: The provided authorization grant "
               "is invalid, expired, or revoked", "link": "https://app.muhurta.app/api/v1/tenant/notification-settings"},
              (Channel.IN_APP,), urgent=True, audience="owner"),
    EventSpec("payment_keys_refused", "The owner: Razorpay refuses the consultancy's own payment keys (401/403), so "
              "its clients cannot pay (told once per refused key, in-app).",
              {"key_id": VarKind.TEXT, "reason": VarKind.TEXT, "link": VarKind.URL},
              {"key_id": "rzp_live_AbCdEf123456", "reason": "HTTP 401: Authentication failed",
               "link": "https://app.muhurta.app/api/v1/payments/settings"},
              (Channel.IN_APP,), urgent=True, audience="owner"),
    # -- sessions ------------------------------------------------------------------------------------
    EventSpec("session_booked", "A session was booked (to the client and to the consultant).",
              _SESSION_VARS, _SESSION_SAMPLE, (Channel.EMAIL, Channel.IN_APP), audience="client, consultant"),
    EventSpec("session_reminder", "A session is coming up (e.g. 24 h and 1 h before).",
              _SESSION_VARS, _SESSION_SAMPLE, (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.IN_APP),
              audience="client, consultant"),
    EventSpec("session_starting_soon", "The session starts in a few minutes: never held by quiet hours.",
              {**_SESSION_VARS, "minutes": VarKind.NUMBER}, {**_SESSION_SAMPLE, "minutes": 10},
              (Channel.SMS, Channel.WHATSAPP, Channel.IN_APP), urgent=True, audience="client, consultant"),
    # -- report delivery (the documents capability's events and variables) --------------------------
    EventSpec("report_due_soon", "The consultant: a report they sold is due soon and not uploaded.",
              {"full_name": VarKind.TEXT, "title": VarKind.TEXT, "client_name": VarKind.TEXT, "due": VarKind.TEXT,
               "link": VarKind.URL},
              {"full_name": "Acharya Demo", "title": "Varshphal 2027", "client_name": "Priya Sharma",
               "due": "Sat 28 Nov 2026, 18:30 IST", "link": "https://app.muhurta.app/reports/1"},
              (Channel.EMAIL, Channel.IN_APP), audience="consultant"),
    EventSpec("report_overdue", "The consultant: a report they sold is overdue.",
              {"full_name": VarKind.TEXT, "title": VarKind.TEXT, "client_name": VarKind.TEXT, "due": VarKind.TEXT,
               "link": VarKind.URL},
              {"full_name": "Acharya Demo", "title": "Varshphal 2027", "client_name": "Priya Sharma",
               "due": "Sat 28 Nov 2026, 18:30 IST", "link": "https://app.muhurta.app/reports/1"},
              (Channel.EMAIL, Channel.IN_APP), audience="consultant"),
    EventSpec("report_delivered", "The client: their report is ready to download.",
              {"full_name": VarKind.TEXT, "title": VarKind.TEXT, "tenant_name": VarKind.TEXT, "link": VarKind.URL,
               "expires": VarKind.TEXT},
              {"full_name": "Priya Sharma", "title": "Varshphal 2027", "tenant_name": "Jyotish Demo Consultancy",
               "link": "https://app.muhurta.app/d/abc", "expires": "Sat 5 Dec 2026, 18:30 IST"},
              (Channel.EMAIL, Channel.IN_APP)),
    # -- staff to clients ----------------------------------------------------------------------------
    EventSpec("announcement", "A message from the consultancy to its clients (broadcasts).",
              {"title": VarKind.TEXT, "message": VarKind.TEXT},
              {"title": "Diwali greetings", "message": "Our office is closed on 1 November. Wishing you light."},
              (Channel.EMAIL, Channel.IN_APP), broadcast=True),
]:
    register_event(_spec)


# -- consultations: `consultation.<event>.<audience>`, sent by activity consultation.notify ------------------
_BOOKING_VARS: dict[str, VarKind] = {
    "client_name": VarKind.TEXT, "consultant_name": VarKind.TEXT, "offering_title": VarKind.TEXT,
    "starts_at": VarKind.INSTANT, "when": VarKind.TEXT, "offset": VarKind.TEXT, "hold_until": VarKind.TEXT,
    "meeting_url": VarKind.URL, "manage_url": VarKind.URL, "dashboard_url": VarKind.URL,
    "feedback_url": VarKind.URL, "booking_page_url": VarKind.URL, "reason": VarKind.TEXT, "refund": VarKind.TEXT,
    "confirmation_url": VarKind.TEXT,  # the confirmation PDF's signed link (confirmed.client), else ""
    "pay_link": VarKind.TEXT,  # where a held booking is paid without an account (POST checkout), else ""
}
_BOOKING_SAMPLE: dict[str, Any] = {
    "client_name": "Priya Sharma", "consultant_name": "Acharya Demo", "offering_title": "Kundli reading",
    "starts_at": datetime(2026, 11, 28, 13, 0, tzinfo=UTC), "when": "Sat 28 Nov 2026, 18:30 IST (Asia/Kolkata)",
    "offset": "tomorrow", "hold_until": "Sat 21 Nov 2026, 10:15 IST (Asia/Kolkata)",
    "meeting_url": "https://meet.jit.si/Muhurta-0123456789abcdef01234567",
    "manage_url": "https://app.muhurta.app/api/v1/booking-links/abc", "dashboard_url":
    "https://app.muhurta.app/api/v1/bookings/1", "feedback_url": "https://app.muhurta.app/api/v1/booking-links/abc/feedback",
    "booking_page_url": "https://app.muhurta.app/api/v1/public/demo/consultants/acharya",
    "confirmation_url": "https://app.muhurta.app/api/v1/files/1/content?token=abc",
    "pay_link": "https://app.muhurta.app/api/v1/booking-links/abc/checkout",
    "reason": "the consultant is unwell", "refund": "A refund of ₹1,500.00 (100 %) will be made to the original "
                                                    "payment method.",
}
# (event, audience, description, urgent, mandatory, marketing). Urgent: never held by quiet hours
# (a reply to something the person just did, or tied to the session's time). Mandatory: about an
# appointment or money the person agreed to, so email is sent even to someone who turned email off.
_CONSULTATION_EVENTS = [
    ("held", "client", "A paid booking is held until it is paid (with the deadline).", True, True, False),
    ("confirmed", "client", "The booking is confirmed: meeting link, manage link, invitation attached.",
     True, True, False),
    ("confirmed", "consultant", "A client booked a session.", True, True, False),
    ("reminder", "client", "The session is coming up (at the offering's reminder offsets).", True, False, False),
    ("reminder", "consultant", "The session is coming up.", True, False, False),
    ("rescheduled", "client", "The session moved (updated invitation attached).", True, True, False),
    ("rescheduled", "consultant", "The session moved.", True, True, False),
    ("cancelled", "client", "The session is cancelled, with the refund due.", True, True, False),
    ("cancelled", "consultant", "The session is cancelled.", True, True, False),
    ("hold_expired", "client", "The payment did not come in time; the time was released.", True, True, False),
    ("refund_by_hand", "consultant", "A cancelled booking's refund could not go through its order: make it by hand.",
     True, True, False),
    ("outcome_needed", "consultant", "The session ended: record it completed or a no-show.", False, False, False),
    ("no_show", "client", "The client did not come.", False, False, False),
    ("feedback", "client", "A day after the session: how was it?", False, False, False),
    ("follow_up", "client", "Months later: book again? (silenced by the announcements opt-out)", False, False, True),
]
for _event, _audience, _description, _urgent, _mandatory, _marketing in _CONSULTATION_EVENTS:
    register_event(EventSpec(
        f"consultation.{_event}.{_audience}", _description, _BOOKING_VARS, _BOOKING_SAMPLE,
        # Reminders go by SMS too (to a person with a phone number who has not turned SMS off).
        (Channel.EMAIL, Channel.SMS, Channel.IN_APP) if _event == "reminder" else (Channel.EMAIL, Channel.IN_APP),
        urgent=_urgent, mandatory=_mandatory, marketing=_marketing, audience=_audience))


# -- payments (the Order workflow's messages; activities/payments/orders.py sends them) ---------------------
# Money the person paid, or staff must act on: urgent (never held) and mandatory (email even to
# someone who turned email off).
_PAYMENT_EVENTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("payment_receipt", "client", "The receipt of a paid order, with the invoice link.",
     {"amount": "₹2,360.00", "items": "- Kundli reading: ₹2,360.00", "invoice_number": "INV-2026-0042",
      "link": "https://app.muhurta.app/api/v1/orders/1/invoice"}),
    ("payment_failed", "client", "A payment attempt failed; the order can still be paid until it expires.",
     {"reason": "the card was declined", "expires": "28 Nov 2026 13:00 UTC"}),
    ("order_expired", "client", "The order was not paid in time; what it held is released.", {}),
    ("payment_needs_review", "staff", "Owner and staff: a payment cannot be accepted as it is.",
     {"reason": "the amount paid differs from the order's total"}),
    ("fulfilment_failed", "client", "A paid order could not be fulfilled; the money is refunded.",
     {"reason": "the slot was no longer free", "amount": "₹2,360.00"}),
    ("fulfilment_failed_staff", "staff", "Owner and staff: a paid order could not be fulfilled.",
     {"reason": "the slot was no longer free", "amount": "₹2,360.00"}),
    ("fulfilment_awaiting_handler", "staff", "Owner and staff: a paid order has items to deliver by hand.",
     {"kinds": "course, remedy"}),
    ("late_payment_refunded", "client", "A payment came after the order ended; it is refunded in full.",
     {"status": "expired", "amount": "₹2,360.00"}),
    ("refund_processed", "client", "A refund was processed.", {"amount": "₹1,180.00", "destination": ""}),
    ("refund_failed_staff", "staff", "Owner and staff: a refund failed.",
     {"amount": "₹1,180.00", "reason": "the gateway failed it"}),
]
_KIND_OF = {"amount": VarKind.TEXT, "link": VarKind.URL}
for _name, _to, _description, _sample in _PAYMENT_EVENTS:
    register_event(EventSpec(
        _name, _description,
        {"full_name": VarKind.TEXT, "tenant_name": VarKind.TEXT, "order_ref": VarKind.TEXT,
         **{key: _KIND_OF.get(key, VarKind.TEXT) for key in _sample}},
        {"full_name": "Priya Sharma", "tenant_name": "Jyotish Demo Consultancy", "order_ref": "3f2a9c1d", **_sample},
        (Channel.EMAIL, Channel.IN_APP), urgent=True, mandatory=True, audience=_to))


# -- courses (the Enrollment workflow's messages; activities/courses/messages.py sends them) ----------------
_COURSE_VARS: dict[str, VarKind] = {
    "client_name": VarKind.TEXT, "course_title": VarKind.TEXT, "course_url": VarKind.URL,
    "lesson_title": VarKind.TEXT, "count": VarKind.NUMBER, "lessons": VarKind.TEXT, "next_unlock": VarKind.TEXT,
    "days": VarKind.NUMBER, "certificate_code": VarKind.TEXT, "certificate_url": VarKind.TEXT,
    "verify_url": VarKind.URL,
}
_COURSE_SAMPLE: dict[str, Any] = {
    "client_name": "Priya Sharma", "course_title": "Numerology in 12 weeks",
    "course_url": "https://app.muhurta.app/api/v1/course-enrollments/1", "lesson_title": "Your life path number",
    "count": 2, "lessons": "- Your life path number\n- The destiny number", "next_unlock": "Sat 12 Dec 2026, 08:00 IST",
    "days": 7, "certificate_code": "7K2M-Q9TR-X4PB",
    "certificate_url": "https://app.muhurta.app/api/v1/files/1/content?token=abc",
    "verify_url": "https://app.muhurta.app/api/v1/public/demo/certificates/7K2M-Q9TR-X4PB",
}
for _name, _description, _marketing in [
    ("course.enrolled", "The client is enrolled: what is open now and when the next lesson opens.", False),
    ("course.unlocked", "A lesson opened on its drip date.", False),
    ("course.unlocked_digest", "Several lessons opened at once: one message listing them.", False),
    ("course.nudge", "Seven days without activity: a nudge back to the course (once per gap).", False),
    ("course.completed", "The course is complete: the certificate, its code and where to verify it.", False),
]:
    register_event(EventSpec(_name, _description, _COURSE_VARS, _COURSE_SAMPLE, (Channel.EMAIL, Channel.IN_APP),
                             marketing=_marketing))
_DISCUSSION_VARS: dict[str, VarKind] = {
    "author_name": VarKind.TEXT, "course_title": VarKind.TEXT, "lesson_title": VarKind.TEXT, "text": VarKind.TEXT,
    "thread_url": VarKind.URL}
_DISCUSSION_SAMPLE: dict[str, Any] = {
    "author_name": "Priya Sharma", "course_title": "Numerology in 12 weeks", "lesson_title": "Your life path number",
    "text": "Is 11 reduced to 2 in the life path?",
    "thread_url": "https://app.muhurta.app/api/v1/courses/1/lessons/2/discussion"}
# -- the team (api/services/team.py): to an address that may have no account yet ----------------------------
register_event(EventSpec(
    "team_invitation", "An invitation to join a consultancy's team (or the platform's admins).",
    {"inviter_name": VarKind.TEXT, "tenant_name": VarKind.TEXT, "role": VarKind.TEXT, "link": VarKind.URL,
     "expires": VarKind.INSTANT},
    {"inviter_name": "Acharya Demo", "tenant_name": "Jyotish Demo Consultancy", "role": "consultant",
     "link": "https://app.muhurta.app/accept-invitation?token=abc",
     "expires": datetime(2026, 12, 12, 13, 0, tzinfo=UTC)},
    (Channel.EMAIL,), urgent=True, mandatory=True, audience="invited person"))

# -- platform administration (api/routers/platform_admin.py): to the owners, by address -------------------
register_event(EventSpec(
    "tenant_suspended", "The owners: the platform suspended the consultancy, with the reason.",
    {"tenant_name": VarKind.TEXT, "reason": VarKind.TEXT},
    {"tenant_name": "Jyotish Demo Consultancy", "reason": "unpaid platform invoice"},
    (Channel.EMAIL,), urgent=True, mandatory=True, audience="owners"))
register_event(EventSpec(
    "tenant_reactivated", "The owners: the consultancy is active again.",
    {"tenant_name": VarKind.TEXT, "reason": VarKind.TEXT},
    {"tenant_name": "Jyotish Demo Consultancy", "reason": "the invoice is paid"},
    (Channel.EMAIL,), urgent=True, mandatory=True, audience="owners"))

register_event(EventSpec("course.question", "The consultant: a client asked in a lesson's discussion.",
                         _DISCUSSION_VARS, _DISCUSSION_SAMPLE, (Channel.EMAIL, Channel.IN_APP), audience="consultant"))
register_event(EventSpec("course.reply", "The client: the consultancy answered in a lesson's discussion.",
                         _DISCUSSION_VARS, _DISCUSSION_SAMPLE, (Channel.EMAIL, Channel.IN_APP)))

# -- personal data (the Privacy workflows' messages; activities/privacy/export.py sends them) -----------------
register_event(EventSpec(
    "privacy.export_ready", "The client's data export is ready: a signed link, valid until it expires.",
    {"tenant_name": VarKind.TEXT, "link": VarKind.URL, "expires": VarKind.TEXT},
    {"tenant_name": "Jyotish Demo Consultancy", "link": "https://app.muhurta.app/api/v1/privacy-exports/archive?token=abc",
     "expires": "12 Dec 2026 05:00 UTC"},
    (Channel.EMAIL, Channel.IN_APP), mandatory=True))

# -- session packages (the SessionPackage workflow's messages; activities/packages.py sends them) ---------------
register_event(EventSpec(
    "package.expiring", "The client's session-package credits expire soon: how many are left and until when.",
    {"client_name": VarKind.TEXT, "package_title": VarKind.TEXT, "credits_left": VarKind.NUMBER,
     "expires": VarKind.TEXT, "book_url": VarKind.URL},
    {"client_name": "Priya Sharma", "package_title": "5 kundli readings", "credits_left": 2,
     "expires": "Sat 12 Dec 2026, 18:30 IST", "book_url": "https://app.muhurta.app/api/v1/session-credits"},
    (Channel.EMAIL, Channel.IN_APP)))

# -- memberships (the Membership workflow's messages; activities/memberships.py sends them) --------------------
register_event(EventSpec(
    "membership.past_due", "The client's membership renewal failed: benefits stay for a grace period.",
    {"client_name": VarKind.TEXT, "plan_title": VarKind.TEXT, "price": VarKind.TEXT, "grace_until": VarKind.TEXT,
     "link": VarKind.URL},
    {"client_name": "Priya Sharma", "plan_title": "Monthly guidance", "price": "₹1,499.00",
     "grace_until": "Sat 12 Dec 2026, 18:30 IST", "link": "https://rzp.io/i/abc123"},
    (Channel.EMAIL, Channel.IN_APP)))
register_event(EventSpec(
    "membership.ended", "The client's membership ended (cancelled, or its renewal was never paid).",
    {"client_name": VarKind.TEXT, "plan_title": VarKind.TEXT, "ended": VarKind.TEXT, "reason": VarKind.TEXT,
     "link": VarKind.URL},
    {"client_name": "Priya Sharma", "plan_title": "Monthly guidance", "ended": "Sat 12 Dec 2026, 18:30 IST",
     "reason": "cancelled by you", "link": "https://app.muhurta.app/api/v1/membership-plans"},
    (Channel.EMAIL, Channel.IN_APP)))


# -- quotations: `quotation.<event>.<audience>`, sent by activity quotations.notify ------------------------------
_QUOTATION_VARS: dict[str, VarKind] = {
    "client_name": VarKind.TEXT, "consultant_name": VarKind.TEXT, "number": VarKind.TEXT, "title": VarKind.TEXT,
    "version": VarKind.NUMBER, "total": VarKind.TEXT, "valid_until": VarKind.TEXT, "link": VarKind.URL,
    "pay_link": VarKind.TEXT, "dashboard_url": VarKind.URL, "reason": VarKind.TEXT, "days": VarKind.TEXT,
    "views": VarKind.NUMBER,
}
_QUOTATION_SAMPLE: dict[str, Any] = {
    "client_name": "Priya Sharma", "consultant_name": "Acharya Demo", "number": "Q-0007",
    "title": "A year of guidance", "version": 2, "total": "₹59,000.00",
    "valid_until": "Sat 19 Dec 2026, 18:30 IST (Asia/Kolkata)",
    "link": "https://app.muhurta.app/api/v1/quotation-links/abc",
    "pay_link": "https://app.muhurta.app/api/v1/quotation-links/abc/checkout",
    "dashboard_url": "https://app.muhurta.app/api/v1/quotations/1", "reason": "the budget changed", "days": "3",
    "views": 2,
}
# (event, audience, description, urgent, mandatory)
_QUOTATION_EVENTS = [
    ("received", "client", "A quotation was sent: the link to view, accept or reject it; the PDF attached.",
     False, True),
    ("revised", "client", "A new version of a quotation supersedes the last: the link shows it; the PDF attached.",
     False, True),
    ("viewed", "consultant", "The client opened the quotation for the first time.", False, False),
    ("reminder", "client", "The quotation expires in a few days (the consultancy's reminder days).", False, False),
    ("extended", "client", "The quotation is valid for longer now.", False, True),
    ("accepted", "client", "The client accepted: the order to pay and where to pay it.", True, True),
    ("accepted", "consultant", "The client accepted the quotation; an order awaits payment.", True, True),
    ("rejected", "consultant", "The client declined the quotation, with their reason.", True, True),
    ("withdrawn", "client", "The consultancy withdrew the quotation.", True, True),
    ("expired", "client", "The quotation expired unaccepted.", False, True),
    ("expired", "consultant", "The quotation expired unaccepted.", False, True),
    ("payment_reminder", "client", "An accepted quotation's order is still unpaid; the window closes soon.",
     False, True),
    ("paid", "consultant", "The accepted quotation's order was paid.", True, True),
    ("lapsed", "client", "The accepted quotation was not paid in time; its order is closed.", False, True),
    ("lapsed", "consultant", "The accepted quotation was not paid in time.", False, True),
]
for _event, _audience, _description, _urgent, _mandatory in _QUOTATION_EVENTS:
    _to_client = _audience == "client" and _event in ("received", "revised", "reminder")
    register_event(EventSpec(
        f"quotation.{_event}.{_audience}", _description, _QUOTATION_VARS, _QUOTATION_SAMPLE,
        # The offer and its reminders go by WhatsApp too (SMS wording where there is no WhatsApp
        # text), to a client with a phone number who has not turned that channel off.
        (Channel.EMAIL, Channel.WHATSAPP, Channel.IN_APP) if _to_client else (Channel.EMAIL, Channel.IN_APP),
        urgent=_urgent, mandatory=_mandatory, audience=_audience))


# -- remedies (the Remedy workflow's messages; activities/remedies/messages.py sends them) ----------------
_REMEDY_VARS: dict[str, VarKind] = {
    "client_name": VarKind.TEXT, "remedy_title": VarKind.TEXT, "instructions": VarKind.TEXT,
    "occurrence_at": VarKind.TEXT, "check_in_url": VarKind.TEXT, "programme_url": VarKind.URL,
    "done": VarKind.NUMBER, "counted": VarKind.NUMBER, "missed": VarKind.NUMBER, "best_streak": VarKind.NUMBER,
    "schedule": VarKind.TEXT, "reason": VarKind.TEXT,
}
_REMEDY_SAMPLE: dict[str, Any] = {
    "client_name": "Priya Sharma", "remedy_title": "Shani mantra, 108 times",
    "instructions": "Chant Om Sham Shanaishcharaya Namah 108 times facing west.",
    "occurrence_at": "Sat 12 Dec 2026, 06:30 IST",
    "check_in_url": "https://app.muhurta.app/api/v1/remedy-links/abc",
    "programme_url": "https://app.muhurta.app/api/v1/remedy-programmes/1", "done": 12, "counted": 14,
    "missed": 3, "best_streak": 9, "schedule": "every day at 06:30 (Asia/Kolkata), 40 days", "reason": "travelling",
}
for _name, _description, _channels, _audience in [
    ("remedy.assigned", "A remedy programme was assigned: what to do and when.", (Channel.EMAIL, Channel.IN_APP),
     "client"),
    ("remedy.reminder", "An occurrence is due: what to do, with a signed link to check in.",
     (Channel.IN_APP, Channel.EMAIL, Channel.WHATSAPP, Channel.SMS), "client"),
    ("remedy.nudge", "Several occurrences in a row were missed: a nudge back to the programme.",
     (Channel.EMAIL, Channel.IN_APP), "client"),
    ("remedy.missed", "The consultant: a client missed several occurrences in a row (once per programme).",
     (Channel.EMAIL, Channel.IN_APP), "consultant"),
    ("remedy.completed", "The programme is over: the client's summary.", (Channel.EMAIL, Channel.IN_APP), "client"),
    ("remedy.completed_consultant", "The programme is over: the consultant's summary.",
     (Channel.EMAIL, Channel.IN_APP), "consultant"),
    ("remedy.feedback", "After the programme: how did it go?", (Channel.EMAIL, Channel.IN_APP), "client"),
    ("remedy.stopped", "The consultant: a programme was stopped before its end.", (Channel.EMAIL, Channel.IN_APP),
     "consultant"),
]:
    register_event(EventSpec(_name, _description, _REMEDY_VARS, _REMEDY_SAMPLE, _channels, audience=_audience))


class UnknownEvent(LookupError):
    pass


def event_spec(name: str) -> EventSpec:
    try:
        return EVENTS[name]
    except KeyError as exc:
        raise UnknownEvent(f"no notification event is called '{name}'") from exc


def coerce_variables(spec: EventSpec, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's values with instants turned into aware datetimes (JSON carries them as text).

    Raises ValueError naming the variable when an instant is not one. Missing variables are not
    checked here: the templates say what they need and rendering them strictly finds any gap.
    """
    values = dict(variables)
    for name, kind in spec.variables.items():
        if kind != VarKind.INSTANT or name not in values:
            continue
        value = values[name]
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"'{name}' must be an ISO 8601 instant, got {value!r}") from exc
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"'{name}' must be an instant with a time zone (UTC offset)")
        values[name] = value
    return values


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
