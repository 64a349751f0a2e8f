"""Numerology engine: Lo Shu grid, driver/conductor/Kua, life path and name numbers.

Pure functions returning numbers and content keys (e.g. ``driver:5``); interpretive texts are
tenant-editable content mapped from the keys elsewhere. Conventions: docs/astrology.md.
"""

from domain.numerology.loshu import (
    LO_SHU,
    PLANES,
    DriverRule,
    GridDigit,
    KuaYearStart,
    LoShuConvention,
    LoShuGrid,
    Plane,
    kua_number,
    lo_shu_grid,
)
from domain.numerology.names import (
    CHALDEAN,
    PYTHAGOREAN,
    LetterSystem,
    LetterValue,
    NameMethod,
    NameNumbers,
    YRule,
    name_numbers,
)
from domain.numerology.reduce import (
    MASTER_NUMBERS,
    LifePathMethod,
    Reduced,
    conductor_number,
    digit_sum,
    digital_root,
    driver_number,
    life_path,
    reduce_number,
)

__all__ = [
    "CHALDEAN",
    "LO_SHU",
    "MASTER_NUMBERS",
    "PLANES",
    "PYTHAGOREAN",
    "DriverRule",
    "GridDigit",
    "KuaYearStart",
    "LetterSystem",
    "LetterValue",
    "LifePathMethod",
    "LoShuConvention",
    "LoShuGrid",
    "NameMethod",
    "NameNumbers",
    "Plane",
    "Reduced",
    "YRule",
    "conductor_number",
    "digit_sum",
    "digital_root",
    "driver_number",
    "kua_number",
    "life_path",
    "lo_shu_grid",
    "name_numbers",
    "reduce_number",
]
