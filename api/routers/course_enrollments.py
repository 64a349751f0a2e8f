"""The catalogue, enrolling, enrolments with progress, staff actions on them, and certificates.

A client enrols in a free course at once, or buys a paid one through an order (a coupon that
covers the whole price enrols at once: the order is paid by it and fulfilled by enrolment).
Staff enrol clients, open lessons early, extend access and end it, and revoke certificates:
the first two are updates of the Enrollment workflow (validated and audited there); ending
access and revoking a certificate are written here, audited, and told to the workflow.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import CONFLICT, FORBIDDEN, NOT_FOUND, VALIDATION, Problem
from api.schemas.courses import (
    CatalogueCourse,
    CertificateOut,
    EarlyAccessBody,
    EnrolBody,
    EnrollmentOut,
    EnrollmentView,
    EnrolmentStarted,
    ExtendBody,
    RevokeBody,
    StaffEnrolBody,
)
from api.services.course_learning import actor, certificate_of, enrollment_view, update_enrollment, verify_url
from api.services.courses import (
    catalogue_entry,
    certificate_out,
    client_in,
    cohort_of,
    course_of,
    enrol,
    enrollment_of,
    enrollment_out,
    enrollment_summary,
    enrollments_of,
    live_enrollment,
)
from api.services.files import issue_link
from api.services.orders import NewOrder, create_order, start_order_workflow
from api.workflow_starts import signal_after_commit
from domain.courses.enrollment import (
    EarlyAccess,
    EndAccess,
    EnrollmentSource,
    EnrollmentState,
    EnrollmentStatus,
    ExtendAccess,
)
from domain.payments.pricing import LineIn, LineKind
from models.courses import Course, Enrollment, Lesson
from models.files import StoredFile
from models.identity import Role
from models.platform import record_audit

log = logging.getLogger(__name__)
router = APIRouter(tags=["courses"])
Staff = Annotated[Principal, require(Permission.MANAGE_COURSES)]
Learner = Annotated[Principal, require(Permission.LEARN)]


# -- the catalogue and enrolling ---------------------------------------------------------------
@router.get("/course-catalogue", response_model=list[CatalogueCourse])
async def catalogue(tenant: CurrentTenant, session: Session, principal: Learner) -> list[CatalogueCourse]:
    """The consultancy's published courses, with the caller's enrolment in each (if any)."""
    courses = (await session.execute(select(Course).where(
        Course.tenant_id == tenant.id, Course.status == "published").order_by(Course.title))).scalars()
    out = []
    for course in courses:
        mine = await live_enrollment(session, course.id, principal.user_id)
        out.append(await catalogue_entry(session, course, mine.id if mine else None))
    return out


@router.get("/course-catalogue/{course_id}", response_model=CatalogueCourse)
async def catalogue_course(course_id: UUID, tenant: CurrentTenant, session: Session,
                           principal: Learner) -> CatalogueCourse:
    course = await course_of(session, tenant.id, course_id, published=True)
    mine = await live_enrollment(session, course.id, principal.user_id)
    return await catalogue_entry(session, course, mine.id if mine else None)


@router.post("/courses/{course_id}/enrol", status_code=status.HTTP_201_CREATED, response_model=EnrolmentStarted)
async def enrol_myself(
    course_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State, principal: Learner,
    body: EnrolBody | None = None,
) -> EnrolmentStarted:
    """Enrol in a published course: a free one at once; a paid one through an order to pay (a coupon
    covering the whole price enrols at once). 409 if already enrolled."""
    body = body or EnrolBody()
    if principal.role != Role.CLIENT:
        raise Problem(FORBIDDEN, "only clients enrol themselves; staff enrol a client with POST "
                      "/api/v1/course-enrollments")
    course = await course_of(session, tenant.id, course_id, published=True)
    cohort = await cohort_of(session, tenant.id, body.cohort_id, course.id) if body.cohort_id else None
    client = await client_in(session, tenant.id, principal.user_id)
    if course.price_minor == 0:
        if body.coupon_code:
            raise Problem(CONFLICT, "this course is free: no coupon needed", field="coupon_code")
        enrollment = await enrol(request, session, state, tenant=tenant, course=course, client=client, cohort=cohort,
                                 source=EnrollmentSource.FREE)
        await record_audit(session, tenant_id=tenant.id, action="enrollment.created", actor_user_id=client.id,
                           actor_role=principal.role.value, target_type="enrollment", target_id=enrollment.id,
                           details={"course_id": str(course.id), "source": "free"})
        return EnrolmentStarted(enrollment_id=enrollment.id, status="enrolled", currency=course.currency)
    if await live_enrollment(session, course.id, client.id) is not None:
        raise Problem(CONFLICT, "you are already enrolled in this course", field="course_id")
    order, inp = await create_order(session, tenant, NewOrder(
        client_id=client.id, currency=course.currency, coupon_code=body.coupon_code, created_by=client.id,
        lines=[LineIn(kind=LineKind.ENROLLMENT, description=course.title[:200], unit_amount=course.price_minor,
                      offering_id=str(course.id), ref_id=str(cohort.id if cohort else course.id))]))
    await start_order_workflow(request, session, state, order, inp)
    line_id = inp.lines[0].line_id
    return EnrolmentStarted(enrollment_id=line_id, status="enrolled" if order.amount_due == 0 else "awaiting_payment",
                            order_id=order.id, amount_due=order.amount_due, currency=order.currency)


@router.post("/course-enrollments", status_code=status.HTTP_201_CREATED, response_model=EnrollmentOut)
async def enrol_client(body: StaffEnrolBody, request: Request, tenant: CurrentTenant, session: Session, state: State,
                       principal: Staff) -> EnrollmentOut:
    """Enrol a client (free of charge, audited); a draft course too, for a trial."""
    client = await client_in(session, tenant.id, body.client_id)
    course = await course_of(session, tenant.id, body.course_id)
    cohort = await cohort_of(session, tenant.id, body.cohort_id, course.id) if body.cohort_id else None
    enrollment = await enrol(request, session, state, tenant=tenant, course=course, client=client, cohort=cohort,
                             source=EnrollmentSource.STAFF)
    await record_audit(session, tenant_id=tenant.id, action="enrollment.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="enrollment", target_id=enrollment.id,
                       details={"course_id": str(course.id), "client_id": str(client.id), "source": "staff"})
    return enrollment_summary(enrollment, course.title, 0, 0)


# -- enrolments and progress -------------------------------------------------------------------
@router.get("/course-enrollments", response_model=Page[EnrollmentOut])
async def list_enrollments(
    tenant: CurrentTenant, session: Session, paging: Paging, principal: Learner,
    course_id: Annotated[UUID | None, Query()] = None,
    client_id: Annotated[UUID | None, Query(description="staff: this client's")] = None,
    cohort_id: Annotated[UUID | None, Query()] = None,
    status_: Annotated[EnrollmentStatus | None, Query(alias="status")] = None,
) -> Page[EnrollmentOut]:
    """A client's own courses ("my courses"); for staff, every enrolment, with progress."""
    stmt = enrollments_of(tenant.id, principal)
    if course_id:
        stmt = stmt.where(Enrollment.course_id == course_id)
    if client_id:
        stmt = stmt.where(Enrollment.client_id == client_id)
    if cohort_id:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    if status_:
        stmt = stmt.where(Enrollment.status == status_.value)
    rows, cursor = await paginate(session, stmt, paging, sortable={"enrolled_at": Enrollment.enrolled_at},
                                  default_sort="-enrolled_at", id_column=Enrollment.id)
    return Page[EnrollmentOut](items=[await enrollment_out(session, r) for r in rows], next_cursor=cursor)


