"""Slot arithmetic: worked DST examples in three zones, then hypothesis properties against a
brute-force oracle that scans the clock minute by minute."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.bookings.slots import (
    Availability,
    Busy,
    Slot,
    SlotRules,
    Window,
    check_windows,
    day_range,
    epoch_us,
    first_instant_at_or_after,
    free_slot_starts,
    free_slot_starts_at_any_time,
    free_slots,
    from_epoch_us,
    in_zone,
    parse_clock,
    slot_is_free,
    starts_as_of,
    wall_clock,
)

ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata"]
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def every_day(*windows: Window) -> dict[int, tuple[Window, ...]]:
    return {d: tuple(windows) for d in range(7)}


def rules(minutes: int = 60, step: int | None = None, **kw) -> SlotRules:
    kw.setdefault("horizon", timedelta(days=20000))
    return SlotRules(duration=timedelta(minutes=minutes), step=timedelta(minutes=step or minutes), **kw)


def slots_on(tz: str, day: date, availability: Availability, slot_rules: SlotRules, busy: Busy | None = None,
             now: datetime = LONG_AGO) -> list[Slot]:
    start, end = day_range(day, 1, tz)
    return free_slots(availability, slot_rules, busy=busy or Busy(), now=now, start=start, end=end)


def local_times(slots: list[Slot], tz: str) -> list[str]:
    return [s.start.astimezone(ZoneInfo(tz)).strftime("%H:%M%z") for s in slots]


# -- worked examples -------------------------------------------------------------------------
def test_london_spring_forward_day_has_one_hour_less():
    # 29 March 2026: at 01:00 GMT the clocks jump to 02:00 BST
    london = Availability("Europe/London", every_day(Window.of("00:00", "04:00")))
    slots = slots_on("Europe/London", date(2026, 3, 29), london, rules(60))
    assert local_times(slots, "Europe/London") == ["00:00+0000", "02:00+0100", "03:00+0100"]
    assert all(s.end - s.start == HOUR for s in slots)


def test_london_fall_back_day_has_one_hour_more():
    # 25 October 2026: at 02:00 BST the clocks go back to 01:00 GMT; 01:xx happens twice
    london = Availability("Europe/London", every_day(Window.of("00:00", "04:00")))
    slots = slots_on("Europe/London", date(2026, 10, 25), london, rules(60))
    assert local_times(slots, "Europe/London") == [
        "00:00+0100", "01:00+0100", "01:00+0000", "02:00+0000", "03:00+0000"]


def test_a_window_starting_inside_the_gap_starts_when_the_clock_jumps():
    london = Availability("Europe/London", every_day(Window.of("01:30", "03:00")))
    slots = slots_on("Europe/London", date(2026, 3, 29), london, rules(30))
    assert local_times(slots, "Europe/London") == ["02:00+0100", "02:30+0100"]


def test_new_york_nine_to_five_keeps_its_wall_clock_across_both_changes():
    ny = Availability("America/New_York", every_day(Window.of("09:00", "17:00")))
    for day, utc_hour in [(date(2026, 3, 7), 14), (date(2026, 3, 8), 13), (date(2026, 10, 31), 13),
                          (date(2026, 11, 1), 14)]:
        slots = slots_on("America/New_York", day, ny, rules(60))
        assert len(slots) == 8, day
        assert slots[0].start.hour == utc_hour, day
        assert local_times(slots, "America/New_York")[0].startswith("09:00")


def test_new_york_night_window_over_the_spring_gap():
    # 8 March 2026: 02:00 EST jumps to 03:00 EDT
    ny = Availability("America/New_York", every_day(Window.of("01:00", "04:00")))
    slots = slots_on("America/New_York", date(2026, 3, 8), ny, rules(60))
    assert local_times(slots, "America/New_York") == ["01:00-0500", "03:00-0400"]


def test_kolkata_has_no_dst_and_an_odd_offset():
    kolkata = Availability("Asia/Kolkata", every_day(Window.of("10:00", "13:00")))
    for day in (date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)):
        slots = slots_on("Asia/Kolkata", day, kolkata, rules(45, step=30))
        assert local_times(slots, "Asia/Kolkata") == [
            "10:00+0530", "10:30+0530", "11:00+0530", "11:30+0530", "12:00+0530"]
        assert slots[0].start == datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=4, minutes=30)


def test_viewer_in_another_zone_sees_the_same_instants_on_their_clock():
    kolkata = Availability("Asia/Kolkata", every_day(Window.of("18:00", "20:00")))
    start, end = day_range(date(2026, 11, 23), 1, "Asia/Kolkata")
    slots = free_slots(kolkata, rules(60), busy=Busy(), now=LONG_AGO, start=start, end=end)
    shown = in_zone(slots, "America/New_York")
    assert [s.local_start.strftime("%Y-%m-%d %H:%M %Z") for s in shown] == [
        "2026-11-23 07:30 EST", "2026-11-23 08:30 EST"]
    assert [s.start for s in shown] == [s.start for s in slots]


def test_bookings_block_with_their_buffers_and_touching_is_allowed():
    tz = "Asia/Kolkata"
    avail = Availability(tz, every_day(Window.of("09:00", "13:00")))
    r = rules(60, step=30, buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=15))
    day = date(2026, 11, 23)
    nine = first_instant_at_or_after(day, 9 * 60, ZoneInfo(tz))
    # an existing 10:00-11:00 booking blocks 09:45-11:15
    busy = Busy([(nine + timedelta(minutes=45), nine + timedelta(hours=2, minutes=15))])
    slots = slots_on(tz, day, avail, r, busy)
    assert local_times(slots, tz) == ["11:30+0530", "12:00+0530"]
    # a 09:00 session would block until 10:15: overlaps. Touching is fine: with no buffers,
    # 09:00-10:00 sits right before a 10:00 booking.
    busy_plain = Busy([(nine + HOUR, nine + 2 * HOUR)])
    assert local_times(slots_on(tz, day, avail, rules(60), busy_plain), tz)[:1] == ["09:00+0530"]


def test_notice_horizon_and_daily_limit():
    tz = "Europe/London"
    avail = Availability(tz, every_day(Window.of("09:00", "12:00")))
    day = date(2026, 6, 10)
    nine = first_instant_at_or_after(day, 9 * 60, ZoneInfo(tz))
    now = nine - timedelta(minutes=30)
    r = rules(60, min_notice=HOUR, horizon=timedelta(hours=3))
    assert local_times(slots_on(tz, day, avail, r, now=now), tz) == ["10:00+0100", "11:00+0100"]
    start, end = day_range(day, 2, tz)
    limited = SlotRules(duration=HOUR, step=HOUR, max_per_day=2, horizon=timedelta(days=30))
    found = free_slots(avail, limited, busy=Busy(), booked_per_day={day: 2}, now=nine - timedelta(days=1),
                       start=start, end=end)
    assert {s.start.date() for s in found} == {day + timedelta(days=1)}


def test_overrides_replace_weekly_hours_and_empty_is_a_day_off():
    tz = "Asia/Kolkata"
    day = date(2026, 11, 23)
    avail = Availability(tz, every_day(Window.of("09:00", "11:00")),
                         overrides={day: (Window.of("15:00", "16:00"),), day + timedelta(days=1): ()})
    assert local_times(slots_on(tz, day, avail, rules(60)), tz) == ["15:00+0530"]
    assert slots_on(tz, day + timedelta(days=1), avail, rules(60)) == []
    assert len(slots_on(tz, day + timedelta(days=2), avail, rules(60))) == 2


def test_window_until_midnight_and_clock_parsing():
    tz = "America/New_York"
    avail = Availability(tz, every_day(Window.of("22:00", "24:00")))
    assert local_times(slots_on(tz, date(2026, 11, 1), avail, rules(60)), tz) == ["22:00-0500", "23:00-0500"]
    assert parse_clock("24:00") == 1440 and parse_clock("7:05") == 425
    for bad in ("24:01", "12:60", "noon", "1230", "12:5"):
        with pytest.raises(ValueError, match="time of day"):
            parse_clock(bad)
    with pytest.raises(ValueError, match="overlap"):
        check_windows([Window.of("09:00", "12:00"), Window.of("11:00", "13:00")])
    with pytest.raises(ValueError, match="end must come after"):
        Window.of("12:00", "09:00")


def test_slot_is_free_matches_the_listing():
    tz = "Europe/London"
    avail = Availability(tz, every_day(Window.of("09:00", "12:00")))
    day = date(2026, 3, 29)
    listed = slots_on(tz, day, avail, rules(60, step=30))
    assert listed
    for s in listed:
        assert slot_is_free(avail, rules(60, step=30), busy=Busy(), now=LONG_AGO, at=s.start)
    assert not slot_is_free(avail, rules(60, step=30), busy=Busy(), now=LONG_AGO,
                            at=listed[0].start + timedelta(minutes=10))


# -- properties ------------------------------------------------------------------------------
@cache
def oracle_first_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """Scan minute by minute from well before: the first instant whose wall clock >= target."""
    target = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
    t = (target - timedelta(hours=15)).replace(tzinfo=UTC)
    while wall_clock(t, tz) < target:
        t += timedelta(minutes=1)
    # transitions in these zones fall on whole minutes, so the minute scan lands on the instant
    return t


# Dates around every DST change of 2024-2030 in London and New York, and ordinary dates.
TRANSITION_DAYS = [date(y, m, d) for y in range(2024, 2031) for (m, d) in [(3, 1), (10, 20)]]
days_near_changes = st.builds(
    lambda base, shift: base + timedelta(days=shift),
    st.sampled_from(TRANSITION_DAYS), st.integers(0, 20),
)
minutes_of_day = st.integers(0, 24 * 60)


@settings(max_examples=300, deadline=None)
@given(zone_name=st.sampled_from(ZONES), day=days_near_changes, minute=minutes_of_day)
def test_first_instant_agrees_with_a_minute_by_minute_scan(zone_name, day, minute):
    tz = ZoneInfo(zone_name)
    assert first_instant_at_or_after(day, minute, tz) == oracle_first_instant(day, minute, tz)


@st.composite
def weekly_hours(draw):
    weekly = {}
    for weekday in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 48).map(lambda h: h * 30), max_size=4)))
        pairs = [Window(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
        weekly[weekday] = tuple(pairs)
    return weekly


@st.composite
def scenarios(draw):
    zone_name = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone_name)
    first_day = draw(days_near_changes)
    weekly = draw(weekly_hours())
    duration = draw(st.sampled_from([15, 30, 45, 60, 90]))
    step = draw(st.sampled_from([15, 30, 60]))
    r = SlotRules(
        duration=timedelta(minutes=duration), step=timedelta(minutes=step),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 60, 240]))),
        horizon=timedelta(days=draw(st.integers(1, 5))),
        max_per_day=draw(st.none() | st.integers(1, 3)),
    )
    start, _ = day_range(first_day, 1, zone_name)
    now = start + timedelta(minutes=draw(st.integers(-600, 600)))
    busy = []
    for _ in range(draw(st.integers(0, 6))):
        at = start + timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 4)))
        busy.append((at, at + timedelta(minutes=draw(st.sampled_from([30, 60, 75, 120])))))
    counts = {first_day + timedelta(days=i): draw(st.integers(0, 3)) for i in range(5)}
    return zone_name, tz, weekly, r, now, busy, counts, first_day


def oracle_slots(tz, weekly, r, now, busy, counts, range_start, range_end):
    """The definition, written the slow way: every window, every step, every rule."""
    out = []
    day = (range_start - timedelta(days=2)).astimezone(tz).date()
    while day <= (range_end + timedelta(days=2)).astimezone(tz).date():
        if r.max_per_day is None or counts.get(day, 0) < r.max_per_day:
            for w in weekly.get(day.weekday(), ()):
                opens = oracle_first_instant(day, w.start, tz)
                closes = oracle_first_instant(day, w.end, tz)
                at = opens
                while at + r.duration <= closes:
                    b0, b1 = at - r.buffer_before, at + r.duration + r.buffer_after
                    if (range_start <= at < range_end and at >= now + r.min_notice and at < now + r.horizon
                            and not any(s < b1 and b0 < e for s, e in busy)):
                        out.append(Slot(at, at + r.duration))
                    at += r.step
        day += timedelta(days=1)
    return sorted(out, key=lambda s: s.start)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_free_slots_equal_the_definition(scenario):
    zone_name, tz, weekly, r, now, busy, counts, first_day = scenario
    range_start, range_end = day_range(first_day, 4, zone_name)
    got = free_slots(Availability(zone_name, weekly), r, busy=Busy(busy), booked_per_day=counts,
                     now=now, start=range_start, end=range_end)
    expected = oracle_slots(tz, weekly, r, now, busy, counts, range_start, range_end)
    assert got == expected
    listed = free_slot_starts(Availability(zone_name, weekly), r, busy=Busy(busy), booked_per_day=counts,
                              now=now, start=range_start, end=range_end)  # what the public listing walks
    assert listed == [epoch_us(slot.start) for slot in expected]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.integers(-3 * 24 * 60, 6 * 24 * 60), min_size=1, max_size=6))
def test_a_listing_computed_once_shows_at_any_moment_what_the_rule_gives_then(scenario, minutes_later):
    """The public listing is kept and shown again later (api/slot_listings.py): notice and
    horizon applied at the moment of showing pick exactly the slots computed at that moment."""
    zone_name, _tz, weekly, r, now, busy, counts, first_day = scenario
    range_start, range_end = day_range(first_day, 4, zone_name)
    availability = Availability(zone_name, weekly)
    kept = free_slot_starts_at_any_time(availability, r, busy=Busy(busy), booked_per_day=counts,
                                        start=range_start, end=range_end)
    for minutes in minutes_later:
        then = now + timedelta(minutes=minutes, seconds=minutes % 7)  # also between two whole minutes
        first, last = starts_as_of(kept, r, then)
        assert kept[first:last] == free_slot_starts(availability, r, busy=Busy(busy), booked_per_day=counts,
                                                    now=then, start=range_start, end=range_end)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from([*ZONES, "Australia/Lord_Howe", "America/Santiago", "UTC"]))
def test_every_slot_keeps_its_invariants_in_any_viewer_zone(scenario, viewer):
    zone_name, tz, weekly, r, now, busy, counts, first_day = scenario
    range_start, range_end = day_range(first_day, 4, zone_name)
    got = free_slots(Availability(zone_name, weekly), r, busy=Busy(busy), booked_per_day=counts,
                     now=now, start=range_start, end=range_end)
    for before, after in itertools.pairwise(got):
        assert before.start < after.start
    busy_index = Busy(busy)
    for slot, shown in zip(got, in_zone(got, viewer), strict=True):
        assert slot.end - slot.start == r.duration                # real time, whatever the clock does
        assert not busy_index.overlaps(*r.blocked(slot.start))
        assert now + r.min_notice <= slot.start < now + r.horizon
        day = slot.start.astimezone(tz).date()
        assert any(oracle_first_instant(day, w.start, tz) <= slot.start
                   and slot.end <= oracle_first_instant(day, w.end, tz) for w in weekly.get(day.weekday(), ()))
        assert shown.local_start.astimezone(UTC) == slot.start     # the viewer sees the same instant
        assert shown.local_start.tzinfo == ZoneInfo(viewer)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.sampled_from([ZoneInfo(z) for z in ZONES]), allow_imaginary=False),
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_the_listing_counts_instants_in_whole_microseconds_without_losing_any(instant, later):
    """free_slot_starts walks instants as integers: exact, and ordered as the instants are."""
    assert from_epoch_us(epoch_us(instant)) == instant.astimezone(UTC)  # the same instant, also in a fold
    assert from_epoch_us(epoch_us(instant)).tzinfo is UTC
    assert epoch_us(instant.astimezone(UTC) + later) - epoch_us(instant) == later // timedelta(microseconds=1)
