"""The worker process: polls the task queue and relays pending workflow starts."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from core.db import make_engine, make_sessionmaker
from core.settings import Settings
from core.temporal import connect_temporal
from workers.registry import WORKFLOWS, build_activities, workflow_runner
from workers.relay import run_relay, run_webhook_relay
from workers.schedules import ensure_schedules

log = logging.getLogger(__name__)


def build_worker(client: Client, settings: Settings, sessionmaker) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=list(WORKFLOWS),
        activities=build_activities(sessionmaker, settings),
        workflow_runner=workflow_runner(),
        # on SIGTERM, let running activities finish (a deploy) before they are retried elsewhere
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    engine = make_engine(settings.database_url, settings.database_pool_size)
    sessionmaker = make_sessionmaker(engine)
    client = await connect_temporal(settings)
    worker = build_worker(client, settings, sessionmaker)
    relay = asyncio.create_task(run_relay(sessionmaker, client))
    webhooks = asyncio.create_task(run_webhook_relay(sessionmaker, client))
    try:
        await ensure_schedules(client, settings.temporal_task_queue)
    except Exception:  # a worker without the schedule still works; say so loudly
        log.exception("could not create the payments reconciliation schedule")
    log.info("worker polling task queue %s on %s", settings.temporal_task_queue, settings.temporal_address)
    try:
        async with worker:
            await (stop.wait() if stop else asyncio.Event().wait())
    finally:
        relay.cancel()
        webhooks.cancel()
        await engine.dispose()
