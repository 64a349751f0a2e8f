"""Suggestion rules: what to offer a client next, and why.

A tenant keeps its own rules (the API stores them); each maps one condition to an offering key:
the id (UUID) of one of the tenant's offerings, which is what a booking's order line records,
or any other key the tenant uses for things sold by key on staff-made orders (a remedy
programme, a printed report). The API checks that an id names one of the tenant's offerings and
adds the offering to each suggestion; the engine treats every key alike:

* ``dasha`` — the running mahadasha lord, antardasha lord, or both;
* ``transit`` — a slow graha (Saturn, Jupiter, Rahu, Ketu) in, or entering within N months,
  one of the given houses counted from the natal Moon's sign; Saturn in the 12th, 1st and 2nd
  from the Moon is *sade sati*;
* ``past_order`` — the client already bought one of the given offerings.

Every suggestion carries the facts that triggered it and a reason: the rule's own text for the
locale (tenant-edited, with ``{placeholders}`` filled in from the facts) or, when the rule has
none, a plain statement of the facts. Evaluation is pure: the caller computes the running dasha
and the transit outlook (``domain.astrology.transits``) and passes the past offering keys.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from domain.astrology.dasha import RunningDasha
from domain.astrology.transits import SLOW_BODIES, TransitOutlook, house_from
from domain.astrology.zodiac import Body

OFFERING_KEY: Final = r"^[a-z0-9][a-z0-9_.:-]{0,99}$"
MAX_MONTHS: Final = 36
_PLACEHOLDER: Final = re.compile(r"\{([a-z_]+)\}")
_UUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def offering_id_of(key: str) -> UUID | None:
    """The offering id an offering key names, when it is one (``8-4-4-4-12`` hex digits)."""
    return UUID(key) if _UUID.match(key) else None


def normalize_offering_key(value: Any) -> Any:
    """An offering id in its canonical lower-case form (as order lines record it); other keys as given."""
    if isinstance(value, str) and (offering_id := offering_id_of(value.strip())) is not None:
        return str(offering_id)
    return value


OfferingKey = Annotated[str, BeforeValidator(normalize_offering_key), Field(max_length=100, pattern=OFFERING_KEY)]


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class DashaWhen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["dasha"] = "dasha"
    mahadasha: Body | None = None
    antardasha: Body | None = None

    @model_validator(mode="after")
    def _some_lord(self) -> DashaWhen:
        if self.mahadasha is None and self.antardasha is None:
            raise ValueError("name a mahadasha lord, an antardasha lord, or both")
        return self


class TransitWhen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["transit"] = "transit"
    body: Body
    houses_from_moon: tuple[Annotated[int, Field(ge=1, le=12)], ...] = Field(min_length=1, max_length=12)
    within_months: int = Field(default=12, ge=0, le=MAX_MONTHS)
    include_current: bool = True

    @field_validator("body")
    @classmethod
    def _slow(cls, value: Body) -> Body:
        if value not in SLOW_BODIES:
            raise ValueError(f"use one of {', '.join(b.value for b in SLOW_BODIES)}")
        return value


class PastOrderWhen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["past_order"] = "past_order"
    any_of: tuple[OfferingKey, ...] = Field(min_length=1, max_length=50)


When = Annotated[DashaWhen | TransitWhen | PastOrderWhen, Field(discriminator="kind")]


class Rule(BaseModel):
    """A stored rule as the engine sees it. ``reasons`` maps a locale (en, hi) to a text."""

    model_config = ConfigDict(frozen=True)

    id: str
    when: When
    offering_key: str
    reasons: dict[str, str] = Field(default_factory=dict)
    priority: int = 0
    skip_if_ordered: bool = True


class Suggestion(BaseModel):
    model_config = ConfigDict(frozen=True)

    offering_key: str
    rule_id: str
    kind: str
    reason: str
    priority: int
    facts: dict[str, Any]


class SuggestionInput(BaseModel):
    """What the rules are evaluated against."""

    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    running: RunningDasha | None
    transits: TransitOutlook | None
    past_offerings: tuple[str, ...] = ()


def add_months(at: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (clamped to the month's end), same time of day."""
    y, m = divmod(at.month - 1 + months, 12)
    year, month = at.year + y, m + 1
    for day in (at.day, 30, 29, 28):
        try:
            return at.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def horizon_months(rules: Sequence[Rule]) -> int:
    """How far ahead the transit rules look (0 when none does)."""
    return max((r.when.within_months for r in rules if isinstance(r.when, TransitWhen)), default=0)


def transit_bodies(rules: Sequence[Rule]) -> tuple[Body, ...]:
    return tuple(dict.fromkeys(r.when.body for r in rules if isinstance(r.when, TransitWhen)))


