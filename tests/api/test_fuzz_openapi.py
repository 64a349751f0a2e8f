"""A bounded property-based pass over the whole OpenAPI document: no input is a 5xx or a hang.

Schemathesis draws requests from each operation's schema with hypothesis: bodies, query and
path parameters that fit the schema (nulls, edge lengths, odd unicode) and ones that do not.
Each is sent through the real app, signed in as the owner of a throwaway consultancy and as
one of its clients. Any 5xx, any exception, or a request slower than SLOW_SECONDS twice in a
row fails the test with what to send to see it again. Routes added later are covered without
a new test: the operations are read from the document. The pass is bounded: FUZZ_EXAMPLES
cases per operation, within FUZZ_SECONDS (every operation gets its first case regardless).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import schemathesis
from booking_support import bookable
from httpx import AsyncClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from support import Account, active_consultancy, register_client

from api.app import create_app

SPEC = create_app().openapi()
SCHEMA = schemathesis.openapi.from_dict(SPEC)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
BUDGET_SECONDS = float(os.environ.get("FUZZ_SECONDS", "120"))
SLOW_SECONDS = 5.0
# Acting on the caller's own sign-in would end the fuzzer's session, and prove nothing more.
SKIPPED = ("/api/v1/auth/logout", "/api/v1/auth/password/", "/api/v1/me/password", "/api/v1/auth/totp/")


def _cases(operation: Any) -> list[Any]:
    """A few cases fitting the schema and a few that do not, drawn by hypothesis."""
    drawn: list[Any] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        @settings(max_examples=max(1, EXAMPLES // 2), phases=[Phase.generate], database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), derandomize=True)
        @given(case=operation.as_strategy(generation_mode=mode))
        def collect(case: Any) -> None:
            drawn.append(case)
        try:
            collect()
        except Exception:
            if mode == GenerationMode.POSITIVE:
                raise
    return drawn


def _operations() -> list[Any]:
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    return [op for op in operations if not op.path.startswith(SKIPPED)]


def _request(case: Any, who: Account, fixed_path: dict[str, str]) -> dict[str, Any]:
    for name, value in fixed_path.items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url="http://testserver")
    generated = {k: v for k, v in (kwargs.get("headers") or {}).items()
                 if k.lower() not in {"authorization", "x-tenant", "x-schemathesis-testcaseid", "user-agent",
                                      "accept-encoding", "connection"}}
    request = {"method": kwargs["method"], "url": kwargs["url"], "params": kwargs.get("params") or None,
               "headers": {**generated, **who.headers()}}
    for key in ("json", "data", "files", "content"):
        if key in kwargs:
            request[key] = kwargs[key]
    if "data" in request and "files" not in request and not isinstance(request["data"], (dict, list)):
        request["content"] = request.pop("data")
    return request


def _shown(request: dict[str, Any]) -> str:
    parts = [request["method"], request["url"]]
    if request.get("params"):
        parts.append(f"params={json.dumps(request['params'], default=str)[:300]}")
    for key in ("json", "data", "content"):
        if key in request:
            parts.append(f"{key}={json.dumps(request[key], default=str)[:400]}")
    if "files" in request:
        parts.append("(multipart)")
    return " ".join(parts)


async def test_no_generated_request_is_a_server_error_or_slow(client: AsyncClient, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug or "")
    fixed_path = await _things(client, owner, customer)
    plan = [(op, _cases(op)) for op in _operations()]
    assert len(plan) >= 100, "the OpenAPI document lost its operations?"

    failures: list[str] = []
    sent, started = 0, time.monotonic()
    for round_number in range(EXAMPLES):
        if round_number and time.monotonic() - started > BUDGET_SECONDS:
            break
        for op, cases in plan:
            if round_number >= len(cases):
                continue
            for who in (owner, customer):
                request = _request(cases[round_number], who, fixed_path)
                problem = await _send(client, request)
                sent += 1
                if problem:
                    failures.append(f"{op.method.upper()} {op.path} as {who.email}: {problem}\n    {_shown(request)}")
    print(f"fuzz: {sent} requests over {len(plan)} operations in {time.monotonic() - started:.0f} s")
    assert not failures, f"{len(failures)} requests failed:\n" + "\n".join(failures[:40])


async def _things(client: AsyncClient, owner: Account, customer: Account) -> dict[str, str]:
    """Real ids of the throwaway consultancy for the path, by parameter name: random ones would
    stop nearly every request at 404, before the route's own handling of the body."""
    consultant, offering = await bookable(client, owner)
    coupon = await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "FUZZ10", "kind": "percent", "percent_bp": 1000})
    order = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": customer.user_id, "lines": [{"kind": "product", "description": "Guide", "unit_amount": 5000}]})
    profile = await client.post("/api/v1/birth-profiles", headers=customer.headers(), json={
        "label": "Self", "full_name": "Fuzz Person", "birth": {
            "date": "1990-05-17", "time": "14:25", "latitude": 28.6139, "longitude": 77.209}})
    quotation = await client.post("/api/v1/quotations", headers=owner.headers(), json={
        "consultant_id": consultant["id"], "client_id": customer.user_id, "title": "Fuzz quotation",
        "lines": [{"kind": "custom", "description": "Guidance", "unit_amount": 5000}]})
    for made in (coupon, order, profile, quotation):
        assert made.status_code == 201, made.text
    return {"tenant_slug": owner.tenant_slug or "", "consultant_slug": consultant["slug"],
            "consultant_id": consultant["id"], "offering_id": offering["id"], "coupon_id": coupon.json()["id"],
            "order_id": order.json()["id"], "line_id": order.json()["lines"][0]["id"],
            "profile_id": profile.json()["id"], "client_id": customer.user_id,
            "quotation_id": quotation.json()["id"]}


async def _send(client: AsyncClient, request: dict[str, Any]) -> str | None:
    """What is wrong with the answer to `request`, if anything (a slow one is tried once more)."""
    for attempt in range(2):
        began = time.monotonic()
        try:
            response = await client.request(**request)
        except Exception as exc:
            return f"raised {type(exc).__name__}: {exc}"
        took = time.monotonic() - began
        if response.status_code >= 500:
            return f"{response.status_code} {response.text[:300]}"
        if took <= SLOW_SECONDS:
            return None
        if attempt:
            return f"took {took:.1f} s, twice (answered {response.status_code})"
    return None
