"""Invoices: the financial-year series, gap-free numbers, and the document (HTML, and PDF via WeasyPrint).

The HTML is the stored original; its PDF goes through the shared renderer
(`activities/documents/pdf.py`), which serialises WeasyPrint across threads.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from activities.documents.pdf import PdfUnavailableError, render_pdf_html
from domain.payments.gstin import STATE_CODES
from domain.payments.money import format_amount

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


def render_invoice_pdf(html: str) -> bytes | None:
    """The PDF of the invoice, or None if WeasyPrint cannot run here (the HTML is kept anyway)."""
    try:
        return render_pdf_html(html)
    except PdfUnavailableError as exc:  # missing system libraries (pango)
        log.warning("invoice PDF not rendered: %s", exc)
        return None
