"""Quiet hours in the person's local time, across DST changes (hypothesis over real zones)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.notifications import QuietHours, in_quiet_window, quiet_hours_end

ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago",
         "Asia/Kathmandu", "Pacific/Chatham", "UTC"]
LONDON = "Europe/London"

instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))
wall_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def _local_wall(at: datetime, zone: str) -> time:
    return at.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)


@settings(max_examples=800, deadline=None)
@given(at=instants, start=wall_times, end=wall_times, zone=st.sampled_from(ZONES))
@example(at=datetime(2028, 9, 3, 3, 0, tzinfo=UTC), start=time(0, 1), end=time(0, 0), zone="America/Santiago")
def test_a_hold_ends_after_now_outside_the_window_within_a_day(at, start, end, zone):
    quiet = QuietHours(start, end, zone)
    until = quiet_hours_end(at, quiet)
    inside = in_quiet_window(_local_wall(at, zone), start, end)
    assert (until is not None) == inside
    if until is None:
        return
    assert until > at
    assert until - at <= timedelta(hours=26)  # a day's window, plus a DST change
    # when the hold ends, the person is out of quiet hours, or the end time itself was skipped by DST:
    # then the hold ends as the gap does (domain.notifications._utc_candidates), where the local
    # time may already be in the next window (a window ending at 00:00 and starting at 00:01, on
    # the night Santiago's clocks jump from 00:00 to 01:00)
    local_until = until.astimezone(ZoneInfo(zone))
    naive_end = datetime.combine(local_until.date(), end)
    end_skipped = naive_end.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).astimezone(
        ZoneInfo(zone)).replace(tzinfo=None) != naive_end
    if end_skipped:
        assert (until - timedelta(seconds=1)).astimezone(ZoneInfo(zone)).utcoffset() != local_until.utcoffset()
    else:
        assert not in_quiet_window(_local_wall(until, zone), start, end)
    # and it is the first such moment: a minute earlier they were still in quiet hours
    before = until - timedelta(minutes=1)
    if before > at:
        assert in_quiet_window(_local_wall(before, zone), start, end)


@settings(max_examples=300, deadline=None)
@given(at=instants, zone=st.sampled_from(ZONES))
def test_equal_start_and_end_mean_no_quiet_hours(at, zone):
    assert quiet_hours_end(at, QuietHours(time(22), time(22), zone)) is None


def test_a_hold_whose_end_and_next_start_dst_skips_ends_with_the_gap():
    """Santiago, 3 September 2028: clocks jump from 00:00 to 01:00. Quiet from 00:01 to 00:00 leaves
    one free minute a day, which that night does not have; the hold ends when the gap does."""
    quiet = QuietHours(time(0, 1), time(0, 0), "America/Santiago")
    at = datetime(2028, 9, 3, 3, 0, tzinfo=UTC)  # 23:00 on the 2nd, local (UTC-4)
    assert quiet_hours_end(at, quiet) == datetime(2028, 9, 3, 4, 0, tzinfo=UTC)  # 01:00 local (UTC-3)


def test_overnight_window_in_india():
    quiet = QuietHours(time(22), time(7), "Asia/Kolkata")
    # 23:30 IST -> held until 07:00 IST next morning
    assert quiet_hours_end(datetime(2026, 11, 27, 18, 0, tzinfo=UTC), quiet) == datetime(2026, 11, 28, 1, 30,
                                                                                          tzinfo=UTC)
    # 05:00 IST -> held until 07:00 IST the same morning
    assert quiet_hours_end(datetime(2026, 11, 27, 23, 30, tzinfo=UTC), quiet) == datetime(2026, 11, 28, 1, 30,
                                                                                           tzinfo=UTC)
    # 21:59 IST -> not quiet yet
    assert quiet_hours_end(datetime(2026, 11, 27, 16, 29, tzinfo=UTC), quiet) is None


def test_london_spring_forward_night():
    """29 March 2026: clocks jump from 01:00 GMT to 02:00 BST."""
    quiet = QuietHours(time(22), time(7), LONDON)
    # 23:00 GMT on the 28th -> 07:00 BST on the 29th, which is 06:00 UTC (only 7 hours later)
    assert quiet_hours_end(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), quiet) == datetime(2026, 3, 29, 6, 0,
                                                                                         tzinfo=UTC)
    # quiet until 01:30, a time that does not exist that night: it ends when the clocks jump (02:00 BST)
    skipped = QuietHours(time(0), time(1, 30), LONDON)
    assert quiet_hours_end(datetime(2026, 3, 29, 0, 10, tzinfo=UTC), skipped) == datetime(2026, 3, 29, 1, 0,
                                                                                           tzinfo=UTC)


def test_london_fall_back_night():
    """25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:00-02:00 happens twice."""
    quiet = QuietHours(time(22), time(7), LONDON)
    # 22:30 BST on the 24th -> 07:00 GMT on the 25th: 9.5 hours of quiet, not 8.5
    at = datetime(2026, 10, 24, 21, 30, tzinfo=UTC)
    assert quiet_hours_end(at, quiet) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    # quiet until 01:30: during the first 01:10 it ends at the first 01:30 (BST) ...
    short = QuietHours(time(0), time(1, 30), LONDON)
    assert quiet_hours_end(datetime(2026, 10, 25, 0, 10, tzinfo=UTC), short) == datetime(2026, 10, 25, 0, 30,
                                                                                          tzinfo=UTC)
    # ... and during the repeated 01:10 (GMT) at the second 01:30
    assert quiet_hours_end(datetime(2026, 10, 25, 1, 10, tzinfo=UTC), short) == datetime(2026, 10, 25, 1, 30,
                                                                                          tzinfo=UTC)


@pytest.mark.parametrize(("local", "start", "end", "inside"), [
    (time(23), time(22), time(7), True),
    (time(6, 59), time(22), time(7), True),
    (time(7), time(22), time(7), False),
    (time(12), time(13), time(14), False),
    (time(13), time(13), time(14), True),
    (time(14), time(13), time(14), False),
])
def test_window_edges(local, start, end, inside):
    assert in_quiet_window(local, start, end) is inside
