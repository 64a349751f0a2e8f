"""Reporting periods on a viewer's calendar, and the previous period beside each."""

from __future__ import annotations

from datetime import date

import pytest

from domain.analytics import DayRange, Period, RangeError, average, rate, resolve, view_bucket

TODAY = date(2026, 12, 5)  # a Saturday


@pytest.mark.parametrize(("period", "on", "current", "previous"), [
    (Period.TODAY, None, (date(2026, 12, 5), date(2026, 12, 5)), (date(2026, 12, 4), date(2026, 12, 4))),
    (Period.WEEK, None, (date(2026, 11, 30), date(2026, 12, 6)), (date(2026, 11, 23), date(2026, 11, 29))),
    (Period.MONTH, None, (date(2026, 12, 1), date(2026, 12, 31)), (date(2026, 11, 1), date(2026, 11, 30))),
    (Period.MONTH, date(2024, 3, 10), (date(2024, 3, 1), date(2024, 3, 31)), (date(2024, 2, 1), date(2024, 2, 29))),
    (Period.QUARTER, None, (date(2026, 10, 1), date(2026, 12, 31)), (date(2026, 7, 1), date(2026, 9, 30))),
    (Period.QUARTER, date(2026, 2, 1), (date(2026, 1, 1), date(2026, 3, 31)), (date(2025, 10, 1), date(2025, 12, 31))),
    (Period.YEAR, None, (date(2026, 1, 1), date(2026, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31))),
])
def test_periods_and_the_one_before(period, on, current, previous):
    assert resolve(period, TODAY, on=on) == (DayRange(*current), DayRange(*previous))


def test_a_custom_range_is_compared_with_as_many_days_before_it():
    current, previous = resolve(Period.CUSTOM, TODAY, first=date(2026, 3, 1), last=date(2026, 3, 31))
    assert (current.days, previous) == (31, DayRange(date(2026, 1, 29), date(2026, 2, 28)))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"period": Period.CUSTOM, "last": date(2026, 1, 1)}, "from"),
    ({"period": Period.CUSTOM, "first": date(2026, 1, 1)}, "to"),
    ({"period": Period.CUSTOM, "first": date(2026, 2, 1), "last": date(2026, 1, 1)}, "to"),
    ({"period": Period.CUSTOM, "first": date(2020, 1, 1), "last": date(2026, 1, 1)}, "to"),
    ({"period": Period.MONTH, "first": date(2026, 1, 1)}, "from"),
    ({"period": Period.YEAR, "on": date(1, 1, 1)}, "on"),
    ({"period": Period.CUSTOM, "first": date(2026, 1, 1), "last": date(9999, 12, 31)}, "to"),
])
def test_bad_ranges_name_the_parameter(kwargs, field):
    period = kwargs.pop("period")
    with pytest.raises(RangeError) as caught:
        resolve(period, TODAY, **kwargs)
    assert caught.value.field == field


def test_rates_averages_and_view_buckets():
    assert (rate(1, 3), rate(0, 0), average(5, 2), average(4, 3), average(0, 0)) == (0.3333, None, 3, 1, None)
    assert view_bucket(1_000_000_000.5) == 999_999_900 and view_bucket(999_999_900) == 999_999_900
