"""The database seen from outside: pool use and waits as metrics, each SQL statement as a span.

The pool metrics come from a subclass of SQLAlchemy's asyncio queue pool that times `_do_get`
(the one place a checkout waits when every connection is in use). The spans come from
SQLAlchemy's cursor events; `opentelemetry-instrumentation-sqlalchemy` does the same but
declares itself for SQLAlchemy < 2.1, which this project is past. A span carries the statement
with its bind placeholders (`%(email)s`), never the values (the engine hides them in errors too).
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from core.observability.metrics import (
    DB_POOL_IN_USE,
    DB_POOL_LIMIT,
    DB_POOL_TIMEOUTS,
    DB_POOL_WAIT,
    DB_POOL_WAITING,
)
from core.observability.tracing import TRACER_NAME

_SPAN_KEY = "_muhurta_span"
MAX_STATEMENT = 2000

# a proxy until the process installs its provider, then that provider's tracer (one lookup, not one per call)
_TRACER = trace.get_tracer(TRACER_NAME)


class InstrumentedPool(AsyncAdaptedQueuePool):
    """The default asyncio pool, counting who waits for a connection and for how long."""

    metrics_name = "main"

    def _do_get(self) -> Any:
        name = self.metrics_name
        waiting = DB_POOL_WAITING.labels(name)
        started = time.perf_counter()
        waiting.inc()
        try:
            return super()._do_get()
        except PoolTimeout:
            DB_POOL_TIMEOUTS.labels(name).inc()
            raise
        finally:
            waiting.dec()
            DB_POOL_WAIT.labels(name).observe(time.perf_counter() - started)


def instrument_engine(engine: AsyncEngine, name: str) -> None:
    """Pool gauges for `engine` under `name` (the latest engine of a name wins), and SQL spans."""
    pool = engine.pool
    if isinstance(pool, InstrumentedPool):
        pool.metrics_name = name
        DB_POOL_IN_USE.labels(name).set_function(pool.checkedout)
        DB_POOL_LIMIT.labels(name).set(pool.size() + max(pool._max_overflow, 0))
    sync_engine = engine.sync_engine
    if not event.contains(sync_engine, "before_cursor_execute", _before):
        event.listen(sync_engine, "before_cursor_execute", _before)
        event.listen(sync_engine, "after_cursor_execute", _after)
        event.listen(sync_engine, "handle_error", _error)


def _operation(statement: str) -> str:
    head = statement.lstrip()[:12].split(None, 1)
    return head[0].upper() if head else "SQL"


def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    parent = trace.get_current_span()
    if not parent.is_recording() and parent.get_span_context().is_valid:
        return  # a trace not being recorded: its children are not either (parent-based sampling)
    operation = _operation(statement)
    span = _TRACER.start_span(operation, kind=SpanKind.CLIENT)
    if span.is_recording():
        span.set_attributes({"db.system.name": "postgresql", "db.operation.name": operation,
                             "db.query.text": statement[:MAX_STATEMENT]})
    if context is not None:
        setattr(context, _SPAN_KEY, span)


def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    span = getattr(context, _SPAN_KEY, None)
    if span is not None:
        span.end()
        setattr(context, _SPAN_KEY, None)


def _error(exception_context: Any) -> None:
    context = exception_context.execution_context
    span = getattr(context, _SPAN_KEY, None) if context is not None else None
    if span is not None:
        error = exception_context.original_exception
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.set_attribute("error.type", type(error).__name__)
        span.end()
        setattr(context, _SPAN_KEY, None)

