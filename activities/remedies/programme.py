"""The Remedy workflow's writes: the programme's row (begin, save), check-ins and missed occurrences.

Each runs in one transaction and is idempotent: a check-in is one row per (programme,
occurrence), so a retried or repeated check-in finds the first and counts nothing; a missed
occurrence is written only if nothing was recorded for it; `save` writes the workflow's state
as it is (the last write wins, and the workflow writes in order under its lock).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import desc, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db import TenantScope, scoped_session
from domain.remedies.planning import make_plan
from domain.remedies.programme import (
    BEGIN,
    CLOSED_ERROR,
    RECORD_CHECK_IN,
    RECORD_MISSED,
    SAVE,
    Begin,
    Begun,
    CheckInStatus,
    Closed,
    ProgrammeSource,
    ProgrammeStatus,
    RecordCheckIn,
    RecordedCheckIn,
    RemedyState,
    Save,
)
from domain.remedies.schedule import Plan, Schedule
from domain.zones import zone_of
from models.astrology import BirthProfile
from models.identity import Role, User
from models.platform import record_audit
from models.remedies import Remedy, RemedyCheckIn, RemedyProgramme
from models.tenancy import Tenant


def write_state(programme: RemedyProgramme, state: RemedyState) -> None:
    """The row mirrors the workflow: status, counts, streak, the open and the next occurrence."""
    programme.status = state.status.value
    if state.plan is not None:
        programme.plan = state.plan.model_dump(mode="json")
        programme.end_date = state.plan.end_date
    programme.counted, programme.done, programme.skipped, programme.missed = (
        state.counted, state.done, state.skipped, state.missed)
    programme.streak, programme.best_streak = state.streak, state.best_streak
    live = state.status in (ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED)
    upcoming = state.upcoming if live else None
    programme.next_occurrence_at = upcoming.at if upcoming else None
    programme.next_occurrence_key = upcoming.key if upcoming else None
    current = state.current if live else None
    programme.open_occurrence_key = current.key if current and current.checked is None else None
    programme.open_until = current.closes_at if current and current.checked is None else None
    programme.paused_at, programme.ended_at = state.paused_at, state.ended_at
    programme.ended_reason = state.ended_reason


async def load_programme(session: AsyncSession, programme_id: object, *, lock: bool = True) -> RemedyProgramme:
    stmt = select(RemedyProgramme).where(RemedyProgramme.id == programme_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        raise ApplicationError(f"remedy programme {programme_id} not found", non_retryable=True)
    return found


class RemedyActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    @activity.defn(name=BEGIN)
    async def begin(self, step: Begin) -> Begun:
        """The programme's row: made by the API (assigned), or here (bought through an order)."""
        inp = step.inp
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            programme = await session.get(RemedyProgramme, inp.programme_id)
            if programme is None:
                programme = await self._from_order(session, step)
            plan = Plan.model_validate(programme.plan)
            return Begun(plan=plan, status=ProgrammeStatus(programme.status), consultant_id=programme.consultant_id)

    async def _from_order(self, session: AsyncSession, step: Begin) -> RemedyProgramme:
        inp = step.inp
        remedy = await session.get(Remedy, inp.remedy_ref) if inp.remedy_ref else None
        client = await session.get(User, inp.client_id)
        tenant = await session.get(Tenant, inp.tenant_id)
        if remedy is None or remedy.tenant_id != inp.tenant_id or client is None or tenant is None:
            raise ApplicationError("a remedy line names a remedy of this consultancy (ref_id)", non_retryable=True)
        zone = zone_of(client, tenant, "Asia/Kolkata")
        profile = (await session.execute(select(BirthProfile).where(BirthProfile.client_id == client.id).order_by(
            desc(BirthProfile.created_at)).limit(1))).scalar_one_or_none()
        place = (profile.resolved["latitude"], profile.resolved["longitude"]) if profile else None
        start = step.at.astimezone(ZoneInfo(zone)).date()
        plan = inp.plan or make_plan(Schedule.model_validate(remedy.default_schedule), timezone=zone,
                                     start_date=start, duration_days=remedy.default_duration_days,
                                     occurrences=remedy.default_occurrences, place=place)
        consultant = await session.get(User, remedy.created_by) if remedy.created_by else None
        consultant_id = consultant.id if consultant is not None and consultant.role in (
            Role.OWNER, Role.CONSULTANT) else None
        programme = RemedyProgramme(
            id=inp.programme_id, tenant_id=inp.tenant_id, remedy_id=remedy.id, client_id=client.id,
            birth_profile_id=profile.id if profile else None, consultant_id=consultant_id,
            source=ProgrammeSource.ORDER.value, order_id=inp.order_id, title=remedy.title, status="active",
            plan=plan.model_dump(mode="json"), timezone=zone, start_date=plan.start_date, end_date=plan.end_date,
            workflow_id=step.ref.workflow_id, counted=0, done=0, skipped=0, missed=0, streak=0, best_streak=0)
        session.add(programme)
        await session.flush()
        return programme

    @activity.defn(name=SAVE)
    async def save(self, step: Save) -> bool:
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            programme = await load_programme(session, step.ref.programme_id)
            write_state(programme, step.state)
            if step.missed is not None:   # the occurrence's close and the row in one transaction
                await _insert_missed(session, programme, step.missed)
            if step.action:
                actor = step.actor
                event = await record_audit(
                    session, tenant_id=programme.tenant_id, action=step.action,
                    actor_user_id=actor.actor_user_id if actor else None,
                    actor_role=actor.actor_role if actor else None, target_type="remedy_programme",
                    target_id=programme.id, details=step.details, ip=actor.ip if actor else None)
                event.request_id = actor.request_id if actor else None
        return True

    @activity.defn(name=RECORD_CHECK_IN)
    async def check_in(self, step: RecordCheckIn) -> RecordedCheckIn:
        """The occurrence's first check-in is stored with the programme's new row; a repeat changes nothing."""
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            programme = await load_programme(session, step.ref.programme_id)
            inserted = (await session.execute(insert(RemedyCheckIn).values(
                tenant_id=programme.tenant_id, programme_id=programme.id, occurrence_key=step.occurrence_key,
                occurrence_at=step.occurrence_at, status=step.request.status.value, note=step.request.note,
                checked_at=step.at, by_user_id=step.request.actor_user_id,
            ).on_conflict_do_nothing(index_elements=["programme_id", "occurrence_key"]).returning(
                RemedyCheckIn.id))).scalar_one_or_none()
            if inserted is None:
                existing = (await session.execute(select(RemedyCheckIn.status).where(
                    RemedyCheckIn.programme_id == programme.id,
                    RemedyCheckIn.occurrence_key == step.occurrence_key))).scalar_one()
                if existing not in (CheckInStatus.DONE, CheckInStatus.SKIPPED):
                    raise ApplicationError(f"{step.occurrence_key} was recorded as {existing}",
                                           {"field": "occurrence_key"}, type=CLOSED_ERROR, non_retryable=True)
                return RecordedCheckIn(status=CheckInStatus(existing), created=False)
            write_state(programme, step.state_after)
            return RecordedCheckIn(status=step.request.status, created=True)

    @activity.defn(name=RECORD_MISSED)
    async def missed(self, step: Closed) -> bool:
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            programme = await load_programme(session, step.ref.programme_id, lock=False)
            await _insert_missed(session, programme, step)
        return True


async def _insert_missed(session: AsyncSession, programme: RemedyProgramme, step: Closed) -> None:
    """A missed occurrence's row, unless a check-in (or a retry) recorded that occurrence first."""
    await session.execute(insert(RemedyCheckIn).values(
        tenant_id=programme.tenant_id, programme_id=programme.id, occurrence_key=step.occurrence_key,
        occurrence_at=step.occurrence_at, status="missed", checked_at=step.at or activity_now(step.occurrence_at),
    ).on_conflict_do_nothing(index_elements=["programme_id", "occurrence_key"]))


def activity_now(fallback: datetime) -> datetime:
    """The workflow's clock as the activity saw it scheduled (right on the time-skipping server)."""
    try:
        return activity.info().current_attempt_scheduled_time
    except RuntimeError:
        return fallback
