"""The local Razorpay's Subscriptions: plans, subscriptions (create, fetch, pause, resume, cancel)
and the customer's side (authorise the mandate, each billing cycle's charge), with the webhooks
the real one sends (`subscription.authenticated/activated/charged/pending/halted/paused/resumed/
cancelled/completed`), signed like every other event (activities/payments/local_gateway.py).

It checks what Razorpay checks for these calls: a plan's period, interval and item (amount in
integer paise of at least 100, currency), a subscription's plan (of the same account) and
`total_count`, the states each action is allowed in, and `pause_at`/`resume_at` = "now",
`cancel_at_cycle_end` 0/1. A cancellation at the cycle's end takes effect at the next `renew`.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from core.razorpay import sign

if TYPE_CHECKING:
    from activities.payments.local_gateway import Account, Delivery

PERIODS = {"daily", "weekly", "monthly", "yearly"}
MONTH = 30 * 86_400           # the local gateway's billing cycle (seconds): close enough to a month
FAILED_CHARGES_TO_HALT = 4    # Razorpay retries a failed renewal a few times, then halts


def _error(description: str, field: str | None = None) -> Exception:
    from activities.payments.local_gateway import GatewayError

    return GatewayError(description, field=field)


def _new_id(prefix: str) -> str:
    from activities.payments.local_gateway import _id

    return _id(prefix)


def _amount_ok(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 100


def _notes(body: dict[str, Any]) -> dict[str, Any]:
    notes = body.get("notes") or {}
    if not isinstance(notes, dict) or len(notes) > 15:
        raise _error("notes must be an object of at most 15 keys", "notes")
    return notes


class LocalSubscriptions:
    """Mixed into LocalRazorpay (which provides accounts, ownership, the lock and `_emit`)."""

    plans: dict[str, dict[str, Any]]
    subscriptions: dict[str, dict[str, Any]]
    if TYPE_CHECKING:
        accounts: dict[str, Account]
        owner: dict[str, str]
        payments: dict[str, dict[str, Any]]
        _lock: threading.RLock

        def _emit(self, account: Account, event: str, payload: dict[str, Any],
                  gateway_order_id: str | None) -> Delivery: ...

        def _owned(self, account: Account, entity_id: str, table: dict[str, dict[str, Any]]) -> dict[str, Any]: ...

    def subscription_routes(self, endpoint: Any) -> list[Route]:
        return [
            Route("/v1/plans", endpoint(self._create_plan), methods=["POST"]),
            Route("/v1/plans/{id}", endpoint(self._fetch_plan), methods=["GET"]),
            Route("/v1/subscriptions", endpoint(self._create_subscription), methods=["POST"]),
            Route("/v1/subscriptions/{id}", endpoint(self._fetch_subscription), methods=["GET"]),
            Route("/v1/subscriptions/{id}/pause", endpoint(self._pause), methods=["POST"]),
            Route("/v1/subscriptions/{id}/resume", endpoint(self._resume), methods=["POST"]),
            Route("/v1/subscriptions/{id}/cancel", endpoint(self._cancel), methods=["POST"]),
            Route("/_local/subscriptions/{id}/authorise", endpoint(self._local_authorise), methods=["POST"]),
            Route("/_local/subscriptions/{id}/renew", endpoint(self._local_renew), methods=["POST"]),
        ]

    # -- the API -----------------------------------------------------------------------------------
    def _create_plan(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _error("The request body must be an object")
        if body.get("period") not in PERIODS:
            raise _error("The period field is invalid.", "period")
        interval = body.get("interval")
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise _error("The interval must be at least 1.", "interval")
        item = body.get("item")
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise _error("The item name field is required.", "item.name")
        if not _amount_ok(item.get("amount")):
            raise _error("The amount must be atleast INR 1.00", "item.amount")
        if not isinstance(item.get("currency"), str) or len(item["currency"]) != 3:
            raise _error("The currency field is required.", "item.currency")
        plan: dict[str, Any] = {
            "id": _new_id("plan"), "entity": "plan", "interval": interval, "period": body["period"],
            "item": {"id": _new_id("item"), "active": True, "name": item["name"],
                     "description": item.get("description"), "amount": item["amount"],
                     "unit_amount": item["amount"], "currency": item["currency"], "type": "plan"},
            "notes": _notes(body), "created_at": int(time.time())}
        self.plans[plan["id"]] = plan
        self.owner[plan["id"]] = account.key_id
        return dict(plan)

    def _fetch_plan(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        return dict(self._owned(account, request.path_params["id"], self.plans))

    def _create_subscription(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _error("The request body must be an object")
        plan_id = body.get("plan_id")
        if not isinstance(plan_id, str) or plan_id not in self.plans or self.owner.get(plan_id) != account.key_id:
            raise _error("The id provided does not exist", "plan_id")
        total = body.get("total_count")
        if not isinstance(total, int) or isinstance(total, bool) or not 1 <= total <= 1200:
            raise _error("The total count must be between 1 and 1200.", "total_count")
        expire_by = body.get("expire_by")
        if expire_by is not None and (not isinstance(expire_by, int) or expire_by <= time.time()):
            raise _error("expire_by should be a future timestamp", "expire_by")
        now = int(time.time())
        sub_id = _new_id("sub")
        base = str(request.base_url).rstrip("/")
        subscription: dict[str, Any] = {
            "id": sub_id, "entity": "subscription", "plan_id": plan_id, "customer_id": None, "status": "created",
            "current_start": None, "current_end": None, "ended_at": None, "quantity": body.get("quantity", 1),
            "notes": _notes(body), "charge_at": None, "start_at": None, "end_at": None, "auth_attempts": 0,
            "total_count": total, "paid_count": 0, "customer_notify": bool(body.get("customer_notify", True)),
            "created_at": now, "expire_by": expire_by, "short_url": f"{base}/_local/subscriptions/{sub_id}/authorise",
            "has_scheduled_changes": False, "change_scheduled_at": None, "source": "api", "offer_id": None,
            "remaining_count": total, "cancel_at_cycle_end": False}
        self.subscriptions[sub_id] = subscription
        self.owner[sub_id] = account.key_id
        return _public(subscription)

    def _fetch_subscription(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        return _public(self._owned(account, request.path_params["id"], self.subscriptions))

    def _pause(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        sub = self._owned(account, request.path_params["id"], self.subscriptions)
        if not isinstance(body, dict) or body.get("pause_at") != "now":
            raise _error("pause_at must be now", "pause_at")
        if sub["status"] != "active":
            raise _error(f"Subscription cannot be paused in {sub['status']} status")
        sub["status"], sub["paused_at"] = "paused", int(time.time())
        self._tell(account, "subscription.paused", sub)
        return _public(sub)

    def _resume(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        sub = self._owned(account, request.path_params["id"], self.subscriptions)
        if not isinstance(body, dict) or body.get("resume_at") != "now":
            raise _error("resume_at must be now", "resume_at")
        if sub["status"] != "paused":
            raise _error(f"Subscription cannot be resumed in {sub['status']} status")
        sub["status"], sub["paused_at"] = "active", None
        self._tell(account, "subscription.resumed", sub)
        return _public(sub)

    def _cancel(self, request: Request, account: Account, body: Any) -> dict[str, Any]:
        sub = self._owned(account, request.path_params["id"], self.subscriptions)
        at_end = body.get("cancel_at_cycle_end", 0) if isinstance(body, dict) else None
        if at_end not in (0, 1, True, False):
            raise _error("cancel_at_cycle_end must be 0 or 1", "cancel_at_cycle_end")
        if sub["status"] in ("cancelled", "completed", "expired"):
            raise _error(f"Subscription cannot be cancelled in {sub['status']} status")
        if at_end and sub["status"] == "active":
            sub["cancel_at_cycle_end"] = True
            sub["has_scheduled_changes"], sub["change_scheduled_at"] = True, sub["current_end"]
            return _public(sub)
        self._end(account, sub, "cancelled")
        return _public(sub)

    # -- the customer's side and time passing -----------------------------------------------------------
    def authorise(self, subscription_id: str) -> dict[str, Any]:
        """The client authorises the mandate in Checkout; the first period is charged at once."""
        with self._lock:
            sub = self.subscriptions.get(subscription_id)
            if sub is None or sub["status"] != "created":
                raise _error("The subscription cannot be authorised", "subscription_id")
            account = self.accounts[self.owner[subscription_id]]
            sub["status"] = "authenticated"
            self._tell(account, "subscription.authenticated", sub)
            payment = self._charge(account, sub, int(time.time()))
            return {"razorpay_payment_id": payment["id"], "razorpay_subscription_id": subscription_id,
                    "razorpay_signature": sign(account.key_secret, f"{payment['id']}|{subscription_id}")}

    def renew(self, subscription_id: str, outcome: str = "captured") -> list[str]:
        """The next billing cycle: charge (or fail to), or end a cancellation scheduled for now.
        Returns the events emitted."""
        with self._lock:
            sub = self.subscriptions[subscription_id]
            account = self.accounts[self.owner[subscription_id]]
            before = len(self.deliveries_of(subscription_id))
            if sub["cancel_at_cycle_end"]:
                self._end(account, sub, "cancelled")
            elif sub["status"] not in ("active", "pending", "halted"):
                raise _error(f"Subscription in {sub['status']} status is not charged")
            elif outcome == "captured":
                self._charge(account, sub, sub["current_end"] or int(time.time()))
            else:
                sub["auth_attempts"] += 1
                sub["status"] = "halted" if sub["auth_attempts"] >= FAILED_CHARGES_TO_HALT else "pending"
                self._tell(account, f"subscription.{sub['status']}", sub)
            return [d.event for d in self.deliveries_of(subscription_id)[before:]]

    def deliveries_of(self, subscription_id: str, event: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in getattr(self, "deliveries", [])
                    if d.gateway_order_id == subscription_id and (event is None or d.event == event)]

    def _charge(self, account: Account, sub: dict[str, Any], start: int) -> dict[str, Any]:
        plan = self.plans[sub["plan_id"]]
        payment: dict[str, Any] = {
            "id": _new_id("pay"), "entity": "payment", "amount": plan["item"]["amount"],
            "currency": plan["item"]["currency"], "status": "captured", "order_id": _new_id("order"),
            "invoice_id": _new_id("inv"), "method": "card", "captured": True, "description": plan["item"]["name"],
            "amount_refunded": 0, "refund_status": None,  # refundable like any payment (a charge's refund)
            "email": "client@example.com", "contact": "+919000000000", "notes": sub["notes"],
            "created_at": int(time.time())}
        self.payments[payment["id"]] = payment
        self.owner[payment["id"]] = account.key_id
        first = sub["paid_count"] == 0
        sub.update(status="active", current_start=start, current_end=start + MONTH, charge_at=start + MONTH,
                   paid_count=sub["paid_count"] + 1, remaining_count=sub["total_count"] - sub["paid_count"] - 1,
                   auth_attempts=0, start_at=sub["start_at"] or start, end_at=start + MONTH * sub["remaining_count"])
        if first:
            self._tell(account, "subscription.activated", sub)
        self._tell(account, "subscription.charged", sub, payment)
        if sub["paid_count"] >= sub["total_count"]:
            self._end(account, sub, "completed")
        return payment

    def _end(self, account: Account, sub: dict[str, Any], status: str) -> None:
        sub.update(status=status, ended_at=int(time.time()), cancel_at_cycle_end=False, has_scheduled_changes=False)
        self._tell(account, f"subscription.{status}", sub)

    def _tell(self, account: Account, event: str, sub: dict[str, Any], payment: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {"subscription": {"entity": _public(sub)}}
        if payment is not None:
            payload["payment"] = {"entity": dict(payment)}
        self._emit(account, event, payload, sub["id"])

    def _local_authorise(self, request: Request, account: Account | None, body: Any) -> dict[str, Any]:
        return self.authorise(request.path_params["id"])

    def _local_renew(self, request: Request, account: Account | None, body: Any) -> dict[str, Any]:
        outcome = body.get("outcome", "captured") if isinstance(body, dict) else "captured"
        return {"events": self.renew(request.path_params["id"], outcome)}


def _public(sub: dict[str, Any]) -> dict[str, Any]:
    """The subscription as Razorpay shows it (without the local bookkeeping)."""
    return {k: v for k, v in sub.items() if k not in ("cancel_at_cycle_end", "paused_at")}
