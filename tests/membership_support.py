"""A client with an active membership, reached the way a frontend and Razorpay do it: subscribe,
checkout, authorise on the local Razorpay, its signed webhooks posted to the API."""

from __future__ import annotations

from typing import Any

from support import Account, eventually

WEBHOOK = "/api/v1/webhooks/razorpay"


async def deliver(client: Any, gateway: Any, subscription_id: str, seen: set[str]) -> list[str]:
    """Post the subscription's webhooks not posted yet, as Razorpay would; returns their events."""
    events = []
    for delivery in gateway.deliveries_of(subscription_id):
        if delivery.event_id in seen:
            continue
        seen.add(delivery.event_id)
        answer = await client.post(WEBHOOK, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200 and answer.json()["duplicate"] is False, answer.text
        events.append(delivery.event)
    return events


async def membership_state(client: Any, owner: Account, membership_id: str) -> tuple[str, int]:
    row = (await client.get(f"/api/v1/memberships/{membership_id}", headers=owner.headers())).json()
    return row["status"], row["periods_paid"]


async def active_member(client: Any, gateway: Any, owner: Account, customer: Account, plan_id: str
                        ) -> tuple[dict[str, Any], str, set[str]]:
    """The customer's membership of the plan, authorised and charged once: (membership, subscription id,
    the webhook event ids posted)."""
    made = await client.post("/api/v1/me/memberships", headers=customer.headers(), json={"plan_id": plan_id})
    assert made.status_code == 201, made.text
    membership = made.json()
    path = f"/api/v1/me/memberships/{membership['id']}/checkout"

    async def checkout_status() -> int:
        return (await client.post(path, headers=customer.headers())).status_code
    assert await eventually(checkout_status, 200) == 200  # the workflow starts after the commit
    sub = (await client.post(path, headers=customer.headers())).json()["subscription_id"]
    gateway.authorise(sub)
    seen: set[str] = set()
    assert "subscription.charged" in await deliver(client, gateway, sub, seen)

    async def state() -> tuple[str, int]:
        return await membership_state(client, owner, membership["id"])
    assert await eventually(state, ("active", 1), 30) == ("active", 1)
    return membership, sub, seen
