"""The providers down. A consultancy's own SendGrid or Twilio account unreachable, refusing its key (401) or failing
(5xx): every attempt is bounded, the message is kept and retried, the delivery log has the
provider's words, the owner is told once in-app, repeated failures stop hammering the provider
(the circuit opens), and another consultancy's messages go on as if nothing happened. Razorpay
unreachable, refusing the key or failing: a bounded call and an error that says which."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fake_providers import Reply, fake_provider, sendgrid_error, twilio_error
from notify_support import deliveries, make_people, own_provider_accounts
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from activities.payments.razorpay_gateway import GatewayRefused, GatewayUnavailable, RazorpayGateway
from activities.provider_health import THRESHOLD
from core.db import TenantScope, scoped_session
from core.razorpay import GatewayCredentials
from domain.notification_channels import Channel
from domain.notifications import PROVIDER_UNAVAILABLE, NotificationRequest
from models.notifications import InAppNotification

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens there: connection refused
SESSION = {"counterpart_name": "Acharya Demo", "service_name": "Kundli reading",
           "starts_at": "2026-11-28T13:00:00+00:00", "duration_minutes": 60, "join_url": "https://meet.example.com/abc"}


def _message(people, n: int, channel: Channel) -> NotificationRequest:
    return NotificationRequest(
        dedupe_key=f"outage-{n}", tenant_id=people.tenant_id, recipient_user_id=people.client_id,
        event="session_reminder", channels=[channel], respect_quiet_hours=False, variables=SESSION)


async def _owner_alerts(sessionmaker, people) -> list[InAppNotification]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(InAppNotification).where(
            InAppNotification.user_id == people.consultant_id))).scalars())


FAILURES = {
    "unreachable": None,
    "401-sendgrid": sendgrid_error(401, "The provided authorization grant is invalid, expired, or revoked"),
    "503-sendgrid": sendgrid_error(503, "Service Unavailable"),
    "401-twilio": twilio_error(401, 20003, "Authenticate"),
    "503-twilio": twilio_error(503, 20500, "Internal Server Error"),
}


@pytest.mark.parametrize(("channel", "failure", "words"), [
    (Channel.EMAIL, "unreachable", "SendGrid unreachable"),
    (Channel.EMAIL, "401-sendgrid", "HTTP 401: The provided authorization grant is invalid"),
    (Channel.EMAIL, "503-sendgrid", "HTTP 503: Service Unavailable"),
    (Channel.SMS, "unreachable", "Twilio unreachable"),
    (Channel.SMS, "401-twilio", "HTTP 401: Unable to create record: Authenticate"),
    (Channel.SMS, "503-twilio", "HTTP 503: Unable to create record: Internal Server Error"),
])
async def test_a_tenants_failing_provider_is_kept_logged_told_once_and_isolated(
        channel, failure, words, sessionmaker, settings, keys, clean):
    people = await make_people(sessionmaker)
    others = await make_people(sessionmaker)  # a second consultancy, on the platform's (local) accounts
    await own_provider_accounts(sessionmaker, keys, people.tenant_id)
    with fake_provider("sendgrid") as sendgrid, fake_provider("twilio") as twilio:
        reply = FAILURES[failure]
        fake = sendgrid if channel == Channel.EMAIL else twilio
        if reply is not None:
            fake.fail_next(*[reply] * (THRESHOLD + 2))
        url = UNREACHABLE if reply is None else fake.url
        activities = NotificationActivities(sessionmaker, settings.model_copy(update={
            "sendgrid_api_host": url if channel == Channel.EMAIL else sendgrid.url,
            "twilio_api_base_url": url if channel != Channel.EMAIL else twilio.url,
            "notify_http_timeout_seconds": 2.0}), keys)

        for n in range(THRESHOLD + 1):  # four different messages, each one attempt
            with pytest.raises(ApplicationError) as caught:
                await ActivityEnvironment().run(activities.send, _message(people, n, channel))
            assert caught.value.type == PROVIDER_UNAVAILABLE and not caught.value.non_retryable  # kept, retried
        # The circuit opened after THRESHOLD failures: the last attempt never reached the provider.
        assert len(fake.requests) == (0 if reply is None else THRESHOLD)
        rows = await deliveries(sessionmaker, tenant_id=people.tenant_id, channel=channel.value)
        assert len(rows) == THRESHOLD + 1 and all(r.status == "queued" for r in rows)
        assert all(words in (r.error or "") for r in rows[:THRESHOLD]), [r.error for r in rows]
        # ...nor was tried at all (an open circuit refuses before the attempt is claimed), also when
        # the provider is unreachable and so never saw a request to count.
        assert sorted(r.attempts for r in rows) == [0] + [1] * THRESHOLD, [(r.attempts, r.error) for r in rows]

        alerts = await _owner_alerts(sessionmaker, people)
        assert len(alerts) == 1, alerts  # told once, however often it failed
        assert words.split(":")[0] in alerts[0].body and "notification-settings" in alerts[0].body

        # Another consultancy's message leaves at once.
        other = await ActivityEnvironment().run(activities.send, NotificationRequest(
            dedupe_key="other-1", tenant_id=others.tenant_id, recipient_user_id=others.client_id,
            event="session_reminder", channels=[channel], respect_quiet_hours=False, variables=SESSION))
        assert [c.status.value for c in other.channels] in (["sent"], ["delivered"]), other


async def test_a_message_kept_through_a_refused_key_leaves_once_the_provider_accepts(
        sessionmaker, settings, keys, clean):
    people = await make_people(sessionmaker)
    await own_provider_accounts(sessionmaker, keys, people.tenant_id)
    with fake_provider("sendgrid") as sendgrid:
        sendgrid.fail_next(sendgrid_error(401, "bad key"), Reply(202, None, {"X-Message-Id": "sg-ok"}))
        activities = NotificationActivities(sessionmaker, settings.model_copy(update={
            "sendgrid_api_host": sendgrid.url, "notify_http_timeout_seconds": 2.0}), keys)
        with pytest.raises(ApplicationError):
            await ActivityEnvironment().run(activities.send, _message(people, 1, Channel.EMAIL))
        sent = await ActivityEnvironment().run(activities.send, _message(people, 1, Channel.EMAIL))
        assert [c.status.value for c in sent.channels] == ["sent"]
        [row] = await deliveries(sessionmaker, tenant_id=people.tenant_id, channel="email")
        assert row.status == "sent" and row.attempts == 2 and row.error is None


# -- the payment gateway ----------------------------------------------------------------------------
class _Razorpay(BaseHTTPRequestHandler):
    """Answers every request with the status the test set, as Razorpay words its errors."""

    status = 503

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        code = "BAD_REQUEST_ERROR" if self.status < 500 else "SERVER_ERROR"
        payload = json.dumps({"error": {"code": code, "description": "Authentication failed" if self.status == 401
                                        else "The server encountered an error"}}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer


@pytest.mark.parametrize(("case", "error"), [
    ("unreachable", GatewayUnavailable), (401, GatewayRefused), (503, GatewayUnavailable)])
async def test_the_payment_gateway_unreachable_refusing_or_failing_is_a_clear_bounded_error(case, error):
    server = None
    url = UNREACHABLE
    if case != "unreachable":
        handler = type("Answer", (_Razorpay,), {"status": case})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        gateway = RazorpayGateway(GatewayCredentials(key_id="rzp_test_outage", key_secret="secret",
                                                     webhook_secret="w", base_url=url, account="tenant"))
        with pytest.raises(error) as caught:
            await gateway.ensure_order(amount=49_900, currency="INR", receipt="outage-1", notes={})
        assert str(caught.value)  # the reason travels with the error (and into the order's log)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
