"""What the Quotation workflow tells the client and the consultant.

Messages go through the notifications capability (`deliver_or_retry`: the reader's language and
channels, the consultancy's wording, quiet hours, the delivery log). Dedupe key
`<workflow id>:<step>:<audience>`, so a retry or replay sends nothing twice. The client's
messages carry the quotation's signed link (valid until LINK_GRACE after the quotation's current
expiry) and, for a new version, its PDF in the client's language.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.documents.pdf import PdfUnavailableError
from activities.notifications import Notifier, attempt_time, deliver_or_retry
from activities.quotations.document import render_quotation
from activities.quotations.lifecycle import load_quotation, version_of
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.settings import Settings
from core.signing import sign
from domain.notification_events import EVENTS
from domain.notification_templates import format_instant, language_of
from domain.notifications import Attachment, NotificationRequest
from domain.payments.money import format_amount
from domain.quotations import LINK_GRACE, LINK_PURPOSE, NOTIFY, OPEN, Notice, QuotationStatus, quote_number
from models.bookings import Consultant
from models.identity import User
from models.quotations import Quotation

log = logging.getLogger(__name__)


def link_token(keys: Keys, quotation: Quotation) -> str:
    """The quotation's signed link token (`/quotation-links/{token}`)."""
    expires: datetime | None = quotation.expires_at
    return sign(keys, LINK_PURPOSE, {"q": str(quotation.id), "t": str(quotation.tenant_id)},
                expires_at=(expires + LINK_GRACE) if expires else None)


def link_url(settings: Settings, keys: Keys, quotation: Quotation) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/quotation-links/{link_token(keys, quotation)}"


class QuotationMessageActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 notifier: Notifier | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.keys = Keys.from_settings(settings)
        self.notifier = notifier or Notifier(sessionmaker, settings, self.keys)

    @activity.defn(name=NOTIFY)
    async def notify(self, notice: Notice) -> int:
        """The notice to each of its audience; the number of people some channel reached."""
        async with scoped_session(self.sessionmaker, TenantScope.of(notice.ref.tenant_id)) as session:
            quotation = await load_quotation(session, notice.ref.quotation_id, lock=False)
            if not self._still_true(quotation, notice):
                return 0  # decided while the message waited (quiet hours): a reminder has nothing to say
            consultant = await session.get(Consultant, quotation.consultant_id)
            client = await session.get(User, quotation.client_id) if quotation.client_id else None
            consultant_user = await session.get(User, consultant.user_id) if consultant else None
            base = self.settings.public_base_url.rstrip("/")
            link = link_url(self.settings, self.keys, quotation)
            pay = f"{link}/checkout" if quotation.status == QuotationStatus.ACCEPTED else ""
            variables: dict[str, Any] = {
                "client_name": quotation.client_name,
                "consultant_name": consultant.display_name if consultant else "",
                "number": quote_number(quotation.number), "title": quotation.title, "version": notice.version,
                "total": format_amount(quotation.total, quotation.currency), "link": link, "pay_link": pay,
                "dashboard_url": f"{base}/api/v1/quotations/{quotation.id}", "reason": "", "days": "",
                "views": quotation.views, **notice.variables,
            }
            requests: list[NotificationRequest] = []
            for audience in notice.audience:
                person = client if audience == "client" else consultant_user
                event = f"{notice.event}.{audience}"
                if person is None or event not in EVENTS:
                    continue
                language = language_of(person.locale)
                zone = (quotation.client_timezone if audience == "client" else consultant.timezone if consultant
                        else None) or person.timezone or "UTC"
                valid_until = (f"{format_instant(quotation.expires_at, zone, language)} ({zone})"
                               if quotation.expires_at else "")
                attachments = await self._pdf(session, quotation, notice, language, link) \
                    if notice.attach_pdf and audience == "client" else []
                requests.append(NotificationRequest(
                    dedupe_key=f"{notice.ref.workflow_id}:{notice.step}:{audience}", tenant_id=quotation.tenant_id,
                    recipient_user_id=person.id, event=event, variables={**variables, "valid_until": valid_until},
                    at=attempt_time(), attachments=attachments,
                    data={"quotation_id": str(quotation.id), "number": variables["number"], "event": notice.event,
                          "link": link if audience == "client" else variables["dashboard_url"],
                          **({"pay_link": pay} if pay and audience == "client" else {})}))
        sent = 0
        for request in requests:
            if (await deliver_or_retry(self.notifier, request)).sent_on:
                sent += 1
        return sent

    @staticmethod
    def _still_true(quotation: Quotation, notice: Notice) -> bool:
        if notice.event in ("quotation.reminder", "quotation.received", "quotation.revised"):
            return quotation.status in OPEN and quotation.current_version == notice.version
        if notice.event == "quotation.payment_reminder":
            return quotation.status == QuotationStatus.ACCEPTED
        return True

    async def _pdf(self, session: AsyncSession, quotation: Quotation, notice: Notice, language: str,
                   link: str) -> list[Attachment]:
        version, lines = await version_of(session, quotation, notice.version)
        try:
            pdf = await render_quotation(session, quotation, version, lines, language, link)
        except PdfUnavailableError:
            log.exception("%s: the quotation PDF could not be made; sent without it", notice.ref.workflow_id)
            return []
        return [Attachment(filename=pdf.filename, content_type="application/pdf",
                           content_base64=base64.b64encode(pdf.content).decode())]
