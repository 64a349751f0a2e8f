"""The catalogue of notification events: each event's variables, sample values, default channels
and how it may be sent (urgent, mandatory, marketing, broadcast), registered by capability.

`domain.notifications` holds the contract that uses it (`NotificationRequest`) and the rules of
channel choice and quiet hours; the built-in texts are in `domain.notification_templates`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.notification_channels import Channel


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
