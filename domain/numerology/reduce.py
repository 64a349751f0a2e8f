"""Digit sums and reduction, with optional master numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from domain.astrology.errors import InvalidSettingError, coerce_enum

#: The master numbers of Pythagorean practice.
MASTER_NUMBERS: Final[tuple[int, ...]] = (11, 22, 33)
NO_MASTERS: Final[tuple[int, ...]] = ()


class Reduced(BaseModel):
    """A number and how it was reduced: ``chain`` runs from the total to ``value``, e.g.
    ``(29, 11, 2)``; with 11 kept as a master number it is ``(29, 11)``."""

    model_config = ConfigDict(frozen=True)

    value: int
    total: int
    chain: tuple[int, ...]

    @property
    def compound(self) -> str:
        """Conventional notation, e.g. ``29/11/2``."""
        return "/".join(str(n) for n in self.chain)


def digit_sum(n: int) -> int:
    if n < 0:
        raise InvalidSettingError(f"Cannot reduce a negative number ({n}).", field="number")
    return sum(int(c) for c in str(n))


def reduce_number(n: int, masters: Collection[int] = NO_MASTERS) -> Reduced:
    """Add digits until one digit remains, stopping early at a master number in ``masters``."""
    chain = [n]
    while n > 9 and n not in masters:
        n = digit_sum(n)
        chain.append(n)
    return Reduced(value=n, total=chain[0], chain=tuple(chain))


def digital_root(n: int) -> int:
    """Single digit 1-9 (0 only for 0); equal to ``reduce_number(n).value``."""
    return 0 if n == 0 else 1 + (n - 1) % 9


def date_digits(d: dt.date) -> tuple[int, ...]:
    """Digits of DD MM YYYY, in that order, zeros included."""
    return tuple(int(c) for c in f"{d.day:02d}{d.month:02d}{d.year:04d}")


class LifePathMethod(StrEnum):
    """How the life path adds up the date.

    ``components`` (default): reduce month, day and year separately (keeping masters), add the
    three, reduce again. ``all_digits``: add every digit of the date at once, then reduce.
    Both give the same single digit; they can differ on whether a master number appears.
    """

    COMPONENTS = "components"
    ALL_DIGITS = "all_digits"


def life_path(
    d: dt.date,
    *,
    method: LifePathMethod = LifePathMethod.COMPONENTS,
    masters: Collection[int] = MASTER_NUMBERS,
) -> Reduced:
    method = coerce_enum(LifePathMethod, method, "method")
    if method == LifePathMethod.ALL_DIGITS:
        return reduce_number(sum(date_digits(d)), masters)
    parts = [reduce_number(x, masters).value for x in (d.month, d.day, d.year)]
    return reduce_number(sum(parts), masters)


def driver_number(d: dt.date) -> Reduced:
    """Driver / mulank / psychic number: the day of the month reduced to 1-9."""
    return reduce_number(d.day)


def conductor_number(d: dt.date) -> Reduced:
    """Conductor / bhagyank / destiny number of Indian practice: all digits of the date, 1-9."""
    return reduce_number(sum(date_digits(d)))
