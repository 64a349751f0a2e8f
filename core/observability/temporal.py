"""Temporal's side: the SDK's own metrics in our /metrics, and traces across client, workflow and activity.

Metrics: the SDK core records into a `MetricBuffer` (its runtime telemetry); temporalio's
`MetricsExporter` drains it into an OpenTelemetry meter provider whose Prometheus reader sits in
prometheus-client's registry, so `temporal_*` series (task slots, schedule-to-start latency,
activity and workflow failures, client request failures) are served by the same /metrics as ours.
Traces: `temporalio.contrib.opentelemetry.TracingInterceptor` on the client (workers built from
it inherit it) carries the caller's span into the workflow it starts or signals and each activity.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import MetricsExporter, TracingInterceptor
from temporalio.runtime import MetricBuffer, MetricBufferDurationFormat, Runtime, TelemetryConfig

log = logging.getLogger(__name__)

_runtime: Runtime | None = None
_buffer: MetricBuffer | None = None
_exporter: MetricsExporter | None = None
_exporter_task: asyncio.Task[None] | None = None


def telemetry_runtime() -> Runtime:
    """The process's Temporal runtime, recording SDK metrics into a buffer (made once)."""
    global _runtime, _buffer, _exporter
    if _runtime is None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from opentelemetry.sdk.metrics import MeterProvider

        _buffer = MetricBuffer(100_000, MetricBufferDurationFormat.SECONDS)
        _runtime = Runtime(telemetry=TelemetryConfig(metrics=_buffer))
        provider = MeterProvider(metric_readers=[PrometheusMetricReader()])
        _exporter = MetricsExporter(_buffer, provider, poll_interval=timedelta(seconds=1),
                                    on_error=lambda exc: log.warning("Temporal metrics not exported: %s", exc))
    return _runtime


def start_metrics_export() -> None:
    """Drain the SDK's metric buffer on this event loop (once per process; again if that loop ended)."""
    global _exporter_task
    telemetry_runtime()
    if _exporter is None:
        return
    loop = asyncio.get_running_loop()
    if _exporter_task is not None and not _exporter_task.done() and _exporter_task.get_loop() is loop:
        return
    _exporter_task = loop.create_task(_exporter.run(), name="temporal-metrics-export")


def client_interceptors() -> list[Interceptor]:
    return [TracingInterceptor()]

