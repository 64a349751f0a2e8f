"""The remedy planner: local times across DST, each kind of day, lengths, and tithis at sunrise."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from domain.astrology.tithi import tithi_dates
from domain.remedies.schedule import (
    Plan,
    Schedule,
    ScheduleKind,
    is_over,
    next_occurrence,
    occurrences_between,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2027, 1, 1, tzinfo=UTC)


def plan(**kw: object) -> Plan:
    schedule = kw.pop("schedule", Schedule(times=[time(7)]))
    return Plan.model_validate({"schedule": schedule, "timezone": "Europe/London", "start_date": date(2026, 3, 27),
                                "duration_days": 5, **kw})


def test_a_daily_time_stays_on_the_wall_clock_across_the_spring_change() -> None:
    found = occurrences_between(plan(), T0, T1)
    assert [o.key for o in found] == [f"2026-03-{d}T07:00" for d in (27, 28, 29, 30, 31)]
    # 07:00 GMT before the change (29 March 2026), 07:00 BST = 06:00 UTC after it
    assert [o.at.hour for o in found] == [7, 7, 6, 6, 6]


def test_a_time_the_gap_skips_falls_just_past_it_and_a_repeated_one_is_its_first() -> None:
    gap = occurrences_between(plan(schedule=Schedule(times=[time(1, 30)]), start_date=date(2026, 3, 29),
                                   duration_days=1), T0, T1)
    assert [o.at for o in gap] == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]  # 02:30 BST, the gap's far side
    fold = occurrences_between(plan(schedule=Schedule(times=[time(1, 30)]), start_date=date(2026, 10, 25),
                                    duration_days=1), T0, T1)
    assert [o.at for o in fold] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]  # 01:30 BST, the first one


def test_weekdays_every_n_days_and_dates() -> None:
    saturdays = occurrences_between(plan(schedule=Schedule(kind=ScheduleKind.WEEKDAYS, times=[time(6)],
                                                           weekdays=["sat"]), duration_days=21), T0, T1)
    assert [o.local_date.weekday() for o in saturdays] == [5, 5, 5]
    every_third = occurrences_between(plan(schedule=Schedule(kind=ScheduleKind.EVERY_N_DAYS, times=[time(6)],
                                                             every_n_days=3), duration_days=9), T0, T1)
    assert [o.local_date.day for o in every_third] == [27, 30, 2]
    dates = occurrences_between(plan(schedule=Schedule(kind=ScheduleKind.DATES, times=[time(6), time(18)],
                                                       dates=[date(2026, 4, 2), date(2026, 3, 28)]),
                                     duration_days=30), T0, T1)
    assert [o.key for o in dates] == ["2026-03-28T06:00", "2026-03-28T18:00", "2026-04-02T06:00",
                                      "2026-04-02T18:00"]


def test_a_plan_by_count_ends_when_the_count_is_reached() -> None:
    by_count = plan(duration_days=None, occurrences=3)
    first = next_occurrence(by_count, T0)
    assert first is not None and first.key == "2026-03-27T07:00"
    assert not is_over(by_count, 2, first)
    assert is_over(by_count, 3, first)
    assert by_count.end_date is None


def test_bad_plans_are_refused() -> None:
    with pytest.raises(ValidationError, match="IANA"):
        plan(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        plan(duration_days=0)
    with pytest.raises(ValidationError, match="one of the two"):
        plan(occurrences=3)
    with pytest.raises(ValidationError, match="weekdays"):
        Schedule(kind=ScheduleKind.WEEKDAYS, times=[time(6)])
    with pytest.raises(ValidationError, match="once"):
        Schedule(times=[time(6), time(6)])


def test_tithis_at_sunrise_in_new_delhi_match_the_published_panchang() -> None:
    """Drik Panchang, New Delhi, January to March 2026."""
    found = tithi_dates(["ekadashi", "purnima", "amavasya"], date(2026, 1, 1), date(2026, 3, 31),
                        latitude=28.6139, longitude=77.209, timezone="Asia/Kolkata")
    ekadashi = [date(2026, 1, 14), date(2026, 1, 29), date(2026, 2, 13), date(2026, 2, 27), date(2026, 3, 15),
                date(2026, 3, 29)]
    purnima = [date(2026, 1, 3), date(2026, 2, 1), date(2026, 3, 3)]
    amavasya = [date(2026, 1, 18), date(2026, 2, 17), date(2026, 3, 19)]
    assert found == sorted(ekadashi + purnima + amavasya)
    tithi_plan = plan(schedule=Schedule(kind=ScheduleKind.TITHIS, times=[time(6)], tithis=["ekadashi"]),
                      timezone="Asia/Kolkata", start_date=date(2026, 1, 1), duration_days=90, tithi_dates=ekadashi)
    assert [o.local_date for o in occurrences_between(tithi_plan, T0, T0 + timedelta(days=365))] == ekadashi
