"""Distributed tracing with OpenTelemetry: one trace from a caller's request through the
services' commands, their outbox, Kafka and the consumers that act on the events.

Off by default (`tracing_enabled`). Off, no tracer provider exists, the HTTP middleware is not
installed, and the hot paths only test a value they already hold (`tracer is None`, the
settings' flag): no span object is made and nothing is added to a message.

On, a service has its own TracerProvider (resource `service.name=fayuan-<service>`), exporting
by OTLP/HTTP in batches when `otlp_endpoint` is set, and makes these spans:
- `<METHOD> <route template>` (server): each HTTP request, continuing the caller's trace when it
  sends W3C `traceparent`/`tracestate` headers;
- `<command>` (internal): each command handler (`shared.uow.retry_on_conflict`), retries inside;
- `send <topic>` (producer): the relay's publication of one outbox row, child of the context the
  command had when it emitted the event (stored with the row);
- `process <topic>` (consumer): a consumer's handling of one message, child of that send.

Across Kafka the context travels in each CloudEvent as the distributed-tracing extension's
`traceparent`/`tracestate` attributes: `ce_traceparent`/`ce_tracestate` headers in binary mode.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.aggregate import DomainError
from shared.events import Envelope
from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

PROPAGATOR = TraceContextTextMapPropagator()
# The CloudEvents distributed-tracing extension's attributes, W3C Trace Context's header names.
TRACE_EXTENSIONS = ("traceparent", "tracestate")
# Probes and scrapes every few seconds would bury the requests worth reading.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
OTLP_TRACES_PATH = "/v1/traces"

_tracer: contextvars.ContextVar[Tracer | None] = contextvars.ContextVar("fayuan_tracer", default=None)


# --- set-up -----------------------------------------------------------------------------------


def tracer_provider(settings: ServiceSettings, *, version: str = "") -> TracerProvider | None:
    """The service's provider when tracing is on, else None (and nothing of the SDK is loaded)."""
    if not settings.tracing_enabled:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    attributes = {"service.name": f"fayuan-{settings.service_name}", "service.namespace": "fayuan",
                  "deployment.environment.name": settings.environment}
    if version:
        attributes["service.version"] = version
    # Parent-based: a caller's decision (the sampled flag of its traceparent) is kept; the
    # ratio decides for the traces that start here.
    provider = TracerProvider(resource=Resource.create(attributes),
                              sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_ratio)))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
            endpoint=otlp_traces_url(settings.otlp_endpoint))))
    return provider


def otlp_traces_url(endpoint: str) -> str:
    """The collector's OTLP/HTTP traces URL from its base URL (as OTEL_EXPORTER_OTLP_ENDPOINT
    names it), or the traces URL itself."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(OTLP_TRACES_PATH) else endpoint + OTLP_TRACES_PATH


def tracer_of(provider: TracerProvider | None, *, version: str = "") -> Tracer | None:
    return provider.get_tracer("fayuan", version or None) if provider is not None else None


def current_tracer() -> Tracer | None:
    """The tracer of the service whose request, message or job is running (None: tracing off)."""
    return _tracer.get()


def context_with(tracer: Tracer | None) -> contextvars.Context:
    """A copy of the current context in which `tracer` is current: for tasks a service starts
    (asyncio.create_task(..., context=...)), so that the commands they run are traced too."""
    ctx = contextvars.copy_context()
    ctx.run(_tracer.set, tracer)
    return ctx


# --- propagation ------------------------------------------------------------------------------


def inject(ctx: Context | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) of the current span, or of `ctx`'s; {} without one."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, ctx)
    return carrier


def extract(carrier: Mapping[str, str]) -> Context:
    """The remote context in `carrier` (an empty one when it has none): never the ambient one,
    so a span started from it continues the sender's trace or starts a new one."""
    return PROPAGATOR.extract(carrier, Context())


def trace_id(span: Span) -> str:
    return format(span.get_span_context().trace_id, "032x")


# --- HTTP -------------------------------------------------------------------------------------


