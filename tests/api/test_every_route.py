"""Walks every route of the OpenAPI document, so a route added later is covered without a new test.

1. Tenant isolation: a user of tenant B tries every route with tenant A's ids, in the path, in
   the query and in a valid body built from the route's schema; nothing of A comes back and
   nothing of A changes.
2. Bad input: every route that takes a JSON body gets a wrong one; the answer is problem+json
   naming the field, and no table changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from booking_support import bookable, public_slots
from cryptography.fernet import Fernet
from httpx import AsyncClient, Response
from openapi_samples import UnknownId, dotted, looks_like_id, sample_body, sample_value
from sqlalchemy import func, select, text
from support import (
    Account,
    active_consultancy,
    assert_problem,
    eventually,
    outbox_for,
    platform_admin,
    poll_until,
    register_client,
)

from api.app import create_app
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.signing import sign
from models import Base
from models.courses import Certificate
from models.identity import AuthSession
from models.memberships import Membership
from models.notifications import Broadcast, InAppNotification

SPEC = create_app().openapi()
OPERATIONS = [
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method in item
]
PARAM = re.compile(r"{(\w+)}")
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# -- what the isolation walk needs to know that the OpenAPI document does not say ------------------
# Where a name means another kind of thing than elsewhere: (method, path, name) -> the key of
# tenant A's value to use. A report delivery's consultant_id is the consultant's *user* id.
ID_MEANING: dict[tuple[str, str, str], str] = {
    ("POST", "/api/v1/report-deliveries", "consultant_id"): "consultant_user_id",
    ("GET", "/api/v1/report-deliveries", "consultant_id"): "consultant_user_id",
    ("POST", "/api/v1/remedy-programmes", "consultant_id"): "consultant_user_id",
    ("GET", "/api/v1/remedy-programmes", "consultant_id"): "consultant_user_id",
    ("GET", "/api/v1/remedies/completion-rates", "consultant_id"): "consultant_user_id",
}
# Path parameters the walk sets to tenant B's own value. A guest booking on A's public page is
# A's public surface by design (anyone may book there); the isolation question is whether B's
# page takes A's offering or webinar session, which the body then carries.
PATH_OVERRIDES: dict[tuple[str, str], Callable[[dict[str, str]], dict[str, str]]] = {
    ("POST", "/api/v1/public/{tenant_slug}/bookings"): lambda b: {"tenant_slug": b["tenant_slug"]},
}
# Body fields that may carry one of A's ids and still be accepted (2xx): they are not references
# to another row of the tenant, so there is nothing of A to reach through them.
NOT_REFERENCES: dict[tuple[str, str], set[str]] = {
    # free-form keys of what a coupon is limited to / what an order line sold (matched with each other only)
    ("POST", "/api/v1/coupons"): {"offering_ids.0"},
    ("POST", "/api/v1/orders"): {"lines.0.offering_id"},
    # an outside order reference, unique across the platform (409 already-exists when it is taken)
    ("POST", "/api/v1/report-deliveries"): {"order_id"},
    # a filter over B's own clients: A's client matches nobody
    ("POST", "/api/v1/broadcasts"): {"filter.client_ids.0"},
}
# Valid bodies the schema alone cannot describe (a rule across fields): merged into the sample.
BODY_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/astrology/suggestion-rules"): {"when": {"kind": "dasha", "mahadasha": "jupiter"}},
    ("POST", "/api/v1/coupons"): {"percent_bp": 1000},  # its kind, percent, needs it
    ("PUT", "/api/v1/notification-templates/{event}/{channel}/{locale}"): {"subject": "Walk"},  # email needs one
    ("POST", "/api/v1/broadcasts"): {"variables": {"title": "Walk", "message": "Walk"}},  # the event's variables
}
# Public by design: A's public booking page shows A's consultants, offerings and free slots.
PUBLIC_BY_DESIGN = ("/api/v1/public/",)
# Path parameters that name one of A's things, with every uuid one: answering 2xx to B is a
# breach (outside the public page). The others are values any tenant may use (a text key, a
# locale, a date, an event), so B acting on its own data through them is fine.
CAPABILITIES = {"link_token", "feed_token", "workflow_id"}


async def _snapshot(sessionmaker) -> dict[str, Any]:
    """Every row of every table, as text: compare before and after to prove nothing changed."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return {
            table.name: sorted(json.dumps(dict(row._mapping), default=str, sort_keys=True)
                               for row in (await session.execute(select(table))).all())
            for table in Base.metadata.sorted_tables if table.name != "idempotency_records"
        }


