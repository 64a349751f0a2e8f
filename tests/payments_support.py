"""Helpers of the payments tests: a consultancy with people, orders made by the real service,
webhook deliveries of the local Razorpay read back as the Order workflow's messages."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.payments.local_gateway import Delivery, LocalRazorpay
from api.services.orders import NewOrder, create_order
from core.db import TenantScope, scoped_session
from core.security import hash_password
from domain.payments.orders import OrderInput, PaymentReport, RefundReport
from domain.payments.pricing import LineIn, LineKind
from domain.payments.webhooks import parse_event
from models.identity import Role, User
from models.payments import Order, PaymentSettings, move_wallet
from models.tenancy import Tenant, TenantStatus

GSTIN = "27AAPFU0939F1ZV"  # a well-formed GSTIN (Maharashtra)


@dataclass
class Shop:
    tenant_id: uuid.UUID
    slug: str
    owner_id: uuid.UUID
    staff_id: uuid.UUID
    client_id: uuid.UUID
    client_email: str


async def consultancy(sessionmaker: async_sessionmaker[AsyncSession], *, gst_mode: str = "none",
                      gst_rate_bp: int = 1800, window_minutes: int = 30) -> Shop:
    slug = f"shop-{uuid.uuid4().hex[:8]}"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=slug, name="Jyotish Kendra", status=TenantStatus.ACTIVE, timezone="Asia/Kolkata",
                        settings={})
        session.add(tenant)
        await session.flush()
        people = [User(tenant_id=tenant.id, email=f"{who}@{slug}.example.com", full_name=who.title(), role=role,
                       password_hash=hash_password("x" * 12))
                  for who, role in (("owner", Role.OWNER), ("staff", Role.STAFF), ("client", Role.CLIENT))]
        session.add_all(people)
        session.add(PaymentSettings(tenant_id=tenant.id, currency="INR", gst_mode=gst_mode, gst_rate_bp=gst_rate_bp,
                                    gstin=GSTIN if gst_mode != "none" else None, legal_name="Jyotish Kendra LLP",
                                    address="12 MG Road\nPune 411001", invoice_prefix="JK",
                                    payment_window_minutes=window_minutes))
        await session.flush()
        return Shop(tenant.id, slug, people[0].id, people[1].id, people[2].id, people[2].email)


def consultation(booking_id: str, amount: int = 150_000) -> LineIn:
    return LineIn(kind=LineKind.CONSULTATION, description="Kundli consultation, 60 min", unit_amount=amount,
                  ref_id=booking_id, offering_id="consult-60")


def product(amount: int = 50_000, description: str = "Gemstone guide (PDF)") -> LineIn:
    return LineIn(kind=LineKind.PRODUCT, description=description, unit_amount=amount, offering_id="guide")


async def new_order(sessionmaker: async_sessionmaker[AsyncSession], shop: Shop, lines: list[LineIn],
                    **options: Any) -> OrderInput:
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        tenant = await session.get(Tenant, shop.tenant_id)
        assert tenant is not None
        _, workflow_input = await create_order(session, tenant, NewOrder(  # lines name made-up bookings
            client_id=shop.client_id, lines=lines, created_by=shop.staff_id, check_references=False, **options))
        return workflow_input


async def credit_wallet(sessionmaker, shop: Shop, amount: int, key: str | None = None) -> None:
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        await move_wallet(session, tenant_id=shop.tenant_id, client_id=shop.client_id, currency="INR",
                          amount=amount, kind="manual_credit", dedupe_key=key or f"test:{uuid.uuid4()}")


async def order_row(sessionmaker, order_id: uuid.UUID) -> Order:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        order = await session.get(Order, order_id)
        assert order is not None
        return order


async def count(sessionmaker, model: Any, *where: Any) -> int:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def rows(sessionmaker, model: Any, *where: Any) -> list[Any]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(model).where(*where))).scalars())


def report_of(delivery: Delivery) -> PaymentReport | RefundReport:
    parsed = parse_event(json.loads(delivery.body), delivery.event_id)
    message = parsed.payment or parsed.refund
    assert message is not None, delivery.event
    return message


def payment_reports(gateway: LocalRazorpay, gateway_order_id: str, event: str = "payment.captured") -> list[Any]:
    return [report_of(d) for d in gateway.deliveries_for(gateway_order_id, event)]
