"""`muhurta doctor` against the suite's own servers: what it says when all is well, and when not."""

from __future__ import annotations

import socket

import pytest

from core.embedded import EmbeddedTemporal
from core.settings import Settings
from workers.doctor import run_doctor


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def suite_settings(api_settings: Settings, temporal_dev_server: EmbeddedTemporal) -> Settings:
    """The settings of the suite's own servers (the app under test gets its Temporal client given)."""
    return api_settings.model_copy(update={"temporal_address": temporal_dev_server.address,
                                           "temporal_namespace": temporal_dev_server.namespace})


async def test_doctor_is_all_good_when_every_server_answers(suite_settings: Settings, app_state,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_doctor(suite_settings) == 0
    out = capsys.readouterr().out
    for line in ("[ok] PostgreSQL reachable as", "[ok] row-level security applies to the application's role",
                 "[ok] migrations applied (revision", "[ok] Redis reachable", "[ok] Temporal reachable at",
                 "[ok] custom search attributes registered", "[ok] PDF rendering"):
        assert line in out, out
    assert out.rstrip().endswith("all good")


async def test_doctor_names_the_server_that_does_not_answer(suite_settings: Settings, app_state,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    broken = suite_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})
    assert await run_doctor(broken) == 1
    out = capsys.readouterr().out
    assert "[!!] Redis reachable" in out
    assert "[ok] PostgreSQL reachable" in out
    assert out.rstrip().endswith("1 problem(s)")
