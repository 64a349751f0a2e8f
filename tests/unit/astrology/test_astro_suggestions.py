"""Suggestion rules: dasha lords, slow-planet transits from the Moon (sade sati), past orders."""

import datetime as dt
import uuid

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.astrology.dasha import running_dasha
from domain.astrology.suggestions import (
    Rule,
    SuggestionInput,
    When,
    add_months,
    evaluate,
    horizon_months,
    normalize_offering_key,
    offering_id_of,
    ordinal,
    render_reason,
    transit_bodies,
)
from domain.astrology.transits import transit_outlook
from domain.astrology.zodiac import SIGNS, Body


def utc(*a):
    return dt.datetime(*a, tzinfo=dt.UTC)


AT = utc(2025, 1, 15)
SADE_SATI = {"kind": "transit", "body": "saturn", "houses_from_moon": [12, 1, 2], "within_months": 12}


def rule(rid, when, offering, **kw):
    return Rule(id=rid, when=TypeAdapter(When).validate_python(when), offering_key=offering, **kw)


def data(moon_sign=10, past=(), at=AT, bodies=(Body.SATURN, Body.JUPITER)):
    # Moon at 5° Makara -> Shravana... any longitude works; birth 1980
    running = running_dasha(275.0, utc(1980, 3, 1), at, depth=2)
    outlook = transit_outlook(SIGNS[moon_sign], at, add_months(at, 36), bodies=bodies)
    return SuggestionInput(at=at, running=running, transits=outlook, past_offerings=tuple(past))


def test_sade_sati_now_and_upcoming():
    # Saturn is in Kumbha until 29 March 2025, then Meena.
    in_first = evaluate([rule("r1", SADE_SATI, "shani-remedy")], data(moon_sign=10))  # Moon in Kumbha
    assert [s.offering_key for s in in_first] == ["shani-remedy"]
    assert in_first[0].facts["event"] == "in" and in_first[0].facts["house"] == 1
    assert in_first[0].reason == ("Saturn is transiting Kumbha, the 1st sign from the natal Moon in Kumbha.")
    # Moon in Mesha: Meena is the 12th from it, entered on 29 March 2025 (within 12 months)
    upcoming = evaluate([rule("r1", SADE_SATI, "shani-remedy")], data(moon_sign=0))
    assert upcoming[0].facts.items() >= {"event": "enters", "sign": "Meena", "house": 12, "date": "2025-03-29"}.items()
    # Moon in Vrishabha: Saturn's next sign change to the 12th (Mesha) is in 2027, beyond the horizon
    assert evaluate([rule("r1", SADE_SATI, "shani-remedy")], data(moon_sign=1)) == []
    # ... unless the rule looks 36 months ahead
    longer = rule("r1", {**SADE_SATI, "within_months": 36}, "shani-remedy")
    far = evaluate([longer], data(moon_sign=1, at=AT))
    assert far[0].facts["sign"] == "Mesha" and far[0].facts["date"].startswith("2027-")


def test_jupiter_ingress_rule_with_tenant_text_and_placeholders():
    r = rule("jup", {"kind": "transit", "body": "jupiter", "houses_from_moon": [1, 5, 9], "within_months": 6,
                     "include_current": False},
             "guru-puja", reasons={"en": "{body} enters your {house_ordinal} house ({sign}) on {date}. {nope}",
                                    "hi": "गुरु {sign} में {date} को"})
    # Moon in Tula: Mithuna is the 9th; Jupiter enters Mithuna on 14 May 2025
    out = evaluate([r], data(moon_sign=6))
    assert out[0].reason == "Jupiter enters your 9th house (Mithuna) on 2025-05-14. {nope}"
    assert evaluate([r], data(moon_sign=6), locale="hi")[0].reason == "गुरु Mithuna में 2025-05-14 को"
    assert evaluate([r], data(moon_sign=6), locale="fr")[0].reason.startswith("Jupiter enters")


def test_dasha_rules():
    d = data()
    maha, antar = d.running.mahadasha.lord, d.running.antardasha.lord
    other = next(b for b in Body if b not in (maha, antar))
    rules = [
        rule("m", {"kind": "dasha", "mahadasha": maha.value}, "maha-report", priority=5),
        rule("ma", {"kind": "dasha", "mahadasha": maha.value, "antardasha": antar.value}, "antar-call"),
        rule("x", {"kind": "dasha", "mahadasha": other.value}, "never"),
    ]
    out = evaluate(rules, d)
    assert [s.offering_key for s in out] == ["maha-report", "antar-call"]  # priority first
    assert out[0].reason.startswith(f"Running {maha.value.title()} mahadasha (until ")
    assert out[1].facts["until"] == d.running.antardasha.end.date().isoformat()


def test_past_orders_and_skip_if_ordered():
    rules = [
        rule("p", {"kind": "past_order", "any_of": ["kundli-report"]}, "follow-up-call"),
        rule("s", SADE_SATI, "shani-remedy"),
        rule("s2", SADE_SATI, "shani-puja", skip_if_ordered=False),
    ]
    none = evaluate(rules, data(moon_sign=10))
    assert {s.offering_key for s in none} == {"shani-remedy", "shani-puja"}
    out = evaluate(rules, data(moon_sign=10, past=["kundli-report", "shani-remedy", "shani-puja"]))
    assert {s.offering_key for s in out} == {"follow-up-call", "shani-puja"}
    assert next(s for s in out if s.kind == "past_order").reason == "Earlier order: kundli-report."


def test_rule_validation():
    adapter = TypeAdapter(When)
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "dasha"})
    with pytest.raises(ValidationError):
        adapter.validate_python({**SADE_SATI, "body": "moon"})
    with pytest.raises(ValidationError):
        adapter.validate_python({**SADE_SATI, "houses_from_moon": [13]})
    with pytest.raises(ValidationError):
        adapter.validate_python({**SADE_SATI, "within_months": 37})
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "past_order", "any_of": ["Bad Key"]})
    rules = [rule("a", SADE_SATI, "x"), rule("b", {**SADE_SATI, "body": "rahu", "within_months": 30}, "y"),
             rule("c", {"kind": "dasha", "mahadasha": "sun"}, "z")]
    assert horizon_months(rules) == 30 and transit_bodies(rules) == (Body.SATURN, Body.RAHU)
    assert horizon_months(rules[2:]) == 0


def test_helpers():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
    assert add_months(utc(2025, 1, 31), 1) == utc(2025, 2, 28)
    assert add_months(utc(2024, 12, 15), 14) == utc(2026, 2, 15)
    assert render_reason("{a} {b} {a.__class__}", {"a": 1}) == "1 {b} {a.__class__}"


def test_an_offering_key_is_an_offering_id_only_in_the_8_4_4_4_12_form():
    offering = uuid.uuid4()
    assert offering_id_of(str(offering)) == offering == offering_id_of(str(offering).upper())
    assert offering_id_of(offering.hex) is None and offering_id_of("shani-shanti-puja") is None
    assert normalize_offering_key(f" {str(offering).upper()} ") == str(offering)
    assert normalize_offering_key("gem-guide") == "gem-guide"
    when = TypeAdapter(When).validate_python({"kind": "past_order", "any_of": [str(offering).upper(), "gem-guide"]})
    assert when.any_of == (str(offering), "gem-guide")
