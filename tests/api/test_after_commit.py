"""api.deps.after_commit: a queued hook runs once the request's transaction has committed, after
the answer, and never when the request failed."""

from __future__ import annotations

from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from api.deps import RawSession, after_commit
from api.problems import NOT_FOUND, Problem, install_problem_handlers
from api.state import AppState

RAN: list[str] = []


async def _done(request: Request, session: RawSession, fail: bool = False) -> dict[str, bool]:
    await session.execute(text("SELECT 1"))

    async def hook() -> None:
        RAN.append(f"{request.url.path} after commit, in transaction: {session.in_transaction()}")

    after_commit(request, hook)
    if fail:
        raise Problem(NOT_FOUND, "failed after queueing its hook")
    return {"ok": True}


async def _broken_hook(request: Request, session: RawSession) -> dict[str, bool]:
    await session.execute(text("SELECT 1"))

    async def hook() -> None:
        raise RuntimeError("Temporal away")

    async def second() -> None:
        RAN.append("second hook")

    after_commit(request, hook)
    after_commit(request, second)
    return {"ok": True}


def _app(app_state: AppState) -> FastAPI:
    app = FastAPI()
    app.state.muhurta = app_state
    install_problem_handlers(app)
    app.post("/done")(_done)
    app.post("/broken")(_broken_hook)
    return app


async def test_hooks_run_after_the_commit_and_never_on_failure(app_state: AppState) -> None:
    RAN.clear()
    async with AsyncClient(transport=ASGITransport(app=_app(app_state)), base_url="http://test") as http:
        assert (await http.post("/done")).json() == {"ok": True}
        assert RAN == ["/done after commit, in transaction: False"]
        RAN.clear()
        failed = await http.post("/done", params={"fail": "true"})
        assert failed.status_code == 404
        assert RAN == []
        answer = await http.post("/broken")  # a failing hook is logged; the next still runs
        assert answer.status_code == 200 and RAN == ["second hook"]