async def _webinar(client: AsyncClient, owner: Account, consultant_id: str, *, days_ahead: int) -> dict[str, Any]:
    """A webinar offering of the consultant, and (days_ahead > 0) one scheduled session of it."""
    made = await client.post("/api/v1/offerings", headers=owner.headers(), json={
        "consultant_id": consultant_id, "title": "Group reading", "duration_minutes": 60, "kind": "webinar",
        "capacity": 5, "min_notice_minutes": 0})
    assert made.status_code == 201, made.text
    offering: dict[str, Any] = made.json()
    if days_ahead:
        starts = (datetime.now(UTC) + timedelta(days=days_ahead)).replace(hour=6, minute=0, second=0, microsecond=0)
        run = await client.post(f"/api/v1/offerings/{offering['id']}/webinar-sessions", headers=owner.headers(),
                                json={"starts_at": starts.isoformat()})
        assert run.status_code == 201, run.text
        offering["session_id"] = run.json()["id"]
    return offering


async def _tenant_a(client, sessionmaker, temporal_client) -> dict[str, Any]:
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    staff_made = (await client.post("/api/v1/clients", headers=owner.headers(),
                                    json={"full_name": "Staff Made", "email": "staffmade@example.com"})).json()
    domain = (await client.post("/api/v1/tenant/domains", headers=owner.headers(),
                                json={"domain": "tenant-a.example.com"})).json()
    profile = (await client.post("/api/v1/birth-profiles", headers=customer.headers(), json={
        "label": "Self", "full_name": "Tenant A Person", "birth": {
            "date": "1990-05-17", "time": "14:25", "latitude": 28.6139, "longitude": 77.209}})).json()
    a_text = (await client.put("/api/v1/astrology/texts/driver:8/en", headers=owner.headers(),
                             json={"text": "tenant A's secret driver text"})).json()
    rule = (await client.post("/api/v1/astrology/suggestion-rules", headers=owner.headers(), json={
        "name": "A rule", "when": {"kind": "past_order", "any_of": ["a-offering"]},
        "offering_key": "tenant-a-offering"})).json()
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    upload = await client.post("/api/v1/files", headers=owner.headers(), files={"file": ("palm.png", png, "image/png")},
                               data={"client_id": customer.user_id})
    assert upload.status_code == 201, upload.text
    delivery = await client.post("/api/v1/report-deliveries", headers=owner.headers(), json={
        "client_id": customer.user_id, "title": "Annual forecast", "due_at": "2099-01-01T10:00:00+05:30"})
    assert delivery.status_code == 201, delivery.text
    consultant, offering = await bookable(client, owner)
    in_three_days = str((datetime.now(UTC) + timedelta(days=3)).date())
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=in_three_days))[2]
    booking = (await client.post("/api/v1/bookings", headers=customer.headers(),
                                 json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})).json()

    async def confirmed() -> bool:  # its messages are waited for by _quiet below
        seen = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=customer.headers())).json()
        return seen["meeting_url"] is not None
    assert await eventually(confirmed, True)
    webinar = await _webinar(client, owner, consultant["id"], days_ahead=20)
    day = slot["local_date"]
    assert (await client.put(f"/api/v1/consultants/{consultant['id']}/overrides/{day}", headers=owner.headers(),
                             json={"windows": [{"start": "09:00", "end": "17:00"}]})).status_code == 200
    order = (await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": customer.user_id,
        "lines": [{"kind": "product", "description": "Tenant A's guide", "unit_amount": 50_000}]})).json()
    coupon = (await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "TENANTA10", "kind": "percent", "percent_bp": 1000})).json()
    quotation = await client.post("/api/v1/quotations", headers=owner.headers(), json={  # a draft: no messages
        "consultant_id": consultant["id"], "client_id": customer.user_id, "title": "Tenant A's quotation",
        "lines": [{"kind": "custom", "description": "Tenant A's vastu visit", "unit_amount": 150_000}]})
    assert quotation.status_code == 201, quotation.text
    remedy = (await client.post("/api/v1/remedies", headers=owner.headers(), json={
        "kind": "mantra", "title": "Tenant A remedy", "instructions_en": "Tenant A's secret instructions",
        "default_schedule": {"times": ["09:00"]}})).json()
    product = (await client.post("/api/v1/products", headers=owner.headers(), json={
        "kind": "report", "title": "Tenant A's secret report", "price_minor": 90_000,
        "consultant_user_id": owner.user_id})).json()
    package = (await client.post("/api/v1/session-packages", headers=owner.headers(), json={
        "offering_id": offering["id"], "title": "Tenant A's package", "sessions": 3, "price_minor": 300_000,
        "valid_days": 30})).json()
    plan = (await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Tenant A's secret plan", "price_minor": 99_900, "offering_id": offering["id"],
        "credits_per_period": 2})).json()
    programme = await client.post("/api/v1/remedy-programmes", headers=owner.headers(), json={
        "remedy_id": remedy["id"], "client_id": customer.user_id, "start_date": in_three_days})
    assert programme.status_code == 201, programme.text
    template = await client.put("/api/v1/notification-templates/announcement/email/en", headers=owner.headers(),
                                json={"subject": "{{ title }}", "body": "Tenant A private wording {{ message }}"})
    assert template.status_code == 200, template.text
    course = await _course(client, owner)
    course.update(await _enrolment(client, sessionmaker, temporal_client, owner, customer, course))
    invitation = await client.post("/api/v1/team/invitations", headers=owner.headers(),
                                   json={"email": "invited-to-a@example.com", "role": "staff"})
    assert invitation.status_code == 201, invitation.text
    export = await client.post(f"/api/v1/clients/{customer.user_id}/privacy/exports", headers=owner.headers())
    assert export.status_code == 202, export.text
    # Before A brings its own SendGrid key (unreachable here): A's messages so far are all out.
    await _quiet(temporal_client, owner.tenant_id)
    provider = await client.patch("/api/v1/tenant/notification-settings", headers=owner.headers(), json={
        "sendgrid_api_key": "SG.tenant-a-secret-key", "email_from_address": "desk@tenant-a.example.com"})
    assert provider.status_code == 200, provider.text
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        owner_session = await session.scalar(select(AuthSession.id).where(AuthSession.user_id == owner.user_id))
        domain_id = (await session.execute(
            text("SELECT id FROM tenant_domains WHERE domain = 'tenant-a.example.com'"))).scalar_one()
        inbox = InAppNotification(tenant_id=owner.tenant_id, user_id=customer.user_id, dedupe_key="walk:a:in_app",
                                  event="announcement", title="Tenant A inbox title", body="for A's client only",
                                  created_at=datetime.now(UTC))
        broadcast = Broadcast(tenant_id=owner.tenant_id, event="announcement", variables={"title": "A only"},
                              filter={}, workflow_id="broadcast-walk", status="completed")
        membership = Membership(tenant_id=owner.tenant_id, plan_id=plan["id"], client_id=customer.user_id,
                                status="active", title="Tenant A's secret plan", price_minor=99_900, currency="INR",
                                terms={}, workflow_id="membership-walk-a", periods_paid=1,
                                gateway_subscription_id="sub_walkTenantA01")
        session.add_all([inbox, broadcast, membership])
        await session.flush()
        notification_id, broadcast_id = str(inbox.id), str(broadcast.id)
    # Signed links and feed addresses are capabilities: the walk gets A's ids signed with a key
    # that is not ours, i.e. what someone without the email or the secret address could forge.
    forger = Keys("not-our-secret-" + "z" * 40, [Fernet.generate_key().decode()])
    params = {
        "client_id": customer.user_id,
        "session_id": str(owner_session),
        "domain_id": str(domain_id),
        "tenant_id": owner.tenant_id,
        "profile_id": profile["id"],
        "key": "driver:8",
        "locale": "en",
        "rule_id": rule["id"],
        "file_id": upload.json()["id"],
        "delivery_id": delivery.json()["id"],
        "consultant_id": consultant["id"],
        "offering_id": offering["id"],
        "booking_id": booking["id"],
        "on_date": day,
        "tenant_slug": owner.tenant_slug,
        "consultant_slug": consultant["slug"],
        "link_token": sign(forger, "booking", {"b": booking["id"], "t": owner.tenant_id}),
        "feed_token": sign(forger, "calendar", {"c": consultant["id"], "t": owner.tenant_id, "v": 1}),
        "order_id": order["id"],
        "coupon_id": coupon["id"],
        "line_id": order["lines"][0]["id"],
        "notification_id": notification_id,
        "broadcast_id": broadcast_id,
        "event": "announcement",
        "channel": "email",
        "user_id": owner.user_id,
        "invitation_id": invitation.json()["id"],
        "workflow_id": booking["workflow_id"],
        "quotation_id": quotation.json()["id"],
        "remedy_id": remedy["id"],
        "programme_id": programme.json()["id"],
        "course_id": course["id"],
        "module_id": course["module_id"],
        "lesson_id": course["lesson_id"],
        "cohort_id": course["cohort_id"],
        "enrollment_id": course["enrollment_id"],
        "note_id": course["note_id"],
        "code": course["code"],
        "course_slug": "a-course",
        "request_id": export.json()["id"],
        "product_id": product["id"],
        "package_id": package["id"],
        "plan_id": plan["id"],
        "membership_id": str(membership.id),
    }
    # The public page shows consultants and offerings by design; bookings and people it must not.
    secrets = {profile["id"], "Tenant A Person", a_text["text"], rule["id"], "tenant-a-offering",
               owner.tenant_id, owner.user_id, owner.email, customer.user_id, customer.email,
               staff_made["id"], staff_made["email"], "tenant-a.example.com", str(owner_session),
               upload.json()["id"], upload.json()["sha256"], delivery.json()["id"], "Annual forecast",
               booking["id"], booking["workflow_id"], order["id"], coupon["id"], "TENANTA10", "Tenant A's guide",
               notification_id, broadcast_id, "Tenant A private wording", "Tenant A inbox title",
               "SG.tenant-a-secret-key", remedy["id"], programme.json()["id"], "Tenant A's secret instructions",
               "Tenant A's secret lesson text", "tenant-a-draft-course",
               course["enrollment_id"], "Tenant A's private note", "Tenant A's question",
               quotation.json()["id"], "Tenant A's quotation", "Tenant A's vastu visit",
               invitation.json()["id"], "invited-to-a@example.com", product["id"], package["id"],
               plan["id"], "Tenant A's secret plan", str(membership.id), "sub_walkTenantA01"}
    assert domain["domains"] == ["tenant-a.example.com"]
    # What a body or a query may name, by property name: A's thing of that name.
    ids = {**params, "user_id": owner.user_id, "consultant_user_id": owner.user_id, "ref_id": booking["id"],
           "birth_profile_id": profile["id"], "photo_file_id": upload.json()["id"],
           "webinar_session_id": webinar["session_id"], "final_assessment_id": course["lesson_id"],
           "after_quiz_lesson_id": course["lesson_id"], "parent_id": course["post_id"]}
    return {"owner": owner, "params": params, "ids": ids, "secrets": secrets}


