"""Distinct-client figures of a period (active, new, repeat, lifetime value), and their store.

Distinct clients cannot be summed from days: they are counted from the client-day rows of the
clients active in a period, over their history up to its end. At 100,000 bookings that is a
pass over the whole client-day table (a quarter of a second on a busy machine), so the figures
are kept per period in analytics_client_periods, tagged with the tenant's roll-up version in
the zone (analytics_zone_fills.version, one more at every roll-up of its days):

- the roll-up computes, in its transaction, the current and previous today, week, month, quarter
  and year of every consultancy and consultant (precompute), after dropping the older versions;
- a dashboard reads them, and computes (then keeps) any period not there (a custom range, a past
  month, a consultancy filled a moment ago).

A figure is read only with its tenant's current version, and written with the version read in
the same statement as the rows it counts: a dashboard racing a roll-up can only keep figures
that are never read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import EVERY_CONSULTANT, DayRange, Period, resolve

PRECOMPUTED = (Period.TODAY, Period.WEEK, Period.MONTH, Period.QUARTER, Period.YEAR)


@dataclass(frozen=True)
class ClientCounts:
    active: int = 0
    new: int = 0
    repeat: int = 0
    lifetime: dict[str, tuple[int, int]] = field(default_factory=dict)  # currency -> (clients, net spend)

    def __add__(self, other: ClientCounts) -> ClientCounts:
        """Two consultancies' figures together (a client belongs to one consultancy)."""
        lifetime = dict(self.lifetime)
        for currency, (clients, spend) in other.lifetime.items():
            mine = lifetime.get(currency, (0, 0))
            lifetime[currency] = (mine[0] + clients, mine[1] + spend)
        return ClientCounts(self.active + other.active, self.new + other.new, self.repeat + other.repeat,
                            lifetime)


# Both periods in one pass: `_0` is the previous period, `_1` the current one. Rows of kind
# 'clients' count clients (active in a, new in b, repeat in c); of kind 'currency', the active
# clients with rows in that currency (a) and their net spend (b); of kind 'version', the
# tenant's roll-up version the rows were read at.
COMPUTE = """
WITH active AS (
    SELECT DISTINCT tenant_id, {who} AS who, client_id FROM analytics_client_days
    WHERE zone = :zone AND {tenants} AND {consultant} AND purchases > 0 AND day BETWEEN :lo AND :hi
    AND (day BETWEEN :first_0 AND :last_0 OR day BETWEEN :first_1 AND :last_1)),
per_currency AS (
    SELECT cd.tenant_id, a.who, cd.client_id, cd.currency,
           min(cd.day) FILTER (WHERE cd.purchases > 0) AS first_day,
           coalesce(sum(cd.purchases) FILTER (WHERE cd.day <= :last_0), 0) AS bought_0,
           coalesce(sum(cd.purchases) FILTER (WHERE cd.day <= :last_1), 0) AS bought_1,
           coalesce(sum(cd.spend) FILTER (WHERE cd.day <= :last_0), 0) AS spend_0,
           coalesce(sum(cd.spend) FILTER (WHERE cd.day <= :last_1), 0) AS spend_1,
           bool_or(cd.day <= :last_0) AS seen_0, bool_or(cd.day <= :last_1) AS seen_1,
           bool_or(cd.purchases > 0 AND cd.day BETWEEN :first_0 AND :last_0) AS active_0,
           bool_or(cd.purchases > 0 AND cd.day BETWEEN :first_1 AND :last_1) AS active_1
    FROM analytics_client_days cd
    JOIN active a ON a.tenant_id = cd.tenant_id AND a.client_id = cd.client_id AND {same_who}
    WHERE cd.zone = :zone AND {cd_tenants} AND {cd_consultant} AND cd.day <= :hi
    GROUP BY 1, 2, 3, 4),
per_client AS (
    SELECT tenant_id, who, client_id, min(first_day) AS first_day, sum(bought_0) AS bought_0,
           sum(bought_1) AS bought_1, bool_or(active_0) AS active_0, bool_or(active_1) AS active_1
    FROM per_currency GROUP BY 1, 2, 3)
SELECT 'clients' AS kind, tenant_id, who, NULL AS currency,
       count(*) FILTER (WHERE active_0) AS a_0, count(*) FILTER (WHERE active_1) AS a_1,
       count(*) FILTER (WHERE active_0 AND first_day >= :first_0) AS b_0,
       count(*) FILTER (WHERE active_1 AND first_day >= :first_1) AS b_1,
       count(*) FILTER (WHERE active_0 AND bought_0 >= 2) AS c_0,
       count(*) FILTER (WHERE active_1 AND bought_1 >= 2) AS c_1
FROM per_client GROUP BY tenant_id, who
UNION ALL
SELECT 'currency', m.tenant_id, m.who, m.currency,
       count(*) FILTER (WHERE c.active_0 AND m.seen_0), count(*) FILTER (WHERE c.active_1 AND m.seen_1),
       coalesce(sum(m.spend_0) FILTER (WHERE c.active_0 AND m.seen_0), 0),
       coalesce(sum(m.spend_1) FILTER (WHERE c.active_1 AND m.seen_1), 0), 0, 0
FROM per_currency m JOIN per_client c USING (tenant_id, who, client_id)
GROUP BY m.tenant_id, m.who, m.currency
UNION ALL
SELECT 'version', f.tenant_id, NULL, NULL, f.version, 0, 0, 0, 0, 0
FROM analytics_zone_fills f WHERE f.zone = :zone AND {f_tenants}
"""

