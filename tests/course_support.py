"""Courses built through the API, as staff build them (shared by the course API tests)."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from support import Account

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2048
QUIZ = {"questions": [
    {"id": "q1", "kind": "single", "prompt": "Life path of 1990-05-20?", "correct": ["b"],
     "options": [{"id": "a", "text": "8"}, {"id": "b", "text": "9"}]},
    {"id": "q2", "kind": "true_false", "prompt": "Master numbers are reduced.", "correct": ["false"],
     "explanation": "11, 22 and 33 stay as they are."}],
    "pass_mark_percent": 50, "max_attempts": 2}


async def build_course(client: AsyncClient, owner: Account, *, slug: str = "numerology", price: int = 0,
                       publish: bool = True) -> dict[str, Any]:
    """A course with two modules: a text lesson and a quiz (open at once), then a gated text lesson."""
    h = owner.headers()
    course = await client.post("/api/v1/courses", headers=h, json={
        "slug": slug, "title": "Numerology in 12 weeks", "summary": "From your name to your numbers",
        "description_md": "Learn **numbers**.", "price_minor": price})
    assert course.status_code == 201, course.text
    cid = course.json()["id"]
    first = (await client.post(f"/api/v1/courses/{cid}/modules", headers=h, json={"title": "Basics"})).json()
    second = (await client.post(f"/api/v1/courses/{cid}/modules", headers=h, json={
        "title": "Deeper", "drip": {"after_previous": True}})).json()
    intro = await client.post(f"/api/v1/course-modules/{first['id']}/lessons", headers=h, json={
        "title": "What numbers say", "kind": "text", "body_md": "# Hello\n<script>alert(1)</script>",
        "published": True, "preview": True})
    assert intro.status_code == 201, intro.text
    quiz = await client.post(f"/api/v1/course-modules/{first['id']}/lessons", headers=h, json={
        "title": "Check yourself", "kind": "quiz", "quiz": QUIZ, "published": True})
    assert quiz.status_code == 201, quiz.text
    deeper = await client.post(f"/api/v1/course-modules/{second['id']}/lessons", headers=h, json={
        "title": "Master numbers", "kind": "text", "body_md": "11, 22, 33", "published": True})
    assert deeper.status_code == 201, deeper.text
    if publish:
        done = await client.patch(f"/api/v1/courses/{cid}", headers=h, json={
            "status": "published", "final_assessment_id": quiz.json()["id"]})
        assert done.status_code == 200, done.text
    return {"id": cid, "slug": slug, "modules": [first["id"], second["id"]], "intro": intro.json()["id"],
            "quiz": quiz.json()["id"], "deeper": deeper.json()["id"]}


