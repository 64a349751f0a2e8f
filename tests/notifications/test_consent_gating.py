"""Consents gate sends (the `notifications.send` activity on the real database): marketing (a
broadcast's announcement, a follow-up nudge) only to a client whose latest marketing decision is
yes; WhatsApp only with WhatsApp consent, the message going by SMS instead; service messages
(a booking's email) whatever the client decided about marketing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notify_support import consent, outbox, set_preferences
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from domain.notification_channels import Channel, DeliveryStatus
from domain.notifications import NotificationOutcome, NotificationRequest

SESSION = {"counterpart_name": "Acharya Demo", "service_name": "Kundli reading",
           "starts_at": datetime(2026, 11, 28, 13, 0, tzinfo=UTC).isoformat(), "duration_minutes": 60,
           "join_url": "https://meet.example.com/abc"}
SOON = {**SESSION, "minutes": 10}
NEWS = {"title": "Diwali hours", "message": "Closed on 1 November."}


@pytest.fixture
def local(sessionmaker, settings, keys) -> NotificationActivities:
    return NotificationActivities(sessionmaker, settings, keys)


async def _send(local, people, key: str, event: str, variables: dict, **extra) -> NotificationOutcome:
    request = NotificationRequest(dedupe_key=key, tenant_id=people.tenant_id, recipient_user_id=people.client_id,
                                  event=event, variables=variables, **extra)
    result: NotificationOutcome = await ActivityEnvironment().run(local.send, request)
    return result


def _skipped(outcome: NotificationOutcome) -> dict[Channel, str]:
    return {c.channel: c.skipped for c in outcome.channels if c.skipped}


async def test_marketing_needs_the_latest_marketing_consent_and_service_mail_does_not(local, people, sessionmaker):
    never_asked = await _send(local, people, "b-1", "announcement", NEWS)
    assert never_asked.sent_on == [] and set(_skipped(never_asked).values()) == {"no marketing consent"}
    booked = await _send(local, people, "c-1:booked", "session_booked", SESSION)
    assert booked.sent_on == [Channel.EMAIL, Channel.IN_APP]  # transactional: unaffected

    await consent(sessionmaker, people.tenant_id, people.client_id, "marketing")
    agreed = await _send(local, people, "b-2", "announcement", NEWS)
    assert agreed.sent_on == [Channel.EMAIL, Channel.IN_APP]
    await consent(sessionmaker, people.tenant_id, people.client_id, "marketing", granted=False)  # withdrawn
    withdrawn = await _send(local, people, "b-3", "announcement", NEWS)
    assert withdrawn.sent_on == [] and set(_skipped(withdrawn).values()) == {"no marketing consent"}
    follow_up = await _send(local, people, "c-1:follow-up", "consultation.follow_up.client", {})
    assert follow_up.sent_on == []  # a nudge is marketing too
    assert [m.template for m in await outbox(sessionmaker)] == ["session_booked", "announcement"]


async def test_whatsapp_needs_whatsapp_consent_and_falls_back_to_sms(local, people, sessionmaker):
    await set_preferences(sessionmaker, people.tenant_id, people.client_id, whatsapp=True)  # the switch alone
    without = await _send(local, people, "c-2:starting", "session_starting_soon", SOON,
                        channels=[Channel.WHATSAPP])
    assert _skipped(without) == {Channel.WHATSAPP: "no WhatsApp consent: sent by sms instead"}
    assert without.sent_on == [Channel.SMS]

    await consent(sessionmaker, people.tenant_id, people.client_id, "whatsapp")
    agreed = await _send(local, people, "c-3:starting", "session_starting_soon", SOON,
                        channels=[Channel.WHATSAPP])
    assert [(c.channel, c.status) for c in agreed.channels] == [(Channel.WHATSAPP, DeliveryStatus.SENT)]
    sent = [(m.channel, m.recipient) for m in await outbox(sessionmaker)]
    assert sent == [("sms", "+919876543210"), ("whatsapp", "+919876543210")]
