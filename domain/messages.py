"""The words of the messages the spine sends, rendered strictly (a missing value is an error).

The notifications capability replaces these with per-tenant, per-locale templates; the event
names and their variables stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain-text bodies


@dataclass(frozen=True)
class MessageTemplate:
    event: str
    subject: str
    body: str


TEMPLATES: dict[str, MessageTemplate] = {
    t.event: t
    for t in [
        MessageTemplate(
            "verify_email",
            "Confirm your email for {{ tenant_name }}",
            "Hello {{ full_name }},\n\nConfirm your email address by opening this link:\n"
            "{{ link }}\n\nThe link works once and expires in {{ hours }} hours.\n",
        ),
        MessageTemplate(
            "verify_email_reminder",
            "Reminder: confirm your email for {{ tenant_name }}",
            "Hello {{ full_name }},\n\nYour consultancy {{ tenant_name }} is waiting for you to "
            "confirm your email. Ask for a new link from the sign-in page if the old one expired.\n",
        ),
        MessageTemplate(
            "reset_password",
            "Reset your password",
            "Hello {{ full_name }},\n\nSomeone (hopefully you) asked to reset your password. "
            "Open this link to choose a new one:\n{{ link }}\n\nIt works once and expires in "
            "{{ minutes }} minutes. If it was not you, ignore this message.\n",
        ),
        MessageTemplate(
            "onboarding_pending_admin",
            "{{ count }} consultanc{{ 'y' if count == 1 else 'ies' }} waiting for approval",
            "The consultancy '{{ tenant_name }}' ({{ tenant_slug }}) has been waiting for approval "
            "since {{ since }}. Review it at {{ link }}.\n",
        ),
        MessageTemplate(
            "onboarding_approved",
            "{{ tenant_name }} is approved",
            "Hello {{ full_name }},\n\nGood news: {{ tenant_name }} is approved and your dashboard "
            "is open. Sign in to set up your offerings.\n",
        ),
        # -- payments ------------------------------------------------------------------------
        MessageTemplate(
            "payment_receipt",
            "Receipt {{ invoice_number }} from {{ tenant_name }}",
            "Hello {{ full_name }},\n\nThank you: we received {{ amount }} for your order "
            "{{ order_ref }}.\n\n{{ items }}\n\nYour invoice {{ invoice_number }}: {{ link }}\n",
        ),
        MessageTemplate(
            "payment_failed",
            "Your payment to {{ tenant_name }} did not go through",
            "Hello {{ full_name }},\n\nThe payment for order {{ order_ref }} failed ({{ reason }}). "
            "Nothing was charged; you can try again until {{ expires }}.\n",
        ),
        MessageTemplate(
            "order_expired",
            "Your order with {{ tenant_name }} has expired",
            "Hello {{ full_name }},\n\nOrder {{ order_ref }} was not paid in time, so what it held "
            "has been released. Book again whenever you like.\n",
        ),
        MessageTemplate(
            "payment_needs_review",
            "Payment needs review: order {{ order_ref }}",
            "A payment for order {{ order_ref }} cannot be accepted as it is: {{ reason }}. The order "
            "is not fulfilled; refund or resolve it from the dashboard.\n",
        ),
        MessageTemplate(
            "fulfilment_failed",
            "We could not complete your order with {{ tenant_name }}",
            "Hello {{ full_name }},\n\nWe are sorry: order {{ order_ref }} could not be completed "
            "({{ reason }}). {{ amount }} is being refunded to you.\n",
        ),
        MessageTemplate(
            "fulfilment_failed_staff",
            "Order {{ order_ref }} could not be fulfilled",
            "Order {{ order_ref }} was paid but could not be fulfilled: {{ reason }}. Holds were "
            "released and {{ amount }} is being refunded.\n",
        ),
        MessageTemplate(
            "fulfilment_awaiting_handler",
            "Order {{ order_ref }} needs manual fulfilment",
            "Order {{ order_ref }} is paid. These items have no automatic fulfilment yet: {{ kinds }}. "
            "Please deliver them and mark them done.\n",
        ),
        MessageTemplate(
            "late_payment_refunded",
            "Your late payment to {{ tenant_name }} is being refunded",
            "Hello {{ full_name }},\n\nYour payment for order {{ order_ref }} arrived after the order "
            "had {{ status }}. {{ amount }} is being refunded to you in full.\n",
        ),
        MessageTemplate(
            "refund_processed",
            "Refund of {{ amount }} from {{ tenant_name }}",
            "Hello {{ full_name }},\n\nA refund of {{ amount }} for order {{ order_ref }} has been "
            "processed{{ destination }}.\n",
        ),
        MessageTemplate(
            "refund_failed_staff",
            "Refund failed: order {{ order_ref }}",
            "The refund of {{ amount }} for order {{ order_ref }} failed: {{ reason }}. Refund it another "
            "way or try again.\n",
        ),
        MessageTemplate(
            "onboarding_rejected",
            "About your application for {{ tenant_name }}",
            "Hello {{ full_name }},\n\nWe could not approve {{ tenant_name }}: {{ reason }}\n\n"
            "Reply to this message if you would like to discuss it.\n",
        ),
    ]
}


@dataclass(frozen=True)
class RenderedMessage:
    event: str
    subject: str
    body: str


def render_message(event: str, variables: dict[str, Any]) -> RenderedMessage:
    template = TEMPLATES[event]
    return RenderedMessage(
        event=event,
        subject=_env.from_string(template.subject).render(variables).strip(),
        body=_env.from_string(template.body).render(variables),
    )
