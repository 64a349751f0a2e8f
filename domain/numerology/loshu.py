"""The Lo Shu grid of a date of birth, with driver, conductor and Kua number.

Layout (the Lo Shu magic square as used in numerology, 9 at the top, every line sums to 15)::

    4 9 2
    3 5 7
    8 1 6
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from domain.astrology.errors import InvalidSettingError, coerce_enum
from domain.numerology.reduce import (
    conductor_number,
    date_digits,
    digital_root,
    driver_number,
)

LO_SHU: Final[tuple[tuple[int, int, int], ...]] = ((4, 9, 2), (3, 5, 7), (8, 1, 6))

#: Planes (lines of the square) and their keys.
PLANES: Final[tuple[tuple[str, tuple[int, int, int]], ...]] = (
    ("mental", (4, 9, 2)),  # top row
    ("emotional", (3, 5, 7)),  # middle row
    ("practical", (8, 1, 6)),  # bottom row
    ("thought", (4, 3, 8)),  # left column
    ("will", (9, 5, 1)),  # middle column
    ("action", (2, 7, 6)),  # right column
    ("diagonal_456", (4, 5, 6)),
    ("diagonal_258", (2, 5, 8)),
)

Gender = Literal["male", "female"]


class KuaYearStart(StrEnum):
    """When the year used for the Kua number begins.

    ``feb4`` (default): the Chinese solar year, which begins at Lichun (the Sun at 315°
    tropical longitude, on 3, 4 or 5 February); the conventional fixed date 4 February is used,
    so births on 3-5 February deserve a check against the exact Lichun moment. ``jan1``: the
    Gregorian year, as some numerology schools do.
    """

    FEB_4 = "feb4"
    JAN_1 = "jan1"


class DriverRule(StrEnum):
    """When the driver (mulank) is added to the grid as an extra digit."""

    NEVER = "never"
    IF_TWO_DIGIT_DAY = "if_two_digit_day"  # days 10-31: the reduced day is not a date digit
    ALWAYS = "always"


class LoShuConvention(BaseModel):
    """Which digits enter the grid. Defaults: every non-zero digit of DD MM YYYY, the driver when
    the day has two digits, the conductor, and the Kua number when a gender is given."""

    model_config = ConfigDict(frozen=True)

    driver: DriverRule = DriverRule.IF_TWO_DIGIT_DAY
    conductor: bool = True
    kua: bool = True
    kua_year_start: KuaYearStart = KuaYearStart.FEB_4


DEFAULT_CONVENTION: Final = LoShuConvention()


class GridDigit(BaseModel):
    model_config = ConfigDict(frozen=True)

    digit: int
    source: Literal["date", "driver", "conductor", "kua"]


class Plane(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    numbers: tuple[int, int, int]
    present: tuple[int, ...]
    complete: bool
    empty: bool


class LoShuGrid(BaseModel):
    model_config = ConfigDict(frozen=True)

    birth_date: dt.date
    gender: Gender | None
    convention: LoShuConvention
    driver: int
    conductor: int
    kua: int | None
    digits: tuple[GridDigit, ...]
    counts: dict[int, int]
    rows: tuple[tuple[int, int, int], ...]  # counts laid out like LO_SHU
    missing: tuple[int, ...]
    repeated: dict[int, int]
    planes: tuple[Plane, ...]

    @property
    def complete_planes(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.planes if p.complete)

    @property
    def empty_planes(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.planes if p.empty)

    @property
    def keys(self) -> list[str]:
        """Content keys: ``driver:5``, ``missing:7``, ``repeated:1:3``, ``plane:will:empty``."""
        out = [f"driver:{self.driver}", f"conductor:{self.conductor}"]
        if self.kua is not None:
            out.append(f"kua:{self.kua}")
        out += [f"missing:{n}" for n in self.missing]
        out += [f"repeated:{n}:{c}" for n, c in sorted(self.repeated.items())]
        out += [f"plane:{p.key}:complete" for p in self.planes if p.complete]
        out += [f"plane:{p.key}:empty" for p in self.planes if p.empty]
        return out


def kua_number(
    birth_date: dt.date, gender: Gender, *, year_start: KuaYearStart = KuaYearStart.FEB_4
) -> int:
    """Kua (Eight Mansions) number.

    With ``s`` the digital root of the (solar) year: male ``root(11 - s)``, female
    ``root(4 + s)``; 5 has no trigram and becomes 2 for men, 8 for women. This single rule
    equals the usual tables: 1900s male 10 - root(YY), female 5 + root(YY); 2000s male
    9 - root(YY), female 6 + root(YY).
    """
    year_start = coerce_enum(KuaYearStart, year_start, "kua_year_start")
    if gender not in ("male", "female"):
        raise InvalidSettingError(
            f"Gender must be 'male' or 'female', not {gender!r}.", field="gender"
        )
    year = birth_date.year
    if year_start == KuaYearStart.FEB_4 and birth_date < dt.date(year, 2, 4):
        year -= 1
    s = digital_root(year)
    if gender == "male":
        k = digital_root(11 - s)
        return 2 if k == 5 else k
    k = digital_root(4 + s)
    return 8 if k == 5 else k


def lo_shu_grid(
    birth_date: dt.date,
    *,
    gender: Gender | None = None,
    convention: LoShuConvention = DEFAULT_CONVENTION,
) -> LoShuGrid:
    driver = driver_number(birth_date).value
    conductor = conductor_number(birth_date).value
    kua = (
        kua_number(birth_date, gender, year_start=convention.kua_year_start)
        if gender is not None
        else None
    )
    digits = [GridDigit(digit=d, source="date") for d in date_digits(birth_date) if d != 0]
    add_driver = convention.driver == DriverRule.ALWAYS or (
        convention.driver == DriverRule.IF_TWO_DIGIT_DAY and birth_date.day >= 10
    )
    if add_driver:
        digits.append(GridDigit(digit=driver, source="driver"))
    if convention.conductor:
        digits.append(GridDigit(digit=conductor, source="conductor"))
    if convention.kua and kua is not None:
        digits.append(GridDigit(digit=kua, source="kua"))
    counter = Counter(g.digit for g in digits)
    counts = {n: counter.get(n, 0) for n in range(1, 10)}
    planes = tuple(
        Plane(
            key=key,
            numbers=nums,
            present=tuple(n for n in nums if counts[n]),
            complete=all(counts[n] for n in nums),
            empty=not any(counts[n] for n in nums),
        )
        for key, nums in PLANES
    )
    return LoShuGrid(
        birth_date=birth_date,
        gender=gender,
        convention=convention,
        driver=driver,
        conductor=conductor,
        kua=kua,
        digits=tuple(digits),
        counts=counts,
        rows=tuple((counts[a], counts[b], counts[c]) for a, b, c in LO_SHU),
        missing=tuple(n for n in range(1, 10) if not counts[n]),
        repeated={n: c for n, c in counts.items() if c > 1},
        planes=planes,
    )
