"""The words of every consultation message, one small module so the notifications capability
can take them over (per-tenant, per-locale templates); event names and variables stay.

Keys are `<event>.<audience>`; rendering is strict (a missing variable is an error).
Variables: client_name, consultant_name, offering_title, when (on the recipient's clock),
meeting_url, manage_url, reason, refund, offset, feedback_url, dashboard_url.
"""

from __future__ import annotations

from jinja2 import Environment, StrictUndefined

from domain.messages import MessageTemplate, RenderedMessage

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain text

_T = MessageTemplate

TEMPLATES: dict[str, MessageTemplate] = {t.event: t for t in [
    _T("consultation.held.client",
       "Complete your payment to confirm {{ offering_title }}",
       "Hello {{ client_name }},\n\nWe are holding {{ when }} with {{ consultant_name }} for you until "
       "{{ hold_until }}. Complete the payment to confirm it; otherwise the time is released.\n\n"
       "Manage your booking: {{ manage_url }}\n"),
    _T("consultation.confirmed.client",
       "Confirmed: {{ offering_title }} on {{ when }}",
       "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} is confirmed for "
       "{{ when }}.\nJoin here: {{ meeting_url }}\n\nReschedule or cancel: {{ manage_url }}\n"
       "The invitation is attached; add it to your calendar.\n"),
    _T("consultation.confirmed.consultant",
       "New booking: {{ offering_title }} on {{ when }}",
       "{{ client_name }} booked {{ offering_title }} for {{ when }}.\nMeeting link: {{ meeting_url }}\n"
       "Details: {{ dashboard_url }}\n"),
    _T("consultation.reminder.client",
       "Reminder: {{ offering_title }} {{ offset }}",
       "Hello {{ client_name }},\n\nA reminder: your {{ offering_title }} with {{ consultant_name }} is "
       "{{ offset }}, at {{ when }}.\nJoin here: {{ meeting_url }}\n\nReschedule or cancel: {{ manage_url }}\n"),
    _T("consultation.reminder.consultant",
       "Reminder: {{ offering_title }} with {{ client_name }} {{ offset }}",
       "Your {{ offering_title }} with {{ client_name }} is {{ offset }}, at {{ when }}.\n"
       "Meeting link: {{ meeting_url }}\n"),
    _T("consultation.rescheduled.client",
       "Moved: {{ offering_title }} is now on {{ when }}",
       "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} now takes place on "
       "{{ when }}.\nJoin here: {{ meeting_url }}\n\nManage your booking: {{ manage_url }}\n"
       "The updated invitation is attached.\n"),
    _T("consultation.rescheduled.consultant",
       "Moved: {{ offering_title }} with {{ client_name }} is now on {{ when }}",
       "{{ offering_title }} with {{ client_name }} was moved to {{ when }}.\nDetails: {{ dashboard_url }}\n"),
    _T("consultation.cancelled.client",
       "Cancelled: {{ offering_title }} on {{ when }}",
       "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} on {{ when }} is "
       "cancelled.{% if reason %}\nReason: {{ reason }}{% endif %}\n{{ refund }}\n"),
    _T("consultation.cancelled.consultant",
       "Cancelled: {{ offering_title }} with {{ client_name }} on {{ when }}",
       "{{ offering_title }} with {{ client_name }} on {{ when }} is cancelled."
       "{% if reason %}\nReason: {{ reason }}{% endif %}\n{{ refund }}\n"),
    _T("consultation.hold_expired.client",
       "Your hold on {{ when }} has expired",
       "Hello {{ client_name }},\n\nThe payment for {{ offering_title }} on {{ when }} did not arrive in time, "
       "so the time was released. You are welcome to book again.\n"),
    _T("consultation.outcome_needed.consultant",
       "How did {{ offering_title }} with {{ client_name }} go?",
       "{{ offering_title }} with {{ client_name }} ended at {{ when }}. Mark it completed (with a summary) or "
       "as a no-show: {{ dashboard_url }}\n"),
    _T("consultation.no_show.client",
       "We missed you at {{ offering_title }}",
       "Hello {{ client_name }},\n\n{{ consultant_name }} waited for you at {{ when }}. If you would like "
       "another time, book again whenever suits you.\n"),
    _T("consultation.feedback.client",
       "How was your {{ offering_title }}?",
       "Hello {{ client_name }},\n\nThank you for your session with {{ consultant_name }}. "
       "Tell us how it went (it takes a minute): {{ feedback_url }}\n"),
    _T("consultation.follow_up.client",
       "Time for a follow-up with {{ consultant_name }}?",
       "Hello {{ client_name }},\n\nIt has been a while since your {{ offering_title }} with "
       "{{ consultant_name }}. If you would like to talk again, book a time here: {{ booking_page_url }}\n"),
]}


def template_key(event: str, audience: str) -> str:
    return f"consultation.{event}.{audience}"


def has_template(event: str, audience: str) -> bool:
    return template_key(event, audience) in TEMPLATES


def render(event: str, audience: str, variables: dict[str, str]) -> RenderedMessage:
    template = TEMPLATES[template_key(event, audience)]
    return RenderedMessage(
        event=template.event,
        subject=_env.from_string(template.subject).render(variables).strip(),
        body=_env.from_string(template.body).render(variables),
    )
