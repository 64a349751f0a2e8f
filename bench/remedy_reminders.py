"""Remedy reminders at scale: lateness and worker memory as running programmes grow.

Starts the embedded Temporal dev server, one in-process worker with a bounded workflow cache
(`--cache`), and N RemedyWorkflow programmes (the real workflow; its activities are stubs that
write nothing, so the figures are Temporal's and the workflow's, not PostgreSQL's). Occurrences
are compressed to minutes: every programme has the next K whole minutes (UTC) as its daily times
for one day, so each minute mark fires N reminders at once (the hardest case: a consultancy's
clients all at 06:00). Lateness = when the reminder's notify activity started minus the
occurrence's instant. Worker memory (this process's RSS) is sampled as programmes are started,
in ten steps. The dev server's raw timer rate (N bare workflows sleeping to one instant) is
measured in the same run for comparison. Prints figures; asserts nothing.

    .venv/bin/python bench/remedy_reminders.py [programmes=1000] [occurrences K=3] [--cache 2000]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from core.embedded import EmbeddedTemporal, free_port
from domain.remedies.programme import (
    BEGIN,
    NOTIFY,
    RECORD_CHECK_IN,
    RECORD_MISSED,
    SAVE,
    Begin,
    Begun,
    Closed,
    ProgrammeStatus,
    RecordCheckIn,
    RecordedCheckIn,
    RemedyInput,
    RemedyNotice,
    Save,
    remedy_workflow_id,
)
from domain.remedies.schedule import Plan, Schedule
from workers.registry import workflow_runner
from workflows.remedy import RemedyWorkflow
from workflows.search_attributes import SEARCH_ATTRIBUTES

LATENESS: list[float] = []


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@activity.defn(name=BEGIN)
async def begin(step: Begin) -> Begun:
    assert step.inp.plan is not None
    return Begun(plan=step.inp.plan, status=ProgrammeStatus.ACTIVE)


@activity.defn(name=SAVE)
async def save(step: Save) -> bool:
    return True


@activity.defn(name=RECORD_MISSED)
async def missed(step: Closed) -> bool:
    return True


@activity.defn(name=RECORD_CHECK_IN)
async def check_in(step: RecordCheckIn) -> RecordedCheckIn:
    return RecordedCheckIn(status=step.request.status, created=True)


@activity.defn(name=NOTIFY)
async def notify(notice: RemedyNotice) -> int:
    at = notice.variables.get("occurrence_at")
    if at:
        LATENESS.append(time.time() - datetime.fromisoformat(str(at)).timestamp())
    return 1


@workflow.defn(name="BenchTimer", sandboxed=False)
class BenchTimer:
    @workflow.run
    async def run(self, at: datetime) -> None:
        await workflow.sleep(max((at - workflow.now()).total_seconds(), 0))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def main(programmes: int, k: int, cache: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="remedy-bench-"))
    server = EmbeddedTemporal(root=root, port=free_port(), ui_port=None, persistent=False,
                              search_attributes=SEARCH_ATTRIBUTES)
    server.start()
    try:
        client = await Client.connect(f"127.0.0.1:{server.port}", data_converter=pydantic_data_converter)
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        async with Worker(client, task_queue=queue, workflows=[RemedyWorkflow, BenchTimer],
                          activities=[begin, save, missed, check_in, notify], workflow_runner=workflow_runner(),
                          max_cached_workflows=cache, max_concurrent_activities=500):
            # 1. the raw timer rate: N bare workflows asleep until one instant
            target = datetime.now(UTC) + timedelta(seconds=20 + programmes / 200)
            t0 = time.time()
            handles = [await client.start_workflow(BenchTimer.run, target, id=f"timer-{i}-{queue}", task_queue=queue)
                       for i in range(programmes)]
            started_rate = programmes / (time.time() - t0)
            await asyncio.gather(*(h.result() for h in handles))
            fired = time.time() - target.timestamp()
            print(f"raw timers: {programmes} workflows started at {started_rate:.0f}/s; all {programmes} timers "
                  f"fired within {fired:.2f} s of their instant ({programmes / max(fired, 1e-3):.0f} timers/s)")

            # 2. programmes: started in ten steps, memory sampled after each
            begin_at = datetime.now(UTC) + timedelta(seconds=60 + programmes / 100)
            first = (begin_at + timedelta(minutes=1)).replace(second=0, microsecond=0)
            times = [(first + timedelta(minutes=i)).time() for i in range(k)]
            plan = Plan(schedule=Schedule(times=times), timezone="UTC", start_date=first.date(), duration_days=1)
            step = max(programmes // 10, 1)
            print(f"programmes: {programmes}, occurrences at {', '.join(t.strftime('%H:%M') for t in times)} UTC, "
                  f"worker cache {cache}")
            for done in range(0, programmes, step):
                await asyncio.gather(*(client.start_workflow(RemedyWorkflow.run, RemedyInput(
                    programme_id=(pid := uuid.uuid4()), tenant_id=uuid.uuid4(), client_id=uuid.uuid4(), plan=plan,
                    nudge_after_missed=30), id=remedy_workflow_id(pid), task_queue=queue)
                    for _ in range(min(step, programmes - done))))
                print(f"  {min(done + step, programmes):>6} running: worker RSS {rss_mb():.0f} MB")
            if datetime.now(UTC) > first:
                print("  (starting took past the first occurrence: its lateness includes the start backlog)")
            last = datetime.combine(first.date(), times[-1], tzinfo=UTC)
            while len(LATENESS) < programmes * k and datetime.now(UTC) < last + timedelta(minutes=2):
                await asyncio.sleep(1)
                if int(time.time()) % 15 == 0:
                    print(f"  {len(LATENESS)} reminders so far, worker RSS {rss_mb():.0f} MB")
            print(f"reminders: {len(LATENESS)} of {programmes * k}; lateness p50 {pct(LATENESS, 50):.3f} s, "
                  f"p99 {pct(LATENESS, 99):.3f} s, max {max(LATENESS, default=float('nan')):.3f} s; "
                  f"worker RSS at the end {rss_mb():.0f} MB")
            if LATENESS:
                print(f"  mean {statistics.mean(LATENESS):.3f} s")
    finally:
        if server.server is not None:
            server.server.stop()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    cache_size = int(sys.argv[sys.argv.index("--cache") + 1]) if "--cache" in sys.argv else 2000
    if "--cache" in sys.argv:
        args.remove(str(cache_size))
    asyncio.run(main(int(args[0]) if args else 1000, int(args[1]) if len(args) > 1 else 3, cache_size))
