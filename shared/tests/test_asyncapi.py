"""The AsyncAPI document: committed as generated, complete, internally consistent, and true to
what the kernel actually puts on the wire."""

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaConsumer

import shared.contracts  # noqa: F401
from shared import asyncapi
from shared.consumer import ConsumerRunner
from shared.contracts import CaseClosed, CaseKind, HandlerKind, HandlerRef
from shared.events import Envelope
from shared.testing.kafka import publish
from shared.tests.helpers import Noted
from shared.topics import dead_letter_topic

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def committed() -> dict[str, Any]:
    return yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_the_committed_document_is_the_generated_one():
    assert COMMITTED.read_text(encoding="utf-8") == asyncapi.render(), (
        "docs/asyncapi.yaml is stale: run `python -m shared.asyncapi > docs/asyncapi.yaml` and commit it")


def test_every_contract_event_type_is_a_message_on_its_topic_with_its_schema():
    document = committed()
    contract = asyncapi.contract_events()
    assert contract, "no contract events registered"
    by_type = {m["headers"]["properties"]["ce_type"]["const"]: name
               for name, m in document["components"]["messages"].items() if name != "DeadLetter"}
    assert set(by_type) == set(contract)
    channels = {c["address"]: c for c in document["channels"].values()}
    for event_type, model in contract.items():
        name = by_type[event_type]
        assert name in channels[model.topic]["messages"], f"{event_type} is not on {model.topic}"
        payload = resolve(document, document["components"]["messages"][name]["payload"]["$ref"])
        assert set(payload["properties"]) == set(model.model_fields)
        assert set(payload.get("required", [])) == {
            n for n, f in model.model_fields.items() if f.is_required()
        }
        assert dead_letter_topic(model.topic) in channels


def test_test_only_event_types_stay_out_of_the_contract():
    assert Noted.type not in asyncapi.contract_events()
    assert Noted.topic not in asyncapi.render()


def test_every_reference_resolves_and_operations_send_their_channels_messages():
    document = committed()
    for ref in refs(document):
        assert resolve(document, ref) is not None, ref
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        assert all(m["$ref"].startswith(channel + "/messages/") for m in operation["messages"]), name


def test_documented_headers_are_those_the_kernel_writes():
    handler = HandlerRef(handler_id="h", name="王律师", kind=HandlerKind.lawyer, institution_id="i",
                         institution_name="某律师事务所")
    event = CaseClosed(case_id="c1", case_number="FY-2026-000001", case_kind=CaseKind.civil,
                       district="朝阳区", agency_id="a", handler=handler, outcome="调解",
                       ended_on=datetime.now(UTC).date(), closed_at=datetime.now(UTC))
    bare = Envelope.wrap(event, source="/fayuan/intake").to_kafka().headers
    full = Envelope.wrap(event, source="/fayuan/intake", correlation_id="r", causation_id="e")
    # The relay adds the tracing extension's attributes when tracing is on (shared/tracing.py).
    trace = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "f=1"}
    traced = Envelope(**{**full.__dict__, "extensions": {**full.extensions, **trace}}).to_kafka().headers
    headers = committed()["components"]["messages"]["CaseClosed"]["headers"]

    assert set(traced) == set(headers["properties"])
    assert set(headers["required"]) <= set(bare)
    assert bare["ce_type"].decode() == headers["properties"]["ce_type"]["const"]
    assert bare["ce_specversion"].decode() == headers["properties"]["ce_specversion"]["const"]
    assert bare["content-type"].decode() == headers["properties"]["content-type"]["const"]


async def test_documented_dead_letter_headers_are_those_a_consumer_writes(kernel_db):
    engine, settings = kernel_db

    async def refuse(event, uow):
        raise RuntimeError("cannot handle this one")

    runner = ConsumerRunner(engine, settings, name="refuser", handlers={Noted: refuse})
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await publish(settings, Noted(stream="s", n=1))
        headers = await first_message_headers(settings.kafka_bootstrap_servers,
                                              dead_letter_topic(settings.topic(Noted.topic)))
    finally:
        stop.set()
        await task

    documented = committed()["components"]["messages"]["DeadLetter"]["headers"]
    written = {k for k in headers if k.startswith("x-dead-letter-")}
    assert written == set(asyncapi.DEAD_LETTER_HEADERS) == set(documented["required"])
    assert set(headers) <= set(documented["properties"])


async def first_message_headers(bootstrap: str, topic: str) -> dict[str, bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"reader-{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    return dict(records[0].headers)
    finally:
        await consumer.stop()


def test_fayuan_receives_what_the_bar_association_sends_and_sends_the_rest():
    """AsyncAPI 3 operations are the application's own: Fayuan `receive`s the bar association's
    outcomes and `send`s everything else (its own events, and the dead letters of every topic)."""
    document = committed()
    actions = {op["channel"]["$ref"].removeprefix("#/channels/"): op["action"]
               for name, op in document["operations"].items() if not name.startswith("dead_letter_")}
    outcomes = "legalaid_bar-association_outcomes"
    assert actions.pop(outcomes) == "receive"
    assert set(actions.values()) == {"send"}
    [example] = document["components"]["messages"]["BarOutcomeReported"]["examples"]
    assert example["headers"]["ce_source"] == "/bar-association"
    assert example["headers"]["ce_type"] == "legalaid.bar-association.outcome-reported.v1"
