"""Tracing (shared/tracing.py): W3C trace context through HTTP, the outbox and Kafka, on the
kernel's own app with a real database and broker; and nothing at all when tracing is off."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Request
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import (
    INVALID_SPAN_CONTEXT,
    NonRecordingSpan,
    SpanKind,
    StatusCode,
    Tracer,
    get_current_span,
)

from shared import tracing
from shared.aggregate import NotFound
from shared.auth import Principal, Role, allow
from shared.events import Envelope
from shared.logs import _add_trace_ids
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings
from shared.store import driver
from shared.testing.auth import app_with_auth
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, read_topic
from shared.tests.auth_app import router as auth_router
from shared.tests.helpers import Noted
from shared.uow import UnitOfWork, retry_on_conflict, unit_of_work

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


# --- the envelope carries the context -------------------------------------------------------


def test_traceparent_and_tracestate_round_trip_through_the_envelopes_kafka_headers():
    envelope = Envelope.wrap(Noted(stream="s-1", n=1), source="/test", correlation_id="c-1")
    envelope = replace(envelope, extensions={**envelope.extensions, "traceparent": TRACEPARENT,
                                             "tracestate": "fayuan=t61rcWkgMzE,other=x"})
    message = envelope.to_kafka()
    assert message.headers["ce_traceparent"] == TRACEPARENT.encode()
    assert message.headers["ce_tracestate"] == b"fayuan=t61rcWkgMzE,other=x"
    read = Envelope.from_kafka("t", b"s-1", message.value, list(message.headers.items()))
    assert read.extensions == {"correlationid": "c-1", "traceparent": TRACEPARENT,
                               "tracestate": "fayuan=t61rcWkgMzE,other=x"}
    remote = get_current_span(tracing.extract(read.extensions)).get_span_context()
    assert (remote.trace_id, remote.span_id, remote.is_remote) == (
        0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True)
    assert tracing.inject(tracing.extract(read.extensions)) == {
        "traceparent": TRACEPARENT, "tracestate": "fayuan=t61rcWkgMzE,other=x"}


def test_a_message_without_trace_context_starts_no_trace():
    assert not get_current_span(tracing.extract({})).get_span_context().is_valid
    assert tracing.inject(tracing.extract({"traceparent": "not a traceparent"})) == {}


def test_the_otlp_endpoint_is_the_collectors_base_url_or_its_traces_url():
    assert tracing.otlp_traces_url("http://otel-collector:4318") == "http://otel-collector:4318/v1/traces"
    assert tracing.otlp_traces_url("http://c:4318/") == "http://c:4318/v1/traces"
    assert tracing.otlp_traces_url("https://c/otlp/v1/traces") == "https://c/otlp/v1/traces"


def test_off_there_is_no_provider_and_on_the_provider_names_the_service():
    assert tracing.tracer_provider(ServiceSettings(service_name="intake")) is None
    provider = tracing.tracer_provider(
        ServiceSettings(service_name="intake", tracing_enabled=True, tracing_sample_ratio=0.25,
                        environment="test"), version="1.2.3")
    assert isinstance(provider, TracerProvider)
    assert {k: provider.resource.attributes[k] for k in ("service.name", "service.version",
                                                            "deployment.environment.name")} == {
        "service.name": "fayuan-intake", "service.version": "1.2.3", "deployment.environment.name": "test"}
    assert isinstance(provider.sampler, ParentBased)
    assert "TraceIdRatioBased{0.25}" in provider.sampler.get_description()


def test_the_ratio_samples_new_traces_and_a_callers_decision_is_kept():
    provider = tracing.tracer_provider(ServiceSettings(tracing_enabled=True, tracing_sample_ratio=0.0))
    assert provider is not None
    tracer = provider.get_tracer("test")
    assert not tracer.start_span("new").is_recording()
    assert tracer.start_span("continued", tracing.extract({"traceparent": TRACEPARENT})).is_recording()
    assert not tracer.start_span("refused", tracing.extract(
        {"traceparent": TRACEPARENT[:-2] + "00"})).is_recording()


async def test_a_domain_refusal_is_noted_on_the_command_span_but_is_no_error():
    exporter, tracer = _in_memory()

    @retry_on_conflict
    async def refuse() -> None:
        raise NotFound("no such case")

    @retry_on_conflict
    async def crash() -> None:
        raise RuntimeError("the disk is full")

    for command, error in ((refuse, NotFound), (crash, RuntimeError)):
        with pytest.raises(error):
            await asyncio.create_task(command(), context=tracing.context_with(tracer))
    refused, crashed = exporter.get_finished_spans()
    assert refused.name.endswith("refuse") and refused.attributes["fayuan.refusal"] == "NotFound"
    assert refused.status.status_code is StatusCode.UNSET and not refused.events
    assert crashed.status.status_code is StatusCode.ERROR
    assert [e.name for e in crashed.events] == ["exception"]


async def test_a_command_outside_a_traced_request_or_message_makes_no_span():
    exporter, _ = _in_memory()

    @retry_on_conflict
    async def command() -> str:
        return "done"

    assert await command() == "done"
    assert exporter.get_finished_spans() == ()


def _in_memory() -> tuple[InMemorySpanExporter, Tracer]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, provider.get_tracer("test")


def test_log_lines_written_in_a_span_carry_its_ids():
    _, tracer = _in_memory()
    assert _add_trace_ids(None, "info", {}) == {}
    with tracer.start_as_current_span("work") as span:
        ids = _add_trace_ids(None, "info", {})
    assert ids == {"trace_id": tracing.trace_id(span),
                   "span_id": format(span.get_span_context().span_id, "016x")}


async def test_a_failing_request_is_an_error_span_and_a_refused_one_is_not(make_settings):
    settings = make_settings(service_name="kernel", tracing_enabled=True, relay_enabled=False,
                             consumers_enabled=False)
    app = app_with_auth(settings, auth_router)
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/api/v1/tallies/-/boom")).status_code == 500
        assert (await http.get("/api/v1/tallies/h1")).status_code == 401
    boom, unauthenticated = exporter.get_finished_spans()
    assert boom.name == "GET /api/v1/tallies/-/boom" and boom.status.status_code is StatusCode.ERROR
    assert boom.attributes["error.type"] == "RuntimeError" and boom.parent is None
    assert unauthenticated.status.status_code is StatusCode.UNSET
    assert unauthenticated.attributes["http.response.status_code"] == 401


# --- through a running kernel app -------------------------------------------------------------


@retry_on_conflict
async def note(uow_factory, stream: str) -> None:
    async with uow_factory() as uow:
        uow.emit(Noted(stream=stream, n=0))


async def echo(event: Noted, uow: UnitOfWork) -> None:
    """The first note of a stream is answered by a second: the consumer's own event."""
    if event.n == 0:
        uow.emit(Noted(stream=event.stream, n=1))


