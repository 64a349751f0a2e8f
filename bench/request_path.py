"""The request path at the speed of the machine: requests/s through `muhurta dev`'s own processes,
each route beside a bare FastAPI app measured in the same run.

Starts `muhurta dev` (throwaway data folder, free ports; its API and worker processes exactly as
`make dev` runs them) and a bare FastAPI app (one GET returning a dict, same uvicorn settings),
then drives both with bench/_loadgen.py (keep-alive HTTP/1.1, 32 connections over one process
per core). Short rounds alternate between the bare app and the route, so that a burst of load
from other processes hits both alike; the best round of each is kept and the ratio printed.

Routes: `GET /health` (a probe, answered in front of the middleware: api/liveness.py); the same
from a browser (with `Origin`), which goes through every layer: the stack's fixed cost on a
route that does nothing, printed without a target; `POST /api/v1/webhooks/razorpay` signed, each
a new event naming no order (verified, stored once, acted on after the answer);
`POST /api/v1/astrology/chart` (signed-in consultant);
`GET /api/v1/public/{slug}/consultants/{c}/offerings/{o}/slots?days=60`, the same listing again
and again as a page's visitors ask for it (after the first, shown from the API process's copy:
api/slot_listings.py); and the same route asked each time for a listing the process does not
keep (a zone and first day it has not listed lately: read from the database and computed, as
the first view after a booking is), printed without a target.
Twice: with `make dev`'s defaults, then with API_WORKERS = cores (the production layout).

Each layout also measures the *ceiling* of each targeted route: bench/_ceiling_app.py does the
route's own work alone (the chart computed and encoded with the API's schemas, the webhook's
signature checked, the 60-day listing's arithmetic and document) in a bare FastAPI app, beside
that app's own `GET /health`. No API layer on FastAPI can make a route cheaper than its own work,
so a target above its ceiling is out of reach on this machine whatever the stack does.

Targets (issue 17): health >= 85 %, webhooks >= 30 %, chart >= 25 %, slots >= 15 % of the bare app.

    .venv/bin/python bench/request_path.py [seconds per round] [rounds]
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _devstack import Bare, Dev, bare_app, cpu_by_part, muhurta_dev
from _loadgen import Result, http_request, repeat, run_load

from core.razorpay import platform_credentials, sign

CONNECTIONS = 32
TARGETS = {"health": 0.85, "webhook": 0.30, "chart": 0.25, "slots": 0.15}
ROUTES = ("health", "stack", "webhook", "chart", "slots", "slots-new")
LABELS = {"health": "GET /health", "stack": "GET /health with Origin (every layer)",
          "webhook": "POST /webhooks/razorpay (signed, new event)",
          "chart": "POST /astrology/chart", "slots": "GET …/slots?days=60",
          "slots-new": "GET …/slots?days=60, each a listing not kept"}


CHART = json.dumps({"birth": {"date": "1990-05-17", "time": "14:25", "latitude": 28.6139, "longitude": 77.209,
                              "timezone": "Asia/Kolkata"}}).encode()


def signed_webhook(path: str, host: str, secret: str, number: int) -> bytes:
    """A signed `payment.captured` delivery, a new event for each `number`, naming no order."""
    body = json.dumps({
        "entity": "event", "account_id": "acc_bench", "event": "payment.captured", "contains": ["payment"],
        "payload": {"payment": {"entity": {
            "id": f"pay_bench{number:09d}", "entity": "payment", "amount": 49_900, "currency": "INR",
            "status": "captured", "order_id": f"order_bench{number:09d}", "method": "upi", "captured": True}}},
        "created_at": int(time.time())}, separators=(",", ":")).encode()
    return http_request("POST", path, host, {
        "Content-Type": "application/json", "X-Razorpay-Signature": sign(secret, body),
        "X-Razorpay-Event-Id": f"evt_bench_{number:09d}"}, body)


async def _demo_ids(dev: Dev) -> dict[str, Any]:
    from sqlalchemy import select

    from core.db import TenantScope, make_engine, make_sessionmaker, scoped_session
    from models.bookings import Consultant, Offering
    from models.identity import User
    from models.tenancy import Tenant

    settings = dev.settings()
    engine = make_engine(settings.database_url, 1)
    try:
        async with scoped_session(make_sessionmaker(engine), TenantScope.system()) as session:
            tenant = (await session.execute(select(Tenant).where(Tenant.slug == "demo"))).scalar_one()
            user = (await session.execute(select(User).where(User.email == "astro@demo.example.com"))).scalar_one()
            consultant = (await session.execute(select(Consultant).where(Consultant.user_id == user.id))).scalar_one()
            offering = (await session.execute(select(Offering).where(
                Offering.consultant_id == consultant.id, Offering.price_minor == 0))).scalars().first()
            assert offering is not None
            return {"tenant": tenant.id, "user": user.id, "role": user.role.value, "consultant": consultant.slug,
                    "offering": offering.id}
    finally:
        await engine.dispose()


def new_listings(path: str, host: str, n: int) -> list[bytes]:
    """`n` slot listings, none of which the API process keeps when it is asked: two halves (one
    per generator process) over disjoint sets of zones, each set cycled, each holding more
    listings than api/slot_listings.py keeps (so each is dropped before it is asked again)."""
    from zoneinfo import available_timezones

    from api.slot_listings import MAX_ENTRIES

    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    today = datetime.now(UTC).date()
    first_days = [today + timedelta(days=offset) for offset in range(14)]
    per_half = -(-MAX_ENTRIES // len(first_days)) + 1  # zones per half
    assert 2 * per_half <= len(zones), "not enough zones for two disjoint sets"
    halves = []
    for half in (zones[:per_half], zones[per_half:2 * per_half]):
        keys = [f"{path}&timezone={zone}&start={day.isoformat()}" for zone in half for day in first_days]
        halves.append([http_request("GET", keys[i % len(keys)], host) for i in range(n // 2)])
    return halves[0] + halves[1]


def route_requests(dev: Dev, n: int, first: int, only: tuple[str, ...] = ROUTES) -> dict[str, list[bytes]]:
    """Prepared requests per route; webhooks are each a new event (a fresh id and signature)."""
    from core.security import Keys

    settings = dev.settings()
    ids = asyncio.run(_demo_ids(dev))
    host = f"127.0.0.1:{dev.api_port}"
    token, _ = Keys.from_settings(settings).issue_access_token(
        user_id=ids["user"], tenant_id=ids["tenant"], role=ids["role"], session_id=uuid.uuid4(), mfa=False,
        ttl=timedelta(hours=2))
    secret = platform_credentials(settings).webhook_secret
    webhooks = [signed_webhook("/api/v1/webhooks/razorpay", host, secret, i)
                for i in range(first, first + n if "webhook" in only else first)]
    slots = (f"/api/v1/public/demo/consultants/{ids['consultant']}/offerings/{ids['offering']}/slots"
             f"?days=60&timezone=Asia/Kolkata")
    prepared = {
        "health": repeat(http_request("GET", "/health", host), n),
        "stack": repeat(http_request("GET", "/health", host, {"Origin": "http://localhost:5173"}), n),
        "webhook": webhooks,
        "chart": repeat(http_request("POST", "/api/v1/astrology/chart", host, {
            "Content-Type": "application/json", "Authorization": f"Bearer {token}", "X-Tenant": "demo"}, CHART), n),
        "slots": repeat(http_request("GET", slots, host), n),
        "slots-new": new_listings(slots.split("&", 1)[0], host, n) if "slots-new" in only else [],
    }
    return {route: prepared[route] for route in only}


PARTS = {"api": "workers.cli api", "postgres": "postgres", "redis": "redis-server"}


@dataclass
class Round:
    """One route's round and the bare app's round beside it, with the CPU each side used."""

    bare: Result
    got: Result
    bare_cpu_ms: float  # the bare app's CPU per request
    cpu_ms: dict[str, float]  # the dev stack's CPU per request, by part (api, postgres, redis, other)

    @property
    def ratio(self) -> float:
        return self.got.rate / self.bare.rate

    @property
    def cpu_ratio(self) -> float:
        """The bare app's CPU per request over the route's (every process of the stack): the
        ratio the two would reach at full rate on a machine of their own."""
        return self.bare_cpu_ms / sum(self.cpu_ms.values())


def _cpu_ms(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    return {part: (after[part] - before[part]) * 1000 / max(1, requests) for part in after}


def measure(dev: Dev, bare: Bare, seconds: float, rounds: int, label: str) -> dict[str, Round]:
    """Best round of the bare app and of each route, rounds alternating."""
    best: dict[str, Round] = {}
    per_round = 60_000  # more than any route answers in a round
    bare_requests = repeat(http_request("GET", "/health", f"127.0.0.1:{bare.port}"), per_round)
    for number in range(rounds):
        prepared = route_requests(dev, per_round, first=(number + 1) * 1_000_000)
        for route, requests in prepared.items():
            before = cpu_by_part(bare.pid, {})
            bare_result = run_load(bare.port, bare_requests, seconds=seconds, connections=CONNECTIONS)
            bare_cpu = _cpu_ms(before, cpu_by_part(bare.pid, {}), bare_result.requests)["other"]
            before = cpu_by_part(dev.process.pid, PARTS)
            got = run_load(dev.api_port, requests, seconds=seconds, connections=CONNECTIONS)
            cpu = _cpu_ms(before, cpu_by_part(dev.process.pid, PARTS), got.requests)
            wrong = {status: count for status, count in got.statuses.items() if status != 200}
            if wrong:
                raise SystemExit(f"{label} {route}: answers other than 200: {wrong}")
            measured = Round(bare_result, got, bare_cpu, cpu)
            previous = best.get(route)
            if previous is None or measured.ratio > previous.ratio:
                best[route] = measured
    return best


CEILING_ROUTES = ("webhook", "chart", "slots")


def ceiling_requests(port: int, n: int, first: int) -> dict[str, list[bytes]]:
    """The ceiling app's requests: the same bodies as the product's routes (webhooks signed with
    the ceiling app's own secret, each a new event)."""
    from _ceiling_app import WEBHOOK_SECRET

    host = f"127.0.0.1:{port}"
    return {
        "webhook": [signed_webhook("/webhook", host, WEBHOOK_SECRET, i) for i in range(first, first + n)],
        "chart": repeat(http_request("POST", "/chart", host, {"Content-Type": "application/json"}, CHART), n),
        "slots": repeat(http_request("GET", "/slots?days=60&timezone=Asia/Kolkata", host), n),
    }


def measure_ceiling(workers: int, seconds: float, rounds: int) -> dict[str, float]:
    """Best ratio of each route's own work (bench/_ceiling_app.py) to the same app's GET /health,
    rounds alternating."""
    best: dict[str, float] = {}
    with bare_app(workers, module="_ceiling_app") as app:
        health = repeat(http_request("GET", "/health", f"127.0.0.1:{app.port}"), 60_000)
        for number in range(rounds):
            for route, requests in ceiling_requests(app.port, 20_000, (number + 1) * 1_000_000).items():
                bare_result = run_load(app.port, health, seconds=seconds, connections=CONNECTIONS)
                got = run_load(app.port, requests, seconds=seconds, connections=CONNECTIONS)
                if set(got.statuses) != {200}:
                    raise SystemExit(f"ceiling {route}: answers other than 200: {got.statuses}")
                best[route] = max(best.get(route, 0.0), got.rate / bare_result.rate)
    return best


def report_ceiling(best: dict[str, float]) -> None:
    print("  each route's own work alone (bench/_ceiling_app.py), beside that app's GET /health: the most any "
          "layer on FastAPI could reach")
    for route, ratio in best.items():
        target = TARGETS[route]
        verdict = "the target is within it" if ratio >= target else "the target is ABOVE the ceiling"
        print(f"    {LABELS[route]:44} ceiling {ratio:6.1%}  target {target:.0%}: {verdict}")


def wrk_rate(port: int, seconds: float) -> float | None:
    """wrk's rate on the bare app, when wrk is installed: the check that the generator is not the limit."""
    import re
    import subprocess

    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(2, int(seconds))}s",
                          f"http://127.0.0.1:{port}/health"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(found.group(1)) if found else None


