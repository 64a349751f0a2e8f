"""The production Razorpay adapter: the official `razorpay` SDK, run off the event loop.

Tests and `make dev` use the very same class against the local gateway; only the credentials'
base URL differs (the SDK's `base_url` option).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError

from core.observability.providers import provider_call
from core.razorpay import GatewayCredentials

T = TypeVar("T")

TIMEOUT = 20  # seconds, for each HTTP call to Razorpay


class GatewayRefused(Exception):
    """Razorpay refused the request itself (400): retrying the same request will not help."""


class GatewayKeysRefused(GatewayRefused):
    """Razorpay refused the account's keys (401/403): the consultancy must fix its payment settings."""


class GatewayUnavailable(Exception):
    """Razorpay could not be reached or failed (5xx): retry later."""


class RazorpayGateway:
    def __init__(self, credentials: GatewayCredentials) -> None:
        self.credentials = credentials

    def _client(self, statuses: list[int] | None = None) -> razorpay.Client:
        # One client (and requests session) per call: the SDK's session is not shared across threads.
        session = requests.Session()
        session.request = _with_timeout(session.request, statuses)  # type: ignore[method-assign]
        client = razorpay.Client(session=session, auth=(self.credentials.key_id, self.credentials.key_secret),
                                 base_url=self.credentials.base_url)
        client.set_app_details({"title": "Muhurta", "version": "1.0"})
        return client

    async def _call(self, operation: str, fn: Callable[[razorpay.Client], T]) -> T:
        def run() -> T:
            statuses: list[int] = []  # the SDK's errors do not carry the HTTP status: keep it here
            try:
                return fn(self._client(statuses))
            except BadRequestError as exc:
                if statuses and statuses[-1] in (401, 403):
                    raise GatewayKeysRefused(f"HTTP {statuses[-1]}: {exc}") from exc
                raise GatewayRefused(str(exc)) from exc
            except (GatewayError, ServerError, requests.RequestException, ValueError) as exc:
                raise GatewayUnavailable(f"{type(exc).__name__}: {exc}") from exc
        try:
            # the whole call, name lookup and slow drips included; a span, latency, failures by reason
            async with asyncio.timeout(TIMEOUT + 5):
                with provider_call("razorpay", "payments", operation):
                    return await asyncio.to_thread(run)
        except TimeoutError as exc:
            raise GatewayUnavailable(f"Razorpay did not answer within {TIMEOUT + 5} s") from exc

    async def find_order(self, receipt: str) -> dict[str, Any] | None:
        found: dict[str, Any] = await self._call("order.all", lambda c: c.order.all({"receipt": receipt}))
        items = found.get("items") or []
        return dict(items[0]) if items else None

    async def ensure_order(self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]) -> dict[str, Any]:
        """The Razorpay order for `receipt` (our order id), created once: a retry finds the first."""
        existing = await self.find_order(receipt)
        if existing is not None:
            return existing
        created: dict[str, Any] = await self._call("order.create", lambda c: c.order.create(
            {"amount": amount, "currency": currency, "receipt": receipt, "notes": notes}))
        return created

    async def fetch_order(self, gateway_order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = await self._call("order.fetch", lambda c: c.order.fetch(gateway_order_id))
        return order

    async def order_payments(self, gateway_order_id: str) -> list[dict[str, Any]]:
        found: dict[str, Any] = await self._call("order.payments", lambda c: c.order.payments(gateway_order_id))
        return list(found.get("items") or [])

    async def fetch_payment(self, payment_id: str) -> dict[str, Any]:
        payment: dict[str, Any] = await self._call("payment.fetch", lambda c: c.payment.fetch(payment_id))
        return payment

    async def refund(self, payment_id: str, *, amount: int, idempotency_key: str, notes: dict[str, str],
                     receipt: str) -> dict[str, Any]:
        """A refund Razorpay makes at most once per key (`X-Refund-Idempotency`), however often asked."""
        refund: dict[str, Any] = await self._call("payment.refund", lambda c: c.payment.refund(
            payment_id, {"amount": amount, "speed": "normal", "notes": notes, "receipt": receipt},
            headers={"X-Refund-Idempotency": idempotency_key}))
        return refund

    async def fetch_refund(self, refund_id: str) -> dict[str, Any]:
        refund: dict[str, Any] = await self._call("refund.fetch", lambda c: c.refund.fetch(refund_id))
        return refund


def _with_timeout(request: Callable[..., Any], statuses: list[int] | None = None) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT)
        response = request(*args, **kwargs)
        if statuses is not None:
            statuses.append(response.status_code)
        return response
    return call