Figures = dict[tuple[uuid.UUID, uuid.UUID], tuple[ClientCounts, ClientCounts]]  # (tenant, who) -> previous, current


async def compute(session: AsyncSession, zone: str, previous: DayRange, current: DayRange, *,
                  tenants: Sequence[uuid.UUID] | None, consultant: uuid.UUID | None = None,
                  each_consultant: bool = False) -> tuple[Figures, dict[uuid.UUID, int]]:
    """The figures of both periods from the client-day rows, per tenant and `who`: `consultant`,
    or each consultant, or the consultancy as a whole (EVERY_CONSULTANT); with the versions read."""
    def where(alias: str) -> str:
        a = f"{alias}." if alias else ""
        return "true" if tenants is None else f"{a}tenant_id = ANY(CAST(:tenants AS uuid[]))"

    who = "consultant_id" if each_consultant or consultant else "CAST(:every AS uuid)"
    sql = COMPUTE.format(
        who=who, tenants=where(""), cd_tenants=where("cd"), f_tenants=where("f"),
        consultant="consultant_id = :consultant" if consultant else "true",
        cd_consultant="cd.consultant_id = :consultant" if consultant else "true",
        same_who="a.who = cd.consultant_id" if each_consultant else "true")
    params: dict[str, Any] = {
        "zone": zone, "every": str(EVERY_CONSULTANT), "consultant": consultant,
        "tenants": [str(t) for t in tenants or ()], "lo": min(previous.first, current.first),
        "hi": max(previous.last, current.last), "first_0": previous.first, "last_0": previous.last,
        "first_1": current.first, "last_1": current.last}
    counts: dict[tuple[uuid.UUID, uuid.UUID], list[ClientCounts]] = {}
    versions: dict[uuid.UUID, int] = {}
    for row in (await session.execute(text(sql), params)).all():
        if row.kind == "version":
            versions[row.tenant_id] = int(row.a_0)
            continue
        pair = counts.setdefault((row.tenant_id, row.who), [ClientCounts(), ClientCounts()])
        for i in (0, 1):
            a, b = int(getattr(row, f"a_{i}")), int(getattr(row, f"b_{i}"))
            if row.kind == "clients":
                pair[i] = ClientCounts(a, b, int(getattr(row, f"c_{i}")), pair[i].lifetime)
            elif a:
                pair[i] = ClientCounts(pair[i].active, pair[i].new, pair[i].repeat,
                                       {**pair[i].lifetime, row.currency: (a, b)})
    return {key: (pair[0], pair[1]) for key, pair in counts.items()}, versions


async def store(session: AsyncSession, zone: str, previous: DayRange, current: DayRange, figures: Figures,
                versions: dict[uuid.UUID, int], also: Iterable[tuple[uuid.UUID, uuid.UUID]] = ()) -> None:
    """Keep computed figures with the versions they were read at; `also`: (tenant, who) whose
    figures are none (no client bought in either period)."""
    rows = []
    for key in {*figures, *also}:
        tenant, who = key
        if tenant not in versions:
            continue
        for period, counts in zip((previous, current), figures.get(key, (ClientCounts(), ClientCounts())),
                                  strict=True):
            rows.append({"tenant": tenant, "zone": zone, "who": who, "first": period.first, "last": period.last,
                         "version": versions[tenant], "active": counts.active, "new": counts.new,
                         "repeat": counts.repeat,
                         "lifetime": json.dumps({c: list(v) for c, v in counts.lifetime.items()})})
    if not rows:
        return
    await session.execute(text("""
        INSERT INTO analytics_client_periods (tenant_id, zone, consultant_id, first_day, last_day, version,
                                              active, new, repeat, lifetime)
        VALUES (:tenant, :zone, :who, :first, :last, :version, :active, :new, :repeat, CAST(:lifetime AS jsonb))
        ON CONFLICT (tenant_id, zone, consultant_id, first_day, last_day) DO UPDATE SET
            version = EXCLUDED.version, active = EXCLUDED.active, new = EXCLUDED.new, repeat = EXCLUDED.repeat,
            lifetime = EXCLUDED.lifetime
        WHERE analytics_client_periods.version <= EXCLUDED.version"""), rows)


