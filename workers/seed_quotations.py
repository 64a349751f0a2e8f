"""The demo's quotation: Q-0001, "A year of guidance", a draft for the demo client (Priya).

A draft, so that the README's walk-through sends it (`POST /quotations/{id}/send`) and watches
its QuotationWorkflow start; no workflow runs for it before then. Idempotent: a consultancy that
has a quotation gets no other.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.payments.pricing import GstMode
from domain.quotations import (
    DEFAULT_REMINDER_DAYS,
    DiscountKind,
    QuoteLine,
    QuoteLineKind,
    price_quotation,
)
from models.bookings import Consultant, Offering
from models.identity import User
from models.payments import payment_settings
from models.quotations import Quotation, QuotationCounter, QuotationLine, QuotationVersion

TITLE = "A year of guidance"


async def seed_quotation(session: AsyncSession, tenant_id: uuid.UUID, consultant_user_id: uuid.UUID,
                         client: User) -> None:
    if await session.scalar(select(Quotation.id).where(Quotation.tenant_id == tenant_id).limit(1)) is not None:
        return
    consultant = (await session.execute(select(Consultant).where(
        Consultant.user_id == consultant_user_id))).scalar_one_or_none()
    if consultant is None:
        return
    reading = (await session.execute(select(Offering).where(
        Offering.consultant_id == consultant.id, Offering.price_minor > 0).order_by(Offering.created_at).limit(1)
    )).scalar_one_or_none()
    lines = [QuoteLine(QuoteLineKind.CUSTOM, "Annual Varshphal report (written)", 500_000),
             QuoteLine(QuoteLineKind.CUSTOM, "Vastu visit, Pune home", 1_100_000)]
    if reading is not None:
        lines.insert(0, QuoteLine(QuoteLineKind.OFFERING, f"{reading.title}, quarterly", reading.price_minor, 4,
                                  offering_id=str(reading.id)))
    setup = await payment_settings(session, tenant_id)
    mode = GstMode(setup.gst_mode) if setup else GstMode.NONE
    rate = setup.gst_rate_bp if setup and mode != GstMode.NONE else 0
    price = price_quotation(lines, currency="INR", discount_kind=DiscountKind.PERCENT, discount_value=1000,
                            gst_mode=mode, gst_rate_bp=rate)
    session.add(QuotationCounter(tenant_id=tenant_id, last_number=1))
    quotation = Quotation(
        id=uuid.uuid4(), tenant_id=tenant_id, number=1, consultant_id=consultant.id, client_id=client.id,
        client_name=client.full_name, client_email=client.email, client_phone=client.phone,
        client_timezone=client.timezone, title=TITLE, status="draft", current_version=1, currency="INR",
        total=price.total, validity_days=14, reminder_days=list(DEFAULT_REMINDER_DAYS), views=0,
        created_by=consultant_user_id)
    session.add(quotation)
    await session.flush()
    version = QuotationVersion(
        tenant_id=tenant_id, quotation_id=quotation.id, version=1, title=TITLE, currency="INR",
        discount_kind="percent", discount_value=1000, subtotal=price.subtotal, discount=price.discount,
        taxable=price.taxable, tax=price.tax, total=price.total, gst_mode=mode.value, gst_rate_bp=rate,
        notes="Sessions are booked at your convenience through the year; travel within Pune included.",
        terms="Valid for 14 days. Payment in full on acceptance.", created_by=consultant_user_id)
    session.add(version)
    await session.flush()
    for position, (line, figures) in enumerate(zip(lines, price.lines, strict=True)):
        session.add(QuotationLine(
            tenant_id=tenant_id, version_id=version.id, position=position, kind=line.kind.value,
            description=line.description, offering_id=uuid.UUID(line.offering_id) if line.offering_id else None,
            quantity=line.quantity, unit_amount=line.unit_amount, gross=figures.gross, discount=figures.discount,
            tax=figures.tax, total=figures.total))
    await session.flush()
