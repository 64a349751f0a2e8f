"""Each API process keeps the tenants it has served (api/tenant_directory.py): a request whose
tenant is kept runs no statement for it, and a change to a tenant, whoever makes it, is seen:
at once when this process made it, as soon as PostgreSQL's notification arrives otherwise."""

from __future__ import annotations

import asyncio
import uuid

from prometheus_client import REGISTRY
from sqlalchemy import text
from support import Statements, active_consultancy, assert_problem, eventually, poll_until

from api.tenant_directory import APPLICATION_NAME, DIRECTORY, TenantDirectory
from core.db import TenantScope, scoped_session
from models.tenancy import Tenant, TenantStatus

CHART = "/api/v1/astrology/chart"
BIRTH = {"date": "1990-05-17", "time": "14:25", "latitude": 28.6139, "longitude": 77.209, "timezone": "Asia/Kolkata"}


def _lookups(source: str) -> float:
    return REGISTRY.get_sample_value("muhurta_tenant_lookups_total", {"source": source}) or 0.0


async def _chart_status(client, headers) -> int:  # type: ignore[no-untyped-def]
    return int((await client.post(CHART, headers=headers, json={"birth": BIRTH})).status_code)


async def _suspend_behind_the_apis_back(engine, tenant_id: str) -> None:  # type: ignore[no-untyped-def]
    """As another process or psql would: plain SQL on a connection of its own, no ORM session."""
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE tenants SET status = 'suspended', status_reason = 'unpaid' "
                                      "WHERE id = :id"), {"id": tenant_id})


async def test_a_kept_tenant_costs_the_request_no_statement(client, sessionmaker, app_state):
    owner = await active_consultancy(client, sessionmaker)
    headers = owner.headers()

    async def from_the_directory() -> tuple[int, bool, list[str]]:
        """A chart: its status, whether its tenant was kept, its statements."""
        kept = _lookups("kept")
        with Statements(app_state.engine) as seen:
            status = await _chart_status(client, headers)
        return status, _lookups("kept") == kept + 1, seen

    # The first chart reads the tenant and keeps it. The notifications of the sign-up's own
    # changes may still be on their way and drop it once more: wait for a chart that finds it
    # (counted in muhurta_tenant_lookups_total{source="kept"}, what an operator reads).
    status, _kept, seen = await poll_until(from_the_directory, lambda answer: answer[1], timeout=10)
    assert status == 200
    assert seen == []  # no tenant, no BEGIN, no COMMIT: a chart needs nothing else from the database


async def test_a_change_made_elsewhere_is_seen_once_postgresql_says_so(client, sessionmaker, app_state, engine):
    owner = await active_consultancy(client, sessionmaker)
    headers = owner.headers()
    assert await _chart_status(client, headers) == 200
    assert await _chart_status(client, headers) == 200  # from the directory
    await _suspend_behind_the_apis_back(engine, owner.tenant_id or "")

    async def chart() -> int:
        return await _chart_status(client, headers)

    assert await eventually(chart, 403, timeout=10) == 403
    assert_problem(await client.post(CHART, headers=headers, json={"birth": BIRTH}), 403, "tenant-suspended")


