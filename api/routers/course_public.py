"""Public course pages (no account): a consultancy's catalogue, a course's outline and preview
lessons, and certificate verification.

Verification answers only for the consultancy named in the address: a code another consultancy
issued is unknown here, exactly like a code nobody issued (no probing across tenants).
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import Session, State
from api.problems import NOT_FOUND, Problem
from api.schemas.courses import CatalogueCourse, CertificateCheck, LessonContent, LessonKind, PublicCatalogue
from api.services.bookings import public_tenant
from api.services.course_learning import PREVIEW_VIEWER, media_of
from api.services.courses import CERTIFICATE_UNKNOWN, catalogue_entry
from domain.courses.quiz import QuizSpec, public_quiz
from models.courses import Certificate, Course, Lesson
from models.tenancy import Tenant

router = APIRouter(tags=["public"])


async def _course(session: Session, tenant: Tenant, course_slug: str) -> Course:
    course = (await session.execute(select(Course).where(
        Course.tenant_id == tenant.id, Course.slug == course_slug.lower(), Course.status == "published"))
    ).scalar_one_or_none()
    if course is None:
        raise Problem(NOT_FOUND, f"{tenant.name} has no course called '{course_slug}'", field="course_slug")
    return course


@router.get("/public/{tenant_slug}/courses", response_model=PublicCatalogue)
async def public_catalogue(tenant_slug: str, session: Session) -> PublicCatalogue:
    """A consultancy's published courses: outline, price, cohorts to join, preview lessons."""
    tenant = await public_tenant(session, tenant_slug)
    courses = (await session.execute(select(Course).where(
        Course.tenant_id == tenant.id, Course.status == "published").order_by(Course.title))).scalars()
    return PublicCatalogue(slug=tenant.slug, name=tenant.name,
                           courses=[await catalogue_entry(session, c) for c in courses])


@router.get("/public/{tenant_slug}/courses/{course_slug}", response_model=CatalogueCourse)
async def public_course(tenant_slug: str, course_slug: str, session: Session) -> CatalogueCourse:
    tenant = await public_tenant(session, tenant_slug)
    return await catalogue_entry(session, await _course(session, tenant, course_slug))


@router.get("/public/{tenant_slug}/courses/{course_slug}/lessons/{lesson_id}", response_model=LessonContent)
async def public_preview_lesson(tenant_slug: str, course_slug: str, lesson_id: UUID, session: Session,
                                state: State) -> LessonContent:
    """A preview lesson, open to anyone (other lessons are for enrolled clients)."""
    tenant = await public_tenant(session, tenant_slug)
    course = await _course(session, tenant, course_slug)
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id or not lesson.published or not lesson.preview:
        raise Problem(NOT_FOUND, "this course has no preview lesson with this id", field="lesson_id")
    quiz = public_quiz(QuizSpec.model_validate(lesson.quiz)) if lesson.kind == LessonKind.QUIZ and lesson.quiz \
        else None
    return LessonContent(lesson_id=lesson.id, module_id=lesson.module_id, title=lesson.title, kind=lesson.kind,
                         body_html=lesson.body_html, duration_seconds=lesson.duration_seconds,
                         media=await media_of(session, state, lesson, PREVIEW_VIEWER), quiz=quiz)


@router.get("/public/{tenant_slug}/certificates/{code}", response_model=CertificateCheck)
async def verify_certificate(tenant_slug: str, code: str, session: Session) -> CertificateCheck:
    """Is this certificate genuine? `valid`, or `revoked` (with when); an unknown code is a 404."""
    tenant = await public_tenant(session, tenant_slug)
    wanted = code.strip().upper()
    certificate = (await session.execute(select(Certificate).where(
        Certificate.tenant_id == tenant.id, Certificate.code == wanted[:32]))).scalar_one_or_none()
    if certificate is None:
        raise Problem(CERTIFICATE_UNKNOWN, f"{tenant.name} issued no certificate with the code {wanted[:32]}",
                      field="code")
    revoked = certificate.revoked_at is not None
    return CertificateCheck(code=certificate.code, status="revoked" if revoked else "valid", valid=not revoked,
                            client_name=certificate.client_name, course_title=certificate.course_title,
                            consultancy=tenant.name, issued_at=certificate.issued_at,
                            revoked_at=certificate.revoked_at)
