"""Remedy programmes for the API: who sees which, the plan of an assignment, and steering the workflow.

The programme's row answers reads (the Remedy workflow writes it at every step); changes go to
the workflow as validated Updates, which write the row (and the audit event) before answering.
The request's transaction is closed before an Update is awaited, so no row lock or snapshot is
held while Temporal works.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, desc, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.deps import Principal
from api.permissions import Permission, allowed
from api.problems import NOT_FOUND, VALIDATION, Problem
from api.schemas.remedies import ProgrammeOut, TodayItem, TodayProgramme
from domain.remedies.planning import make_plan, quiet_conflicts
from domain.remedies.programme import LIVE, ProgrammeStatus, RemedyKind
from domain.remedies.schedule import Plan, Schedule, check_zone, occurrences_between
from domain.zones import zone_of
from models.astrology import BirthProfile
from models.identity import Role, User
from models.notifications import NotificationPreference
from models.remedies import Remedy, RemedyCheckIn, RemedyProgramme
from models.tenancy import Tenant

T = TypeVar("T", bound=BaseModel)


def is_staff(principal: Principal) -> bool:
    return allowed(principal.role, Permission.MANAGE_REMEDIES)


def programmes_of(tenant_id: UUID, principal: Principal) -> Select[RemedyProgramme]:
    """The one readable statement for programmes: a client's own, every one of the tenant for staff."""
    stmt = select(RemedyProgramme).where(RemedyProgramme.tenant_id == tenant_id)
    if not is_staff(principal):
        stmt = stmt.where(RemedyProgramme.client_id == principal.user_id)
    return stmt


def remedies_of(tenant_id: UUID, principal: Principal) -> Select[Remedy]:
    """The catalogue: all of it for staff, what is offered (active) for clients."""
    stmt = select(Remedy).where(Remedy.tenant_id == tenant_id)
    if not is_staff(principal):
        stmt = stmt.where(Remedy.active.is_(True))
    return stmt


async def visible_remedy(session: AsyncSession, tenant_id: UUID, principal: Principal, remedy_id: UUID,
                         field: str = "remedy_id") -> Remedy:
    stmt = remedies_of(tenant_id, principal).where(Remedy.id == remedy_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "this consultancy has no remedy with this id", field=field)
    return found


async def visible_programme(session: AsyncSession, tenant_id: UUID, principal: Principal,
                            programme_id: UUID) -> RemedyProgramme:
    stmt = programmes_of(tenant_id, principal).where(RemedyProgramme.id == programme_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "you have no remedy programme with this id", field="programme_id")
    return found


def programme_out(programme: RemedyProgramme) -> ProgrammeOut:
    out = ProgrammeOut.model_validate(programme)
    out.completion_percent = round(100 * programme.done / programme.counted) if programme.counted else 0
    return out


async def person(session: AsyncSession, tenant_id: UUID, user_id: UUID, roles: tuple[Role, ...], field: str,
                 what: str) -> User:
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id or user.role not in roles or not user.is_active:
        raise Problem(NOT_FOUND, f"this consultancy has no {what} with this id", field=field)
    return user


async def quiet_hours(session: AsyncSession, client: User) -> tuple[time | None, time | None]:
    row = (await session.execute(select(NotificationPreference).where(
        NotificationPreference.user_id == client.id))).scalar_one_or_none()
    return (row.quiet_hours_start, row.quiet_hours_end) if row else (None, None)


async def refuse_quiet_times(session: AsyncSession, client: User, times: list[time], field: str) -> None:
    start, end = await quiet_hours(session, client)
    clash = quiet_conflicts(times, start, end)
    if clash and start is not None and end is not None:
        raise Problem(VALIDATION, f"{', '.join(t.strftime('%H:%M') for t in clash)} falls in the client's quiet "
                      f"hours ({start:%H:%M}-{end:%H:%M}), when reminders wait; choose another time", field=field)


