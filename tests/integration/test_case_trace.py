"""One case, one trace: the five services in this process (their HTTP apps, relays and consumers
on the session's PostgreSQL and broker), tracing on, their spans read from an in-memory
exporter. The case is driven as tests/e2e/test_case_flow.py drives it, every call carrying the
caller's `traceparent` (one trace for the whole case, as a caller that traces would send), and
each hop across Kafka must continue it: request -> command -> relay send -> consumer -> its own
event's send -> the next consumer, up to the bar association's notice on its topic."""

from __future__ import annotations

import contextlib
import secrets

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.assignment.app import MIGRATIONS as ASSIGNMENT_MIGRATIONS
from services.assignment.app import AssignmentSettings
from services.assignment.app import create_app as assignment_app
from services.evaluation.app import MIGRATIONS as EVALUATION_MIGRATIONS
from services.evaluation.app import EvaluationSettings
from services.evaluation.app import create_app as evaluation_app
from services.intake.app import MIGRATIONS as INTAKE_MIGRATIONS
from services.intake.app import IntakeSettings
from services.intake.app import create_app as intake_app
from services.publication.app import MIGRATIONS as PUBLICATION_MIGRATIONS
from services.publication.app import PublicationSettings
from services.publication.app import create_app as publication_app
from services.sanctions.app import MIGRATIONS as SANCTIONS_MIGRATIONS
from services.sanctions.app import SanctionsSettings
from services.sanctions.app import create_app as sanctions_app
from shared.auth import Role
from shared.contracts import BarNoticeIssued, CaseAssigned, CaseClosed, CaseRegistered, EvaluationFailed
from shared.settings import ServiceSettings
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, read_topic
from tests.e2e.flow import (
    assigned,
    case_body,
    close,
    closing_check,
    fail_evaluation,
    record_work,
    recruit_pool,
    register,
)

SERVICES = {
    "intake": (IntakeSettings, INTAKE_MIGRATIONS, intake_app),
    "assignment": (AssignmentSettings, ASSIGNMENT_MIGRATIONS, assignment_app),
    "evaluation": (EvaluationSettings, EVALUATION_MIGRATIONS, evaluation_app),
    "sanctions": (SanctionsSettings, SANCTIONS_MIGRATIONS, sanctions_app),
    "publication": (PublicationSettings, PUBLICATION_MIGRATIONS, publication_app),
}


class Callers:
    """What tests/e2e/flow.py asks of a stack: the headers of a caller with roles and claims
    (tokens signed with the dev secret the services under test accept)."""

    def __init__(self, settings: ServiceSettings):
        self.settings = settings

    def headers(self, *roles: Role, **claims: str) -> dict[str, str]:
        return as_role(self.settings, *roles, **claims) if roles else {}


class Trace:
    """The finished spans of one trace id, and the one child of a span that matches."""

    def __init__(self, spans: list[ReadableSpan], trace_id: int):
        self.spans = [s for s in spans if s.context.trace_id == trace_id]

    def child(self, parent_span_id: int, *, service: str, kind: SpanKind, name: str | None = None,
              event_type: str | None = None) -> ReadableSpan:
        found = [
            s for s in self.spans
            if s.parent is not None and s.parent.span_id == parent_span_id and s.kind is kind
            and s.resource.attributes["service.name"] == f"fayuan-{service}"
            and (name is None or s.name == name)
            and (event_type is None or s.attributes.get("cloudevents.event_type") == event_type)
        ]
        assert len(found) == 1, (
            f"{service} {kind} {name or event_type} under {parent_span_id:016x}: {len(found)} found among "
            + "; ".join(f"{s.resource.attributes['service.name']} {s.name} "
                        f"parent={s.parent.span_id if s.parent else 0:016x}" for s in self.spans))
        return found[0]

    def chain(self, start: int, *steps: dict) -> list[ReadableSpan]:
        """Each step a child of the one before it, the first a child of `start`."""
        spans: list[ReadableSpan] = []
        parent = start
        for step in steps:
            spans.append(self.child(parent, **step))
            parent = spans[-1].context.span_id
        return spans


def _send(service: str, event: type) -> dict:
    return {"service": service, "kind": SpanKind.PRODUCER, "event_type": event.type}


def _process(service: str, event: type) -> dict:
    return {"service": service, "kind": SpanKind.CONSUMER, "event_type": event.type}


