"""OpenTelemetry traces: one tracer provider per process, OTLP/HTTP export only when configured.

Without an endpoint nothing is recorded or sent (the sampler drops every span), yet every request
still gets a trace id that flows into its log lines, its problem+json answers and, through
Temporal's TracingInterceptor, into the workflows and activities it starts. With
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) set, spans are batched to that collector.

Span attributes never carry personal data: route templates, not paths; SQL with its bind
placeholders, never the values; provider and channel names, never recipients.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from core.settings import Settings

TRACER_NAME = "muhurta"


class RatioSampler(Sampler):
    """ParentBased(TraceIdRatioBased(ratio)) whose ratio can change while the process runs
    (tests and `muhurta dev` switch recording on without rebuilding the global provider)."""

    def __init__(self, ratio: float) -> None:
        self.set_ratio(ratio)

    def set_ratio(self, ratio: float) -> None:
        self.ratio = ratio
        self._delegate = ParentBased(TraceIdRatioBased(ratio))

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None, trace_state: TraceState | None = None) -> SamplingResult:
        return self._delegate.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"MuhurtaRatio{{{self.ratio}}}"


_provider: TracerProvider | None = None
_sampler: RatioSampler | None = None


def otlp_traces_endpoint(settings: Settings) -> str | None:
    if settings.otlp_traces_endpoint:
        return settings.otlp_traces_endpoint
    if settings.otlp_endpoint:
        return settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


def setup_tracing(settings: Settings, service_name: str) -> TracerProvider:
    """Install the process's tracer provider once (later calls return it unchanged)."""
    global _provider, _sampler
    if _provider is not None:
        return _provider
    endpoint = otlp_traces_endpoint(settings)
    ratio = settings.traces_sample_ratio if settings.traces_sample_ratio is not None else (1.0 if endpoint else 0.0)
    _sampler = RatioSampler(ratio)
    _provider = TracerProvider(
        sampler=_sampler,
        resource=Resource.create({"service.name": service_name, "service.namespace": "muhurta",
                                  "deployment.environment.name": settings.environment}),
    )
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(_provider)
    return _provider


def record_spans(processor: SpanProcessor, ratio: float = 1.0) -> None:
    """Send spans to `processor` as well and record this share of traces (tests, local views)."""
    if _provider is None or _sampler is None:
        raise RuntimeError("setup_tracing first")
    _provider.add_span_processor(processor)
    _sampler.set_ratio(ratio)


def set_sample_ratio(ratio: float) -> None:
    """Record this share of new traces from now on (0: ids only, nothing recorded or exported)."""
    if _sampler is not None:
        _sampler.set_ratio(ratio)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside any trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def current_ids() -> tuple[str, str] | None:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")

