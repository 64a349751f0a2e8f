"""Remedy reminders through the layout a user runs: `muhurta dev`'s own worker, PostgreSQL and
channels, 200 clients whose reminder is due at the same instant.

`bench/remedy_reminders.py` measures Temporal and the workflow with stub activities, up to 10,000
programmes. This one measures what it leaves out: the real notify activity (the programme, the
client and the remedy loaded, the check-in link signed, each channel's delivery row written and
rendered, then handed to the channel: email to the local outbox, in-app to the inbox). Lateness is
each channel's `sent_at` in the delivery log minus the occurrence's instant.

Starts `muhurta dev` (throwaway data folder, free ports), adds N clients to the demo consultancy
and two marks a minute apart: at the first, N programmes with the lead every starter sets
(`REMINDER_LEAD_SECONDS`: handed over ahead, held until the instant); at the second, N with no
lead (the occurrence at its instant, as before the lead). Prints lateness per mark and channel
and the CPU each part of the stack used in the minute around the mark. Asserts nothing.

    .venv/bin/python bench/remedy_reminders_dev.py [clients=200]
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _devstack import Dev, cpu_by_part, muhurta_dev

PARTS = {"api": "workers.cli api", "worker": "workers.cli worker", "temporal": "temporal", "postgres": "postgres"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def setup(dev: Dev, clients: int) -> dict[str, object]:
    from sqlalchemy import select

    from core.db import TenantScope, make_engine, make_sessionmaker, scoped_session
    from models.identity import Role, User, first_owner_id
    from models.remedies import Remedy
    from models.tenancy import Tenant

    engine = make_engine(dev.settings().database_url, 1)
    try:
        async with scoped_session(make_sessionmaker(engine), TenantScope.system()) as session:
            tenant = (await session.execute(select(Tenant).where(Tenant.slug == "demo"))).scalar_one()
            owner = await first_owner_id(session, tenant.id)
            remedy = (await session.execute(select(Remedy).where(Remedy.tenant_id == tenant.id)
                                            .order_by(Remedy.title).limit(1))).scalar_one()
            people = [User(tenant_id=tenant.id, email=f"seeker{i}@demo.example.com", full_name=f"Seeker {i}",
                           role=Role.CLIENT, timezone="UTC") for i in range(2 * clients)]
            session.add_all(people)
            await session.flush()
            return {"tenant": tenant.id, "consultant": owner, "remedy": remedy.id, "title": remedy.title,
                    "clients": [p.id for p in people]}
    finally:
        await engine.dispose()


async def assign(dev: Dev, ids: dict[str, object], clients: list[uuid.UUID], mark: datetime, lead: int) -> None:
    """What the API does when a consultant assigns a remedy: the row, then the workflow."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from core.db import TenantScope, make_engine, make_sessionmaker, scoped_session
    from domain.remedies.programme import REMEDY_WORKFLOW, RemedyInput, remedy_workflow_id
    from domain.remedies.schedule import Plan, Schedule
    from models.remedies import RemedyProgramme

    settings = dev.settings()
    plan = Plan(schedule=Schedule(times=[mark.time()]), timezone="UTC", start_date=mark.date(), duration_days=1)
    tenant = ids["tenant"]
    assert isinstance(tenant, uuid.UUID)
    programmes = {client: uuid.uuid4() for client in clients}
    engine = make_engine(settings.database_url, 1)
    try:
        async with scoped_session(make_sessionmaker(engine), TenantScope.of(tenant)) as session:
            session.add_all([RemedyProgramme(
                id=pid, tenant_id=tenant, remedy_id=ids["remedy"], client_id=client, consultant_id=ids["consultant"],
                source="direct", title=str(ids["title"]), status="active", plan=plan.model_dump(mode="json"),
                timezone="UTC", start_date=plan.start_date, end_date=plan.end_date,
                workflow_id=remedy_workflow_id(pid), counted=0, done=0, skipped=0, missed=0, streak=0,
                best_streak=0) for client, pid in programmes.items()])
    finally:
        await engine.dispose()
    temporal = await Client.connect(settings.temporal_address, data_converter=pydantic_data_converter)
    for chunk in range(0, len(clients), 50):
        await asyncio.gather(*(temporal.start_workflow(
            REMEDY_WORKFLOW, RemedyInput(programme_id=programmes[c], tenant_id=tenant, client_id=c,
                                         consultant_id=ids["consultant"], plan=plan, reminder_lead_seconds=lead),
            id=remedy_workflow_id(programmes[c]), task_queue=settings.temporal_task_queue)
            for c in clients[chunk:chunk + 50]))