async def _course(client: AsyncClient, owner: Account) -> dict[str, str]:
    """A published course of A's (one module, one text lesson, one cohort) and a draft one."""
    h = owner.headers()
    course = (await client.post("/api/v1/courses", headers=h, json={"slug": "a-course", "title": "A's course"})).json()
    draft = await client.post("/api/v1/courses", headers=h, json={"slug": "tenant-a-draft-course", "title": "Draft"})
    assert draft.status_code == 201, draft.text
    module = (await client.post(f"/api/v1/courses/{course['id']}/modules", headers=h, json={"title": "M"})).json()
    lesson = await client.post(f"/api/v1/course-modules/{module['id']}/lessons", headers=h, json={
        "title": "L", "kind": "text", "body_md": "Tenant A's secret lesson text", "published": True})
    assert lesson.status_code == 201, lesson.text
    cohort = (await client.post(f"/api/v1/courses/{course['id']}/cohorts", headers=h, json={
        "name": "A batch", "starts_on": "2099-01-01"})).json()
    published = await client.patch(f"/api/v1/courses/{course['id']}", headers=h, json={"status": "published"})
    assert published.status_code == 200, published.text
    return {"id": course["id"], "module_id": module["id"], "lesson_id": lesson.json()["id"], "cohort_id": cohort["id"]}