class ServerSpans:
    """A server span per HTTP request, named by its route template, continuing the caller's
    trace. Pure ASGI, as shared.http's middleware are (BaseHTTPMiddleware would cost more than
    the rest of the stack); installed only when tracing is on."""

    def __init__(self, app: ASGIApp, *, tracer: Tracer):
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        carrier = {name.decode(): value.decode("latin-1") for name, value in scope["headers"]
                   if name in (b"traceparent", b"tracestate")}
        parent = extract(carrier)
        method = scope["method"]
        span = self.tracer.start_span(method, parent, kind=SpanKind.SERVER, attributes={
            "http.request.method": method, "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
        })
        attached = otel_context.attach(trace.set_span_in_context(span, parent))
        current = _tracer.set(self.tracer)
        status = 500
        error = ""

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"x-correlation-id":
                        span.set_attribute("fayuan.correlation_id", value.decode("latin-1"))
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except BaseException as exc:
            span.record_exception(exc)
            error = type(exc).__qualname__
            raise
        finally:
            route = getattr(scope.get("route"), "path", None)
            if route:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500 or error:  # a 4xx is the caller's error, not the server's (semantic conventions)
                span.set_status(StatusCode.ERROR)
                span.set_attribute("error.type", error or str(status))
            _tracer.reset(current)
            otel_context.detach(attached)
            span.end()


# --- commands ---------------------------------------------------------------------------------


@contextmanager
def command_span(tracer: Tracer, name: str, qualified_name: str) -> Iterator[Span]:
    """The span of one command handler, current while it runs (so the events it emits carry
    it). A domain refusal (NotFound, Conflict, ...) is an answer, not a fault: it is noted, and
    the span is not marked as an error."""
    with tracer.start_as_current_span(name, attributes={"code.function.name": qualified_name},
                                      record_exception=False, set_status_on_exception=False) as span:
        try:
            yield span
        except DomainError as refusal:
            span.set_attribute("fayuan.refusal", type(refusal).__name__)
            raise
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, type(exc).__name__)
            raise


def note_retry(reason: str, attempt: int, error: BaseException | None = None) -> None:
    """An event on the current span (nothing when there is none: tracing off)."""
    attributes: dict[str, str | int] = {"attempt": attempt}
    if error is not None:
        attributes["error.type"] = type(error).__name__
    trace.get_current_span().add_event(reason, attributes)


# --- Kafka ------------------------------------------------------------------------------------


def _message_attributes(envelope: Envelope, operation: str) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": envelope.topic,
        "messaging.message.id": envelope.id,
        "cloudevents.event_id": envelope.id,
        "cloudevents.event_type": envelope.type,
        "cloudevents.event_source": envelope.source,
    }
    if envelope.key is not None:
        attributes["messaging.kafka.message.key"] = envelope.key
    return attributes


def start_send(tracer: Tracer, envelope: Envelope, relay: str) -> tuple[Span, Envelope]:
    """The producer span of one outbox row's publication, child of the context stored with the
    row, and the envelope carrying that span's context onward (to the consumer's span)."""
    span = tracer.start_span(f"send {envelope.topic}", extract(envelope.extensions), kind=SpanKind.PRODUCER,
                             attributes={**_message_attributes(envelope, "send"), "fayuan.relay": relay})
    traced = {k: v for k, v in envelope.extensions.items() if k not in TRACE_EXTENSIONS}
    traced.update(inject(trace.set_span_in_context(span)))
    return span, replace(envelope, extensions=traced)


def end_sends(spans: Sequence[Span], acks: Sequence[Any] = (), error: BaseException | None = None) -> None:
    """End the send spans of a batch once the broker acknowledged it (or refused it)."""
    for i, span in enumerate(spans):
        if error is not None:
            span.record_exception(error)
            span.set_status(StatusCode.ERROR, type(error).__name__)
        elif i < len(acks):
            span.set_attribute("messaging.destination.partition.id", str(acks[i].partition))
            span.set_attribute("messaging.kafka.offset", acks[i].offset)
        span.end()


@contextmanager
def process_span(tracer: Tracer, envelope: Envelope, *, consumer: str, group: str, partition: int,
                 offset: int) -> Iterator[Span]:
    """The consumer span of one message, child of its producer's span (the message's
    `ce_traceparent`), current while the handler runs so that what it emits carries it."""
    attributes = {**_message_attributes(envelope, "process"), "messaging.consumer.group.name": group,
                  "messaging.destination.partition.id": str(partition), "messaging.kafka.offset": offset,
                  "fayuan.consumer": consumer}
    current = _tracer.set(tracer)
    try:
        with tracer.start_as_current_span(f"process {envelope.topic}", extract(envelope.extensions),
                                          kind=SpanKind.CONSUMER, attributes=attributes) as span:
            yield span
    finally:
        _tracer.reset(current)
