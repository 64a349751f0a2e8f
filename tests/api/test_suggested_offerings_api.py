"""Suggestion rules name the consultancy's real offerings: an offering id must be one of its own,
each suggestion shows the offering as the client would book it, a paid booking of it stops the
suggestion for that client only, and an inactive offering is not suggested."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from support import active_consultancy, assert_problem, eventually, register_client

DELHI = {"latitude": 28.6139, "longitude": 77.2090, "timezone": "Asia/Kolkata"}
BIRTH = {"date": "1990-05-17", "time": "14:25", **DELHI}
RULES = "/api/v1/astrology/suggestion-rules"
WEBHOOK = "/api/v1/webhooks/razorpay"
PRICE = 150_000


async def _profile(client, account) -> dict:
    r = await client.post("/api/v1/birth-profiles", headers=account.headers(),
                          json={"full_name": "Asha Verma", "birth": BIRTH})
    assert r.status_code == 201, r.text
    return r.json()


def _dasha_rule(lord: str, offering_key: str, name: str = "Dasha reading") -> dict:
    return {"name": name, "when": {"kind": "dasha", "mahadasha": lord}, "offering_key": offering_key,
            "reasons": {"en": "{mahadasha} mahadasha until {until}."}, "priority": 5}


async def _suggested(client, account, profile_id: str) -> dict:
    r = await client.get(f"/api/v1/birth-profiles/{profile_id}/suggestions", headers=account.headers())
    assert r.status_code == 200, r.text
    return r.json()


async def test_offering_key_that_is_an_id_must_be_an_offering_of_this_consultancy(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    _, mine = await bookable(client, owner, price_minor=PRICE)
    stranger = await active_consultancy(client, sessionmaker)
    _, theirs = await bookable(client, stranger)
    h = owner.headers()

    for key in (str(uuid.uuid4()), theirs["id"]):
        r = await client.post(RULES, headers=h, json=_dasha_rule("jupiter", key))
        assert_problem(r, 422, "validation", "offering_key")
        assert "no offering with this id" in r.json()["detail"]
    assert (await client.get(RULES, headers=h)).json()["items"] == []

    # Any spelling of its own offering's id is stored as order lines record it; a plain key stays allowed.
    made = await client.post(RULES, headers=h, json=_dasha_rule("jupiter", mine["id"].upper()))
    assert made.status_code == 201, made.text
    assert made.json()["offering_key"] == mine["id"]
    plain = await client.post(RULES, headers=h, json=_dasha_rule("saturn", "gem-guide", "Gem guide"))
    assert plain.status_code == 201 and plain.json()["offering_key"] == "gem-guide"

    # A patch to another consultancy's offering is refused and changes nothing.
    path = f"{RULES}/{plain.json()['id']}"
    assert_problem(await client.patch(path, headers=h, json={"offering_key": theirs["id"], "priority": 99}),
                   422, "validation", "offering_key")
    kept = (await client.get(path, headers=h)).json()
    assert (kept["offering_key"], kept["priority"]) == ("gem-guide", 5)
    moved = await client.patch(path, headers=h, json={"offering_key": mine["id"]})
    assert moved.status_code == 200 and moved.json()["offering_key"] == mine["id"]
    # The other consultancy cannot point a rule at this one's offering either.
    assert_problem(await client.post(RULES, headers=stranger.headers(), json=_dasha_rule("jupiter", mine["id"])),
                   422, "validation", "offering_key")


async def _book_and_pay(client, gateway, tenant_slug: str, offering_id: str, customer) -> str:
    slot = (await public_slots(client, tenant_slug, offering_id,
                               start=str((datetime.now(UTC) + timedelta(days=4)).date())))[0]
    made = await client.post("/api/v1/bookings", headers=customer.headers(),
                             json={"offering_id": offering_id, "starts_at": slot["starts_at"]})
    assert made.status_code == 201, made.text
    order_path = f"/api/v1/orders/{made.json()['order_id']}"

    async def checkout_status():
        return (await client.post(f"{order_path}/checkout", headers=customer.headers())).status_code
    assert await eventually(checkout_status, 200) == 200  # the order workflow starts after the commit
    info = (await client.post(f"{order_path}/checkout", headers=customer.headers())).json()
    gateway.pay(info["gateway_order_id"])
    for delivery in gateway.deliveries_for(info["gateway_order_id"], "payment.captured"):
        answer = await client.post(WEBHOOK, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200, answer.text

    async def order_status():
        return (await client.get(order_path, headers=customer.headers())).json()["status"]
    assert await eventually(order_status, "fulfilled", 20) == "fulfilled"
    return made.json()["id"]


async def test_suggestions_name_the_offering_until_the_client_books_it(client, sessionmaker, gateway):
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering = await bookable(client, owner, price_minor=PRICE, currency="INR")
    payer = await register_client(client, owner.tenant_slug)
    other = await register_client(client, owner.tenant_slug)
    paying, waiting = await _profile(client, payer), await _profile(client, other)
    lord = paying["summary"]["mahadasha"]["lord"]
    for rule in (_dasha_rule(lord, offering["id"]), _dasha_rule(lord, "gem-guide", "Gem guide")):
        assert (await client.post(RULES, headers=owner.headers(), json=rule)).status_code == 201

    before = await _suggested(client, payer, paying["id"])
    by_key = {s["offering_key"]: s for s in before["suggestions"]}
    assert set(by_key) == {offering["id"], "gem-guide"}
    slots_url = (f"/api/v1/public/{owner.tenant_slug}/consultants/{consultant['slug']}/offerings/"
                 f"{offering['id']}/slots")
    assert by_key[offering["id"]]["offering"] == {
        "id": offering["id"], "title": "Kundli reading", "kind": "one_to_one", "price_minor": PRICE,
        "currency": "INR", "consultant_slug": consultant["slug"], "slots_url": slots_url}
    assert by_key[offering["id"]]["reason"].startswith(f"{lord.title()} mahadasha until ")
    assert by_key["gem-guide"]["offering"] is None
    assert (await client.get(slots_url)).status_code == 200

    await _book_and_pay(client, gateway, owner.tenant_slug, offering["id"], payer)
    after = await _suggested(client, payer, paying["id"])
    assert after["past_offerings"] == [offering["id"]]
    assert [s["offering_key"] for s in after["suggestions"]] == ["gem-guide"]  # skip_if_ordered
    still = await _suggested(client, other, waiting["id"])
    assert still["past_offerings"] == []
    assert {s["offering_key"] for s in still["suggestions"]} == {offering["id"], "gem-guide"}

    # An offering taken off sale is suggested to no one; the plain key is unaffected.
    off = await client.patch(f"/api/v1/offerings/{offering['id']}", headers=owner.headers(),
                             json={"is_active": False})
    assert off.status_code == 200, off.text
    gone = await _suggested(client, other, waiting["id"])
    assert [s["offering_key"] for s in gone["suggestions"]] == ["gem-guide"]
