"""Sign changes (ingresses) of the slow grahas, found with the ephemeris by bisection.

A body's sidereal sign is sampled every ``step_days`` (1 day by default); wherever two samples
differ, the instant of the change is bisected to ``tolerance_seconds`` (1 s). Retrograde
motion is handled as it comes: a body that re-enters the previous sign gives an ingress with
``retrograde=True`` and ``to_sign`` the earlier sign. Two crossings less than one step apart
(a station within arc-seconds of a sign boundary) would cancel out and not be seen; the tests
compare with an hourly scan of direct Swiss Ephemeris calls over ten years.

Ketu is always opposite Rahu (180° = six signs), so it changes sign at the same instants.
Positions come from ``domain.astrology.ephemeris`` (Moshier, sidereal flag, the chosen
ayanamsa), the same as charts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Final

import swisseph as swe
from pydantic import BaseModel, ConfigDict

from domain.astrology.birth_time import julian_day_ut
from domain.astrology.ephemeris import NODE_BODY, Ayanamsa, NodeType, check_jd, sidereal_longitude
from domain.astrology.errors import InvalidSettingError, coerce_enum
from domain.astrology.zodiac import SIGNS, Body, SignRef, normalize, sign_of

#: The grahas whose sign changes are slow enough to plan around.
SLOW_BODIES: Final[tuple[Body, ...]] = (Body.SATURN, Body.JUPITER, Body.RAHU, Body.KETU)
_SWE_ID: Final[dict[Body, int]] = {Body.SATURN: swe.SATURN, Body.JUPITER: swe.JUPITER}
_JD_UNIX_EPOCH: Final = 2440587.5
_UNIX_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_SPAN_DAYS: Final = 366 * 50


class Ingress(BaseModel):
    """``body`` leaves ``from_sign`` for ``to_sign`` at ``at`` (UTC, to about a second)."""

    model_config = ConfigDict(frozen=True)

    body: Body
    at: dt.datetime
    jd_ut: float
    from_sign: SignRef
    to_sign: SignRef
    retrograde: bool


class BodyTransit(BaseModel):
    """Where a slow body is at ``start`` and the sign changes until ``end``, counted from a
    reference sign (the natal Moon's): house 1 is the Moon's sign itself."""

    model_config = ConfigDict(frozen=True)

    body: Body
    sign: SignRef
    longitude: float
    house_from_moon: int
    ingresses: tuple[Ingress, ...]


class TransitOutlook(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: dt.datetime
    end: dt.datetime
    moon_sign: SignRef
    bodies: tuple[BodyTransit, ...]

    def body(self, body: Body) -> BodyTransit | None:
        return next((b for b in self.bodies if b.body == body), None)


def datetime_from_jd(jd_ut: float) -> dt.datetime:
    """The UTC instant of a Julian day (UT), to the microsecond."""
    return _UNIX_EPOCH + dt.timedelta(days=jd_ut - _JD_UNIX_EPOCH)


def house_from(sign_index: int, reference_index: int) -> int:
    """1 when ``sign_index`` is the reference sign, 12 for the sign before it."""
    return (sign_index - reference_index) % 12 + 1


def _longitude_fn(body: Body, ayanamsa: Ayanamsa, node: NodeType) -> Callable[[float], float]:
    if body in _SWE_ID:
        ipl = _SWE_ID[body]
        return lambda jd: sidereal_longitude(jd, ipl, ayanamsa)
    if body in (Body.RAHU, Body.KETU):
        ipl = NODE_BODY[node]
        shift = 180.0 if body == Body.KETU else 0.0
        return lambda jd: normalize(sidereal_longitude(jd, ipl, ayanamsa) + shift)
    raise InvalidSettingError(
        f"Ingresses are computed for {', '.join(b.value for b in SLOW_BODIES)}, not {body.value}.",
        field="body",
        details={"allowed": [b.value for b in SLOW_BODIES]},
    )


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidSettingError(f"{field} must be timezone-aware.", field=field)
    return value.astimezone(dt.UTC)


def sign_ingresses(
    body: Body,
    start: dt.datetime,
    end: dt.datetime,
    *,
    ayanamsa: Ayanamsa = Ayanamsa.LAHIRI,
    node: NodeType = NodeType.MEAN,
    step_days: float = 1.0,
    tolerance_seconds: float = 1.0,
) -> tuple[Ingress, ...]:
    """Every sign change of ``body`` in ``[start, end)``, in time order."""
    body = coerce_enum(Body, body, "body")
    ayanamsa = coerce_enum(Ayanamsa, ayanamsa, "ayanamsa")
    node = coerce_enum(NodeType, node, "node")
    start, end = _aware(start, "start"), _aware(end, "end")
    if end < start:
        raise InvalidSettingError("end must not be before start.", field="end")
    if not 0.0 < step_days <= 2.0:
        raise InvalidSettingError("step_days must be in (0, 2].", field="step_days")
    jd0, jd1 = julian_day_ut(start), julian_day_ut(end)
    if jd1 - jd0 > MAX_SPAN_DAYS:
        raise InvalidSettingError("Ask for at most 50 years of ingresses at once.", field="end")
    check_jd(jd0)
    check_jd(jd1)
    lon = _longitude_fn(body, ayanamsa, node)
    tol = tolerance_seconds / 86400.0

    def sign_at(jd: float) -> int:
        return sign_of(lon(jd)).index

    out: list[Ingress] = []
    a, sa = jd0, sign_at(jd0)
    while a < jd1:
        b = min(a + step_days, jd1)
        sb = sign_at(b)
        if sb != sa:
            lo, hi = a, b
            while hi - lo > tol:
                mid = (lo + hi) / 2.0
                if sign_at(mid) == sa:
                    lo = mid
                else:
                    hi = mid
            out.append(_ingress(body, hi, sa, sign_at(hi)))
        a, sa = b, sb
    return tuple(i for i in out if i.at < end)


def _ingress(body: Body, jd: float, from_index: int, to_index: int) -> Ingress:
    return Ingress(
        body=body,
        at=datetime_from_jd(jd),
        jd_ut=jd,
        from_sign=SIGNS[from_index],
        to_sign=SIGNS[to_index],
        # a forward step goes to the next sign (Meena -> Mesha wraps)
        retrograde=(to_index - from_index) % 12 != 1,
    )


def transit_outlook(
    moon_sign: SignRef | int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    bodies: Iterable[Body] = SLOW_BODIES,
    ayanamsa: Ayanamsa = Ayanamsa.LAHIRI,
    node: NodeType = NodeType.MEAN,
) -> TransitOutlook:
    """Current sign and upcoming sign changes of ``bodies``, with houses counted from the Moon."""
    moon = SIGNS[moon_sign if isinstance(moon_sign, int) else moon_sign.index]
    start, end = _aware(start, "start"), _aware(end, "end")
    jd0 = julian_day_ut(start)
    check_jd(jd0)
    rows = []
    for body in dict.fromkeys(bodies):
        body = coerce_enum(Body, body, "body")
        longitude = _longitude_fn(body, coerce_enum(Ayanamsa, ayanamsa, "ayanamsa"), node)(jd0)
        sign = sign_of(longitude)
        rows.append(
            BodyTransit(
                body=body,
                sign=sign,
                longitude=longitude,
                house_from_moon=house_from(sign.index, moon.index),
                ingresses=sign_ingresses(body, start, end, ayanamsa=ayanamsa, node=node),
            )
        )
    return TransitOutlook(start=start, end=end, moon_sign=moon, bodies=tuple(rows))
