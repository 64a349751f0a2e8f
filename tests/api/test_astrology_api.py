"""The astrology API: on-the-fly computations, engine errors as problems, places, permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from support import active_consultancy, assert_problem, register_client, sign_up

from domain.astrology import BirthData, ChartSettings, compute_chart

DELHI = {"latitude": 28.6139, "longitude": 77.2090, "timezone": "Asia/Kolkata"}
BIRTH = {"date": "1990-05-17", "time": "14:25", **DELHI}


async def test_chart_on_the_fly_equals_the_engine_and_carries_texts(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    engine = compute_chart(BirthData(date=dt.date(1990, 5, 17), time=dt.time(14, 25), **DELHI))
    lagna_key = f"lagna:{engine.lagna.sign.english.lower()}"
    put = await client.put(f"/api/v1/astrology/texts/{lagna_key}/en", headers=owner.headers(),
                           json={"text": "Your rising sign."})
    assert put.status_code == 200, put.text
    r = await client.post("/api/v1/astrology/chart", headers=owner.headers(),
                          json={"birth": BIRTH, "at": "2026-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    chart = body["chart"]
    assert chart["lagna"]["sign"]["name"] == engine.lagna.sign.name
    assert [b["longitude"] for b in chart["bodies"]] == [b.longitude for b in engine.bodies]
    assert chart["birth"]["utc_offset_text"] == "+05:30" and chart["birth"]["offset_source"] == "tz_database"
    running = engine.dasha.running(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), depth=2)
    assert [p["lord"] for p in body["running_dasha"]["periods"]] == [p.lord.value for p in running.periods]
    assert lagna_key in body["keys"] and f"mahadasha:{running.mahadasha.lord.value}" in body["keys"]
    assert f"nakshatra:{engine.moon_nakshatra.name.lower().replace(' ', '_')}" in body["keys"]
    assert body["texts"] == {lagna_key: "Your rising sign."}


async def test_chart_options_place_by_name_offset_lmt_time_unknown_and_settings(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    url, h = "/api/v1/astrology/chart", owner.headers()
    by_name = (await client.post(url, headers=h, json={"birth": {
        "date": "1947-08-15", "time": "00:00", "place_name": "New Delhi", "country_code": "in"}})).json()
    assert by_name["chart"]["birth"]["place"]["name"] == "New Delhi"
    assert any(w["code"] == "india_local_times" for w in by_name["chart"]["warnings"])
    explicit = (await client.post(url, headers=h, json={"birth": {**BIRTH, "utc_offset": "+04:51"}})).json()
    assert explicit["chart"]["birth"]["offset_source"] == "explicit"
    assert explicit["chart"]["birth"]["utc_offset_text"] == "+04:51"
    lmt = (await client.post(url, headers=h, json={"birth": {**BIRTH, "local_mean_time": True}})).json()
    assert lmt["chart"]["birth"]["offset_source"] == "local_mean_time"
    unknown = (await client.post(url, headers=h, json={"birth": {
        "date": "1990-05-17", "time_unknown": True, **DELHI}})).json()
    assert unknown["chart"]["lagna"] is None and unknown["chart"]["moon_approximate"] is True
    assert {w["code"] for w in unknown["chart"]["warnings"]} >= {"time_unknown", "approximate_positions"}
    raman = (await client.post(url, headers=h, json={"birth": BIRTH, "settings": {
        "ayanamsa": "raman", "node": "true", "year_length": "savana", "dasha_depth": 3, "placidus": True}})).json()
    expected = compute_chart(BirthData(date=dt.date(1990, 5, 17), time=dt.time(14, 25), **DELHI),
                             ChartSettings(ayanamsa="raman", node="true", year_length="savana", dasha_depth=3,
                                           placidus=True))
    assert raman["chart"]["ayanamsa"] == expected.ayanamsa
    assert len(raman["chart"]["placidus"]["cusps"]) == 12
    assert len(raman["running_dasha"]["periods"]) == 3
    gap = (await client.post(url, headers=h, json={"birth": {
        "date": "2021-03-14", "time": "02:30", "latitude": 40.7128, "longitude": -74.006, "fold": "later"}})).json()
    assert gap["chart"]["birth"]["utc_offset_text"] == "-04:00"
    assert any(w["code"] == "nonexistent_time_resolved" for w in gap["chart"]["warnings"])


NY = {"latitude": 40.7128, "longitude": -74.006}


@pytest.mark.parametrize(("birth", "slug", "field"), [
    ({**BIRTH, "latitude": 91}, "astrology-coordinates-out-of-range", "birth.latitude"),
    ({**BIRTH, "longitude": -181}, "astrology-coordinates-out-of-range", "birth.longitude"),
    ({**BIRTH, "date": "0999-12-31"}, "astrology-date-out-of-range", "birth.date"),
    ({**BIRTH, "timezone": "Mars/Olympus"}, "astrology-unknown-timezone", "birth.timezone"),
    ({**BIRTH, "utc_offset": "five thirty"}, "astrology-invalid-utc-offset", "birth.utc_offset"),
    ({**BIRTH, "utc_offset": "+19:00"}, "astrology-invalid-utc-offset", "birth.utc_offset"),
    ({**BIRTH, "utc_offset": "+05:30", "local_mean_time": True}, "astrology-conflicting-options",
     "birth.utc_offset"),
    ({**BIRTH, "time": "14:25+05:30"}, "astrology-conflicting-options", "birth.time"),
    ({"date": "1990-05-17", "time": "14:25"}, "astrology-place-required", "birth.place_name"),
    ({"date": "1990-05-17", "time": "14:25", "latitude": 28.6}, "astrology-place-required", "birth.longitude"),
    ({"date": "2021-03-14", "time": "02:30", **NY}, "astrology-nonexistent-local-time", "birth.time"),
    ({"date": "2021-11-07", "time": "01:30", **NY}, "astrology-ambiguous-local-time", "birth.time"),
    ({"date": "1990-05-17", "time": "14:25", "place_name": "Qwxyzzy"}, "astrology-unknown-place",
     "birth.place_name"),
    ({"date": "1990-05-17", "time": "14:25", "place_name": "Springfield"}, "astrology-ambiguous-place",
     "birth.place_name"),
    ({"date": "1990-05-17", "time": "14:25", "geonameid": 999999999}, "astrology-unknown-place", "birth.geonameid"),
    ({"date": "1990-05-17", **DELHI}, "validation", "birth.time"),
    ({**BIRTH, "time_unknown": True}, "validation", "birth.time_unknown"),
    ({**BIRTH, "fold": "sideways"}, "validation", "birth.fold"),
])
async def test_every_engine_error_is_a_typed_problem_with_its_field(client, sessionmaker, birth, slug, field):
    owner = await active_consultancy(client, sessionmaker)
    r = await client.post("/api/v1/astrology/chart", headers=owner.headers(), json={"birth": birth})
    body = assert_problem(r, 422, slug, field)
    if slug.startswith("astrology-"):
        assert body["code"] == slug.removeprefix("astrology-").replace("-", "_")
        doc = await client.get(body["type"])
        assert doc.status_code == 200 and doc.json()["title"] == body["title"]
    if slug.endswith("local-time"):
        assert [c["fold"] for c in body["candidates"]] == [0, 1]
    if slug == "astrology-ambiguous-place":
        assert len(body["candidates"]) > 1
    if slug == "astrology-unknown-place" and field == "birth.place_name":
        assert "suggestions" in body


async def test_other_request_errors(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    h = owner.headers()
    naive = await client.post("/api/v1/astrology/chart", headers=h, json={"birth": BIRTH, "at": "2026-01-01T00:00"})
    assert_problem(naive, 422, "validation", "at")
    bad_setting = await client.post("/api/v1/astrology/chart", headers=h,
                                    json={"birth": BIRTH, "settings": {"ayanamsa": "fagan"}})
    assert_problem(bad_setting, 422, "validation", "settings.ayanamsa")
    depth = await client.post("/api/v1/astrology/chart", headers=h,
                              json={"birth": BIRTH, "settings": {"dasha_depth": 4}})
    assert_problem(depth, 422, "validation", "settings.dasha_depth")
    no_letters = await client.post("/api/v1/astrology/numerology", headers=h,
                                   json={"name": "राम", "date": "1990-05-17"})
    assert_problem(no_letters, 422, "astrology-invalid-name", "name")
    gender = await client.post("/api/v1/astrology/lo-shu", headers=h, json={"date": "1990-05-17", "gender": "x"})
    assert_problem(gender, 422, "validation", "gender")
    assert_problem(await client.get("/api/v1/astrology/places", headers=h), 422, "validation", "q")
    assert_problem(await client.get("/api/v1/astrology/places", params={"q": "x", "country": "IND"}, headers=h),
                   422, "validation", "country")


async def test_numerology_and_lo_shu_with_texts(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    h = owner.headers()
    for key, locale, text in [("driver:8", "en", "Driver eight."), ("driver:8", "hi", "मूलांक आठ"),
                              ("destiny:1", "en", "Destiny one.")]:
        assert (await client.put(f"/api/v1/astrology/texts/{key}/{locale}", headers=h,
                                 json={"text": text})).status_code == 200
    num = await client.post("/api/v1/astrology/numerology", headers=h, json={
        "name": "Ada Lovelace", "date": "1815-12-10", "system": "pythagorean"})
    assert num.status_code == 200, num.text
    body = num.json()
    assert body["driver"]["value"] == 1 and body["life_path"]["value"] == 1
    assert body["name_numbers"]["system"] == "pythagorean"
    assert "life_path:1" in body["keys"]
    grid = await client.post("/api/v1/astrology/lo-shu", headers=h, json={
        "date": "1990-05-17", "gender": "female", "convention": {"conductor": False}, "locale": "hi"})
    assert grid.status_code == 200, grid.text
    g = grid.json()
    assert g["grid"]["driver"] == 8 and g["grid"]["kua"] is not None
    assert all(d["source"] != "conductor" for d in g["grid"]["digits"])
    assert g["texts"]["driver:8"] == "मूलांक आठ"
    en = (await client.post("/api/v1/astrology/lo-shu", headers=h, json={"date": "1990-05-17"})).json()
    assert en["texts"]["driver:8"] == "Driver eight."


async def test_place_search(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    r = await client.get("/api/v1/astrology/places", params={"q": "bombay"}, headers=owner.headers())
    assert r.status_code == 200
    assert r.json()[0]["name"] == "Mumbai" and r.json()[0]["timezone"] == "Asia/Kolkata"
    us = await client.get("/api/v1/astrology/places", params={"q": "Springfield", "country": "us", "limit": 3},
                          headers=owner.headers())
    assert len(us.json()) == 3 and {p["country_code"] for p in us.json()} == {"US"}


async def test_who_may_call(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    ok = await client.post("/api/v1/astrology/chart", headers=customer.headers(), json={"birth": BIRTH})
    assert ok.status_code == 200
    assert_problem(await client.post("/api/v1/astrology/chart", headers={"X-Tenant": owner.tenant_slug},
                                     json={"birth": BIRTH}), 401, "unauthenticated")
    pending = await sign_up(client)
    assert_problem(await client.post("/api/v1/astrology/chart", headers=pending.headers(), json={"birth": BIRTH}),
                   403, "tenant-pending-approval")
    assert_problem(await client.put("/api/v1/astrology/texts/driver:1/en", headers=customer.headers(),
                                    json={"text": "x"}), 403, "forbidden")
    assert_problem(await client.get("/api/v1/astrology/texts", headers=customer.headers()), 403, "forbidden")
    assert_problem(await client.get("/api/v1/astrology/suggestion-rules", headers=customer.headers()),
                   403, "forbidden")
