"""Vimshottari dasha: 120 years shared among the nine nakshatra lords.

The cycle starts with the lord of the Moon's birth nakshatra, at the instant when the Moon
would have entered that nakshatra had the whole dasha been running: ``cycle_start = birth -
elapsed``, where ``elapsed`` is the traversed fraction of the nakshatra times the lord's years.
The *balance* at birth is what remains of that first mahadasha. Antardashas divide each
mahadasha in the same proportions (years/120), starting with the mahadasha's own lord, and
pratyantardashas divide each antardasha the same way.

Exact arithmetic: every boundary is an integer number of *ticks* of 1/14400 year from
``cycle_start``, and each supported year length is a whole number of microseconds per tick, so
periods are exactly contiguous and the cycle lasts exactly 120 years — no float drift.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Final

from pydantic import BaseModel, ConfigDict

from domain.astrology._fast import construct, field_names
from domain.astrology.errors import DashaOutOfRangeError, InvalidSettingError, coerce_enum
from domain.astrology.zodiac import (
    DASHA_LORDS,
    NAKSHATRA_SPAN,
    Body,
    NakshatraRef,
    nakshatra_of,
    normalize,
)

DASHA_YEARS: Final[dict[Body, int]] = {
    Body.KETU: 7,
    Body.VENUS: 20,
    Body.SUN: 6,
    Body.MOON: 10,
    Body.MARS: 7,
    Body.RAHU: 18,
    Body.JUPITER: 16,
    Body.SATURN: 19,
    Body.MERCURY: 17,
}
TOTAL_YEARS: Final = 120
TICKS_PER_YEAR: Final = 14400  # 120 * 120: antardasha lengths are whole ticks, pratyantars too
MAX_DEPTH: Final = 3


class YearLength(StrEnum):
    """Length of a dasha year. ``julian`` (365.25 days) is the default."""

    JULIAN = "julian"
    TROPICAL = "tropical"
    SAVANA = "savana"

    @property
    def days(self) -> Decimal:
        return _YEAR_DAYS[self]

    @property
    def microseconds(self) -> int:
        return int(_YEAR_DAYS[self] * 86_400_000_000)


_YEAR_DAYS: Final[dict[YearLength, Decimal]] = {
    YearLength.JULIAN: Decimal("365.25"),
    YearLength.TROPICAL: Decimal("365.2422"),
    YearLength.SAVANA: Decimal("360"),
}

_LEVEL_NAMES: Final = {1: "mahadasha", 2: "antardasha", 3: "pratyantardasha"}


class DashaPeriod(BaseModel):
    """One period; ``start`` inclusive, ``end`` exclusive, both UTC."""

    model_config = ConfigDict(frozen=True)

    lord: Body
    level: int
    start: dt.datetime
    end: dt.datetime
    years: float
    sub_periods: tuple[DashaPeriod, ...] = ()


_PERIOD_FIELDS: Final = field_names(DashaPeriod)


class RunningDasha(BaseModel):
    """The periods in force at ``at``: mahadasha first, down to the requested depth."""

    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    periods: tuple[DashaPeriod, ...]

    @property
    def mahadasha(self) -> DashaPeriod:
        return self.periods[0]

    @property
    def antardasha(self) -> DashaPeriod | None:
        return self.periods[1] if len(self.periods) > 1 else None

    @property
    def pratyantardasha(self) -> DashaPeriod | None:
        return self.periods[2] if len(self.periods) > 2 else None

    @property
    def key(self) -> str:
        """E.g. ``"jupiter/saturn/mercury"`` — a content key for interpretive texts."""
        return "/".join(p.lord.value for p in self.periods)


class VimshottariDasha(BaseModel):
    model_config = ConfigDict(frozen=True)

    year_length: YearLength
    year_days: float
    moon_longitude: float
    nakshatra: NakshatraRef
    starting_lord: Body
    elapsed_fraction: float
    balance_years: float
    birth: dt.datetime
    cycle_start: dt.datetime
    cycle_end: dt.datetime
    depth: int
    approximate: bool
    periods: tuple[DashaPeriod, ...]

    def running(self, at: dt.datetime, *, depth: int = MAX_DEPTH) -> RunningDasha:
        """The maha/antar/pratyantar periods in force at ``at`` (an aware datetime)."""
        return _running(self.cycle_start, self.starting_lord, self.year_length, at, depth)


# --- structure (independent of the birth): lords and tick offsets -----------------------


_Node = tuple[Body, int, int, tuple["_Node", ...]]  # lord, start tick, end tick, children
# lord, level, years, index of start and end in the plan's ticks, children
_PlanNode = tuple[Body, int, float, int, int, tuple["_PlanNode", ...]]


def _sequence(first: Body) -> tuple[Body, ...]:
    i = DASHA_LORDS.index(first)
    return tuple(DASHA_LORDS[(i + k) % 9] for k in range(9))


@lru_cache(maxsize=64)
def _template(first: Body, depth: int) -> tuple[_Node, ...]:
    """Periods of a cycle starting with ``first``, as ticks from the cycle start."""

    def divide(lord: Body, start: int, length: int, level: int) -> tuple[_Node, ...]:
        nodes: list[_Node] = []
        t = start
        for sub in _sequence(lord):
            span = length * DASHA_YEARS[sub] // TOTAL_YEARS  # exact: see TICKS_PER_YEAR
            children = divide(sub, t, span, level + 1) if level < depth else ()
            nodes.append((sub, t, t + span, children))
            t += span
        return tuple(nodes)

    out: list[_Node] = []
    t = 0
    for lord in _sequence(first):
        span = DASHA_YEARS[lord] * TICKS_PER_YEAR
        children = divide(lord, t, span, 2) if depth >= 2 else ()
        out.append((lord, t, t + span, children))
        t += span
    return tuple(out)


@lru_cache(maxsize=64)
def _plan(first: Body, depth: int) -> tuple[tuple[int, ...], tuple[_PlanNode, ...]]:
    """The template with every distinct boundary listed once, so that a timeline needs one
    datetime per boundary (82 for depth 2) rather than two per period."""
    ticks: set[int] = set()

    def collect(nodes: tuple[_Node, ...]) -> None:
        for _lord, a, b, kids in nodes:
            ticks.update((a, b))
            collect(kids)

    template = _template(first, depth)
    collect(template)
    ordered = tuple(sorted(ticks))
    index = {t: i for i, t in enumerate(ordered)}

    def convert(nodes: tuple[_Node, ...], level: int) -> tuple[_PlanNode, ...]:
        return tuple(
            (lord, level, (b - a) / TICKS_PER_YEAR, index[a], index[b], convert(kids, level + 1))
            for lord, a, b, kids in nodes
        )

    return ordered, convert(template, 1)


def _check_depth(depth: int) -> None:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidSettingError(
            f"Dasha depth must be 1 (maha) to {MAX_DEPTH} (pratyantar), not {depth}.",
            field="dasha_depth",
        )


def _build(nodes: tuple[_PlanNode, ...], instants: list[dt.datetime]) -> tuple[DashaPeriod, ...]:
    # the hottest loop of a chart (90 periods at depth 2): ``construct`` inlined
    out = []
    new, setattr_, fields = object.__new__, object.__setattr__, _PERIOD_FIELDS
    for lord, level, years, ia, ib, kids in nodes:
        period = new(DashaPeriod)
        setattr_(
            period,
            "__dict__",
            {
                "lord": lord,
                "level": level,
                "start": instants[ia],
                "end": instants[ib],
                "years": years,
                "sub_periods": _build(kids, instants) if kids else (),
            },
        )
        setattr_(period, "__pydantic_fields_set__", fields)
        setattr_(period, "__pydantic_extra__", None)
        setattr_(period, "__pydantic_private__", None)
        out.append(period)
    return tuple(out)


# --- public functions ---------------------------------------------------------------------


def dasha_balance(moon_longitude: float) -> tuple[NakshatraRef, float]:
    """Birth nakshatra and the fraction of it the Moon has already traversed, in [0, 1)."""
    lon = normalize(moon_longitude)
    nak, _pada = nakshatra_of(lon)
    frac = (lon - nak.index * NAKSHATRA_SPAN) / NAKSHATRA_SPAN
    return nak, min(max(frac, 0.0), 1.0 - 1e-15)


def _require_aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidSettingError(f"{field} must be timezone-aware.", field=field)
    return value.astimezone(dt.UTC)


def vimshottari_dasha(
    moon_longitude: float,
    birth_utc: dt.datetime,
    *,
    year_length: YearLength = YearLength.JULIAN,
    depth: int = 2,
    approximate: bool = False,
) -> VimshottariDasha:
    """The Vimshottari periods from the sidereal Moon at birth, to ``depth`` levels."""
    _check_depth(depth)
    year_length = coerce_enum(YearLength, year_length, "year_length")
    birth = _require_aware(birth_utc, "birth_utc")
    nak, frac = dasha_balance(moon_longitude)
    first = nak.lord
    year_us = year_length.microseconds
    tick_us = year_us // TICKS_PER_YEAR
    elapsed_us = round(frac * DASHA_YEARS[first] * year_us)
    origin = birth - dt.timedelta(microseconds=elapsed_us)
    ticks, plan = _plan(first, depth)
    step = dt.timedelta(microseconds=tick_us)
    periods = _build(plan, [origin + step * t for t in ticks])
    first_end = periods[0].end
    return construct(
        VimshottariDasha,
        {
            "year_length": year_length,
            "year_days": float(year_length.days),
            "moon_longitude": normalize(moon_longitude),
            "nakshatra": nak,
            "starting_lord": first,
            "elapsed_fraction": frac,
            "balance_years": (first_end - birth) / dt.timedelta(microseconds=year_us),
            "birth": birth,
            "cycle_start": origin,
            "cycle_end": origin + dt.timedelta(microseconds=TOTAL_YEARS * year_us),
            "depth": depth,
            "approximate": approximate,
            "periods": periods,
        },
    )


def _running(
    origin: dt.datetime, first: Body, year_length: YearLength, at: dt.datetime, depth: int
) -> RunningDasha:
    _check_depth(depth)
    year_length = coerce_enum(YearLength, year_length, "year_length")
    at_utc = _require_aware(at, "at")
    year_us = year_length.microseconds
    tick_us = year_us // TICKS_PER_YEAR
    elapsed = (at_utc - origin) // dt.timedelta(microseconds=1)
    tick = elapsed // tick_us
    if elapsed < 0 or tick >= TOTAL_YEARS * TICKS_PER_YEAR:
        raise DashaOutOfRangeError(
            f"{at_utc.isoformat()} is outside the Vimshottari cycle "
            f"{origin.isoformat()} .. 120 years later.",
            field="at",
        )
    chain: list[DashaPeriod] = []
    nodes = _template(first, depth)
    level = 1
    while nodes:
        for lord, a, b, kids in nodes:
            if a <= tick < b:
                chain.append(
                    DashaPeriod.model_construct(
                        lord=lord,
                        level=level,
                        start=origin + dt.timedelta(microseconds=a * tick_us),
                        end=origin + dt.timedelta(microseconds=b * tick_us),
                        years=(b - a) / TICKS_PER_YEAR,
                        sub_periods=(),
                    )
                )
                nodes = kids
                level += 1
                break
        else:  # pragma: no cover - ticks cover [0, 120 years) without gaps
            raise AssertionError("tick not covered")
    return RunningDasha.model_construct(at=at_utc, periods=tuple(chain))


def running_dasha(
    moon_longitude: float,
    birth_utc: dt.datetime,
    at: dt.datetime,
    *,
    year_length: YearLength = YearLength.JULIAN,
    depth: int = MAX_DEPTH,
) -> RunningDasha:
    """Periods in force at ``at`` without building the whole timeline."""
    birth = _require_aware(birth_utc, "birth_utc")
    year_length = coerce_enum(YearLength, year_length, "year_length")
    nak, frac = dasha_balance(moon_longitude)
    year_us = year_length.microseconds
    origin = birth - dt.timedelta(microseconds=round(frac * DASHA_YEARS[nak.lord] * year_us))
    return _running(origin, nak.lord, year_length, at, depth)


def level_name(level: int) -> str:
    return _LEVEL_NAMES[level]
