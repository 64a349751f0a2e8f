"""Reduction, life path and name numbers: worked examples computed by hand, and properties."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.astrology.errors import InvalidNameError, InvalidSettingError
from domain.numerology.names import (
    CHALDEAN,
    PYTHAGOREAN,
    LetterSystem,
    NameMethod,
    YRule,
    name_numbers,
)
from domain.numerology.reduce import (
    MASTER_NUMBERS,
    LifePathMethod,
    digit_sum,
    digital_root,
    life_path,
    reduce_number,
)

# --- reduction ------------------------------------------------------------------------------


def test_reduce_examples():
    assert reduce_number(29).chain == (29, 11, 2)
    assert reduce_number(29).compound == "29/11/2"
    assert reduce_number(29, MASTER_NUMBERS).chain == (29, 11)
    assert reduce_number(39).value == 3  # 39 -> 12 -> 3
    assert reduce_number(7).chain == (7,)
    assert reduce_number(0).value == 0
    with pytest.raises(InvalidSettingError):
        digit_sum(-1)


@given(st.integers(min_value=0, max_value=10**12))
def test_reduce_is_the_digital_root(n):
    r = reduce_number(n)
    assert r.value == digital_root(n)
    assert r.value <= 9
    assert r.total == n
    assert r.chain[0] == n
    assert r.chain[-1] == r.value


@given(st.integers(min_value=0, max_value=10**9))
def test_masters_stop_the_reduction(n):
    r = reduce_number(n, MASTER_NUMBERS)
    assert r.value <= 9 or r.value in MASTER_NUMBERS
    # a kept master reduces to the same root
    assert digital_root(r.value) == digital_root(n)


# --- life path --------------------------------------------------------------------------------


def test_life_path_examples():
    # 2 Oct 1869: month 10 -> 1, day 2, year 1+8+6+9 = 24 -> 6; 1 + 2 + 6 = 9
    assert life_path(dt.date(1869, 10, 2)).value == 9
    # 7 Nov 1982: month 11 (master, kept), day 7, year 1+9+8+2 = 20 -> 2; 11 + 7 + 2 = 20 -> 2
    # all digits: 1+1+0+7+1+9+8+2 = 29 -> 11 (master)
    d = dt.date(1982, 11, 7)
    assert life_path(d).chain == (20, 2)
    assert life_path(d, method=LifePathMethod.ALL_DIGITS).chain == (29, 11)
    assert life_path(d, method="all_digits").value == 11
    assert life_path(d, method="all_digits", masters=()).value == 2
    # 29 Nov 1991: 11 + (29 -> 11) + (1991 -> 20 -> 2) = 24 -> 6
    assert life_path(dt.date(1991, 11, 29)).value == 6


@given(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_life_path_methods_share_the_root(d):
    a = life_path(d)
    b = life_path(d, method=LifePathMethod.ALL_DIGITS)
    assert digital_root(a.value) == digital_root(b.value)
    assert a.value <= 9 or a.value in MASTER_NUMBERS


# --- letter tables ------------------------------------------------------------------------------


def test_tables():
    assert len(CHALDEAN) == len(PYTHAGOREAN) == 26
    assert 9 not in CHALDEAN.values()  # Chaldean gives no letter the value 9
    assert [PYTHAGOREAN[c] for c in "AIJRSZ"] == [1, 9, 1, 9, 1, 8]
    assert [CHALDEAN[c] for c in "AFOUZ"] == [1, 8, 7, 6, 7]


def test_chaldean_worked_example():
    # MAHATMA: M4 A1 H5 A1 T4 M4 A1 = 20; GANDHI: G3 A1 N5 D4 H5 I1 = 19; total 39 -> 12 -> 3
    # vowels A A A A I = 5; consonants 39 - 5 = 34 -> 7
    n = name_numbers("Mahatma Gandhi")
    assert n.system is LetterSystem.CHALDEAN
    assert n.destiny.chain == (39, 12, 3)
    assert n.soul_urge is not None
    assert n.soul_urge.value == 5
    assert n.personality is not None
    assert n.personality.chain == (34, 7)
    assert n.keys == ["destiny:3", "soul_urge:5", "personality:7"]
    assert n.masters == ()


def test_pythagorean_worked_example_with_master():
    # JOHN: J1 O6 H8 N5 = 20; SMITH: S1 M4 I9 T2 H8 = 24; total 44 -> 8
    # vowels O6 I9 = 15 -> 6; consonants J1 H8 N5 S1 M4 T2 H8 = 29 -> 11 (master, kept)
    n = name_numbers("John Smith", system="pythagorean")
    assert n.destiny.chain == (44, 8)
    assert n.soul_urge is not None
    assert n.soul_urge.chain == (15, 6)
    assert n.personality is not None
    assert n.personality.chain == (29, 11)
    assert n.masters == (11, 22, 33)
    # without master numbers 11 reduces to 2
    n2 = name_numbers("John Smith", system="pythagorean", masters=())
    assert n2.personality is not None
    assert n2.personality.value == 2


def test_by_word_method():
    # By word, JOHN 20 -> 2 and SMITH 24 -> 6: destiny 8; consonants JHN 14 -> 5, SMTH 15 -> 6:
    # personality 11 (master)
    n = name_numbers("John Smith", system=LetterSystem.PYTHAGOREAN, method=NameMethod.BY_WORD)
    assert n.destiny.value == 8
    assert n.personality is not None
    assert n.personality.value == 11


@pytest.mark.parametrize(
    ("name", "rule", "soul", "personality"),
    [
        # MARY (Pythagorean): M4 A1 R9 Y7
        ("Mary", YRule.NEVER, 1, 2),  # vowels A = 1; consonants M R Y = 20 -> 2
        ("Mary", YRule.ALWAYS, 8, 4),  # vowels A Y = 8; consonants M R = 13 -> 4
        ("Mary", YRule.AUTO, 8, 4),  # Y after R at the end: no vowel next to it -> vowel
        # YOLANDA: Y7 O6 L3 A1 N5 D4 A1; Y is next to O -> consonant under "auto"
        ("Yolanda", YRule.AUTO, 8, 1),  # vowels O A A = 8; consonants Y L N D = 19 -> 10 -> 1
        ("Yolanda", YRule.ALWAYS, 6, 3),  # vowels Y O A A = 15 -> 6; consonants L N D = 12 -> 3
    ],
)
def test_y_rule(name, rule, soul, personality):
    n = name_numbers(name, system="pythagorean", y_rule=rule)
    assert n.soul_urge is not None
    assert n.soul_urge.value == soul
    assert n.personality is not None
    assert n.personality.value == personality
    assert n.y_rule is rule


def test_accents_punctuation_and_other_characters():
    a = name_numbers("José O'Brien-Núñez")
    b = name_numbers("Jose OBrien Nunez")
    assert a.destiny == b.destiny
    assert a.ignored == "'-"
    assert [lv.letter for lv in a.letters][:4] == ["J", "O", "S", "E"]


def test_a_name_of_consonants_has_no_soul_urge():
    n = name_numbers("Brynn", y_rule=YRule.NEVER)
    assert n.soul_urge is None
    assert n.personality is not None
    assert "soul_urge" not in " ".join(n.keys)


@pytest.mark.parametrize("name", ["", "   ", "123", "राम"])
def test_names_without_latin_letters_are_refused(name):
    with pytest.raises(InvalidNameError) as e:
        name_numbers(name)
    assert e.value.field == "name"
    assert e.value.code == "invalid_name"


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -", min_size=1))
def test_name_number_properties(text):
    if not any(c.isalpha() for c in text):
        return
    for system in LetterSystem:
        n = name_numbers(text, system=system, y_rule=YRule.AUTO)
        table = CHALDEAN if system is LetterSystem.CHALDEAN else PYTHAGOREAN
        total = sum(table[c] for c in text.upper() if c.isalpha())
        assert n.destiny.total == total
        vowels = n.soul_urge.total if n.soul_urge else 0
        consonants = n.personality.total if n.personality else 0
        assert vowels + consonants == total
        assert digital_root(n.destiny.value) == digital_root(total)
        assert n.destiny.value <= 9 or n.destiny.value in n.masters


@pytest.mark.parametrize(
    "call",
    [
        lambda: name_numbers("Ann", system="hebrew"),
        lambda: name_numbers("Ann", y_rule="sometimes"),
        lambda: life_path(dt.date(2000, 1, 1), method="fast"),
    ],
)
def test_unknown_convention_values_are_domain_errors(call):
    with pytest.raises(InvalidSettingError) as e:
        call()
    assert e.value.details["allowed"]
