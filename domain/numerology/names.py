"""Name numbers with the Chaldean (default) or Pythagorean letter values.

Only the 26 Latin letters carry values; accents are stripped first (É → E), every other
character (spaces, hyphens, digits, other scripts) is ignored and reported.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from domain.astrology.errors import InvalidNameError, coerce_enum
from domain.numerology.reduce import MASTER_NUMBERS, NO_MASTERS, Reduced, reduce_number


class LetterSystem(StrEnum):
    CHALDEAN = "chaldean"
    PYTHAGOREAN = "pythagorean"


def _table(groups: dict[int, str]) -> dict[str, int]:
    return {letter: value for value, letters in groups.items() for letter in letters}


#: Chaldean values (Cheiro's table): no letter is 9.
CHALDEAN: Final[dict[str, int]] = _table(
    {1: "AIJQY", 2: "BKR", 3: "CGLS", 4: "DMT", 5: "EHNX", 6: "UVW", 7: "OZ", 8: "FP"}
)
#: Pythagorean values: A-I = 1-9, J-R = 1-9, S-Z = 1-8.
PYTHAGOREAN: Final[dict[str, int]] = {chr(ord("A") + i): i % 9 + 1 for i in range(26)}
TABLES: Final[dict[LetterSystem, dict[str, int]]] = {
    LetterSystem.CHALDEAN: CHALDEAN,
    LetterSystem.PYTHAGOREAN: PYTHAGOREAN,
}
VOWELS: Final = frozenset("AEIOU")


class YRule(StrEnum):
    """Is Y a vowel? ``never`` (default): always a consonant. ``always``: always a vowel.
    ``auto``: a vowel when neither neighbouring letter in the word is a vowel (Lynn, Mary),
    a consonant next to one (Yolanda, Maya) — the usual approximation of "when it sounds
    like a vowel"."""

    NEVER = "never"
    ALWAYS = "always"
    AUTO = "auto"


class NameMethod(StrEnum):
    """``whole`` (default): add every letter, then reduce. ``by_word``: reduce each word of the
    name first (keeping masters), add the results, reduce again."""

    WHOLE = "whole"
    BY_WORD = "by_word"


class LetterValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    letter: str
    value: int
    vowel: bool


class NameNumbers(BaseModel):
    """Destiny/expression (all letters), soul urge/heart's desire (vowels), personality
    (consonants). ``soul_urge`` or ``personality`` is ``None`` when the name has no letter of
    that kind."""

    model_config = ConfigDict(frozen=True)

    name: str
    system: LetterSystem
    y_rule: YRule
    method: NameMethod
    masters: tuple[int, ...]
    letters: tuple[LetterValue, ...]
    ignored: str
    destiny: Reduced
    soul_urge: Reduced | None
    personality: Reduced | None

    @property
    def keys(self) -> list[str]:
        out = [f"destiny:{self.destiny.value}"]
        if self.soul_urge is not None:
            out.append(f"soul_urge:{self.soul_urge.value}")
        if self.personality is not None:
            out.append(f"personality:{self.personality.value}")
        return out


def _ascii_upper(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _is_vowel(word: str, i: int, y_rule: YRule) -> bool:
    c = word[i]
    if c in VOWELS:
        return True
    if c != "Y" or y_rule == YRule.NEVER:
        return False
    if y_rule == YRule.ALWAYS:
        return True
    before = word[i - 1] if i > 0 else ""
    after = word[i + 1] if i + 1 < len(word) else ""
    return before not in VOWELS and after not in VOWELS


def name_numbers(
    name: str,
    *,
    system: LetterSystem = LetterSystem.CHALDEAN,
    y_rule: YRule = YRule.NEVER,
    method: NameMethod = NameMethod.WHOLE,
    masters: Collection[int] | None = None,
) -> NameNumbers:
    """Name numbers. ``masters`` defaults to 11/22/33 for Pythagorean and none for Chaldean
    (whose practice reads the compound total, kept in ``Reduced.total``/``chain``)."""
    system = coerce_enum(LetterSystem, system, "system")
    y_rule = coerce_enum(YRule, y_rule, "y_rule")
    method = coerce_enum(NameMethod, method, "method")
    table = TABLES[system]
    keep: tuple[int, ...] = tuple(
        sorted(masters)
        if masters is not None
        else (MASTER_NUMBERS if system == LetterSystem.PYTHAGOREAN else NO_MASTERS)
    )
    text = _ascii_upper(name)
    words: list[list[LetterValue]] = []
    ignored: list[str] = []
    current = ""
    for ch in text + " ":
        if "A" <= ch <= "Z":
            current += ch
            continue
        if current:
            words.append(
                [
                    LetterValue(letter=c, value=table[c], vowel=_is_vowel(current, i, y_rule))
                    for i, c in enumerate(current)
                ]
            )
            current = ""
        if not ch.isspace():
            ignored.append(ch)
    letters = [lv for w in words for lv in w]
    if not letters:
        raise InvalidNameError(
            f"{name!r} has no Latin letter to value; transliterate the name first.",
            field="name",
        )

    def number(select: bool | None) -> Reduced | None:
        parts = [[lv.value for lv in w if select is None or lv.vowel is select] for w in words]
        if not any(parts):
            return None
        if method == NameMethod.BY_WORD:
            total = sum(reduce_number(sum(p), keep).value for p in parts if p)
            return reduce_number(total, keep)
        return reduce_number(sum(sum(p) for p in parts), keep)

    destiny = number(None)
    assert destiny is not None
    return NameNumbers(
        name=name,
        system=system,
        y_rule=y_rule,
        method=method,
        masters=keep,
        letters=tuple(letters),
        ignored="".join(ignored),
        destiny=destiny,
        soul_urge=number(True),
        personality=number(False),
    )