async def lateness(dev: Dev, mark: datetime, expected: int) -> dict[str, list[float]]:
    """Seconds from the mark to each reminder's hand-over, per channel, once all have gone."""
    from sqlalchemy import select

    from core.db import TenantScope, make_engine, make_sessionmaker, scoped_session
    from models.notifications import NotificationDelivery

    engine = make_engine(dev.settings().database_url, 1)
    deadline = time.monotonic() + 120
    key = f"%:reminder:{mark.date().isoformat()}T{mark.strftime('%H:%M')}"
    try:
        while True:
            async with scoped_session(make_sessionmaker(engine), TenantScope.system()) as session:
                rows = (await session.execute(select(NotificationDelivery.channel, NotificationDelivery.sent_at).where(
                    NotificationDelivery.request_key.like(key)))).all()
            sent = [(channel, at) for channel, at in rows if at is not None]
            if len(sent) >= expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        await engine.dispose()
    by_channel: dict[str, list[float]] = {}
    for channel, at in sent:
        by_channel.setdefault(channel, []).append((at - mark).total_seconds())
    return by_channel


def main() -> None:
    from domain.remedies.programme import REMINDER_LEAD_SECONDS

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with muhurta_dev() as dev:
        ids = asyncio.run(setup(dev, n))
        clients = ids["clients"]
        assert isinstance(clients, list)
        now = datetime.now(UTC)
        # far enough ahead that the worker has sent every programme's "assigned" message (about
        # 45 ms of its CPU each) before the first mark: the burst is measured on an idle stack
        first = (now + timedelta(seconds=100 + 0.25 * 2 * n)).replace(second=0, microsecond=0)
        marks = [(first, REMINDER_LEAD_SECONDS, clients[:n]), (first + timedelta(minutes=1), 0, clients[n:])]
        if marks[-1][0].date() != now.date():
            raise SystemExit("the bench would cross midnight UTC: run it later")
        t0 = time.monotonic()
        for mark, lead, group in marks:
            asyncio.run(assign(dev, ids, group, mark, lead))
        print(f"muhurta dev: {2 * n} programmes started in {time.monotonic() - t0:.0f} s; {n} reminders due at "
              f"{first:%H:%M:%S} (lead {REMINDER_LEAD_SECONDS} s), {n} at {marks[1][0]:%H:%M:%S} (no lead), UTC",
              flush=True)
        for mark, lead, _ in marks:
            wait = (mark - timedelta(seconds=20) - datetime.now(UTC)).total_seconds()
            if wait > 0:
                time.sleep(wait)   # a bench waits for the real instant; figures only, no test
            before = cpu_by_part(dev.process.pid, PARTS)
            found = asyncio.run(lateness(dev, mark, 2 * n))
            used = {part: cpu_by_part(dev.process.pid, PARTS)[part] - before[part] for part in PARTS}
            every = [v for values in found.values() for v in values]
            print(f"lead {lead:>2} s: {len(every)} hand-overs (email + in-app for {n} clients): "
                  f"p50 {pct(every, 50):.2f} s, p99 {pct(every, 99):.2f} s, "
                  f"max {max(every, default=float('nan')):.2f} s; "
                  + "; ".join(f"{channel} p99 {pct(values, 99):.2f} s" for channel, values in sorted(found.items()))
                  + "; CPU from 20 s before the mark to the last: "
                  + ", ".join(f"{part} {seconds:.1f} s" for part, seconds in used.items()), flush=True)


if __name__ == "__main__":
    main()
