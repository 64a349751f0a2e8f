"""The channels a message goes by, and the order of the delivery statuses providers report.

Its own module because everything about notifications names a channel: the events' catalogue
(`domain.notification_events`), the contract and rules (`domain.notifications`), the templates.
"""

from __future__ import annotations

import enum


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
