"""Remedy reminders at scale: lateness and worker memory as running programmes grow.

The Temporal dev server as `muhurta dev` runs it (its state in an SQLite file; `--memory` for an
in-memory one), one in-process worker tuned by the settings the real worker reads
(`WORKER_MAX_CACHED_WORKFLOWS`, `WORKER_MAX_CONCURRENT_WORKFLOW_TASKS`, ... see
`workers.worker.worker_tuning`), and the real RemedyWorkflow; its activities are stubs that write
nothing, so the figures are Temporal's and the workflow's, not PostgreSQL's.

Programmes are started in steps (`--step`, default 1,000) up to N; they stay running for the
whole bench. Occurrences are compressed to one a minute: step j ends at minute mark j, where
`--burst` reminders fall due at once (a consultancy's clients who all chose 06:00), drawn evenly
from every step started so far, so old programmes the worker's cache has evicted are woken too.
Lateness = when the reminder's notify activity lets it go (after holding it, as the real one does,
until its instant when it was handed over `--lead` seconds ahead) minus its occurrence's instant; worker
memory = this process's RSS after each step. The dev server's raw timer rate (`--burst` bare
workflows asleep until one instant, the same worker) is measured first in the same run: the floor
for the reminders. `--before-patch` runs the workflow's steps from before `remedy-occurrence-v2`
(an awaited missed-occurrence activity before the reminder, queued activities for its writes).
Prints figures; asserts nothing.

    .venv/bin/python bench/remedy_reminders.py [programmes=10000] [--step 1000] [--burst 200]
        [--lead 10] [--memory] [--before-patch] [--port 21601]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.remedies.messages import hold, hold_deadline, reminder_instant
from core.embedded import EmbeddedTemporal
from core.settings import Settings
from domain.remedies.programme import (
    BEGIN,
    NOTIFY,
    RECORD_CHECK_IN,
    RECORD_MISSED,
    REMINDER_LEAD_SECONDS,
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
from workers.collector import tune_collector
from workers.registry import workflow_runner
from workers.worker import worker_tuning
from workflows.remedy import RemedyWorkflow
from workflows.search_attributes import SEARCH_ATTRIBUTES

LATENESS: dict[str, list[float]] = defaultdict(list)   # occurrence instant (ISO) -> lateness of each reminder
ACTIVITIES: dict[str, int] = defaultdict(int)
ARRIVED: dict[str, asyncio.Event] = defaultdict(asyncio.Event)   # set when a mark's reminders all came
BURST = [0]
RPC = timedelta(seconds=60)   # a busy machine's dev server can take more than the default 10 s to start one


GC_PAUSES: list[tuple[int, float]] = []   # (generation, seconds) of each collection in this process
_gc_started = [0.0]


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        GC_PAUSES.append((info["generation"], time.perf_counter() - _gc_started[0]))


def gc_figures() -> str:
    """The collector's pauses since the last call: the worker's event loop stands still in each."""
    pauses = GC_PAUSES[:]
    del GC_PAUSES[:]
    full = [d for g, d in pauses if g == 2]
    return (f"gc {len(pauses)} collections, {sum(d for _, d in pauses):.2f} s; full {len(full)}, "
            f"longest {max(full, default=0):.2f} s")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@activity.defn(name=BEGIN)
async def begin(step: Begin) -> Begun:
    ACTIVITIES[BEGIN] += 1
    assert step.inp.plan is not None
    return Begun(plan=step.inp.plan, status=ProgrammeStatus.ACTIVE)


@activity.defn(name=SAVE)
async def save(step: Save) -> bool:
    ACTIVITIES[SAVE] += 1
    return True


@activity.defn(name=RECORD_MISSED)
async def missed(step: Closed) -> bool:
    ACTIVITIES[RECORD_MISSED] += 1
    return True


@activity.defn(name=RECORD_CHECK_IN)
async def check_in(step: RecordCheckIn) -> RecordedCheckIn:
    return RecordedCheckIn(status=step.request.status, created=True)


@activity.defn(name=NOTIFY)
async def notify(notice: RemedyNotice) -> int:
    """Holds a reminder handed over ahead until its instant, as the real activity does."""
    ACTIVITIES[NOTIFY] += 1
    await hold(hold_deadline(reminder_instant(notice)))
    at = notice.variables.get("occurrence_at")
    if at:
        LATENESS[str(at)].append(time.time() - datetime.fromisoformat(str(at)).timestamp())
        if len(LATENESS[str(at)]) >= BURST[0]:
            ARRIVED[str(at)].set()
    return 1


@workflow.defn(name="BenchTimer", sandboxed=False)
class BenchTimer:
    @workflow.run
    async def run(self, at: datetime) -> None:
        await workflow.sleep(max((at - workflow.now()).total_seconds(), 0))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def figures(values: list[float]) -> str:
    return f"p50 {pct(values, 50):.2f} s, p99 {pct(values, 99):.2f} s, max {max(values, default=float('nan')):.2f} s"


async def raw_timers(client: Client, queue: str, burst: int) -> None:
    """`burst` bare workflows asleep until one instant: how fast this server fires timers."""
    target = datetime.now(UTC) + timedelta(seconds=15 + burst / 20)
    t0 = time.time()
    handles = await asyncio.gather(*(client.start_workflow(BenchTimer.run, target, id=f"timer-{i}-{queue}",
                                                           task_queue=queue, rpc_timeout=RPC) for i in range(burst)))
    started = burst / (time.time() - t0)
    await asyncio.gather(*(h.result() for h in handles))
    fired = time.time() - target.timestamp()
    print(f"raw timers: {burst} bare workflows started at {started:.0f}/s; all {burst} timers due at one instant "
          f"done within {fired:.2f} s ({burst / max(fired, 1e-3):.0f} / s)", flush=True)


def plans(args: argparse.Namespace, marks: list[datetime]) -> list[list[list[datetime]]]:
    """For each step, each of its programmes' occurrence instants: mark j's `burst` reminders drawn
    evenly from steps 1..j (old, probably evicted, programmes woken as well as new ones)."""
    steps = len(marks)
    due: list[list[list[datetime]]] = [[[] for _ in range(args.step)] for _ in range(steps)]
    cursor = [0] * steps
    for j, mark in enumerate(marks):
        for n in range(args.burst):
            b = n % (j + 1)
            for _ in range(args.step):   # the next programme of step b with room for one more time
                slot = due[b][cursor[b] % args.step]
                cursor[b] += 1
                if len(slot) < 6:
                    slot.append(mark)
                    break
    return due


def _unpatched(patch_id: str) -> bool:
    return False


async def main(args: argparse.Namespace) -> None:
    if args.before_patch:   # the steps of runs begun before remedy-occurrence-v2
        workflow.patched = _unpatched  # type: ignore[assignment]
    root = Path(tempfile.mkdtemp(prefix="remedy-bench-"))
    server = EmbeddedTemporal(root=root, port=args.port, ui_port=None, persistent=not args.memory,
                              search_attributes=SEARCH_ATTRIBUTES)
    server.start()
    BURST[0] = args.burst
    gc.callbacks.append(_gc_timer)
    settings = Settings()
    tuning = worker_tuning(settings)
    print(f"dev server: {'in memory' if args.memory else 'SQLite file (as muhurta dev)'}; worker {tuning}, "
          f"gc young threshold {settings.worker_gc_young_threshold or 'default'}"
          f"{'; steps from BEFORE the patch' if args.before_patch else ''}; reminders handed over "
          f"{args.lead} s ahead and held until their instant", flush=True)
    try:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        async with Worker(client, task_queue=queue, workflows=[RemedyWorkflow, BenchTimer],
                          activities=[begin, save, missed, check_in, notify], workflow_runner=workflow_runner(),
                          **tuning):
            tune_collector(settings.worker_gc_young_threshold)  # as the worker does once it has started
            await raw_timers(client, queue, args.burst)
            if args.timers_only:
                return
            steps = max(args.programmes // args.step, 1)
            first = (datetime.now(UTC) + timedelta(seconds=args.period + 30)).replace(second=0, microsecond=0)
            marks = [first + timedelta(seconds=args.period * j) for j in range(steps)]
            if marks[-1].date() != marks[0].date():
                raise SystemExit("the bench would cross midnight UTC: run it later")
            due = plans(args, marks)
            print(f"programmes: {steps} steps of {args.step}; at each step's mark (every {args.period} s) "
                  f"{args.burst} reminders fall due at once", flush=True)
            running, t_all = 0, time.time()
            for j, mark in enumerate(marks):
                t0 = time.time()
                for chunk in range(0, args.step, 50):
                    await asyncio.gather(*(client.start_workflow(RemedyWorkflow.run, RemedyInput(
                        programme_id=(pid := uuid.uuid4()), tenant_id=uuid.uuid4(), client_id=uuid.uuid4(),
                        nudge_after_missed=30, reminder_lead_seconds=args.lead, plan=Plan(
                            schedule=Schedule(times=sorted({t.time() for t in due[j][i]}) or [mark.time()]),
                            timezone="UTC", start_date=mark.date() + timedelta(days=0 if due[j][i] else 1),
                            duration_days=1)), id=remedy_workflow_id(pid), task_queue=queue, rpc_timeout=RPC)
                        for i in range(chunk, min(chunk + 50, args.step))))
                running += args.step
                started_in = time.time() - t0
                late_start = datetime.now(UTC) > mark
                wait = (mark + timedelta(seconds=args.period - 10) - datetime.now(UTC)).total_seconds()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ARRIVED[mark.isoformat()].wait(), max(wait, 1))
                got = LATENESS[mark.isoformat()]
                print(f"  {running:>6} running (step started in {started_in:.0f} s"
                      f"{', PAST its mark' if late_start else ''}): reminders {len(got)} of {args.burst}, "
                      f"lateness {figures(got)}; worker RSS {rss_mb():.0f} MB; {gc_figures()}",
                      flush=True)
            every = [v for values in LATENESS.values() for v in values]
            print(f"all marks: {len(every)} reminders, lateness {figures(every)}; {running} programmes in "
                  f"{time.time() - t_all:.0f} s; worker RSS {rss_mb():.0f} MB", flush=True)
            print(f"activities run: {dict(ACTIVITIES)} (local and queued)", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("programmes", type=int, nargs="?", default=10_000)
    parser.add_argument("--step", type=int, default=1000, help="programmes started per step")
    parser.add_argument("--burst", type=int, default=200, help="reminders due at one instant at each step's mark")
    parser.add_argument("--period", type=int, default=120, help="seconds between marks (a multiple of 60)")
    parser.add_argument("--lead", type=int, default=REMINDER_LEAD_SECONDS,
                        help="seconds an occurrence comes before its instant (0: at its instant, as before)")
    parser.add_argument("--memory", action="store_true", help="an in-memory dev server, not an SQLite file")
    parser.add_argument("--before-patch", action="store_true", help="the workflow's steps before remedy-occurrence-v2")
    parser.add_argument("--timers-only", action="store_true", help="only the raw timer rate")
    parser.add_argument("--port", type=int, default=21601)
    asyncio.run(main(parser.parse_args()))
