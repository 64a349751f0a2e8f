"""Side effects of report delivery: the database mirror, the consultant's alerts, the delivery itself.

Every one is idempotent: messages carry a dedupe key of workflow id and step (so a retried
activity or a replayed workflow sends nothing twice), and the row is only moved forward
(a delivered report is never made "awaiting" again, a first open is never overwritten).

Messages go through the notifications capability (`Notifier.deliver`: events `report_due_soon`,
`report_overdue`, `report_delivered`, email and in-app), outside the row's transaction, so no
lock is held while a provider answers; the dedupe key makes a retried activity send nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import Notifier, attempt_time, deliver_or_retry
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.settings import Settings
from core.signed_links import DownloadLinks
from domain.notification_templates import format_instant, language_of
from domain.notifications import NotificationRequest
from domain.report_delivery import (
    ALERT_CONSULTANT,
    DELIVER_REPORT,
    ENSURE_DELIVERY,
    FINAL_STATUSES,
    RECORD_BY_HAND,
    RECORD_OPENED,
    SEND_ALERT,
    SEND_DELIVERED,
    AlertOutcome,
    ConsultantAlert,
    Delivered,
    DeliverReport,
    RecordManual,
    RecordOpened,
    ReportDeliveryInput,
    ReportDeliveryStatus,
    ReportRef,
    report_delivery_workflow_id,
)
from domain.zones import zone_of
from models.files import ReportDelivery, StoredFile, record_first_open
from models.identity import Role, User
from models.platform import record_audit
from models.tenancy import Tenant

STAFF_ROLES = (Role.OWNER, Role.CONSULTANT, Role.STAFF)


def download_url(settings: Settings, file_id: UUID, token: str) -> str:
    return f"{settings.public_base_url}/api/v1/files/{file_id}/content?token={token}"


class ReportDeliveryActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 notifier: Notifier | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        keys = Keys.from_settings(settings)
        self.links = DownloadLinks.from_keys(keys)
        self.notifier = notifier or Notifier(sessionmaker, settings, keys)

    async def _load(self, session: AsyncSession, ref: ReportRef, *, lock: bool = True) -> tuple[ReportDelivery, Tenant]:
        delivery = await session.get(ReportDelivery, ref.order_id, with_for_update=lock)
        tenant = await session.get(Tenant, ref.tenant_id)
        if delivery is None or tenant is None:
            raise ApplicationError(f"report delivery {ref.order_id} no longer exists", non_retryable=True)
        return delivery, tenant

    async def _person(self, session: AsyncSession, user_id: UUID) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise ApplicationError(f"user {user_id} no longer exists", non_retryable=True)
        return user

    async def _send(self, *, key: str, tenant_id: UUID, to: UUID, event: str, variables: dict[str, Any],
                    data: dict[str, Any]) -> bool:
        """Email and in-app through the notifications capability (the reader's language, the
        consultancy's wording, preferences, the delivery log); True if some channel was sent now
        (False when an earlier attempt had sent everything). Quiet hours: the activity is retried
        when they end (`QuietHours`)."""
        outcome = await deliver_or_retry(self.notifier, NotificationRequest(
            dedupe_key=key, tenant_id=tenant_id, recipient_user_id=to, event=event, variables=variables,
            data=data, at=attempt_time()))
        return any(c.channel in outcome.sent_on and not c.already_done for c in outcome.channels)

    @activity.defn(name=ENSURE_DELIVERY)
    async def ensure_delivery(self, inp: ReportDeliveryInput) -> str:
        """Create the delivery's row unless the API (or an earlier attempt) did; returns its status."""
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            client = await session.get(User, inp.client_id)
            consultant = await session.get(User, inp.consultant_id)
            if client is None or client.role != Role.CLIENT:
                raise ApplicationError(f"{inp.client_id} is not a client of tenant {inp.tenant_id}",
                                       non_retryable=True)
            if consultant is None or consultant.role not in STAFF_ROLES:
                raise ApplicationError(f"{inp.consultant_id} is not a consultant of tenant {inp.tenant_id}",
                                       non_retryable=True)
            try:
                await session.execute(
                    insert(ReportDelivery).values(
                        id=inp.order_id, tenant_id=inp.tenant_id, reference=inp.reference,
                        client_id=inp.client_id, consultant_id=inp.consultant_id, title=inp.title,
                        due_at=inp.due_at, status=ReportDeliveryStatus.AWAITING_UPLOAD,
                        workflow_id=report_delivery_workflow_id(inp.order_id), requested_by=inp.requested_by,
                    ).on_conflict_do_nothing(index_elements=["id"])
                )
            except IntegrityError as exc:
                raise ApplicationError(f"cannot record report delivery {inp.order_id}: {exc.orig}",
                                       non_retryable=True) from exc
            delivery = await session.get(ReportDelivery, inp.order_id)
            if delivery is None:
                raise ApplicationError(f"report delivery {inp.order_id} belongs to another tenant",
                                       non_retryable=True)
            return delivery.status.value

    @activity.defn(name=ALERT_CONSULTANT)
    async def alert_consultant(self, alert: ConsultantAlert) -> AlertOutcome:
        """Tell the consultant the report is due soon, or overdue, unless it arrived meanwhile
        (with `send=False` only record it: the workflow's outbox sends SEND_ALERT afterwards)."""
        ref = alert.ref
        message = await self._alert_message(alert)
        if isinstance(message, AlertOutcome):
            return message
        # The message leaves outside the row's transaction (no lock held while a provider answers);
        # its dedupe key makes a retry harmless.
        sent = await self._send(**message) if alert.send else False
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            delivery, _ = await self._load(session, ref)
            if alert.kind == "due_soon":
                delivery.due_soon_alert_at = delivery.due_soon_alert_at or alert.at
            elif delivery.status not in FINAL_STATUSES:
                delivery.overdue_alert_at = delivery.overdue_alert_at or alert.at
                delivery.status = ReportDeliveryStatus.OVERDUE
            return AlertOutcome(sent=sent)

    @activity.defn(name=SEND_ALERT)
    async def send_alert(self, alert: ConsultantAlert) -> bool:
        """The consultant's due-soon or overdue message (unless the report is in meanwhile)."""
        message = await self._alert_message(alert)
        return False if isinstance(message, AlertOutcome) else await self._send(**message)

    async def _alert_message(self, alert: ConsultantAlert) -> dict[str, Any] | AlertOutcome:
        ref = alert.ref
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            delivery, tenant = await self._load(session, ref, lock=False)
            if delivery.status in FINAL_STATUSES:
                return AlertOutcome(sent=False)
            if delivery.file_id is not None:  # uploaded, and the signal did not reach the workflow
                return AlertOutcome(sent=False, uploaded_file_id=delivery.file_id)
            consultant = await self._person(session, delivery.consultant_id)
            client = await self._person(session, delivery.client_id)
            variables = {
                "full_name": consultant.full_name, "client_name": client.full_name, "title": delivery.title,
                "due": format_instant(delivery.due_at, zone_of(consultant, tenant), language_of(consultant.locale)),
                "link": f"{self.settings.public_base_url}/api/v1/report-deliveries/{delivery.id}",
            }
            return {"key": f"{ref.workflow_id}:alert:{alert.kind}", "tenant_id": tenant.id, "to": consultant.id,
                    "event": f"report_{alert.kind}", "variables": variables,
                    "data": {"delivery_id": str(delivery.id), "link": variables["link"]}}

    @activity.defn(name=DELIVER_REPORT)
    async def deliver(self, step: DeliverReport) -> Delivered:
        """Send the client the report (email with a signed link, and in-app); mark it delivered
        (with `send=False` only mark it: the workflow's outbox sends SEND_DELIVERED afterwards).

        The latest upload recorded in the database wins over the one the workflow was told of.
        """
        ref = step.ref
        file_id, delivered_at, message = await self._delivered_message(step)
        if step.send:
            await self._send(**message)
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            delivery, _ = await self._load(session, ref)
            if delivery.status in (ReportDeliveryStatus.AWAITING_UPLOAD, ReportDeliveryStatus.OVERDUE):
                opened = delivery.first_opened_at is not None  # opened while this ran
                delivery.status = ReportDeliveryStatus.OPENED if opened else ReportDeliveryStatus.DELIVERED
            delivery.delivered_at = delivered_at
            return Delivered(file_id=file_id, delivered_at=delivered_at)

    @activity.defn(name=SEND_DELIVERED)
    async def send_delivered(self, step: DeliverReport) -> bool:
        """The client's message with the report's signed link (the delivery is recorded already)."""
        _, _, message = await self._delivered_message(step)
        return await self._send(**message)

    async def _delivered_message(self, step: DeliverReport) -> tuple[UUID, datetime, dict[str, Any]]:
        ref = step.ref
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            delivery, tenant = await self._load(session, ref, lock=False)
            file_id = delivery.file_id or step.file_id
            stored = await session.get(StoredFile, file_id)
            if stored is None:
                raise ApplicationError(f"the report file {file_id} no longer exists", non_retryable=True)
            client = await self._person(session, delivery.client_id)
            delivered_at = delivery.delivered_at or step.at
            expires = delivered_at + timedelta(days=self.settings.report_link_days)
            token = self.links.token(file_id=file_id, tenant_id=tenant.id, user_id=client.id, expires_at=expires)
            link = download_url(self.settings, file_id, token)
            variables = {"full_name": client.full_name, "tenant_name": tenant.name, "title": delivery.title,
                         "link": link, "expires": format_instant(expires, zone_of(client, tenant),
                                                                 language_of(client.locale))}
            data = {"delivery_id": str(delivery.id), "file_id": str(file_id), "link": link}
            return file_id, delivered_at, {"key": f"{ref.workflow_id}:deliver", "tenant_id": tenant.id,
                                           "to": client.id, "event": "report_delivered", "variables": variables,
                                           "data": data}

    @activity.defn(name=RECORD_OPENED)
    async def record_opened(self, step: RecordOpened) -> bool:
        """Record the client's first open (a later or repeated one changes nothing)."""
        ref = step.ref
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            delivery, _ = await self._load(session, ref)
            first = await record_first_open(session, delivery.id, step.at)
            await session.refresh(delivery)
            if delivery.status == ReportDeliveryStatus.DELIVERED:
                delivery.status = ReportDeliveryStatus.OPENED
            return first

    @activity.defn(name=RECORD_BY_HAND)
    async def record_by_hand(self, step: RecordManual) -> str:
        """Staff handed the report over another way: record who, when and why, and audit it."""
        ref, manual = step.ref, step.delivery
        async with scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id)) as session:
            delivery, tenant = await self._load(session, ref)
            if delivery.status not in FINAL_STATUSES:
                delivery.status = ReportDeliveryStatus.DELIVERED_BY_HAND
                delivery.delivered_at = step.at
                delivery.delivered_by = manual.actor_user_id
                delivery.delivery_note = manual.note
                event = await record_audit(
                    session, tenant_id=tenant.id, action="report.delivered_by_hand",
                    actor_user_id=manual.actor_user_id, actor_role=manual.actor_role,
                    target_type="report_delivery", target_id=delivery.id,
                    details={"note": manual.note} if manual.note else {}, ip=manual.ip,
                )
                event.request_id = manual.request_id
            return delivery.status.value