async def test_a_failed_case_is_one_trace_from_the_registration_to_the_bar_notice(
    migrated_settings, kafka_bootstrap,
):
    settings = {name: await migrated_settings(cls, migrations, tracing_enabled=True)
                for name, (cls, migrations, _) in SERVICES.items()}
    exporter = InMemorySpanExporter()
    caller_trace, caller_span = secrets.randbits(128), secrets.randbits(64)
    traceparent = f"00-{caller_trace:032x}-{caller_span:016x}-01"
    callers = Callers(settings["intake"])
    async with contextlib.AsyncExitStack() as running:
        clients = {}
        for name, (_, _, create_app) in SERVICES.items():
            app = create_app(settings[name])
            app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
            clients[name] = await running.enter_async_context(
                serve_in_process(app, headers={"traceparent": traceparent}))
        intake, assignment, evaluation = clients["intake"], clients["assignment"], clients["evaluation"]

        await recruit_pool(assignment, callers, agency_id="chaoyang", lawyers=1)
        case = await register(intake, callers, case_body("chaoyang"))
        case = await assigned(intake, callers, case)
        await record_work(intake, callers, case, "告知权利义务, 了解案情")
        await close(intake, callers, case)
        await closing_check(intake, callers, case)
        result = await fail_evaluation(evaluation, callers, case)
        assert result["grade"] == "fail"

        async def notice_sent() -> bool:
            return any(s.attributes.get("cloudevents.event_type") == BarNoticeIssued.type
                       and s.kind is SpanKind.PRODUCER for s in exporter.get_finished_spans())

        await eventually(notice_sent, timeout=90, interval=0.2)

    spans = Trace(list(exporter.get_finished_spans()), caller_trace)
    case_path = "/api/v1/cases/{case_id}"

    # The court's (here: the agency's) POST, its command, and the case's way through assignment.
    registration = spans.chain(
        caller_span,
        {"service": "intake", "kind": SpanKind.SERVER, "name": "POST /api/v1/cases"},
        {"service": "intake", "kind": SpanKind.INTERNAL, "name": "register_case"},
        _send("intake", CaseRegistered),
        _process("assignment", CaseRegistered),
        _send("assignment", CaseAssigned),
        _process("intake", CaseAssigned),
    )
    # The handler's closure reaches evaluation.
    closure = spans.chain(
        caller_span,
        {"service": "intake", "kind": SpanKind.SERVER, "name": f"POST {case_path}/closure"},
        {"service": "intake", "kind": SpanKind.INTERNAL, "name": "close_case"},
        _send("intake", CaseClosed),
        _process("evaluation", CaseClosed),
    )
    # The failed grade: sanctions opens the investigation and the notice goes to the bar association.
    failure = spans.chain(
        caller_span,
        {"service": "evaluation", "kind": SpanKind.SERVER, "name": "POST /api/v1/evaluations"},
        {"service": "evaluation", "kind": SpanKind.INTERNAL, "name": "complete_evaluation"},
        _send("evaluation", EvaluationFailed),
        _process("sanctions", EvaluationFailed),
        _send("sanctions", BarNoticeIssued),
    )

    for span in (*registration[2:], *closure[2:], *failure[2:]):
        assert span.attributes["messaging.system"] == "kafka"
        assert span.attributes["messaging.kafka.message.key"] == case["case_id"]
    notice_send = failure[-1]
    notice_topic = settings["sanctions"].topic(BarNoticeIssued.topic)
    assert notice_send.attributes["messaging.destination.name"] == notice_topic
    process_failure = failure[3]
    assert process_failure.attributes["messaging.destination.name"] == settings["sanctions"].topic(
        EvaluationFailed.topic)
    assert process_failure.attributes["cloudevents.event_id"] == failure[2].attributes["cloudevents.event_id"]
    assert process_failure.attributes["fayuan.outcome"] == "handled"

    # What the bar association's system receives names the notice's send span as its parent.
    [notice] = await read_topic(kafka_bootstrap, notice_topic, expect=1, quiet_seconds=0.5)
    assert notice.id == notice_send.attributes["cloudevents.event_id"]
    assert notice.extensions["traceparent"] == (
        f"00-{caller_trace:032x}-{notice_send.context.span_id:016x}-01")
