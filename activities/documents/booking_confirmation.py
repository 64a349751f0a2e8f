"""The booking confirmation PDF: made once per booking (and time) when the booking is confirmed,
stored as the client's file, and linked from the confirmation message with a signed link.

The file's id is derived from the booking id and its sequence (uuid5), so a retried activity
finds the file it made before instead of making another; the bytes are written before the row
is inserted (a row never points at a missing object).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activities.documents.renderer import pdf_from_template
from core.storage import FileStorage, tenant_key
from domain.bookings.money import format_money
from domain.files import FileKind
from models.bookings import Booking
from models.files import StoredFile

PURPOSE = "booking_confirmation"
_NAMESPACE = uuid.UUID("6f1c8a52-3a47-4f5e-9d59-2b8f6c1e0a77")

LABELS = {
    "en": {"title": "Booking confirmation", "reference": "Reference", "session": "Session", "client": "Client",
           "consultant": "Consultant", "when": "When", "duration": "Duration", "minutes": "minutes",
           "meeting": "Join at", "paid": "Paid", "free": "Free", "status": "Status", "confirmed": "Confirmed",
           "note": "Issued"},
    "hi": {"title": "बुकिंग की पुष्टि", "reference": "संदर्भ", "session": "सत्र", "client": "क्लाइंट",
           "consultant": "परामर्शदाता", "when": "समय", "duration": "अवधि", "minutes": "मिनट",
           "meeting": "यहाँ जुड़ें", "paid": "भुगतान", "free": "निःशुल्क", "status": "स्थिति", "confirmed": "पक्की",
           "note": "जारी"},
}


def confirmation_file_id(booking_id: uuid.UUID, sequence: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"booking-confirmation/{booking_id}/{sequence}")


@dataclass(frozen=True)
class ConfirmationFacts:
    tenant_name: str
    offering_title: str
    consultant_name: str
    client_name: str
    when: str            # on the client's clock, in their language
    issued: str
    language: str


async def render_confirmation(booking: Booking, facts: ConfirmationFacts) -> bytes:
    labels = LABELS.get(facts.language, LABELS["en"])
    paid = format_money(booking.amount_paid_minor, booking.currency) if booking.amount_paid_minor else labels["free"]
    return await pdf_from_template("booking_confirmation.html", {
        "lang": facts.language, "t": labels, "tenant_name": facts.tenant_name, "reference": str(booking.id)[:8].upper(),
        "offering_title": facts.offering_title, "client_name": facts.client_name,
        "consultant_name": facts.consultant_name, "when": facts.when,
        "duration_minutes": int((booking.ends_at - booking.starts_at).total_seconds() // 60),
        "meeting_url": booking.meeting_url or "", "paid": paid, "issued": facts.issued,
    })


async def ensure_confirmation(session: AsyncSession, storage: FileStorage, booking: Booking,
                              facts: ConfirmationFacts) -> StoredFile:
    """The booking's confirmation PDF for its current time, made and stored if it does not exist."""
    file_id = confirmation_file_id(booking.id, booking.sequence)
    existing = await session.get(StoredFile, file_id)
    if existing is not None:
        return existing
    pdf = await render_confirmation(booking, facts)
    key = tenant_key(booking.tenant_id, "files", f"{file_id}.pdf")
    await storage.put(key, pdf, "application/pdf")
    await session.execute(insert(StoredFile).values(
        id=file_id, tenant_id=booking.tenant_id, client_id=booking.client_id, uploaded_by=None, kind=FileKind.PDF,
        content_type="application/pdf", size_bytes=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(),
        name=f"booking-confirmation-{str(booking.id)[:8]}.pdf", purpose=PURPOSE, storage_backend=storage.backend,
        storage_key=key,
    ).on_conflict_do_nothing(index_elements=["id"]))
    stored = await session.get(StoredFile, file_id)
    assert stored is not None
    return stored
