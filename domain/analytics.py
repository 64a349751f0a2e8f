"""Analytics: reporting periods on a viewer's calendar, and the names the roll-up shares.

Figures are kept per *local day* of a reporting zone (docs/analytics.md): a period is a range
of local dates in the viewer's IANA zone, so a day is 23, 24 or 25 hours as the zone's clocks
say, and the previous period is the one of the same kind just before it.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

ANALYTICS_SCHEDULE_ID: Final = "analytics-rollup"
ANALYTICS_EVERY: Final = timedelta(hours=1)
# Each scheduled run recomputes this many local days back (and a day ahead): a refund, a late
# webhook or an outcome recorded later lands on the day it happened, which is a recent one.
RECOMPUTE_DAYS: Final = 7
MAX_RANGE_DAYS: Final = 731
EARLIEST_DAY: Final = date(1970, 1, 1)
LATEST_DAY: Final = date(2999, 12, 31)
NO_CONSULTANT: Final = uuid.UUID(int=0)  # figures of the consultancy that no consultant owns
EVERY_CONSULTANT: Final = uuid.UUID(int=2**128 - 1)  # client figures of the consultancy as a whole

# activity names
REGISTER_ZONES: Final = "analytics.register_zones"
FLUSH_VIEWS: Final = "analytics.flush_views"
ROLL_UP: Final = "analytics.roll_up"
MARK_COMPLETE: Final = "analytics.mark_zone_complete"


class PageKind(enum.StrEnum):
    PAGE = "page"      # a consultancy's or a consultant's public page
    SLOTS = "slots"    # free slots of an offering


class Period(enum.StrEnum):
    TODAY = "today"
    WEEK = "week"        # ISO week, Monday to Sunday
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"    # from .. to, both included


class RangeError(ValueError):
    """A period that cannot be reported: says which parameter is at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


def _month_start(d: date, back: int = 0) -> date:
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _months(first: date, count: int) -> DayRange:
    after = _month_start(first, -count)
    return DayRange(first, after - timedelta(days=1))


def resolve(period: Period, today: date, *, on: date | None = None, first: date | None = None,
            last: date | None = None) -> tuple[DayRange, DayRange]:
    """The period containing `on` (default today) and the one before it, as local dates."""
    for name, value in (("on", on), ("from", first), ("to", last)):
        if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise RangeError(f"'{name}' must be a day between {EARLIEST_DAY} and {LATEST_DAY}", name)
    if period == Period.CUSTOM:
        if first is None or last is None:
            raise RangeError("a custom period needs both 'from' and 'to' (local dates, both included)",
                             "from" if first is None else "to")
        if last < first:
            raise RangeError(f"'to' ({last}) is before 'from' ({first})", "to")
        current = DayRange(first, last)
        if current.days > MAX_RANGE_DAYS:
            raise RangeError(f"a period is at most {MAX_RANGE_DAYS} days; this one has {current.days}", "to")
        return current, DayRange(first - timedelta(days=current.days), first - timedelta(days=1))
    if first is not None or last is not None:
        raise RangeError(f"'from' and 'to' go with period=custom, not period={period.value}",
                         "from" if first is not None else "to")
    anchor = on or today
    if period == Period.TODAY:
        return DayRange(anchor, anchor), DayRange(anchor - timedelta(days=1), anchor - timedelta(days=1))
    if period == Period.WEEK:
        monday = anchor - timedelta(days=anchor.weekday())
        return (DayRange(monday, monday + timedelta(days=6)),
                DayRange(monday - timedelta(days=7), monday - timedelta(days=1)))
    size = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
    start = _month_start(anchor)
    start = _month_start(start, (start.month - 1) % size)
    return _months(start, size), _months(_month_start(start, size), size)


def rate(part: int, whole: int) -> float | None:
    """part / whole to four places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def average(total: int, count: int) -> int | None:
    """An average amount in minor units, rounded half up; None for no items."""
    return (2 * total + count) // (2 * count) if count else None


@dataclass
class RollupInput:
    """What a run of AnalyticsRollup recomputes: the last `days` local days in every zone, and
    the whole history of zones not yet filled (`backfill`), else only of `zones` if given."""

    days: int = RECOMPUTE_DAYS
    backfill: bool = True
    zones: list[str] = field(default_factory=list)


@dataclass
class ZoneRollup:
    """One activity's work: one zone, its last `days` local days (and tenants new to it, whole)."""

    zone: str
    days: int = RECOMPUTE_DAYS
    backfill: bool = True


@dataclass
class RollupResult:
    zones: list[str] = field(default_factory=list)
    views_flushed: int = 0
    rows: int = 0


# -- public page views: Redis counters per quarter hour, flushed into analytics_view_buckets -----
VIEW_BUCKET_SECONDS: Final = 15 * 60
VIEW_KEY_PREFIX: Final = "analytics:views:"
VIEW_KEY_TTL_SECONDS: Final = 3 * 24 * 3600   # flushed every hour; kept a while in case a run fails
FLUSH_LOOKBACK_SECONDS: Final = 2 * 24 * 3600


def view_bucket(epoch_seconds: float) -> int:
    """The start of the quarter hour (UTC epoch seconds) an instant falls in."""
    return int(epoch_seconds) // VIEW_BUCKET_SECONDS * VIEW_BUCKET_SECONDS


def view_key(bucket: int) -> str:
    return f"{VIEW_KEY_PREFIX}{bucket}"


def view_field(tenant_id: uuid.UUID, consultant_id: uuid.UUID | None, kind: PageKind) -> str:
    return f"{tenant_id}|{consultant_id or NO_CONSULTANT}|{kind.value}"


def parse_view_field(name: str) -> tuple[uuid.UUID, uuid.UUID, str] | None:
    try:
        tenant, consultant, kind = name.split("|")
        return uuid.UUID(tenant), uuid.UUID(consultant), PageKind(kind).value
    except ValueError:
        return None
