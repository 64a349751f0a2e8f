"""What the Enrollment workflow tells the client, and the certificate it issues.

Messages go through the notifications capability (`deliver_or_retry`: the reader's language,
the consultancy's wording, preferences, the delivery log; quiet hours hold them and the
activity is retried when they end). Dedupe key `<workflow id>:<step>`, so a retry or a replay
sends nothing twice. Several lessons opening together are one digest message, not one each.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.courses.progress import load_enrollment, outline_of
from activities.documents.pdf import PdfUnavailableError
from activities.documents.renderer import pdf_from_template
from activities.notifications import Notifier, attempt_time, deliver_or_retry
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.settings import Settings
from core.signed_links import DownloadLinks
from core.storage import FileStorage, build_storage, tenant_key
from domain.courses.enrollment import (
    CHECK_INACTIVITY,
    INACTIVITY_NUDGE_AFTER,
    ISSUE_CERTIFICATE,
    NOTIFY,
    CertificateStep,
    CourseNotice,
    EnrollmentStatus,
    NudgeCheck,
    NudgeFinding,
)
from domain.files import FileKind
from domain.notification_templates import format_instant, language_of
from domain.notifications import NotificationRequest
from models.courses import Certificate, Course, Enrollment, EnrollmentLesson
from models.files import StoredFile
from models.identity import User
from models.tenancy import Tenant

log = logging.getLogger(__name__)
CERTIFICATE_PURPOSE = "certificate"
_NAMESPACE = uuid.UUID("0c0a8c9e-55a4-4d8b-a8b4-6f3f5b8f4c21")
CERTIFICATE_LINK_DAYS = 30

LABELS = {
    "en": {"title": "Certificate of completion", "certifies": "This certifies that", "completed": "has completed",
           "on": "on", "code": "Certificate code", "verify": "Verify at"},
    "hi": {"title": "पूर्णता प्रमाणपत्र", "certifies": "प्रमाणित किया जाता है कि", "completed": "ने पूरा किया",
           "on": "दिनांक", "code": "प्रमाणपत्र कोड", "verify": "यहाँ जाँचें"},
}


def certificate_file_id(certificate_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"certificate/{certificate_id}")


def verify_url(settings: Settings, tenant_slug: str, code: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/public/{tenant_slug}/certificates/{code}"


class CourseMessageActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 notifier: Notifier | None = None, storage: FileStorage | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        keys = Keys.from_settings(settings)
        self.links = DownloadLinks.from_keys(keys)
        self.notifier = notifier or Notifier(sessionmaker, settings, keys)
        self.storage = storage or build_storage(settings)

    def _base(self) -> str:
        return self.settings.public_base_url.rstrip("/")

    async def _context(self, session: AsyncSession, enrollment: Enrollment) -> tuple[Course, User, Tenant]:
        course = await session.get(Course, enrollment.course_id)
        client = await session.get(User, enrollment.client_id)
        tenant = await session.get(Tenant, enrollment.tenant_id)
        assert course is not None and client is not None and tenant is not None
        return course, client, tenant

    @activity.defn(name=NOTIFY)
    async def notify(self, notice: CourseNotice) -> int:
        """One message to the client (1 if some channel took it now or before, 0 if nothing was due)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(notice.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, notice.ref.enrollment_id, lock=False)
            if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
                return 0  # access ended while the message waited (quiet hours): nothing to say
            course, client, _ = await self._context(session, enrollment)
            url = f"{self._base()}/api/v1/course-enrollments/{enrollment.id}"
            language = language_of(client.locale)
            lessons = notice.lessons
            variables: dict[str, Any] = {
                "client_name": client.full_name, "course_title": course.title, "course_url": url,
                "lesson_title": lessons[0].title if lessons else "", "count": len(lessons),
                "lessons": "\n".join(f"- {lesson.title}" for lesson in lessons),
                "next_unlock": "", "days": INACTIVITY_NUDGE_AFTER.days, "certificate_code": "",
                "certificate_url": "", "verify_url": "", **notice.variables}
            if notice.event == "course.nudge":
                variables["lesson_title"] = await next_lesson_title(session, enrollment)
            next_at = notice.variables.get("next_unlock_at")
            if next_at:
                variables["next_unlock"] = format_instant(next_at, enrollment.timezone, language)
            variables.pop("next_unlock_at", None)
            request = NotificationRequest(
                dedupe_key=f"{notice.ref.workflow_id}:{notice.step}", tenant_id=enrollment.tenant_id,
                recipient_user_id=client.id, event=notice.event, variables=variables, at=attempt_time(),
                data={"enrollment_id": str(enrollment.id), "link": url,
                      "lesson_ids": [str(lesson.lesson_id) for lesson in lessons]})
        outcome = await deliver_or_retry(self.notifier, request)
        return 1 if outcome.sent_on else 0

    @activity.defn(name=CHECK_INACTIVITY)
    async def check_inactivity(self, check: NudgeCheck) -> NudgeFinding:
        """Is a nudge due: no activity for the whole gap, and not in the client's quiet hours?"""
        async with scoped_session(self.sessionmaker, TenantScope.of(check.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, check.ref.enrollment_id, lock=False)
            last = enrollment.last_activity_at or enrollment.enrolled_at
            if enrollment.status != EnrollmentStatus.ACTIVE or check.at < last + INACTIVITY_NUDGE_AFTER:
                return NudgeFinding(last_activity_at=last)
            client_id, tenant_id = enrollment.client_id, enrollment.tenant_id
        quiet = await self.notifier.quiet_hours_end(tenant_id, client_id, check.at)
        return NudgeFinding(last_activity_at=last, quiet_until=quiet, due=quiet is None)

    @activity.defn(name=ISSUE_CERTIFICATE)
    async def issue_certificate(self, step: CertificateStep) -> str:
        """Render the certificate PDF once (stored as the client's file) and send it with a signed link."""
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, step.ref.enrollment_id, lock=False)
            certificate = (await session.execute(select(Certificate).where(
                Certificate.enrollment_id == enrollment.id))).scalar_one()
            course, client, tenant = await self._context(session, enrollment)
            language = language_of(client.locale)
            link_to = verify_url(self.settings, tenant.slug, certificate.code)
            try:
                stored = await self._pdf(session, certificate, tenant, enrollment, language, link_to)
            except PdfUnavailableError:
                log.exception("%s: the certificate PDF could not be made", step.ref.workflow_id)
                stored = None
            url = ""
            if stored is not None:
                token = self.links.token(file_id=stored.id, tenant_id=tenant.id, user_id=client.id,
                                         expires_at=certificate.issued_at + timedelta(days=CERTIFICATE_LINK_DAYS))
                url = f"{self._base()}/api/v1/files/{stored.id}/content?token={token}"
            request = NotificationRequest(
                dedupe_key=f"{step.ref.workflow_id}:completed", tenant_id=tenant.id, recipient_user_id=client.id,
                event="course.completed", at=attempt_time(),
                variables={"client_name": client.full_name, "course_title": course.title,
                           "course_url": f"{self._base()}/api/v1/course-enrollments/{enrollment.id}",
                           "lesson_title": "", "count": 0, "lessons": "", "next_unlock": "",
                           "days": INACTIVITY_NUDGE_AFTER.days, "certificate_code": certificate.code,
                           "certificate_url": url, "verify_url": link_to},
                data={"enrollment_id": str(enrollment.id), "certificate_code": certificate.code, "link": url or link_to,
                      "file_id": str(stored.id) if stored else None})
        await deliver_or_retry(self.notifier, request)
        return certificate.code

    async def _pdf(self, session: AsyncSession, certificate: Certificate, tenant: Tenant, enrollment: Enrollment,
                   language: str, link_to: str) -> StoredFile:
        file_id = certificate_file_id(certificate.id)
        existing = await session.get(StoredFile, file_id)
        if existing is None:
            pdf = await pdf_from_template("certificate.html", {
                "lang": language, "t": LABELS.get(language, LABELS["en"]), "tenant_name": tenant.name,
                "client_name": certificate.client_name, "course_title": certificate.course_title,
                "issued": format_instant(certificate.issued_at, enrollment.timezone, language, "date"),
                "code": certificate.code, "verify_url": link_to})
            key = tenant_key(tenant.id, "files", f"{file_id}.pdf")
            await self.storage.put(key, pdf, "application/pdf")
            await session.execute(insert(StoredFile).values(
                id=file_id, tenant_id=tenant.id, client_id=enrollment.client_id, uploaded_by=None, kind=FileKind.PDF,
                content_type="application/pdf", size_bytes=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(),
                name=f"certificate-{certificate.code}.pdf", purpose=CERTIFICATE_PURPOSE,
                storage_backend=self.storage.backend, storage_key=key).on_conflict_do_nothing(index_elements=["id"]))
        certificate.file_id = file_id
        await session.flush()
        stored = await session.get(StoredFile, file_id)
        assert stored is not None
        return stored


async def next_lesson_title(session: AsyncSession, enrollment: Enrollment) -> str:
    """The first open lesson not yet completed (for the nudge), or ''."""
    rows = {r.lesson_id: r for r in (await session.execute(select(EnrollmentLesson).where(
        EnrollmentLesson.enrollment_id == enrollment.id))).scalars()}
    for lesson in await outline_of(session, enrollment.course_id):
        row = rows.get(lesson.lesson_id)
        if row is not None and row.unlocked_at is not None and row.completed_at is None:
            return lesson.title
    return ""