def report(label: str, best: dict[str, Round]) -> None:
    print(f"\n{label}")
    print(f"  {'route':44} {'req/s':>7} {'bare':>7} {'ratio':>6} {'target':>6}  {'p50/p99 ms':>13}  "
          f"{'CPU ms per request: API + PG + rest':>35} {'bare':>5} {'CPU ratio':>9}")
    for route, r in best.items():
        target = TARGETS.get(route)
        wanted = "" if target is None else f"{target:.0%}"
        mark = "" if target is None else "ok" if r.ratio >= target else "BELOW"
        rest = r.cpu_ms["redis"] + r.cpu_ms["other"]
        cpu = f"{r.cpu_ms['api']:.2f} + {r.cpu_ms['postgres']:.2f} + {rest:.2f}"
        print(f"  {LABELS[route]:44} {r.got.rate:7,.0f} {r.bare.rate:7,.0f} {r.ratio:6.1%} {wanted:>6}  "
              f"{r.got.percentile(0.5):6.1f}/{r.got.percentile(0.99):6.1f}  {cpu:>35} {r.bare_cpu_ms:5.2f} "
              f"{r.cpu_ratio:9.1%}  {mark}")


def check_generator(bare: Bare, seconds: float) -> None:
    """The generator is not the limit when it drives the bare app while mostly waiting for it:
    its processes' busy share beside the bare app's CPU use (and wrk's rate, when installed)."""
    requests = repeat(http_request("GET", "/health", "x"), 200_000)
    for processes in (1, os.cpu_count() or 1):
        before = cpu_by_part(bare.pid, {})
        got = run_load(bare.port, requests, seconds=seconds, connections=CONNECTIONS, processes=processes)
        used = cpu_by_part(bare.pid, {})["other"] - before["other"]
        print(f"  load generator, {processes} process(es): bare app {got.rate:,.0f}/s; generator on the CPU "
              f"{got.generator_busy:.0%} of its time, the bare app {used / got.seconds:.0%} of a core")
    wrk = wrk_rate(bare.port, seconds)
    print(f"  wrk on the same app: {wrk:,.0f}/s" if wrk else "  (wrk not installed: no cross-check with it)")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    cores = os.cpu_count() or 1
    print(f"{cores} cores, load average {os.getloadavg()[0]:.2f} at start; {rounds} rounds of {seconds:.0f} s per "
          f"route, {CONNECTIONS} connections; best round of each kept. The machine is shared: absolute figures "
          f"move with the neighbours' load, the ratios much less.")
    layouts = [("make dev defaults (API_WORKERS=1)", 1, None), (f"API_WORKERS={cores} (one per core)", cores, cores)]
    for label, bare_workers, api_workers in layouts:
        with bare_app(bare_workers) as bare, muhurta_dev(api_workers=api_workers) as dev:
            check_generator(bare, seconds)
            report(f"{label}, load average {os.getloadavg()[0]:.2f}", measure(dev, bare, seconds, rounds, label))
        report_ceiling(measure_ceiling(bare_workers, seconds, rounds))


if __name__ == "__main__":
    main()
