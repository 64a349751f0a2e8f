"""Temporal client with the pydantic data converter, for the API and the workers alike."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings


async def connect_temporal(settings: Settings) -> Client:
    tls: TLSConfig | bool = settings.temporal_tls
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    telemetry: dict[str, Any] = {}
    if settings.telemetry_enabled:  # SDK metrics into /metrics, traces through workflows (docs/observability.md)
        from core.observability.temporal import client_interceptors, start_metrics_export, telemetry_runtime

        telemetry = {"runtime": telemetry_runtime(), "interceptors": client_interceptors()}
        start_metrics_export()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls or bool(api_key),
        api_key=api_key,
        data_converter=pydantic_data_converter,
        **telemetry,
    )
