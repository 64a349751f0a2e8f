"""Making a programme's plan: defaults of the catalogue, the client's zone, tithis resolved to dates.

Used by the API when a consultant assigns a remedy and by the Remedy workflow's first activity
when a programme was bought (the order line names only the remedy). Tithi schedules are turned
into dates here, once, at the client's place (their birth profile's coordinates when there is
one, else Ujjain, the traditional meridian of Indian calendars), for the programme's days plus a
year of room for pauses and extensions.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from domain.astrology.tithi import tithi_dates
from domain.remedies.schedule import Plan, Schedule, ScheduleKind, in_window

UJJAIN = (23.1765, 75.7885)
TITHI_HORIZON_DAYS = 366      # resolved past the end, for pauses and extensions
BY_COUNT_TITHI_DAYS = 3 * 366  # a tithi plan counted in occurrences is resolved this far


def make_plan(schedule: Schedule, *, timezone: str, start_date: date, duration_days: int | None,
              occurrences: int | None, place: tuple[float, float] | None = None) -> Plan:
    """A validated plan (raises pydantic's ValidationError, or ValueError naming the field)."""
    plan = Plan(schedule=schedule, timezone=timezone, start_date=start_date, duration_days=duration_days,
                occurrences=occurrences)
    if schedule.kind == ScheduleKind.TITHIS:
        latitude, longitude = place or UJJAIN
        span = BY_COUNT_TITHI_DAYS if plan.end_date is None else (plan.end_date - start_date).days + TITHI_HORIZON_DAYS
        plan.tithi_dates = tithi_dates([t.value for t in schedule.tithis or []], start_date,
                                       start_date + timedelta(days=min(span, BY_COUNT_TITHI_DAYS)),
                                       latitude=latitude, longitude=longitude, timezone=timezone)
    return plan


def quiet_conflicts(times: list[time], quiet_start: time | None, quiet_end: time | None) -> list[time]:
    """The times that fall in the client's quiet hours (a reminder then would wait until they end)."""
    if quiet_start is None or quiet_end is None:
        return []
    return [t for t in times if in_window(t, quiet_start, quiet_end)]
