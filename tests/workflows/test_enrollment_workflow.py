"""EnrollmentWorkflow on the time-skipping server: months of drip pass in seconds, no sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support import poll_until
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.worker import Worker

from core.db import TenantScope, scoped_session
from domain.courses.drip import local_instant
from domain.courses.enrollment import (
    SYNC,
    CompleteLesson,
    EndAccess,
    EnrollmentInput,
    EnrollmentSource,
    EnrollmentState,
    EnrollmentStatus,
    ExtendAccess,
    QuizAnswer,
    QuizSubmission,
    Sync,
    Synced,
    enrollment_workflow_id,
)
from models.courses import Certificate, Cohort, Course, CourseModule, Enrollment, EnrollmentLesson, Lesson
from models.identity import Role, User
from models.notifications import NotificationPreference
from models.platform import OutboxMessage
from models.tenancy import Tenant, TenantStatus
from workers.registry import WORKFLOWS, build_activities, workflow_runner
from workflows.enrollment import EnrollmentWorkflow

ZONE = "Asia/Kolkata"
QUIZ = {"questions": [
    {"id": "q1", "kind": "single", "prompt": "Life path of 1990-05-20?", "correct": ["b"],
     "options": [{"id": "a", "text": "8"}, {"id": "b", "text": "9"}]},
    {"id": "q2", "kind": "true_false", "prompt": "Master numbers are reduced.", "correct": ["false"]},
    {"id": "q3", "kind": "multiple", "prompt": "Which are master numbers?", "correct": ["x", "z"],
     "options": [{"id": "x", "text": "11"}, {"id": "y", "text": "12"}, {"id": "z", "text": "22"}]}],
    "pass_mark_percent": 60, "max_attempts": 2}
RIGHT = {"q1": ["b"], "q2": ["false"], "q3": ["x", "z"]}
WRONG = {"q1": ["a"], "q2": ["true"], "q3": ["x"]}


class World:
    tenant_id: uuid.UUID
    client_ids: list[uuid.UUID]
    course_id: uuid.UUID
    lessons: dict[str, uuid.UUID]
    cohort_id: uuid.UUID | None = None


async def _world(sessionmaker, outline: list[tuple[str, dict[str, Any] | None, list[tuple[str, str, dict | None]]]],
                 *, clients: int = 1, access_days: int | None = None, cohort_starts_on: date | None = None,
                 final: str | None = None) -> World:
    """A consultancy, clients, and a published course: [(module, module rule, [(lesson, kind, rule)])]."""
    world = World()
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = Tenant(slug=f"c-{uuid.uuid4().hex[:8]}", name="Tara Numerology", status=TenantStatus.ACTIVE,
                        timezone=ZONE, settings={})
        session.add(tenant)
        await session.flush()
        people = [User(tenant_id=tenant.id, email=f"seeker{i}@course.example.com", full_name=f"Seeker {i}",
                       role=Role.CLIENT, timezone=ZONE) for i in range(clients)]
        session.add_all(people)
        course = Course(tenant_id=tenant.id, slug="numerology", title="Numerology in 12 weeks", status="published",
                        access_days=access_days, release_time=time(8, 0))
        session.add(course)
        await session.flush()
        world.lessons = {}
        for m, (module_title, module_rule, lessons) in enumerate(outline):
            module = CourseModule(tenant_id=tenant.id, course_id=course.id, title=module_title, position=m,
                                  drip=module_rule)
            session.add(module)
            await session.flush()
            for n, (title, kind, rule) in enumerate(lessons):
                lesson = Lesson(tenant_id=tenant.id, course_id=course.id, module_id=module.id, title=title, kind=kind,
                                position=n, published=True, drip=rule, body_md="text",
                                quiz=QUIZ if kind == "quiz" else None)
                session.add(lesson)
                await session.flush()
                world.lessons[title] = lesson.id
        if final:
            course.final_assessment_id = world.lessons[final]
        if cohort_starts_on:
            cohort = Cohort(tenant_id=tenant.id, course_id=course.id, name="January batch", starts_on=cohort_starts_on)
            session.add(cohort)
            await session.flush()
            world.cohort_id = cohort.id
        world.tenant_id, world.course_id, world.client_ids = tenant.id, course.id, [p.id for p in people]
    return world


async def _enrol(env, sessionmaker, world: World, client: int = 0) -> WorkflowHandle:
    """What the API does for a staff enrolment: the row, then the workflow."""
    now = await env.get_current_time()
    enrollment_id = uuid.uuid4()
    async with scoped_session(sessionmaker, TenantScope.of(world.tenant_id)) as session:
        course = await session.get(Course, world.course_id)
        session.add(Enrollment(id=enrollment_id, tenant_id=world.tenant_id, course_id=world.course_id,
                               client_id=world.client_ids[client], cohort_id=world.cohort_id, status="active",
                               source="staff", enrolled_at=now, timezone=ZONE, last_activity_at=now,
                               expires_at=now + timedelta(days=course.access_days) if course.access_days else None,
                               workflow_id=enrollment_workflow_id(enrollment_id)))
    handle = await env.client.start_workflow(
        EnrollmentWorkflow.run, EnrollmentInput(enrollment_id=enrollment_id, tenant_id=world.tenant_id,
                                                client_id=world.client_ids[client], course_ref=world.course_id,
                                                source=EnrollmentSource.STAFF),
        id=enrollment_workflow_id(enrollment_id), task_queue=env.task_queue)
    env.started.append(handle)
    await _settled(handle, lambda s: s.syncs >= 1)
    return handle


async def _settled(handle: WorkflowHandle, done, timeout: float = 20.0) -> EnrollmentState:
    state = await poll_until(lambda: handle.query(EnrollmentWorkflow.state), done, timeout)
    assert done(state), state
    return state


async def _opened(sessionmaker, enrollment_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rows = (await session.execute(select(EnrollmentLesson).where(
            EnrollmentLesson.enrollment_id == enrollment_id, EnrollmentLesson.unlocked_at.is_not(None)))).scalars()
        return {r.lesson_id: r.unlocked_at for r in rows if r.unlocked_at is not None}


async def _templates(sessionmaker, recipient: str) -> list[str]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return list((await session.execute(select(OutboxMessage.template).where(
            OutboxMessage.recipient == recipient).order_by(OutboxMessage.created_at))).scalars())


def _enrollment_id(handle: WorkflowHandle) -> uuid.UUID:
    return uuid.UUID(handle.id.removeprefix("enrollment-"))


async def test_drip_over_months_relative_fixed_gated_and_mixed(env, sessionmaker):
    start = (await env.get_current_time()).astimezone()
    fixed_day = (start + timedelta(days=40)).date()
    world = await _world(sessionmaker, [
        ("Basics", None, [("Welcome", "text", None), ("Your numbers", "video", {"after_previous": True})]),
        ("Week 2", {"days_after_enrolment": 7}, [("Life path", "text", None), ("Destiny", "audio", None)]),
        ("Live session", {"on_date": str(fixed_day)}, [("Recording", "video", None)]),
        ("Mastery", None, [("Masters", "text", {"days_after_enrolment": 60, "after_previous": True})]),
    ])
    handle = await _enrol(env, sessionmaker, world)
    eid, lessons, email = _enrollment_id(handle), world.lessons, "seeker0@course.example.com"
    state = await handle.query(EnrollmentWorkflow.state)
    assert set(await _opened(sessionmaker, eid)) == {lessons["Welcome"]}
    assert [u.waiting_for for u in state.upcoming][:1] == ["completing 'Welcome'"]
    enrolled_on = (await env.get_current_time()).astimezone(__import__("zoneinfo").ZoneInfo(ZONE)).date()
    assert state.next_unlock_at == local_instant(enrolled_on + timedelta(days=7), time(8, 0), ZONE)

    answered = await handle.execute_update(EnrollmentWorkflow.complete_lesson,
                                           CompleteLesson(lesson_id=lessons["Welcome"]))
    assert answered.unlocked == 2  # gated: opened by the client's own step, in the answer
    await poll_until(lambda: _templates(sessionmaker, email), lambda t: "course.enrolled" in t)

    await env.sleep(timedelta(days=7, hours=12))   # the 8:00 IST release of day 7 passes
    await _settled(handle, lambda s: s.unlocked == 4)
    opened = await _opened(sessionmaker, eid)
    day7 = local_instant(enrolled_on + timedelta(days=7), time(8, 0), ZONE)
    assert opened[lessons["Life path"]] == opened[lessons["Destiny"]] == day7
    sent = await poll_until(lambda: _templates(sessionmaker, email), lambda t: "course.unlocked_digest" in t)
    assert sent.count("course.unlocked_digest") == 1 and "course.unlocked" not in sent  # one digest for two

    await env.sleep(timedelta(days=34))   # a fixed date, 40 days after enrolment; seven idle days nudged once
    state = await _settled(handle, lambda s: s.unlocked == 5)
    assert (await _opened(sessionmaker, eid))[lessons["Recording"]] == local_instant(fixed_day, time(8, 0), ZONE)
    sent = await poll_until(lambda: _templates(sessionmaker, email), lambda t: "course.unlocked" in t)
    assert sent.count("course.nudge") == 1 and state.nudges == 1

    await env.sleep(timedelta(days=25))   # day 66: "Masters" has its date, but waits for "Recording"
    state = await handle.query(EnrollmentWorkflow.state)
    assert lessons["Masters"] not in await _opened(sessionmaker, eid)
    assert state.upcoming[0].waiting_for == "completing 'Recording'"
    state = await handle.execute_update(EnrollmentWorkflow.complete_lesson,
                                        CompleteLesson(lesson_id=lessons["Recording"]))
    assert state.unlocked == 6 and state.next_unlock_at is None


async def test_a_cohort_move_replans_every_enrolment_of_it(env, sessionmaker):
    today = (await env.get_current_time()).date()
    world = await _world(sessionmaker, [("Cohort week 1", {"cohort_day": 0}, [("Kick-off", "video", None)]),
                                        ("Cohort week 2", {"cohort_day": 7}, [("Practice", "text", None)])],
                         clients=2, cohort_starts_on=today + timedelta(days=3))
    handles = [await _enrol(env, sessionmaker, world, i) for i in range(2)]
    for handle in handles:
        assert (await handle.query(EnrollmentWorkflow.state)).unlocked == 0
    async with scoped_session(sessionmaker, TenantScope.of(world.tenant_id)) as session:  # what the API does
        cohort = await session.get(Cohort, world.cohort_id)
        cohort.starts_on = today + timedelta(days=10)
    for handle in handles:
        await handle.signal(EnrollmentWorkflow.replan)
    new_start = local_instant(today + timedelta(days=10), time(8, 0), ZONE)
    for handle in handles:
        await _settled(handle, lambda s: s.next_unlock_at == new_start)
    await env.sleep(timedelta(days=6))  # past the old start: nothing opened
    for handle in handles:
        assert (await handle.query(EnrollmentWorkflow.state)).unlocked == 0
    await env.sleep(timedelta(days=5))
    for handle in handles:
        await _settled(handle, lambda s: s.unlocked == 1)
        assert set(await _opened(sessionmaker, _enrollment_id(handle))) == {world.lessons["Kick-off"]}


async def test_quiz_grading_attempt_limits_final_assessment_and_certificate(env, sessionmaker):
    world = await _world(sessionmaker, [("Only", None, [("Read me", "text", None), ("Final", "quiz", None)])],
                         clients=2, final="Final")
    failing, passing = [await _enrol(env, sessionmaker, world, i) for i in range(2)]
    final = world.lessons["Final"]
    first: QuizAnswer = await failing.execute_update(EnrollmentWorkflow.submit_quiz,
                                                     QuizSubmission(lesson_id=final, answers=WRONG))
    assert (first.attempt, first.attempts_left, first.graded.passed, first.graded.score_percent) == (1, 1, False, 0)
    assert all(q.right_options is None for q in first.graded.questions)  # the key stays hidden while tries remain
    last = await failing.execute_update(EnrollmentWorkflow.submit_quiz,
                                        QuizSubmission(lesson_id=final, answers={"q1": ["b"], "q3": ["x"]}))
    assert (last.attempt, last.attempts_left, last.graded.score_percent, last.graded.passed) == (2, 0, 33, False)
    assert [q.right_options for q in last.graded.questions] == [["b"], ["false"], ["x", "z"]]  # no try left
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await failing.execute_update(EnrollmentWorkflow.submit_quiz, QuizSubmission(lesson_id=final, answers=RIGHT))
    assert "attempts" in str(refused.value.cause)

    passed = await passing.execute_update(EnrollmentWorkflow.submit_quiz,
                                          QuizSubmission(lesson_id=final, answers=RIGHT))
    assert passed.graded.passed and passed.graded.score_percent == 100
    assert passed.state.status == EnrollmentStatus.ACTIVE  # "Read me" is required too
    done = await passing.execute_update(EnrollmentWorkflow.complete_lesson,
                                        CompleteLesson(lesson_id=world.lessons["Read me"]))
    assert done.status == EnrollmentStatus.COMPLETED and done.percent == 100 and done.certificate_code
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        certificate = (await session.execute(select(Certificate).where(
            Certificate.enrollment_id == _enrollment_id(passing)))).scalar_one()
        assert (certificate.code, certificate.client_name) == (done.certificate_code, "Seeker 1")
    sent = await poll_until(lambda: _templates(sessionmaker, "seeker1@course.example.com"),
                            lambda t: "course.completed" in t)
    assert "course.completed" in sent
    await passing.result()  # completed with lifetime access: the run ends


async def test_access_expires_and_staff_extend_it(env, sessionmaker):
    world = await _world(sessionmaker, [("Only", None, [("One", "text", None), ("Two", "text", None)])],
                         access_days=30)
    handle = await _enrol(env, sessionmaker, world)
    state = await handle.query(EnrollmentWorkflow.state)
    with pytest.raises(WorkflowUpdateFailedError):  # not later than what it has
        await handle.execute_update(EnrollmentWorkflow.extend_access,
                                    ExtendAccess(expires_at=state.expires_at - timedelta(days=1)))
    await env.sleep(timedelta(days=31))
    await _settled(handle, lambda s: s.status == EnrollmentStatus.EXPIRED)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(EnrollmentWorkflow.complete_lesson, CompleteLesson(lesson_id=world.lessons["One"]))
    later = await env.get_current_time() + timedelta(days=60)
    state = await handle.execute_update(EnrollmentWorkflow.extend_access, ExtendAccess(expires_at=later))
    assert state.status == EnrollmentStatus.ACTIVE and state.expires_at == later
    await handle.signal(EnrollmentWorkflow.revoke, EndAccess(reason="refunded"))
    await _settled(handle, lambda s: s.status == EnrollmentStatus.REVOKED)


async def test_a_nudge_waits_out_quiet_hours_and_comes_once_per_gap(env, sessionmaker):
    world = await _world(sessionmaker, [("Only", None, [("One", "text", None), ("Two", "text", None)])])
    now = await env.get_current_time()
    local = (now + timedelta(days=7)).astimezone(__import__("zoneinfo").ZoneInfo(ZONE))
    async with scoped_session(sessionmaker, TenantScope.of(world.tenant_id)) as session:  # the 7th day's hour is quiet
        session.add(NotificationPreference(tenant_id=world.tenant_id, user_id=world.client_ids[0],
                                           quiet_hours_start=(local - timedelta(hours=1)).time(),
                                           quiet_hours_end=(local + timedelta(hours=3)).time()))
    handle = await _enrol(env, sessionmaker, world)
    await env.sleep(timedelta(days=20))
    state = await _settled(handle, lambda s: s.nudges == 1)
    [nudge] = [m for m in state.messages if m.step.startswith("nudge:")]
    assert nudge.posted_at >= now + timedelta(days=7, hours=3) - timedelta(minutes=1)  # after the quiet hours
    assert nudge.posted_at < now + timedelta(days=8)
    assert (await handle.query(EnrollmentWorkflow.state)).nudges == 1  # 13 more idle days: still one


async def test_a_refunded_order_ends_the_course_it_sold(env, sessionmaker, gateway):
    from payments_support import consultancy, new_order, payment_reports

    from domain.payments.orders import OrderStatus, RefundRequest, order_workflow_id
    from domain.payments.pricing import LineIn, LineKind
    from workflows.orders import OrderWorkflow

    shop = await consultancy(sessionmaker)
    async with scoped_session(sessionmaker, TenantScope.of(shop.tenant_id)) as session:
        course = Course(tenant_id=shop.tenant_id, slug="tarot", title="Tarot cohort", status="published",
                        price_minor=99_900)
        session.add(course)
        await session.flush()
        module = CourseModule(tenant_id=shop.tenant_id, course_id=course.id, title="Cards", position=0)
        session.add(module)
        await session.flush()
        session.add(Lesson(tenant_id=shop.tenant_id, course_id=course.id, module_id=module.id, title="Major arcana",
                           kind="text", position=0, published=True, body_md="text"))
        course_id = course.id
    inp = await new_order(sessionmaker, shop, [LineIn(kind=LineKind.ENROLLMENT, description="Tarot cohort",
                                                      unit_amount=99_900, ref_id=str(course_id),
                                                      offering_id=str(course_id))])
    order = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                            task_queue=env.task_queue)
    env.started.append(order)
    info = await order.execute_update(OrderWorkflow.checkout)
    gateway.pay(info.gateway_order_id)
    for report in payment_reports(gateway, info.gateway_order_id, "payment.captured"):
        await order.signal(OrderWorkflow.payment_captured, report)
    line_id = inp.lines[0].line_id
    enrollment = env.client.get_workflow_handle(enrollment_workflow_id(line_id))
    env.started.append(enrollment)
    state = await poll_until(lambda: _safe_state(enrollment), lambda s: s is not None and s.unlocked == 1, 20)
    assert state.status == EnrollmentStatus.ACTIVE and state.source == EnrollmentSource.ORDER
    await poll_until(lambda: order.query(OrderWorkflow.state), lambda s: s.status == OrderStatus.FULFILLED)

    await order.execute_update(OrderWorkflow.refund, RefundRequest(amount=99_900, reason="changed their mind",
                                                                   key=f"refund-all-{inp.order_id}"))
    refund = next(r for r in gateway.refunds.values() if r["notes"].get("order_id") == str(inp.order_id))
    gateway.settle_refund(refund["id"])  # Razorpay processes it and says so by webhook
    for report in payment_reports(gateway, info.gateway_order_id, "refund.processed"):
        await order.signal(OrderWorkflow.refund_settled, report)
    await _settled(enrollment, lambda s: s.status == EnrollmentStatus.REVOKED)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(Enrollment, line_id)
        assert row.status == "revoked" and row.end_reason == "the order was refunded"
    assert (await order.query(OrderWorkflow.state)).status == OrderStatus.REFUNDED


async def _safe_state(handle: WorkflowHandle) -> EnrollmentState | None:
    from temporalio.service import RPCError
    try:
        return await handle.query(EnrollmentWorkflow.state)
    except RPCError:
        return None  # not started yet


@pytest.fixture
async def gated(time_skipping_env, sessionmaker, settings, clean) -> AsyncIterator[tuple[Any, SyncGate]]:
    """The production worker, with the enrolment's sync activity held after it has read the
    database when the test arms its gate: the moment a cohort may move while a sync runs."""
    gate = SyncGate()
    queue = f"wf-test-{uuid.uuid4().hex[:8]}"
    activities = build_activities(sessionmaker, settings.model_copy(update={"temporal_task_queue": queue}))
    real = next(a for a in activities if getattr(getattr(a, "__temporal_activity_definition", None), "name", None)
                == SYNC)

    @activity.defn(name=SYNC)
    async def held_sync(step: Sync) -> Synced:
        synced: Synced = await real(step)  # the real activity, on the test database
        if gate.armed:
            gate.armed = False
            gate.read.set()
            await gate.release.wait()
        return synced

    worker = Worker(time_skipping_env.client, task_queue=queue, workflows=list(WORKFLOWS),
                    activities=[held_sync if a is real else a for a in activities],
                    workflow_runner=workflow_runner())
    async with worker:
        time_skipping_env.task_queue = queue
        time_skipping_env.started = []
        yield time_skipping_env, gate
        for handle in time_skipping_env.started:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")


class SyncGate:
    def __init__(self) -> None:
        self.armed = False
        self.read, self.release = asyncio.Event(), asyncio.Event()


async def _signal_handled(handle: WorkflowHandle) -> None:
    """Until the workflow has run a task after its last signal (its handler has run)."""
    async def last_events() -> list[str]:
        events = [e async for e in handle.fetch_history_events()]
        names = [EventType.Name(e.event_type) for e in events]
        signalled = max(i for i, n in enumerate(names) if n == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED")
        return names[signalled:]
    await poll_until(last_events, lambda names: "EVENT_TYPE_WORKFLOW_TASK_COMPLETED" in names)


async def test_a_cohort_moved_while_the_enrolment_syncs_is_planned_at_once(gated, sessionmaker):
    env, gate = gated
    today = (await env.get_current_time()).date()
    world = await _world(sessionmaker, [("Cohort week 1", {"cohort_day": 0}, [("Kick-off", "video", None)])],
                         cohort_starts_on=today + timedelta(days=3))
    handle = await _enrol(env, sessionmaker, world)
    old_start = local_instant(today + timedelta(days=3), time(8, 0), ZONE)
    assert (await handle.query(EnrollmentWorkflow.state)).next_unlock_at == old_start

    gate.armed = True
    await handle.signal(EnrollmentWorkflow.replan, "content changed")  # a sync starts and reads the old date
    async with asyncio.timeout(20):
        await gate.read.wait()
    async with scoped_session(sessionmaker, TenantScope.of(world.tenant_id)) as session:  # what the API does
        cohort = await session.get(Cohort, world.cohort_id)
        cohort.starts_on = today + timedelta(days=10)
    await handle.signal(EnrollmentWorkflow.replan, "cohort moved")
    await _signal_handled(handle)  # the move is signalled while that sync is still running
    gate.release.set()

    new_start = local_instant(today + timedelta(days=10), time(8, 0), ZONE)
    await _settled(handle, lambda s: s.next_unlock_at == new_start)  # not at the old date's wake, days later
