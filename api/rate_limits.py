"""API rate limits on every route: per client address and per tenant, by class of route.

An ASGI middleware, before any database work: the request's class comes from its method and
path, its tenant from what it names (the signed-in person's tenant in a valid access token, else
`/public/{slug}`, `X-Tenant` or the host), and both counters are added to in one Redis round trip
(`api.ratelimit.count_and_check`); a request far below its limits with no token to check does not
wait for it (`api.rate_counts`). The same round trip looks up whether a bearer token's session
was signed out, and the token's verified payload is kept for the request (`verified_token`): a
request verifies its token once and asks Redis once, where it did both twice (docs/performance.md).
Over either limit: 429 problem+json with `Retry-After`. If Redis
cannot be reached the request goes on (the limits protect the service; they must not take it
down). Limits and window are settings (`RATE_LIMIT_*`); docs/api.md lists the defaults.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import PROBLEM_JSON, RATE_LIMITED, problem_body
from api.ratelimit import count_and_check
from api.schemas.common import RESERVED_SLUGS
from core.settings import Settings

log = logging.getLogger(__name__)

API = "/api/v1/"
# Probes and scrapers call these every few seconds from one address; they are never limited.
UNLIMITED = frozenset({"/health", "/ready", "/metrics"})
CLASSES = ("auth", "public", "read", "write", "webhook")
_PUBLIC_PREFIXES = ("public/", "booking-links/", "calendar-feeds/", "remedy-links/")
_WEBHOOK_PREFIXES = ("webhooks/",)
_TENANT_IN_PATH = re.compile(r"^(?:public/([a-z0-9-]{1,63})(?:/|$)|webhooks/razorpay/([0-9a-fA-F-]{36})$)")


@dataclass(frozen=True)
class Limits:
    enabled: bool
    window: int
    per_class: dict[str, tuple[int, int]]  # class -> (per address, per tenant); 0 = no limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            enabled=settings.rate_limits_enabled,
            window=settings.rate_limit_window_seconds,
            per_class={name: (getattr(settings, f"rate_limit_{name}_per_ip"),
                              getattr(settings, f"rate_limit_{name}_per_tenant")) for name in CLASSES},
        )


def route_class(method: str, path: str) -> str | None:
    """'auth', 'public', 'webhook', 'read' or 'write'; None for the unlimited probes."""
    if path in UNLIMITED:
        return None
    rest = path[len(API):] if path.startswith(API) else ""
    if rest.startswith("auth/"):
        return "auth"
    if rest.startswith(_WEBHOOK_PREFIXES):
        return "webhook"
    if rest.startswith(_PUBLIC_PREFIXES) or not path.startswith(API):
        return "public"  # the API's own documentation (/docs, /openapi.json, /problems) too
    return "read" if method in ("GET", "HEAD", "OPTIONS") else "write"


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k: v for k, v in scope.get("headers", [])}


# scope["state"] key (request.state): (token, its verified payload, whether its session was
# signed out, or None when not looked up)
VERIFIED_TOKEN = "verified_token"


def bearer_token(headers: dict[bytes, bytes]) -> str | None:
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def verified_token(scope: Scope, token: str) -> tuple[dict[str, Any], bool | None] | None:
    """(payload, signed out?) if the rate limiter verified this very token for this request."""
    kept = scope.get("state", {}).get(VERIFIED_TOKEN)
    if kept is None or kept[0] != token:
        return None
    return kept[1], kept[2]


def tenant_key(scope: Scope, headers: dict[bytes, bytes], claims: dict[str, Any] | None,
               base_domain: str) -> str | None:
    """What the request's tenant is counted under: 'id:<uuid>' for a signed-in person of a tenant
    (a valid token's `claims`), else the tenant the request names ('slug:<slug>' or 'host:<domain>')."""
    if claims and claims.get("tid"):
        return f"id:{claims['tid']}"
    path: str = scope["path"]
    if path.startswith(API):
        match = _TENANT_IN_PATH.match(path[len(API):])
        if match:
            return f"slug:{match.group(1)}" if match.group(1) else f"id:{match.group(2).lower()}"
    named = headers.get(b"x-tenant")
    if named:
        return "slug:" + named.decode("latin-1").strip().lower()[:63]
    host = headers.get(b"host", b"").decode("latin-1").split(":")[0].strip().lower().rstrip(".")
    if not host or "." not in host or host == base_domain or host.replace(".", "").isdigit():
        return None
    if host.endswith("." + base_domain):
        slug = host.removesuffix("." + base_domain).split(".")[-1]
        return None if slug in RESERVED_SLUGS else f"slug:{slug}"
    return f"host:{host[:253]}"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, state_getter: Any, settings: Settings) -> None:
        self.app = app
        self.state_getter = state_getter
        self.limits = Limits.from_settings(settings)
        self.base_domain = settings.base_domain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = route_class(scope["method"], scope["path"]) if scope["type"] == "http" and self.limits.enabled \
            else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        per_ip, per_tenant = self.limits.per_class[kind]
        state = self.state_getter()
        counters: list[tuple[str, int, str]] = []
        client = scope.get("client")
        if per_ip and client:
            counters.append((f"rl:{kind}:ip:{client[0]}", per_ip, "from your address"))
        headers = _headers(scope)
        token = bearer_token(headers)
        claims: dict[str, Any] | None = None
        if token is not None:
            with contextlib.suppress(jwt.PyJWTError):  # api.deps answers it, with the reason
                claims = state.keys.decode_token(token)
        if per_tenant:
            tenant = tenant_key(scope, headers, claims, self.base_domain)
            if tenant:
                counters.append((f"rl:{kind}:t:{tenant}", per_tenant, "for this consultancy"))
        session_id = claims.get("sid") if claims else None
        check = [state.keys.revoked_key(session_id)] if isinstance(session_id, str) else []
        revoked: bool | None = None
        known = state.rate_counts(self.limits.window)
        # far below every limit and nothing to check: counted in the background (api/rate_counts.py)
        if counters and (check or not known.admit([(key, limit) for key, limit, _ in counters])):
            keys = [key for key, _, _ in counters]
            added = known.adding(keys)
            counts: list[tuple[int, int]] = []
            try:
                counts, present = await count_and_check(state.redis_batch, keys, self.limits.window, check, added)
                revoked = present[0] if check else None
            except Exception:  # Redis down: serve unlimited rather than not at all
                log.warning("rate limits skipped: Redis did not answer", exc_info=True)
            finally:
                known.settle(keys, added, counts)
            for (_, limit, whom), (hits, ttl) in zip(counters, counts, strict=False):
                if hits > limit:
                    await _too_many(send, kind, whom, limit, self.limits.window, ttl)
                    return
        if claims is not None and token is not None:
            scope.setdefault("state", {})[VERIFIED_TOKEN] = (token, claims, revoked)
        await self.app(scope, receive, send)


async def _too_many(send: Send, kind: str, whom: str, limit: int, window: int, retry_after: int) -> None:
    detail = (f"too many {kind} requests {whom}: the limit is {limit} per {window} seconds; "
              f"try again in {retry_after} seconds")
    body = json.dumps(problem_body(RATE_LIMITED, detail, extra={"retry_after": retry_after,
                                                                 "limit": limit, "window_seconds": window})).encode()
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode())]})
    await send({"type": "http.response.body", "body": body})


def never_refusing(limit: int = 10**9) -> dict[str, str]:
    """Settings (environment names) that keep every counter and its Redis round trip but never
    refuse: for the test suite and the benches, which send far more from one address than a person."""
    return {f"RATE_LIMIT_{name.upper()}_PER_{whom}": str(limit) for name in CLASSES for whom in ("IP", "TENANT")}
