"""Limits that must hold under concurrency, proven against real PostgreSQL: a coupon's uses (overall
and per client), a wallet that never goes below zero, invoice numbers without gaps or repeats."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from payments_support import consultancy, count, new_order, product, rows
from sqlalchemy import select
from support import active_consultancy, assert_problem, register_client
from test_payments_api import order_status

from activities.payments.orders import PaymentActivities
from core.db import TenantScope, scoped_session
from domain.payments.orders import OrderRef, order_workflow_id
from models.payments import (
    Coupon,
    CouponRedemption,
    InsufficientFunds,
    Invoice,
    WalletEntry,
    move_wallet,
    next_invoice_number,
    wallet_balance,
)


async def test_concurrent_orders_never_use_a_coupon_past_its_limits(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    coupon = await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "FIRST5", "kind": "fixed", "amount_off": 10_000, "max_uses": 5, "max_uses_per_client": 2,
        "min_order_amount": 20_000})
    assert coupon.status_code == 201, coupon.text
    buyers = [await register_client(client, owner.tenant_slug) for _ in range(6)]

    async def order(buyer):
        return await client.post("/api/v1/orders", headers=owner.headers(), json={
            "client_id": buyer.user_id, "coupon_code": "first5",
            "lines": [{"kind": "product", "description": "Reading", "unit_amount": 50_000}]})

    # 24 orders at once: 4 per client for 6 clients; at most 2 per client, 5 in all.
    answers = await asyncio.gather(*[order(b) for b in buyers for _ in range(4)])
    accepted = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(accepted) == 5, [a.text for a in refused[:3]]
    for answer in refused:
        assert_problem(answer, 422, "coupon-not-applicable", "coupon_code")
    assert all(a.json()["discount"] == 10_000 and a.json()["total"] == 40_000 for a in accepted)
    per_client: dict[str, int] = {}
    for a in accepted:
        per_client[a.json()["client_id"]] = per_client.get(a.json()["client_id"], 0) + 1
    assert max(per_client.values()) <= 2
    [stored] = await rows(sessionmaker, Coupon, Coupon.code == "FIRST5")
    assert stored.uses == 5
    assert await count(sessionmaker, CouponRedemption, CouponRedemption.coupon_id == stored.id) == 5


async def test_a_coupon_outside_its_window_or_minimum_is_refused(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "LATER", "kind": "percent", "percent_bp": 2000, "valid_from": "2099-01-01T00:00:00+05:30"})
    await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "BIGONLY", "kind": "percent", "percent_bp": 2000, "min_order_amount": 1_000_000})
    await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "REPORTS", "kind": "percent", "percent_bp": 2500, "offering_kinds": ["report"], "max_discount": 5_000})
    line = {"kind": "product", "description": "Reading", "unit_amount": 50_000}
    for code, words in (("LATER", "valid from"), ("BIGONLY", "at least"), ("REPORTS", "does not apply"),
                        ("NOPE", "no coupon")):
        refused = await client.post("/api/v1/orders", headers=owner.headers(), json={
            "client_id": buyer.user_id, "coupon_code": code, "lines": [line]})
        assert words in assert_problem(refused, 422, "coupon-not-applicable", "coupon_code")["detail"]
    # Restricted to reports: only the report line is discounted, capped at 50.00.
    mixed = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": buyer.user_id, "coupon_code": "REPORTS",
        "lines": [line, {"kind": "report", "description": "Varshphal", "unit_amount": 30_000,
                         "ref_id": owner.user_id}]})
    assert mixed.status_code == 201, mixed.text
    assert [line["discount"] for line in mixed.json()["lines"]] == [0, 5_000]


async def test_concurrent_wallet_debits_never_go_below_zero(sessionmaker, clean):
    shop = await consultancy(sessionmaker)
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        await move_wallet(session, tenant_id=shop.tenant_id, client_id=shop.client_id, currency="INR",
                          amount=100_000, kind="manual_credit", dedupe_key="seed")

    async def debit(n: int) -> bool:
        try:
            async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
                await move_wallet(session, tenant_id=shop.tenant_id, client_id=shop.client_id, currency="INR",
                                  amount=-30_000, kind="manual_debit", dedupe_key=f"debit-{n}")
            return True
        except InsufficientFunds:
            return False

    results = await asyncio.gather(*[debit(n) for n in range(12)])
    assert results.count(True) == 3
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        assert await wallet_balance(session, shop.tenant_id, shop.client_id, "INR") == 10_000
        entries = (await session.execute(select(WalletEntry).order_by(WalletEntry.created_at))).scalars().all()
    assert all(e.balance_after >= 0 for e in entries)
    assert sorted(e.balance_after for e in entries) == [10_000, 40_000, 70_000, 100_000]
    # The same movement (dedupe key) twice is one movement.
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        await move_wallet(session, tenant_id=shop.tenant_id, client_id=shop.client_id, currency="INR",
                          amount=100_000, kind="manual_credit", dedupe_key="seed")
        assert await wallet_balance(session, shop.tenant_id, shop.client_id, "INR") == 10_000


async def test_concurrent_orders_paid_from_one_wallet_share_it_exactly(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    credited = await client.post(f"/api/v1/clients/{buyer.user_id}/wallet/credits", headers=owner.headers(),
                                 json={"amount": 100_000, "note": "goodwill for a missed session"})
    assert credited.status_code == 201 and credited.json()["balance"] == 100_000

    async def order():
        return await client.post("/api/v1/orders", headers=owner.headers(), json={
            "client_id": buyer.user_id, "wallet_amount": 30_000,
            "lines": [{"kind": "product", "description": "Reading", "unit_amount": 30_000}]})

    answers = await asyncio.gather(*[order() for _ in range(8)])
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 5
    for answer in answers:  # paid from the wallet: their workflows fulfil them at once
        if answer.status_code == 201:
            await order_status(client, owner.headers(), answer.json()["id"], "awaiting_fulfilment")
    for answer in answers:
        if answer.status_code == 409:
            assert_problem(answer, 409, "insufficient-wallet-balance", "wallet_amount")
    wallet = (await client.get("/api/v1/wallet", headers=buyer.headers())).json()
    assert wallet["balance"] == 10_000 == sum(e["amount"] for e in wallet["entries"])
    assert_problem(await client.get("/api/v1/wallet", headers=owner.headers(**{"X-Tenant": "nope-nope"})),
                   404, "tenant-unknown")


async def test_invoice_numbers_have_no_gaps_or_repeats(sessionmaker, settings, app_state, clean):
    shop = await consultancy(sessionmaker)
    orders = [await new_order(sessionmaker, shop, [product()]) for _ in range(12)]
    activities = PaymentActivities(sessionmaker, settings, app_state.keys)
    # A number taken in a transaction that rolls back is given back.
    async def take_then_fail() -> None:
        async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
            assert await next_invoice_number(session, shop.tenant_id, "JK/2026-27") == 1
            raise RuntimeError("the invoice could not be stored")

    with pytest.raises(RuntimeError):
        await take_then_fail()

    def ref(inp):
        return OrderRef(workflow_id=order_workflow_id(inp.order_id), order_id=inp.order_id, tenant_id=shop.tenant_id)

    numbers = await asyncio.gather(*[activities.issue_invoice(ref(inp)) for inp in orders])
    again = await asyncio.gather(*[activities.issue_invoice(ref(inp)) for inp in orders[:4]])  # retries
    assert again == numbers[:4]
    invoices = await rows(sessionmaker, Invoice, Invoice.tenant_id == shop.tenant_id)
    assert sorted(i.number for i in invoices) == list(range(1, 13))
    assert len({i.invoice_number for i in invoices}) == 12
    other = await consultancy(sessionmaker)  # every tenant has its own series
    first_of_other = await new_order(sessionmaker, other, [product()])
    label = await activities.issue_invoice(OrderRef(workflow_id="x", order_id=first_of_other.order_id,
                                                    tenant_id=other.tenant_id))
    assert label.endswith("/00001")
    assert uuid.UUID(str(orders[0].order_id))