async def test_a_change_committed_in_this_process_answers_the_very_next_request(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    headers = owner.headers()
    assert await _chart_status(client, headers) == 200
    generation = DIRECTORY.generation
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        tenant = await session.get(Tenant, uuid.UUID(owner.tenant_id or ""))
        assert tenant is not None
        tenant.status, tenant.status_reason = TenantStatus.SUSPENDED, "unpaid"
    assert DIRECTORY.generation > generation  # dropped by the commit itself, not by a notification
    assert_problem(await client.post(CHART, headers=headers, json={"birth": BIRTH}), 403, "tenant-suspended")


async def test_without_notifications_every_request_reads_its_tenant(client, sessionmaker, app_state, engine,
                                                                   api_settings):
    owner = await active_consultancy(client, sessionmaker)
    headers = owner.headers()
    assert await _chart_status(client, headers) == 200
    await DIRECTORY.stop()  # as when the listening connection is lost
    try:
        assert not DIRECTORY.listening
        unheard = _lookups("unheard")
        with Statements(app_state.engine) as seen:
            assert await _chart_status(client, headers) == 200
        assert any("FROM tenants" in statement for statement in seen), seen
        assert _lookups("unheard") == unheard + 1  # the alert MuhurtaTenantChangesUnheard counts these
        await _suspend_behind_the_apis_back(engine, owner.tenant_id or "")
        assert await _chart_status(client, headers) == 403  # at once: nothing was kept
    finally:
        DIRECTORY.start(api_settings.database_url)
        async with asyncio.timeout(30):
            await DIRECTORY.listening_now()


async def test_a_lost_listening_connection_drops_every_copy_and_listens_again(client, sessionmaker, engine):
    owner = await active_consultancy(client, sessionmaker)
    headers = owner.headers()
    assert await _chart_status(client, headers) == 200
    assert await _chart_status(client, headers) == 200  # kept
    generation = DIRECTORY.generation
    async with engine.begin() as connection:  # as a database restart or a dropped connection would
        ended = (await connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid) WHERE application_name = :name"),
            {"name": APPLICATION_NAME})).scalar_one()
    assert ended == 1

    async def listening_again() -> bool:
        return DIRECTORY.listening and DIRECTORY.generation > generation

    await eventually(listening_again, True, timeout=30)
    await _suspend_behind_the_apis_back(engine, owner.tenant_id or "")

    async def chart() -> int:
        return await _chart_status(client, headers)

    assert await eventually(chart, 403, timeout=10) == 403


async def test_another_app_starting_and_stopping_leaves_the_listener_running(client, api_settings):
    """Two apps in one process (a test's own app, here the suite's and another) share the listener:
    the one that stops first must not silence the other's."""
    assert DIRECTORY.listening
    DIRECTORY.start(api_settings.database_url)  # another app's start-up ...
    await DIRECTORY.stop()                      # ... and shut-down
    assert DIRECTORY.listening


def _tenant(**values: object) -> Tenant:
    return Tenant(id=uuid.uuid4(), slug="kept", name="Kept", status=TenantStatus.ACTIVE, status_reason=None,
                  timezone="Asia/Kolkata", settings={"quotations": {"validity_days": 7}}, texts_version=0,
                  created_at=None, updated_at=None, **values)


def test_a_copy_read_while_something_was_dropped_is_not_kept() -> None:
    directory = TenantDirectory()
    directory.listening = True
    generation = directory.generation
    directory.forget([uuid.uuid4()])  # a notification arrived while the request read its tenant
    directory.keep("slug", "kept", _tenant(), generation)
    assert directory.find("slug", "kept") is None
    directory.keep("slug", "kept", _tenant(), directory.generation)
    assert directory.find("slug", "kept") is not None


def test_a_route_that_changes_its_tenant_in_place_does_not_change_the_copy() -> None:
    directory = TenantDirectory()
    directory.listening = True
    directory.keep("slug", "kept", _tenant(), directory.generation)
    first = directory.find("slug", "kept")
    assert first is not None
    first.settings["quotations"]["validity_days"] = 30
    second = directory.find("slug", "kept")
    assert second is not None and second.settings == {"quotations": {"validity_days": 7}}


def test_a_dropped_tenant_goes_under_every_name_and_only_it() -> None:
    directory = TenantDirectory()
    directory.listening = True
    kept, other = _tenant(), _tenant()
    for by, value in (("slug", "kept"), ("id", kept.id), ("domain", "astro.example.com")):
        directory.keep(by, value, kept, directory.generation)  # type: ignore[arg-type]
    directory.keep("slug", "other", other, directory.generation)
    directory.forget([str(kept.id)])
    assert directory.find("slug", "kept") is None and directory.find("id", kept.id) is None
    assert directory.find("domain", "astro.example.com") is None
    assert directory.find("slug", "other") is not None
    directory.forget(["*"])
    assert directory.find("slug", "other") is None