def render_reason(template: str, facts: dict[str, Any]) -> str:
    """``{name}`` placeholders filled from the facts; unknown ones are left as written."""

    def sub(m: re.Match[str]) -> str:
        value = facts.get(m.group(1))
        return m.group(0) if value is None else str(value)

    return _PLACEHOLDER.sub(sub, template)


def _dasha_facts(when: DashaWhen, data: SuggestionInput) -> dict[str, Any] | None:
    running = data.running
    if running is None:
        return None
    maha, antar = running.mahadasha, running.antardasha
    if when.mahadasha is not None and maha.lord != when.mahadasha:
        return None
    if when.antardasha is not None and (antar is None or antar.lord != when.antardasha):
        return None
    facts: dict[str, Any] = {
        "mahadasha": maha.lord.value.title(),
        "mahadasha_until": maha.end.date().isoformat(),
    }
    if antar is not None:
        facts |= {"antardasha": antar.lord.value.title(), "antardasha_until": antar.end.date().isoformat()}
    until = antar.end if when.antardasha is not None and antar is not None else maha.end
    facts["until"] = until.date().isoformat()
    return facts


def _default_dasha_reason(facts: dict[str, Any]) -> str:
    text = f"Running {facts['mahadasha']} mahadasha (until {facts['mahadasha_until']})"
    if "antardasha" in facts:
        text += f", {facts['antardasha']} antardasha (until {facts['antardasha_until']})"
    return text + "."


def _transit_facts(when: TransitWhen, data: SuggestionInput) -> dict[str, Any] | None:
    outlook = data.transits
    if outlook is None:
        return None
    row = outlook.body(when.body)
    if row is None:
        return None
    wanted = set(when.houses_from_moon)
    base = {"body": when.body.value.title(), "moon_sign": outlook.moon_sign.name}
    if when.include_current and row.house_from_moon in wanted:
        return base | {
            "event": "in",
            "sign": row.sign.name,
            "house": row.house_from_moon,
            "house_ordinal": ordinal(row.house_from_moon),
            "date": data.at.date().isoformat(),
        }
    limit = add_months(data.at, when.within_months)
    for ingress in row.ingresses:
        if ingress.at >= limit:
            break
        house = house_from(ingress.to_sign.index, outlook.moon_sign.index)
        if house in wanted:
            return base | {
                "event": "enters",
                "sign": ingress.to_sign.name,
                "house": house,
                "house_ordinal": ordinal(house),
                "date": ingress.at.date().isoformat(),
                "retrograde": ingress.retrograde,
            }
    return None


def _default_transit_reason(facts: dict[str, Any]) -> str:
    where = f"{facts['sign']}, the {facts['house_ordinal']} sign from the natal Moon in {facts['moon_sign']}"
    if facts["event"] == "in":
        return f"{facts['body']} is transiting {where}."
    return f"{facts['body']} enters {where}, on {facts['date']}."


def _order_facts(when: PastOrderWhen, data: SuggestionInput) -> dict[str, Any] | None:
    matched = [k for k in when.any_of if k in data.past_offerings]
    return {"ordered": ", ".join(matched)} if matched else None


def _default_order_reason(facts: dict[str, Any]) -> str:
    return f"Earlier order: {facts['ordered']}."


def evaluate(
    rules: Sequence[Rule], data: SuggestionInput, *, locale: str = "en"
) -> list[Suggestion]:
    """Suggestions by priority (highest first), then offering key; one per rule that fires.

    An offering already bought is skipped when the rule says so (``skip_if_ordered``).
    """
    out: list[Suggestion] = []
    for rule in rules:
        if rule.skip_if_ordered and rule.offering_key in data.past_offerings:
            continue
        when = rule.when
        facts: dict[str, Any] | None
        default: Callable[[dict[str, Any]], str]
        if isinstance(when, DashaWhen):
            facts = _dasha_facts(when, data)
            default = _default_dasha_reason
        elif isinstance(when, TransitWhen):
            facts = _transit_facts(when, data)
            default = _default_transit_reason
        else:
            facts = _order_facts(when, data)
            default = _default_order_reason
        if facts is None:
            continue
        facts["offering"] = rule.offering_key
        template = rule.reasons.get(locale) or rule.reasons.get("en")
        out.append(
            Suggestion(
                offering_key=rule.offering_key,
                rule_id=rule.id,
                kind=when.kind,
                reason=render_reason(template, facts) if template else default(facts),
                priority=rule.priority,
                facts=facts,
            )
        )
    out.sort(key=lambda s: (-s.priority, s.offering_key, s.rule_id))
    return out
