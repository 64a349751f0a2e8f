"""The worker process: polls the task queue and relays pending workflow starts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

from core.db import make_engine, make_sessionmaker, open_pool_ahead, pool_cap
from core.settings import Settings
from core.temporal import connect_temporal
from workers.collector import tune_collector
from workers.registry import WORKFLOWS, build_activities, workflow_runner
from workers.relay import run_relay, run_webhook_relay
from workers.schedules import ensure_schedules

log = logging.getLogger(__name__)


def worker_tuning(settings: Settings) -> dict[str, Any]:
    """The Worker's cache, task slots and pollers from the settings (WORKER_MAX_CACHED_WORKFLOWS, ...);
    what is unset keeps the SDK's default. bench/remedy_reminders.py measures with the same."""
    tuning: dict[str, Any] = {"max_cached_workflows": settings.worker_max_cached_workflows}
    for option, value in (("max_concurrent_workflow_tasks", settings.worker_max_concurrent_workflow_tasks),
                          ("max_concurrent_activities", settings.worker_max_concurrent_activities),
                          ("max_concurrent_local_activities", settings.worker_max_concurrent_local_activities)):
        if value is not None:
            tuning[option] = value
    if settings.worker_workflow_task_pollers is not None:
        tuning["workflow_task_poller_behavior"] = PollerBehaviorSimpleMaximum(settings.worker_workflow_task_pollers)
    if settings.worker_activity_task_pollers is not None:
        tuning["activity_task_poller_behavior"] = PollerBehaviorSimpleMaximum(settings.worker_activity_task_pollers)
    return tuning


def build_worker(client: Client, settings: Settings, sessionmaker) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=list(WORKFLOWS),
        activities=build_activities(sessionmaker, settings),
        workflow_runner=workflow_runner(),
        # on SIGTERM, let running activities finish (a deploy) before they are retried elsewhere
        graceful_shutdown_timeout=timedelta(seconds=30),
        **worker_tuning(settings),
    )


def serve_metrics(settings: Settings) -> Callable[[], None]:
    """/metrics of this worker (our counters and the Temporal SDK's) on WORKER_METRICS_HOST:PORT;
    returns how to stop it. Port 0 serves nothing (several workers on one host: give each a port)."""
    if not settings.telemetry_enabled or not settings.worker_metrics_port:
        return lambda: None
    from prometheus_client import start_http_server

    try:
        server, thread = start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
    except OSError as exc:  # a busy port must not stop the worker itself
        log.warning("worker metrics not served on %s:%s: %s", settings.worker_metrics_host,
                    settings.worker_metrics_port, exc)
        return lambda: None
    log.info("worker metrics on http://%s:%s/metrics", settings.worker_metrics_host, settings.worker_metrics_port)

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return stop


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    if settings.telemetry_enabled:
        from core.observability.tracing import setup_tracing

        setup_tracing(settings, "muhurta-worker")
    stop_metrics = serve_metrics(settings)
    engine = make_engine(settings.database_url, settings.database_pool_size,
                         observed="worker" if settings.telemetry_enabled else None)
    await open_pool_ahead(engine, pool_cap(settings.database_pool_size))
    sessionmaker = make_sessionmaker(engine)
    client = await connect_temporal(settings)
    worker = build_worker(client, settings, sessionmaker)
    relay = asyncio.create_task(run_relay(sessionmaker, client))
    webhooks = asyncio.create_task(run_webhook_relay(sessionmaker, client))
    try:
        await ensure_schedules(client, settings.temporal_task_queue)
    except Exception:  # a worker without the schedule still works; say so loudly
        log.exception("could not create the schedules (reconciliation, housekeeping, retention)")
    tune_collector(settings.worker_gc_young_threshold)  # every import done, before the cache fills
    log.info("worker polling task queue %s on %s", settings.temporal_task_queue, settings.temporal_address)
    try:
        async with worker:
            await (stop.wait() if stop else asyncio.Event().wait())
    finally:
        relay.cancel()
        webhooks.cancel()
        await engine.dispose()
        stop_metrics()