router = APIRouter()


@router.post("/api/v1/notes/{stream}", status_code=202)
async def post_note(stream: str, request: Request,
                    _: Annotated[Principal, allow(Role.public)]) -> dict[str, str]:
    app = request.app
    await note(lambda: unit_of_work(app.state.engine, app.state.settings), stream)
    return {"stream": stream}


def _app(settings: ServiceSettings):
    spec = ServiceSpec(title="tracing test", description="A kernel app that notes and echoes",
                       routers=[router], migrations=Path(__file__).parent,
                       consumers={"echo": {Noted: echo}})
    return build_app(spec, settings)


async def _handled(engine, count: int) -> bool:
    async with engine.connect() as conn:
        return await (await driver(conn)).fetchval("SELECT count(*) FROM inbox") == count


async def _ended(exporter: InMemorySpanExporter, name: str, count: int) -> bool:
    return len(_by_name(list(exporter.get_finished_spans()), name)) == count


def _by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def _is_child(child: ReadableSpan, parent: ReadableSpan) -> bool:
    return (child.parent is not None and child.parent.span_id == parent.context.span_id
            and child.context.trace_id == parent.context.trace_id)


async def test_one_trace_runs_from_the_callers_request_through_the_relay_and_a_consumer_and_on(
    kernel_db, make_settings, kafka_bootstrap,
):
    engine, kernel = kernel_db
    settings = make_settings(service_name="kernel", database_name=kernel.database_name, tracing_enabled=True)
    app = _app(settings)
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    caller_trace, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    async with serve_in_process(app, headers={}) as http:
        r = await http.post("/api/v1/notes/s-7", headers={
            "traceparent": f"00-{caller_trace}-{caller_span}-01", "tracestate": "court=1"})
        assert r.status_code == 202, r.text
        assert (await http.get("/healthz")).status_code == 200
        await eventually(lambda: _handled(engine, 2), timeout=60)
        await eventually(lambda: _ended(exporter, f"process {settings.topic(Noted.topic)}", 2))
    spans = list(exporter.get_finished_spans())
    topic = settings.topic(Noted.topic)

    [request] = _by_name(spans, "POST /api/v1/notes/{stream}")
    [command] = _by_name(spans, "note")
    first_send, second_send = sorted(_by_name(spans, f"send {topic}"), key=lambda s: s.start_time or 0)
    first_process, second_process = sorted(_by_name(spans, f"process {topic}"),
                                           key=lambda s: s.start_time or 0)
    assert not [s for s in spans if "healthz" in s.name]  # probes are not traced

    assert request.kind is SpanKind.SERVER
    assert request.parent is not None and request.parent.is_remote
    assert format(request.parent.span_id, "016x") == caller_span
    chain = [request, command, first_send, first_process, second_send, second_process]
    assert {format(s.context.trace_id, "032x") for s in chain} == {caller_trace}
    assert all(_is_child(child, parent) for parent, child in zip(chain, chain[1:], strict=False)), [
        (s.name, s.parent) for s in chain]
    assert request.attributes["http.route"] == "/api/v1/notes/{stream}"
    assert request.attributes["http.response.status_code"] == 202
    assert request.attributes["fayuan.correlation_id"] == r.headers["X-Correlation-ID"]
    assert request.resource.attributes["service.name"] == "fayuan-kernel"
    assert command.attributes["code.function.name"] == "shared.tests.test_tracing.note"
    assert (first_send.kind, first_process.kind) == (SpanKind.PRODUCER, SpanKind.CONSUMER)
    for span in (first_send, first_process):
        assert {k: span.attributes[k] for k in ("messaging.system", "messaging.destination.name",
                                               "messaging.kafka.message.key", "cloudevents.event_type")} == {
            "messaging.system": "kafka", "messaging.destination.name": topic,
            "messaging.kafka.message.key": "s-7", "cloudevents.event_type": Noted.type}
    assert first_process.attributes["cloudevents.event_id"] == first_send.attributes["cloudevents.event_id"]
    assert first_process.attributes["messaging.consumer.group.name"] == settings.group("fayuan.kernel.echo")
    assert first_process.attributes["fayuan.outcome"] == "handled"

    # On the wire: each message names its send span as parent, the caller's tracestate kept.
    seen = await read_topic(kafka_bootstrap, topic, expect=2, quiet_seconds=0.5)
    by_n = {e.data["n"]: e for e in seen}
    for n, send in ((0, first_send), (1, second_send)):
        assert by_n[n].extensions["traceparent"] == (
            f"00-{caller_trace}-{format(send.context.span_id, '016x')}-01")
        assert by_n[n].extensions["tracestate"] == "court=1"
        assert by_n[n].id == send.attributes["cloudevents.event_id"]


