"""When a remedy's occurrences fall: local wall-clock times on local dates, in the client's IANA zone.

A plan names its days (every day, given weekdays, every N days, given dates, or tithi dates the
astrology engine resolved beforehand), one or more local times on those days, a start date and a
length (days or occurrences). Everything here is pure and deterministic, so the Remedy workflow
calls it directly: the next occurrence after an instant, and whether the plan is over.

DST: a time is a wall-clock time. 07:00 stays 07:00 local across a change (the UTC instant moves
by the change). A time a spring-forward gap skips (02:30 in New York on the second Sunday of
March) falls at the same distance past the gap's start, i.e. 03:30 the new offset; a time a fall
back repeats (01:30) is its first instance.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

MAX_TIMES_PER_DAY = 6
MAX_DAYS = 3660          # ten years
MAX_OCCURRENCES = 5000
MAX_DATES = 400
SEARCH_DAYS = 800        # how far ahead the planner looks for the next matching day


class ScheduleKind(enum.StrEnum):
    DAILY = "daily"                 # every day
    WEEKDAYS = "weekdays"           # on the given weekdays (Saturday for Saturn)
    EVERY_N_DAYS = "every_n_days"   # every N days from the start date
    DATES = "dates"                 # on the given local dates
    TITHIS = "tithis"               # on the given tithis at the client's place (resolved to dates)


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)


class Tithi(enum.StrEnum):
    EKADASHI = "ekadashi"     # the 11th tithi of either fortnight
    PURNIMA = "purnima"       # full moon (15th of the bright fortnight)
    AMAVASYA = "amavasya"     # new moon (15th of the dark fortnight)
    CHATURTHI = "chaturthi"   # the 4th of either fortnight (Ganesha)
    PRADOSH = "pradosh"       # the 13th (trayodashi) of either fortnight (Shiva)


class Schedule(BaseModel):
    """Which days, and at which local times (wall clock in the programme's zone)."""

    kind: ScheduleKind = ScheduleKind.DAILY
    times: list[time] = Field(min_length=1, max_length=MAX_TIMES_PER_DAY,
                              description="local times of day (HH:MM), one occurrence each")
    weekdays: list[Weekday] | None = Field(None, max_length=7, description="for kind=weekdays")
    every_n_days: int | None = Field(None, ge=2, le=365, description="for kind=every_n_days")
    dates: list[date] | None = Field(None, max_length=MAX_DATES, description="for kind=dates")
    tithis: list[Tithi] | None = Field(None, max_length=5, description="for kind=tithis")

    @field_validator("times")
    @classmethod
    def _times(cls, value: list[time]) -> list[time]:
        clean = sorted({t.replace(second=0, microsecond=0, tzinfo=None) for t in value})
        if len(clean) != len(value):
            raise ValueError("name each time once (to the minute)")
        return clean

    @model_validator(mode="after")
    def _kind_fields(self) -> Schedule:
        needs = {ScheduleKind.WEEKDAYS: "weekdays", ScheduleKind.EVERY_N_DAYS: "every_n_days",
                 ScheduleKind.DATES: "dates", ScheduleKind.TITHIS: "tithis"}
        wanted = needs.get(self.kind)
        for name in needs.values():
            given = getattr(self, name)
            if name == wanted and not given:
                raise ValueError(f"{name}: a '{self.kind.value}' schedule names its {name.replace('_', ' ')}")
            if name != wanted and given:
                owner = next(k for k, v in needs.items() if v == name)
                raise ValueError(f"{name}: only a '{owner.value}' schedule takes {name.replace('_', ' ')}")
        if self.weekdays:
            self.weekdays = sorted(set(self.weekdays), key=lambda d: d.number)
        if self.dates:
            self.dates = sorted(set(self.dates))
        return self


class Plan(BaseModel):
    """A schedule placed in time: from `start_date`, for `duration_days` or `occurrences`, in `timezone`."""

    schedule: Schedule
    timezone: str
    start_date: date
    duration_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    occurrences: int | None = Field(None, ge=1, le=MAX_OCCURRENCES)
    tithi_dates: list[date] = Field(default_factory=list, description="the tithi schedule's days, resolved")
    extra_days: int = Field(0, ge=0, description="added by pauses and extensions")
    extra_occurrences: int = Field(0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        check_zone(value)
        return value

    @model_validator(mode="after")
    def _length(self) -> Plan:
        if (self.duration_days is None) == (self.occurrences is None):
            raise ValueError("duration_days: give the length in days or in occurrences (one of the two)")
        return self

    @property
    def end_date(self) -> date | None:
        """The last local date an occurrence may fall on (None: ends by count)."""
        if self.duration_days is None:
            return None
        return self.start_date + timedelta(days=self.duration_days - 1 + self.extra_days)

    @property
    def total_occurrences(self) -> int | None:
        return None if self.occurrences is None else self.occurrences + self.extra_occurrences

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Occurrence(BaseModel):
    """One due moment: its key (local date and time, stable across DST) and its instant (UTC)."""

    key: str
    at: datetime
    local_date: date


def check_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone: '{name}' is not an IANA time zone (e.g. Asia/Kolkata, Europe/London)") from exc


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (see the module docstring for gaps and folds)."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0)
    # A time in a gap does not round-trip; the UTC offset from before the gap places it past the gap.
    return first.astimezone(UTC)


def occurrence_key(day: date, wall: time) -> str:
    return f"{day.isoformat()}T{wall.strftime('%H:%M')}"


def day_matches(plan: Plan, day: date) -> bool:
    if day < plan.start_date:
        return False
    end = plan.end_date
    if end is not None and day > end:
        return False
    schedule = plan.schedule
    if schedule.kind == ScheduleKind.DAILY:
        return True
    if schedule.kind == ScheduleKind.WEEKDAYS:
        return any(day.weekday() == w.number for w in schedule.weekdays or [])
    if schedule.kind == ScheduleKind.EVERY_N_DAYS:
        return (day - plan.start_date).days % (schedule.every_n_days or 1) == 0
    if schedule.kind == ScheduleKind.DATES:
        return day in (schedule.dates or [])
    return day in plan.tithi_dates


def _days_from(plan: Plan, first: date) -> Iterator[date]:
    day = max(first, plan.start_date)
    end = plan.end_date
    explicit = None
    if plan.schedule.kind == ScheduleKind.DATES:
        explicit = plan.schedule.dates or []
    elif plan.schedule.kind == ScheduleKind.TITHIS:
        explicit = plan.tithi_dates
    if explicit is not None:  # jump straight to the listed days
        for listed in sorted(explicit):
            if listed >= day and (end is None or listed <= end):
                yield listed
        return
    for _ in range(SEARCH_DAYS):
        if end is not None and day > end:
            return
        if day_matches(plan, day):
            yield day
        day += timedelta(days=1)


def next_occurrence(plan: Plan, after: datetime, *, not_before_date: date | None = None) -> Occurrence | None:
    """The first occurrence strictly after `after` (on or after `not_before_date`), or None when
    the plan's days are over. Counting (a plan of N occurrences) is the caller's: see `is_over`."""
    zone = plan.zone
    first = after.astimezone(zone).date()
    if not_before_date is not None and not_before_date > first:
        first = not_before_date
    for day in _days_from(plan, first):
        for wall in plan.schedule.times:
            at = local_instant(day, wall, zone)
            if at > after:
                return Occurrence(key=occurrence_key(day, wall), at=at, local_date=day)
    return None


def is_over(plan: Plan, counted: int, upcoming: Occurrence | None) -> bool:
    """No occurrence left: the count is reached or no day remains."""
    total = plan.total_occurrences
    return upcoming is None or (total is not None and counted >= total)


def occurrences_between(plan: Plan, start: datetime, end: datetime, *, limit: int = 1000) -> list[Occurrence]:
    """Every occurrence in (start, end], for views and tests (not counting-limited)."""
    found: list[Occurrence] = []
    cursor = start
    while len(found) < limit:
        nxt = next_occurrence(plan, cursor)
        if nxt is None or nxt.at > end:
            break
        found.append(nxt)
        cursor = nxt.at
    return found


def last_day(plan: Plan) -> date | None:
    """The last day an occurrence can fall on, if the plan says (days, dates or tithis)."""
    if plan.schedule.kind == ScheduleKind.DATES and plan.schedule.dates:
        return min(plan.schedule.dates[-1], plan.end_date or plan.schedule.dates[-1])
    if plan.schedule.kind == ScheduleKind.TITHIS and plan.tithi_dates:
        return min(plan.tithi_dates[-1], plan.end_date or plan.tithi_dates[-1])
    return plan.end_date


def in_window(wall: time, start: time, end: time) -> bool:
    """A local time inside a daily window (start > end wraps midnight; start == end is no window)."""
    if start == end:
        return False
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def describe(plan: Plan) -> str:
    """A short English description of the plan, for messages and lists."""
    times = ", ".join(t.strftime("%H:%M") for t in plan.schedule.times)
    s = plan.schedule
    days = {ScheduleKind.DAILY: "every day",
            ScheduleKind.WEEKDAYS: "on " + ", ".join(w.value.capitalize() for w in s.weekdays or []),
            ScheduleKind.EVERY_N_DAYS: f"every {s.every_n_days} days",
            ScheduleKind.DATES: f"on {len(s.dates or [])} chosen dates",
            ScheduleKind.TITHIS: "on " + ", ".join(t.value.capitalize() for t in s.tithis or [])}[s.kind]
    length = f"{plan.duration_days + plan.extra_days} days" if plan.duration_days is not None \
        else f"{plan.total_occurrences} times"
    return f"{days} at {times} ({plan.timezone}), {length}"
