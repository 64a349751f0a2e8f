"""What API tests do again and again, done the way a frontend does it: through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp
from httpx import AsyncClient, Response
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from core.db import TenantScope, scoped_session
from core.security import Keys, hash_password
from models.identity import Role, User
from models.platform import OutboxMessage
from models.tenancy import Tenant, TenantStatus

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Account:
    user_id: str
    email: str
    tenant_slug: str | None
    tenant_id: str | None
    access: str
    refresh: str

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.access}"}
        if self.tenant_slug:
            headers["X-Tenant"] = self.tenant_slug
        headers.update(extra)
        return headers


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def sign_up(client: AsyncClient, slug: str | None = None, email: str | None = None) -> Account:
    slug = slug or unique("astro")
    email = email or f"owner@{slug}.example.com"
    response = await client.post("/api/v1/auth/signup", json={
        "business_name": f"{slug} consultancy", "slug": slug, "full_name": "Owner Person",
        "email": email, "password": PASSWORD, "timezone": "Asia/Kolkata",
    })
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(body["user"]["id"], email, slug, body["tenant"]["id"],
                   body["tokens"]["access_token"], body["tokens"]["refresh_token"])


async def activate(sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str) -> None:
    """Approve a tenant directly in the database (tests of the approval itself go through the API)."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(Tenant).where(Tenant.id == uuid.UUID(tenant_id))
                              .values(status=TenantStatus.ACTIVE))


async def active_consultancy(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], slug: str | None = None
) -> Account:
    owner = await sign_up(client, slug)
    await activate(sessionmaker, owner.tenant_id or "")
    return owner


async def register_client(client: AsyncClient, slug: str, email: str | None = None) -> Account:
    email = email or f"{unique('client')}@example.com"
    response = await client.post("/api/v1/auth/register", headers={"X-Tenant": slug}, json={
        "full_name": "Client Person", "email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(body["user"]["id"], email, slug, body["user"]["tenant_id"],
                   body["tokens"]["access_token"], body["tokens"]["refresh_token"])


async def login(client: AsyncClient, email: str, password: str = PASSWORD, *, slug: str | None = None,
                totp_code: str | None = None) -> Response:
    payload: dict[str, Any] = {"email": email, "password": password}
    if totp_code:
        payload["totp_code"] = totp_code
    return await client.post("/api/v1/auth/login", json=payload,
                             headers={"X-Tenant": slug} if slug else {})


async def platform_admin(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], keys: Keys
) -> tuple[Account, str]:
    """A platform admin with TOTP on, signed in with a code; returns the account and its secret."""
    secret = pyotp.random_base32()
    email = f"{unique('admin')}@example.com"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        user = User(tenant_id=None, email=email, full_name="Admin", role=Role.PLATFORM_ADMIN,
                    password_hash=hash_password(PASSWORD), email_verified_at=datetime.now(UTC),
                    totp_secret_encrypted=keys.encrypt(secret), totp_enabled_at=datetime.now(UTC))
        session.add(user)
        await session.flush()
        user_id = str(user.id)
    response = await login(client, email, totp_code=pyotp.TOTP(secret).now())
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Account(user_id, email, None, None, tokens["access_token"], tokens["refresh_token"]), secret


# How long a condition may take to hold before a test gives up. Generous on purpose: the suite
# runs on busy 2-core machines, and a passing test returns as soon as its condition holds.
SETTLE_SECONDS = 30.0


async def outbox_for(sessionmaker: async_sessionmaker[AsyncSession], recipient: str) -> list[OutboxMessage]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rows = await session.execute(select(OutboxMessage).where(OutboxMessage.recipient == recipient)
                                     .order_by(OutboxMessage.created_at))
        return list(rows.scalars())