async def _enrolment(client: AsyncClient, sessionmaker, temporal_client, owner: Account, customer: Account,
                     course: dict[str, str]) -> dict[str, str]:
    """A's client enrolled in A's course, with a note, a question and a certificate; its workflow settled."""
    made = await client.post("/api/v1/course-enrollments", headers=owner.headers(), json={
        "client_id": customer.user_id, "course_id": course["id"]})
    assert made.status_code == 201, made.text
    enrollment = made.json()
    lesson = f"/api/v1/course-enrollments/{enrollment['id']}/lessons/{course['lesson_id']}"

    async def settled() -> bool:
        state = await temporal_client.get_workflow_handle(enrollment["workflow_id"]).query("state")
        return state["syncs"] >= 1 and all(m["status"] != "sending" for m in state["messages"])
    assert await eventually(settled, True)
    note = await client.post(f"{lesson}/notes", headers=customer.headers(), json={"body": "Tenant A's private note"})
    assert note.status_code == 201, note.text
    post = await client.post(f"/api/v1/courses/{course['id']}/lessons/{course['lesson_id']}/discussion",
                             headers=customer.headers(), json={"body": "Tenant A's question"})
    assert post.status_code == 201, post.text
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        session.add(Certificate(tenant_id=owner.tenant_id, enrollment_id=enrollment["id"], code="WALK-AAAA-0001",
                                client_name="Client Person", course_title="A's course", issued_at=datetime.now(UTC)))
    # (a certificate's code is its own capability: whoever holds it may verify it on A's public page)
    return {"enrollment_id": enrollment["id"], "note_id": note.json()["id"], "post_id": post.json()["id"],
            "code": "WALK-AAAA-0001"}


