"""Courses: content (courses, modules, lessons, cohorts), enrolments and what clients do in them.

Every table is tenant-owned (row-level security). `enrollment_lessons` is the database's view of
one enrolment's lessons: when each opened (written by the Enrollment workflow's activities), when
it will open or what it waits for (so the API can say so without asking Temporal), completion
and the resume position (written by the API).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TenantOwned, TimestampMixin


class Course(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "courses"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("access_days IS NULL OR access_days > 0", name="access_days_positive"),
    )

    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(500))
    description_md: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")   # draft, published, archived
    consultant_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    access_days: Mapped[int | None] = mapped_column(Integer)
    discussions_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    release_time: Mapped[time] = mapped_column(Time, default=time(8, 0))
    final_assessment_id: Mapped[uuid.UUID | None] = mapped_column(doc="a quiz lesson of this course")


class CourseModule(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "course_modules"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    drip: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Lesson(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "lessons"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("course_modules.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))   # text, video, audio, file, quiz
    position: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    preview: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    drip: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    body_md: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text, doc="body_md rendered and sanitised")
    file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    quiz: Mapped[dict[str, Any] | None] = mapped_column(JSONB, doc="QuizSpec, answer key included")


class Cohort(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "course_cohorts"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)


class Enrollment(TimestampMixin, TenantOwned, Base):
    """The database's mirror of an Enrollment workflow (`enrollment-<id>`), for reads."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index("uq_enrollments_live", "course_id", "client_id", unique=True,
              postgresql_where=text("status IN ('active', 'completed')")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("course_cohorts.id", ondelete="SET NULL"),
                                                        index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    source: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    enrolled_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    last_activity_at: Mapped[datetime | None]
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)


class EnrollmentLesson(TenantOwned, Base):
    __tablename__ = "enrollment_lessons"

    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"),
                                                     primary_key=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True,
                                                 index=True)
    unlocked_at: Mapped[datetime | None]
    opens_at: Mapped[datetime | None] = mapped_column(doc="when a locked lesson's time condition holds")
    waiting_for: Mapped[str | None] = mapped_column(String(300))
    early_access: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None]
    position_seconds: Mapped[int | None] = mapped_column(Integer)
    last_viewed_at: Mapped[datetime | None]


class LessonNote(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "lesson_notes"

    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    position_seconds: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(String(2000))


class QuizAttempt(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id", "number"),)

    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200), unique=True, doc="the submitting update's id")
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    score_percent: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    graded: Mapped[dict[str, Any]] = mapped_column(JSONB)


class DiscussionPost(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "discussion_posts"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("discussion_posts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(4000))


class Certificate(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "certificates"

    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    client_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