async def test_tracing_off_makes_no_span_and_adds_no_trace_header(
    kernel_db, make_settings, kafka_bootstrap, monkeypatch,
):
    made: list[object] = []
    for cls in (NonRecordingSpan, ReadableSpan):  # every span class's constructor: SDK's and API's
        original = cls.__init__

        def counting(self, *args, _original=original, **kwargs):
            made.append(self)
            _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)
    engine, kernel = kernel_db
    settings = make_settings(service_name="kernel", database_name=kernel.database_name)
    assert settings.tracing_enabled is False
    app = _app(settings)
    assert app.state.tracer_provider is None
    assert not [m for m in app.user_middleware if m.cls is tracing.ServerSpans]
    async with serve_in_process(app, headers={}) as http:
        r = await http.post("/api/v1/notes/s-8", headers={"traceparent": TRACEPARENT})
        assert r.status_code == 202, r.text
        await eventually(lambda: _handled(engine, 2), timeout=60)
    seen = await read_topic(kafka_bootstrap, settings.topic(Noted.topic), expect=2, quiet_seconds=0.5)
    assert sorted(e.data["n"] for e in seen) == [0, 1]
    assert all("traceparent" not in e.extensions and "tracestate" not in e.extensions for e in seen)
    assert made == []
    # The count would have seen a span of either kind:
    _in_memory()[1].start_span("probe")
    NonRecordingSpan(INVALID_SPAN_CONTEXT)
    assert len(made) == 2
