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

    # -- subscriptions (memberships) ------------------------------------------------------------------
    async def create_plan(self, *, period: str, amount: int, currency: str, name: str,
                          notes: dict[str, str]) -> dict[str, Any]:
        plan: dict[str, Any] = await self._call("plan.create", lambda c: c.plan.create(
            {"period": period, "interval": 1, "item": {"name": name, "amount": amount, "currency": currency},
             "notes": notes}))
        return plan

    async def create_subscription(self, *, plan_id: str, total_count: int, expire_by: int,
                                  notes: dict[str, str]) -> dict[str, Any]:
        created: dict[str, Any] = await self._call("subscription.create", lambda c: c.subscription.create(
            {"plan_id": plan_id, "total_count": total_count, "quantity": 1, "customer_notify": 1,
             "expire_by": expire_by, "notes": notes}))
        return created

    async def fetch_subscription(self, subscription_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("subscription.fetch",
                                                 lambda c: c.subscription.fetch(subscription_id))
        return found

    async def pause_subscription(self, subscription_id: str) -> dict[str, Any]:
        paused: dict[str, Any] = await self._call("subscription.pause", lambda c: c.subscription.pause(
            subscription_id, {"pause_at": "now"}))
        return paused

    async def resume_subscription(self, subscription_id: str) -> dict[str, Any]:
        resumed: dict[str, Any] = await self._call("subscription.resume", lambda c: c.subscription.resume(
            subscription_id, {"resume_at": "now"}))
        return resumed

    async def cancel_subscription(self, subscription_id: str, *, at_cycle_end: bool) -> dict[str, Any]:
        cancelled: dict[str, Any] = await self._call("subscription.cancel", lambda c: c.subscription.cancel(
            subscription_id, {"cancel_at_cycle_end": 1 if at_cycle_end else 0}))
        return cancelled


def _with_timeout(request: Callable[..., Any], statuses: list[int] | None = None) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT)
        response = request(*args, **kwargs)
        if statuses is not None:
            statuses.append(response.status_code)
        return response
    return call