async def place_of(session: AsyncSession, client: User, profile_id: UUID | None) -> tuple[BirthProfile | None,
                                                                                            tuple[float, float] | None]:
    """The birth profile named (it must be the client's), else the client's latest; its coordinates."""
    if profile_id is not None:
        profile = await session.get(BirthProfile, profile_id)
        if profile is None or profile.client_id != client.id:
            raise Problem(NOT_FOUND, "this client has no birth profile with this id", field="birth_profile_id")
    else:
        profile = (await session.execute(select(BirthProfile).where(BirthProfile.client_id == client.id).order_by(
            desc(BirthProfile.created_at)).limit(1))).scalar_one_or_none()
    if profile is None:
        return None, None
    return profile, (float(profile.resolved["latitude"]), float(profile.resolved["longitude"]))


def plan_for(remedy: Remedy, *, schedule: Schedule | None, zone: str, start: date, duration_days: int | None,
             occurrences: int | None, place: tuple[float, float] | None) -> Plan:
    if duration_days is None and occurrences is None:
        duration_days, occurrences = remedy.default_duration_days, remedy.default_occurrences
    try:
        return make_plan(schedule or Schedule.model_validate(remedy.default_schedule), timezone=zone,
                         start_date=start, duration_days=duration_days, occurrences=occurrences, place=place)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Problem(VALIDATION, str(first.get("msg", "not a valid plan")).removeprefix("Value error, "),
                      field=".".join(str(p) for p in first.get("loc", ())) or "schedule") from exc


def zone_for(requested: str | None, client: User, tenant: Tenant) -> str:
    zone = requested or zone_of(client, tenant, "Asia/Kolkata")
    try:
        check_zone(zone)
    except ValueError as exc:
        raise Problem(VALIDATION, str(exc).removeprefix("timezone: "), field="timezone") from exc
    return zone


async def run_update(temporal: Client, session: AsyncSession, programme: RemedyProgramme, name: str,
                     argument: Any, result_type: type[T]) -> T:
    """Close the request's transaction, then send the Update (its refusals become 409 problems)."""
    await session.commit()
    handle = temporal.get_workflow_handle(programme.workflow_id)
    result: T = await handle.execute_update(name, argument, result_type=result_type)
    await session.refresh(programme)
    return result


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


async def today_view(session: AsyncSession, tenant_id: UUID, client_id: UUID, zone: str, language: str,
                     now: datetime) -> tuple[date, list[TodayProgramme]]:
    """Each live programme's occurrences on the reader's local today, with what became of each."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(zone)).date()
    rows = (await session.execute(select(RemedyProgramme, Remedy).join(Remedy, Remedy.id == RemedyProgramme.remedy_id)
                                  .where(RemedyProgramme.tenant_id == tenant_id, RemedyProgramme.client_id == client_id,
                                         RemedyProgramme.status.in_([s.value for s in LIVE]))
                                  .order_by(RemedyProgramme.created_at))).all()
    found: list[TodayProgramme] = []
    for programme, remedy in rows:
        plan = Plan.model_validate(programme.plan)
        day_start, day_end = local_day_bounds(today, plan.timezone)
        due = [o for o in occurrences_between(plan, day_start - timedelta(microseconds=1), day_end, limit=50)
               if o.at < day_end]
        if not due:
            continue
        checked: dict[str, str] = {key: status for key, status in (await session.execute(
            select(RemedyCheckIn.occurrence_key, RemedyCheckIn.status).where(
                RemedyCheckIn.programme_id == programme.id,
                RemedyCheckIn.occurrence_key.in_([o.key for o in due])))).all()}
        items = []
        for occurrence in due:
            status = checked.get(occurrence.key)
            if status is None:
                status = "open" if occurrence.key == programme.open_occurrence_key else (
                    "upcoming" if occurrence.at > now else "missed")
            if programme.status == ProgrammeStatus.PAUSED and status == "upcoming":
                status = "paused"
            items.append(TodayItem(occurrence_key=occurrence.key, at=occurrence.at, status=status))
        instructions = remedy.instructions_hi if language == "hi" and remedy.instructions_hi else remedy.instructions_en
        found.append(TodayProgramme(programme_id=programme.id, title=programme.title, kind=RemedyKind(remedy.kind),
                                    instructions=instructions, status=ProgrammeStatus(programme.status),
                                    streak=programme.streak, occurrences=items))
    return today, found
