"""Free slots of a consultant: pure arithmetic, right across daylight-saving changes.

Inputs are the consultant's weekly working hours as wall-clock windows in their IANA zone, date
overrides (other hours, or a day off), what already blocks their time (live bookings with their
buffers, webinar sessions), and the offering's rules: duration, buffers, start-time step,
minimum notice, booking horizon and a daily limit. Output is a sorted list of UTC instants;
`in_zone` shows them on the viewer's clock.

How wall-clock hours become instants (the only subtle part): a window "09:00-17:00" on a local
date starts at the **first instant at which the consultant's clock shows 09:00 or later** that
day, and ends at the first instant at which it shows 17:00 or later. So:

* on a spring-forward day a window over the gap is shorter in real time (London 00:00-04:00 on
  the last Sunday of March lasts three hours); a boundary inside the gap is the moment the
  clock jumps (01:30 -> 02:00 BST);
* on a fall-back day it is longer (00:00-04:00 lasts five hours); a boundary on a repeated time
  is its first occurrence;
* a session always lasts its duration in real time, whatever the clock does meanwhile.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_clock(text: str) -> int:
    """'09:30' -> 570 minutes after midnight; '24:00' is the next midnight (1440)."""
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and 1 <= len(hours) <= 2):
        raise ValueError(f"'{text}' is not a time of day; use HH:MM, e.g. 09:30")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise ValueError(f"'{text}' is not a time of day between 00:00 and 24:00")
    return value


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Working hours on one local date: [start, end) in minutes after local midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end <= MINUTES_PER_DAY):
            raise ValueError(
                f"{format_clock(self.start)}-{format_clock(self.end)} is not a window: "
                "the end must come after the start, both within 00:00-24:00")

    @classmethod
    def of(cls, start: str, end: str) -> Window:
        return cls(parse_clock(start), parse_clock(end))

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"


def check_windows(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted windows of one day; overlapping ones are an error (say what overlaps)."""
    ordered = tuple(sorted(windows))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"{before} and {after} overlap; merge them into one window")
    return ordered


@dataclass(frozen=True)
class Availability:
    """When a consultant works: weekly hours (0 = Monday) and per-date overrides, in `timezone`.

    An override replaces that date's weekly hours entirely; an empty override is a day off.
    """

    timezone: str
    weekly: Mapping[int, Sequence[Window]]
    overrides: Mapping[date, Sequence[Window]] = field(default_factory=dict)

    def windows_on(self, day: date) -> Sequence[Window]:
        found = self.overrides.get(day)
        return found if found is not None else self.weekly.get(day.weekday(), ())


@dataclass(frozen=True)
class SlotRules:
    duration: timedelta
    step: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    max_per_day: int | None = None

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("duration and step must be positive")

    def blocked(self, start: datetime) -> tuple[datetime, datetime]:
        """The time a session starting at `start` takes from the consultant, buffers included."""
        return start - self.buffer_before, start + self.duration + self.buffer_after


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime


class Busy:
    """Intervals [start, end) that block the consultant, merged for O(log n) overlap tests; held as
    microseconds since the epoch (`epoch_us`), the unit the slot walk uses."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]] = ()) -> None:
        merged: list[list[datetime]] = []
        for start, end in sorted(i for i in intervals if i[0] < i[1]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [epoch_us(m[0]) for m in merged]
        self._ends = [epoch_us(m[1]) for m in merged]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Does [start, end) share an instant with a busy interval? Touching ends do not."""
        return self.overlaps_us(epoch_us(start), epoch_us(end))

    def overlaps_us(self, start: int, end: int) -> bool:
        """`overlaps` for instants given as microseconds since the epoch."""
        i = bisect_right(self._ends, start)  # the first interval ending after `start`
        return i < len(self._starts) and self._starts[i] < end

    def __len__(self) -> int:
        return len(self._starts)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_us(instant: datetime) -> int:
    """An aware instant as whole microseconds since 1970-01-01 UTC: exact (datetimes have no finer
    resolution), so arithmetic on it gives the same answers as on the datetimes."""
    return (instant - _EPOCH) // _MICROSECOND


def from_epoch_us(value: int) -> datetime:
    """The UTC instant `value` microseconds after the epoch (the inverse of `epoch_us`)."""
    return _EPOCH + _MICROSECOND * value


