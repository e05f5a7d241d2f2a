"""Consumer throughput: the kernel's ConsumerRunner against a bare aiokafka hop, same events.

N CaseRegistered events (binary CloudEvents, keyed by case id, encoded beforehand) go through
two hops, each on a topic of its own (4 partitions, like every topic on the development broker):

- bare hop: an AIOKafkaProducer (acks=all) sends them while a plain AIOKafkaConsumer, assigned
  all partitions (no group), reads them and decodes each: the CloudEvent parsed
  (`Envelope.from_kafka`) and its data validated into the contract model. No database.
- runner hop: the same producer sends them while the kernel's ConsumerRunner (its own group)
  handles them with a one-row projection written through the unit of work. So each event pays
  what every real consumer pays: the CloudEvent parse, the model validation, the inbox (set-wise
  per batch), the handler's write, the batch's commit, and the offset commit per batch.

Both hops are timed from the first send of the N to the last event decoded (bare) or committed
(runner), after one warm-up event has gone through each (so the group join, seconds on Tansu,
is shown apart). The issue's target: runner >= 50% of the bare hop. Messages are counted,
never compared to end offsets: the embedded broker reports end offsets wrong after batches
(design.md §5).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from shared.consumer import ConsumerRunner
from shared.contracts import CaseFlags, CaseKind, CaseRegistered
from shared.db import KERNEL_DDL, create_engine
from shared.events import Envelope
from shared.settings import ServiceSettings
from shared.topics import ensure_topics
from shared.uow import UnitOfWork

TARGET = 0.50
DATABASE = "fayuan_bench_consumer"

_TABLE = "CREATE TABLE IF NOT EXISTS bench_handled (case_id text PRIMARY KEY, case_number text NOT NULL)"


@dataclass
class ConsumeResult:
    path: str
    events: int
    startup_s: float  # from start() to the warm-up event through (group join, first fetch)
    seconds: float  # from the first send of the N to the last decoded (bare) or committed (runner)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ProduceResult:
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _events(count: int) -> list[CaseRegistered]:
    kinds = list(CaseKind)
    at = datetime.now(UTC)
    return [
        CaseRegistered(case_id=str(uuid.uuid4()), case_number=f"FY-BENCH-{n:06d}",
                       case_kind=kinds[n % len(kinds)], cause="盗窃", district="朝阳区",
                       agency_id="chaoyang-centre", flags=CaseFlags(), registered_at=at)
        for n in range(count)
    ]


Wire = tuple[bytes, bytes | None, list[tuple[str, bytes]]]


def _wire(count: int) -> list[Wire]:
    """The events as the relay sends them: value, key, headers."""
    messages = []
    for event in _events(count):
        m = Envelope.wrap(event, source="/fayuan/bench").to_kafka()
        messages.append((m.value, m.key.encode() if isinstance(m.key, str) else m.key,
                         list(m.headers.items())))
    return messages


def _producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5)


async def _send(producer: AIOKafkaProducer, topic: str, messages: Sequence[Wire]) -> None:
    sends = [await producer.send(topic, value, key=key, headers=headers) for value, key, headers in messages]
    await asyncio.gather(*sends)


def _with_prefix(settings: ServiceSettings, hop: str) -> ServiceSettings:
    return settings.model_copy(update={"topic_prefix": f"{settings.topic_prefix}{hop}."})


async def produce(settings: ServiceSettings, count: int) -> ProduceResult:
    """The producer alone, for reference: how fast the events can be put on a topic."""
    settings = _with_prefix(settings, "produce")
    topic = settings.topic(CaseRegistered.topic)
    await ensure_topics(settings, [topic])
    messages = _wire(count)
    producer = _producer(settings)
    await producer.start()
    try:
        started = time.perf_counter()
        await _send(producer, topic, messages)
        return ProduceResult(count, time.perf_counter() - started)
    finally:
        await producer.stop()


async def bare(settings: ServiceSettings, count: int, patience: float) -> ConsumeResult:
    """Produce while a plain consumer, assigned all partitions, reads and decodes."""
    settings = _with_prefix(settings, "bare")
    topic = settings.topic(CaseRegistered.topic)
    await ensure_topics(settings, [topic])
    messages = _wire(count + 1)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    producer = _producer(settings)
    begun = time.perf_counter()
    await consumer.start()
    await producer.start()
    try:
        await consumer.topics()  # metadata, so the partitions are known
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)

        async def decode(expect: int, deadline: float) -> int:
            seen = 0
            while seen < expect and time.perf_counter() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for r in records:
                        envelope = Envelope.from_kafka(r.topic, r.key, r.value, r.headers)
                        CaseRegistered.model_validate(envelope.data)
                        seen += 1
            return seen

        await _send(producer, topic, messages[:1])  # the warm-up event
        if await decode(1, time.perf_counter() + patience) < 1:
            raise RuntimeError(f"the bare consumer saw no warm-up event in {patience}s")
        first = time.perf_counter()
        sending = asyncio.create_task(_send(producer, topic, messages[1:]))
        seen = await decode(count, first + patience)
        await sending
        last = time.perf_counter()
    finally:
        await producer.stop()
        await consumer.stop()
    if seen < count:
        raise RuntimeError(f"the bare consumer decoded {seen} of {count} events in {patience}s")
    return ConsumeResult("bare hop: produce, consume, decode (no DB)", seen, first - begun, last - first)


class _Timed(ConsumerRunner):
    """The runner, noting when it has committed `target` events."""

    target = 0
    reached: asyncio.Event
    at = 0.0

    async def handle_batch(self, messages, producer):  # type: ignore[no-untyped-def]
        outcomes = await super().handle_batch(messages, producer)
        if self.handled >= self.target and not self.reached.is_set():
            self.at = time.perf_counter()
            self.reached.set()
        return outcomes


async def runner(settings: ServiceSettings, count: int, patience: float) -> ConsumeResult:
    """Produce while the ConsumerRunner handles them with a one-row projection."""
    settings = _with_prefix(settings, "runner")
    topic = settings.topic(CaseRegistered.topic)
    await ensure_topics(settings, [topic])
    messages = _wire(count + 1)
    engine = create_engine(settings)

    async def on_case_registered(event: CaseRegistered, uow: UnitOfWork) -> None:
        # A row nothing later in the batch reads: queued, and the batch's rows sent set-wise.
        uow.write_later("INSERT INTO bench_handled (case_id, case_number) VALUES ($1, $2)",
                        event.case_id, event.case_number)

    consumer = _Timed(engine, settings, name="bench", handlers={CaseRegistered: on_case_registered})
    assert consumer.topics == [topic]
    producer = _producer(settings)
    stop = asyncio.Event()
    begun = time.perf_counter()
    await producer.start()
    task = asyncio.create_task(consumer.run(stop))
    try:
        consumer.target, consumer.reached = 1, asyncio.Event()
        await _send(producer, topic, messages[:1])  # the warm-up event: the group is joined after it
        await asyncio.wait_for(consumer.reached.wait(), patience)
        first = time.perf_counter()
        consumer.target, consumer.reached = count + 1, asyncio.Event()
        await _send(producer, topic, messages[1:])
        await asyncio.wait_for(consumer.reached.wait(), patience)
    except TimeoutError:
        raise RuntimeError(
            f"the ConsumerRunner handled {consumer.handled} of {count + 1} events in {patience}s"
        ) from None
    finally:
        stop.set()
        await task
        await producer.stop()
        await engine.dispose()
    conn = await asyncpg.connect(_dsn(settings, settings.database_name))
    try:
        rows = await conn.fetchval("SELECT count(*) FROM bench_handled")
    finally:
        await conn.close()
    if rows != count + 1:
        raise RuntimeError(f"the ConsumerRunner committed {rows} rows for {count + 1} events")
    return ConsumeResult("ConsumerRunner: produce, batch (inbox + 1 row, 1 tx), commit", count,
                         first - begun, consumer.at - first)


def _dsn(settings: ServiceSettings, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).set(drivername="postgresql", database=database).render_as_string(
        hide_password=False)


async def prepare(settings: ServiceSettings) -> None:
    admin = await asyncpg.connect(_dsn(settings, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{settings.database_name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(_dsn(settings, settings.database_name))
    try:
        for statement in [*KERNEL_DDL, _TABLE]:
            await conn.execute(statement)
    finally:
        await conn.close()


async def run(database_url: str, bootstrap: str, count: int, *, patience: float = 120.0,
              say=print) -> tuple[ProduceResult, ConsumeResult, ConsumeResult]:
    """(the producer alone, the bare hop, the runner hop)."""
    settings = ServiceSettings(service_name="bench", database_url=database_url, database_name=DATABASE,
                               kafka_bootstrap_servers=bootstrap,
                               topic_prefix=f"bench{uuid.uuid4().hex[:6]}.")
    await prepare(settings)
    produced = await produce(settings, count)
    say(f"produced {count:,} events ({produced.rate:,.0f}/s, acks=all)")
    # The bare hop is over in a blink: three of them, the median, so one hiccup does not decide it.
    hops = sorted([await bare(_with_prefix(settings, f"b{n}"), count, patience) for n in range(3)],
                  key=lambda r: r.rate)
    plain = hops[1]
    say(f"bare hop: {plain.events:,} events produced, consumed and decoded 3 times "
        f"(median {plain.rate:,.0f}/s)")
    kernel = await runner(settings, count, patience)
    say(f"ConsumerRunner hop: {kernel.events:,} events ({kernel.rate:,.0f}/s, "
        f"{kernel.rate / plain.rate if plain.rate else 0:.0%} of the bare hop; target {TARGET:.0%})")
    return produced, plain, kernel


if __name__ == "__main__":  # a quick look against an existing stack: python -m bench.consumer URL HOST:PORT
    import sys

    asyncio.run(run(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5000))
