"""Structured JSON logs; every line carries the request id of the request that caused it and the
trace id (and span id) it ran under, also in workers, where Temporal's tracing interceptor makes
an activity's span current."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
# The address of the request being served, for audit events written anywhere below it.
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"], entry["span_id"] = format(span.trace_id, "032x"), format(span.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        try:  # orjson: a third of the line's cost, in C; any value it refuses goes the slow way
            return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            return json.dumps(entry, default=str)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = request_id_var.get()
        span = trace.get_current_span().get_span_context()
        tags = ([f"req {request_id}"] if request_id else []) + (
            [f"trace {format(span.trace_id, '032x')}"] if span.is_valid else [])
        return f"{line} [{', '.join(tags)}]" if tags else line


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    # Where each call was made from (a walk up the stack per line), its thread and its process: no
    # formatter here shows them, and finding them was half of what a line cost (docs/performance.md).
    logging._srcfile = None  # the switch the logging documentation gives ("Optimization")
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "alembic", "temporalio.activity", "temporalio.workflow",
                  "weasyprint", "fontTools"):  # a line per layout step and per font subset otherwise
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