def wall_clock(instant: datetime, tz: ZoneInfo) -> datetime:
    """What the clock in `tz` shows at `instant` (naive)."""
    return instant.astimezone(tz).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def first_instant_at_or_after(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in `tz` shows `day` at `minute`, or later.

    A time shown twice (fall back) gives its first occurrence; a time never shown (spring
    forward) gives the instant of the jump.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    early = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    late = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = (early, late) if early <= late else (late, early)
    if wall_clock(lo, tz) >= wall:
        return lo
    # `wall` lies in a gap: the clock jumps over it between lo (before) and hi (after).
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if wall_clock(datetime.fromtimestamp(mid, UTC), tz) >= wall:
            hi_s = mid
        else:
            lo_s = mid
    return datetime.fromtimestamp(hi_s, UTC)


def window_instants(day: date, window: Window, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return first_instant_at_or_after(day, window.start, tz), first_instant_at_or_after(day, window.end, tz)


@lru_cache(maxsize=65536)
def window_instants_us(day: date, window: Window, tz: ZoneInfo) -> tuple[int, int]:
    """`window_instants` as microseconds since the epoch."""
    opens, closes = window_instants(day, window, tz)
    return epoch_us(opens), epoch_us(closes)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def free_slots(
    availability: Availability,
    rules: SlotRules,
    *,
    busy: Busy,
    booked_per_day: Mapping[date, int] | None = None,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """Every bookable session starting in [start, end), in time order.

    A slot's session lies inside one working window of its local date; its start is the
    window's start plus a whole number of steps; its blocked range (buffers included) touches
    nothing busy; it starts at least `min_notice` after `now` and before `now + horizon`; and its
    local date has fewer than `max_per_day` bookings of the offering (`booked_per_day`, keyed
    by the consultant's local date).
    """
    duration = rules.duration
    slots = []
    for at in free_slot_starts(availability, rules, busy=busy, booked_per_day=booked_per_day, now=now,
                               start=start, end=end):
        instant = from_epoch_us(at)
        slots.append(Slot(instant, instant + duration))
    return slots


def free_slot_starts(
    availability: Availability,
    rules: SlotRules,
    *,
    busy: Busy,
    booked_per_day: Mapping[date, int] | None = None,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[int]:
    """The starts of `free_slots`, as microseconds since the epoch (`epoch_us`).

    The one implementation of the rule: the candidate starts are walked as integers, which are
    exact, because a 60-day listing walks about a thousand of them and datetime arithmetic,
    overlap tests on datetimes and a `Slot` per start cost three times as much
    (docs/performance.md). Windows become instants as before (`window_instants`, DST-correct).
    """
    tz = zone(availability.timezone)
    first = max(start, now + rules.min_notice)
    last = min(end, now + rules.horizon)
    if first >= last:
        return []
    counts = booked_per_day or {}
    first_us, last_us = epoch_us(first), epoch_us(last)
    duration, step = epoch_us(_EPOCH + rules.duration), epoch_us(_EPOCH + rules.step)
    before, after = epoch_us(_EPOCH + rules.buffer_before), epoch_us(_EPOCH + rules.buffer_after)
    overlaps = busy.overlaps_us if len(busy) else None
    starts: list[int] = []
    day = local_date(first, tz) - timedelta(days=1)
    last_day = local_date(last, tz)
    one_day = timedelta(days=1)
    while day <= last_day:
        windows = availability.windows_on(day)
        if windows and (rules.max_per_day is None or counts.get(day, 0) < rules.max_per_day):
            for window in windows:
                opens, closes = window_instants_us(day, window, tz)
                at = opens
                if at < first_us:
                    at += step * -((opens - first_us) // step)  # the first step on or after `first`
                stop = min(closes - duration + 1, last_us)  # at <= closes - duration and at < last
                if overlaps is None:
                    starts.extend(range(at, stop, step))
                    continue
                while at < stop:
                    if not overlaps(at - before, at + duration + after):
                        starts.append(at)
                    at += step
        day += one_day
    return starts


def free_slot_starts_at_any_time(
    availability: Availability,
    rules: SlotRules,
    *,
    busy: Busy,
    booked_per_day: Mapping[date, int] | None = None,
    start: datetime,
    end: datetime,
) -> list[int]:
    """`free_slot_starts` over [start, end) with neither notice nor horizon applied: the only two
    parts of the rule that depend on the moment of asking. Both cut the range at an instant, and
    every candidate start lies on its window's steps wherever the range begins, so
    `starts_as_of(listed, rules, now)` picks exactly the starts `free_slot_starts` gives at `now`.
    A listing computed once can then be shown at any later moment (api/slot_listings.py)."""
    whenever = replace(rules, min_notice=timedelta(0), horizon=end - start)
    return free_slot_starts(availability, whenever, busy=busy, booked_per_day=booked_per_day, now=start,
                            start=start, end=end)


def starts_as_of(starts: Sequence[int], rules: SlotRules, now: datetime) -> tuple[int, int]:
    """The indices [first, last) of the `free_slot_starts_at_any_time` starts that are free at
    `now`: at least `min_notice` after it and before `now + horizon`."""
    now_us = epoch_us(now)
    first = bisect_left(starts, now_us + rules.min_notice // _MICROSECOND)
    return first, max(first, bisect_left(starts, now_us + rules.horizon // _MICROSECOND))


def slot_is_free(
    availability: Availability,
    rules: SlotRules,
    *,
    busy: Busy,
    booked_per_day: Mapping[date, int] | None = None,
    now: datetime,
    at: datetime,
) -> bool:
    """Is a session starting exactly at `at` one of the free slots?"""
    found = free_slots(availability, rules, busy=busy, booked_per_day=booked_per_day, now=now,
                       start=at, end=at + timedelta(microseconds=1))
    return bool(found) and found[0].start == at


@dataclass(frozen=True, slots=True)
class LocalSlot:
    start: datetime      # UTC
    end: datetime        # UTC
    local_start: datetime  # aware, on the viewer's clock
    local_end: datetime


def in_zone(slots: Iterable[Slot], viewer_zone: str) -> list[LocalSlot]:
    tz = zone(viewer_zone)
    return [LocalSlot(s.start, s.end, s.start.astimezone(tz), s.end.astimezone(tz)) for s in slots]


def day_range(first_day: date, days: int, viewer_zone: str) -> tuple[datetime, datetime]:
    """The instants of `days` whole local days from `first_day` on the viewer's clock."""
    tz = zone(viewer_zone)
    return (first_instant_at_or_after(first_day, 0, tz),
            first_instant_at_or_after(first_day + timedelta(days=days), 0, tz))