async def kept(session: AsyncSession, zone: str, previous: DayRange, current: DayRange, who: uuid.UUID,
               tenant: uuid.UUID | None) -> tuple[dict[uuid.UUID, list[ClientCounts | None]], list[uuid.UUID]]:
    """The kept figures of both periods, current versions only, per tenant in scope (every
    consultancy filled in the zone, or `tenant`); and the tenants missing either period."""
    rows = (await session.execute(text("""
        SELECT f.tenant_id, p.first_day, p.last_day, p.active, p.new, p.repeat, p.lifetime
        FROM analytics_zone_fills f
        LEFT JOIN analytics_client_periods p ON p.tenant_id = f.tenant_id AND p.zone = f.zone
            AND p.version = f.version AND p.consultant_id = :who
            AND ((p.first_day = :first_0 AND p.last_day = :last_0) OR (p.first_day = :first_1 AND p.last_day = :last_1))
        WHERE f.zone = :zone AND (CAST(:tenant AS uuid) IS NULL OR f.tenant_id = :tenant)"""),
        {"zone": zone, "who": who, "tenant": tenant, "first_0": previous.first, "last_0": previous.last,
         "first_1": current.first, "last_1": current.last})).all()
    found: dict[uuid.UUID, list[ClientCounts | None]] = {}
    for row in rows:
        pair = found.setdefault(row.tenant_id, [None, None])
        if row.first_day is None:
            continue
        counts = ClientCounts(int(row.active), int(row.new), int(row.repeat),
                              {c: (int(v[0]), int(v[1])) for c, v in row.lifetime.items()})
        if (row.first_day, row.last_day) == (previous.first, previous.last):
            pair[0] = counts
        if (row.first_day, row.last_day) == (current.first, current.last):
            pair[1] = counts
    return found, [t for t, pair in found.items() if None in pair]


async def clients(session: AsyncSession, zone: str, previous: DayRange, current: DayRange,
                  tenant: uuid.UUID | None, consultant: uuid.UUID | None) -> tuple[ClientCounts, ClientCounts]:
    """The figures of both periods for a consultancy, one of its consultants, or the platform
    (tenant None: every consultancy's together): kept ones, else computed now and kept."""
    who = consultant or EVERY_CONSULTANT
    found, missing = await kept(session, zone, previous, current, who, tenant)
    if missing:
        figures, versions = await compute(session, zone, previous, current, tenants=missing, consultant=consultant)
        await store(session, zone, previous, current, figures, versions, also=[(t, who) for t in missing])
        for t in missing:
            found[t] = list(figures.get((t, who), (ClientCounts(), ClientCounts())))
    before, now = ClientCounts(), ClientCounts()
    for pair in found.values():
        before, now = before + (pair[0] or ClientCounts()), now + (pair[1] or ClientCounts())
    return before, now


async def precompute(session: AsyncSession, zone: str, tenants: Sequence[uuid.UUID], today: date) -> int:
    """The roll-up's part: every consultancy's and consultant's figures of the current and
    previous today, week, month, quarter and year in `zone`; the figures kept."""
    kept_rows = 0
    for kind in PRECOMPUTED:
        current, previous = resolve(kind, today)
        for each in (False, True):
            figures, versions = await compute(session, zone, previous, current, tenants=tenants,
                                              each_consultant=each)
            also = [] if each else [(t, EVERY_CONSULTANT) for t in tenants]
            await store(session, zone, previous, current, figures, versions, also=also)
            kept_rows += 2 * len({*figures, *also})
    return kept_rows


async def forget(session: AsyncSession, zone: str, tenants: Sequence[uuid.UUID]) -> None:
    """A roll-up rewrote days of `tenants` in `zone`: their figures need the next version."""
    params = {"zone": zone, "tenants": [str(t) for t in tenants]}
    await session.execute(text(
        "UPDATE analytics_zone_fills SET version = version + 1 "
        "WHERE zone = :zone AND tenant_id = ANY(CAST(:tenants AS uuid[]))"), params)
    await session.execute(text(
        "DELETE FROM analytics_client_periods WHERE zone = :zone AND tenant_id = ANY(CAST(:tenants AS uuid[]))"),
        params)
