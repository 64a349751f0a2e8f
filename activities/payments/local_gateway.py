"""A local Razorpay: the parts of its HTTP API that Muhurta uses, and correctly signed webhooks.

Without Razorpay keys (`make dev`, the tests) this server stands in for api.razorpay.com: the
production adapter (the `razorpay` SDK) talks to it unchanged, only its base URL differs. It
checks what the real API checks for these calls (Basic auth with a known key pair, amounts in
integer minor units of at least 100, the refund idempotency key and its body), answers in
Razorpay's shapes and error format, and plays the customer's side: `POST
/_local/orders/{id}/pay` pays an order as Checkout would and emits `payment.captured` +
`order.paid` (or `payment.failed`); refunds emit `refund.processed` (or `refund.failed`).

Webhooks are signed with the account's webhook secret (`X-Razorpay-Signature`, hex HMAC-SHA256
of the raw body) and carry `X-Razorpay-Event-Id`. Each is recorded in `deliveries` and, if the
account has a webhook URL, POSTed to it (set `drop_webhooks` to lose them on purpose).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activities.payments.local_subscriptions import LocalSubscriptions
from core.razorpay import sign

log = logging.getLogger(__name__)

_ALPHABET = string.ascii_letters + string.digits
_KEY = set(string.ascii_letters + string.digits + "-_")


def _id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(14))}"


class GatewayError(Exception):
    def __init__(self, description: str, status: int = 400, code: str = "BAD_REQUEST_ERROR", field: str | None = None):
        super().__init__(description)
        self.description, self.status, self.code, self.field = description, status, code, field

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"code": self.code, "description": self.description, "source": "business",
                                 "step": "payment_initiation", "reason": "input_validation_failed", "metadata": {}}
        if self.field:
            error["field"] = self.field
        return JSONResponse({"error": error}, status_code=self.status)


@dataclass
class Account:
    key_id: str
    key_secret: str
    webhook_secret: str
    webhook_url: str | None = None
    account_id: str = field(default_factory=lambda: _id("acc"))


@dataclass
class Delivery:
    event_id: str
    event: str
    key_id: str
    body: bytes
    headers: dict[str, str]
    gateway_order_id: str | None
    delivered_status: int | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    key_id: str | None
    headers: dict[str, str]
    body: Any


class LocalRazorpay(LocalSubscriptions):
    """The gateway's state and behaviour; `app` serves it over HTTP. Thread-safe. Subscriptions:
    activities/payments/local_subscriptions.py."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.refund_keys: dict[tuple[str, str], tuple[str, str]] = {}  # (key id, idempotency key) -> (body, refund id)
        self.owner: dict[str, str] = {}  # entity id -> key id of the account that owns it
        self.deliveries: list[Delivery] = []
        self.requests: list[RecordedRequest] = []
        self.drop_webhooks = False
        # Outages by account key id, for tests: an HTTP status (401, 502, 503…) answered to every
        # call in Razorpay's error format, or "drop" to close the connection without an answer.
        self.outages: dict[str, int | str] = {}
        self.refund_outcome = "processed"  # or "failed", or "pending" (no webhook yet)
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app = self._build_app()

    # -- accounts ------------------------------------------------------------------------------
    def add_account(self, key_id: str, key_secret: str, webhook_secret: str, webhook_url: str | None = None) -> Account:
        with self._lock:
            account = Account(key_id, key_secret, webhook_secret, webhook_url)
            self.accounts[key_id] = account
            return account

    def _authenticate(self, request: Request) -> Account:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            key_id, _, key_secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            key_id = key_secret = ""
        account = self.accounts.get(key_id)
        if scheme.lower() != "basic" or account is None or not secrets.compare_digest(account.key_secret, key_secret):
            raise GatewayError("The api key provided is invalid", status=401)
        return account

    # -- the customer's side -----------------------------------------------------------------------
    def pay(self, gateway_order_id: str, *, outcome: str = "captured", amount: int | None = None,
            currency: str | None = None, method: str = "upi") -> dict[str, Any]:
        """Pay an order as Checkout would; returns what Checkout hands the frontend."""
        with self._lock:
            order = self.orders.get(gateway_order_id)
            if order is None:
                raise GatewayError("The id provided does not exist", field="order_id")
            account = self.accounts[self.owner[gateway_order_id]]
            if order["status"] == "paid" and outcome == "captured":
                raise GatewayError("Order has already been paid", field="order_id")
            now = int(time.time())
            payment: dict[str, Any] = {
                "id": _id("pay"), "entity": "payment", "amount": order["amount_due"] if amount is None else amount,
                "currency": currency or order["currency"], "status": "captured" if outcome == "captured" else "failed",
                "order_id": gateway_order_id, "invoice_id": None, "international": False, "method": method,
                "amount_refunded": 0, "refund_status": None, "captured": outcome == "captured",
                "description": order["notes"].get("description", ""), "card_id": None, "bank": None, "wallet": None,
                "vpa": "client@upi" if method == "upi" else None, "email": "client@example.com",
                "contact": "+919000000000", "notes": order["notes"], "fee": 0, "tax": 0,
                "error_code": None if outcome == "captured" else "BAD_REQUEST_ERROR",
                "error_description": None if outcome == "captured" else "Payment failed",
                "error_source": None if outcome == "captured" else "customer",
                "error_reason": None if outcome == "captured" else "payment_failed",
                "created_at": now,
            }
            self.payments[payment["id"]] = payment
            self.owner[payment["id"]] = account.key_id
            order["attempts"] += 1
            if outcome == "captured":
                order["amount_paid"] += payment["amount"]
                order["amount_due"] = max(0, order["amount"] - order["amount_paid"])
                order["status"] = "paid"
                self._emit(account, "payment.captured", {"payment": {"entity": dict(payment)}}, gateway_order_id)
                self._emit(account, "order.paid", {"payment": {"entity": dict(payment)},
                                                   "order": {"entity": dict(order)}}, gateway_order_id)
                return {"razorpay_payment_id": payment["id"], "razorpay_order_id": gateway_order_id,
                        "razorpay_signature": sign(account.key_secret, f"{gateway_order_id}|{payment['id']}")}
            order["status"] = "attempted"
            self._emit(account, "payment.failed", {"payment": {"entity": dict(payment)}}, gateway_order_id)
            return {"error": {"code": "BAD_REQUEST_ERROR", "description": "Payment failed",
                              "metadata": {"payment_id": payment["id"], "order_id": gateway_order_id}}}

    def settle_refund(self, refund_id: str, outcome: str = "processed") -> None:
        """Finish a pending refund (as the bank would) and emit its webhook."""
        with self._lock:
            refund = self.refunds[refund_id]
            account = self.accounts[self.owner[refund_id]]
            payment = self.payments[refund["payment_id"]]
            refund["status"] = outcome
            if outcome == "failed":
                payment["amount_refunded"] -= refund["amount"]
                payment["refund_status"] = "partial" if payment["amount_refunded"] else None
            self._emit(account, f"refund.{outcome}", {"refund": {"entity": dict(refund)},
                                                       "payment": {"entity": dict(payment)}}, payment["order_id"])

    # -- webhooks ------------------------------------------------------------------------------------
    def _emit(self, account: Account, event: str, payload: dict[str, Any], gateway_order_id: str | None) -> Delivery:
        body = json.dumps({
            "entity": "event", "account_id": account.account_id, "event": event,
            "contains": list(payload), "payload": payload, "created_at": int(time.time()),
        }, separators=(",", ":")).encode()
        event_id = _id("evt")
        delivery = Delivery(event_id, event, account.key_id, body, {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sign(account.webhook_secret, body),
            "X-Razorpay-Event-Id": event_id,
            "User-Agent": "Razorpay-Webhook/v1",
        }, gateway_order_id)
        self.deliveries.append(delivery)
        if account.webhook_url and not self.drop_webhooks and self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._post(account.webhook_url, delivery), self._loop)
        return delivery

    async def _post(self, url: str, delivery: Delivery) -> None:
        for attempt in range(5):  # Razorpay retries failed deliveries; a few quick tries do here
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    response = await client.post(url, content=delivery.body, headers=delivery.headers)
                delivery.delivered_status = response.status_code
                if response.status_code < 300:
                    return
            except httpx.HTTPError as exc:
                log.warning("webhook %s to %s failed: %s", delivery.event_id, url, exc)
            await asyncio.sleep(0.5 * (attempt + 1))

    def deliveries_for(self, gateway_order_id: str, event: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries
                    if d.gateway_order_id == gateway_order_id and (event is None or d.event == event)]

    # -- the HTTP API ---------------------------------------------------------------------------------
    def _build_app(self) -> Starlette:
        gateway = self

        def endpoint(handler: Any) -> Any:
            async def wrapped(request: Request) -> Response:
                raw = await request.body()
                outage = gateway.outages.get(_key_id_of(request)) if gateway.outages else None
                if outage is not None:
                    with gateway._lock:
                        gateway.requests.append(RecordedRequest(request.method, request.url.path, None, {}, raw))
                    if not isinstance(outage, int):
                        return _Dropped()
                    failed = "Authentication failed" if outage in (401, 403) else "The server encountered an error"
                    return GatewayError(failed, status=outage,
                                        code="SERVER_ERROR" if outage >= 500 else "BAD_REQUEST_ERROR").response()
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    return GatewayError("The request body is not valid JSON").response()
                with gateway._lock:
                    key_id = None
                    try:
                        account = None if request.url.path.startswith("/_local") else gateway._authenticate(request)
                        key_id = account.key_id if account else None
                        result = handler(request, account, body)
                    except GatewayError as exc:
                        return exc.response()
                    finally:
                        gateway.requests.append(RecordedRequest(
                            request.method, request.url.path, key_id,
                            {k.lower(): v for k, v in request.headers.items() if k.lower() != "authorization"}, body))
                return JSONResponse(result)
            return wrapped

        return Starlette(routes=[
            Route("/v1/orders", endpoint(self._create_order), methods=["POST"]),
            Route("/v1/orders", endpoint(self._list_orders), methods=["GET"]),
            Route("/v1/orders/{id}", endpoint(self._fetch("order")), methods=["GET"]),
            Route("/v1/orders/{id}/payments", endpoint(self._order_payments), methods=["GET"]),
            Route("/v1/payments/{id}", endpoint(self._fetch("payment")), methods=["GET"]),
            Route("/v1/payments/{id}/refund", endpoint(self._refund), methods=["POST"]),
            Route("/v1/payments/{id}/refunds", endpoint(self._payment_refunds), methods=["GET"]),
            Route("/v1/refunds/{id}", endpoint(self._fetch("refund")), methods=["GET"]),
            Route("/_local/orders/{id}/pay", endpoint(self._local_pay), methods=["POST"]),
            Route("/_local/webhooks", endpoint(self._local_webhooks), methods=["GET"]),
            *self.subscription_routes(endpoint),
        ])

    def _owned(self, account: Account, entity_id: str, table: dict[str, dict[str, Any]]) -> dict[str, Any]:
        entity = table.get(entity_id)
        if entity is None or self.owner.get(entity_id) != account.key_id:
            raise GatewayError("The id provided does not exist", field="id")
        return entity

    def _fetch(self, kind: str) -> Any:
        tables = {"order": self.orders, "payment": self.payments, "refund": self.refunds}

        def fetch(request: Request, account: Account, body: Any) -> dict[str, Any]:
            return dict(self._owned(account, request.path_params["id"], tables[kind]))
        return fetch

    @staticmethod
    def _collection(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"entity": "collection", "count": len(items), "items": [dict(i) for i in items]}

    def _create_order(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise GatewayError("The request body must be an object")
        amount, currency = body.get("amount"), body.get("currency")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise GatewayError("The amount must be an integer.", field="amount")
        if amount < 100:
            raise GatewayError("The amount must be atleast INR 1.00", field="amount")
        if not isinstance(currency, str) or len(currency) != 3:
            raise GatewayError("The currency field is required.", field="currency")
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise GatewayError("The receipt may not be greater than 40 characters.", field="receipt")
        notes = body.get("notes") or {}
        if not isinstance(notes, dict) or len(notes) > 15:
            raise GatewayError("notes must be an object of at most 15 keys", field="notes")
        order: dict[str, Any] = {
            "id": _id("order"), "entity": "order", "amount": amount, "amount_paid": 0, "amount_due": amount,
            "currency": currency, "receipt": receipt, "offer_id": None, "status": "created", "attempts": 0,
                 "notes": notes, "created_at": int(time.time())}
        self.orders[order["id"]] = order
        self.owner[order["id"]] = account.key_id
        return dict(order)

    def _list_orders(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        receipt = request.query_params.get("receipt")
        items = [o for oid, o in self.orders.items() if self.owner[oid] == account.key_id
                 and (receipt is None or o["receipt"] == receipt)]
        return self._collection(sorted(items, key=lambda o: -o["created_at"]))

    def _order_payments(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        order = self._owned(account, request.path_params["id"], self.orders)
        return self._collection([p for p in self.payments.values() if p["order_id"] == order["id"]])

    def _payment_refunds(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        payment = self._owned(account, request.path_params["id"], self.payments)
        return self._collection([r for r in self.refunds.values() if r["payment_id"] == payment["id"]])

    def _refund(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        payment = self._owned(account, request.path_params["id"], self.payments)
        key = request.headers.get("x-refund-idempotency")
        canonical = json.dumps(body, sort_keys=True)
        if key is not None:
            if len(key) < 10 or not set(key) <= _KEY:
                raise GatewayError("The idempotency key must be at least 10 characters of letters, digits, - and _",
                                   field="X-Refund-Idempotency")
            seen = self.refund_keys.get((account.key_id, key))
            if seen is not None:
                if seen[0] != canonical:
                    raise GatewayError("Different request with the same idempotency key has already been processed.")
                return dict(self.refunds[seen[1]])
        if payment["status"] != "captured":
            raise GatewayError("The payment has not been captured", field="id")
        amount = body.get("amount", payment["amount"] - payment["amount_refunded"]) if isinstance(body, dict) else None
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 100:
            raise GatewayError("The amount must be atleast INR 1.00", field="amount")
        if amount > payment["amount"] - payment["amount_refunded"]:
            raise GatewayError("The refund amount provided is greater than amount captured", field="amount")
        refund: dict[str, Any] = {
            "id": _id("rfnd"), "entity": "refund", "amount": amount, "currency": payment["currency"],
            "payment_id": payment["id"], "notes": body.get("notes") or {}, "receipt": body.get("receipt"),
                  "acquirer_data": {"arn": None}, "created_at": int(time.time()), "batch_id": None,
                  "status": "pending", "speed_processed": "normal", "speed_requested": body.get("speed", "normal")}
        self.refunds[refund["id"]] = refund
        self.owner[refund["id"]] = account.key_id
        if key is not None:
            self.refund_keys[(account.key_id, key)] = (canonical, refund["id"])
        payment["amount_refunded"] += amount
        payment["refund_status"] = "full" if payment["amount_refunded"] == payment["amount"] else "partial"
        answer = dict(refund)
        if self.refund_outcome != "pending":
            self.settle_refund(refund["id"], self.refund_outcome)
        return answer

    def _local_pay(self, request: Request, account: Account | None, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        return self.pay(request.path_params["id"], outcome=body.get("outcome", "captured"),
                        amount=body.get("amount"), currency=body.get("currency"), method=body.get("method", "upi"))

    def _local_webhooks(self, request: Request, account: Account | None, body: Any) -> dict[str, Any]:
        return {"items": [{"event_id": d.event_id, "event": d.event, "order": d.gateway_order_id,
                           "delivered_status": d.delivered_status} for d in self.deliveries[-100:]]}


def _key_id_of(request: Request) -> str:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        return base64.b64decode(encoded).decode().partition(":")[0] if scheme.lower() == "basic" else ""
    except (ValueError, UnicodeDecodeError):
        return ""


class _Dropped(Response):
    """The connection closes after the status line: the caller sees a broken connection."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("the local Razorpay dropped this connection on purpose (outage)")


class LocalRazorpayServer:
    """Serves a LocalRazorpay over HTTP on 127.0.0.1 from a background thread."""

    def __init__(self, gateway: LocalRazorpay, port: int) -> None:
        import uvicorn

        self.gateway = gateway
        self.port = port
        config = uvicorn.Config(gateway.app, host="127.0.0.1", port=port, log_level="warning",
                                access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self.gateway._loop = loop
            try:
                loop.run_until_complete(self._server.serve())
            finally:  # an unclosed loop warns from its finalizer, at whatever moment GC runs
                self.gateway._loop = None
                loop.close()

        self._thread = threading.Thread(target=run, name="local-razorpay", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the local Razorpay gateway did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread:
            self._thread.join(5)
