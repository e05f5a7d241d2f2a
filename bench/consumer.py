"""Consumer throughput: one ConsumerRunner against a plain aiokafka consumer, same messages.

N CaseRegistered events are produced once, keyed by case id, onto a topic of the bench's own
(4 partitions, like every topic). Then:

- bare: a plain AIOKafkaConsumer (its own group) reads them; no parsing, no database.
- runner: the kernel's ConsumerRunner (its own group) handles them with a trivial handler that
  writes one row through the unit of work, so each event pays what every real consumer pays:
  CloudEvent parsing, model validation, the inbox insert, the handler's write, the commit of
  that transaction, and the offset commit per batch.

The runner's rate is counted from its first event handled to its last (the group join before
it, seconds on Tansu, is shown apart); the bare read, assigned all partitions without a group,
from its first fetch to its last message, three times (median). Messages are counted, never
compared to end offsets: the embedded broker reports end offsets wrong after batches
(design.md §5).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from sqlalchemy import Column, MetaData, Table, Text, insert

from shared.consumer import ConsumerRunner
from shared.contracts import CaseFlags, CaseKind, CaseRegistered
from shared.db import KERNEL_DDL, create_engine
from shared.events import Envelope
from shared.settings import ServiceSettings
from shared.topics import ensure_topics
from shared.uow import UnitOfWork

DATABASE = "fayuan_bench_consumer"

_metadata = MetaData()
handled = Table("bench_handled", _metadata, Column("case_id", Text, primary_key=True),
                Column("case_number", Text))
_TABLE = "CREATE TABLE IF NOT EXISTS bench_handled (case_id text PRIMARY KEY, case_number text NOT NULL)"


@dataclass
class ConsumeResult:
    path: str
    events: int
    startup_s: float  # from start() to the first message in hand (group join, first fetch)
    seconds: float  # from the first message in hand to the last

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


async def produce(settings: ServiceSettings, topic: str, count: int) -> ProduceResult:
    await ensure_topics(settings, [topic])
    messages = []
    for event in _events(count):
        m = Envelope.wrap(event, source="/fayuan/bench").to_kafka()
        messages.append((m.value, m.key.encode() if isinstance(m.key, str) else m.key,
                         list(m.headers.items())))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        started = time.perf_counter()
        sends = [await producer.send(topic, value, key=key, headers=headers)
                 for value, key, headers in messages]
        await asyncio.gather(*sends)
        return ProduceResult(count, time.perf_counter() - started)
    finally:
        await producer.stop()


async def bare(settings: ServiceSettings, topic: str, count: int, patience: float) -> ConsumeResult:
    """Read the topic from the beginning with a plain consumer assigned all its partitions (no
    group to join: the read itself is timed, from the first fetch to the last message)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    started = time.perf_counter()
    await consumer.start()
    try:
        await consumer.topics()  # metadata, so the partitions are known
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        first = time.perf_counter()
        seen = 0
        deadline = first + patience
        while seen < count and time.perf_counter() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            seen += sum(len(records) for records in batch.values())
        last = time.perf_counter()
    finally:
        await consumer.stop()
    if seen < count:
        raise RuntimeError(f"the bare consumer saw {seen} of {count} messages in {patience}s")
    return ConsumeResult("bare aiokafka consumer (assigned, no DB)", seen, first - started, last - first)


async def runner(settings: ServiceSettings, topic: str, count: int, patience: float) -> ConsumeResult:
    engine = create_engine(settings)
    marks: list[float] = []
    all_in = asyncio.Event()

    async def on_case_registered(event: CaseRegistered, uow: UnitOfWork) -> None:
        await uow.conn.execute(insert(handled).values(case_id=event.case_id, case_number=event.case_number))
        marks.append(time.perf_counter())
        if len(marks) >= count:
            all_in.set()

    consumer = ConsumerRunner(engine, settings, name="bench", handlers={CaseRegistered: on_case_registered})
    assert consumer.topics == [topic]
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await asyncio.wait_for(all_in.wait(), patience)
    except TimeoutError:
        raise RuntimeError(
            f"the ConsumerRunner handled {consumer.handled} of {count} events in {patience}s"
        ) from None
    finally:
        stop.set()
        await task
        await engine.dispose()
    # A handler call that rolled back would be counted in `marks` but not in the table.
    conn = await asyncpg.connect(_dsn(settings, settings.database_name))
    try:
        rows = await conn.fetchval("SELECT count(*) FROM bench_handled")
    finally:
        await conn.close()
    if rows != count:
        raise RuntimeError(f"the ConsumerRunner committed {rows} rows for {count} events")
    # The first mark is the end of the first event: the rate counts the other count - 1 events.
    seconds = (marks[-1] - marks[0]) * count / (count - 1)
    return ConsumeResult("ConsumerRunner (inbox + 1 row, 1 tx/event)", count, marks[0] - started, seconds)


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
    settings = ServiceSettings(service_name="bench", database_url=database_url, database_name=DATABASE,
                               kafka_bootstrap_servers=bootstrap,
                               topic_prefix=f"bench{uuid.uuid4().hex[:6]}.")
    topic = settings.topic(CaseRegistered.topic)
    await prepare(settings)
    produced = await produce(settings, topic, count)
    say(f"produced {count:,} events onto {topic} ({produced.rate:,.0f}/s)")
    # The bare read is over in a blink: three reads, the median, so one hiccup does not decide it.
    reads = sorted([await bare(settings, topic, count, patience) for _ in range(3)], key=lambda r: r.rate)
    plain = reads[1]
    say(f"bare consumer read {plain.events:,} messages 3 times (median {plain.rate:,.0f}/s)")
    kernel = await runner(settings, topic, count, patience)
    say(f"ConsumerRunner handled {kernel.events:,} events ({kernel.rate:,.0f}/s)")
    return produced, plain, kernel