@router.get("/course-enrollments/{enrollment_id}", response_model=EnrollmentView)
async def read_enrollment(enrollment_id: UUID, tenant: CurrentTenant, session: Session, state: State,
                          principal: Learner) -> EnrollmentView:
    """An enrolment with progress per module and lesson (open, locked and when it opens, completed),
    where to resume, the certificate; for staff also the live workflow's state."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    return await enrollment_view(session, state, tenant, principal, enrollment)


@router.post("/course-enrollments/{enrollment_id}/early-access", response_model=EnrollmentView)
async def grant_early_access(
    enrollment_id: UUID, body: EarlyAccessBody, request: Request, tenant: CurrentTenant, session: Session,
    state: State, temporal: Temporal, principal: Staff,
) -> EnrollmentView:
    """Open lessons now for this one client, whatever their drip rule says (audited)."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    found = set((await session.execute(select(Lesson.id).where(
        Lesson.course_id == enrollment.course_id, Lesson.id.in_(body.lesson_ids)))).scalars())
    if missing := [str(i) for i in body.lesson_ids if i not in found]:
        raise Problem(VALIDATION, f"lesson_ids: this course has no lesson {missing[0]}", field="lesson_ids")
    if len(set(body.lesson_ids)) != len(body.lesson_ids):
        raise Problem(VALIDATION, "lesson_ids: name each lesson once", field="lesson_ids")
    await update_enrollment(temporal, enrollment, "grant_early_access", EarlyAccess(
        **actor(request, principal), lesson_ids=body.lesson_ids, reason=body.reason), EnrollmentState)
    await session.refresh(enrollment)
    return await enrollment_view(session, state, tenant, principal, enrollment)


