"""The quotation PDF (English or Hindi): one version's lines and figures under the consultancy's
name, legal name, address and GSTIN, with the validity on the client's clock.

Rendered when a message carries it (the notify activity attaches it) and when staff or the
client download it; the bytes depend only on the version's rows, so both are the same document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from activities.documents.renderer import pdf_from_template
from domain.notification_templates import format_instant
from domain.payments.money import format_amount
from domain.quotations import DiscountKind, quote_number
from models.bookings import Consultant
from models.payments import payment_settings
from models.quotations import Quotation, QuotationLine, QuotationVersion
from models.tenancy import Tenant

LABELS = {
    "en": {"title": "Quotation", "version": "Version", "issued": "Issued", "valid_until": "Valid until",
           "for": "For", "from": "From", "item": "Item", "quantity": "Qty", "unit": "Unit price", "amount": "Amount",
           "subtotal": "Subtotal", "discount": "Discount", "tax": "GST", "included": "included", "total": "Total",
           "notes": "Notes", "terms": "Terms", "respond": "View, accept or decline at"},
    "hi": {"title": "कोटेशन", "version": "संस्करण", "issued": "जारी", "valid_until": "मान्य तक", "for": "प्राप्तकर्ता",
           "from": "प्रेषक", "item": "विवरण", "quantity": "मात्रा", "unit": "इकाई मूल्य", "amount": "राशि",
           "subtotal": "उप-योग", "discount": "छूट", "tax": "जीएसटी", "included": "शामिल", "total": "कुल",
           "notes": "टिप्पणी", "terms": "शर्तें", "respond": "देखें, स्वीकार या अस्वीकार करें"},
}


@dataclass(frozen=True)
class QuotationPdf:
    filename: str
    content: bytes


async def pdf_context(session: AsyncSession, quotation: Quotation, version: QuotationVersion,
                      lines: list[QuotationLine], language: str, link: str = "") -> dict[str, Any]:
    tenant = await session.get(Tenant, quotation.tenant_id)
    consultant = await session.get(Consultant, quotation.consultant_id)
    setup = await payment_settings(session, quotation.tenant_id)
    assert tenant is not None
    labels = LABELS.get(language, LABELS["en"])
    zone = quotation.client_timezone or tenant.timezone or "UTC"

    def money(amount: int) -> str:
        return format_amount(amount, version.currency)

    issued = version.issued_at or version.created_at
    expires = version.expires_at or quotation.expires_at
    note = ""
    if version.discount_kind == DiscountKind.PERCENT:
        note = f"{version.discount_value / 100:g} %"
    tax_label = f"{labels['tax']} {version.gst_rate_bp / 100:g} %"
    if version.gst_mode == "inclusive":
        tax_label += f" ({labels['included']})"
    return {
        "lang": language, "t": labels, "brand_name": (setup.legal_name if setup and setup.legal_name else tenant.name),
        "brand_address": setup.address if setup else None, "gstin": setup.gstin if setup else None,
        "number": quote_number(quotation.number), "version": version.version, "title": version.title,
        "issued": format_instant(issued, zone, language, "date") if issued else "",
        "valid_until": format_instant(expires, zone, language) if expires else "",
        "client_name": quotation.client_name, "client_email": quotation.client_email,
        "consultant_name": consultant.display_name if consultant else tenant.name,
        "lines": [{"description": line.description, "quantity": line.quantity, "unit": money(line.unit_amount),
                   "gross": money(line.gross)} for line in lines],
        "subtotal": money(version.subtotal), "discount": money(version.discount) if version.discount else "",
        "discount_note": note, "tax": money(version.tax) if version.tax else "", "tax_label": tax_label,
        "total": money(version.total), "notes": version.notes or "", "terms": version.terms or "", "link": link,
    }


async def render_quotation(session: AsyncSession, quotation: Quotation, version: QuotationVersion,
                           lines: list[QuotationLine], language: str, link: str = "") -> QuotationPdf:
    """The PDF of this version, laid out in the renderer's child process (activities.documents.renderer)."""
    context = await pdf_context(session, quotation, version, lines, language, link)
    content = await pdf_from_template("quotation.html", context)
    return QuotationPdf(f"quotation-{quote_number(quotation.number)}-v{version.version}-{language}.pdf", content)
