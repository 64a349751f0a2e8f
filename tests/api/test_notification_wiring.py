"""Messages that used to write the outbox themselves now go through the notifications capability:
the reader's language, the consultancy's own wording, preferences and the delivery log apply."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from support import active_consultancy, link_token, register_client, sent_message

from core.db import TenantScope, scoped_session
from models.identity import User
from models.notifications import NotificationDelivery


async def _deliveries(sessionmaker, event: str, recipient: str) -> list[NotificationDelivery]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(NotificationDelivery).where(
            NotificationDelivery.event == event, NotificationDelivery.recipient == recipient))).scalars())


async def test_a_password_reset_reaches_a_hindi_client_despite_opt_out_and_quiet_hours(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    reader = await register_client(client, owner.tenant_slug)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        user = await session.get(User, UUID(reader.user_id))
        assert user is not None
        user.locale = "hi-IN"
    quiet = await client.patch("/api/v1/me/notification-preferences", headers=reader.headers(), json={
        "email": False, "announcements": False, "quiet_hours": {"start": "00:00", "end": "23:59"}})
    assert quiet.status_code == 200, quiet.text

    asked = await client.post("/api/v1/auth/password/forgot", headers={"X-Tenant": owner.tenant_slug},
                              json={"email": reader.email})
    assert asked.status_code == 202
    message = await sent_message(sessionmaker, reader.email, "reset_password")
    assert message.subject == "अपना पासवर्ड बदलें"
    assert "नया पासवर्ड चुनने के लिए यह लिंक खोलें" in message.body and message.data["link"] in message.body
    assert message.data["locale"] == "hi"
    [delivery] = await _deliveries(sessionmaker, "reset_password", reader.email)
    assert (delivery.channel, delivery.status, delivery.locale) == ("email", "sent", "hi")

    done = await client.post("/api/v1/auth/password/reset",
                             json={"token": link_token(message), "new_password": "brand-new-passphrase"})
    assert done.status_code == 200, done.text
