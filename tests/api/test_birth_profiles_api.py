"""Birth profiles: ownership, summary, computations for a stored profile, texts, rules,
suggestions and the chart report PDF."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update
from support import active_consultancy, assert_problem, register_client

from core.db import TenantScope, scoped_session
from domain.astrology import BirthData, compute_chart
from domain.astrology.drawing import placements
from domain.astrology.zodiac import Body
from domain.numerology import lo_shu_grid
from models.astrology import BirthProfile
from models.payments import Order

DELHI = {"latitude": 28.6139, "longitude": 77.2090, "timezone": "Asia/Kolkata"}
BIRTH = {"date": "1990-05-17", "time": "14:25", **DELHI}


async def _setup(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    return owner, customer


async def _profile(client, account, **extra):
    body = {"label": "Self", "full_name": "Asha Verma", "gender": "female", "birth": BIRTH, **extra}
    r = await client.post("/api/v1/birth-profiles", headers=account.headers(), json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_profile_summary_is_what_the_engine_says(client, sessionmaker):
    _owner, customer = await _setup(client, sessionmaker)
    p = await _profile(client, customer)
    engine = compute_chart(BirthData(date=dt.date(1990, 5, 17), time=dt.time(14, 25), **DELHI))
    s = p["summary"]
    assert p["client_id"] == customer.user_id and p["label"] == "Self"
    assert s["lagna_sign"] == engine.lagna.sign.name and s["moon_sign"] == engine.moon_sign.name
    assert s["nakshatra"] == engine.moon_nakshatra.name and s["nakshatra_pada"] == engine.moon_pada
    assert s["utc_offset"] == "+05:30" and s["offset_source"] == "tz_database"
    assert "Asia/Kolkata" in s["offset_reason"] and s["time_known"] is True
    now = dt.datetime.now(dt.UTC)
    running = engine.dasha.running(now, depth=2)
    assert s["mahadasha"]["lord"] == running.mahadasha.lord.value
    assert s["antardasha"]["lord"] == running.antardasha.lord.value
    assert dt.datetime.fromisoformat(s["antardasha"]["end"]) == running.antardasha.end
    assert dt.datetime.fromisoformat(s["mahadasha"]["start"]) == running.mahadasha.start
    assert p["birth"] == {"date": "1990-05-17", "time": "14:25:00", **DELHI}
    assert p["settings"]["ayanamsa"] == "lahiri"
    unknown = await _profile(client, customer, label="Son", birth={"date": "2015-02-01", "time_unknown": True,
                                                                  "place_name": "Pune"})
    assert unknown["summary"]["lagna_sign"] is None
    assert {w["code"] for w in unknown["summary"]["warnings"]} >= {"time_unknown"}
    assert unknown["summary"]["place"].startswith("Pune")


async def test_ownership_clients_see_their_own_staff_see_all(client, sessionmaker):
    owner, alice = await _setup(client, sessionmaker)
    bob = await register_client(client, owner.tenant_slug)
    mine = await _profile(client, alice)
    for_bob = await _profile(client, owner, client_id=bob.user_id, label="Father", full_name="Ravi Rao")
    assert for_bob["client_id"] == bob.user_id

    assert_problem(await client.post("/api/v1/birth-profiles", headers=owner.headers(),
                                     json={"full_name": "X", "birth": BIRTH}), 422, "validation", "client_id")
    assert_problem(await client.post("/api/v1/birth-profiles", headers=owner.headers(),
                                     json={"full_name": "X", "birth": BIRTH, "client_id": owner.user_id}),
                   422, "validation", "client_id")
    assert_problem(await client.post("/api/v1/birth-profiles", headers=alice.headers(),
                                     json={"full_name": "X", "birth": BIRTH, "client_id": bob.user_id}),
                   403, "forbidden", "client_id")
    assert_problem(await client.post("/api/v1/birth-profiles", headers=alice.headers(),
                                     json={"full_name": "X", "birth": {**BIRTH, "latitude": 95}}),
                   422, "astrology-coordinates-out-of-range", "birth.latitude")

    alice_list = (await client.get("/api/v1/birth-profiles", headers=alice.headers())).json()
    assert [p["id"] for p in alice_list["items"]] == [mine["id"]]
    all_list = (await client.get("/api/v1/birth-profiles", headers=owner.headers())).json()
    assert {p["id"] for p in all_list["items"]} == {mine["id"], for_bob["id"]}
    only_bob = (await client.get("/api/v1/birth-profiles", params={"client_id": bob.user_id},
                                 headers=owner.headers())).json()
    assert [p["id"] for p in only_bob["items"]] == [for_bob["id"]]
    by_name = (await client.get("/api/v1/birth-profiles", params={"q": "rav"}, headers=owner.headers())).json()
    assert [p["id"] for p in by_name["items"]] == [for_bob["id"]]

    for path in ("", "/chart", "/numerology", "/lo-shu", "/suggestions", "/report.pdf"):
        r = await client.get(f"/api/v1/birth-profiles/{for_bob['id']}{path}", headers=alice.headers())
        assert_problem(r, 404, "not-found", "profile_id")
    assert_problem(await client.patch(f"/api/v1/birth-profiles/{for_bob['id']}", headers=alice.headers(),
                                      json={"label": "Mine now"}), 404, "not-found", "profile_id")
    assert_problem(await client.delete(f"/api/v1/birth-profiles/{for_bob['id']}", headers=alice.headers()),
                   404, "not-found", "profile_id")
    assert (await client.get(f"/api/v1/birth-profiles/{for_bob['id']}", headers=bob.headers())).status_code == 200
    assert_problem(await client.get(f"/api/v1/birth-profiles/{uuid.uuid4()}", headers=owner.headers()),
                   404, "not-found", "profile_id")


async def test_pagination_update_and_delete(client, sessionmaker):
    owner, customer = await _setup(client, sessionmaker)
    ids = [(await _profile(client, customer, label=f"P{i}"))["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "sort": "label", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/birth-profiles", params=params, headers=customer.headers())).json()
        seen += [p["label"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"P{i}" for i in range(5)]

    first = ids[0]
    moved = await client.patch(f"/api/v1/birth-profiles/{first}", headers=owner.headers(),
                               json={"label": "Renamed", "birth": {**BIRTH, "time": "02:10"}})
    assert moved.status_code == 200, moved.text
    engine = compute_chart(BirthData(date=dt.date(1990, 5, 17), time=dt.time(2, 10), **DELHI))
    assert moved.json()["label"] == "Renamed" and moved.json()["summary"]["lagna_sign"] == engine.lagna.sign.name
    raman = await client.patch(f"/api/v1/birth-profiles/{first}", headers=customer.headers(),
                               json={"settings": {"ayanamsa": "raman"}})
    assert raman.json()["settings"]["ayanamsa"] == "raman" and raman.json()["birth"]["time"] == "02:10:00"
    chart = (await client.get(f"/api/v1/birth-profiles/{first}/chart", headers=customer.headers())).json()
    assert chart["chart"]["settings"]["ayanamsa"] == "raman"
    assert_problem(await client.patch(f"/api/v1/birth-profiles/{first}", headers=customer.headers(),
                                      json={"birth": {**BIRTH, "timezone": "Nowhere/Land"}}),
                   422, "astrology-unknown-timezone", "birth.timezone")
    assert_problem(await client.patch(f"/api/v1/birth-profiles/{first}", headers=customer.headers(),
                                      json={"label": None}), 422, "validation", "label")
    assert (await client.delete(f"/api/v1/birth-profiles/{first}", headers=customer.headers())).status_code == 204
    assert_problem(await client.get(f"/api/v1/birth-profiles/{first}", headers=customer.headers()),
                   404, "not-found", "profile_id")


async def test_stale_dasha_summary_is_moved_on_when_read(client, sessionmaker):
    owner, customer = await _setup(client, sessionmaker)
    p = await _profile(client, customer)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(BirthProfile).where(BirthProfile.id == uuid.UUID(p["id"])).values(
            antardasha_end=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), antardasha_lord="ketu",
            summary_computed_at=dt.datetime(1999, 1, 1, tzinfo=dt.UTC)))
    again = (await client.get(f"/api/v1/birth-profiles/{p['id']}", headers=owner.headers())).json()
    assert again["summary"]["antardasha"] == p["summary"]["antardasha"]
    assert again["summary"]["computed_at"] > p["summary"]["computed_at"]


async def test_chart_numerology_and_lo_shu_of_a_profile(client, sessionmaker):
    _owner, customer = await _setup(client, sessionmaker)
    p = await _profile(client, customer)
    h = customer.headers()
    chart = await client.get(f"/api/v1/birth-profiles/{p['id']}/chart", params={"at": "2030-01-01T00:00:00Z"},
                             headers=h)
    assert chart.status_code == 200
    assert chart.json()["chart"]["lagna"]["sign"]["name"] == p["summary"]["lagna_sign"]
    assert chart.json()["running_dasha"]["at"].startswith("2030-01-01")
    assert_problem(await client.get(f"/api/v1/birth-profiles/{p['id']}/chart", params={"at": "2030-01-01T00:00"},
                                    headers=h), 422, "validation", "at")
    num = (await client.get(f"/api/v1/birth-profiles/{p['id']}/numerology", params={"system": "pythagorean"},
                            headers=h)).json()
    assert num["name_numbers"]["name"] == "Asha Verma" and num["driver"]["value"] == 8
    grid = (await client.get(f"/api/v1/birth-profiles/{p['id']}/lo-shu", params={"kua": "false"},
                             headers=h)).json()
    assert grid["grid"]["gender"] == "female" and grid["grid"]["kua"] is not None
    assert all(d["source"] != "kua" for d in grid["grid"]["digits"])


async def test_texts_are_per_tenant_key_and_locale(client, sessionmaker):
    owner, _customer = await _setup(client, sessionmaker)
    other = await active_consultancy(client, sessionmaker)
    h = owner.headers()
    r = await client.put("/api/v1/astrology/texts/Nakshatra:Purva Phalguni/en", headers=h, json={"text": "PP."})
    assert r.status_code == 200 and r.json()["key"] == "nakshatra:purva_phalguni"
    await client.put("/api/v1/astrology/texts/mahadasha:saturn/en", headers=h, json={"text": "Saturn period."})
    await client.put("/api/v1/astrology/texts/mahadasha:saturn/hi", headers=h, json={"text": "शनि"})
    await client.put("/api/v1/astrology/texts/mahadasha:saturn/en", headers=h, json={"text": "Saturn, edited."})
    listed = (await client.get("/api/v1/astrology/texts", params={"prefix": "mahadasha:"}, headers=h)).json()
    assert sorted((t["key"], t["locale"], t["text"]) for t in listed["items"]) == [
        ("mahadasha:saturn", "en", "Saturn, edited."), ("mahadasha:saturn", "hi", "शनि")]
    hi = (await client.get("/api/v1/astrology/texts", params={"locale": "hi"}, headers=h)).json()
    assert [t["key"] for t in hi["items"]] == ["mahadasha:saturn"]
    assert (await client.get("/api/v1/astrology/texts", headers=other.headers())).json()["items"] == []
    assert_problem(await client.put("/api/v1/astrology/texts/driver/en", headers=h, json={"text": "x"}),
                   422, "validation", "key")
    assert_problem(await client.put("/api/v1/astrology/texts/driver:1/fr", headers=h, json={"text": "x"}),
                   422, "validation", "locale")
    assert_problem(await client.put("/api/v1/astrology/texts/driver:1/en", headers=h, json={"text": ""}),
                   422, "validation", "text")
    assert (await client.delete("/api/v1/astrology/texts/mahadasha:saturn/hi", headers=h)).status_code == 204
    assert_problem(await client.delete("/api/v1/astrology/texts/mahadasha:saturn/hi", headers=h),
                   404, "not-found", "key")


SADE_SATI = {"kind": "transit", "body": "saturn", "houses_from_moon": [12, 1, 2], "within_months": 24}


async def test_rules_and_suggestions(client, sessionmaker):
    owner, customer = await _setup(client, sessionmaker)
    h = owner.headers()
    p = await _profile(client, customer)
    moon = p["summary"]["moon_sign"]
    maha = p["summary"]["mahadasha"]["lord"]
    rules = [
        {"name": "Sade sati", "when": SADE_SATI, "offering_key": "shani-shanti",
         "reasons": {"en": "{body} in the {house_ordinal} from your Moon ({sign}) from {date}."}, "priority": 10},
        {"name": "Dasha", "when": {"kind": "dasha", "mahadasha": maha}, "offering_key": "dasha-reading"},
        {"name": "Follow-up", "when": {"kind": "past_order", "any_of": ["kundli-report"]},
         "offering_key": "follow-up-call"},
        {"name": "Off", "when": {"kind": "dasha", "mahadasha": maha}, "offering_key": "never", "active": False},
    ]
    made = []
    for rule in rules:
        r = await client.post("/api/v1/astrology/suggestion-rules", headers=h, json=rule)
        assert r.status_code == 201, r.text
        made.append(r.json())
    assert made[0]["when"]["houses_from_moon"] == [12, 1, 2]
    listed = (await client.get("/api/v1/astrology/suggestion-rules", headers=h)).json()
    assert listed["items"][0]["name"] == "Sade sati"  # highest priority first
    assert len((await client.get("/api/v1/astrology/suggestion-rules", params={"active": "true"},
                                 headers=h)).json()["items"]) == 3

    at = "2026-06-01T00:00:00Z"
    r = await client.get(f"/api/v1/birth-profiles/{p['id']}/suggestions",
                         params={"at": at, "ordered": ["kundli-report"]}, headers=customer.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["moon_sign"] == moon and body["past_offerings"] == ["kundli-report"]
    assert "caller" in body["past_orders_source"] and "paid orders" in body["past_orders_source"]
    keys = [s["offering_key"] for s in body["suggestions"]]
    assert "follow-up-call" in keys and "never" not in keys
    # Moon in Makara: Saturn in Meena is the 3rd from it and Mesha (June 2027) the 4th: no sade sati
    assert moon == "Makara" and "shani-shanti" not in keys
    at_maha = compute_chart(BirthData(date=dt.date(1990, 5, 17), time=dt.time(14, 25), **DELHI)).dasha.running(
        dt.datetime(2026, 6, 1, tzinfo=dt.UTC)).mahadasha.lord.value
    assert ("dasha-reading" in keys) == (at_maha == maha)
    saturn = next(b for b in body["transits"]["bodies"] if b["body"] == "saturn")
    assert saturn["sign"]["name"] == "Meena" and saturn["house_from_moon"] == 3
    assert [i["to_sign"]["name"] for i in saturn["ingresses"]][:1] == ["Mesha"]

    # Born on 20 May 1990 the Moon is in Meena: Saturn is transiting it now (peak of sade sati)
    pisces = await _profile(client, customer, label="Brother", birth={**BIRTH, "date": "1990-05-20"})
    first = (await client.get(f"/api/v1/birth-profiles/{pisces['id']}/suggestions", params={"at": at},
                              headers=customer.headers())).json()["suggestions"][0]
    assert first["offering_key"] == "shani-shanti"
    assert first["reason"] == f"Saturn in the 1st from your Moon (Meena) from {at[:10]}."
    # Born on 22 May 1990 the Moon is in Mesha: Saturn is in the 12th (sade sati begins)
    aries = await _profile(client, customer, label="Sister", birth={**BIRTH, "date": "1990-05-22"})
    first = (await client.get(f"/api/v1/birth-profiles/{aries['id']}/suggestions", params={"at": at},
                              headers=customer.headers())).json()["suggestions"][0]
    assert first["facts"]["house"] == 12 and first["facts"]["event"] == "in"

    patched = await client.patch(f"/api/v1/astrology/suggestion-rules/{made[2]['id']}", headers=h,
                                 json={"active": False, "reasons": {"hi": "फिर से"}})
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert patched.json()["reasons"] == {"hi": "फिर से"}
    again = (await client.get(f"/api/v1/birth-profiles/{p['id']}/suggestions",
                              params={"at": at, "ordered": "kundli-report"}, headers=h)).json()
    assert "follow-up-call" not in [s["offering_key"] for s in again["suggestions"]]
    assert_problem(await client.get(f"/api/v1/birth-profiles/{p['id']}/suggestions",
                                    params={"ordered": "Not A Key"}, headers=h), 422, "validation", "ordered")
    assert_problem(await client.get(f"/api/v1/birth-profiles/{p['id']}/suggestions",
                                    params={"at": "3100-01-01T00:00:00Z"}, headers=h),
                   422, "astrology-date-out-of-range", "at")
    assert_problem(await client.post("/api/v1/astrology/suggestion-rules", headers=h, json={
        "name": "bad", "when": {**SADE_SATI, "body": "moon"}, "offering_key": "x"}), 422, "validation")
    assert_problem(await client.post("/api/v1/astrology/suggestion-rules", headers=h, json={
        "name": "bad", "when": {"kind": "dasha"}, "offering_key": "x"}), 422, "validation")
    assert_problem(await client.patch(f"/api/v1/astrology/suggestion-rules/{made[0]['id']}", headers=h,
                                      json={"priority": None}), 422, "validation", "priority")
    assert (await client.get(f"/api/v1/astrology/suggestion-rules/{made[0]['id']}", headers=h)).status_code == 200
    assert (await client.delete(f"/api/v1/astrology/suggestion-rules/{made[0]['id']}",
                                headers=h)).status_code == 204
    assert_problem(await client.get(f"/api/v1/astrology/suggestion-rules/{made[0]['id']}", headers=h),
                   404, "not-found", "rule_id")


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _day(instant: dt.datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%d %b %Y")


async def test_chart_report_pdf(client, sessionmaker):
    from pypdf import PdfReader

    owner, customer = await _setup(client, sessionmaker)
    p = await _profile(client, customer)
    await client.put("/api/v1/astrology/texts/driver:8/en", headers=owner.headers(),
                     json={"text": "Eight drives steady ambition."})
    zone = "America/New_York"  # the client's own zone: the report's dates are on their clock
    assert (await client.patch("/api/v1/me", headers=customer.headers(), json={"timezone": zone})).status_code == 200
    r = await client.get(f"/api/v1/birth-profiles/{p['id']}/report.pdf", headers=customer.headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert 'filename="chart-asha-verma.pdf"' in r.headers["content-disposition"]
    pdf = r.content
    assert pdf.startswith(b"%PDF")
    if os.environ.get("MUHURTA_KEEP_REPORT"):  # to look at it: pdftoppm -png -r 60 <file> page
        Path(os.environ["MUHURTA_KEEP_REPORT"]).write_bytes(pdf)
    assert 2 <= len(PdfReader(io.BytesIO(pdf)).pages) <= 4
    text = _pdf_text(pdf)
    assert p["summary"]["lagna_sign"] in text and p["summary"]["moon_sign"] in text
    for words in ("Saturn", "Jupiter", "Ascendant", "Vimshottari", "Lo Shu", "UTC offset used", "+05:30",
                  "Eight drives steady ambition.", "Asha Verma", "Page 1 of",
                  "Rasi chart (D1)", "North Indian: houses fixed, sign numbers shown",
                  "South Indian: signs fixed, lagna marked with a stroke",
                  "Navamsa chart (D9)", "North Indian, from the D9 lagna",
                  f"Dates are in {zone}", "Universal time 17 May 1990 08:55:00 UTC"):
        assert words in text, words

    # Both drawings of D1 and of D9 carry every graha's label (North and South: twice each).
    chart = compute_chart(BirthData(date=dt.date(1990, 5, 17), time=dt.time(14, 25), **DELHI))
    lines = text.splitlines()
    for varga in ("d1", "d9"):
        for placed in placements(chart, varga):
            assert lines.count(placed.label) >= 2, (varga, placed.label)
    sun = next(x.label for x in placements(chart, "d1") if x.key == "sun")
    assert sun == f"Su {int(chart.body(Body.SUN).degree_in_sign)}°" and sun in lines
    assert lines.count("D9") == 1 and lines.count("D1") == 1  # the South Indian charts' centres

    # The dasha tables, dated on the client's clock, and the generated time in their zone.
    now = dt.datetime.now(dt.UTC)
    running = chart.dasha.running(now, depth=2)
    maha, antar = running.mahadasha, running.antardasha
    lord = maha.lord.value.title()
    assert f"{lord} {_day(maha.start, zone)} {_day(maha.end, zone)}" in text
    assert f"Antardashas of {lord}" in text
    assert f"{lord} / {antar.lord.value.title()} {_day(antar.start, zone)} {_day(antar.end, zone)}" in text
    abbreviation = now.astimezone(ZoneInfo(zone)).tzname()
    assert re.search(rf"Birth chart of Asha Verma · \d\d \w{{3}} \d{{4}} \d\d:\d\d {abbreviation}", text), text

    # The Lo Shu grid's missing numbers, as the engine finds them.
    grid = lo_shu_grid(dt.date(1990, 5, 17), gender="female")
    assert grid.missing and f"Missing numbers {', '.join(map(str, grid.missing))}" in text

    # Without a zone of their own the client reads the consultancy's; the owner's request changes nothing.
    assert (await client.patch("/api/v1/me", headers=customer.headers(), json={"timezone": None})).status_code == 200
    tenant_zone = (await client.get("/api/v1/tenant", headers=owner.headers())).json()["timezone"]
    unknown = await _profile(client, customer, label="Son", birth={"date": "2015-02-01", "time_unknown": True,
                                                                  "place_name": "Pune"})
    r = await client.get(f"/api/v1/birth-profiles/{unknown['id']}/report.pdf", headers=owner.headers())
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    unknown_text = _pdf_text(r.content)
    assert "time unknown" in unknown_text and "from the Moon" in unknown_text
    assert f"Dates are in {tenant_zone}" in unknown_text
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert p["summary"]["lagna_sign"] in out and "Saturn" in out


async def test_paid_orders_are_what_the_client_bought(client, sessionmaker):
    """Suggestions read the client's paid orders: no `ordered=` needed, unpaid ones do not count."""
    owner, customer = await _setup(client, sessionmaker)
    h = owner.headers()
    p = await _profile(client, customer)
    for rule in ({"name": "Follow-up", "when": {"kind": "past_order", "any_of": ["kundli-report"]},
                  "offering_key": "follow-up-call"},
                 {"name": "Again", "when": {"kind": "past_order", "any_of": ["gem-guide"]},
                  "offering_key": "gem-guide"}):
        assert (await client.post("/api/v1/astrology/suggestion-rules", headers=h, json=rule)).status_code == 201

    async def order(offering_key: str) -> str:
        made = await client.post("/api/v1/orders", headers=h, json={"client_id": customer.user_id, "lines": [
            {"kind": "product", "description": offering_key, "unit_amount": 50_000, "offering_id": offering_key}]})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    paid, unpaid = await order("kundli-report"), await order("gem-guide")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:  # what the Order workflow records
        await session.execute(update(Order).where(Order.id == uuid.UUID(paid)).values(status="fulfilled"))
    body = (await client.get(f"/api/v1/birth-profiles/{p['id']}/suggestions", headers=customer.headers())).json()
    assert body["past_offerings"] == ["kundli-report"] and body["past_orders_source"] == "orders source (paid orders)"
    keys = [s["offering_key"] for s in body["suggestions"]]
    assert "follow-up-call" in keys and "gem-guide" not in keys
    assert unpaid not in json.dumps(body)

    # Another client of the same consultancy bought nothing.
    other = await register_client(client, owner.tenant_slug)
    theirs = await _profile(client, other)
    seen = (await client.get(f"/api/v1/birth-profiles/{theirs['id']}/suggestions", headers=other.headers())).json()
    assert seen["past_offerings"] == [] and "follow-up-call" not in [s["offering_key"] for s in seen["suggestions"]]
