"""A row and its workflow never exist one without the other, even if the API dies between them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from support import PASSWORD, link_token, sent_message, sign_up, unique

from api.app import create_app
from core.db import TenantScope, scoped_session
from core.workflow_starts import start_once
from models.platform import PendingWorkflowSignal, PendingWorkflowStart
from workers.relay import relay_pending_signals, relay_pending_starts


async def _signup_without_starting(app_state) -> dict:
    """The API as if it died right after its commit: it never gets to start the workflow."""
    crashed = replace(app_state, temporal=None)
    async with AsyncClient(transport=ASGITransport(app=create_app(state=crashed)), base_url="http://t") as client:
        slug = unique("crash")
        response = await client.post("/api/v1/auth/signup", json={
            "business_name": "Crash Test", "slug": slug, "full_name": "Owner",
            "email": f"owner@{slug}.example.com", "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()


async def test_relay_starts_a_workflow_the_api_never_started(app_state, client, sessionmaker, temporal_client):
    body = await _signup_without_starting(app_state)
    workflow_id = body["onboarding_workflow_id"]
    handle = temporal_client.get_workflow_handle(workflow_id)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        pending = (await session.execute(select(PendingWorkflowStart))).scalars().all()
    # The onboarding and the verification email, both written in the signup's transaction.
    assert sorted(p.workflow_type for p in pending) == ["Notify", "Onboarding"]
    assert all(p.started_at is None for p in pending)
    assert workflow_id in {p.workflow_id for p in pending}

    assert await relay_pending_starts(sessionmaker, temporal_client, grace=timedelta(0)) == 2
    description = await handle.describe()
    assert description.id == workflow_id
    assert description.search_attributes.get("TenantId") == [body["tenant"]["id"]]
    email = next(p for p in pending if p.workflow_type == "Notify")
    assert (await temporal_client.get_workflow_handle(email.workflow_id).describe()).id == email.workflow_id

    # A second pass finds nothing left to do and starts nothing twice.
    assert await relay_pending_starts(sessionmaker, temporal_client, grace=timedelta(0)) == 0


async def test_relay_recognises_a_start_that_happened_but_was_not_marked(
    app_state, client, sessionmaker, temporal_client
):
    body = await _signup_without_starting(app_state)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = (await session.execute(select(PendingWorkflowStart).where(
            PendingWorkflowStart.workflow_id == body["onboarding_workflow_id"]))).scalar_one()
    # The API started it, then died before recording that it had.
    assert await start_once(temporal_client, workflow_type=row.workflow_type, workflow_id=row.workflow_id,
                            task_queue=row.task_queue, payload=row.payload,
                            search_attributes=row.search_attributes, memo=row.memo)
    first_run = (await temporal_client.get_workflow_handle(body["onboarding_workflow_id"]).describe()).run_id
    # Both rows are settled: the onboarding recognised as started, the verification email started.
    assert await relay_pending_starts(sessionmaker, temporal_client, grace=timedelta(0)) == 2
    again = await temporal_client.get_workflow_handle(body["onboarding_workflow_id"]).describe()
    assert again.run_id == first_run


async def test_relay_leaves_fresh_rows_to_the_api(app_state, client, sessionmaker, temporal_client):
    await _signup_without_starting(app_state)
    assert await relay_pending_starts(sessionmaker, temporal_client) == 0  # within the grace period


async def test_a_signal_the_api_could_not_send_is_sent_by_the_relay(app_state, client, sessionmaker,
                                                                     temporal_client):
    """The owner verifies their email while Temporal is away: the onboarding still hears of it."""
    owner = await sign_up(client)
    token = link_token(await sent_message(sessionmaker, owner.email, "verify_email"))
    onboarding = temporal_client.get_workflow_handle(f"onboarding-{owner.tenant_id}")
    away = replace(app_state, temporal=None)
    async with AsyncClient(transport=ASGITransport(app=create_app(state=away)), base_url="http://t") as offline:
        verified = await offline.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [owed] = (await session.execute(select(PendingWorkflowSignal))).scalars().all()
    assert (owed.workflow_id, owed.signal, owed.sent_at) == (onboarding.id, "email_verified", None)
    assert (await onboarding.query("state"))["status"] == "awaiting_verification"

    assert await relay_pending_signals(sessionmaker, temporal_client, grace=timedelta(0)) == 1
    assert (await onboarding.query("state"))["status"] == "awaiting_approval"
    assert await relay_pending_signals(sessionmaker, temporal_client, grace=timedelta(0)) == 0  # sent once


async def test_a_signal_to_a_closed_workflow_is_recorded_and_not_retried(app_state, client, sessionmaker,
                                                                         temporal_client):
    owner = await sign_up(client)
    onboarding = temporal_client.get_workflow_handle(f"onboarding-{owner.tenant_id}")
    await onboarding.terminate("closed for the test")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        session.add(PendingWorkflowSignal(tenant_id=uuid.UUID(owner.tenant_id), workflow_id=onboarding.id,
                                          signal="email_verified", payload="2026-11-22T06:00:00+00:00"))
    assert await relay_pending_signals(sessionmaker, temporal_client, grace=timedelta(0)) == 1
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [row] = (await session.execute(select(PendingWorkflowSignal))).scalars().all()
    assert row.sent_at is not None and row.attempts == 1 and "closed" in (row.last_error or "")
    assert await relay_pending_signals(sessionmaker, temporal_client, grace=timedelta(0)) == 0
