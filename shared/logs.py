"""JSON logs, one object per line, each with the correlation id of the request or event that
caused it (and, when tracing is on, the trace and span ids of the span it was written in).
Standard-library loggers (uvicorn, aiokafka, ours) all go through structlog's formatter, so
there is one format; `extra={...}` fields become keys."""

from __future__ import annotations

import logging
import sys

import structlog
from asgi_correlation_id import correlation_id
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger


def _add_correlation_id(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    cid = correlation_id.get()
    if cid:
        event_dict.setdefault("correlation_id", cid)
    return event_dict


def _add_trace_ids(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """From a log line to its trace: the ids of the current span (none when tracing is off)."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event_dict.setdefault("trace_id", format(span.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span.span_id, "016x"))
    return event_dict


def configure_logging(*, service: str, level: str = "INFO", json_format: bool = True) -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _add_correlation_id,
        _add_trace_ids,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if json_format
                else structlog.dev.ConsoleRenderer())
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # aiokafka logs every rebalance and reconnect at INFO/ERROR; keep its warnings only.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
