"""Local stand-ins for SendGrid and Twilio: real HTTP servers on 127.0.0.1 that record every request
and answer like the real service (or with the failures a test asks for).

Tests point the real adapters at them (SENDGRID_API_HOST, TWILIO_API_BASE_URL) and check the exact
request the real service expects: path, auth header, body.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def basic_auth(self) -> tuple[str, str]:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        assert scheme.lower() == "basic", self.headers
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (to make the client time out)


@dataclass
class FakeProvider:
    kind: str  # "sendgrid" or "twilio"
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)  # answered in order; then the default success

    def default_reply(self, recorded: Recorded) -> Reply:
        if self.kind == "sendgrid":
            return Reply(202, None, {"X-Message-Id": f"sg-{uuid.uuid4().hex[:16]}"})
        sid = "SM" + uuid.uuid4().hex
        form = recorded.form()
        return Reply(201, {"sid": sid, "status": "queued", "to": form.get("To", [""])[0],
                           "from": form.get("From", [""])[0], "body": form.get("Body", [""])[0]})

    def fail_next(self, *replies: Reply) -> None:
        self.replies.extend(replies)


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            recorded = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                self.rfile.read(length))
            provider.requests.append(recorded)
            reply = provider.replies.pop(0) if provider.replies else provider.default_reply(recorded)
            if reply.delay:
                time.sleep(reply.delay)  # allowed: a slow provider, so the adapter's own timeout fires
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

    return Handler


@contextmanager
def fake_provider(kind: str) -> Iterator[FakeProvider]:
    provider = FakeProvider(kind)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def twilio_error(status: int, code: int, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                          "status": status})


def sendgrid_error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"errors": [{"message": message, "field": None, "help": None}]}, headers or {})
