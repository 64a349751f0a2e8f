"""/remedies and /remedy-programmes over the real app, the Temporal dev server and a worker: the
catalogue, assigning (and refusing bad plans), the client's day, check-ins counted once, steering,
completion rates, and the reminder's signed link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from support import active_consultancy, assert_problem, eventually, register_client

from activities.remedies.messages import check_in_token
from core.security import Keys

ZONES = ("Asia/Kolkata", "Europe/London", "America/New_York", "Pacific/Auckland", "America/Los_Angeles")
MANTRA = {"kind": "mantra", "title": "Shani mantra, 108 times", "instructions_en": "Chant 108 times facing west.",
          "instructions_hi": "पश्चिम की ओर मुख करके 108 बार जप करें।",
          "default_schedule": {"kind": "weekdays", "times": ["06:30"], "weekdays": ["sat"]}, "price_minor": 51_000}


def _daytime_zone() -> tuple[str, str]:
    """A zone where it is day now, and a time two hours from now there (so today's occurrence is still to come)."""
    for zone in ZONES:
        local = datetime.now(UTC).astimezone(ZoneInfo(zone))
        if 7 <= local.hour <= 19:
            return zone, (local + timedelta(hours=2)).strftime("%H:%M")
    raise AssertionError("no zone in daytime")


async def test_catalogue_assign_day_check_ins_steering_and_rates(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug or "")
    other = await register_client(client, owner.tenant_slug or "")

    made = await client.post("/api/v1/remedies", headers=owner.headers(), json=MANTRA)
    assert made.status_code == 201, made.text
    remedy = made.json()
    assert remedy["default_duration_days"] == 40 and remedy["active"] is True   # a mandala unless told
    patched = await client.patch(f"/api/v1/remedies/{remedy['id']}", headers=owner.headers(),
                                 json={"default_occurrences": 7})
    assert (patched.json()["default_occurrences"], patched.json()["default_duration_days"]) == (7, None)
    seen = (await client.get("/api/v1/remedies", headers=customer.headers())).json()["items"]
    assert [r["id"] for r in seen] == [remedy["id"]]

    zone, later = _daytime_zone()
    assign = {"remedy_id": remedy["id"], "client_id": customer.user_id, "timezone": zone,
              "schedule": {"kind": "daily", "times": [later]}, "duration_days": 10, "note": "Start today."}
    # bad input: 422 naming the field, nothing made
    assert_problem(await client.post("/api/v1/remedy-programmes", headers=owner.headers(),
                                     json={**assign, "timezone": "Mars/Olympus"}), 422, "validation", "timezone")
    assert_problem(await client.post("/api/v1/remedy-programmes", headers=owner.headers(),
                                     json={**assign, "duration_days": 0}), 422, "validation", "duration_days")
    quiet = await client.patch("/api/v1/me/notification-preferences", headers=customer.headers(),
                               json={"quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert quiet.status_code == 200, quiet.text
    assert_problem(await client.post("/api/v1/remedy-programmes", headers=owner.headers(),
                                     json={**assign, "schedule": {"kind": "daily", "times": ["05:00"]}}),
                   422, "validation", "schedule.times")
    assert (await client.get("/api/v1/remedy-programmes", headers=owner.headers())).json()["items"] == []

    started = await client.post("/api/v1/remedy-programmes", headers=owner.headers(), json=assign)
    assert started.status_code == 201, started.text
    programme = started.json()
    pid = programme["id"]
    assert (programme["status"], programme["timezone"], programme["consultant_id"]) == ("active", zone, owner.user_id)

    async def planned() -> str | None:
        got = (await client.get(f"/api/v1/remedy-programmes/{pid}", headers=owner.headers())).json()
        return got["next_occurrence_key"]
    key = await eventually(planned, f"{datetime.now(UTC).astimezone(ZoneInfo(zone)).date()}T{later}")
    assert key is not None and key.endswith(later)
    due = (await client.get("/api/v1/remedy-programmes", params={"due_today": "true"},
                            headers=owner.headers())).json()["items"]
    assert [p["id"] for p in due] == [pid]

    day = (await client.get("/api/v1/remedy-programmes/today", headers=customer.headers())).json()
    assert day["timezone"] and [p["programme_id"] for p in day["programmes"]] == [pid]
    assert day["programmes"][0]["occurrences"][0]["status"] == "upcoming"
    assert_problem(await client.get("/api/v1/remedy-programmes/today", params={"client_id": customer.user_id},
                                    headers=other.headers()), 403, "forbidden", "client_id")

    first = await client.post(f"/api/v1/remedy-programmes/{pid}/check-ins", headers=customer.headers(),
                              json={"status": "done", "note": "108 done"})
    assert first.status_code == 200, first.text
    assert (first.json()["counted_now"], first.json()["programme"]["done"]) == (True, 1)
    again = await client.post(f"/api/v1/remedy-programmes/{pid}/check-ins", headers=customer.headers(),
                              json={"occurrence_key": key, "status": "skipped"})
    assert (again.json()["counted_now"], again.json()["status"], again.json()["programme"]["done"]) == (
        False, "done", 1)
    assert_problem(await client.post(f"/api/v1/remedy-programmes/{pid}/check-ins", headers=other.headers(),
                                     json={}), 404, "not-found", "programme_id")

    paused = await client.post(f"/api/v1/remedy-programmes/{pid}/pause", headers=customer.headers(),
                               json={"reason": "travelling"})
    assert paused.json()["status"] == "paused"
    assert_problem(await client.post(f"/api/v1/remedy-programmes/{pid}/pause", headers=customer.headers(),
                                     json={}), 409, "workflow-rejected")
    resumed = await client.post(f"/api/v1/remedy-programmes/{pid}/resume", headers=owner.headers(), json={})
    assert resumed.json()["status"] == "active"
    extended = await client.post(f"/api/v1/remedy-programmes/{pid}/extend", headers=owner.headers(),
                                 json={"days": 5})
    assert extended.json()["end_date"] > programme["end_date"]
    assert_problem(await client.put(f"/api/v1/remedy-programmes/{pid}/times", headers=customer.headers(),
                                    json={"times": ["23:30"]}), 422, "validation", "times")
    moved = await client.put(f"/api/v1/remedy-programmes/{pid}/times", headers=customer.headers(),
                             json={"times": ["08:15"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["next_occurrence_key"].endswith("T08:15")
    view = (await client.get(f"/api/v1/remedy-programmes/{pid}", headers=owner.headers())).json()
    assert view["workflow"]["status"] == "active" and view["check_ins"][0]["note"] == "108 done"
    assert (await client.get(f"/api/v1/remedy-programmes/{pid}", headers=customer.headers())).json()["workflow"] is None

    stopped = await client.post(f"/api/v1/remedy-programmes/{pid}/stop", headers=owner.headers(),
                                json={"reason": "prescribing another remedy"})
    assert (stopped.json()["status"], stopped.json()["next_occurrence_at"]) == ("stopped", None)
    rates = (await client.get("/api/v1/remedies/completion-rates", headers=owner.headers())).json()
    assert rates == [{"remedy_id": remedy["id"], "title": MANTRA["title"], "programmes": 1, "live": 0,
                      "completed": 0, "stopped": 1, "counted": 1, "done": 1, "skipped": 0, "missed": 0,
                      "completion_percent": 100}]
    assert_problem(await client.get("/api/v1/remedies/completion-rates", headers=customer.headers()),
                   403, "forbidden")
    assert (await client.delete(f"/api/v1/remedies/{remedy['id']}", headers=owner.headers())).status_code == 204
    retired = (await client.get(f"/api/v1/remedies/{remedy['id']}", headers=owner.headers())).json()
    assert retired["active"] is False   # used by a programme: retired, not deleted


async def test_a_reminders_signed_link_checks_in_on_its_own_occurrence(client, sessionmaker, keys: Keys):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug or "")
    remedy = (await client.post("/api/v1/remedies", headers=owner.headers(), json=MANTRA)).json()
    zone, later = _daytime_zone()
    programme = (await client.post("/api/v1/remedy-programmes", headers=owner.headers(), json={
        "remedy_id": remedy["id"], "client_id": customer.user_id, "timezone": zone, "occurrences": 3,
        "schedule": {"kind": "daily", "times": [later]}})).json()

    async def planned() -> bool:
        got = (await client.get(f"/api/v1/remedy-programmes/{programme['id']}", headers=owner.headers())).json()
        return got["next_occurrence_key"] is not None
    assert await eventually(planned, True)
    key = (await client.get(f"/api/v1/remedy-programmes/{programme['id']}", headers=owner.headers())).json()[
        "next_occurrence_key"]
    token = check_in_token(keys, programme_id=programme["id"], tenant_id=owner.tenant_id, occurrence_key=key,
                           expires_at=datetime.now(UTC) + timedelta(days=1))
    shown = await client.get(f"/api/v1/remedy-links/{token}")
    assert shown.status_code == 200, shown.text
    assert (shown.json()["occurrence_key"], shown.json()["checked"]) == (key, None)
    done = await client.post(f"/api/v1/remedy-links/{token}/check-in", json={"status": "done"})
    assert done.status_code == 200, done.text
    assert done.json()["counted_now"] is True and done.json()["programme"]["done"] == 1
    assert (await client.get(f"/api/v1/remedy-links/{token}")).json()["checked"] == "done"
    forged = check_in_token(Keys("not-our-secret-" + "z" * 40, [Fernet.generate_key().decode()]),
                            programme_id=programme["id"],
                            tenant_id=owner.tenant_id, occurrence_key=key, expires_at=datetime.now(UTC) + timedelta(1))
    assert_problem(await client.post(f"/api/v1/remedy-links/{forged}/check-in", json={}), 404, "invalid-link",
                   "link_token")
    expired = check_in_token(keys, programme_id=programme["id"], tenant_id=owner.tenant_id, occurrence_key=key,
                             expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert_problem(await client.get(f"/api/v1/remedy-links/{expired}"), 410, "link-expired", "link_token")
