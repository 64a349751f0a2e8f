"""The real SendGrid and Twilio adapters against local HTTP servers that check the exact request."""

from __future__ import annotations

import uuid

import pytest
from fake_providers import Reply, fake_provider, sendgrid_error, twilio_error

from activities.notification_providers import (
    OutgoingMessage,
    PermanentProviderError,
    SendGridEmail,
    TransientProviderError,
    TwilioMessages,
)
from domain.notification_channels import Channel

SID = "AC" + "1" * 32
TOKEN = "f" * 32


SUBJECT = "Reminder: Kundli reading at 18:30 IST"


def _message(channel: Channel, to: str, subject: str | None = SUBJECT) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id=uuid.uuid4(), dedupe_key="consultation-42:reminder-24h:" + channel.value,
        tenant_id=uuid.uuid4(), user_id=uuid.uuid4(), channel=channel, event="session_reminder", locale="en",
        to=to, subject=subject, body="Your session starts at 18:30 IST.")


def _sendgrid(url: str, timeout: float = 5.0) -> SendGridEmail:
    return SendGridEmail(api_key="SG.test-key", from_email="hello@jyotish.example.com", from_name="Jyotish Demo",
                         reply_to="desk@jyotish.example.com", host=url, timeout=timeout, account="tenant")


def _twilio(url: str, timeout: float = 5.0) -> TwilioMessages:
    return TwilioMessages(account_sid=SID, auth_token=TOKEN, sms_from="+15005550006", whatsapp_from="+14155238886",
                          base_url=url, status_callback="https://app.muhurta.test/api/v1/webhooks/twilio/status",
                          timeout=timeout, account="platform")


async def test_sendgrid_sends_the_request_sendgrid_expects():
    with fake_provider("sendgrid") as server:
        message = _message(Channel.EMAIL, "priya@example.com")
        receipt = await _sendgrid(server.url).send(message)
    [request] = server.requests
    assert request.method == "POST" and request.path == "/v3/mail/send"
    assert request.headers["authorization"] == "Bearer SG.test-key"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body["personalizations"] == [{"to": [{"email": "priya@example.com"}]}]
    assert body["from"] == {"email": "hello@jyotish.example.com", "name": "Jyotish Demo"}
    assert body["reply_to"] == {"email": "desk@jyotish.example.com"}
    assert body["subject"] == "Reminder: Kundli reading at 18:30 IST"
    assert body["content"] == [{"type": "text/plain", "value": "Your session starts at 18:30 IST."}]
    # echoed by SendGrid in every Event Webhook event: how callbacks find the delivery
    assert body["custom_args"] == {"delivery_id": str(message.delivery_id), "dedupe_key": message.dedupe_key,
                                   "tenant_id": str(message.tenant_id)}
    assert receipt.provider_message_id.startswith("sg-")


@pytest.mark.parametrize(("reply", "transient", "retry_after"), [
    (sendgrid_error(500, "internal error"), True, None),
    (sendgrid_error(503, "unavailable"), True, None),
    (sendgrid_error(429, "too many requests", {"Retry-After": "17"}), True, 17.0),
    (sendgrid_error(400, "The to email does not contain a valid address."), False, None),
    (sendgrid_error(403, "The from address does not match a verified Sender Identity."), False, None),
])
async def test_sendgrid_errors_are_classified(reply, transient, retry_after):
    with fake_provider("sendgrid") as server:
        server.fail_next(reply)
        with pytest.raises(TransientProviderError if transient else PermanentProviderError) as caught:
            await _sendgrid(server.url).send(_message(Channel.EMAIL, "priya@example.com"))
    assert caught.value.code == str(reply.status)
    assert reply.body["errors"][0]["message"] in str(caught.value)
    if transient:
        assert caught.value.retry_after == retry_after
        assert not caught.value.ambiguous


async def test_sendgrid_timeout_is_transient_and_ambiguous():
    with fake_provider("sendgrid") as server:
        server.fail_next(Reply(202, None, {"X-Message-Id": "late"}, delay=1.0))
        with pytest.raises(TransientProviderError) as caught:
            await _sendgrid(server.url, timeout=0.2).send(_message(Channel.EMAIL, "priya@example.com"))
    # The server did get the request: it may have sent the email. Recorded as uncertain upstream.
    assert caught.value.ambiguous and caught.value.code == "timeout"


async def test_sendgrid_unreachable_is_transient():
    with fake_provider("sendgrid") as server:
        url = server.url
    with pytest.raises(TransientProviderError) as caught:
        await _sendgrid(url).send(_message(Channel.EMAIL, "priya@example.com"))
    assert caught.value.code == "network"


async def test_twilio_sms_sends_the_request_twilio_expects():
    with fake_provider("twilio") as server:
        receipt = await _twilio(server.url).send(_message(Channel.SMS, "+919876543210", subject=None))
    [request] = server.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.basic_auth() == (SID, TOKEN)
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.form() == {
        "To": ["+919876543210"], "From": ["+15005550006"], "Body": ["Your session starts at 18:30 IST."],
        "StatusCallback": ["https://app.muhurta.test/api/v1/webhooks/twilio/status"],
    }
    assert receipt.provider_message_id.startswith("SM")


async def test_twilio_whatsapp_uses_whatsapp_addresses():
    with fake_provider("twilio") as server:
        await _twilio(server.url).send(_message(Channel.WHATSAPP, "+919876543210", subject=None))
    [request] = server.requests
    form = request.form()
    assert form["To"] == ["whatsapp:+919876543210"] and form["From"] == ["whatsapp:+14155238886"]


@pytest.mark.parametrize(("reply", "transient"), [
    (twilio_error(400, 21211, "The 'To' number +91123 is not a valid phone number."), False),
    (twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), False),
    (twilio_error(429, 20429, "Too Many Requests"), True),
    (twilio_error(500, 20500, "Internal Server Error"), True),
    (twilio_error(503, 20003, "Service unavailable"), True),
])
async def test_twilio_errors_are_classified(reply, transient):
    with fake_provider("twilio") as server:
        server.fail_next(reply)
        with pytest.raises(TransientProviderError if transient else PermanentProviderError) as caught:
            await _twilio(server.url).send(_message(Channel.SMS, "+919876543210", subject=None))
    assert caught.value.code == str(reply.body["code"])
    assert reply.body["message"] in str(caught.value)


async def test_twilio_timeout_is_transient_and_ambiguous():
    with fake_provider("twilio") as server:
        server.fail_next(Reply(201, {"sid": "SMlate"}, delay=1.0))
        with pytest.raises(TransientProviderError) as caught:
            await _twilio(server.url, timeout=0.2).send(_message(Channel.SMS, "+919876543210", subject=None))
    assert caught.value.ambiguous


async def test_twilio_without_a_whatsapp_sender_refuses_whatsapp():
    provider = TwilioMessages(account_sid=SID, auth_token=TOKEN, sms_from="+15005550006", whatsapp_from=None,
                              base_url="http://127.0.0.1:9", status_callback=None, timeout=1, account="tenant")
    with pytest.raises(PermanentProviderError):
        await provider.send(_message(Channel.WHATSAPP, "+919876543210", subject=None))
