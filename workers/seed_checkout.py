"""Demo data for the client checkout (docs/checkout.md): a report and a product to buy, and a
package of three readings. Idempotent: found by title, never added twice."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalogue import Product, SessionPackage


async def seed_checkout(session: AsyncSession, tenant_id: uuid.UUID, consultant_user_id: uuid.UUID,
                        reading_id: uuid.UUID | None) -> None:
    products = [
        dict(kind="report", title="Annual forecast report (PDF)", price_minor=250_000,
             description="Your year ahead from your chart, written by Acharya Demo within a week.",
             consultant_user_id=consultant_user_id),
        dict(kind="product", title="Gemstone wearing guide (printed)", price_minor=49_900,
             description="Which stone, which finger, which day; posted to you.", consultant_user_id=None),
    ]
    for fields in products:
        if await session.scalar(select(Product.id).where(Product.tenant_id == tenant_id,
                                                         Product.title == fields["title"])) is None:
            session.add(Product(tenant_id=tenant_id, currency="INR", active=True, **fields))
    title = "3 Kundli readings"
    if reading_id is not None and await session.scalar(select(SessionPackage.id).where(
            SessionPackage.tenant_id == tenant_id, SessionPackage.title == title)) is None:
        session.add(SessionPackage(tenant_id=tenant_id, offering_id=reading_id, title=title, sessions=3,
                                   price_minor=390_000, currency="INR", valid_days=90, reminder_days=14,
                                   credit_back_min_percent=100, active=True,
                                   description="Three full readings within 90 days, at a lower price."))
    await session.flush()
