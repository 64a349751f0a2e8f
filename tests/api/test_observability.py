"""What an operator sees: /metrics (not public) moving with requests, sends and workflows; one trace
from a request through its workflow, activities, SQL and provider calls; no personal data in
any label or attribute. Real PostgreSQL, Redis, Temporal dev server and a worker; SendGrid is the
local fake that answers like the real one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from booking_support import bookable, public_slots
from fake_providers import fake_provider, sendgrid_error
from httpx import ASGITransport, AsyncClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from support import active_consultancy, assert_problem, eventually, poll_until

from api.app import create_app
from api.state import AppState
from core.db import TenantScope, scoped_session
from core.embedded import EmbeddedTemporal, free_port
from core.observability.tracing import record_spans, set_sample_ratio, setup_tracing
from core.temporal import connect_temporal
from models.notifications import NotificationDelivery
from workers.worker import build_worker, serve_metrics

LOOPBACK = ("127.0.0.1", 40000)
GUEST = {"full_name": "Savitri Deshpande", "email": "savitri.deshpande@example.org", "phone": "+919812345678",
         "birth_date": "1987-11-23", "birth_place": "Nashik"}


def scrape(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def metrics_of(app: Any, **headers: str) -> Any:
    async with AsyncClient(transport=ASGITransport(app=app, client=LOOPBACK), base_url="http://testserver") as http:
        return await http.get("/metrics", headers=headers)


async def test_metrics_are_not_public_and_count_requests_by_route_template(client, app_state):
    app = create_app(state=app_state)
    assert_problem(await client.get("/metrics"), 404, "not-found")  # from 203.0.113.7, as in production
    assert (await metrics_of(app, **{"X-Forwarded-For": "198.51.100.4"})).status_code == 404  # via a proxy
    before = scrape((await metrics_of(app)).text)

    unknown = await client.get(f"/api/v1/public/no-such-{uuid.uuid4().hex[:6]}")
    assert unknown.status_code == 404 and unknown.json()["trace_id"] == unknown.headers["traceresponse"].split("-")[1]
    assert (await client.get("/health")).status_code == 200
    assert (await client.get(f"/scanner/{uuid.uuid4().hex}")).status_code == 404

    after = scrape((await metrics_of(app)).text)
    route = "/api/v1/public/{tenant_slug}"
    for name, labels in (
        ("muhurta_http_requests_total", {"method": "GET", "route": route, "status_class": "4xx"}),
        ("muhurta_http_requests_total", {"method": "GET", "route": "/health", "status_class": "2xx"}),
        ("muhurta_http_requests_total", {"method": "GET", "route": "unmatched", "status_class": "4xx"}),
        ("muhurta_http_request_duration_seconds_count", {"method": "GET", "route": route}),
        ("muhurta_http_problems_total", {"type": "/problems/tenant-unknown"}),
    ):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, (name, labels)
    assert not any("no-such-" in str(key) or "scanner" in str(key) for key in after)  # templates, never paths
    assert value(after, "muhurta_db_pool_wait_seconds_count", pool="api") > value(
        before, "muhurta_db_pool_wait_seconds_count", pool="api")
    assert value(after, "muhurta_db_pool_limit", pool="api") == 3 * app_state.settings.database_pool_size
    assert ("muhurta_db_pool_connections_in_use", frozenset({("pool", "api")})) in after

    token = "metrics-" + uuid.uuid4().hex
    guarded = create_app(state=app_state, settings=app_state.settings.model_copy(
        update={"metrics_token": __import__("pydantic").SecretStr(token)}))
    assert (await metrics_of(guarded)).status_code == 404  # a token set: loopback alone is not enough
    assert (await metrics_of(guarded, Authorization="Bearer wrong")).status_code == 404
    assert (await metrics_of(guarded, Authorization=f"Bearer {token}")).status_code == 200


@pytest.fixture
async def traced(temporal_dev_server: EmbeddedTemporal, api_settings, sessionmaker, clean) -> AsyncIterator[Any]:
    """A worker and an API built as `muhurta worker` / `muhurta api` build them (the tracing client,
    the SDK runtime's metrics), SendGrid's fake for email, and every span kept in memory."""
    with fake_provider("sendgrid") as sendgrid:
        settings = api_settings.model_copy(update={
            "temporal_address": temporal_dev_server.address,
            "temporal_task_queue": f"observed-{uuid.uuid4().hex[:8]}",
            "sendgrid_api_key": __import__("pydantic").SecretStr("SG.test-key"),
            "sendgrid_api_host": sendgrid.url,
            "worker_metrics_port": free_port(),
        })
        setup_tracing(settings, "muhurta-test")
        spans = InMemorySpanExporter()
        record_spans(SimpleSpanProcessor(spans))
        temporal = await connect_temporal(settings)
        worker = build_worker(temporal, settings, sessionmaker)
        running = asyncio.create_task(worker.run())
        stop_metrics = serve_metrics(settings)
        state = await AppState.build(settings, temporal=temporal)
        app = create_app(state=state)
        try:
            async with AsyncClient(transport=ASGITransport(app=app, client=("203.0.113.9", 5000)),
                                   base_url="http://testserver") as http:
                yield http, spans, sendgrid, settings, app
        finally:
            set_sample_ratio(0.0)  # later tests: trace ids, nothing recorded
            stop_metrics()
            await worker.shutdown()
            await asyncio.gather(running, return_exceptions=True)
            await state.close()


async def test_a_booking_is_one_trace_from_request_to_activity_and_the_metrics_move(traced, sessionmaker):
    http, spans, sendgrid, settings, app = traced
    worker_metrics = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"
    async with AsyncClient() as plain:
        before = scrape((await plain.get(worker_metrics)).text)
    owner = await active_consultancy(http, sessionmaker)
    _, offering = await bookable(http, owner, intake_form=[
        {"name": "birth_date", "label": "Date of birth", "type": "date", "required": True},
        {"name": "birth_place", "label": "Place of birth", "type": "text", "required": True}])
    slot = (await public_slots(http, owner.tenant_slug, offering["id"],
                               start=str((datetime.now(UTC) + timedelta(days=3)).date())))[0]

    async def signup_email() -> list[str]:  # it leaves after the sign-up answers, in the background
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            return list((await session.execute(select(NotificationDelivery.status).where(
                NotificationDelivery.event == "verify_email",
                NotificationDelivery.recipient == owner.email))).scalars())
    # Out before the refusal is queued: else the sign-up's email, not the booking's, would take it.
    assert await eventually(signup_email, ["sent"]) == ["sent"]
    sendgrid.fail_next(sendgrid_error(400, "The to address is not valid"))  # the first email is refused

    caller_trace = uuid.uuid4().hex
    made = await http.post(
        f"/api/v1/public/{owner.tenant_slug}/bookings",
        headers={"traceparent": f"00-{caller_trace}-{uuid.uuid4().hex[:16]}-01"},
        json={"offering_id": offering["id"], "starts_at": slot["starts_at"], "full_name": GUEST["full_name"],
              "email": GUEST["email"], "phone": GUEST["phone"], "timezone": "Asia/Kolkata",
              "intake": {"birth_date": GUEST["birth_date"], "birth_place": GUEST["birth_place"]}})
    assert made.status_code == 201, made.text
    assert made.headers["traceresponse"].split("-")[1] == caller_trace  # the caller's trace, continued
    booking_id = made.json()["id"]

    async def in_trace() -> list[ReadableSpan]:
        return [s for s in spans.get_finished_spans()
                if s.context and format(s.context.trace_id, "032x") == caller_trace]

    def complete(found: list[ReadableSpan]) -> bool:
        names = {s.name for s in found}
        return {"RunWorkflow:Consultation", "RunActivity:consultation.confirm",
                "RunActivity:consultation.notify", "sendgrid send"} <= names
    found = await poll_until(in_trace, complete, timeout=60)
    names = {s.name for s in found}
    assert "POST /api/v1/public/{tenant_slug}/bookings" in names
    assert "StartWorkflow:Consultation" in names, sorted(names)
    assert {"INSERT", "SELECT", "UPDATE"} <= names  # SQL, in the API and in the activities
    workflow_span = next(s for s in found if s.name == "RunWorkflow:Consultation")
    assert workflow_span.attributes and workflow_span.attributes["temporalWorkflowID"] == f"consultation-{booking_id}"
    failed = [s for s in found if s.name == "sendgrid send" and not s.status.is_ok]
    assert failed and failed[0].attributes and failed[0].attributes["muhurta.channel"] == "email"
    assert failed[0].status.description or failed[0].events  # why it failed is in the span (checked below)

    # nothing personal in any span of the trace or any series of either /metrics
    async with AsyncClient() as plain:
        exposition = (await plain.get(worker_metrics)).text
    api_exposition = (await metrics_of(app)).text
    attributes = " ".join(  # names, attributes, statuses and events (an exception's message is an event's)
        f"{s.name} {dict(s.attributes or {})} {dict(s.resource.attributes)} {s.status.description or ''} "
        + " ".join(f"{e.name} {dict(e.attributes or {})}" for e in s.events) for s in found)
    for personal in (*GUEST.values(), GUEST["email"].lower(), "Savitri", "Deshpande", owner.email):
        assert personal not in attributes, personal
        assert personal not in exposition and personal not in api_exposition, personal

    after = scrape(exposition)
    email = {"provider": "sendgrid", "channel": "email"}
    assert value(after, "muhurta_provider_failures_total", **email, reason="rejected") == value(
        before, "muhurta_provider_failures_total", **email, reason="rejected") + 1
    assert value(after, "muhurta_provider_sends_total", **email, outcome="failed") == value(
        before, "muhurta_provider_sends_total", **email, outcome="failed") + 1
    assert value(after, "muhurta_provider_sends_total", **email, outcome="sent") >= value(
        before, "muhurta_provider_sends_total", **email, outcome="sent") + 1
    assert value(after, "muhurta_provider_duration_seconds_count", **email) >= value(
        before, "muhurta_provider_duration_seconds_count", **email) + 2

    # the Temporal SDK's own worker metrics, through its runtime telemetry, on the same endpoint
    async def sdk_series() -> set[str]:
        async with AsyncClient() as plain:
            return {name for name, _ in scrape((await plain.get(worker_metrics)).text)}
    sdk = await poll_until(sdk_series,
                           lambda names: any("activity_schedule_to_start" in n for n in names), timeout=30)
    for expected in ("workflow_task_schedule_to_start", "activity_schedule_to_start", "worker_task_slots_available",
                     "activity_execution_latency"):
        assert any(expected in name for name in sdk), (expected, sorted(n for n in sdk if n.startswith("temporal")))
