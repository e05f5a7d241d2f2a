"""Talking to the test broker as another system would: publish integration events into a
service's topics, read a topic from the beginning, wait for something to become true."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]

from shared.events import Envelope, IntegrationEvent
from shared.settings import ServiceSettings
from shared.topics import dead_letter_topic, ensure_topics

T = TypeVar("T")

# A test that stops and restarts a broker of its own always runs the embedded one (memory only,
# so it comes back empty: the case the relay's re-send and the runner's restart exist for).
# Under KAFKA_BOOTSTRAP_SERVERS (the Apache Kafka pass of .ci/run) it would only repeat what the
# embedded pass already ran, so it is skipped there (docs/adr/0004).
embedded_broker_only = pytest.mark.skipif(
    bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")),
    reason="restarts an embedded broker of its own; already run in the embedded pass",
)

# A test of what the embedded broker gets wrong (end offsets after multi-record batches,
# design.md §5) runs only on the broker KAFKA_BOOTSTRAP_SERVERS names: Apache Kafka in .ci/run.
apache_kafka_only = pytest.mark.skipif(
    not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
    reason="the embedded broker's end offsets lag after multi-record batches (design.md §5)",
)


async def publish(
    settings: ServiceSettings, *events: IntegrationEvent, source: str = "/test"
) -> list[Envelope]:
    """Publish events as their producing service would (binary CloudEvents, keyed), honouring
    the settings' topic prefix."""
    await create_topics(settings, *{event.topic for event in events})
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    sent = []
    try:
        for event in events:
            envelope = Envelope.wrap(event, source=source)
            message = envelope.to_kafka()
            key = message.key.encode() if isinstance(message.key, str) else message.key
            await producer.send_and_wait(settings.topic(event.topic), message.value, key=key,
                                         headers=list(message.headers.items()))
            sent.append(envelope)
    finally:
        await producer.stop()
    return sent


async def create_topics(settings: ServiceSettings, *names: str) -> None:
    """Create topics (unprefixed names) and their dead-letter topics before anything is sent to
    them, as Strimzi's KafkaTopic resources do in production: Apache Kafka runs with
    auto.create.topics.enable=false, so a send to a missing topic fails (docs/adr/0004)."""
    topics = [settings.topic(name) for name in names]
    await ensure_topics(settings, topics + [dead_letter_topic(t) for t in topics])


async def read_topic(bootstrap: str, topic: str, *, expect: int, quiet_seconds: float = 2.0,
                     timeout: float = 60.0) -> list[Envelope]:
    """Read `topic` from the beginning with a fresh group until `expect` events have arrived and
    the topic then stays quiet for `quiet_seconds` (to catch extras). End offsets are not used:
    the embedded broker reports them wrong after batches (design.md §5)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"reader-{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: list[Envelope] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet_since = loop.time()
    try:
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            records = [r for rs in batch.values() for r in rs]
            seen.extend(Envelope.from_kafka(r.topic, r.key, r.value, r.headers) for r in records)
            if records:
                quiet_since = loop.time()
            elif len(seen) >= expect and loop.time() - quiet_since > quiet_seconds:
                break
    finally:
        await consumer.stop()
    return seen


EVENTUALLY_SECONDS = 90.0
"""How long a test waits for what travels through the broker. Alone, an event crosses services in
well under a second and a consumer group forms in about 5 s; the suite runs four workers on two
cores beside whole stacks of processes, where a group's join once took over 30 s (the embedded
broker answering health probes late). What these tests assert is that it arrives, not how fast:
a test that passes waits no longer for the larger figure."""


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = EVENTUALLY_SECONDS,
                     interval: float = 0.1) -> T:
    """Call `probe` until it returns a truthy value (returned) or raises no AssertionError;
    fail with the last error after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: BaseException | None = None
    while loop.time() < deadline:
        try:
            result = await probe()
            if result:
                return result
        except AssertionError as exc:
            last = exc
        await asyncio.sleep(interval)
    raise AssertionError(f"not true after {timeout}s: {last}")
