"""CPU per request of each of issue 17's routes through the whole ASGI app, in this process.

`muhurta dev` supplies PostgreSQL, Redis and Temporal (as in bench/request_path.py); the app is
built here with the same settings and driven one request after another, without uvicorn or
sockets. It answers a different question from request_path.py: not how many requests per second
the layout a user runs serves, but where the app's own CPU goes. Under py-spy it gives whole
stacks, where py-spy on the running server gives torn ones (a coroutine's sample often holds only
its innermost frames):

    .venv/bin/py-spy record -r 400 -f raw -o chart.raw -- .venv/bin/python bench/route_cost_inprocess.py chart

(py-spy is on PyPI.) docs/performance.md, eleventh pass, has what it found. Beside issue 17's
routes, `signed-in` is a probe added to the app here only: a POST with the chart's request, token,
tenant and dependencies (body, tenant, session, permission) that computes nothing and answers
`{"ok": true}`, the fixed cost of a signed-in route (docs/performance.md, fifteenth pass). One request at a time
means no batching: a webhook here is a group commit and a processing batch of its own, which
under load it shares with the deliveries around it, so its figure is far above the server's.

    .venv/bin/python bench/route_cost_inprocess.py [route ...] [--requests N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _devstack import muhurta_dev
from request_path import LABELS, ROUTES, route_requests
from starlette.types import ASGIApp, Message

from api.deps import CurrentTenant, Principal, Session, require
from api.permissions import Permission
from api.schemas.astrology import ChartRequest

WARM_UP = 200
SIGNED_IN = "signed-in"
SIGNED_IN_PATH = "/api/v1/_bench/signed-in"
EXTRA_LABELS = {SIGNED_IN: "POST signed in, computing nothing"}


def asgi_request(raw: bytes, port: int) -> tuple[dict[str, Any], bytes]:
    """An ASGI scope and body from a prepared HTTP/1.1 request (bench/_loadgen.py's bytes)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    first, *lines = head.split(b"\r\n")
    method, target, _ = first.split(b" ")
    path, _, query = target.partition(b"?")
    headers = [(name.strip().lower(), value.strip()) for name, value in (line.split(b":", 1) for line in lines)]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.decode(),
             "scheme": "http", "path": path.decode(), "raw_path": path, "query_string": query, "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", port), "state": {}}
    return scope, body


async def send_one(app: ASGIApp, scope: dict[str, Any], body: bytes, statuses: dict[int, int]) -> None:
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()  # the client never hangs up
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    await app({**scope, "state": {}}, receive, send)


async def send_all(app: ASGIApp, requests: list[tuple[dict[str, Any], bytes]]) -> dict[int, int]:
    """Each request through `app`, one after the other; the statuses answered."""
    statuses: dict[int, int] = {}
    for scope, body in requests:
        await send_one(app, scope, body, statuses)
    return statuses


async def signed_in(body: ChartRequest, tenant: CurrentTenant, session: Session,
                    principal: Principal = require(Permission.USE_ASTROLOGY)) -> dict[str, bool]:
    """The `signed-in` probe: the chart route's dependencies, and no work (this bench's app only)."""
    return {"ok": True}


async def measure(port: int, settings: Any, prepared: dict[str, list[bytes]], requests: int,
                  rounds: int) -> dict[str, list[float]]:
    from api.app import create_app

    app = create_app(settings)
    if SIGNED_IN in prepared:
        app.post(SIGNED_IN_PATH)(signed_in)
    per_request: dict[str, list[float]] = {route: [] for route in prepared}
    async with app.router.lifespan_context(app):
        for route, raws in prepared.items():
            parsed = [asgi_request(raw, port) for raw in raws]
            await send_all(app, parsed[:WARM_UP])
            for number in range(rounds):
                chunk = parsed[WARM_UP + number * requests:WARM_UP + (number + 1) * requests]
                await asyncio.sleep(0.2)  # let the batch's background work (webhook processing) settle
                started = time.process_time()
                statuses = await send_all(app, chunk)
                per_request[route].append((time.process_time() - started) * 1e6 / len(chunk))
                if set(statuses) != {200}:
                    raise SystemExit(f"{route}: answers other than 200: {statuses}")
    return per_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("routes", nargs="*", default=[r for r in ROUTES if r != "health"],
                        choices=(*ROUTES, SIGNED_IN))
    parser.add_argument("--requests", type=int, default=500, help="requests per round")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    import uvloop

    with muhurta_dev() as dev:
        total = WARM_UP + args.requests * args.rounds
        wanted = tuple(route for route in args.routes if route != SIGNED_IN)
        if SIGNED_IN in args.routes and "chart" not in wanted:
            wanted += ("chart",)
        prepared = route_requests(dev, total, first=7_000_000, only=wanted)
        if SIGNED_IN in args.routes:
            prepared[SIGNED_IN] = [raw.replace(b"/api/v1/astrology/chart", SIGNED_IN_PATH.encode(), 1)
                                   for raw in prepared["chart"]]
            if "chart" not in args.routes:
                del prepared["chart"]
        results = uvloop.run(measure(dev.api_port, dev.settings(), prepared, args.requests, args.rounds))
    print(f"CPU of this process per request, {args.rounds} rounds of {args.requests} (the whole ASGI app, "
          "in-process, one request at a time; background work of a round counted in it):")
    for route, values in results.items():
        label = LABELS.get(route) or EXTRA_LABELS[route]
        print(f"  {label:44} median {statistics.median(values):7,.0f} µs   best {min(values):7,.0f} µs")


if __name__ == "__main__":
    main()
