"""`make dev`'s demo data: outbox entries for the demo consultancy and an inbox for the demo client."""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from support import poll_until
from temporalio.service import RPCError

from core.db import TenantScope, scoped_session
from domain.notifications import BroadcastProgress, BroadcastStatus
from models.courses import Enrollment
from workers.seed import DEMO_PASSWORD, seed_demo


async def _sign_in(client, email: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", headers={"X-Tenant": "demo"},
                                 json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", "X-Tenant": "demo"}


async def test_the_demo_shows_an_outbox_an_inbox_and_a_broadcast(client, sessionmaker, keys, api_settings,
                                                                  temporal_client):
    summary = await seed_demo(sessionmaker, keys, api_settings, temporal_client)
    assert summary.broadcast_workflow_id
    broadcast = temporal_client.get_workflow_handle(summary.broadcast_workflow_id)
    try:
        # Ravi keeps quiet hours (22:00-07:00 IST): depending on the hour he is sent to or held,
        # while Priya is sent to at once. The dev server runs in real time: wait for the first batch.
        settled = (BroadcastStatus.COMPLETED, BroadcastStatus.WAITING_QUIET_HOURS)
        progress = await poll_until(lambda: broadcast.query("progress", result_type=BroadcastProgress),
                                    lambda p: p.status in settled, timeout=30)
        assert progress.status in settled
        assert progress.counts.total == 2 and progress.counts.sent >= 1 and not progress.counts.pending
        await _demo_enrolment_told(sessionmaker, temporal_client)
        await _check_demo(client, sessionmaker, keys, api_settings, temporal_client)
    finally:
        with contextlib.suppress(RPCError):
            await broadcast.terminate("test finished")


async def _demo_enrolment_told(sessionmaker, temporal_client) -> None:
    """The demo client's course enrolment sends its welcome after the seed: wait until it is out."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        workflow_id = (await session.execute(select(Enrollment.workflow_id))).scalar_one()
    handle = temporal_client.get_workflow_handle(workflow_id)

    async def told() -> bool:
        state = await handle.query("state")
        return state["syncs"] >= 1 and bool(state["messages"]) and all(
            m["status"] != "sending" for m in state["messages"])
    assert await poll_until(told, bool, timeout=30)


async def _check_demo(client, sessionmaker, keys, api_settings, temporal_client) -> None:
    consultant = await _sign_in(client, "astro@demo.example.com")
    outbox = (await client.get("/api/v1/outbox", params={"limit": 100}, headers=consultant)).json()["items"]
    kinds = {(m["template"], m["channel"], m["recipient"]) for m in outbox}
    assert ("session_booked", "email", "client@demo.example.com") in kinds
    assert ("session_booked", "email", "astro@demo.example.com") in kinds
    assert ("session_reminder", "sms", "+919800000001") in kinds
    assert ("session_booked", "whatsapp", "+919800000001") not in kinds  # not opted in to WhatsApp
    hindi = next(m for m in outbox if m["recipient"] == "ravi@demo.example.com" and m["template"] == "session_booked")
    assert hindi["subject"].startswith("बुकिंग पक्की") and "18:30 IST" in hindi["body"]

    me = await _sign_in(client, "client@demo.example.com")
    inbox = (await client.get("/api/v1/me/notifications", headers=me)).json()["items"]
    assert {i["title"] for i in inbox} >= {"Session booked", "Upcoming session", "Welcome to Jyotish Demo",
                                           "Diwali timings"}
    assert (await client.get("/api/v1/me/notifications/unread-count", headers=me)).json()["unread"] == len(inbox)

    # a second seed sends nothing again
    await seed_demo(sessionmaker, keys, api_settings, temporal_client)
    again = (await client.get("/api/v1/outbox", params={"limit": 100}, headers=consultant)).json()["items"]
    assert len(again) == len(outbox)