async def sent_message(sessionmaker: async_sessionmaker[AsyncSession], recipient: str, template: str,
                       timeout: float = SETTLE_SECONDS) -> OutboxMessage:
    """The latest outbox message of `template` to `recipient`, waiting for it: messages go through
    the notifications capability (a Notify workflow started after the request's commit)."""
    async def templates() -> list[OutboxMessage]:
        return await outbox_for(sessionmaker, recipient)
    try:
        found = await poll_until(templates, lambda rows: any(m.template == template for m in rows), timeout)
    except AssertionError:
        sent = [m.template for m in await templates()]
        raise AssertionError(f"no {template} message to {recipient} after {timeout:g} s; sent: {sent}") from None
    return [m for m in found if m.template == template][-1]


def link_token(message: OutboxMessage) -> str:
    return str(message.data["link"]).split("token=", 1)[1]


def assert_problem(response: Response, status: int, slug: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == status
    assert body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    return body


async def poll_until(probe: Any, done: Any, timeout: float = SETTLE_SECONDS) -> Any:
    """Call `probe()` until `done(value)` holds; return that value. Fails the test, showing the
    last value, if it does not hold within `timeout` seconds: a wait whose condition never came
    would otherwise go on as if it had (one such wait hid a wrong expectation for 30 s a run).

    For state that settles on its own (Temporal's visibility index, a workflow on the real-time
    dev server, a message an activity writes): this waits on a condition, never for time to pass.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    value = await probe()
    while not done(value):
        if loop.time() >= deadline:
            seen = repr(value)[:4000]
            raise AssertionError(f"the awaited condition did not hold within {timeout:g} s; last seen: {seen}")
        await asyncio.sleep(0.02)  # allowed: the one polling loop of the suite
        value = await probe()
    return value


async def eventually(probe: Any, expected: Any, timeout: float = SETTLE_SECONDS) -> Any:
    """Poll `probe()` until it returns `expected` (and return it); fails the test if it does not
    within `timeout` seconds."""
    return await poll_until(probe, lambda value: value == expected, timeout)


async def end_refresh_grace(redis: Any, refresh_token: str) -> None:
    """What the end of a refresh token's grace window does (Redis expiring the entry): forget the
    pair it was swapped for, so that presenting it again counts as a replay."""
    from core.security import hash_token

    assert await redis.delete(f"refresh-grace:{hash_token(refresh_token.partition('.')[2])}") == 1


async def handled_signals(handle: Any, name: str, count: int) -> None:
    """Wait until the workflow was sent `count` signals called `name` and has handled them all: a
    workflow task that started after the last of them has completed."""
    async def history() -> list[EventType.ValueType]:
        return [event.event_type async for event in handle.fetch_history_events()
                if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
                or event.workflow_execution_signaled_event_attributes.signal_name == name]

    def handled(kinds: list[EventType.ValueType]) -> bool:
        sent = [i for i, kind in enumerate(kinds) if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
        if len(sent) < count:
            return False
        after = kinds[sent[count - 1]:]
        started = after.index(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) \
            if EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED in after else None
        return started is not None and EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in after[started:]
    await poll_until(history, handled)


async def settled(handle: Any) -> None:
    """Wait until the workflow is idle: closed, or running with no activity or child workflow
    pending and no workflow task to run (what it does next waits for a timer or a signal).
    Counting what it sent is then final: "exactly once" is checked at a quiet point, not at the
    first sighting."""
    idle_after = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED}

    async def idle() -> bool:
        described = await handle.describe()
        if described.status != WorkflowExecutionStatus.RUNNING:
            return True
        raw = described.raw_description
        if raw.pending_activities or raw.pending_children:
            return False
        last = [event.event_type async for event in handle.fetch_history_events()][-1]
        return last not in idle_after

    await poll_until(idle, bool)


class Statements:
    """The statements an engine runs inside the block (`with Statements(app_state.engine) as seen`)."""

    def __init__(self, engine: Any) -> None:
        self.seen: list[str] = []
        self.engine = engine.sync_engine

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        self.seen.append(statement)
