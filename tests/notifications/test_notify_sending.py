"""The `notifications.send` activity on the real database: channels, preferences, quiet hours,
templates in the reader's zone and language, and sending at most once however often it is retried."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from fake_providers import Reply, fake_provider, sendgrid_error, twilio_error
from notify_support import (
    TWILIO_SID,
    TWILIO_TOKEN,
    consent,
    deliveries,
    outbox,
    own_provider_accounts,
    quiet,
    set_preferences,
)
from sqlalchemy import delete, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from core.db import TenantScope, scoped_session
from domain.notification_channels import Channel, DeliveryStatus
from domain.notifications import NOTIFICATION_REJECTED, PROVIDER_UNAVAILABLE, NotificationOutcome, NotificationRequest
from models.notifications import InAppNotification, NotificationDelivery, NotificationTemplate

STARTS_AT = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 18:30 in India, 13:00 in London
SESSION = {"counterpart_name": "Acharya Demo", "service_name": "Kundli reading", "starts_at": STARTS_AT.isoformat(),
           "duration_minutes": 60, "join_url": "https://meet.example.com/abc"}


def _request(people, user_id=None, *, key="consultation-1:booked", event="session_booked",
             **extra) -> NotificationRequest:
    return NotificationRequest(dedupe_key=key, tenant_id=people.tenant_id,
                               recipient_user_id=user_id or people.client_id, event=event,
                               variables=extra.pop("variables", SESSION), **extra)


async def _send(activities: NotificationActivities, request: NotificationRequest) -> NotificationOutcome:
    result: NotificationOutcome = await ActivityEnvironment().run(activities.send, request)
    return result


@pytest.fixture
def local(sessionmaker, settings, keys) -> NotificationActivities:
    return NotificationActivities(sessionmaker, settings, keys)


async def test_without_credentials_email_goes_to_the_outbox_and_in_app_to_the_inbox(local, people, sessionmaker):
    outcome = await _send(local, _request(people))
    assert outcome.sent_on == [Channel.EMAIL, Channel.IN_APP] and not outcome.held
    [email] = await outbox(sessionmaker)
    assert email.recipient == "priya@example.com" and email.channel == "email"
    assert email.subject == "Booked: Kundli reading on Sat 28 Nov 2026"
    assert "Sat 28 Nov 2026, 18:30 IST" in email.body and "Hello Priya Sharma" in email.body
    async with scoped_session(sessionmaker, TenantScope.of(people.tenant_id)) as session:
        [inbox] = (await session.execute(select(InAppNotification))).scalars().all()
    assert inbox.user_id == people.client_id and inbox.title == "Session booked" and inbox.read_at is None
    rows = {r.channel: r for r in await deliveries(sessionmaker)}
    assert rows["email"].status == "sent" and rows["email"].provider == "local"
    assert rows["in_app"].status == "delivered" and rows["in_app"].provider_message_id == str(inbox.id)


async def test_a_message_is_made_ready_on_every_channel_before_any_is_sent(local, people, sessionmaker):
    """`before_sending` (what holds a remedy reminder until its instant) runs once every channel's
    row is written and rendered, and before any provider has it: only the hand-over is left."""
    seen: dict[str, object] = {}

    async def at_the_instant() -> None:
        rows = await deliveries(sessionmaker)
        seen["rows"] = sorted((r.channel, r.status, bool(r.body)) for r in rows)
        seen["sent"] = len(await outbox(sessionmaker))

    outcome = await local.notifier.deliver(_request(people), before_sending=at_the_instant)
    assert seen == {"rows": [("email", "queued", True), ("in_app", "queued", True)], "sent": 0}
    assert outcome.sent_on == [Channel.EMAIL, Channel.IN_APP] and len(await outbox(sessionmaker)) == 1
    called = []

    async def again() -> None:
        called.append(True)

    repeat = await local.notifier.deliver(_request(people), before_sending=again)   # nothing left to send
    assert called == [] and [c.already_done for c in repeat.channels] == [True, True]


async def test_a_delivery_erased_before_it_is_handed_over_is_skipped_and_stores_nothing(
        local, people, sessionmaker):
    """A recipient erased (privacy) between a message being made ready and handed over: the
    stored channels answer that nothing was sent, where the hand-over used to fail on the
    vanished row and be retried for nothing."""
    async def erase() -> None:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            await session.execute(delete(NotificationDelivery))

    outcome = await local.notifier.deliver(_request(people, key="erased:booked"), before_sending=erase)
    assert [(c.channel, c.status, c.skipped) for c in outcome.channels] == [
        (Channel.EMAIL, None, "erased before it was sent"), (Channel.IN_APP, None, "erased before it was sent")]
    assert await outbox(sessionmaker) == []
    async with scoped_session(sessionmaker, TenantScope.of(people.tenant_id)) as session:
        assert (await session.execute(select(InAppNotification))).scalars().all() == []


def _released_together(n: int) -> Callable[[], Awaitable[None]]:
    """A `before_sending` that holds each message until all `n` are ready, then lets them go at
    once (what the remedy reminders' hold does at their instant)."""
    ready, release = [0], asyncio.Event()

    async def hold() -> None:
        ready[0] += 1
        if ready[0] == n:
            release.set()
        await release.wait()

    return hold


async def test_messages_handed_over_together_are_stored_once_each_in_one_transaction_per_channel(
        local, people, sessionmaker):
    """Thirty messages released at one instant (remedy reminders held until 06:00): the inbox and
    the outbox take them in one transaction per channel, each stored once and answered with its
    own outcome; a repeat finds every one done and stores nothing."""
    at_the_instant = _released_together(30)
    requests = [_request(people, key=f"burst-{i}:booked") for i in range(30)]
    outcomes = await asyncio.gather(*(local.notifier.deliver(r, before_sending=at_the_instant) for r in requests))
    assert all(o.sent_on == [Channel.EMAIL, Channel.IN_APP] for o in outcomes)
    assert len({c.delivery_id for o in outcomes for c in o.channels}) == 60
    assert local.notifier.handovers.batches == 2          # one for the 30 emails, one for the 30 inboxes
    assert len(await outbox(sessionmaker)) == 30
    async with scoped_session(sessionmaker, TenantScope.of(people.tenant_id)) as session:
        assert len((await session.execute(select(InAppNotification))).scalars().all()) == 30
    rows = await deliveries(sessionmaker)
    assert sorted({(r.status, r.attempts) for r in rows}) == [("delivered", 1), ("sent", 1)] and len(rows) == 60

    again = await asyncio.gather(*(local.notifier.deliver(r) for r in requests))
    assert all(c.already_done for o in again for c in o.channels)
    assert len(await outbox(sessionmaker)) == 30 and local.notifier.handovers.batches == 2


async def test_a_hand_over_that_fails_fails_only_its_own_message(local, people, sessionmaker, monkeypatch):
    """A batch the database refuses is retried one message at a time: only the bad one fails
    (its activity retries it), the others are stored."""
    from activities.notification_providers import InAppInbox

    real = InAppInbox.store_many

    async def refusing(self, session, messages):  # type: ignore[no-untyped-def]
        if any(m.dedupe_key.startswith("bad") for m in messages):
            raise RuntimeError("refused by the database")
        return await real(self, session, messages)

    monkeypatch.setattr(InAppInbox, "store_many", refusing)
    together = _released_together(3)
    keys = ["ok-1:booked", "bad:booked", "ok-2:booked"]
    results = await asyncio.gather(*(local.notifier.deliver(_request(people, key=k), before_sending=together)
                                     for k in keys), return_exceptions=True)
    assert isinstance(results[1], RuntimeError)
    assert [r.sent_on for r in results if not isinstance(r, BaseException)] == [[Channel.EMAIL, Channel.IN_APP]] * 2
    rows = {(r.request_key, r.channel): r.status for r in await deliveries(sessionmaker)}
    assert rows[("bad:booked", "in_app")] == "queued" and rows[("ok-2:booked", "in_app")] == "delivered"


async def test_a_retry_or_replay_sends_nothing_twice(local, people, sessionmaker):
    first = await _send(local, _request(people))
    again = await _send(local, _request(people))
    assert [c.already_done for c in again.channels] == [True, True]
    assert [c.delivery_id for c in again.channels] == [c.delivery_id for c in first.channels]
    assert len(await outbox(sessionmaker)) == 1 and len(await deliveries(sessionmaker)) == 2


async def test_each_reader_sees_their_own_zone_and_language(local, people, sessionmaker):
    await _send(local, _request(people, people.consultant_id, key="c-1:booked-consultant",
                                variables={**SESSION, "counterpart_name": "Priya Sharma"}))
    await _send(local, _request(people, people.hindi_client_id, key="c-1:booked-hindi"))
    by_recipient = {m.recipient: m for m in await outbox(sessionmaker)}
    consultant = by_recipient["acharya@example.com"]
    assert "Sat 28 Nov 2026, 13:00 GMT" in consultant.body and "with Priya Sharma" in consultant.body
    hindi = by_recipient["ravi@example.com"]
    assert hindi.subject == "बुकिंग पक्की: Kundli reading, शनिवार, 28 नवंबर 2026"
    assert "शनिवार, 28 नवंबर 2026, 18:30 IST" in hindi.body
    [row] = await deliveries(sessionmaker, user_id=people.hindi_client_id, channel="email")
    assert row.locale == "hi"


async def test_channels_follow_opt_outs_and_addresses(local, people, sessionmaker):
    await set_preferences(sessionmaker, people.tenant_id, people.client_id, email=False, whatsapp=True)
    await consent(sessionmaker, people.tenant_id, people.client_id, "whatsapp")  # and agreed to WhatsApp
    outcome = await _send(local, _request(people, event="session_reminder", key="c-2:reminder"))
    by_channel = {c.channel: c for c in outcome.channels}
    assert by_channel[Channel.EMAIL].skipped == "opted out of email"
    assert by_channel[Channel.SMS].status == DeliveryStatus.SENT
    assert by_channel[Channel.WHATSAPP].status == DeliveryStatus.SENT  # opted in; text falls back to SMS's
    assert by_channel[Channel.IN_APP].status == DeliveryStatus.DELIVERED
    # the Hindi client has no phone number
    hindi = await _send(local, _request(people, people.hindi_client_id, event="session_reminder", key="c-2:hi"))
    assert {c.channel: c.skipped for c in hindi.channels if c.skipped} == {
        Channel.SMS: "no phone number", Channel.WHATSAPP: "opted out of whatsapp"}  # off unless opted in
    sms = [m for m in await outbox(sessionmaker) if m.channel == "sms"]
    assert sms[0].recipient == "+919876543210" and "18:30 IST" in sms[0].body


async def test_mandatory_account_mail_ignores_the_email_opt_out(local, people, sessionmaker):
    await set_preferences(sessionmaker, people.tenant_id, people.client_id, email=False)
    outcome = await _send(local, _request(people, event="reset_password", key="reset:1",
                                          variables={"full_name": "Priya", "link": "https://x/r?token=t",
                                                     "minutes": 30}))
    assert outcome.sent_on == [Channel.EMAIL]


async def test_quiet_hours_hold_a_reminder_but_not_an_urgent_message(local, people, sessionmaker):
    await set_preferences(sessionmaker, people.tenant_id, people.client_id, **quiet("22:00", "07:00"))
    at = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 23:30 in India
    held = await _send(local, _request(people, event="session_reminder", key="c-3:reminder", at=at))
    assert held.held_until == datetime(2026, 11, 28, 1, 30, tzinfo=UTC)  # 07:00 IST
    assert all(c.status is None for c in held.channels) and await deliveries(sessionmaker) == []
    later = await _send(local, _request(people, event="session_reminder", key="c-3:reminder",
                                        at=held.held_until))
    assert later.sent_on and not later.held
    urgent = await _send(local, _request(people, event="session_starting_soon", key="c-3:soon", at=at,
                                         variables={**SESSION, "minutes": 10}))
    assert urgent.sent_on == [Channel.SMS, Channel.IN_APP] and not urgent.held
    flagged = await _send(local, _request(people, event="session_reminder", key="c-3:flagged", at=at, urgent=True))
    assert not flagged.held


async def test_a_missing_variable_fails_for_good_and_is_logged(local, people, sessionmaker):
    with pytest.raises(ApplicationError) as caught:
        await _send(local, _request(people, variables={"service_name": "Kundli reading"}))
    assert caught.value.non_retryable and caught.value.type == NOTIFICATION_REJECTED
    outcome = NotificationOutcome.model_validate(caught.value.details[0])
    assert outcome.failed_on == [Channel.EMAIL, Channel.IN_APP]
    rows = await deliveries(sessionmaker)
    assert {r.status for r in rows} == {"failed"} and all("is undefined" in (r.error or "") for r in rows)
    assert await outbox(sessionmaker) == []


async def test_an_unknown_event_is_refused(local, people):
    with pytest.raises(ApplicationError) as caught:
        await _send(local, _request(people, event="no_such_event"))
    assert caught.value.non_retryable


async def test_tenant_override_in_the_readers_language_wins(local, people, sessionmaker):
    async with scoped_session(sessionmaker, TenantScope.of(people.tenant_id)) as session:
        session.add(NotificationTemplate(tenant_id=people.tenant_id, event="session_booked", channel="email",
                                         locale="en", subject="Namaste! {{ service_name }} is confirmed",
                                         body="Dear {{ recipient_name }}, see you {{ starts_at | local_datetime }}."))
    await _send(local, _request(people))
    await _send(local, _request(people, people.hindi_client_id, key="c-4:hi"))
    by_recipient = {m.recipient: m for m in await outbox(sessionmaker)}
    assert by_recipient["priya@example.com"].subject == "Namaste! Kundli reading is confirmed"
    assert by_recipient["priya@example.com"].body == "Dear Priya Sharma, see you Sat 28 Nov 2026, 18:30 IST."
    assert by_recipient["ravi@example.com"].subject.startswith("बुकिंग पक्की")  # Hindi built-in over English override
    [row] = await deliveries(sessionmaker, user_id=people.client_id, channel="email")
    assert row.template_source == "tenant"


# -- real adapters against local fakes -------------------------------------------------------------------
@pytest.fixture
def fakes():
    with fake_provider("sendgrid") as sendgrid, fake_provider("twilio") as twilio:
        yield sendgrid, twilio


@pytest.fixture
async def remote(sessionmaker, settings, keys, people, fakes) -> NotificationActivities:
    sendgrid, twilio = fakes
    await own_provider_accounts(sessionmaker, keys, people.tenant_id)
    remote_settings = settings.model_copy(update={
        "sendgrid_api_host": sendgrid.url, "twilio_api_base_url": twilio.url, "notify_http_timeout_seconds": 2.0})
    return NotificationActivities(sessionmaker, remote_settings, keys)


def _reminder(people, channels=(Channel.EMAIL, Channel.SMS), **extra) -> NotificationRequest:
    return _request(people, event="session_reminder", key="consultation-9:reminder-1h",
                    channels=list(channels), **extra)


async def test_a_retry_after_the_provider_accepted_sends_nothing_twice(remote, people, sessionmaker, fakes):
    """SendGrid accepts the email, Twilio is down: the activity fails and is retried. The retry
    sends the SMS only; SendGrid sees exactly one request."""
    sendgrid, twilio = fakes
    twilio.fail_next(twilio_error(503, 20003, "Service unavailable"))
    with pytest.raises(ApplicationError) as caught:
        await _send(remote, _reminder(people))
    assert caught.value.type == PROVIDER_UNAVAILABLE and not caught.value.non_retryable
    assert len(sendgrid.requests) == 1 and len(twilio.requests) == 1

    retried = await _send(remote, _reminder(people))
    assert {c.channel: c.already_done for c in retried.channels} == {Channel.EMAIL: True, Channel.SMS: False}
    assert len(sendgrid.requests) == 1 and len(twilio.requests) == 2
    assert await _send(remote, _reminder(people))  # and a third time: nothing at all
    assert len(sendgrid.requests) == 1 and len(twilio.requests) == 2

    rows = {r.channel: r for r in await deliveries(sessionmaker)}
    assert rows["email"].status == "sent" and rows["email"].attempts == 1 and not rows["email"].uncertain
    assert rows["email"].provider == "sendgrid" and rows["email"].provider_account == "tenant"
    assert rows["sms"].status == "sent" and rows["sms"].attempts == 2
    assert rows["sms"].provider_message_id.startswith("SM")
    assert not rows["sms"].uncertain  # a 503 is a clear 'no': not a possible duplicate
    assert sendgrid.requests[0].headers["authorization"] == "Bearer SG.tenant-key"
    assert twilio.requests[1].basic_auth() == (TWILIO_SID, TWILIO_TOKEN)
    assert await outbox(sessionmaker) == []  # real providers: nothing in the local outbox


async def test_permanent_errors_fail_fast_and_are_recorded(remote, people, sessionmaker, fakes):
    _, twilio = fakes
    twilio.fail_next(twilio_error(400, 21211, "The 'To' number +919876543210 is not a valid phone number."))
    with pytest.raises(ApplicationError) as caught:
        await _send(remote, _reminder(people))
    assert caught.value.non_retryable and caught.value.type == NOTIFICATION_REJECTED
    outcome = NotificationOutcome.model_validate(caught.value.details[0])
    assert outcome.sent_on == [Channel.EMAIL] and outcome.failed_on == [Channel.SMS]
    [sms] = await deliveries(sessionmaker, channel="sms")
    assert sms.status == "failed" and sms.error_code == "21211" and "not a valid phone number" in sms.error
    with pytest.raises(ApplicationError):  # a replay sees the same result and calls nobody
        await _send(remote, _reminder(people))
    assert len(twilio.requests) == 1


async def test_rate_limits_ask_temporal_to_wait(remote, people, fakes):
    sendgrid, _ = fakes
    sendgrid.fail_next(sendgrid_error(429, "too many requests", {"Retry-After": "30"}))
    with pytest.raises(ApplicationError) as caught:
        await _send(remote, _reminder(people, channels=[Channel.EMAIL]))
    assert caught.value.type == PROVIDER_UNAVAILABLE and caught.value.next_retry_delay.total_seconds() == 30


async def test_the_crash_window_is_visible_when_it_happens(remote, people, sessionmaker, fakes):
    """The provider got the request but the answer never arrived (timeout): the retry must send
    again (no idempotency key exists); the delivery is marked uncertain, and both requests carry
    the same delivery id, so the webhook's events point at one row."""
    sendgrid, _ = fakes
    sendgrid.fail_next(Reply(202, None, {"X-Message-Id": "first"}, delay=3.0))
    with pytest.raises(ApplicationError):
        await _send(remote, _reminder(people, channels=[Channel.EMAIL]))
    outcome = await _send(remote, _reminder(people, channels=[Channel.EMAIL]))
    assert outcome.sent_on == [Channel.EMAIL]
    [row] = await deliveries(sessionmaker)
    assert row.uncertain and row.attempts == 2
    assert len(sendgrid.requests) == 2
    assert {r.json()["custom_args"]["delivery_id"] for r in sendgrid.requests} == {str(row.id)}


async def test_two_attempts_at_once_send_once(remote, people, sessionmaker, fakes):
    """Temporal may start a retry while a slow attempt still runs: the lease lets only one send."""
    sendgrid, _ = fakes
    sendgrid.fail_next(Reply(202, None, {"X-Message-Id": "slow"}, delay=0.5))
    request = _reminder(people, channels=[Channel.EMAIL])
    results = await asyncio.gather(_send(remote, request), _send(remote, request), return_exceptions=True)
    sent = [r for r in results if isinstance(r, NotificationOutcome)]
    waited = [r for r in results if isinstance(r, ApplicationError)]
    assert len(sent) == 1 and len(waited) == 1
    assert waited[0].type == PROVIDER_UNAVAILABLE and "another attempt" in str(waited[0])
    assert len(sendgrid.requests) == 1
    after = await _send(remote, request)
    assert after.channels[0].already_done and len(sendgrid.requests) == 1


async def test_unknown_recipient_is_skipped_not_failed(local, people):
    outcome = await _send(local, _request(people, uuid.uuid4()))
    assert all(c.skipped == "the recipient no longer exists" for c in outcome.channels)


async def test_a_suspended_consultancy_sends_nothing_and_an_invitation_goes_to_an_address(local, people,
                                                                                          sessionmaker):
    from sqlalchemy import update

    from models.tenancy import Tenant, TenantStatus

    # an invitation: an address without an account, by email only
    invited = await _send(local, NotificationRequest(
        dedupe_key="invitation:1:1", tenant_id=people.tenant_id, recipient_email="new.person@example.com",
        recipient_name="New Person", event="team_invitation", channels=[Channel.EMAIL],
        variables={"inviter_name": "Owner", "tenant_name": "T", "role": "staff", "link": "https://x.example/a",
                   "expires": STARTS_AT.isoformat()}))
    assert [c.status for c in invited.channels] == [DeliveryStatus.SENT]
    [message] = await outbox(sessionmaker)
    assert message.recipient == "new.person@example.com" and "Hello New Person" in message.body
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(Tenant).where(Tenant.id == people.tenant_id)
                              .values(status=TenantStatus.SUSPENDED))
    outcome = await _send(local, _request(people, key="consultation-2:reminder"))
    assert {c.skipped for c in outcome.channels} == {"the consultancy is suspended: it sends nothing"}
    assert len(await outbox(sessionmaker)) == 1
