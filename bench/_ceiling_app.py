"""The ceiling of bench/request_path.py: each measured route's own work, and nothing else, in a
bare FastAPI app served like the yardstick (bench/_bare_app.py).

No middleware, no tenant, no principal, no rate limit, no database, no log line, no span, no
metric: the chart is parsed with the API's own request schema, computed by the engine and
encoded with its own response schema (texts left empty); the webhook's signature is checked
and its body parsed; the 60-day slot listing is the demo consultant's hours and the free
offering's rules held in memory, listed by the same arithmetic and written as the same document.
Beside this app's own `GET /health`, each route's rate is the most any API layer on FastAPI
could reach for it on this machine: what the product adds on top is the rest of the gap.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import FastAPI, Header, Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.routers.astrology import _aware
from api.schemas.astrology import ChartOut, ChartRequest
from api.services.astrology import birth_data, chart_keys, running_at
from api.services.slot_listing import _slot_json
from core.razorpay import signature_matches
from domain.astrology import compute_chart
from domain.bookings.slots import Availability, Busy, SlotRules, day_range, free_slot_starts, zone
from models.bookings import weekly_windows
from workers.seed import WORKING_HOURS

WEBHOOK_SECRET = "bench-ceiling-secret"
AVAILABILITY = Availability("Asia/Kolkata", weekly_windows(WORKING_HOURS))
FREE_CALL = SlotRules(duration=timedelta(minutes=20), step=timedelta(minutes=30), buffer_after=timedelta(minutes=15),
                      min_notice=timedelta(minutes=240), horizon=timedelta(days=60), max_per_day=3)

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/chart", response_model=ChartOut)
async def chart(body: ChartRequest) -> ChartOut:
    at = _aware(body.at)
    computed = compute_chart(birth_data(body.birth), body.settings.to_engine())
    running = running_at(computed, at)
    return ChartOut(chart=computed, running_dasha=running, keys=chart_keys(computed, running), texts={})


@app.post("/webhook")
async def webhook(request: Request, signature: Annotated[str, Header(alias="X-Razorpay-Signature")]) -> Response:
    body = await request.body()
    if not signature_matches(WEBHOOK_SECRET, body, signature):
        return Response(status_code=400)
    orjson.loads(body)
    return Response(b'{"status":"received"}', media_type="application/json")


@app.get("/slots")
async def slots(days: int = 60, timezone: str = "Asia/Kolkata") -> Response:
    tz = zone(timezone)
    now = datetime.now(UTC)
    first_day = now.astimezone(tz).date()
    start, end = day_range(first_day, days, timezone)
    out = [_slot_json(at, tz) for at in free_slot_starts(AVAILABILITY, FREE_CALL, busy=Busy(), now=now,
                                                         start=start, end=end)]
    document = {"offering_id": "00000000-0000-0000-0000-000000000000", "duration_minutes": 20, "timezone": timezone,
                "consultant_timezone": "Asia/Kolkata", "start": first_day.isoformat(), "days": days, "slots": out}
    return Response(orjson.dumps(document), media_type="application/json")