@router.post("/course-enrollments/{enrollment_id}/extend", response_model=EnrollmentView)
async def extend_access(
    enrollment_id: UUID, body: ExtendBody, request: Request, tenant: CurrentTenant, session: Session,
    state: State, temporal: Temporal, principal: Staff,
) -> EnrollmentView:
    """Extend access to a later time (an expired enrolment opens again; audited)."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    if body.expires_at <= datetime.now(UTC):
        raise Problem(VALIDATION, "expires_at: choose a time in the future", field="expires_at")
    if enrollment.expires_at is None:
        raise Problem(VALIDATION, "expires_at: this enrolment never expires", field="expires_at")
    if body.expires_at <= enrollment.expires_at:
        raise Problem(VALIDATION, f"expires_at: access already runs until {enrollment.expires_at:%Y-%m-%d %H:%M} "
                      "UTC; choose a later time", field="expires_at")
    await update_enrollment(temporal, enrollment, "extend_access", ExtendAccess(
        **actor(request, principal), expires_at=body.expires_at, reason=body.reason), EnrollmentState)
    await session.refresh(enrollment)
    return await enrollment_view(session, state, tenant, principal, enrollment)


@router.post("/course-enrollments/{enrollment_id}/revoke", response_model=EnrollmentView)
async def revoke_enrollment(
    enrollment_id: UUID, body: RevokeBody, request: Request, tenant: CurrentTenant, session: Session,
    state: State, principal: Staff,
) -> EnrollmentView:
    """End the client's access now (audited); the workflow is told after the commit."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    await session.refresh(enrollment, with_for_update=True)
    if enrollment.status == EnrollmentStatus.REVOKED:
        raise Problem(CONFLICT, "this enrolment is already revoked", field="enrollment_id")
    enrollment.status, enrollment.ended_at = EnrollmentStatus.REVOKED.value, datetime.now(UTC)
    enrollment.end_reason = body.reason
    await record_audit(session, tenant_id=tenant.id, action="enrollment.revoked", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="enrollment", target_id=enrollment.id,
                       details={"reason": body.reason})
    await signal_after_commit(request, session, state, workflow_id=enrollment.workflow_id, signal="revoke",
                              payload=EndAccess(**actor(request, principal), reason=body.reason),
                              tenant_id=tenant.id)
    await session.flush()
    return await enrollment_view(session, state, tenant, principal, enrollment)


# -- certificates ------------------------------------------------------------------------------
@router.get("/course-enrollments/{enrollment_id}/certificate", response_model=CertificateOut)
async def read_certificate(enrollment_id: UUID, tenant: CurrentTenant, session: Session, state: State,
                           principal: Learner) -> CertificateOut:
    """The enrolment's certificate, with a signed link to its PDF once it is rendered."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    certificate = await certificate_of(session, enrollment)
    if certificate is None:
        raise Problem(NOT_FOUND, "no certificate yet: it is issued when the course is complete",
                      field="enrollment_id")
    link = None
    if certificate.file_id is not None and certificate.revoked_at is None:
        stored = await session.get(StoredFile, certificate.file_id)
        link = issue_link(state, stored, principal.user_id).url if stored else None
    return certificate_out(certificate, verify_url(state, tenant, certificate.code), link)


@router.post("/course-enrollments/{enrollment_id}/certificate/revoke", response_model=CertificateOut)
async def revoke_certificate(enrollment_id: UUID, body: RevokeBody, tenant: CurrentTenant, session: Session,
                             state: State, principal: Staff) -> CertificateOut:
    """Revoke the certificate (audited): its public verification says so from now on."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    certificate = await certificate_of(session, enrollment)
    if certificate is None:
        raise Problem(NOT_FOUND, "this enrolment has no certificate", field="enrollment_id")
    if certificate.revoked_at is not None:
        raise Problem(CONFLICT, "this certificate is already revoked", field="enrollment_id")
    certificate.revoked_at, certificate.revoke_reason = datetime.now(UTC), body.reason
    await record_audit(session, tenant_id=tenant.id, action="certificate.revoked", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="certificate", target_id=certificate.id,
                       details={"code": certificate.code, "reason": body.reason,
                                "enrollment_id": str(enrollment.id)})
    await session.flush()
    return certificate_out(certificate, verify_url(state, tenant, certificate.code))

