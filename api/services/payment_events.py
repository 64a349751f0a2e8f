"""Razorpay webhooks: verify, store raw, answer at once; then act on them (signal the order).

Ingestion does the least that makes the event safe: check the signature over the raw body,
insert it once per `x-razorpay-event-id` (a redelivery is a no-op) and commit. An event that
asks nothing of us (one we never act on, a payment of an order no tenant has) is stored settled
by that same statement. Processing of the rest follows out of the request (a background task,
and the worker's relay for anything left behind): it reads the stored event and signals the
order's workflow, which decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.problems import NOT_FOUND, PAYMENTS_UNAVAILABLE, WEBHOOK_SIGNATURE_INVALID, Problem
from core.db import TenantScope, scoped_session
from core.group_commit import GroupCommit
from core.razorpay import GatewayCredentials, PaymentsNotConfigured, platform_credentials, signature_matches
from core.security import Keys
from core.settings import Settings
from domain.payments.orders import order_workflow_id
from domain.payments.webhooks import ParsedEvent, parse_event
from models.payments import GatewayWebhookEvent, Order, Refund, payment_settings, tenant_credentials
from models.platform import record_audit

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Ingested:
    event_id: str
    row_id: uuid.UUID | None  # None: a redelivery of an event stored before
    outcome: str | None = None  # set when the event was stored settled (it asks nothing of us)


class WebhookSecrets:
    """Webhook secrets by account, decrypted once per process and tenant (they rarely change),
    kept for a minute. The platform's too: in development they are read from a file, which was
    a file read per webhook (docs/performance.md)."""

    KEEP = timedelta(seconds=60)

    def __init__(self, settings: Settings, keys: Keys) -> None:
        self.settings, self.keys = settings, keys
        self._tenants: dict[uuid.UUID, tuple[datetime, GatewayCredentials | None]] = {}
        self._platform: tuple[datetime, GatewayCredentials | None] | None = None

    def platform(self) -> GatewayCredentials | None:
        now = datetime.now(UTC)
        if self._platform is not None and self._platform[0] > now:
            return self._platform[1]
        try:
            credentials: GatewayCredentials | None = platform_credentials(self.settings)
        except PaymentsNotConfigured:
            credentials = None
        self._platform = (now + self.KEEP, credentials)
        return credentials

    async def tenant(self, sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
                     ) -> GatewayCredentials | None:
        cached = self._tenants.get(tenant_id)
        if cached and cached[0] > datetime.now(UTC):
            return cached[1]
        async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
            credentials = tenant_credentials(await payment_settings(session, tenant_id), self.settings, self.keys)
        self._tenants[tenant_id] = (datetime.now(UTC) + self.KEEP, credentials)
        return credentials


async def ingest_webhook(
    sessionmaker: async_sessionmaker[AsyncSession],
    secrets: WebhookSecrets,
    *,
    body: bytes,
    signature: str,
    event_id: str | None,
    tenant_id: uuid.UUID | None,
    ip: str | None,
    inserter: EventInserter | None = None,
) -> Ingested:
    """Verify and store one delivery (with `inserter`, grouped with concurrent ones). A bad
    signature changes nothing but the audit log."""
    credentials = await secrets.tenant(sessionmaker, tenant_id) if tenant_id else secrets.platform()
    if tenant_id is not None and credentials is None:
        # not a passing fault to retry: this consultancy has no Razorpay account of its own
        raise Problem(NOT_FOUND, "no consultancy with its own Razorpay account has this id; its events go to "
                                 "/api/v1/webhooks/razorpay", field="tenant_id")
    if credentials is None or not credentials.webhook_secret:
        raise Problem(PAYMENTS_UNAVAILABLE, "no Razorpay webhook secret is configured for this account")
    if not signature_matches(credentials.webhook_secret, body, signature):
        log.warning("razorpay webhook with a bad signature rejected", extra={
            "tenant_id": str(tenant_id) if tenant_id else None, "event_id": event_id, "ip": ip,
            "body_sha256": hashlib.sha256(body).hexdigest()})
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            await record_audit(session, tenant_id=tenant_id, action="payment.webhook_rejected",
                               target_type="webhook", target_id=event_id, ip=ip,
                               details={"reason": "bad signature", "body_sha256": hashlib.sha256(body).hexdigest()})
        raise Problem(WEBHOOK_SIGNATURE_INVALID, field="X-Razorpay-Signature")
    text_body = body.decode("utf-8", errors="replace")  # what is stored, and what is read back
    decoded = _decoded(text_body)
    event_name = str(decoded.get("event", ""))[:64] if isinstance(decoded, dict) else "unreadable"
    event_id = (event_id or "sha256:" + hashlib.sha256(body).hexdigest())[:100]
    settled = _settled_unless_ours(_parsed(decoded, event_id))
    outcome, order_id = settled if settled is not None else (None, None)
    row = _Row(uuid.uuid4(), event_id, event_name, text_body, outcome, order_id)
    tenant = str(tenant_id or "")
    if inserter is not None:
        stored = await inserter.insert(tenant, row)
    else:
        stored = await _insert_rows(sessionmaker, tenant, [row])
    if row.id not in stored:
        return Ingested(event_id, None)
    return Ingested(event_id, row.id, outcome if stored[row.id] else None)


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    event_id: str
    event: str
    body: str
    outcome: str | None  # what settles it if no order of any tenant has `order_id`; None: to act on
    order_id: str | None


NOT_OURS = "ignored: not an order of ours"


def _settled_unless_ours(parsed: ParsedEvent) -> tuple[str, str | None] | None:
    """(outcome, order id) for an event that asks nothing of us unless an order has that id (None:
    whatever the orders); None for an event to act on (a refund, a subscription)."""
    if parsed.subscription is not None or parsed.refund is not None:
        return None
    if parsed.payment is None:
        return _ignored(parsed), None
    return NOT_OURS, parsed.gateway_order_id


def _ignored(parsed: ParsedEvent) -> str:
    """The outcome of an event we never act on (`outcome` holds 200 characters)."""
    return f"ignored: {parsed.event or 'no event'}"[:200]


# One statement, one round trip, any number of rows. Autocommit: the statement is its own
# transaction, committed when it returns, so no BEGIN and no COMMIT round trip. The rows travel as
# one JSON document (encoded by orjson, in C): as array parameters psycopg escaped every body
# element by element in Python, 7 % of the API's CPU per webhook under load (docs/performance.md).
# Every batch size is the same prepared statement. Two rows of one batch with the same event_id:
# the second is a conflict like any other (DO NOTHING), so exactly one of them comes back. A body
# PostgreSQL's text refuses (NUL) fails the statement, as it did one row at a time.
#
# An event that asks nothing of us (`_Row.outcome`) is stored settled, as `process_events` would
# settle it (a processed_at, its outcome, one attempt), unless an order of any tenant has the
# order id it names. Seeing every tenant's orders takes the system scope: the CTE `scope` turns
# the row-level-security bypass on, transaction-local, and each row of `incoming` reads `scope`
# beside its order lookup, a subquery of that row's projection, so the bypass is on before any
# order is looked at; `scope.bypass = 'on'` makes the dependency explicit, and if it were ever
# off the event would be left to `process_events` (never settled by mistake). The lookup is a
# scalar subquery with LIMIT 1, one probe of the unique index per row: written as NOT EXISTS,
# PostgreSQL may turn it into a hashed subplan that reads every order once per statement (it
# did, with few orders). `incoming` is materialized so that each row's lookup runs once. The
# tenant id stored is the account's, whose secret verified the delivery. Which rows were stored
# settled comes back with their ids.
_INSERT_EVENTS = text("""
    WITH scope AS (SELECT set_config('app.tenant_id', :tenant, true) AS tenant,
                          set_config('app.rls_bypass', 'on', true) AS bypass),
    incoming AS MATERIALIZED (
        SELECT r.n, r.id, r.event_id, r.event, r.body, r.outcome, CAST(NULLIF(scope.tenant, '') AS uuid) AS tenant_id,
               r.outcome IS NOT NULL AND (r.order_id IS NULL OR (scope.bypass = 'on' AND (
                   SELECT 1 FROM orders AS o WHERE o.gateway_order_id = r.order_id LIMIT 1) IS NULL)) AS settled
        FROM scope, ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS (
                 id uuid, event_id text, event text, body text, outcome text, order_id text))
             WITH ORDINALITY AS r(id, event_id, event, body, outcome, order_id, n))
    INSERT INTO gateway_webhook_events (id, event_id, event, tenant_id, body, received_at, attempts, processed_at,
                                        outcome)
    SELECT id, event_id, event, tenant_id, body, now(), CASE WHEN settled THEN 1 ELSE 0 END,
           CASE WHEN settled THEN now() END, CASE WHEN settled THEN outcome END
    FROM incoming
    ORDER BY n
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id, processed_at IS NOT NULL
""")


async def _insert_rows(sessionmaker: async_sessionmaker[AsyncSession], tenant: str, rows: list[_Row]
                       ) -> dict[uuid.UUID, bool]:
    """Insert `rows` of one account (`tenant`, '' for the platform's) in one autocommitted
    statement; the ids of those stored (not redeliveries), each with whether it was stored settled."""
    engine = sessionmaker.kw["bind"]
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        result = await connection.execute(_INSERT_EVENTS, {"tenant": tenant, "rows": orjson.dumps(
            [{"id": str(r.id), "event_id": r.event_id, "event": r.event, "body": r.body, "outcome": r.outcome,
              "order_id": r.order_id} for r in rows]).decode()})
        return {row[0]: row[1] for row in result}


# Under load (the last statement carried several deliveries), the next one waits up to 1 ms to fill:
# with two API processes, deliveries per statement went from 7-10 to 11-31 and the API's CPU per
# delivery fell by about an eighth (docs/performance.md, fourteenth pass). Razorpay waits seconds.
LINGER_SECONDS = 0.001


class EventInserter:
    """Group commit for webhook deliveries (`core.group_commit`): the ones that arrive while a
    statement is in flight are stored together by the next one, per account, each request still
    answered only once its own row is committed; a row PostgreSQL refuses fails only its own
    request. One per API process."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, batch: int = 200) -> None:
        self.sessionmaker = sessionmaker
        self._group: GroupCommit[str, _Row, dict[uuid.UUID, bool]] = GroupCommit(
            self._store, batch=batch, linger=LINGER_SECONDS)

    @property
    def batches(self) -> int:   # statements run (tests and benches read it)
        return self._group.batches

    async def insert(self, tenant: str, row: _Row) -> dict[uuid.UUID, bool]:
        """The ids stored by the statement that carried `row` (`row.id` among them unless a
        redelivery), each with whether it was stored settled."""
        return await self._group.submit(tenant, row)

    async def _store(self, tenant: str, rows: list[_Row]) -> list[dict[uuid.UUID, bool]]:
        stored = await _insert_rows(self.sessionmaker, tenant, rows)
        return [stored] * len(rows)

    async def close(self) -> None:
        await self._group.close()


class EventProcessor:
    """Acts on stored events soon after they were acknowledged, in batches, off the request path
    (`process_events`).

    One per API process. If the queue is full or the process dies, the worker's relay acts on
    whatever is left (every stored event is acted on at least once)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], client: Client | None,
                 *, batch: int = 100, capacity: int = 10_000) -> None:
        self.sessionmaker, self.client, self.batch = sessionmaker, client, batch
        self.queue: asyncio.Queue[uuid.UUID] = asyncio.Queue(capacity)
        self._task: asyncio.Task[None] | None = None

    def submit(self, row_id: uuid.UUID) -> None:
        """Act on stored event `row_id` soon."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(row_id)

    async def _run(self) -> None:
        while True:
            received = [await self.queue.get()]
            while len(received) < self.batch and not self.queue.empty():
                received.append(self.queue.get_nowait())
            try:
                await process_events(self.sessionmaker, self.client, received)
            except Exception:
                log.exception("acting on %d webhook events failed; the relay will retry them", len(received))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def process_event(sessionmaker: async_sessionmaker[AsyncSession], client: Client | None,
                        row_id: uuid.UUID) -> str | None:
    """Act on one stored event once; see process_events."""
    return (await process_events(sessionmaker, client, [row_id])).get(row_id)


async def process_events(sessionmaker: async_sessionmaker[AsyncSession], client: Client | None,
                         row_ids: list[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """Act on stored events once each: signal their orders' workflows. Returns each event's outcome,
    or None if it was taken (or done) by someone else or must be tried again later."""
    outcomes: dict[uuid.UUID, str | None] = dict.fromkeys(row_ids)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        events = (await session.execute(
            select(GatewayWebhookEvent)
            .where(GatewayWebhookEvent.id.in_(row_ids), GatewayWebhookEvent.processed_at.is_(None))
            .order_by(GatewayWebhookEvent.received_at)
            .with_for_update(skip_locked=True)
        )).scalars().all()
        parsed = {event.id: _parse(event) for event in events}
        wanted = {p.gateway_order_id for p in parsed.values() if p.payment is not None and p.gateway_order_id}
        orders = {order.gateway_order_id or "": order for order in (await session.execute(
            select(Order).where(Order.gateway_order_id.in_(wanted)))).scalars()} if wanted else {}
        for event in events:
            event.attempts += 1
            try:
                outcome = await _act(session, client, event, parsed[event.id], orders)
            except RetryLater as exc:
                event.outcome = f"retry: {exc}"[:200]
                if event.attempts < MAX_ATTEMPTS:
                    continue
                outcome = f"gave up: {exc}"
                log.error("webhook event %s not processed after %d attempts: %s", event.event_id, event.attempts, exc)
            event.processed_at, event.outcome = datetime.now(UTC), outcome[:200]
            outcomes[event.id] = outcome
    return outcomes


class RetryLater(Exception):
    pass


_UNREADABLE = object()


def _decoded(body: str) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return _UNREADABLE


def _parsed(decoded: object, event_id: str) -> ParsedEvent:
    if decoded is _UNREADABLE:
        return ParsedEvent("unreadable")
    return parse_event(decoded if isinstance(decoded, dict) else {}, event_id)


def _parse(event: GatewayWebhookEvent) -> ParsedEvent:
    return _parsed(_decoded(event.body), event.event_id)


async def _act(session: AsyncSession, client: Client | None, event: GatewayWebhookEvent, parsed: ParsedEvent,
               orders: dict[str, Order]) -> str:
    if parsed.subscription is not None:  # memberships (api/services/membership_events.py)
        from api.services.membership_events import NotYet, act_on_subscription
        try:
            return await act_on_subscription(session, client, event, parsed.subscription)
        except NotYet as exc:
            raise RetryLater(str(exc)) from exc
    if parsed.payment is None and parsed.refund is None:
        return _ignored(parsed)
    order: Order | None = None
    if parsed.refund is not None:
        refund = None
        if parsed.refund_id is not None:
            refund = await session.get(Refund, parsed.refund_id)
        if refund is None:
            refund = (await session.execute(select(Refund).where(
                Refund.gateway_refund_id == parsed.refund.gateway_refund_id))).scalar_one_or_none()
        order = await session.get(Order, refund.order_id) if refund else None
    elif parsed.gateway_order_id:
        order = orders.get(parsed.gateway_order_id)
    if order is None:
        return NOT_OURS
    if order.tenant_id != event.tenant_id and event.tenant_id is not None:
        log.warning("webhook %s of tenant %s names an order of tenant %s", event.event_id, event.tenant_id,
                    order.tenant_id)
        return "ignored: another account's order"
    if client is None:
        raise RetryLater("Temporal unavailable")
    handle = client.get_workflow_handle(order_workflow_id(order.id))
    try:
        if parsed.refund is not None:
            await handle.signal("refund_settled", parsed.refund)
        else:
            assert parsed.payment is not None
            name = "payment_failed" if parsed.payment.status == "failed" else "payment_captured"
            await handle.signal(name, parsed.payment)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            if order.status == "pending_payment" and order.created_at > datetime.now(UTC) - timedelta(minutes=5):
                raise RetryLater("the order's workflow is not started yet") from exc
            log.warning("order %s has no running workflow for %s", order.id, event.event_id)
            await record_audit(session, tenant_id=order.tenant_id, action="payment.event_after_close",
                               target_type="order", target_id=order.id,
                               details={"event": parsed.event, "event_id": event.event_id})
            return "flagged: the order's workflow has finished"
        raise RetryLater(f"Temporal: {exc}") from exc
    return f"signalled {order_workflow_id(order.id)}"


async def process_pending_events(sessionmaker: async_sessionmaker[AsyncSession], client: Client,
                                 *, older_than: timedelta = timedelta(seconds=5), batch: int = 200) -> int:
    """One pass of the relay: act on stored events the API did not get to; returns how many."""
    cutoff = datetime.now(UTC) - older_than
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        ids = (await session.execute(
            select(GatewayWebhookEvent.id)
            .where(GatewayWebhookEvent.processed_at.is_(None), GatewayWebhookEvent.received_at <= cutoff)
            .order_by(GatewayWebhookEvent.received_at).limit(batch)
        )).scalars().all()
    done = 0
    for start in range(0, len(ids), 50):
        try:
            outcomes = await process_events(sessionmaker, client, list(ids[start:start + 50]))
            done += sum(outcome is not None for outcome in outcomes.values())
        except Exception:
            log.exception("webhook events failed")
    return done
