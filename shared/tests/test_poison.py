"""Poison on every topic every service consumes (issue 18): a message that is not an event
(malformed bytes), an event whose data violates its schema, and one whose handler raises each
reach the topic's dead-letter topic with the reason in headers while the flow goes on; an event
of a type no contract knows (a newer version) is skipped and counted, as readers are tolerant
(docs/adr/0001). The subscriptions are the services' own (`CONSUMERS` in services/*/consumers.py);
their handlers are replaced by a recorder here (the runner's routing, validation and dead
letters are what is tested), so the kernel tables suffice."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY

from shared import asyncapi, context
from shared.consumer import ConsumerRunner
from shared.events import Envelope, IntegrationEvent
from shared.testing.kafka import create_topics, eventually
from shared.topics import dead_letter_topic

SERVICES = sorted(p.parent.name for p in (Path(__file__).parents[2] / "services").glob("*/consumers.py"))
UNKNOWN = "legalaid.future.something-new.v9"


def subscriptions(service: str) -> dict[str, dict[type[IntegrationEvent], object]]:
    return importlib.import_module(f"services.{service}.consumers").CONSUMERS


def test_every_service_declares_what_it_consumes():
    assert SERVICES == ["assignment", "evaluation", "intake", "publication", "sanctions"]
    assert all(subscriptions(s) for s in SERVICES)


class Recorder:
    """Stands for every handler of a consumer: notes what it is given, raises for the events
    it was told to."""

    def __init__(self):
        self.seen: list[str] = []
        self.raise_for: set[str] = set()

    async def __call__(self, event: IntegrationEvent, uow) -> None:
        event_id = context.causation_id.get()  # the runner sets it to the event's id
        if event_id in self.raise_for:
            raise RuntimeError(f"handler refused {event_id}")
        self.seen.append(event_id)


def _example(model: type[IntegrationEvent], case: str) -> Envelope:
    event = model.model_validate({**asyncapi.payload_examples(model)[0], model.key_field: case})
    return Envelope.wrap(event, source="/test")


def _wire(envelope: Envelope, topic: str, **overrides) -> tuple[str, bytes | None, bytes, list]:
    envelope = Envelope(**{**envelope.__dict__, "topic": topic, **overrides})
    message = envelope.to_kafka()
    return topic, message.key.encode(), message.value, list(message.headers.items())


async def _dead_letters(bootstrap: str, topics: list[str], expect: int) -> list:
    reader = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=f"dlq-{uuid.uuid4().hex[:8]}",
                              auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    records: list = []
    try:
        async def enough() -> bool:
            batch = await reader.getmany(timeout_ms=200)
            records.extend(r for rs in batch.values() for r in rs)
            return len(records) >= expect
        await eventually(enough, timeout=90)
    finally:
        await reader.stop()
    return records


def _unknown_count(service: str, topic: str) -> float:
    return REGISTRY.get_sample_value("fayuan_events_unknown_type_total",
                                     {"service": service, "topic": topic, "type": UNKNOWN}) or 0.0


@pytest.mark.parametrize("service", SERVICES)
async def test_poison_on_every_consumed_topic_is_dead_lettered_with_its_reason_and_the_flow_goes_on(
    service, kernel_db,
):
    engine, settings = kernel_db
    settings = settings.model_copy(update={"service_name": service})
    runners, expected, good = [], [], {}
    sends: list[tuple[str, bytes | None, bytes, list]] = []
    for name, handlers in subscriptions(service).items():
        recorder = Recorder()
        runner = ConsumerRunner(engine, settings, name=name, handlers=dict.fromkeys(handlers, recorder))
        runners.append((runner, recorder))
        for topic in runner.topics:
            model = next(m for m in handlers if settings.topic(m.topic) == topic)
            await create_topics(settings, model.topic)
            raising = _example(model, f"raising-{uuid.uuid4().hex[:6]}")
            recorder.raise_for.add(raising.id)
            violating = _example(model, f"violating-{uuid.uuid4().hex[:6]}")
            followed = _example(model, f"good-{uuid.uuid4().hex[:6]}")
            good[followed.id] = recorder
            sends += [
                (topic, b"garbage", b"\x00\xff{not json", []),
                _wire(violating, topic, data={model.key_field: violating.key, "unexpected": True}),
                _wire(raising, topic),
                _wire(_example(model, "future"), topic, type=UNKNOWN),
                _wire(followed, topic),
            ]
            expected += [(runner.name, topic, kind) for kind in ("ValueError", "_Poison", "RuntimeError")]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for topic, key, value, headers in sends:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
    unknown_before = {t: _unknown_count(service, t) for r, _ in runners for t in r.topics}

    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r, _ in runners]
    try:
        async def flowed() -> bool:
            return all(event_id in recorder.seen for event_id, recorder in good.items())
        await eventually(flowed, timeout=120)
        records = await _dead_letters(settings.kafka_bootstrap_servers,
                                      sorted({dead_letter_topic(t) for _, t, _ in expected}), len(expected))
    finally:
        stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks), 30)

    headers = [{k: v.decode() for k, v in r.headers} for r in records]
    got = sorted((h["x-dead-letter-consumer"], h["x-dead-letter-topic"], h["x-dead-letter-error-type"])
                 for h in headers)
    assert got == sorted(expected)
    assert all(h["x-dead-letter-error"] for h in headers)  # the reason
    for runner, recorder in runners:
        assert not set(recorder.seen) & recorder.raise_for
        for topic in runner.topics:
            assert _unknown_count(service, topic) == unknown_before[topic] + 1