async def _tenant_b(client: AsyncClient, sessionmaker) -> tuple[Account, Account, dict[str, str]]:
    """Tenant B's owner and client, and B's own things by name (the other ids of a body that tries one of A's)."""
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug or "")
    consultant, _ = await bookable(client, owner)
    webinar = await _webinar(client, owner, consultant["id"], days_ahead=0)
    return owner, customer, {
        "client_id": customer.user_id, "consultant_id": consultant["id"], "consultant_user_id": owner.user_id,
        "user_id": owner.user_id, "offering_id": webinar["id"], "tenant_slug": owner.tenant_slug or ""}


def _fill(path: str, params: dict[str, str]) -> str:
    for name in PARAM.findall(path):
        assert name in params, (
            f"{path} takes '{name}': add tenant A's value for it to the isolation walk")
    return PARAM.sub(lambda m: params[m.group(1)], path)


def _leaks(response_text: str, secrets: set[str]) -> set[str]:
    try:
        body = json.loads(response_text)
    except ValueError:
        body = response_text
    if isinstance(body, dict):
        body.pop("instance", None)  # echoes the requested path, i.e. the id we sent
    dumped = json.dumps(body)
    return {s for s in secrets if s and s in dumped}


async def _quiet(temporal_client, tenant_id: str) -> None:
    """Wait until tenant A's workflows have written what they write now (messages, PDFs).

    Messages go out from workflows after the request answers; a walk that began before they
    finished would see A's delivery log grow and blame the route it was calling.
    """
    async def running_notices() -> int:
        query = f"TenantId = '{tenant_id}' AND WorkflowType = 'Notify' AND ExecutionStatus = 'Running'"
        return len([w async for w in temporal_client.list_workflows(query)])

    async def bookings_confirmed_and_told() -> bool:
        query = f"TenantId = '{tenant_id}' AND WorkflowType = 'Consultation'"
        listed = [w async for w in temporal_client.list_workflows(query)]
        for each in listed:
            state = await temporal_client.get_workflow_handle(each.id).query("state")
            if "confirmed" not in state["steps_notified"]:
                return False
        return bool(listed)  # A has one booking: an empty list is visibility not caught up yet
    async def remedies_told() -> bool:
        query = f"TenantId = '{tenant_id}' AND WorkflowType = 'Remedy'"
        listed = [w async for w in temporal_client.list_workflows(query)]
        for each in listed:
            state = await temporal_client.get_workflow_handle(each.id).query("state")
            if not state["messages"] or any(m["status"] not in ("sent", "failed") for m in state["messages"]):
                return False
        return bool(listed)
    async def exports_told() -> bool:
        query = f"TenantId = '{tenant_id}' AND WorkflowType = 'PrivacyExport'"
        listed = [w async for w in temporal_client.list_workflows(query)]
        for each in listed:
            state = await temporal_client.get_workflow_handle(each.id).query("state")
            if not state["messages"] or any(m["status"] not in ("sent", "failed") for m in state["messages"]):
                return False
        return bool(listed)
    assert await eventually(running_notices, 0) == 0
    assert await eventually(bookings_confirmed_and_told, True)
    assert await eventually(remedies_told, True)
    assert await eventually(exports_told, True)


@dataclass
class Call:
    """One request of the walk, and what in it names tenant A's things."""

    url: str
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)  # json=, or files= and data=
    a_fields: set[str] = field(default_factory=set)        # path, query and body fields holding A's values
    a_body: dict[str, str] = field(default_factory=dict)   # the body's fields holding A's ids, and those ids
    a_path: bool = False                                    # the path names one of A's things
    sent: set[str] = field(default_factory=set)             # A's values in the query or body (answers may echo)


