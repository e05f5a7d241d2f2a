"""The bar association's side of its topic: a consumer built on librdkafka (confluent-kafka), the
client most such systems use, in group mode, reading the notices Fayuan's relay publishes and
checking them against the published AsyncAPI document, as the bar association's developers would.

It runs on the session's broker: Apache Kafka when KAFKA_BOOTSTRAP_SERVERS names it (the Apache
Kafka pass of .ci/run), with librdkafka's default group timeouts; otherwise the embedded broker,
which holds a librdkafka group's first join for the whole rebalance timeout, so the timeouts are
the short ones design.md §5 and docs/asyncapi.yaml tell the bar association to use there."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from shared import outbox
from shared.contracts import BarNoticeIssued, CaseKind, HandlerKind, HandlerRef
from shared.events import Envelope
from shared.outbox import Relay
from shared.testing.kafka import eventually

pytestmark = pytest.mark.broker

ASYNCAPI = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml").read_text())
EMBEDDED_BROKER_TIMEOUTS = {"max.poll.interval.ms": 6000, "session.timeout.ms": 6000}


def _validator(ref: str) -> jsonschema.Validator:
    """A validator for one schema of the AsyncAPI document, its $refs resolved in that document."""
    return jsonschema.Draft202012Validator({"$ref": ref, "components": ASYNCAPI["components"]})


NOTICE_HEADERS = _validator("#/components/messages/BarNoticeIssued/headers")
NOTICE_PAYLOAD = _validator("#/components/schemas/BarNoticeIssued")


def _notice(settings, n: int) -> Envelope:
    lawyer = HandlerRef(handler_id=f"handler-{n}", name=f"王律师{n}", kind=HandlerKind.lawyer,
                        licence_number=f"1110120{n:08d}", institution_id="firm-1",
                        institution_name="北京市明法律师事务所")
    notice = BarNoticeIssued(notice_id=str(uuid.uuid4()), investigation_id=str(uuid.uuid4()),
                             case_id=f"case-{n}", case_number=f"FY-2026-{n:06d}", case_kind=CaseKind.criminal,
                             lawyer=lawyer, reason="案件质量评估不合格", issued_at=datetime.now(UTC))
    envelope = Envelope.wrap(notice, source="/fayuan/sanctions")
    return Envelope(**{**envelope.__dict__, "topic": settings.topic(BarNoticeIssued.topic)})


async def _commit_notices(engine, settings, numbers: range) -> list[Envelope]:
    """Notices committed to the outbox as sanctions commits them; the relay publishes them."""
    notices = [_notice(settings, n) for n in numbers]
    async with engine.begin() as conn:
        await outbox.add(conn, notices)
    return notices


def _bar_association_consumer(bootstrap: str, group: str) -> Consumer:
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,  # commit after handling, as docs/asyncapi.yaml asks
    }
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        config |= EMBEDDED_BROKER_TIMEOUTS
    return Consumer(config)


# A commit refused because the group rebalanced under the consumer (a session that lapsed on a
# loaded machine, the embedded broker's slow joins): the consumer rejoins and commits again, as
# the bar association's at-least-once consumer must (docs/asyncapi.yaml).
REBALANCED = {KafkaError._ASSIGNMENT_LOST, KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION,
              KafkaError.UNKNOWN_MEMBER_ID}


def _consume(bootstrap: str, group: str, topic: str, *, expect: int, quiet_seconds: float = 2.0,
             timeout: float = 90.0) -> list[Message]:
    """Join `group`, read until `expect` messages have come and the topic stays quiet, commit
    them synchronously, leave the group. A message redelivered after a rebalance counts once."""
    consumer = _bar_association_consumer(bootstrap, group)
    consumer.subscribe([topic])
    received: dict[tuple[int, int], Message] = {}
    loop_started = quiet_since = time.monotonic()

    def poll_until_quiet() -> None:
        nonlocal quiet_since
        while time.monotonic() - loop_started < timeout:
            message = consumer.poll(0.2)
            if message is None:
                if len(received) >= expect and time.monotonic() - quiet_since > quiet_seconds:
                    return
                continue
            if message.error():
                # A poll later than max.poll.interval.ms (a busy machine) makes librdkafka leave the
                # group and say so here; the next poll rejoins it, and what comes again is counted once.
                assert message.error().code() in (KafkaError._PARTITION_EOF, KafkaError._MAX_POLL_EXCEEDED), \
                    message.error()
                continue
            received[(message.partition(), message.offset())] = message
            quiet_since = time.monotonic()

    try:
        poll_until_quiet()
        while received:
            last = {}
            for partition, offset in received:
                last[partition] = max(offset, last.get(partition, -1))
            try:
                consumer.commit(offsets=[TopicPartition(topic, p, o + 1) for p, o in last.items()],
                                asynchronous=False)
                break
            except KafkaException as refused:
                if refused.args[0].code() not in REBALANCED or time.monotonic() - loop_started > timeout:
                    raise
                quiet_since = time.monotonic()
                poll_until_quiet()  # rejoin; what comes again is already in `received`
    finally:
        consumer.close()
    return list(received.values())


def _read(message: Message) -> tuple[dict, dict]:
    """Headers and data of a binary-mode CloudEvent, read without Fayuan's code."""
    headers = {name: value.decode() for name, value in message.headers() or []}
    return headers, json.loads(message.value())


async def test_a_librdkafka_group_consumer_reads_every_notice_as_the_asyncapi_document_describes(
        kernel_db, kafka_bootstrap):
    engine, settings = kernel_db
    topic = settings.topic(BarNoticeIssued.topic)
    group = settings.group("bar-association")
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    try:
        first = await _commit_notices(engine, settings, range(1, 4))
        await eventually(lambda: _published(relay, 3), timeout=60)

        messages = await asyncio.to_thread(_consume, kafka_bootstrap, group, topic, expect=3)

        assert sorted(_read(m)[0]["ce_id"] for m in messages) == sorted(e.id for e in first)
        for message in messages:
            headers, data = _read(message)
            NOTICE_HEADERS.validate(headers)
            NOTICE_PAYLOAD.validate(data)
            assert message.key().decode() == data["case_id"] == headers["ce_subject"]
            assert headers["ce_type"] == BarNoticeIssued.type
        assert len({m.partition() for m in messages if m.key() == b"case-1"}) == 1

        # The bar association's system restarts: the same group resumes after its commit, so
        # it gets the new notice and none of the ones it already handled.
        later = await _commit_notices(engine, settings, range(4, 5))
        await eventually(lambda: _published(relay, 4), timeout=60)
        messages = await asyncio.to_thread(_consume, kafka_bootstrap, group, topic, expect=1)
        assert [_read(m)[0]["ce_id"] for m in messages] == [later[0].id]
    finally:
        stop.set()
        await asyncio.wait_for(relaying, 30)


async def _published(relay: Relay, count: int) -> bool:
    return relay.published >= count
