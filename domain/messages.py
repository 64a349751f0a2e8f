"""The spine's account and onboarding messages, rendered strictly (a missing value is an error).

The texts live with every other notification in `domain.notification_templates` (English and
Hindi); this module keeps the spine's small API: the English email of an event. Events not yet
in that catalogue (the payments capability's) are plain English templates here, rendered just as
strictly, until they move there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined

from domain.notification_templates import BUILTIN, render_template
from domain.notifications import Channel

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain-text bodies


@dataclass(frozen=True)
class MessageTemplate:
    event: str
    subject: str
    body: str


_NOT_YET_CATALOGUED: dict[str, MessageTemplate] = {
    t.event: t
    for t in [
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
    ]
}


@dataclass(frozen=True)
class RenderedMessage:
    event: str
    subject: str
    body: str


def render_message(event: str, variables: dict[str, Any], locale: str = "en") -> RenderedMessage:
    plain = _NOT_YET_CATALOGUED.get(event)
    if plain is not None:
        return RenderedMessage(event=event, subject=_env.from_string(plain.subject).render(variables).strip(),
                               body=_env.from_string(plain.body).render(variables))
    template = BUILTIN.get((event, Channel.EMAIL, locale)) or BUILTIN[(event, Channel.EMAIL, "en")]
    rendered = render_template(template, variables, timezone="UTC", locale=locale)
    return RenderedMessage(event=event, subject=rendered.subject or "", body=rendered.body)