def _operation(method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = SPEC["paths"][path][method.lower()]
    return operation


def _calls(method: str, path: str, a: dict[str, Any], b_ids: dict[str, str]) -> list[Call]:
    """The requests that try `method path` with tenant A's ids: path and query always, and for a
    JSON body, the body with every id A's, then for each id the body with only that one A's (the
    others B's own, where B has one), so that no id hides behind another checked before it."""
    operation = _operation(method, path)
    ids: dict[str, str] = a["ids"]

    def a_value(name: str) -> str | None:
        return ids.get(ID_MEANING.get((method, path, name), name))

    overridden = PATH_OVERRIDES[(method, path)](b_ids) if (method, path) in PATH_OVERRIDES else {}
    base = Call(_fill(path, {**a["params"], **overridden}))
    path_params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
    for name, param in path_params.items():
        if name not in overridden:
            base.a_fields.add(name)
            names_a_thing = param["schema"].get("format") == "uuid" or name in CAPABILITIES
            base.a_path = base.a_path or (names_a_thing and not path.startswith(PUBLIC_BY_DESIGN))
    for param in operation.get("parameters", []):
        name = param["name"]
        if param["in"] == "header" and param.get("required"):
            base.headers[name] = str(sample_value(SPEC, param["schema"], name))
        if param["in"] != "query":
            continue
        value = a_value(name) if looks_like_id(name) else None
        if value is not None:
            base.query[name], base.a_fields, base.sent = value, base.a_fields | {name}, base.sent | {value}
        elif param.get("required"):
            base.query[name] = sample_value(SPEC, param["schema"], name)

    content = operation.get("requestBody", {}).get("content", {})
    kind = next(iter(content), None)
    if kind is None:
        return [base]
    assert kind in ("application/json", "multipart/form-data"), f"{method} {path} takes {kind}: teach the walk"
    schema, files = content[kind]["schema"], {}
    if kind == "multipart/form-data":  # file parts get a PDF (every upload takes one); the rest is form fields
        schema, files = _without_files(schema)
    try:
        sample = sample_body(SPEC, schema, a_value, BODY_OVERRIDES.get((method, path)))
    except UnknownId as exc:
        raise AssertionError(f"{method} {path}: the body names '{exc}'; add tenant A's value for it to the "
                             "walk's ids (in _tenant_a)") from exc
    bodies = [(sample.body, set(sample.ids))]
    if len(sample.ids) > 1:
        for tried in sample.ids:
            ours = {where: b_ids[b_name] for where, name in sample.ids.items()
                    if where != tried and (b_name := ID_MEANING.get((method, path, name), name)) in b_ids}
            if ours:
                bodies.append((sample.with_ids(ours), set(sample.ids) - set(ours)))
    calls = {json.dumps(body, sort_keys=True): _with_body(base, body, a_paths, files) for body, a_paths in bodies}
    return list(calls.values())


def _without_files(schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = schema.get("properties", {})
    binary = {name for name, part in parts.items() if part.get("format") == "binary"}
    fields = {**schema, "properties": {k: v for k, v in parts.items() if k not in binary},
              "required": [k for k in schema.get("required", []) if k not in binary]}
    return fields, {name: (f"{name}.pdf", PDF, "application/pdf") for name in binary}


def _with_body(base: Call, body: Any, a_paths: set[Any], files: dict[str, Any]) -> Call:
    a_body = {dotted(p): _at(body, p) for p in a_paths}
    leaves = {n.rsplit(".", 1)[-1] for n in a_body}  # a problem may name the property without its place
    payload = {"files": files, "data": body} if files else {"json": body}
    return Call(base.url, base.query, base.headers, payload, base.a_fields | set(a_body) | leaves, a_body,
                base.a_path, base.sent | set(a_body.values()))


def _at(body: Any, path: Any) -> str:
    for step in path:
        body = body[step]
    return str(body)


def _problem_field(response: Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    found = response.json().get("field")
    return str(found) if found is not None else None


def _judge(method: str, path: str, who: str, call: Call, response: Response) -> list[str]:
    """What is wrong with tenant B's answer (leaks are checked apart): a request naming one of
    A's things is refused, 403 or 404, or 422 naming that very field ("no such client"); every
    request gets past validation, or the walk would prove nothing about the route."""
    where, status, named = f"{method} {path} as {who}", response.status_code, _problem_field(response)
    if status == 500:
        return [f"{where}: {status} {response.text[:300]}"]
    if status == 422 and named not in call.a_fields:
        return [f"{where}: 422 on '{named}', which holds nothing of tenant A's ({response.text[:300]}); the "
                "request must get past validation to prove isolation: fix the sample (tests/openapi_samples.py) "
                "or give the route a BODY_OVERRIDES entry"]
    taken = sorted(set(call.a_body) - NOT_REFERENCES.get((method, path), set()))
    if call.a_path and not path.startswith("/api/v1/webhooks/"):  # (webhooks: the signature decides)
        taken.append("path")
    if taken and not (status in (403, 404) or (status == 422 and named in call.a_fields)):
        return [f"{where} answered {status} to tenant A's {taken}, not 403/404: {response.text[:300]}"]
    return []


async def test_no_route_shows_or_changes_another_tenants_data(client, sessionmaker, temporal_client):
    a = await _tenant_a(client, sessionmaker, temporal_client)
    b_owner, b_client, b_ids = await _tenant_b(client, sessionmaker)
    before = await _snapshot(sessionmaker)

    wrong: list[str] = []
    stored_by_b: set[str] = set()  # A's ids that B wrote into its own data where they are no reference
    checked, bodies_with_a_ids = 0, set()
    for actor in (b_owner, b_client):
        for method, path in OPERATIONS:
            if path.endswith("/logout") or path.startswith("/api/v1/auth/password") or path in (
                    "/api/v1/me/password", "/api/v1/me/privacy/erasure"):
                continue  # these act only on the caller; they would end the walker's own session
            for call in _calls(method, path, a, b_ids):
                secrets = a["secrets"] - call.sent - stored_by_b  # an answer may repeat what B sent
                response = await client.request(method, call.url, params=call.query,
                                                headers=actor.headers(**call.headers), **call.payload)
                if leaked := _leaks(response.text, secrets):
                    wrong.append(f"{method} {path} as {actor.email} showed tenant A's {leaked}")
                wrong += _judge(method, path, actor.email, call, response)
                if response.is_success:
                    stored_by_b |= {v for k, v in call.a_body.items() if k in NOT_REFERENCES.get((method, path), ())}
                # The same call naming tenant A is refused outright.
                naming_a = actor.headers(**call.headers, **{"X-Tenant": a["owner"].tenant_slug})
                crossed = await client.request(method, call.url, params=call.query, headers=naming_a, **call.payload)
                if leaked := _leaks(crossed.text, secrets):
                    wrong.append(f"{method} {path} as {actor.email} with X-Tenant A showed tenant A's {leaked}")
                refused = crossed.status_code in (403, 404) or (
                    crossed.status_code == 422 and _problem_field(crossed) in call.a_fields)
                # (signing in is not tenant-bound, and webhooks are authenticated by their signature)
                tenant_bound = path.startswith("/api/v1/") and not path.startswith(("/api/v1/auth/",
                                                                                    "/api/v1/webhooks/"))
                if tenant_bound and not refused:
                    wrong.append(f"{method} {path} as {actor.email} with X-Tenant A: {crossed.status_code} "
                                 f"{crossed.text[:300]}")
                if call.a_body:
                    bodies_with_a_ids.add((method, path))
                checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked >= 2 * len(OPERATIONS) - 10
    assert len(bodies_with_a_ids) >= 10, sorted(bodies_with_a_ids)

    after = await _snapshot(sessionmaker)
    a_rows = lambda snap: {t: [r for r in rows if any(s in r for s in (a["owner"].tenant_id,))]  # noqa: E731
                           for t, rows in snap.items()}
    before_a, after_a = a_rows(before), a_rows(after)
    for table in before_a:
        if table in {"audit_events", "auth_sessions", "outbox_messages", "retired_refresh_tokens",
                     "analytics_daily", "analytics_revenue_daily", "analytics_client_days",
                     "analytics_view_buckets", "analytics_zone_fills"}:
            # only B's own activity may add rows; A's existing rows must be untouched (the hourly
            # analytics roll-up, if a schedule fires mid-walk, rewrites A's figures unchanged)
            assert set(before_a[table]) <= set(after_a[table]), table
        else:
            assert before_a[table] == after_a[table], f"tenant A's {table} changed"


async def _signup_told(sessionmaker, owner: Account) -> None:
    """The owner's verification email leaves after the sign-up answers: wait for it, or a snapshot
    taken before it lands would blame the route under test for the rows it adds."""
    async def sent() -> int:
        return len(await outbox_for(sessionmaker, owner.email))
    await poll_until(sent, lambda count: count >= 1)


def _body_operations() -> list[tuple[str, str]]:
    spec = create_app().openapi()
    return [(m.upper(), p) for p, item in spec["paths"].items() for m, op in item.items()
            if "requestBody" in op and "application/json" in op["requestBody"].get("content", {})]


@pytest.mark.parametrize(("method", "path"), _body_operations())
async def test_wrong_body_is_a_clear_problem_and_changes_nothing(client, sessionmaker, keys, method, path):
    owner = await active_consultancy(client, sessionmaker)
    await _signup_told(sessionmaker, owner)
    admin, _ = await platform_admin(client, sessionmaker, keys)
    params = {"tenant_id": owner.tenant_id, "client_id": owner.user_id,
              "session_id": owner.user_id, "domain_id": owner.user_id,
              "profile_id": owner.user_id, "key": "driver:8", "locale": "en", "rule_id": owner.user_id,
              "file_id": owner.user_id, "delivery_id": owner.user_id, "consultant_id": owner.user_id,
              "offering_id": owner.user_id, "booking_id": owner.user_id, "on_date": "2026-12-01",
              "tenant_slug": owner.tenant_slug, "consultant_slug": "acharya", "link_token": "x.y",
              "feed_token": "x.y", "order_id": owner.user_id, "coupon_id": owner.user_id, "line_id": owner.user_id,
              "notification_id": owner.user_id, "broadcast_id": owner.user_id, "event": "announcement",
              "channel": "email", "remedy_id": owner.user_id, "programme_id": owner.user_id,
              "course_id": owner.user_id, "module_id": owner.user_id, "lesson_id": owner.user_id,
              "cohort_id": owner.user_id, "enrollment_id": owner.user_id, "note_id": owner.user_id,
              "code": "WALK-0000-0000", "course_slug": "none",
              "quotation_id": owner.user_id, "user_id": owner.user_id, "invitation_id": owner.user_id,
              "workflow_id": f"consultation-{owner.user_id}", "request_id": owner.user_id,
              "product_id": owner.user_id, "package_id": owner.user_id, "plan_id": owner.user_id,
              "membership_id": owner.user_id}
    headers = admin.headers() if path.startswith("/api/v1/admin") else owner.headers()
    url = _fill(path, params)
    before = await _snapshot(sessionmaker)
    for wrong in ([], "text", {"__unexpected__": 1}):
        response = await client.request(method, url, headers=headers, json=wrong)
        body = assert_problem(response, 422, "validation")
        assert body["field"], f"{method} {path}: no field named for {wrong!r}"
        assert body["errors"], f"{method} {path}: no error list"
    assert await _snapshot(sessionmaker) == before, f"{method} {path} changed data on bad input"


def _operations_with(predicate) -> list[tuple[str, str]]:
    spec = create_app().openapi()
    return [(m.upper(), p) for p, item in spec["paths"].items() for m, op in item.items() if predicate(p, op)]


def _takes_param(name: str):
    return lambda path, op: any(p.get("name") == name and p.get("in") == "query" for p in op.get("parameters", []))


def _uuid_path_params(op: dict[str, Any]) -> list[str]:
    return [p["name"] for p in op.get("parameters", [])
            if p.get("in") == "path" and p.get("schema", {}).get("format") == "uuid"]


UUID_PATH_OPERATIONS = [
    (m.upper(), p, _uuid_path_params(op)[0])
    for p, item in create_app().openapi()["paths"].items() for m, op in item.items() if _uuid_path_params(op)
]


@pytest.mark.parametrize(("method", "path", "name"), UUID_PATH_OPERATIONS)
async def test_malformed_ids_in_the_path_are_clear(client, sessionmaker, keys, method, path, name):
    owner = await active_consultancy(client, sessionmaker)
    await _signup_told(sessionmaker, owner)
    admin, _ = await platform_admin(client, sessionmaker, keys)
    headers = admin.headers() if path.startswith("/api/v1/admin") else owner.headers()
    url = _fill(path, {n: "not-a-uuid" if n == name else owner.user_id for n in PARAM.findall(path)})
    before = await _snapshot(sessionmaker)
    assert_problem(await client.request(method, url, headers=headers, json={}), 422, "validation", name)
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize(("method", "path"), _operations_with(_takes_param("limit")))
async def test_out_of_range_paging_is_clear_on_every_list(client, sessionmaker, keys, method, path):
    owner = await active_consultancy(client, sessionmaker)
    admin, _ = await platform_admin(client, sessionmaker, keys)
    headers = admin.headers() if path.startswith("/api/v1/admin") else owner.headers()
    for value in ("0", "1000", "ten"):
        body = assert_problem(await client.request(method, path, params={"limit": value}, headers=headers),
                              422, "validation")
        assert "limit" in {e["field"] for e in body["errors"]}, body


async def test_counts_helper_sees_rows(sessionmaker, client):
    # Guards the walk above: a snapshot that always came back empty would prove nothing.
    await active_consultancy(client, sessionmaker)
    snap = await _snapshot(sessionmaker)
    assert snap["tenants"] and snap["users"]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(AuthSession)) == 1
