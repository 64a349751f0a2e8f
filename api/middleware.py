"""ASGI middleware: request ids and access logs, and Idempotency-Key replay for POSTs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import (
    CORS_REFUSED,
    IDEMPOTENCY_IN_PROGRESS,
    IDEMPOTENCY_REUSED,
    PROBLEM_JSON,
    VALIDATION,
    ProblemType,
    problem_body,
    problem_response,
)
from api.state import AppState
from core.logging import client_ip_var, request_id_var
from core.security import Keys
from domain.housekeeping import IDEMPOTENCY_KEEP
from models.platform import IdempotencyRecord

log = logging.getLogger("muhurta.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Path segments that are bearer capabilities (signed manage links, calendar feed tokens):
# whoever reads the log must not be able to use them.
_CAPABILITY_IN_PATH = re.compile(r"(/(?:booking-links|calendar-feeds)/)[^/]+")


def loggable_path(path: str) -> str:
    return _CAPABILITY_IN_PATH.sub(r"\1<token>", path)


class RequestIdMiddleware:
    """Takes a sane X-Request-ID from the caller or makes one; echoes it; logs each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = request_id_var.set(request_id)
        client = scope.get("client")
        ip_token = client_ip_var.set(client[0] if client else None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s -> %s", scope["method"], loggable_path(scope["path"]), status,
                extra={"status": status, "ms": round((time.perf_counter() - started) * 1000, 1)},
            )
            request_id_var.reset(token)
            client_ip_var.reset(ip_token)


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-ID when it is sane (1 to 64 of `A-Za-z0-9._-`), else a new one."""
    incoming = _header(scope, b"x-request-id")
    return incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(16).hex()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class IdempotencyMiddleware:
    """Replays the first answer to a POST that repeats its Idempotency-Key.

    Records live in PostgreSQL (they must outlive Redis restarts). A key is scoped to the
    caller: the signed-in user, or for anonymous calls the tenant named by the request. Reusing
    a key with another method, path or body is an error; a repeat that arrives while the first
    is still running gets a 409 to retry. Server errors and 429s are not recorded, so a retry
    after them runs again. A key protects its request for a day (`IDEMPOTENCY_KEEP`); the answer
    is stored encrypted (it may carry tokens) and the hourly Housekeeping workflow deletes it.
    """

    STALE_AFTER = timedelta(seconds=60)

    def __init__(self, app: ASGIApp, state_getter: Any) -> None:
        self.app = app
        self.state_getter = state_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        state: AppState = self.state_getter()
        if not (0 < len(key) <= 255):
            await _send_problem(send, VALIDATION, "Idempotency-Key must be 1 to 255 characters",
                                "Idempotency-Key")
            return
        body = await _read_body(receive)
        fingerprint = hashlib.sha256(
            b"\n".join([scope["method"].encode(), scope["path"].encode(),
                        scope.get("query_string", b""), body])
        ).hexdigest()
        caller = _caller(scope, state)

        record = await self._claim(state, caller, key, fingerprint)
        if isinstance(record, IdempotencyRecord):
            if record.fingerprint != fingerprint:
                await _send_problem(send, IDEMPOTENCY_REUSED, None, "Idempotency-Key")
            elif record.completed_at is None:
                await _send_problem(send, IDEMPOTENCY_IN_PROGRESS, None, "Idempotency-Key",
                                    headers=[(b"retry-after", b"1")])
            else:
                await _replay(send, record, state.keys)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": bytearray()}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"].extend(message.get("body", b""))
            await send(message)

        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await self._finish(state, caller, key, captured)

    async def _claim(
        self, state: AppState, caller: str, key: str, fingerprint: str
    ) -> IdempotencyRecord | None:
        now = datetime.now(UTC)
        async with state.sessionmaker() as session, session.begin():
            inserted = await session.execute(
                insert(IdempotencyRecord)
                .values(scope=caller, key=key, fingerprint=fingerprint, created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=["scope", "key"])
                .returning(IdempotencyRecord.id)
            )
            if inserted.first() is not None:
                return None
            record = (await session.execute(
                select(IdempotencyRecord)
                .where(IdempotencyRecord.scope == caller, IdempotencyRecord.key == key)
                .with_for_update()
            )).scalar_one()
            if record.created_at < now - IDEMPOTENCY_KEEP:
                # expired, not yet purged: the key is free again
                record.fingerprint, record.created_at, record.updated_at = fingerprint, now, now
                record.status_code = record.response_headers = record.response_body = record.completed_at = None
                return None
            stale = record.completed_at is None and record.updated_at < now - self.STALE_AFTER
            if stale and record.fingerprint == fingerprint:
                # the first attempt died mid-way: this one takes over
                record.updated_at = now
                return None
            return record

    async def _finish(self, state: AppState, caller: str, key: str, captured: dict[str, Any]) -> None:
        status = int(captured["status"])
        where = (IdempotencyRecord.scope == caller, IdempotencyRecord.key == key)
        async with state.sessionmaker() as session, session.begin():
            if status >= 500 or status == 429:
                await session.execute(delete(IdempotencyRecord).where(*where))
                return
            headers = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in captured["headers"]
                if k.lower() in (b"content-type", b"location", b"retry-after")
            }
            await session.execute(
                update(IdempotencyRecord).where(*where).values(
                    status_code=status,
                    response_headers=headers,
                    response_body=state.keys.encrypt(bytes(captured["body"]).decode("utf-8", errors="replace")),
                    completed_at=datetime.now(UTC),
                )
            )


def _caller(scope: Scope, state: AppState) -> str:
    auth = _header(scope, b"authorization") or ""
    if auth.lower().startswith("bearer "):
        try:
            claims = jwt.decode(auth[7:].strip(), state.keys.jwt_secret, algorithms=["HS256"])
            return f"user:{claims['sub']}"
        except jwt.PyJWTError:
            pass
    tenant = _header(scope, b"x-tenant") or _header(scope, b"host") or ""
    return f"anon:{tenant.lower()}"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _replay(send: Send, record: IdempotencyRecord, keys: Keys) -> None:
    body = keys.decrypt(record.response_body).encode() if record.response_body else b""
    headers = [(k.encode(), v.encode()) for k, v in (record.response_headers or {}).items()]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_problem(
    send: Send,
    kind: ProblemType,
    detail: str | None,
    field_name: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps(problem_body(kind, detail, field_name=field_name)).encode()
    await send({
        "type": "http.response.start",
        "status": kind.status,
        "headers": [(b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()), *(headers or [])],
    })
    await send({"type": "http.response.body", "body": body})


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered as problem+json like every other error
    (Starlette's own answer is plain text), naming what was refused."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        return problem_response(CORS_REFUSED, f"the API does not allow this cross-origin request: {refused} "
                                              f"(origin {request_headers.get('origin')!r})",
                                field_name=refused.split(",")[0].strip(), headers=headers)
