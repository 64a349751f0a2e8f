"""Invoices: the financial-year series, gap-free numbers, and the document (HTML, and PDF via WeasyPrint).

`issue_order_invoice` is the one way an invoice is made: an order's payment (the Order workflow's
`issue_invoice`) and a membership's monthly charge (activities/membership_invoices.py) both call it.

The HTML is the stored original; its PDF goes through the shared renderer
(`activities/documents/pdf.py`), which serialises WeasyPrint across threads.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.documents.pdf import PdfUnavailableError
from activities.documents.renderer import pdf_from_html
from domain.payments.gstin import STATE_CODES
from domain.payments.money import format_amount
from models.identity import User
from models.payments import Invoice, Order, OrderLine, next_invoice_number, payment_settings
from models.tenancy import Tenant

log = logging.getLogger(__name__)

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent), undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),
)


def financial_year(day: date) -> str:
    """India's financial year, April to March: 2026-27 for any day from 1 Apr 2026 to 31 Mar 2027."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def invoice_series(prefix: str, day: date) -> str:
    return f"{prefix}/{financial_year(day)}"


def invoice_number(series: str, number: int) -> str:
    return f"{series}/{number:05d}"


def _percent(rate_bp: int) -> str:
    whole, rest = divmod(rate_bp, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def invoice_context(*, order: Any, lines: list[Any], seller: dict[str, Any], buyer: dict[str, Any],
                    number: str, issued_on: date, payment_id: str | None) -> dict[str, Any]:
    def money(amount: int) -> str:
        return format_amount(amount, order.currency)

    gst = order.gst_mode != "none" and order.gst_rate_bp > 0
    seller = dict(seller)
    seller_state = (seller.get("gstin") or "")[:2]
    seller["state"] = STATE_CODES.get(seller_state)
    supply = getattr(order, "place_of_supply", None)
    # Across states the whole tax is IGST; within the seller's state it splits into CGST + SGST.
    inter_state = gst and bool(supply) and bool(seller["state"]) and supply != seller_state
    return {
        "invoice_title": "Tax invoice" if gst and seller.get("gstin") else "Invoice",
        "invoice_number": number, "issued_on": issued_on.strftime("%d %b %Y"),
        "seller": seller, "buyer": buyer, "gst": gst, "gst_mode": order.gst_mode,
        "gst_rate": _percent(order.gst_rate_bp), "half_rate": _percent(order.gst_rate_bp // 2),
        "place_of_supply": f"{STATE_CODES[supply]} ({supply})" if supply in STATE_CODES else None,
        "igst": money(order.tax) if inter_state else "",
        "split": gst and not inter_state and order.gst_rate_bp % 2 == 0,
        "cgst": money(order.tax // 2), "sgst": money(order.tax - order.tax // 2),
        "lines": [{"description": line.description, "quantity": line.quantity, "unit": money(line.unit_amount),
                   "discount": money(line.discount), "taxable": money(line.taxable), "tax": money(line.tax),
                   "total": money(line.total)} for line in lines],
        "subtotal": money(order.subtotal), "discount": money(order.discount) if order.discount else "",
        "coupon": order.coupon_code, "taxable": money(order.taxable), "tax": money(order.tax),
        "total": money(order.total), "wallet": money(order.wallet_applied) if order.wallet_applied else "",
        "paid_online": money(order.amount_due) if order.amount_due else "", "payment_id": payment_id,
        "currency": order.currency, "order_id": str(order.id),
    }


def render_invoice_html(context: dict[str, Any]) -> str:
    return _env.get_template("invoice.html").render(context)


async def render_invoice_pdf(html: str) -> bytes | None:
    """The PDF of the invoice, or None if WeasyPrint cannot run here (the HTML is kept anyway).
    Laid out in the renderer's child process: it used to run on the worker's event loop itself,
    stalling every workflow and activity of the process for the ~0.25 s it takes."""
    try:
        return await pdf_from_html(html)
    except PdfUnavailableError as exc:  # missing system libraries (pango)
        log.warning("invoice PDF not rendered: %s", exc)
        return None


async def issue_order_invoice(session: AsyncSession, order: Order) -> str:
    """The order's invoice, numbered in the tenant's series without gaps, in the caller's
    transaction; once per order (a second call answers the first invoice's number)."""
    existing = (await session.execute(select(Invoice).where(Invoice.order_id == order.id))).scalar_one_or_none()
    if existing is not None:
        return str(existing.invoice_number)
    tenant = await session.get(Tenant, order.tenant_id)
    client = await session.get(User, order.client_id)
    if tenant is None or client is None:
        raise ApplicationError(f"order {order.id}: tenant or client gone", type="PaymentRefused", non_retryable=True)
    setup = await payment_settings(session, tenant.id)
    lines = list((await session.execute(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position))).scalars())
    issued = datetime.now(UTC)
    local_day = issued.astimezone(ZoneInfo(tenant.timezone)).date()
    series = invoice_series(setup.invoice_prefix if setup else "INV", local_day)
    number = await next_invoice_number(session, tenant.id, series)
    label = invoice_number(series, number)
    seller = {"name": (setup.legal_name if setup and setup.legal_name else tenant.name),
              "address": setup.address if setup else None, "gstin": order.gstin}
    buyer = {"name": client.full_name, "email": client.email}
    html = render_invoice_html(invoice_context(
        order=order, lines=lines, seller=seller, buyer=buyer, number=label, issued_on=local_day,
        payment_id=order.paid_payment_id))
    session.add(Invoice(
        tenant_id=tenant.id, order_id=order.id, series=series, number=number, invoice_number=label,
        issued_at=issued, currency=order.currency, total=order.total, tax=order.tax, gstin=order.gstin,
        seller=seller, buyer=buyer, html=html, pdf=await render_invoice_pdf(html)))
    await session.flush()
    return label
